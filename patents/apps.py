from importlib import import_module

from django.apps import AppConfig


class PatentsConfig(AppConfig):
    """Patent inventory: the holder's stock of patents, graded and classified. Imports no other app of ours."""

    name = "patents"
    # Feature modules whose exporters register themselves (patents.exports) when imported.
    exporter_modules = ("patents.inventory.exports", "patents.navigation.exports")

    def ready(self):
        for module in self.exporter_modules:
            import_module(module)
