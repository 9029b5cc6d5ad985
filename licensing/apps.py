from importlib import import_module

from django.apps import AppConfig


class LicensingConfig(AppConfig):
    """Open-licence declarations, licences and payments. Builds on patents."""

    name = "licensing"
    # Feature modules whose exporters register themselves (patents.exports) when imported.
    exporter_modules = ("licensing.ledger.exports", "licensing.recording.exports")

    def ready(self):
        for module in self.exporter_modules:
            import_module(module)
