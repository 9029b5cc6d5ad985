"""Patent navigation (专利导航): the landscape of inventoried patents, for the platform and per holder.

Reads only. One FilterSet (``LandscapeFilter``) defines the search, so the page and its CSV/XLSX exports
always show the same patents. Every breakdown is one aggregate query (GROUP BY in the database), so a
landscape costs the same handful of queries whether it covers ten patents or a million.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import django_filters
from django import forms
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, ExtractYear, NullIf
from django.http import QueryDict
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from marketplace.parties.models import Organisation, OrganisationKind, User
from marketplace.parties.selectors import user_can_view_organisation
from patents.inventory.fields import FIELDS, FIELDS_BY_NUMBER, SECTORS
from patents.models import Grade, LegalStatus, Patent, PatentKind

TOP_IPC_SUBCLASSES = 15
TOP_HOLDERS = 10
# Upper bounds (years) of the remaining-life buckets; the last bucket is open-ended.
REMAINING_LIFE_BOUNDS = (2, 5, 10, 15)


def _in_language(name_en: str, name_zh: str) -> str:
    return name_zh if (get_language() or "").startswith("zh") else (name_en or name_zh)


# Resolved when rendered, so one Landscape shows Chinese or English names by the language of the response.
in_language = lazy(_in_language, str)


def effective_grade():
    """The grade buyers see: the holder's override when set, else the computed grade (as ``Patent.grade``)."""
    return Coalesce(NullIf(F("grade_override"), Value("")), F("grade_computed"))


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _field_choices():
    return [(f.number, f"{f.number}. {in_language(f.name_en, f.name_zh)}") for f in FIELDS]


def _sector_choices():
    return [(s.key, in_language(s.name_en, s.name_zh)) for s in SECTORS]


def _region_choices():
    # Only provinces where some holder has patents: an option that always yields nothing is noise.
    provinces = Patent.objects.order_by().values_list("holder__province", flat=True).distinct()
    return [(p, p) for p in sorted(p for p in provinces if p)]


HOLDER_KIND_CHOICES = [(k.value, k.label) for k in OrganisationKind if k != OrganisationKind.IP_OFFICE]


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class LandscapeFilter(django_filters.FilterSet):
    """The facets of a landscape. Pass ``today`` (remaining life is measured from it) and ``per_holder``
    (drops the facets about holders, which mean nothing on one holder's own landscape)."""

    technology_field = django_filters.ChoiceFilter(
        label=_("Technology field"), choices=_field_choices, empty_label=_("Any"))
    sector = django_filters.ChoiceFilter(
        label=_("Sector"), choices=_sector_choices, method="filter_sector", empty_label=_("Any"))
    grade = django_filters.ChoiceFilter(
        label=_("Grade"), choices=Grade.choices, method="filter_grade", empty_label=_("Any"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PatentKind.choices, empty_label=_("Any"))
    legal_status = django_filters.ChoiceFilter(
        label=_("Legal status"), choices=LegalStatus.choices, empty_label=_("Any"))
    filing_year_min = YearFilter(label=_("Filed from (year)"), field_name="filing_date", lookup_expr="year__gte",
                                 min_value=1900, max_value=2200)
    filing_year_max = YearFilter(label=_("Filed until (year)"), field_name="filing_date", lookup_expr="year__lte",
                                 min_value=1900, max_value=2200)
    min_remaining_years = YearFilter(label=_("Remaining life at least (years)"), method="filter_remaining_life",
                                     min_value=0, max_value=30)
    holder_kind = django_filters.ChoiceFilter(
        label=_("Holder kind"), field_name="holder__kind", choices=HOLDER_KIND_CHOICES, empty_label=_("Any"))
    region = django_filters.ChoiceFilter(
        label=_("Region"), field_name="holder__province", choices=[], empty_label=_("Any"))

    class Meta:
        model = Patent
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, today: date, per_holder: bool = False, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.today = today
        if per_holder:
            del self.filters["holder_kind"]
            del self.filters["region"]
        else:
            # Once per request: a callable would query again each time the form validates or renders.
            self.filters["region"].extra["choices"] = _region_choices()

    def filter_sector(self, queryset, name, value):
        return queryset.filter(technology_field__in=[f.number for f in FIELDS if f.sector.key == value])

    def filter_grade(self, queryset, name, value):
        return queryset.alias(effective_grade=effective_grade()).filter(effective_grade=value)

    def filter_remaining_life(self, queryset, name, value):
        return queryset.filter(expiry_date__gte=years_after(self.today, int(value)))


@dataclass(frozen=True)
class Bucket:
    """One bar: ``key`` is the value as exported, ``drill_query`` the query string that narrows the page to
    this bucket (None when no facet matches it)."""

    key: str
    label: str
    count: int
    share: float  # percent of all patents in the landscape
    width: int  # percent of the largest bucket of its breakdown: the bar's length
    drill_query: str | None = None
    name_en: str = ""
    name_zh: str = ""


@dataclass(frozen=True)
class Breakdown:
    id: str
    title: str
    buckets: list[Bucket]


@dataclass(frozen=True)
class Landscape:
    total: int
    by_field: Breakdown
    by_sector: Breakdown
    by_grade: Breakdown
    by_kind: Breakdown
    by_legal_status: Breakdown
    by_filing_year: Breakdown
    by_remaining_life: Breakdown
    top_ipc_subclasses: Breakdown
    top_holders: Breakdown | None  # only on the platform landscape
    filterset: LandscapeFilter

    @property
    def breakdowns(self) -> list[Breakdown]:
        charts = [self.by_field, self.by_sector, self.by_grade, self.by_kind, self.by_legal_status,
                  self.by_filing_year, self.by_remaining_life, self.top_ipc_subclasses, self.top_holders]
        return [b for b in charts if b is not None]

    @property
    def is_valid(self) -> bool:
        return self.filterset.is_valid()

    @property
    def applied_filters(self) -> dict[str, str]:
        """The facets in force, as cleaned (only valid values ever narrow the landscape)."""
        if not self.is_valid:
            return {}
        return {name: str(value) for name, value in self.filterset.form.cleaned_data.items()
                if value not in (None, "")}


class _Builder:
    def __init__(self, params: Mapping, total: int):
        self.params, self.total = params, total

    def drill(self, changes: Mapping[str, object]) -> str:
        query = QueryDict(mutable=True)
        for key, values in _lists(self.params):
            query.setlist(key, values)
        for key, value in changes.items():
            if value is None:
                query.pop(key, None)
            else:
                query[key] = str(value)
        return query.urlencode()

    def breakdown(self, id_, title, rows) -> Breakdown:
        """rows: (key, label, count, drill changes or None, name_en, name_zh)."""
        largest = max((row[2] for row in rows), default=0)
        buckets = [
            Bucket(key=str(key), label=label, count=count,
                   share=round(100 * count / self.total, 1) if self.total else 0.0,
                   width=round(100 * count / largest) if largest else 0,
                   drill_query=self.drill(changes) if changes is not None else None,
                   name_en=name_en, name_zh=name_zh)
            for key, label, count, changes, name_en, name_zh in rows
        ]
        return Breakdown(id=id_, title=title, buckets=buckets)


def _lists(params: Mapping) -> Iterator[tuple[str, list[str]]]:
    if hasattr(params, "lists"):
        yield from params.lists()
    else:
        for key, value in params.items():
            yield key, list(value) if isinstance(value, list | tuple) else [value]


def _counts(qs: QuerySet, expression) -> dict:
    return {row["bucket"]: row["n"] for row in qs.order_by().values(bucket=expression).annotate(n=Count("pk"))}


def landscape(*, patents_qs: QuerySet[Patent], params: Mapping, today: date, per_holder: bool = False) -> Landscape:
    """The landscape of ``patents_qs`` narrowed by the facets in ``params``.

    A constant number of aggregate queries, whatever the data size. Facets with invalid values are ignored
    (``Landscape.is_valid`` is then False and the form carries the errors). ``per_holder`` leaves out the
    holder facets and the top-holder ranking. Visibility is the caller's business: see
    ``user_can_view_holder_landscape``."""
    filterset = LandscapeFilter(params, queryset=patents_qs, today=today, per_holder=per_holder)
    qs = filterset.qs.order_by()

    life_bounds = [years_after(today, years) for years in REMAINING_LIFE_BOUNDS]
    # expiry_date is the last day in force (patents.inventory.term), so a patent expiring today is not yet expired.
    life_filters = [Q(expiry_date__lt=today), Q(expiry_date__gte=today, expiry_date__lt=life_bounds[0])]
    life_filters += [Q(expiry_date__gte=lo, expiry_date__lt=hi) for lo, hi in pairwise(life_bounds)]
    life_filters.append(Q(expiry_date__gte=life_bounds[-1]))
    summary = qs.aggregate(total=Count("pk"), **{f"life_{i}": Count("pk", filter=q) for i, q in enumerate(life_filters)})
    total = summary["total"]
    build = _Builder(params, total)

    field_counts = _counts(qs, F("technology_field"))
    field_rows = [
        (number, in_language(FIELDS_BY_NUMBER[number].name_en, FIELDS_BY_NUMBER[number].name_zh), count,
         {"technology_field": number}, FIELDS_BY_NUMBER[number].name_en, FIELDS_BY_NUMBER[number].name_zh)
        for number, count in sorted(field_counts.items(), key=lambda kv: (-kv[1], kv[0] or 0))
        if number in FIELDS_BY_NUMBER
    ]
    if field_counts.get(None):
        # Main IPC missing or outside WIPO's concordance: shown so the bars add up to the total.
        field_rows.append(("", _("Unclassified"), field_counts[None], None, "Unclassified", "未分类"))

    sector_counts = {s.key: 0 for s in SECTORS}
    for number, count in field_counts.items():
        if number in FIELDS_BY_NUMBER:
            sector_counts[FIELDS_BY_NUMBER[number].sector.key] += count
    # Choosing a sector drops a field from another sector, which would leave nothing to show.
    sector_rows = [(s.key, in_language(s.name_en, s.name_zh), sector_counts[s.key],
                    {"sector": s.key, "technology_field": None}, s.name_en, s.name_zh) for s in SECTORS]

    grade_counts = _counts(qs, effective_grade())
    kind_counts = _counts(qs, F("kind"))
    status_counts = _counts(qs, F("legal_status"))
    year_counts = _counts(qs, ExtractYear("filing_date"))

    life_labels = [_("Expired"), _("Under 2 years"), _("2-5 years"), _("5-10 years"), _("10-15 years"),
                   _("15 years or more")]
    life_keys = ["expired", "lt2", "2-5", "5-10", "10-15", "15+"]
    life_rows = [(key, label, summary[f"life_{i}"], None, "", "")
                 for i, (key, label) in enumerate(zip(life_keys, life_labels, strict=True))]

    ipc_rows = [
        (row["ipc_subclass"], row["ipc_subclass"], row["n"], None, "", "")
        for row in qs.exclude(ipc_subclass="").values("ipc_subclass").annotate(n=Count("pk"))
        .order_by("-n", "ipc_subclass")[:TOP_IPC_SUBCLASSES]
    ]

    top_holders = None
    if not per_holder:
        holders = (qs.values("holder__slug", "holder__name_zh", "holder__name_en").annotate(n=Count("pk"))
                   .order_by("-n", "holder__name_zh")[:TOP_HOLDERS])
        top_holders = build.breakdown("holders", _("Top holders"), [
            (h["holder__slug"], in_language(h["holder__name_en"], h["holder__name_zh"]), h["n"], None,
             h["holder__name_en"], h["holder__name_zh"]) for h in holders
        ])

    return Landscape(
        total=total,
        by_field=build.breakdown("technology_field", _("Technology fields"), field_rows),
        by_sector=build.breakdown("sector", _("Sectors"), sector_rows),
        by_grade=build.breakdown("grade", _("Grades"), [
            (g.value, g.label, grade_counts.get(g.value, 0), {"grade": g.value}, "", "") for g in Grade]),
        by_kind=build.breakdown("kind", _("Kinds"), [
            (k.value, k.label, kind_counts.get(k.value, 0), {"kind": k.value}, "", "") for k in PatentKind]),
        by_legal_status=build.breakdown("legal_status", _("Legal status"), [
            (s.value, s.label, status_counts.get(s.value, 0), {"legal_status": s.value}, "", "")
            for s in LegalStatus]),
        by_filing_year=build.breakdown("filing_year", _("Filing years"), [
            (year, str(year), count, {"filing_year_min": year, "filing_year_max": year}, "", "")
            for year, count in sorted(year_counts.items()) if year is not None]),
        by_remaining_life=build.breakdown("remaining_life", _("Remaining life"), life_rows),
        top_ipc_subclasses=build.breakdown("ipc_subclass", _("Top IPC subclasses"), ipc_rows),
        top_holders=top_holders,
        filterset=filterset,
    )


def platform_patents() -> QuerySet[Patent]:
    """Every inventoried patent on the platform (the public landscape shows only counts of them)."""
    return Patent.objects.all()


def holder_patents(*, holder: Organisation) -> QuerySet[Patent]:
    return Patent.objects.filter(holder=holder)


def user_can_view_holder_landscape(*, user: User, holder: Organisation) -> bool:
    """A holder's own landscape is private to its members, the IP office and superusers: the same people
    who see the holder's private profile, so the rule stays in one place."""
    return user_can_view_organisation(user=user, organisation=holder)
