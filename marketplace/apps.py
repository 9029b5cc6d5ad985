from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    """The site package: orchestrates patents, licensing and CMS into the marketplace."""

    name = "marketplace"
    verbose_name = _("Marketplace")
    # Feature modules whose exporters register themselves (patents.exports) when imported.
    exporter_modules = ("marketplace.office.exports", "marketplace.pools.exports", "marketplace.audit.exports")

    def ready(self):
        for module in self.exporter_modules:
            import_module(module)
        from marketplace.audit.recording import connect

        connect()  # the audit log of state changes (django-auditlog's registry and our guards)
        # Wagtail publishes and unpublishes listing pages from the admin too (a holder's approved revision, an
        # editor taking a listing off the site): the search documents and the stored pages follow.
        from wagtail.signals import page_published, page_unpublished

        from marketplace.listings.cache import listing_cache_page_published_or_unpublished
        from marketplace.models import PatentListingPage
        from marketplace.search.documents import listing_page_published_or_unpublished

        for signal in (page_published, page_unpublished):
            signal.connect(listing_page_published_or_unpublished, sender=PatentListingPage,
                           dispatch_uid=f"listing_document_{signal is page_published}")
            signal.connect(listing_cache_page_published_or_unpublished, sender=PatentListingPage,
                           dispatch_uid=f"listing_page_cache_{signal is page_published}")
