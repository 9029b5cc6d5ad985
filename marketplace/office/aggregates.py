"""The dashboard's figures as grouped SQL over the statistics facts (marketplace.models.statistics): every
indicator of marketplace.office.statistics.grouped_indicators, with its definitions, for the totals, a breakdown
by one dimension or the months of a trend, each measure counted by the database (one statement per table and
anchor: declarations by publication, withdrawal and announcement, licences and payments by their month) instead
of pandas over every row. The quantiles read only the days of the rows they rank (the licensed cohort, the paid
licences of the period) and rank them with numpy as the pandas computation does, so that the figures are the
same to the digit (tests/marketplace/test_statistics_facts.py compares both on random markets).

A group is ``key``: None (the totals, under statistics.ALL), a dimension (statistics.DIMENSIONS), or MONTH (each
measure in the month of its own event, YYYY-MM: what ``indicators`` gives for each month of a trend)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.db.models import Case, CharField, Count, F, Min, Q, Sum, Value, When
from django.utils import timezone

from licensing.models.licences import LicenceBasis
from marketplace.office import statistics
from marketplace.office.statistics import ALL, LICENSEE_DIMENSIONS, Period

MONTH = "month"
# What the office's FilterSet narrows, as columns of a declaration's facts.
FILTER_COLUMNS = {"technology_field": "technology_field", "sector": "sector", "holder_kind": "holder_kind",
                  "patent_kind": "patent_kind", "fee_form": "fee_form", "grade": "grade", "region": "region"}


def declaration_filter(filters: dict) -> Q:
    """The FilterSet's cleaned values as a condition on DeclarationFact (technology field, sector, holder kind,
    patent kind, fee form, grade, region: the declaration's own, as StatisticsFilter reads them)."""
    condition = Q()
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name not in FILTER_COLUMNS:
            raise ValueError(f"unknown filter {name!r}")
        condition &= Q(**{FILTER_COLUMNS[name]: value})
    return condition


class Facts:
    """The facts a board counts: every fact, or (``filters``) those of the declarations the filters keep and
    of their licences and payments."""

    def __init__(self, filters: dict | None = None):
        from marketplace.models import DeclarationFact, LicenceFact, PaymentFact

        self.narrowed = bool(filters and any(v not in (None, "") for v in filters.values()))
        self.declarations = DeclarationFact.objects.order_by()
        self.licences = LicenceFact.objects.order_by()
        self.payments = PaymentFact.objects.order_by()
        if self.narrowed:
            self.declarations = self.declarations.filter(declaration_filter(filters))
            kept = self.declarations.values("declaration_id")
            self.licences = self.licences.filter(declaration_id__in=kept)
            self.payments = self.payments.filter(declaration_id__in=kept)


def _locality():
    home = statistics.province_key(statistics.home_region())
    return Case(When(licensee_province="", then=Value("")), When(licensee_province=home, then=Value(statistics.LOCAL)),
                default=Value(statistics.OUT_OF_PROVINCE), output_field=CharField())


def _grouped(rows, key: str | None, month_column: str, **measures) -> dict:
    """{group value: {measure: value}} of ``rows`` grouped by ``key`` (None: one group, MONTH: ``month_column``)."""
    if key is None:
        return {ALL: rows.aggregate(**measures)}
    expression = F(month_column) if key == MONTH else (_locality() if key == "licensee_locality" else F(key))
    result = {}
    for row in rows.annotate(_g=expression).values("_g").annotate(**measures).order_by():
        group = row.pop("_g")
        if group is None:
            continue
        result[group] = row
    return result


def _values(rows, key: str | None, month_column: str, column: str) -> dict:
    """{group value: numpy array of ``column``} (the rows a quantile ranks)."""
    group = (Value(ALL, output_field=CharField()) if key is None else F(month_column) if key == MONTH
             else _locality() if key == "licensee_locality" else F(key))
    frame = pd.DataFrame.from_records(list(rows.annotate(_g=group).values_list("_g", column)), columns=["g", "v"])
    frame = frame.dropna()
    return {g: values.to_numpy(dtype=float) for g, values in frame.groupby("g", sort=False)["v"]}


def _quantile(values, q: float):
    return round(float(np.quantile(values, q)), 1) if values is not None and len(values) else None


def _second_licensee_months(facts: Facts, concluded) -> pd.Series:
    """For a narrowed board: the month each patent licensed in the window had its second distinct licensee among
    the licences the filters keep (the stored month counts every licence of the patent)."""
    firsts = pd.DataFrame.from_records(list(
        facts.licences.filter(patent_id__in=concluded.values("patent_id")).values("patent_id", "licensee_id")
        .annotate(first_at=Min("activated_at"), month=Min("activated_month"))
        .values_list("patent_id", "licensee_id", "first_at", "month")),
        columns=["patent_id", "licensee_id", "first_at", "month"])
    if firsts.empty:
        return pd.Series(dtype=object)
    firsts = firsts.sort_values(["patent_id", "first_at", "licensee_id"])
    return firsts[firsts.groupby("patent_id").cumcount() == 1].set_index("patent_id")["month"]


def _multi_licensee(facts: Facts, concluded, key: str | None, last_month: str) -> tuple[dict, dict]:
    """Per group: patents licensed (concluded in the window) and those of them with two or more distinct
    licensees by the end of the period (MONTH: by the end of each month)."""
    if not facts.narrowed:
        condition = (Q(second_licensee_month__lte=F("activated_month")) if key == MONTH
                     else Q(second_licensee_month__lte=last_month))
        condition &= ~Q(second_licensee_month="")
        grouped = _grouped(concluded, key, "activated_month", patents=Count("patent_id", distinct=True),
                           multi=Count("patent_id", distinct=True, filter=condition))
        return ({g: row["patents"] for g, row in grouped.items()},
                {g: row["multi"] or 0 for g, row in grouped.items()})
    group = (Value(ALL, output_field=CharField()) if key is None else F("activated_month") if key == MONTH
             else _locality() if key == "licensee_locality" else F(key))
    pairs = pd.DataFrame.from_records(list(concluded.annotate(_g=group).values_list("_g", "patent_id").distinct()),
                                      columns=["g", "patent_id"]).dropna()
    if pairs.empty:
        return {}, {}
    second = _second_licensee_months(facts, concluded)
    months = pairs["patent_id"].map(second).astype(object)
    by = pairs["g"] if key == MONTH else pd.Series(last_month, index=pairs.index)
    multi = months.notna() & (months.where(months.notna(), "") <= by)
    return pairs.groupby("g", sort=False).size().to_dict(), multi.groupby(pairs["g"], sort=False).sum().to_dict()


def _open_patents(facts: Facts, key: str | None, months: list[str]) -> dict:
    """Distinct patents under open licence at the end of the period (MONTH: of each month): published by then
    and not withdrawn by then."""
    d = facts.declarations
    if key != MONTH:
        last = months[-1]
        rows = d.filter(filed_month__lte=last).filter(Q(withdrawn_month="") | Q(withdrawn_month__gt=last))
        return {g: row["n"] for g, row in _grouped(rows, key, "", n=Count("patent_id", distinct=True)).items()}
    result = {}
    for month in months:
        rows = d.filter(filed_month__lte=month).filter(Q(withdrawn_month="") | Q(withdrawn_month__gt=month))
        result[month] = rows.aggregate(n=Count("patent_id", distinct=True))["n"]
    return result


def grouped_figures(facts: Facts, period: Period, key: str | None = None, *, as_of: datetime | None = None,
                    n_days: int | None = None) -> dict:
    """statistics.grouped_indicators computed from the facts: {group value: figures}."""
    as_of = as_of or timezone.now()
    n_days = n_days or statistics.quick_licence_days()
    as_of_day = timezone.localdate(as_of)
    first_day, after_last = timezone.localdate(period.start), timezone.localdate(period.end)
    months = _month_labels(first_day, after_last)
    declaration_key = None if key in LICENSEE_DIMENSIONS else key
    d, lic, pay = facts.declarations, facts.licences, facts.payments
    counts: dict[str, dict] = defaultdict(dict)

    def take(grouped: dict, **names):
        for group, row in grouped.items():
            for name, column in names.items():
                counts[name][group] = row[column] or 0

    quantiles: dict[str, dict] = {}
    if key not in LICENSEE_DIMENSIONS:
        cohort = d.filter(filed_at__gte=period.start, filed_at__lt=period.end)
        licensed = Q(first_licence_at__lte=as_of)
        take(_grouped(cohort, declaration_key, "filed_month", published=Count("pk"),
                      licensed=Count("pk", filter=licensed),
                      quick=Count("pk", filter=licensed & Q(days_to_first_licence__lte=n_days)),
                      recorded=Count("pk", filter=Q(first_recorded_on__lte=as_of_day))),
             published="published", licensed="licensed", quick="quick", recorded_deals="recorded")
        take(_grouped(d.filter(withdrawn_at__gte=period.start, withdrawn_at__lt=period.end), declaration_key,
                      "withdrawn_month", n=Count("pk")), withdrawn="n")
        take(_grouped(d.filter(announced_on__gte=first_day, announced_on__lt=after_last), declaration_key,
                      "announced_month", n=Count("pk"), deals=Count("pk", filter=Q(first_statutory_at__lte=as_of)),
                      recorded=Count("pk", filter=Q(first_statutory_recorded_on__lte=as_of_day))),
             announced="n", statutory_deals="deals", statutory_recorded="recorded")
        days = _values(cohort.filter(licensed), declaration_key, "filed_month", "days_to_first_licence")
        quantiles["median_first"] = {g: _quantile(v, 0.5) for g, v in days.items()}
        quantiles["p90_first"] = {g: _quantile(v, 0.9) for g, v in days.items()}
        open_patents = _open_patents(facts, declaration_key, months)
    else:
        open_patents = {}
    concluded = lic.filter(activated_at__gte=period.start, activated_at__lt=period.end)
    due = Q(recording_deadline__lte=as_of_day)
    take(_grouped(concluded, key, "activated_month", n=Count("pk"), free=Count("pk", filter=Q(free=True)),
                  paid=Count("pk", filter=Q(first_amount_fen__gt=0)),
                  statutory=Count("pk", filter=Q(basis=LicenceBasis.STATUTORY.value)), due=Count("pk", filter=due),
                  recorded=Count("pk", filter=due & Q(recorded_on__lte=F("recording_deadline")))),
         concluded="n", free="free", paid="paid", statutory="statutory", due="due", recorded="recorded")
    days = _values(concluded.filter(first_amount_fen__gt=0), key, "activated_month", "days_notice_to_payment")
    quantiles["median_payment"] = {g: _quantile(v, 0.5) for g, v in days.items()}
    licensed_patents, multi_licensee = _multi_licensee(facts, concluded, key, months[-1])
    fees = _grouped(pay.filter(succeeded_at__gte=period.start, succeeded_at__lt=period.end), key, "succeeded_month",
                    net=Sum("net_fen"), voucher=Sum("voucher_paid_fen"))
    take(fees, fee_volume="net", voucher_paid="voucher")

    groups = set(open_patents) | set(licensed_patents)
    for measure in counts.values():
        groups |= set(measure)
    if key is None:
        groups = {ALL}
    elif key == MONTH:
        groups = set(months)
    as_of_ts = pd.Timestamp(as_of)
    result = {}
    for group in groups:
        label, end = (period.label, pd.Timestamp(period.end))
        if key == MONTH:
            month_period = Period.month(int(group[:4]), int(group[5:7]))
            label, end = month_period.label, pd.Timestamp(month_period.end)

        def n(name, group=group):
            return int(counts[name].get(group, 0))

        concluded_n, patents_n = n("concluded"), int(licensed_patents.get(group, 0))
        fee_volume_fen, voucher_paid_fen = n("fee_volume"), n("voucher_paid")
        result[group] = {
            "period": label, "as_of": as_of.isoformat(), "quick_licence_days": n_days,
            "declarations_published": n("published"),
            "declarations_withdrawn": n("withdrawn"),
            "patents_under_open_licence": int(open_patents.get(group, 0) or 0),
            "licences_concluded": concluded_n,
            "licences_free": n("free"),
            "licences_paid": n("paid"),
            "free_licence_share": statistics._share(n("free"), concluded_n),
            "fee_volume_fen": fee_volume_fen,
            "voucher_paid_fen": voucher_paid_fen,
            "voucher_share_of_fee_volume": (statistics._share(voucher_paid_fen, fee_volume_fen)
                                            if fee_volume_fen > 0 else None),
            "quick_licence_deal_rate": statistics._share(n("quick"), n("published")),
            "quick_licence_rate_mature": bool(end + pd.Timedelta(days=n_days) <= as_of_ts),
            "overall_conversion": statistics._share(n("licensed"), n("published")),
            "deal_rate_recorded": statistics._share(n("recorded_deals"), n("published")),
            "declarations_announced": n("announced"),
            "deal_rate_announced": statistics._share(n("statutory_deals"), n("announced")),
            "deal_rate_announced_recorded": statistics._share(n("statutory_recorded"), n("announced")),
            "licences_statutory": n("statutory"),
            "median_days_to_first_licence": quantiles.get("median_first", {}).get(group),
            "p90_days_to_first_licence": quantiles.get("p90_first", {}).get(group),
            "median_days_notice_to_payment": quantiles["median_payment"].get(group),
            "recording_compliance": statistics._share(n("recorded"), n("due")),
            "licences_per_licensed_patent": (round(concluded_n / patents_n, 2) if concluded_n and patents_n else None),
            "licensed_patents": patents_n,
            "multi_licensee_share": statistics._share(int(multi_licensee.get(group, 0)), patents_n),
        }
    return result


def _month_labels(first_day: date, after_last: date) -> list[str]:
    labels, month = [], first_day.replace(day=1)
    while month < after_last:
        labels.append(f"{month:%Y-%m}")
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return labels


def figures(facts: Facts, period: Period, **kwargs) -> dict:
    """statistics.indicators from the facts."""
    return grouped_figures(facts, period, None, **kwargs)[ALL]


def breakdown(facts: Facts, period: Period, dimension: str, **kwargs) -> list[dict]:
    """statistics.breakdown from the facts: the values with something to show, largest cohort first."""
    if dimension not in statistics.DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(statistics.DIMENSIONS)}")
    rows = []
    for value, row in grouped_figures(facts, period, dimension, **kwargs).items():
        if value in (None, "") or not (row["declarations_published"] or row["licences_concluded"]
                                       or row["fee_volume_fen"] or row["patents_under_open_licence"]):
            continue
        rows.append({"value": int(value) if dimension == "technology_field" else str(value), **row})
    return sorted(rows, key=lambda r: (-r["declarations_published"], -r["licences_concluded"], str(r["value"])))


def monthly(facts: Facts, period: Period, **kwargs) -> dict[str, dict]:
    """statistics.indicators of each month of ``period``, {YYYY-MM: figures}."""
    return grouped_figures(facts, period, MONTH, **kwargs)


def league_table(facts: Facts, period: Period, *, as_of: datetime | None = None) -> list[dict]:
    """statistics.league_table from the facts (three grouped statements, by holder)."""
    as_of = as_of or timezone.now()
    kinds = statistics.LEAGUE_HOLDER_KINDS
    published = (facts.declarations.filter(holder_kind__in=kinds, filed_at__gte=period.start, filed_at__lt=period.end)
                 .values("holder_id").annotate(kind=Min("holder_kind"), published=Count("pk"),
                                               deals=Count("pk", filter=Q(first_licence_at__lte=as_of))))
    concluded = (facts.licences.filter(holder_kind__in=kinds, activated_at__gte=period.start,
                                       activated_at__lt=period.end)
                 .values("holder_id").annotate(kind=Min("holder_kind"), n=Count("pk"),
                                               patents=Count("patent_id", distinct=True)))
    fees = (facts.payments.filter(holder_kind__in=kinds, succeeded_at__gte=period.start, succeeded_at__lt=period.end)
            .values("holder_id").annotate(kind=Min("holder_kind"), fen=Sum("net_fen")))
    holders: dict[int, dict] = {}

    def holder(row):
        return holders.setdefault(row["holder_id"], {
            "holder_id": row["holder_id"], "licensed_patents": 0, "licences_concluded": 0, "fee_volume_fen": 0,
            "holder_kind": row["kind"], "declarations_published": 0, "deals": 0})

    for row in published:
        holder(row).update(declarations_published=row["published"], deals=row["deals"])
    for row in concluded:
        holder(row).update(licences_concluded=row["n"], licensed_patents=row["patents"])
    for row in fees:
        holder(row)["fee_volume_fen"] = int(row["fen"] or 0)
    rows = sorted(holders.values(), key=lambda r: (-r["licences_concluded"], -r["fee_volume_fen"],
                                                   -r["declarations_published"], r["holder_id"]))
    for row in rows:
        row["deal_rate"] = statistics._share(row.pop("deals"), row["declarations_published"])
    return rows


def flow_table(facts: Facts, period: Period) -> list[dict]:
    """statistics.flow_table from the facts (two grouped statements)."""
    flows: dict[tuple, dict] = {}
    concluded = (facts.licences.filter(activated_at__gte=period.start, activated_at__lt=period.end)
                 .values("region", "licensee_region").annotate(n=Count("pk")))
    fees = (facts.payments.filter(succeeded_at__gte=period.start, succeeded_at__lt=period.end)
            .values("region", "licensee_region").annotate(fen=Sum("net_fen")))

    def flow(row):
        return flows.setdefault((row["region"], row["licensee_region"]), {
            "licensor_region": row["region"], "licensee_region": row["licensee_region"], "licensee_locality": "",
            "licences_concluded": 0, "fee_volume_fen": 0})

    for row in concluded:
        flow(row)["licences_concluded"] = row["n"]
    for row in fees:
        flow(row)["fee_volume_fen"] = int(row["fen"] or 0)
    rows = list(flows.values())
    if rows:
        localities = statistics.locality(pd.Series([r["licensee_region"] for r in rows], dtype=object))
        for row, value in zip(rows, localities, strict=True):
            row["licensee_locality"] = value
    return sorted(rows, key=lambda r: (-r["licences_concluded"], -r["fee_volume_fen"], r["licensor_region"],
                                       r["licensee_region"]))
