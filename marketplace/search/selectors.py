"""Search over listings: one FilterSet and one selector shared by the search page and the listings API.

A search reads one narrow table, the listings' search documents (marketplace.models.ListingDocument, kept in step
by marketplace.search.documents): the facets are its columns, the full text its database index (SQLite FTS5 ranked
with bm25, PostgreSQL's stored tsvector ranked with ts_rank), so the database filters, ranks, pages and counts
without joining page, declaration, patent, holder and licences for every match. Both full-text engines split
words on spaces and punctuation only, so Chinese is segmented with jieba on both sides: the document holds its
text cut into words and the visitor's query is cut the same way. Facet counts come from one statement per query
(plus one per facet in use) and are cached until a document changes. Each hit links to the page of the
visitor's language.

A query crosses languages (电池 finds "battery" and the other way round): each of its words may also be met by
its counterparts from the bilingual bridge (marketplace.listings.bilingual), added to the query rather than stored
in the documents, so the index stays the size of the listings' own text and a rebuild needs no dictionary. A
listing that holds the query's own words ranks above one met only through counterparts."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date

import django_filters
import numpy as np
from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from wagtail.models import Page

from licensing.models import FeeForm
from marketplace.listings.bilingual import FUNCTION_WORDS, counterparts
from marketplace.listings.text import segment
from marketplace.models import ListingDocument
from marketplace.parties.models import OrganisationKind
from marketplace.search.documents import search_version
from marketplace.search.facets import Coded, FacetColumns, facet_columns
from marketplace.templatetags.market_format import money_label, money_range_label
from patents.inventory.fields import FIELDS, SECTORS
from patents.models import Grade, PatentKind

MAX_QUERY_WORDS = 32
# PostgreSQL ranks at most this many matches, the newest (see _ranked_page).
RANK_CANDIDATES = 1000


# Buckets for the facets that are ranges. Keys are stable (they appear in shareable URLs).
PRICE_BUCKETS: list[tuple[str, object, int | None, int | None]] = [  # key, label, min yuan (incl.), max (excl.)
    ("0", _("Nothing up front"), 0, 1),
    ("lt10k", money_label(gettext_noop("Under %(amount)s"), 10_000), 1, 10_000),
    ("10k-100k", money_range_label(10_000, 100_000), 10_000, 100_000),
    ("100k-1m", money_range_label(100_000, 1_000_000), 100_000, 1_000_000),
    ("1m+", money_label(gettext_noop("%(amount)s and more"), 1_000_000), 1_000_000, None),
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
FTS_TABLE = "marketplace_listingdocument_fts"  # SQLite only: migration 0006

# name → the annotation facet counts are grouped by.
FACETS = ["technology_field", "sector", "ipc", "grade", "kind", "fee_form", "price", "life", "holder_kind", "region",
          "licensed"]


def _today() -> date:
    return timezone.localdate()


def _fen(yuan: int) -> int:
    return yuan * 100


def bound_listing_filter(data, *, across_languages: bool = True) -> ListingFilter:
    """The FilterSet bound to a (mutable) QueryDict, with invalid facet values dropped instead of failing the
    whole search; the search page, the API and saved searches all bind through here."""
    base = listing_queryset()
    filterset = ListingFilter(data, queryset=base, across_languages=across_languages)
    if not filterset.is_valid():
        for name in filterset.errors:
            data.pop(name, None)
        filterset = ListingFilter(data, queryset=base, across_languages=across_languages)
        filterset.is_valid()
    return filterset


def listing_queryset() -> QuerySet:
    """Every listed patent's search document (one per live, public, Chinese-original listing of a published
    declaration; marketplace.search.documents keeps them in step). The facets and sorts read its columns."""
    return ListingDocument.objects.all()


def _life_bounds(key: str, today: date) -> tuple[date | None, date | None]:
    _key, _label, lo, hi = next(b for b in LIFE_BUCKETS if b[0] == key)
    return (None if lo is None else today + relativedelta(years=lo),
            None if hi is None else today + relativedelta(years=hi))


def _price_q(key: str) -> Q:
    _key, _label, lo, hi = next(b for b in PRICE_BUCKETS if b[0] == key)
    return Q(first_due_fen__gte=_fen(lo)) & (Q() if hi is None else Q(first_due_fen__lt=_fen(hi)))


def _life_q(key: str, today: date) -> Q:
    lo, hi = _life_bounds(key, today)
    return (Q() if lo is None else Q(expiry_date__gte=lo)) & (Q() if hi is None else Q(expiry_date__lt=hi))


def query_words(query: str) -> list[str]:
    """The words a query searches for: cut as the documents were (jieba), the first MAX_QUERY_WORDS of them."""
    return segment(query).split()[:MAX_QUERY_WORDS]


Alternatives = tuple[tuple[str, ...], ...]  # ways to meet one query word: each a run of tokens, all required


def bridged_groups(words: list[str]) -> list[Alternatives] | None:
    """How the query's words are met across languages: per word that must be met, its alternatives (the word
    itself first, then its counterparts, each cut into the tokens the documents hold). None when no word has a
    counterpart (the query is searched as written). A function word ("for", 的) need not be met in the other
    language; a Chinese word inside a longer query word (电池 in 锂电池, which jieba's search mode also emits)
    is met by the longer word's counterparts; a run of English words ("lithium battery") also by the
    counterparts of the run."""
    alternatives: dict[str, list[tuple[str, ...]]] = {}
    for word in words:
        alternatives.setdefault(word, [tokens for other in counterparts(word) if (tokens := tuple(segment(other).split()))])
    for size in (3, 2):  # runs of English words, e.g. "lithium battery" -> 锂电池
        for start in range(len(words) - size + 1):
            run = words[start:start + size]
            if all(w.isascii() for w in run):
                found = [tuple(segment(other).split()) for other in counterparts(" ".join(run))]
                for word in run:
                    alternatives[word] += [tokens for tokens in found if tokens]
    if not any(alternatives.values()):
        return None
    groups = []
    for word in dict.fromkeys(words):
        others = list(alternatives[word])
        if not others:
            if word.lower() in FUNCTION_WORDS:
                continue
            others = [tokens for longer in words if longer != word and word in longer for tokens in alternatives[longer]]
        groups.append(tuple(dict.fromkeys([(word,), *others])))
    return groups


def _fts_string(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_match(words: list[str]) -> str:
    # Every word as an FTS5 string (a double quote inside is doubled), all required.
    return " AND ".join(_fts_string(w) for w in words)


def _fts_query(words: list[str], groups: list[Alternatives] | None) -> str:
    """The FTS5 query: the words as written, or (across languages) each group met by one of its alternatives."""
    if groups is None:
        return _fts_match(words)
    bridged = " AND ".join(
        "(" + " OR ".join(_fts_string(a[0]) if len(a) == 1 else "(" + _fts_match(list(a)) + ")" for a in group) + ")"
        for group in groups)
    return f"({_fts_match(words)}) OR ({bridged})" if bridged else _fts_match(words)


_TSQUERY = "plainto_tsquery('english'::regconfig, %s)"


def _tsquery(words: list[str], groups: list[Alternatives] | None) -> tuple[str, list[str]]:
    """The PostgreSQL tsquery expression and its parameters, with the same meaning as _fts_query."""
    if not groups:
        return _TSQUERY, [" ".join(words)]
    parts, params = [], [" ".join(words)]
    for group in groups:
        parts.append("(" + " || ".join([_TSQUERY] * len(group)) + ")")
        params += [" ".join(a) for a in group]
    return f"({_TSQUERY} || ({' && '.join(parts)}))", params


def _text_condition(words: list[str], groups: list[Alternatives] | None = None):
    """The documents whose text holds every word (or, across languages, meets every group), as a condition the
    database evaluates with its full-text index: a semi-join on the FTS5 table on SQLite, the GIN-indexed
    tsvector on PostgreSQL."""
    if connection.vendor == "postgresql":
        expression, params = _tsquery(words, groups)
        # The expression is built from constant fragments; the words are parameters.
        return RawSQL(f"search_vector @@ {expression}", params, output_field=BooleanField())  # noqa: S611
    return Q(page_id__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",  # noqa: S608, S611
                                [_fts_query(words, groups)]))


class ListingFilter(django_filters.FilterSet):
    """The one definition of a listing search: the query, every facet and the sort order, over the listings'
    search documents."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    technology_field = django_filters.TypedChoiceFilter(
        field_name="technology_field", coerce=int, label=_("Technology field"),
        choices=[(f.number, f.name_en) for f in FIELDS])
    sector = django_filters.ChoiceFilter(field_name="sector", label=_("Sector"),
                                         choices=[(s.key, s.name_en) for s in SECTORS])
    ipc = django_filters.CharFilter(method="filter_ipc", label=_("IPC prefix"))
    grade = django_filters.ChoiceFilter(field_name="grade", choices=Grade.choices, label=_("Grade"))
    kind = django_filters.ChoiceFilter(field_name="kind", choices=PatentKind.choices, label=_("Patent kind"))
    fee_form = django_filters.ChoiceFilter(field_name="fee_form", choices=FeeForm.choices, label=_("Fee form"))
    price = django_filters.ChoiceFilter(method="filter_price", label=_("First amount due"),
                                        choices=[(k, label) for k, label, *_r in PRICE_BUCKETS])
    life = django_filters.ChoiceFilter(method="filter_life", label=_("Remaining life"),
                                       choices=[(k, label) for k, label, *_r in LIFE_BUCKETS])
    holder_kind = django_filters.ChoiceFilter(
        field_name="holder_kind", label=_("Holder kind"),
        choices=[c for c in OrganisationKind.choices if c[0] != OrganisationKind.IP_OFFICE])
    region = django_filters.CharFilter(field_name="region", label=_("Region"))
    licensed = django_filters.ChoiceFilter(method="filter_licensed", choices=LICENSED_CHOICES,
                                           label=_("Licensed"))
    sort = django_filters.ChoiceFilter(method="filter_sort", choices=SORT_CHOICES, label=_("Sort by"),
                                       empty_label=None)

    class Meta:
        model = ListingDocument
        fields: list = []

    def __init__(self, *args, across_languages: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.words: list[str] = []
        self.groups: list[Alternatives] | None = None
        self.across_languages = across_languages

    def filter_q(self, queryset, name, value):
        self.words = query_words(value)
        if not self.words:
            return queryset
        self.groups = bridged_groups(self.words) if self.across_languages else None
        return queryset.filter(_text_condition(self.words, self.groups))

    def filter_ipc(self, queryset, name, value):
        prefix = re.sub(r"\s+", "", value).upper()
        if not prefix:
            return queryset
        if len(prefix) <= 4:
            return queryset.filter(ipc_subclass__startswith=prefix)
        # main_ipc is written "H01M 10/44"; compare without the space.
        main = prefix[:4] + " " + prefix[4:]
        return queryset.filter(Q(main_ipc__startswith=main) | Q(main_ipc__startswith=prefix))

    def filter_price(self, queryset, name, value):
        return queryset.filter(_price_q(value)) if value else queryset

    def filter_life(self, queryset, name, value):
        return queryset.filter(_life_q(value, _today())) if value else queryset

    def filter_licensed(self, queryset, name, value):
        return queryset.filter(licensed=(value == "yes")) if value in ("yes", "no") else queryset

    def filter_sort(self, queryset, name, value):
        if value == "price":
            return queryset.order_by("first_due_fen", "-first_published_at", "-page_id")
        if value == "life":
            return queryset.order_by(F("expiry_date").desc(nulls_last=True), "-page_id")
        # Newest; relevance is applied by the selector on top of this order.
        return queryset.order_by("-first_published_at", "-page_id")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = self.filter_sort(queryset, "sort", "newest")
        return queryset


# What each facet counts by: a document column, or a bucket computed from one (see _bucket_codes).
_FACET_GROUP = {
    "technology_field": "technology_field", "sector": "sector", "ipc": "ipc_section", "grade": "grade",
    "kind": "kind", "fee_form": "fee_form", "price": "price_bucket", "life": "life_bucket",
    "holder_kind": "holder_kind", "region": "region", "licensed": "licensed",
}
FACET_CACHE_SECONDS = 3600


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
        return "yes" if value in (True, 1, "1", "true", "t") else "no"
    return "" if value is None else str(value)


def _normalised(cleaned: dict) -> str:
    """The facet-relevant part of a search, written the same way whatever the order or spelling of the query
    string: the cache key of its counts."""
    parts = {name: cleaned.get(name) for name in ["q", *FACETS]}
    parts["q"] = " ".join(query_words(parts["q"] or ""))
    if parts.get("ipc"):
        parts["ipc"] = re.sub(r"\s+", "", parts["ipc"]).upper()
    return json.dumps({k: v for k, v in parts.items() if v not in (None, "")}, sort_keys=True, ensure_ascii=False,
                      default=str)


def _masks(columns: FacetColumns, cleaned: dict, words: list[str],
           groups: list[Alternatives] | None = None) -> dict[str, np.ndarray]:
    """One mask over the documents per filter in use (the name "q" for the words), with the same meaning as
    ListingFilter's filters in SQL."""
    masks: dict[str, np.ndarray] = {}
    if words:
        # Fetched whole, not through .iterator(): a server-side cursor is planned for its first rows, which
        # made PostgreSQL scan every document instead of the GIN index (2 s instead of 50 ms for 50,000 ids).
        # Kept by the words and, across languages, their groups (the same words searched as written differ).
        key = words if groups is None else [*words, repr(groups)]
        masks["q"] = columns.words_mask(key, lambda: ListingDocument.objects.filter(_text_condition(words, groups))
                                        .values_list("page_id", flat=True))
    for name in ("technology_field", "sector", "grade", "kind", "fee_form", "holder_kind", "region"):
        value = cleaned.get(name)
        if value not in (None, ""):
            masks[name] = columns.coded[name].equal(value)
    prefix = re.sub(r"\s+", "", cleaned.get("ipc") or "").upper()
    if prefix:
        if len(prefix) <= 4:
            masks["ipc"] = columns.coded["ipc_subclass"].where(lambda v: v.startswith(prefix))
        else:
            spaced = prefix[:4] + " " + prefix[4:]
            masks["ipc"] = columns.coded["main_ipc"].where(lambda v: v.startswith((spaced, prefix)))
    if cleaned.get("price"):
        _key, _label, lo, hi = next(b for b in PRICE_BUCKETS if b[0] == cleaned["price"])
        masks["price"] = columns.fee_between(None if lo is None else _fen(lo), None if hi is None else _fen(hi))
    if cleaned.get("life"):
        _key, _label, lo, hi = next(b for b in LIFE_BUCKETS if b[0] == cleaned["life"])
        masks["life"] = columns.expiry_between(_today(), lo, hi)
    if cleaned.get("licensed") in ("yes", "no"):
        masks["licensed"] = columns.coded["licensed"].where(lambda v: bool(v) == (cleaned["licensed"] == "yes"))
    return masks


def _all(masks, length: int, *, but: str | None = None) -> np.ndarray:
    mask = np.ones(length, dtype=bool)
    for name, each in masks.items():
        if name != but:
            mask &= each
    return mask


def _bucket_codes(columns: FacetColumns) -> dict[str, Coded]:
    """The price and remaining-life buckets of every document, as codes (the first bucket that holds it, none
    for a patent without an expiry date)."""
    buckets = {}
    for column, bounds, mask_of in (
            ("price_bucket", PRICE_BUCKETS,
             lambda lo, hi: columns.fee_between(None if lo is None else _fen(lo), None if hi is None else _fen(hi))),
            ("life_bucket", LIFE_BUCKETS, lambda lo, hi: columns.expiry_between(_today(), lo, hi))):
        codes = np.full(len(columns), len(bounds), dtype=np.int16)  # the last code: no bucket
        for i, (_key, _label, lo, hi) in reversed(list(enumerate(bounds))):
            codes[mask_of(lo, hi)] = i  # reversed, so the first bucket that holds a document wins, as in CASE
        buckets[column] = Coded(codes, [key for key, *_r in bounds] + [None])
    return buckets


def _counted(coded: Coded, mask: np.ndarray, name: str) -> dict[str, int]:
    counts = np.bincount(coded.codes[mask], minlength=len(coded.values))
    return {_facet_key(name, value): int(n) for value, n in zip(coded.values, counts, strict=True) if n}


def _counts(*, filterset: ListingFilter, columns: FacetColumns, masks: dict) -> tuple[dict[str, dict[str, int]], int]:
    """Every facet's counts (each over the results filtered by everything except that facet, so a facet's
    counts add up to what the visitor would see with it cleared) and the number of results, counted over the
    facet columns in memory (marketplace.search.facets), cached per normalised query until a search document
    changes (the version bumped by marketplace.search.documents) or the day changes (the remaining-life buckets
    move with it)."""
    cleaned = filterset.form.cleaned_data
    key = "marketplace:search:counts:" + hashlib.sha256(
        f"{columns.version}|{_today().isoformat()}|{_normalised(cleaned)}|{filterset.groups!r}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    coded = {**columns.coded, **_bucket_codes(columns)}
    counts = {}
    for name in FACETS:
        mask = _all(masks, len(columns), but=name)
        counts[name] = _counted(coded[_FACET_GROUP[name]], mask, name)
    total = int(_all(masks, len(columns)).sum())
    cache.set(key, (counts, total), FACET_CACHE_SECONDS)
    return counts, total


def _facets(counts: dict[str, dict[str, int]], *, language: str, selected: dict) -> dict[str, list[FacetValue]]:
    labels = _labels(language)
    facets = {}
    for name in FACETS:
        known = labels.get(name)
        values = list(known) if known is not None else sorted(k for k in counts[name] if k)
        current = str(selected.get(name) or "").upper() if name == "ipc" else str(selected.get(name) or "")
        facets[name] = [
            FacetValue(value=v, label=(known or {}).get(v, v), count=counts[name].get(v, 0),
                       selected=(current[:1] == v if name == "ipc" else current == v))
            for v in values if counts[name].get(v, 0) or (current and current == v)]
    return facets


# The holder's English title comes through the declaration (a join for one page of hits): the documents keep
# the title the Chinese page shows.
TITLE_EN = "declaration__patent__title_en"
_HIT_COLUMNS = ("page_id", "translation_key", "number", "title", "holder_name_zh", "holder_name_en", "fee_form",
                "first_due_fen", "grade", "expiry_date", TITLE_EN)


def _rows(page_ids: list[int]) -> list[dict]:
    """The hit columns of these documents, in this order."""
    found = {row["page_id"]: row for row in ListingDocument.objects.filter(page_id__in=page_ids).values(*_HIT_COLUMNS)}
    return [found[pk] for pk in page_ids if pk in found]


def _ranked_page(filterset: ListingFilter, *, data, columns: FacetColumns, mask: np.ndarray, offset: int,
                 limit: int) -> list[dict]:
    """One page of the results, best match first (ties to the newest): FTS5 ``bm25`` on SQLite, ``ts_rank`` on
    PostgreSQL."""
    if connection.vendor == "postgresql":
        # ts_rank reads and scores the whole vector of every document it ranks: 1.7 s for a word in 50,000 of
        # 380,000 listings. So it ranks a bounded set, the RANK_CANDIDATES newest matches, and the matches beyond
        # them follow, newest first (docs/search.md).
        candidates = columns.page("newest", mask, 0, RANK_CANDIDATES)
        rows = []
        if offset < len(candidates):
            expression, params = _tsquery(filterset.words, filterset.groups)
            rank = RawSQL(f"ts_rank(search_vector, {expression})", params, output_field=FloatField())  # noqa: S611
            # Listings holding the query's own words first, then those met only through counterparts.
            own = RawSQL(f"search_vector @@ {_TSQUERY}", [" ".join(filterset.words)],  # noqa: S611
                         output_field=BooleanField())
            # One array parameter rather than 1,000 placeholders (psycopg and Django prepare each of those).
            among = RawSQL("page_id = ANY(%s)", [candidates], output_field=BooleanField())
            rows = list(ListingDocument.objects.filter(among).annotate(rank=rank, own=own)
                        .order_by("-own", "-rank", "-first_published_at", "-page_id")
                        .values(*_HIT_COLUMNS)[offset:offset + limit])
        beyond = max(offset, len(candidates))
        if offset + limit > beyond and len(candidates) == RANK_CANDIDATES:
            rows += _rows(columns.page("newest", mask, beyond, offset + limit - beyond))
        return rows
    # SQLite: bm25() is computed where the FTS5 table is scanned (a subquery), then joined to the documents; the
    # facets narrow it through the documents' own filters (never a second MATCH, which made SQLite re-scan the
    # index per row: 1.9 s instead of 43 ms for a word in 7,000 listings at 100k patents).
    facets = data.copy()
    facets.pop("q", None)
    facets.pop("sort", None)
    narrowed, params = "", []
    if any(facets.get(name) for name in FACETS):
        sql, params = (ListingFilter(facets, queryset=listing_queryset()).qs.order_by().values("page_id")
                       .query.sql_with_params())
        narrowed = f"WHERE d.page_id IN ({sql})"
    table = ListingDocument._meta.db_table
    own, own_params = "", []
    if filterset.groups is not None:
        # Listings holding the query's own words first, then those met only through counterparts: one more
        # MATCH, evaluated once as a set (uncorrelated), not per row.
        own = f"d.page_id NOT IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s), "  # noqa: S608
        own_params = [_fts_match(filterset.words)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.page_id FROM (SELECT rowid AS id, bm25({FTS_TABLE}) AS score FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s) m JOIN {table} d ON d.page_id = m.id {narrowed} "
            f"ORDER BY {own}m.score, d.first_published_at DESC, d.page_id DESC LIMIT %s OFFSET %s",
            [_fts_query(filterset.words, filterset.groups), *params, *own_params, limit, offset])
        order = [row[0] for row in cursor.fetchall()]
    return _rows(order)


def listing_search(*, data, language: str = "zh-hans", page: int | str = 1, per_page: int = 20,
                   across_languages: bool = True) -> ListingSearch:
    """Run a listing search from query-string ``data`` (a QueryDict or dict): full text, facets, sort and one
    page of hits, with facet counts. A handful of statements over the search documents, whatever the number of
    listings: the counts (cached per query), one page of hits and their addresses. Invalid facet values are
    ignored (the FilterSet's form drops them), never an error. ``across_languages=False`` searches the words
    as written only (the search as it was before the bridge, which the equivalence tests compare with)."""
    if not hasattr(data, "copy") or not hasattr(data, "getlist"):
        from django.http import QueryDict

        qd = QueryDict(mutable=True)
        for key, value in dict(data).items():
            qd[key] = value
        data = qd
    data = data.copy()
    # Drops invalid values from `data`, which the facet counts reuse.
    filterset = bound_listing_filter(data, across_languages=across_languages)
    cleaned = filterset.form.cleaned_data
    query = (cleaned.get("q") or "").strip()
    filterset.qs  # noqa: B018 - evaluating the filters also cuts the query into words (filter_q)
    sort = cleaned.get("sort") or ("relevance" if query else "newest")
    if sort == "relevance" and not filterset.words:  # no query, or one of punctuation only
        sort = "newest"

    columns = facet_columns(search_version())
    masks = _masks(columns, cleaned, filterset.words, filterset.groups)
    counts, total = _counts(filterset=filterset, columns=columns, masks=masks)
    num_pages = max(1, -(-total // per_page))
    try:
        number = int(page)
    except (TypeError, ValueError):
        number = 1
    number = min(max(number, 1), num_pages)
    offset = (number - 1) * per_page
    if sort == "relevance":
        rows = _ranked_page(filterset, data=data, columns=columns, mask=_all(masks, len(columns)), offset=offset,
                            limit=per_page)
    else:
        rows = _rows(columns.page(sort, _all(masks, len(columns)), offset, per_page))

    selected = {name: cleaned.get(name) for name in FACETS}
    return ListingSearch(filterset=filterset, total=total, hits=_hits(rows, language),
                         facets=_facets(counts, language=language, selected=selected),
                         page_number=number, num_pages=num_pages, sort=sort, query=query)


def _hits(rows: list[dict], language: str) -> list[ListingHit]:
    """Hits linking to the page of the visitor's language (the English alias under /en/), one query for the
    addresses of the page's hits."""
    english = language.startswith("en")
    urls: dict = {}
    if rows:
        keys = [row["translation_key"] for row in rows]
        originals = {row["page_id"] for row in rows}
        pages = (Page.objects.filter(translation_key__in=keys)
                 .filter(Q(locale__language_code=language) | Q(pk__in=originals)).select_related("locale"))
        for each in pages:
            if each.locale.language_code == language or each.translation_key not in urls:
                urls[each.translation_key] = each.url
    labels = dict(FeeForm.choices)
    return [ListingHit(
        pk=row["page_id"], number=row["number"], title=(row[TITLE_EN] or row["title"]) if english else row["title"],
        holder=(row["holder_name_en"] or row["holder_name_zh"]) if english else row["holder_name_zh"],
        fee_form=row["fee_form"], fee_form_label=str(labels.get(row["fee_form"], row["fee_form"])),
        first_due_yuan=row["first_due_fen"] // 100, grade=row["grade"], expiry_date=row["expiry_date"],
        url=urls.get(row["translation_key"], "")) for row in rows]
