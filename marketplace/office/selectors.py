"""The IP office's deal-rate dashboard: one FilterSet narrows the declarations (technology field, sector,
patent kind, holder kind, fee form, grade, region) and the period; marketplace.office.statistics computes the
figures from three statements and a groupby, closed months come from their snapshots, and the result is cached
per filter set (marketplace.office.cache); every table the page shows is also a pandas frame for the CSV/XLSX
export, whose money columns are in yuan and named so (``*_yuan``)."""

from __future__ import annotations

import functools
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
from licensing.models.licences import LicenceBasis
from marketplace.models import StatisticsSnapshot
from marketplace.office import aggregates, facts, monthly, statistics
from marketplace.office import cache as statistics_cache
from marketplace.parties.models import OrganisationKind, OrganisationSize
from marketplace.parties.runtime import collector_paused
from patents.inventory.fields import FIELDS, FIELDS_BY_NUMBER, SECTORS
from patents.models import Grade, PatentKind

DIMENSION_LABELS = {
    "technology_field": _("Technology field"), "sector": _("Sector"), "patent_kind": _("Patent kind"),
    "holder_kind": _("Holder kind"), "fee_form": _("Fee form"), "grade": _("Grade"), "region": _("Region"),
    "basis": _("Licence basis"), "licensee_size": _("Licensee size"), "licensee_region": _("Licensee's region"),
    "licensee_locality": _("Licensee local or out-of-province"),
}
# Column → label, in the order the tables show them.
INDICATOR_LABELS = {
    "declarations_published": _("Declarations filed at CNIPA"),
    "declarations_withdrawn": _("Declarations withdrawn"),
    "declarations_announced": _("Declarations announced by CNIPA"),
    "patents_under_open_licence": _("Patents under open licence (end of period)"),
    "licences_concluded": _("Licences concluded"),
    "licences_free": _("of which free (no fee of any kind)"),
    "licences_paid": _("of which paid up front"),
    "licences_statutory": _("of which statutory open licences (declaration announced)"),
    "free_licence_share": _("Free-licence share"),
    "fee_volume_fen": _("Fee volume (RMB)"),
    "voucher_paid_fen": _("of which paid by innovation vouchers (RMB)"),
    "voucher_share_of_fee_volume": _("Share of the fee volume paid by vouchers"),
    "quick_licence_deal_rate": _("Quick-licence deal rate"),
    "overall_conversion": _("Deal rate: licence concluded on the platform"),
    "deal_rate_recorded": _("Deal rate: licence recorded at CNIPA"),
    "deal_rate_announced": _("Deal rate of announced declarations: statutory licence concluded"),
    "deal_rate_announced_recorded": _("Deal rate of announced declarations: statutory licence recorded"),
    "median_days_to_first_licence": _("Median days to first licence"),
    "p90_days_to_first_licence": _("90th percentile days to first licence"),
    "median_days_notice_to_payment": _("Median days from notice to payment"),
    "recording_compliance": _("Recorded within 3 months"),
    "licensed_patents": _("Patents licensed"),
    "licences_per_licensed_patent": _("Licences per licensed patent"),
    "multi_licensee_share": _("Licensed patents with two or more licensees"),
    "fee_reduction_granted_fen": _("Annual-fee reduction granted for open licences (RMB)"),
    "fee_reduction_patents": _("Patents whose annual fees were reduced"),
    "vouchers_issued": _("Innovation vouchers issued"),
    "vouchers_issued_fen": _("Vouchers issued (RMB)"),
    "vouchers_lapsed": _("Vouchers lapsed with a balance"),
    "vouchers_lapsed_fen": _("Voucher balance lapsed (RMB)"),
}
SHARES = statistics.SHARE_FIGURES
# Market-wide figures: vouchers belong to licensees, not to declarations, so no filter narrows them (a
# narrowed board shows them as "—").
MARKET_WIDE = ("vouchers_issued", "vouchers_issued_fen", "vouchers_lapsed", "vouchers_lapsed_fen")
FUNNEL_LABELS = {
    "inventoried": _("Inventoried"), "good_prospects": _("Graded A-B (good prospects)"),
    "declared": _("Declared (filed)"), "announced": _("Announced by CNIPA"), "licensed": _("Licensed"),
    "recorded": _("Recorded"),
}
LEAGUE_LABELS = {
    "declarations_published": _("Declarations published"), "licensed_patents": _("Patents licensed"),
    "licences_concluded": _("Licences concluded"), "fee_volume_fen": _("Licence value (RMB)"),
    "deal_rate": _("Deal rate"),
}
# How many rows of the long tables the page shows (the exports have them all).
PAGE_ROWS = 20
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
    if dimension == "patent_kind":
        return str(dict(PatentKind.choices).get(value, value))
    if dimension == "basis":
        return str(dict(LicenceBasis.choices).get(value, value))
    if dimension == "licensee_size":
        return str(dict(OrganisationSize.choices).get(value, value))
    if dimension == "licensee_locality":
        return str(locality_label(value))
    return str(value)


def locality_label(value: str) -> str:
    if value == statistics.LOCAL:
        return _("Local (%(region)s)") % {"region": statistics.home_region()}
    if value == statistics.OUT_OF_PROVINCE:
        return _("Out of province")
    return _("Not stated")


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
        choices=lambda: [("", _("Any"))] + [(f.number, f"{f.number}. {f.name_en if _english() else f.name_zh}")
                                               for f in FIELDS])
    sector = django_filters.ChoiceFilter(
        method="filter_sector", label=_("Sector"),
        choices=lambda: [(s.key, s.name_en if _english() else s.name_zh) for s in SECTORS])
    holder_kind = django_filters.ChoiceFilter(
        field_name="holder__kind", label=_("Holder kind"),
        choices=[c for c in OrganisationKind.choices if c[0] != OrganisationKind.IP_OFFICE])
    patent_kind = django_filters.ChoiceFilter(field_name="patent__kind", choices=PatentKind.choices,
                                              label=_("Patent kind"))
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
    narrowed: bool = False
    league: list[dict] = field(default_factory=list)
    flows: list[dict] = field(default_factory=list)
    withdrawals: list[dict] = field(default_factory=list)
    funnel: list[dict] = field(default_factory=list)
    funnel_totals: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.period is not None


def _months(first: date, last: date):
    month = first
    while month <= last:
        yield month
        month += relativedelta(months=1)


def _compute(*, period: statistics.Period, first: date, last: date, by: str, n_days: int, as_of: datetime,
             declarations, store_closed_months: bool, filters: dict | None = None) -> dict:
    """The figures of one filter set: three statements read the rows the period needs (narrowed in SQL by
    ``declarations``, a queryset, or None), pandas groups them once for the figures and once for the
    breakdown; the trend's months come from their snapshots where they may (nothing narrows the figures),
    the others from the same frames. A closed month without a snapshot is stored once
    (``store_closed_months``) rather than computed on every request."""
    with collector_paused():
        return _compute_figures(period=period, first=first, last=last, by=by, n_days=n_days, as_of=as_of,
                                declarations=declarations, store_closed_months=store_closed_months, filters=filters)


def _compute_figures(*, period: statistics.Period, first: date, last: date, by: str, n_days: int, as_of: datetime,
                     declarations, store_closed_months: bool, filters: dict | None) -> dict:
    if facts.facts_built():
        return _compute_from_facts(period=period, first=first, last=last, by=by, n_days=n_days, as_of=as_of,
                                   declarations=declarations, store_closed_months=store_closed_months,
                                   filters=filters or {})
    frames = statistics.Frames.load(period=period, declarations=declarations)
    figures = statistics.indicators(frames, period, as_of=as_of, n_days=n_days)
    vouchers = statistics.voucher_months(period, as_of=as_of) if declarations is None else {}
    figures.update(statistics.voucher_figures(vouchers) if declarations is None else dict.fromkeys(MARKET_WIDE))
    figures.update(statistics.fee_reduction_granted(period, as_of=as_of, declarations=declarations))
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
            live = statistics.indicators(frames, month_period, as_of=as_of, n_days=n_days)
            trend.append(TrendRow(f"{month:%Y-%m}", {**live, **vouchers.get(f"{month:%Y-%m}", {})}, False))
    return {"figures": figures, "breakdown": breakdown, "trend": trend, "as_of": as_of,
            "league": statistics.named(statistics.league_table(frames, period, as_of=as_of)),
            "flows": statistics.flow_table(frames, period),
            "withdrawals": statistics.withdrawal_reasons(period, declarations=declarations)}


def _compute_from_facts(*, period: statistics.Period, first: date, last: date, by: str, n_days: int,
                        as_of: datetime, declarations, store_closed_months: bool, filters: dict) -> dict:
    """``_compute`` from the statistics facts (the same figures): the period's figures, its breakdown, and the
    trend's months that have no snapshot in one grouped pass; from the month aggregates (marketplace.office.
    monthly) when at most one filter narrows the board, else from the facts of the period (aggregates.Window)."""
    rows = aggregates.Facts(filters if declarations is not None else None)
    # The declarations the filters keep, as their facts (their primary key is the declaration's, and they carry
    # its patent): a narrow table to test membership against, where the FilterSet's queryset joins three.
    narrowed_to = rows.declarations if declarations is not None else None
    kwargs = {"as_of": as_of, "n_days": n_days}
    narrowing = filters if declarations is not None else None
    if monthly.usable(narrowing, period):  # a few hundred month aggregates rather than every fact of the period
        window = monthly.MonthlyWindow.read(narrowing, period, by=by, **kwargs)
    else:
        window = aggregates.Window.read(rows, period, dimensions=[by], **kwargs)
    figures = window.grouped(None)[statistics.ALL]
    vouchers = statistics.voucher_months(period, as_of=as_of) if declarations is None else {}
    figures.update(statistics.voucher_figures(vouchers) if declarations is None else dict.fromkeys(MARKET_WIDE))
    figures.update(statistics.fee_reduction_granted(period, as_of=as_of, declarations=narrowed_to))
    snapshots = {} if declarations is not None else {
        s.month: s for s in StatisticsSnapshot.objects.filter(quick_licence_days=n_days, month__gte=first,
                                                               month__lte=last)}
    for month in _months(first, last):
        month_period = statistics.Period.month(month.year, month.month)
        if (month not in snapshots and store_closed_months and declarations is None and month_period.end <= as_of
                and n_days == statistics.quick_licence_days()):
            snapshots[month], _created = statistics.snapshot_month(
                year=month.year, month=month.month, as_of=as_of, publish=False, n_days=n_days,
                read_window=functools.partial(aggregates.Window.read, rows))
    live_months = [f"{month:%Y-%m}" for month in _months(first, last) if month not in snapshots]
    live = window.grouped(aggregates.MONTH, live_months) if live_months else {}
    trend = []
    for month in _months(first, last):
        label = f"{month:%Y-%m}"
        snapshot = snapshots.get(month)
        if snapshot is not None:
            trend.append(TrendRow(label, snapshot.indicators, statistics.snapshot_is_published(snapshot)))
        else:
            trend.append(TrendRow(label, {**live[label], **vouchers.get(label, {})}, False))
    return {"figures": figures, "breakdown": window.breakdown(by), "trend": trend, "as_of": as_of,
            "league": statistics.named(window.league()), "flows": window.flows(),
            "withdrawals": statistics.withdrawal_reasons(period, declarations=narrowed_to)}


def _funnel(as_of: datetime, *, live: bool) -> list[dict]:
    """Every holder's inventory funnel: market-wide (the filters narrow declarations, the funnel starts with
    the inventory), so cached once for every filter set."""
    key = {"table": "funnel", "as_of": timezone.localdate(as_of) if live else as_of}
    def compute():
        with collector_paused():
            return statistics.named(statistics.inventory_funnel(as_of=as_of, from_facts=facts.facts_built()))

    return statistics_cache.cached(key, compute)


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
        declarations=filterset.qs if narrowed else None, store_closed_months=live,
        filters=filterset.form.cleaned_data if narrowed else None))
    result.figures, result.trend, result.as_of = computed["figures"], computed["trend"], computed["as_of"]
    result.breakdown = [{**row, "label": dimension_value_label(result.by, row["value"])}
                        for row in computed["breakdown"]]
    result.narrowed = narrowed
    result.league, result.flows, result.withdrawals = computed["league"], computed["flows"], computed["withdrawals"]
    result.funnel = _funnel(as_of, live=live)
    result.funnel_totals = statistics.funnel_totals(result.funnel)
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


def export_name(key: str) -> str:
    """A column's name in the exports: money is exported in yuan, and named so (``fee_volume_fen`` holds fen
    in the figures and becomes ``fee_volume_yuan``)."""
    return f"{key.removesuffix('_fen')}_yuan" if key.endswith("_fen") else key


def _display(column: str, value):
    if value is None:
        return None
    if column.endswith("_fen"):  # fen → yuan, an exact Decimal (a number in XLSX, "1900.00" in CSV)
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))
    return value


def _columns(keys) -> list[str]:
    return [export_name(key) for key in keys]


def _row(source: dict, keys) -> dict:
    return {export_name(key): _display(key, source.get(key)) for key in keys}


def figures_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": export_name(key), "label": str(label),
                          "value": _display(key, board.figures.get(key))} for key, label in INDICATOR_LABELS.items()],
                        columns=["indicator", "label", "value"])


def breakdown_frame(board: Dashboard) -> pd.DataFrame:
    keys = [key for key in INDICATOR_LABELS if key not in MARKET_WIDE]
    return pd.DataFrame([{board.by: row["value"], "label": row["label"], **_row(row, keys)} for row in board.breakdown],
                        columns=[board.by, "label", *_columns(keys)])


def trend_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame([{"month": row.month, "published_snapshot": row.published, **_row(row.figures, INDICATOR_LABELS)}
                         for row in board.trend], columns=["month", "published_snapshot", *_columns(INDICATOR_LABELS)])


def league_frame(board: Dashboard) -> pd.DataFrame:
    keys = ["declarations_published", "licensed_patents", "licences_concluded", "fee_volume_fen", "deal_rate"]
    return pd.DataFrame([{"holder": row["name_zh"], "holder_en": row["name_en"], "holder_kind": row["holder_kind"],
                          **_row(row, keys)} for row in board.league],
                        columns=["holder", "holder_en", "holder_kind", *_columns(keys)])


def flows_frame(board: Dashboard) -> pd.DataFrame:
    keys = ["licences_concluded", "fee_volume_fen"]
    return pd.DataFrame([{"licensor_region": row["licensor_region"], "licensee_region": row["licensee_region"],
                          "licensee_locality": row["licensee_locality"], **_row(row, keys)} for row in board.flows],
                        columns=["licensor_region", "licensee_region", "licensee_locality", *_columns(keys)])


def funnel_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame([{"holder": row["name_zh"], "holder_en": row["name_en"], **_row(row, statistics.FUNNEL_STAGES)}
                         for row in board.funnel], columns=["holder", "holder_en", *statistics.FUNNEL_STAGES])


def withdrawals_frame(board: Dashboard) -> pd.DataFrame:
    return pd.DataFrame(board.withdrawals, columns=["reason", "withdrawals"])


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

