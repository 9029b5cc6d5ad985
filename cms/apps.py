from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    """Wagtail presentation: home page, content pages, shared blocks and site settings."""

    name = "cms"
    verbose_name = _("Content")
