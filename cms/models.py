from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import CommentPanel, FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import BaseStreamBlock, ListingStreamBlock


class HomePage(Page):
    """The platform's front door: explains what it is for and leads to search, needs and the gazette."""

    hero_title = models.CharField(_("hero title"), max_length=200)
    hero_text = models.TextField(_("hero text"), blank=True)
    body = StreamField(BaseStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = Page.content_panels + [FieldPanel("hero_title"), FieldPanel("hero_text"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("hero_text")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ContentPage", "cms.ListingIndexPage"]
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


class ListingIndexPage(Page):
    """The parent of every patent listing; the marketplace keeps its children in step with the
    declarations."""

    introduction = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("introduction")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.PatentListingPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("listing index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["listings"] = (PatentListingPage.objects.child_of(self).live().public()
                               .select_related("declaration__patent", "declaration__holder")
                               .order_by("-first_published_at")[:50])
        return context


class PatentListingPage(Page):
    """One published open-licence declaration as a marketplace listing. Created, updated and unpublished
    by marketplace.listings.services with the declaration; editors and holders add the StreamField content."""

    # One page per language: the Chinese page and its English alias (which Wagtail keeps in step);
    # marketplace.listings.services creates both and is the only writer.
    declaration = models.ForeignKey("licensing.Declaration", on_delete=models.PROTECT, related_name="listing_pages",
                                    verbose_name=_("declaration"))
    summary = models.TextField(_("summary in plain words"), blank=True)
    body = StreamField(ListingStreamBlock(), blank=True, verbose_name=_("application scenarios and materials"))

    # Holders edit these pages through the "Listing review" workflow (marketplace.listings.editors). The admin
    # offers only what is theirs to write: the title follows the patent and the address its number, and
    # a listing is live exactly while its declaration is published, so there is no Promote tab and no
    # scheduling; comments stay for the review.
    content_panels = [
        FieldPanel("title", read_only=True, help_text=_("The patent's title; it follows the patent inventory.")),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    promote_panels = []
    settings_panels = [CommentPanel()]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("search_abstract"),
        index.SearchField("search_holder"),
        index.SearchField("search_ipc"),
        # jieba-segmented copy of title, abstract, holder and IPC: FTS5 and tsvector split words on spaces only,
        # so unsegmented Chinese would be one token per phrase and "电池" would never find "锂电池".
        index.SearchField("search_text_segmented"),
    ]
    parent_page_types = ["cms.ListingIndexPage"]
    subpage_types = []
    is_creatable = False  # only marketplace.listings.services creates listings, from published declarations

    class Meta:
        verbose_name = _("patent listing")

    def with_content_json(self, content):
        # The title is a fact of the patent kept in step by marketplace.listings.services on the page itself, not
        # content of a revision: approving or reverting to an older revision must not bring back an old title.
        page = super().with_content_json(content)
        page.title = self.title
        return page

    def search_abstract(self) -> str:
        return self.declaration.patent.abstract

    def search_holder(self) -> str:
        holder = self.declaration.holder
        return f"{holder.name_zh} {holder.name_en}"

    def search_ipc(self) -> str:
        return " ".join(self.declaration.patent.ipc_codes or [])

    def search_text_segmented(self) -> str:
        from marketplace.search.selectors import segment

        patent = self.declaration.patent
        return segment(" ".join([patent.title, patent.abstract, self.search_holder(), self.search_ipc(), self.summary]))

    def get_context(self, request, *args, **kwargs):
        from marketplace.listings.editors import listing_edit_for
        from marketplace.listings.services import listing_context

        context = super().get_context(request, *args, **kwargs)
        context.update(listing_context(page=self, request=request))
        context["listing_edit"] = listing_edit_for(page=self, user=request.user)
        return context


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
