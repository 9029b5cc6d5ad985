"""The listing pages: the listing index and one Wagtail page per published declaration. They are the
marketplace's (the rules they show are its own), so cms, which keeps the site's own pages, names none of
this. The tables keep the names they had when these models lived in cms (migration 0005_listing_pages
moved them without copying a row)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import CommentPanel, FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from marketplace.listings.blocks import ListingStreamBlock
from marketplace.listings.text import segment
from marketplace.replica.router import reads_from_replica

# The hook through which the listing services give a listing page what it shows (facts, offer, calculator,
# licences granted, similar listings, the holder's edit link).
LISTING_PAGE_CONTEXT_HOOK = "marketplace_listing_page_context"
# And the listing index its rows (marketplace/listings/wagtail_hooks.py).
LISTING_INDEX_CONTEXT_HOOK = "marketplace_listing_index_context"


class ListingIndexPage(Page):
    """The parent of every patent listing; the marketplace keeps its children in step with the
    declarations."""

    introduction = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("introduction")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["marketplace.PatentListingPage"]
    max_count_per_parent = 1
    template = "marketplace/listings/listing_index_page.html"

    class Meta:
        db_table = "cms_listingindexpage"  # made by cms; kept so that moving the model moved no data
        verbose_name = _("listing index")

    @reads_from_replica
    def serve(self, request, *args, **kwargs):
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        for provider in hooks.get_hooks(LISTING_INDEX_CONTEXT_HOOK):
            context.update(provider(page=self, request=request))
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
        # jieba-segmented copy of title, abstract (with the holder's English ones), holder and IPC: FTS5 and
        # tsvector split words on spaces only, so unsegmented Chinese would be one token per phrase and "电池"
        # would never find "锂电池".
        index.SearchField("search_text_segmented"),
    ]
    parent_page_types = ["marketplace.ListingIndexPage"]
    subpage_types = []
    is_creatable = False  # only marketplace.listings.services creates listings, from published declarations
    template = "marketplace/listings/patent_listing_page.html"

    class Meta:
        db_table = "cms_patentlistingpage"  # made by cms; kept so that moving the model moved no data
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
        patent = self.declaration.patent
        return segment(" ".join([patent.title, patent.abstract, patent.title_en, patent.abstract_en, self.search_holder(),
                                 self.search_ipc(), self.summary]))

    @reads_from_replica
    def serve(self, request, *args, **kwargs):
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        # What the page shows comes from the listing services, which import this model: they register
        # through Wagtail's hook registry (marketplace/listings/wagtail_hooks.py) instead of being imported here.
        context = super().get_context(request, *args, **kwargs)
        for provider in hooks.get_hooks(LISTING_PAGE_CONTEXT_HOOK):
            context.update(provider(page=self, request=request))
        return context
