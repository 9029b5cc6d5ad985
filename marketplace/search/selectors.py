"""Search over listings: one FilterSet and one selector shared by the search page and the listings API.

Full text goes through Wagtail's search backend (modelsearch: SQLite FTS5 or PostgreSQL tsvector). Both split
words on spaces and punctuation only, so Chinese is segmented with jieba on both sides: the page indexes
``search_text_segmented`` and the user's query is cut the same way before it is searched. The facets are plain
ORM filters over live, public listing pages (the Chinese originals; each hit links to the page of the visitor's
language)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import django_filters
from dateutil.relativedelta import relativedelta
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, Substr, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Locale
from wagtail.search.backends import get_search_backend

from licensing.models import DeclarationState, FeeForm
from licensing.models.licences import Licence, LicenceState
from marketplace.listings.text import segment
from marketplace.models import PatentListingPage
from marketplace.parties.models import OrganisationKind
from patents.inventory.fields import FIELDS, SECTORS
from patents.models import Grade, PatentKind

MAX_QUERY_WORDS = 32


# Buckets for the facets that are ranges. Keys are stable (they appear in shareable URLs).
PRICE_BUCKETS: list[tuple[str, object, int | None, int | None]] = [  # key, label, min yuan (incl.), max (excl.)
    ("0", _("Nothing up front"), 0, 1),
    ("lt10k", _("Under ¥10,000"), 1, 10_000),
    ("10k-100k", _("¥10,000 – ¥100,000"), 10_000, 100_000),
    ("100k-1m", _("¥100,000 – ¥1,000,000"), 100_000, 1_000_000),
    ("1m+", _("¥1,000,000 and more"), 1_000_000, None),
]
LIFE_BUCKETS: list[tuple[str, object, int | None, int | None]] = [  # key, label, min years (incl.), max (excl.)
    ("lt5", _("Under 5 years"), None, 5),
    ("5-10", _("5 to 10 years"), 5, 10),
    ("10+", _("10 years and more"), 10, None),
]
LICENSED_CHOICES = [("yes", _("Already licensed")), ("no", _("Not yet licensed"))]
SORT_CHOICES = [("relevance", _("Relevance")), ("newest", _("Newest")), ("price", _("Price, lowest first")),
                ("life", _("Remaining life, longest first"))]
IPC_SECTIONS = "ABCDEFGH"

# name → the annotation facet counts are grouped by.
FACETS = ["technology_field", "sector", "ipc", "grade", "kind", "fee_form", "price", "life", "holder_kind", "region",
          "licensed"]


def _today() -> date:
    return timezone.localdate()


def _fen(yuan: int) -> int:
    return yuan * 100


def bound_listing_filter(data) -> ListingFilter:
    """The FilterSet bound to a (mutable) QueryDict, with invalid facet values dropped instead of failing the
    whole search; the search page, the API and saved searches all bind through here."""
    base = listing_queryset()
    filterset = ListingFilter(data, queryset=base)
    if not filterset.is_valid():
        for name in filterset.errors:
            data.pop(name, None)
        filterset = ListingFilter(data, queryset=base)
        filterset.is_valid()
    return filterset


def listing_queryset() -> QuerySet:
    """Live, public, Chinese-original listing pages of published declarations, annotated with what the facets
    and sorts need: effective grade, first amount due (fen), sector, IPC section, licensed or not, price and
    remaining-life buckets."""
    today = _today()
    licensed = Licence.objects.filter(declaration=OuterRef("declaration_id"),
                                      state__in=[LicenceState.ACTIVE, LicenceState.EXPIRED])
    first_due = Case(
        When(declaration__fee_form=FeeForm.LUMP_SUM, then=Coalesce("declaration__lump_sum_fen", Value(0))),
        When(declaration__fee_form=FeeForm.ENTRY_PLUS_ROYALTY, then=Coalesce("declaration__entry_fee_fen", Value(0))),
        default=Coalesce("declaration__annual_minimum_fen", Value(0)),
    )
    price_bucket = Case(*[
        When(Q(first_due_fen__gte=_fen(lo)) & (Q() if hi is None else Q(first_due_fen__lt=_fen(hi))), then=Value(key))
        for key, _label, lo, hi in PRICE_BUCKETS], output_field=CharField())
    life_bucket = Case(*[
        When((Q() if lo is None else Q(declaration__patent__expiry_date__gte=today + relativedelta(years=lo)))
             & (Q() if hi is None else Q(declaration__patent__expiry_date__lt=today + relativedelta(years=hi))),
             then=Value(key))
        for key, _label, lo, hi in LIFE_BUCKETS], output_field=CharField())
    sector = Case(*[When(declaration__patent__technology_field__in=[f.number for f in FIELDS if f.sector == s],
                         then=Value(s.key)) for s in SECTORS], default=Value(""), output_field=CharField())
    return (
        PatentListingPage.objects.live().public()
        .filter(alias_of__isnull=True, declaration__state=DeclarationState.PUBLISHED)
        .annotate(
            grade_effective=Coalesce(NullIf("declaration__patent__grade_override", Value("")),
                                     "declaration__patent__grade_computed"),
            first_due_fen=first_due,
            sector=sector,
            ipc_section=Upper(Substr("declaration__patent__ipc_subclass", 1, 1)),
            licensed=Exists(licensed),
        )
        .annotate(price_bucket=price_bucket, life_bucket=life_bucket)
    )


class ListingFilter(django_filters.FilterSet):
    """The one definition of a listing search: the query, every facet and the sort order. ``text_matches`` (the
    search backend's lazy, relevance-ordered queryset) is made once and shared with the FilterSets that compute
    facet counts."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    technology_field = django_filters.TypedChoiceFilter(
        field_name="declaration__patent__technology_field", coerce=int, label=_("Technology field"),
        choices=[(f.number, f.name_en) for f in FIELDS])
    sector = django_filters.ChoiceFilter(field_name="sector", label=_("Sector"),
                                         choices=[(s.key, s.name_en) for s in SECTORS])
    ipc = django_filters.CharFilter(method="filter_ipc", label=_("IPC prefix"))
    grade = django_filters.ChoiceFilter(field_name="grade_effective", choices=Grade.choices, label=_("Grade"))
    kind = django_filters.ChoiceFilter(field_name="declaration__patent__kind", choices=PatentKind.choices,
                                       label=_("Patent kind"))
    fee_form = django_filters.ChoiceFilter(field_name="declaration__fee_form", choices=FeeForm.choices,
                                           label=_("Fee form"))
    price = django_filters.ChoiceFilter(field_name="price_bucket", label=_("First amount due"),
                                        choices=[(k, label) for k, label, *_r in PRICE_BUCKETS])
    life = django_filters.ChoiceFilter(field_name="life_bucket", label=_("Remaining life"),
                                       choices=[(k, label) for k, label, *_r in LIFE_BUCKETS])
    holder_kind = django_filters.ChoiceFilter(
        field_name="declaration__holder__kind", label=_("Holder kind"),
        choices=[c for c in OrganisationKind.choices if c[0] != OrganisationKind.IP_OFFICE])
    region = django_filters.CharFilter(field_name="declaration__holder__province", label=_("Region"))
    licensed = django_filters.ChoiceFilter(method="filter_licensed", choices=LICENSED_CHOICES,
                                           label=_("Licensed"))
    sort = django_filters.ChoiceFilter(method="filter_sort", choices=SORT_CHOICES, label=_("Sort by"),
                                       empty_label=None)

    class Meta:
        model = PatentListingPage
        fields: list = []

    def __init__(self, *args, text_matches: QuerySet | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.text_matches = text_matches

    def filter_q(self, queryset, name, value):
        if not segment(value):
            return queryset
        if self.text_matches is None:
            self.text_matches = text_search(value)
        # A subquery, never a list of ids: a common word can match most of the market (and SQLite refuses
        # more than 32,766 bound parameters).
        return queryset.filter(pk__in=self.text_matches.order_by().values("pk"))

    def filter_ipc(self, queryset, name, value):
        prefix = re.sub(r"\s+", "", value).upper()
        if not prefix:
            return queryset
        if len(prefix) <= 4:
            return queryset.filter(declaration__patent__ipc_subclass__startswith=prefix)
        # main_ipc is written "H01M 10/44"; compare without the space.
        main = prefix[:4] + " " + prefix[4:]
        return queryset.filter(Q(declaration__patent__main_ipc__startswith=main)
                               | Q(declaration__patent__main_ipc__startswith=prefix))

    def filter_licensed(self, queryset, name, value):
        return queryset.filter(licensed=(value == "yes")) if value in ("yes", "no") else queryset

    def filter_sort(self, queryset, name, value):
        if value == "price":
            return queryset.order_by("first_due_fen", "-first_published_at", "-pk")
        if value == "life":
            return queryset.order_by(F("declaration__patent__expiry_date").desc(nulls_last=True), "-pk")
        # Newest; relevance is applied by the selector on top of this order.
        return queryset.order_by("-first_published_at", "-pk")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = self.filter_sort(queryset, "sort", "newest")
        return queryset


def text_search(query: str) -> QuerySet:
    """The live listing pages whose indexed text matches every word of ``query``, best first, as Wagtail's search
    backend builds them (FTS5 MATCH on SQLite, tsvector on PostgreSQL). Lazy: callers use it as a subquery or
    slice it, so the database does the intersection with the facets and the paging."""
    # The backend nests one query node per word (recursively), so a pasted essay would exhaust the stack;
    # the first MAX_QUERY_WORDS words are what any buyer types.
    words = " ".join(segment(query).split()[:MAX_QUERY_WORDS])
    if not words:
        return PatentListingPage.objects.none()
    backend = get_search_backend()
    # The backend only accepts filters on its FilterFields, so it searches the plain live pages; the facets
    # are applied around it by the caller.
    results = backend.search(words, PatentListingPage.objects.live(), operator="and", order_by_relevance=True)
    return results.get_queryset()


# What the facet groups count by, for each facet (annotation or field path).
_FACET_GROUP = {
    "technology_field": "declaration__patent__technology_field", "sector": "sector", "ipc": "ipc_section",
    "grade": "grade_effective", "kind": "declaration__patent__kind", "fee_form": "declaration__fee_form",
    "price": "price_bucket", "life": "life_bucket", "holder_kind": "declaration__holder__kind",
    "region": "declaration__holder__province", "licensed": "licensed",
}


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class ListingHit:
    pk: int
    number: str
    title: str
    holder: str
    fee_form: str
    fee_form_label: str
    first_due_yuan: int
    grade: str
    expiry_date: date | None
    url: str

    def as_dict(self) -> dict:
        return {"number": self.number, "title": self.title, "holder": self.holder,
                "fee": {"form": self.fee_form, "label": self.fee_form_label, "first_amount_due_yuan":
                        self.first_due_yuan, "currency": "CNY"},
                "grade": self.grade, "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
                "url": self.url}


@dataclass
class ListingSearch:
    filterset: ListingFilter
    total: int
    hits: list[ListingHit]
    facets: dict[str, list[FacetValue]]
    page_number: int
    num_pages: int
    sort: str
    query: str
    extra: dict = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.page_number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page_number > 1


def _labels(language: str) -> dict[str, dict[str, str]]:
    english = language.startswith("en")
    return {
        "technology_field": {str(f.number): (f.name_en if english else f.name_zh) for f in FIELDS},
        "sector": {s.key: (s.name_en if english else s.name_zh) for s in SECTORS},
        "ipc": {s: s for s in IPC_SECTIONS},
        "grade": {str(k): str(v) for k, v in Grade.choices},
        "kind": {str(k): str(v) for k, v in PatentKind.choices},
        "fee_form": {str(k): str(v) for k, v in FeeForm.choices},
        "price": {k: str(label) for k, label, *_r in PRICE_BUCKETS},
        "life": {k: str(label) for k, label, *_r in LIFE_BUCKETS},
        "holder_kind": {str(k): str(v) for k, v in OrganisationKind.choices},
        "licensed": {k: str(label) for k, label in LICENSED_CHOICES},
    }


def _facet_key(name: str, value) -> str:
    if name == "licensed":
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _facet_counts(*, data, base: QuerySet, text_matches, language: str, selected: dict) -> dict[str, list[FacetValue]]:
    """Counts per value of every facet over the results filtered by everything except that facet, so a facet's
    counts add up to what the visitor would see with that facet cleared. One grouped query per facet."""
    labels = _labels(language)
    facets = {}
    for name in FACETS:
        others = data.copy()
        others.pop(name, None)
        others.pop("sort", None)
        fs = ListingFilter(others, queryset=base, text_matches=text_matches)
        group = _FACET_GROUP[name]
        rows = fs.qs.order_by().values(group).annotate(n=Count("pk")).order_by()
        counts = {_facet_key(name, row[group]): row["n"] for row in rows}
        known = labels.get(name)
        values = list(known) if known is not None else sorted(k for k in counts if k)
        current = str(selected.get(name) or "").upper() if name == "ipc" else str(selected.get(name) or "")
        facets[name] = [
            FacetValue(value=v, label=(known or {}).get(v, v), count=counts.get(v, 0),
                       selected=(current[:1] == v if name == "ipc" else current == v))
            for v in values if counts.get(v, 0) or (current and current == v)]
    return facets


def listing_search(*, data, language: str = "zh-hans", page: int | str = 1, per_page: int = 20) -> ListingSearch:
    """Run a listing search from query-string ``data`` (a QueryDict or dict): full text, facets, sort and one
    page of hits, with facet counts. The number of database queries does not depend on the number of listings.
    Invalid facet values are ignored (the FilterSet's form drops them), never an error."""
    if not hasattr(data, "copy") or not hasattr(data, "getlist"):
        from django.http import QueryDict

        qd = QueryDict(mutable=True)
        for key, value in dict(data).items():
            qd[key] = value
        data = qd
    data = data.copy()
    filterset = bound_listing_filter(data)  # drops invalid values from `data`, which the facet counts reuse
    base = filterset.queryset
    cleaned = filterset.form.cleaned_data
    query = (cleaned.get("q") or "").strip()
    sort = cleaned.get("sort") or ("relevance" if query else "newest")
    if sort == "relevance" and not query:
        sort = "newest"
    results = filterset.qs
    text_matches = filterset.text_matches
    if text_matches is None and sort == "relevance":  # a query of punctuation only searches nothing
        sort = "newest"

    if sort == "relevance":
        # The backend's ranked query, narrowed to the faceted results; the database sorts and pages.
        ranked = text_matches.filter(pk__in=results.order_by().values("pk")).values_list("pk", flat=True)
        paginator = Paginator(ranked, per_page)
        page_obj = paginator.get_page(page)
        total = paginator.count
        order = {pk: i for i, pk in enumerate(page_obj.object_list)}
        pages = sorted(base.filter(pk__in=list(page_obj.object_list))
                       .select_related("declaration__patent", "declaration__holder"), key=lambda p: order[p.pk])
    else:
        paginator = Paginator(results.select_related("declaration__patent", "declaration__holder"), per_page)
        page_obj = paginator.get_page(page)
        total = paginator.count
        pages = list(page_obj.object_list)

    selected = {name: cleaned.get(name) for name in FACETS}
    facets = _facet_counts(data=data, base=base, text_matches=text_matches, language=language, selected=selected)
    return ListingSearch(filterset=filterset, total=total, hits=_hits(pages, language), facets=facets,
                         page_number=page_obj.number, num_pages=paginator.num_pages, sort=sort, query=query)


def _hits(pages: list[PatentListingPage], language: str) -> list[ListingHit]:
    """Hits linking to the page of the visitor's language (the English alias under /en/), one query."""
    english = language.startswith("en")
    urls = {}
    locale = Locale.objects.filter(language_code=language).first()
    if pages and locale is not None:
        translations = (PatentListingPage.objects.live().filter(
            locale=locale, translation_key__in=[p.translation_key for p in pages]))
        urls = {p.translation_key: p.url for p in translations}
    hits = []
    for page in pages:
        declaration = page.declaration
        patent, holder = declaration.patent, declaration.holder
        hits.append(ListingHit(
            pk=page.pk, number=patent.number, title=patent.title,
            holder=(holder.name_en or holder.name_zh) if english else holder.name_zh,
            fee_form=declaration.fee_form, fee_form_label=str(declaration.get_fee_form_display()),
            first_due_yuan=page.first_due_fen // 100, grade=page.grade_effective, expiry_date=patent.expiry_date,
            url=urls.get(page.translation_key) or page.url))
    return hits
