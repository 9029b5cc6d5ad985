from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import BaseStreamBlock


class HomePage(Page):
    """The platform's front door: explains what it is for and leads to search, needs and the gazette."""

    hero_title = models.CharField(_("hero title"), max_length=200)
    hero_text = models.TextField(_("hero text"), blank=True)
    body = StreamField(BaseStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = Page.content_panels + [FieldPanel("hero_title"), FieldPanel("hero_text"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("hero_text")]

    # No subpage_types: cms names none of the marketplace's pages, so each page type says itself where it
    # may live (ContentPage and the marketplace's ListingIndexPage name cms.HomePage as their parent). Editors
    # can create the same two types here as before; Wagtail's plain Page is not creatable.
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")


class ContentPage(Page):
    """Guides and policy texts (e.g. the open-licensing rules, fee caps, how to take a licence)."""

    introduction = models.TextField(_("introduction"), blank=True)
    body = StreamField(BaseStreamBlock(), verbose_name=_("body"))

    content_panels = Page.content_panels + [FieldPanel("introduction"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("introduction"), index.SearchField("body")]

    parent_page_types = ["cms.HomePage", "cms.ContentPage"]
    subpage_types = ["cms.ContentPage"]

    class Meta:
        verbose_name = _("content page")


@register_setting(icon="cog")
class PlatformSettings(BaseSiteSetting):
    """Site-wide facts editors maintain: the platform's name, contact, and the platform fee."""

    platform_name = models.CharField(_("platform name"), max_length=120, default="专利开放许可交易平台")
    platform_name_en = models.CharField(
        _("platform name (English)"), max_length=120, default="Open Patent Licensing Marketplace"
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_address = models.CharField(_("contact address"), max_length=250, blank=True)
    platform_fee_rate = models.DecimalField(
        _("platform fee rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("20"))],
        help_text=_("Share of each licence payment kept as the platform's service fee, in percent."),
    )

    panels = [
        FieldPanel("platform_name"),
        FieldPanel("platform_name_en"),
        FieldPanel("contact_email"),
        FieldPanel("contact_phone"),
        FieldPanel("contact_address"),
        FieldPanel("platform_fee_rate"),
    ]

    class Meta:
        verbose_name = _("platform settings")

    def name_for(self, language: str | None) -> str:
        return self.platform_name_en if (language or "").startswith("en") else self.platform_name
