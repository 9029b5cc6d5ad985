"""The search as it was before the search documents (git 88a548a..d4ff17f, marketplace/search/selectors.py):
ORM filters over the joined page, declaration, patent, holder and licence tables, and full text through Wagtail's
search backend. Kept in the tests only, as the oracle the document-based search must agree with."""

from __future__ import annotations

import re

import django_filters
from dateutil.relativedelta import relativedelta
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf, Substr, Upper
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.search.backends import get_search_backend

from licensing.models import LICENSABLE_DECLARATION_STATES, FeeForm
from licensing.models.licences import Licence, LicenceState
from marketplace.listings.text import segment
from marketplace.models import PatentListingPage
from marketplace.parties.models import OrganisationKind
from marketplace.search.selectors import (
    FACETS,
    LICENSED_CHOICES,
    LIFE_BUCKETS,
    MAX_QUERY_WORDS,
    PRICE_BUCKETS,
    SORT_CHOICES,
)
from patents.inventory.fields import FIELDS, SECTORS
from patents.models import Grade, PatentKind


def _today():
    return timezone.localdate()


def _fen(yuan: int) -> int:
    return yuan * 100


def listing_queryset() -> QuerySet:
    """Live, public, Chinese-original listing pages of standing declarations, annotated with what the facets
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
        .filter(alias_of__isnull=True, declaration__state__in=LICENSABLE_DECLARATION_STATES)
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


class ReferenceFilter(django_filters.FilterSet):
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

    def __init__(self, *args, text_matches: QuerySet | None = None, **kwargs):  # noqa: D107
        super().__init__(*args, **kwargs)
        self.text_matches = text_matches

    def filter_q(self, queryset, name, value):
        if not segment(value):
            return queryset
        if self.text_matches is None:
            self.text_matches = text_search(value)
        # The oracle takes the matching ids as a list (its markets are a few hundred listings): as a subquery,
        # PostgreSQL's planner, with the statistics of the empty tables the tests start from, sometimes nested
        # the backend's text search inside every facet count (over a minute per query).
        return queryset.filter(pk__in=list(self.text_matches.order_by().values_list("pk", flat=True)))

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


def _facet_key(name: str, value) -> str:
    if name == "licensed":
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _bound(data: dict) -> QueryDict:
    qd = QueryDict(mutable=True)
    for key, value in data.items():
        qd[key] = value
    return qd


def reference_search(data: dict) -> dict:
    """What the old search answered for ``data`` (valid values only): the number of results, every facet's
    counts (each facet over the results filtered by everything but itself), the ids of every match in the
    order of the requested sort (newest when none or relevance), and the set of matching ids."""
    data = _bound(data)
    base = listing_queryset()
    filterset = ReferenceFilter(data, queryset=base)
    assert filterset.is_valid(), filterset.errors
    results = filterset.qs
    ids = list(results.values_list("pk", flat=True))
    counts = {}
    for name in FACETS:
        others = data.copy()
        others.pop(name, None)
        others.pop("sort", None)
        fs = ReferenceFilter(others, queryset=base, text_matches=filterset.text_matches)
        group = _FACET_GROUP[name]
        rows = fs.qs.order_by().values(group).annotate(n=Count("pk")).order_by()
        counts[name] = {key: row["n"] for row in rows if row["n"] and (key := _facet_key(name, row[group])) != ""}
    return {"total": len(ids), "ids": ids, "id_set": set(ids), "counts": counts}
