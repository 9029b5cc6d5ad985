"""The IP office's deal-rate dashboard: one FilterSet narrows the declarations (technology field, sector,
holder kind, fee form, grade, region) and the period; marketplace.office.statistics computes the figures from
three statements and a groupby, closed months come from their snapshots, and the result is cached per filter
set (marketplace.office.cache); every table the page shows is also a pandas frame for the CSV/XLSX export."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import django_filters
import pandas as pd
from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from licensing.models import Declaration, FeeForm
from marketplace.models import StatisticsSnapshot
from marketplace.office import cache as statistics_cache
from marketplace.office import statistics
from marketplace.parties.models import OrganisationKind
from patents.inventory.fields import FIELDS, FIELDS_BY_NUMBER, SECTORS
from patents.models import Grade

DIMENSION_LABELS = {
    "technology_field": _("Technology field"), "sector": _("Sector"), "holder_kind": _("Holder kind"),
    "fee_form": _("Fee form"), "grade": _("Grade"), "region": _("Region"),
}
# Column → label, in the order the tables show them.
INDICATOR_LABELS = {
    "declarations_published": _("Declarations published"),
    "declarations_withdrawn": _("Declarations withdrawn"),
    "patents_under_open_licence": _("Patents under open licence (end of period)"),
    "licences_concluded": _("Licences concluded"),
    "licences_free": _("of which free"),
    "licences_paid": _("of which paid"),
    "fee_volume_fen": _("Fee volume (RMB)"),
    "quick_licence_deal_rate": _("Quick-licence deal rate"),
    "overall_conversion": _("Overall conversion"),
    "median_days_to_first_licence": _("Median days to first licence"),
    "p90_days_to_first_licence": _("90th percentile days to first licence"),
    "median_days_notice_to_payment": _("Median days from notice to payment"),
    "recording_compliance": _("Recorded within 3 months"),
    "licences_per_licensed_patent": _("Licences per licensed patent"),
}
SHARES = {"quick_licence_deal_rate", "overall_conversion", "recording_compliance"}
MAX_MONTHS = 36
MIN_QUICK_DAYS, MAX_QUICK_DAYS = 1, 3650  # the "quick licence" window, declared in the OpenAPI schema too


def _english() -> bool:
    return (get_language() or "").startswith("en")


def dimension_value_label(dimension: str, value) -> str:
    if value in (None, ""):
        return str(_("Not stated"))
    if dimension == "technology_field":
        f = FIELDS_BY_NUMBER.get(int(value))
        return f"{value}. {(f.name_en if _english() else f.name_zh)}" if f else str(value)
    if dimension == "sector":
        s = next((s for s in SECTORS if s.key == value), None)
        return (s.name_en if _english() else s.name_zh) if s else str(value)
    if dimension == "holder_kind":
        return str(dict(OrganisationKind.choices).get(value, value))
    if dimension == "fee_form":
        return str(dict(FeeForm.choices).get(value, value))
    return str(value)


# The months a period may name: from the first year of Chinese patent law to a horizon far from the limits of
# `date` (a period's end is the month after its last; "9999-12" overflowed into a 500).
FIRST_YEAR, LAST_YEAR = 1985, 2100
MONTH_PATTERN = r"^(198[5-9]|199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"


class MonthField(forms.DateField):
    """YYYY-MM exactly (the OpenAPI schema declares MONTH_PATTERN), within FIRST_YEAR..LAST_YEAR."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, str) and not re.fullmatch(MONTH_PATTERN, value):
            raise forms.ValidationError(
                _("Enter a month as YYYY-MM, from %(first)s-01 to %(last)s-12.") % {"first": FIRST_YEAR,
                                                                                      "last": LAST_YEAR},
                code="invalid")
        return super().to_python(value)


def _month_field(label):
    return MonthField(label=label, required=False)


class StatisticsFilter(django_filters.FilterSet):
    """Which declarations the figures cover (their licences and payments follow them)."""

    technology_field = django_filters.TypedChoiceFilter(
        field_name="patent__technology_field", coerce=int, label=_("Technology field"),
        # TypedChoiceFilter has no empty choice of its own: without one the form's select would always send a field.
        choices=lambda: [("", "---------")] + [(f.number, f"{f.number}. {f.name_en if _english() else f.name_zh}")
                                               for f in FIELDS])
    sector = django_filters.ChoiceFilter(
        method="filter_sector", label=_("Sector"),
        choices=lambda: [(s.key, s.name_en if _english() else s.name_zh) for s in SECTORS])
    holder_kind = django_filters.ChoiceFilter(
        field_name="holder__kind", label=_("Holder kind"),
        choices=[c for c in OrganisationKind.choices if c[0] != OrganisationKind.IP_OFFICE])
    fee_form = django_filters.ChoiceFilter(field_name="fee_form", choices=FeeForm.choices, label=_("Fee form"))
    grade = django_filters.ChoiceFilter(method="filter_grade", choices=Grade.choices, label=_("Grade"))
    region = django_filters.CharFilter(field_name="holder__province", label=_("Region"))

    class Meta:
        model = Declaration
        fields: list = []

    def filter_sector(self, queryset, name, value):
        return queryset.filter(patent__technology_field__in=[f.number for f in FIELDS if f.sector.key == value])

    def filter_grade(self, queryset, name, value):
        return queryset.filter(Q(patent__grade_override=value) | Q(patent__grade_override="", patent__grade_computed=value))

    @property
    def narrowed(self) -> bool:
        return any(v not in (None, "") for v in self.form.cleaned_data.values())


class PeriodForm(forms.Form):
    first = _month_field(_("From month"))
    last = _month_field(_("To month"))
    days = forms.IntegerField(label=_("Quick licence within (days)"), required=False, min_value=MIN_QUICK_DAYS,
                              max_value=MAX_QUICK_DAYS)
    by = forms.ChoiceField(label=_("Break down by"), required=False, choices=list(DIMENSION_LABELS.items()))

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        last = data.get("last") or today
        first = data.get("first") or (last.replace(day=1) - relativedelta(months=11))
        if first > last:
            self.add_error("first", _("The first month is after the last one."))
        elif (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
            self.add_error("first", _("Choose at most %(n)s months.") % {"n": MAX_MONTHS})
        data["first"], data["last"] = first.replace(day=1), last.replace(day=1)
        data["days"] = data.get("days") or statistics.quick_licence_days()
        data["by"] = data.get("by") or "technology_field"
        return data


@dataclass
class TrendRow:
    month: str
    figures: dict
    published: bool  # from the month's published snapshot, or computed live


@dataclass
class Dashboard:
    filterset: StatisticsFilter
    period_form: PeriodForm
    period: statistics.Period | None = None
    figures: dict = field(default_factory=dict)
    by: str = "technology_field"
    breakdown: list[dict] = field(default_factory=list)
    trend: list[TrendRow] = field(default_factory=list)
    as_of: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.period is not None


def _months(first: date, last: date):
    month = first
    while month <= last:
        yield month
        month += relativedelta(months=1)


def _compute(*, period: statistics.Period, first: date, last: date, by: str, n_days: int, as_of: datetime,
             declarations, store_closed_months: bool) -> dict:
    """The figures of one filter set: three statements read the rows the period needs (narrowed in SQL by
    ``declarations``, a queryset, or None), pandas groups them once for the figures and once for the
    breakdown; the trend's months come from their snapshots where they may (nothing narrows the figures),
    the others from the same frames. A closed month without a snapshot is stored once
    (``store_closed_months``) rather than computed on every request."""
    frames = statistics.Frames.load(period=period, declarations=declarations)
    figures = statistics.indicators(frames, period, as_of=as_of, n_days=n_days)
    breakdown = statistics.breakdown(frames, period, by, as_of=as_of, n_days=n_days)
    snapshots = {} if declarations is not None else {
        s.month: s for s in StatisticsSnapshot.objects.filter(quick_licence_days=n_days, month__gte=first,
                                                               month__lte=last)}
    trend = []
    for month in _months(first, last):
        month_period = statistics.Period.month(month.year, month.month)
        snapshot = snapshots.get(month)
        if (snapshot is None and store_closed_months and declarations is None and month_period.end <= as_of
                and n_days == statistics.quick_licence_days()):
            snapshot, _created = statistics.snapshot_month(year=month.year, month=month.month, as_of=as_of,
                                                           publish=False, frames=frames, n_days=n_days)
        if snapshot is not None:
            trend.append(TrendRow(f"{month:%Y-%m}", snapshot.indicators, statistics.snapshot_is_published(snapshot)))
        else:
            trend.append(TrendRow(f"{month:%Y-%m}", statistics.indicators(frames, month_period, as_of=as_of,
                                                                          n_days=n_days), False))
    return {"figures": figures, "breakdown": breakdown, "trend": trend, "as_of": as_of}


def dashboard(*, params, as_of: datetime | None = None) -> Dashboard:
    """The dashboard for a query string: figures for the period, the breakdown by one dimension, and the
    monthly trend (snapshots for closed months where nothing narrows the figures; live otherwise). Cached per
    normalised filter set until licences, declarations, payments, grades or holders change
    (marketplace.office.cache); ``as_of`` (default now) as a date for the live board, exactly otherwise."""
    live = as_of is None
    as_of = as_of or timezone.now()
    filterset = StatisticsFilter(params or None, queryset=Declaration.objects.filter(filed_at__isnull=False))
    period_form = PeriodForm(params if params is not None else {})
    result = Dashboard(filterset=filterset, period_form=period_form, as_of=as_of)
    if not period_form.is_valid() or (filterset.is_bound and not filterset.is_valid()):
        return result
    cleaned = period_form.cleaned_data
    narrowed = filterset.is_bound and filterset.narrowed
    first, last, n_days, result.by = cleaned["first"], cleaned["last"], cleaned["days"], cleaned["by"]
    result.period = statistics.Period.months(first, last)
    key = {"filters": {name: value for name, value in sorted(filterset.form.cleaned_data.items())
                       if value not in (None, "")} if narrowed else {},
           "first": first, "last": last, "days": n_days, "by": result.by,
           "as_of": timezone.localdate(as_of) if live else as_of}
    computed = statistics_cache.cached(key, lambda: _compute(
        period=result.period, first=first, last=last, by=result.by, n_days=n_days, as_of=as_of,
        declarations=filterset.qs if narrowed else None, store_closed_months=live))
    result.figures, result.trend, result.as_of = computed["figures"], computed["trend"], computed["as_of"]
    result.breakdown = [{**row, "label": dimension_value_label(result.by, row["value"])}
                        for row in computed["breakdown"]]
    return result


@dataclass
class DrillRow:
    declaration: Declaration
    first_licence_at: datetime | None
    days_to_first_licence: float | None
    quick: bool
    licences: int


def drill_down(*, params, as_of: datetime | None = None) -> tuple[Dashboard, list[DrillRow]]:
    """The declarations behind the figures: published in the period, narrowed by the filters, each with its
    first licence and whether it counted as a quick licence."""
    from django.db.models import Count, Min

    board = Dashboard(filterset=StatisticsFilter(params or None, queryset=Declaration.objects.filter(
        filed_at__isnull=False)), period_form=PeriodForm(params if params is not None else {}))
    if not board.period_form.is_valid() or (board.filterset.is_bound and not board.filterset.is_valid()):
        return board, []
    cleaned = board.period_form.cleaned_data
    board.period = statistics.Period.months(cleaned["first"], cleaned["last"])
    as_of = as_of or timezone.now()
    declarations = (board.filterset.qs.filter(filed_at__gte=board.period.start, filed_at__lt=board.period.end)
                    .select_related("patent", "holder")
                    .annotate(first_licence_at=Min("licences__activated_at", filter=Q(licences__activated_at__lte=as_of)),
                              licence_count=Count("licences", filter=Q(licences__activated_at__isnull=False)))
                    .order_by("filed_at", "pk"))
    rows = []
    for d in declarations:
        days = (d.first_licence_at - d.filed_at).total_seconds() / 86400 if d.first_licence_at else None
        rows.append(DrillRow(d, d.first_licence_at, round(days, 1) if days is not None else None,
                             days is not None and days <= cleaned["days"], d.licence_count))
    return board, rows


# ------------------------------------------------------------------------------------------------ exports


def _display(column: str, value):
    if value is None:
        return None
    if column == "fee_volume_fen":  # fen → yuan as an exact decimal string
        return str((Decimal(int(value)) / 100).quantize(Decimal("0.01")))
    return value


def figures_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": key, "label": str(label), "value": _display(key, board.figures.get(key))}
                         for key, label in INDICATOR_LABELS.items()])


def breakdown_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame([{board.by: row["value"], "label": row["label"],
                          **{key: _display(key, row.get(key)) for key in INDICATOR_LABELS}} for row in board.breakdown],
                        columns=[board.by, "label", *INDICATOR_LABELS])


def trend_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame([{"month": row.month, "published_snapshot": row.published,
                          **{key: _display(key, row.figures.get(key)) for key in INDICATOR_LABELS}}
                         for row in board.trend], columns=["month", "published_snapshot", *INDICATOR_LABELS])


def drill_frame(rows: list[DrillRow]) -> pd.DataFrame:
    return pd.DataFrame([{
        "announcement_number": r.declaration.cnipa_number, "patent_number": r.declaration.patent.number,
        "title": r.declaration.patent.title, "holder": r.declaration.holder.name_zh,
        "fee_form": r.declaration.fee_form,
        "filed_at": timezone.localtime(r.declaration.filed_at).isoformat(),
        "first_licence_at": timezone.localtime(r.first_licence_at).isoformat() if r.first_licence_at else "",
        "days_to_first_licence": r.days_to_first_licence, "quick_licence": r.quick, "licences": r.licences,
    } for r in rows], columns=["announcement_number", "patent_number", "title", "holder", "fee_form", "filed_at",
                               "first_licence_at", "days_to_first_licence", "quick_licence", "licences"])

