from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    """The parties of the marketplace: organisations, their members and roles. The ground floor that
    every other app may import; it imports none of them."""

    name = "marketplace.parties"
    label = "parties"
    verbose_name = _("Parties")
