"""Wagtail finds admin hooks in each app's `wagtail_hooks` module; the marketplace's live with their
features."""

import marketplace.listings.wagtail_hooks  # noqa: F401 - registers the listing admin rules
