"""Listings: one Wagtail page per standing declaration (filed at CNIPA, announced, withdrawal filed), kept in
step with the declaration.

Filing, announcing or withdrawing a declaration goes through these services, which call the licensing transition
and then sync the listing page in the same transaction (layers: patents ← licensing ← marketplace;
licensing never imports the marketplace, and no signals are involved)."""

from datetime import date

from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from wagtail.models import Locale, Page

from cms.models import HomePage
from licensing.declarations import selectors as licensing_selectors
from licensing.declarations import services as licensing_services
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, LicenceTerms
from licensing.models.licences import Licence, LicenceState
from marketplace.listings import funnel
from marketplace.listings.cache import listing_cache_invalidate, listing_cache_mark
from marketplace.listings.editors import listing_editors_grant, listing_editors_revoke
from marketplace.listings.selectors import listing_similar_rows, parent_url
from marketplace.matching import services as match_refresh
from marketplace.models import ListingIndexPage, PatentListingPage, SavedListing
from marketplace.parties.models import User
from marketplace.search.documents import listing_documents_sync
from patents.inventory.selectors import grade_explanation
from patents.models import Patent


def listing_index() -> ListingIndexPage:
    """The listing index under the default-language home page, created on first use together with its
    translation into every other site language (a page of its own, titled in that language, under which the
    listings' aliases in that language live)."""
    index = ListingIndexPage.objects.filter(locale__language_code="zh-hans").first() or ListingIndexPage.objects.first()
    if index is None:
        home = HomePage.objects.filter(locale=Locale.get_default()).first()
        parent = home or Page.get_first_root_node()
        index = parent.add_child(instance=ListingIndexPage(
            title=listing_index_title(parent.locale.language_code), slug="listings", introduction="",
            locale=parent.locale))
        index.save_revision().publish()
    for locale in Locale.objects.exclude(pk=index.locale_id):
        if index.get_translation_or_none(locale) is None:
            _translate_index(index, locale)
    return index


def listing_index_title(language_code: str) -> str:
    """The listing index's title in one language (a page's title is one string, so each language's page
    holds its own)."""
    with translation.override(language_code):
        return _("Patent listings")


def _translate_index(index: ListingIndexPage, locale: Locale) -> ListingIndexPage:
    """A real translation, not an alias: an alias shares its original's title, so the English page would be
    titled in Chinese. Its parents are copied (as aliases) only where the home page has no translation."""
    translated = index.copy_for_translation(locale, copy_parents=True).specific
    translated.title = translated.draft_title = listing_index_title(locale.language_code)
    translated.save_revision().publish()
    return translated


def _slug(patent: Patent) -> str:
    return slugify(patent.number.replace(".", "-")) or f"patent-{patent.pk}"


@transaction.atomic
def listing_sync(*, declaration: Declaration) -> PatentListingPage | None:
    """Create, refresh or unpublish the declaration's listing page to match its state. Editors' and
    holders' own content (summary, body) is never overwritten."""
    declaration = Declaration.objects.select_related("patent", "holder").get(pk=declaration.pk)
    page = PatentListingPage.objects.filter(declaration=declaration, alias_of__isnull=True).first()
    if declaration.state in LICENSABLE_DECLARATION_STATES:
        if page is None:
            index = listing_index()
            slug, n = _slug(declaration.patent), 2
            while index.get_children().filter(slug=slug).exists():
                slug, n = f"{_slug(declaration.patent)}-{n}", n + 1
            page = index.add_child(instance=PatentListingPage(
                title=declaration.patent.title[:255], slug=slug, declaration=declaration, locale=index.locale))
            page.save_revision().publish()  # also publishes the English alias
        else:
            _refresh(page, title=declaration.patent.title[:255])
        _ensure_english_alias(page)
        listing_editors_grant(page=page)
    elif page is not None:
        if page.live:
            page.unpublish()  # Wagtail unpublishes its aliases with it
        listing_editors_revoke(page=page)
    listing_documents_sync(declaration_ids=[declaration.pk])
    match_refresh.matching_index_sync(declaration_ids=[declaration.pk])
    # Everything, not only this declaration's pages: the indexes and other listings' "similar listings" show it.
    listing_cache_invalidate()
    return page


def _refresh(page: PatentListingPage, *, title: str) -> None:
    """Bring an existing listing in step without touching anyone's draft: the title is written to the page
    and its aliases directly (revisions do not carry it, see PatentListingPage.with_content_json), and a
    page that is off the marketplace is published again only when no review is in progress, so a holder's
    draft in moderation is neither published nor discarded, and no workflow is cancelled."""
    for each in [page, *page.aliases.specific()]:
        if each.title != title or each.draft_title != title:
            each.title = each.draft_title = title
            each.save(update_fields=["title", "draft_title"])
    if not page.live and page.current_workflow_state is None:
        page.save_revision().publish()


def _ensure_english_alias(page: PatentListingPage) -> None:
    """English visitors get the same listing under /en/: an alias that Wagtail keeps in step."""
    english = Locale.objects.filter(language_code="en").first()
    if english is None or page.get_translation_or_none(english) is not None:
        return
    page.copy_for_translation(english, copy_parents=True, alias=True)


@transaction.atomic
def declaration_file(*, declaration: Declaration, by: User, today: date | None = None) -> Declaration:
    """File through licensing's transition, then put the listing on the marketplace (it says the declaration
    is filed at CNIPA, not yet announced)."""
    declaration = licensing_services.declaration_file(declaration=declaration, by=by, today=today)
    listing_sync(declaration=declaration)
    match_refresh.matches_refresh_request(declaration=declaration)
    return declaration


@transaction.atomic
def declaration_record_announcement(*, declaration: Declaration, cnipa_number: str, announced_on: date,
                                    by: User | None, source: str = "holder") -> Declaration:
    """Record CNIPA's announcement through licensing's transition and refresh the listing (its basis)."""
    declaration = licensing_services.declaration_record_announcement(
        declaration=declaration, cnipa_number=cnipa_number, announced_on=announced_on, by=by, source=source)
    listing_sync(declaration=declaration)
    return declaration


@transaction.atomic
def declaration_file_withdrawal(*, declaration: Declaration, by: User, reason: str) -> Declaration:
    """File the withdrawal through licensing's transition; the listing stays until CNIPA announces it."""
    declaration = licensing_services.declaration_file_withdrawal(declaration=declaration, by=by, reason=reason)
    listing_sync(declaration=declaration)
    return declaration


@transaction.atomic
def declaration_record_withdrawal_announcement(*, declaration: Declaration, announced_on: date, cnipa_number: str,
                                               by: User | None) -> Declaration:
    """Record CNIPA's announcement of the withdrawal (licences already granted stay), then unpublish the
    listing."""
    declaration = licensing_services.declaration_record_withdrawal_announcement(
        declaration=declaration, announced_on=announced_on, cnipa_number=cnipa_number, by=by)
    listing_sync(declaration=declaration)
    match_refresh.matches_forget_declaration(declaration=declaration)
    return declaration


def declarations_file_bulk(*, patents: list[Patent], terms: LicenceTerms, by: User, today: date | None = None,
                           **offer) -> list[licensing_services.BulkResult]:
    """Licensing's bulk declaration, each patent filed together with its listing page."""
    return licensing_services.declarations_file_bulk(patents=patents, terms=terms, by=by, today=today,
                                                     file=declaration_file, **offer)


def listing_context(*, page: PatentListingPage, request) -> dict:
    """What a listing page shows: facts, grade and why, the offer in plain words with the cost calculator,
    licences granted, the holder and similar listings (plain values: marketplace.listings.selectors)."""
    from licensing.declarations.forms import CostForm, yuan_to_fen

    declaration = Declaration.objects.select_related("patent", "holder").get(pk=page.declaration_id)
    page.declaration = declaration
    # May be kept for anonymous visitors; noted before the rest is read (see listing_cache_mark).
    listing_cache_mark(request=request, declaration=declaration)
    patent = declaration.patent
    cost_form = CostForm(request.GET or None)
    cost = None
    if cost_form.is_valid() and cost_form.cleaned_data.get("annual_net_sales") is not None:
        cost = licensing_selectors.licensee_cost(
            declaration=declaration, annual_net_sales_fen=yuan_to_fen(cost_form.cleaned_data["annual_net_sales"]),
            annual_profit_fen=yuan_to_fen(cost_form.cleaned_data.get("annual_profit")))
    index_url = parent_url(page_url=page.get_url(request))
    # Counted here, where the page is rendered for a visitor (not in Wagtail's previews, which don't get here
    # through serve()), once per visitor and day; marketplace.listings.cache counts the views it serves.
    if request.method == "GET" and not getattr(request, "is_preview", False):
        funnel.listing_viewed(declaration=declaration, request=request)
    user = request.user
    saved = user.is_authenticated and SavedListing.objects.filter(user=user, declaration=declaration).exists()
    return {
        "saved": saved, "declaration": declaration, "patent": patent, "factors": grade_explanation(patent=patent),
        "cost_form": cost_form, "cost": cost, "index_url": index_url,
        # Pages in the visitor's language only: each listing also has an alias in the other language.
        "similar": listing_similar_rows(page=page, technology_field=patent.technology_field, index_url=index_url),
        "licence_count": Licence.objects.filter(declaration=declaration,
                                                state__in=[LicenceState.ACTIVE, LicenceState.EXPIRED]).count(),
        "open_for_licensing": declaration.state in LICENSABLE_DECLARATION_STATES,
        "today": timezone.localdate(), "no_listing_message": _("This declaration has been withdrawn."),
    }
