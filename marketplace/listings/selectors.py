"""Reads for the listing pages, as plain values: one query per list, no model instance or template include per
row (bench/findings.md §6: those were most of a listing page's time). Addresses are built from the parent's
URL and the slug: every listing is a child of its language's listing index."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _
from wagtail.models import Page

from licensing.models import LICENSABLE_DECLARATION_STATES
from licensing.models.declarations import FeeForm, RoyaltyBase
from marketplace.models import ListingIndexPage, PatentListingPage
from marketplace.templatetags.market_format import fen, royalty_text
from patents.models import in_page_language

INDEX_SIZE = 50
SIMILAR_SIZE = 4
_FEE_FIELDS = ("fee_form", "lump_sum_fen", "entry_fee_fen", "royalty_rate", "royalty_base", "annual_minimum_fen")


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One row of the listing index."""

    url: str
    title: str
    number: str
    holder: str
    fee: str


@dataclass(frozen=True, slots=True)
class SimilarRow:
    """One of a listing page's similar listings."""

    url: str
    title: str
    declaration_id: int
    grade: str


def fee_text(*, fee_form: str, lump_sum_fen, entry_fee_fen, royalty_rate, royalty_base: str,
             annual_minimum_fen) -> str:
    """The fee standard in words, as licensing/_fee.html writes it (plain text, without the <span>): for rows
    read with .values(), where including the template once per row cost more than the rest of the page."""
    text = f"{FeeForm(fee_form).label}:\n"
    if fee_form == FeeForm.LUMP_SUM:
        return text + fen(lump_sum_fen)
    if fee_form == FeeForm.ENTRY_PLUS_ROYALTY:
        text += f"{fen(entry_fee_fen)} + "
    base = RoyaltyBase(royalty_base).label if royalty_base else ""
    text += royalty_text(royalty_rate, base)
    if annual_minimum_fen:
        text += f", {_('at least')} {fen(annual_minimum_fen)}/{_('year')}"
    return text


def _fee(row: dict, prefix: str) -> str:
    return fee_text(**{name: row[prefix + name] for name in _FEE_FIELDS})


def listing_index_rows(*, index: ListingIndexPage, index_url: str) -> list[ListingRow]:
    """The index's newest live listings (at most INDEX_SIZE): one query (and Wagtail's one for view
    restrictions)."""
    d = "declaration__"
    rows = (PatentListingPage.objects.child_of(index).live().public().order_by("-first_published_at")
            .values("slug", "title", f"{d}patent__title_en", f"{d}patent__number", f"{d}holder__name_zh",
                    f"{d}holder__name_en",
                    *(d + f for f in _FEE_FIELDS))
            [:INDEX_SIZE])
    language = get_language()
    return [ListingRow(url=f"{index_url}{row['slug']}/",
                       title=in_page_language(row["title"], row[f"{d}patent__title_en"], language=language),
                       number=row[f"{d}patent__number"],
                       holder=in_page_language(row[f"{d}holder__name_zh"], row[f"{d}holder__name_en"],
                                               language=language),
                       fee=_fee(row, d)) for row in rows]


def listing_similar_rows(*, page: PatentListingPage, technology_field: str, index_url: str) -> list[SimilarRow]:
    """Up to SIMILAR_SIZE other live listings in the same technology field and language, best graded first."""
    if not technology_field:
        return []
    rows = (PatentListingPage.objects.sibling_of(page, inclusive=False).live().public()
            .filter(declaration__state__in=LICENSABLE_DECLARATION_STATES,
                    declaration__patent__technology_field=technology_field)
            .order_by("-declaration__patent__grade_score")
            .values("slug", "title", "declaration_id", "declaration__patent__grade_override",
                    "declaration__patent__grade_computed", "declaration__patent__title_en")[:SIMILAR_SIZE])
    language = get_language()
    # Patent.grade: the holder's override if any, else the computed grade.
    return [SimilarRow(url=f"{index_url}{row['slug']}/", declaration_id=row["declaration_id"],
                       title=in_page_language(row["title"], row["declaration__patent__title_en"], language=language),
                       grade=row["declaration__patent__grade_override"] or row["declaration__patent__grade_computed"])
            for row in rows]


def parent_url(*, page_url: str) -> str:
    """The listing index's address from a listing's ("/zh-hans/listings/abc/" → "/zh-hans/listings/")."""
    return page_url.rstrip("/").rsplit("/", 1)[0] + "/"


def language_links(*, page: Page, request) -> list[dict]:
    """The page in each language, for the language switch of pages that are cached for everyone
    (marketplace.listings.cache): links, where the other pages post a form with the visitor's CSRF token.
    Each {"code", "name", "url", "current"}."""
    current = get_language()
    by_code = {p.locale.language_code: p for p in
               Page.objects.filter(translation_key=page.translation_key).live().select_related("locale")}
    links = []
    for code, _name in settings.LANGUAGES:
        translation = by_code.get(code)
        # No page in that language (yet): the same address in it, where the language form would have sent them.
        url = translation.get_url(request) if translation is not None else translate_url(request.path, code)
        links.append({"code": code, "name": get_language_info(code)["name_local"], "url": url,
                      "current": code == current})
    return links
