from django.apps import AppConfig


class LicensingConfig(AppConfig):
    """Open-licence declarations, licences and payments. Builds on patents."""

    name = "licensing"
