from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    """The site package: orchestrates patents, licensing and CMS into the marketplace."""

    name = "marketplace"
    verbose_name = _("Marketplace")
    # Feature modules whose exporters register themselves (patents.exports) when imported.
    exporter_modules = ("marketplace.office.exports", "marketplace.pools.exports")

    def ready(self):
        for module in self.exporter_modules:
            import_module(module)
