from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    """The site package: orchestrates patents, licensing and CMS into the marketplace."""

    name = "marketplace"
    verbose_name = _("Marketplace")
