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

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.db.models import BooleanField, ExpressionWrapper, F, Min, Q, Sum
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


def _second_licensee_months(facts: Facts, period: Period, licences: pd.DataFrame) -> pd.Series:
    """For a narrowed board: the month each patent licensed in the window had its second distinct licensee among
    the licences the filters keep (the stored month counts every licence of the patent): the second smallest of
    each licensee's first month, over the period's licences (read already) and the kept licences before it (one
    grouped statement), ranked with numpy sorts. Licences after the period are left out: a second licensee they
    bring comes after every month the board shows, which counts as none. (A statement over the licences of the
    window's patents, nested twice in the kept declarations, took 25-180 ms on SQLite at 100k.)"""
    _names, before = statistics.fetch_columns(
        facts.licences.filter(activated_at__lt=period.start).values("patent_id", "licensee_id")
        .annotate(first_month=Min("activated_month")).order_by(),
        {"patent_id": "patent_id", "licensee_id": "licensee_id", "month": "first_month"})
    patents, others, months = (np.array(column, dtype=dtype) for column, dtype in zip(
        zip(*before, strict=True) if before else ((), (), ()), (np.int64, np.int64, object), strict=True))
    patent = np.concatenate([patents, licences["patent_id"].to_numpy(dtype=np.int64)])
    licensee = np.concatenate([others, np.asarray(licences["licensee_id"], dtype=np.int64)])
    month = np.concatenate([months, licences["month"].to_numpy(dtype=object)]).astype(str)
    # Each licensee's first month per patent: the first of each (patent, licensee) run sorted by month.
    order = np.lexsort((month, licensee, patent))
    patent, licensee, month = patent[order], licensee[order], month[order]
    first = np.r_[True, (patent[1:] != patent[:-1]) | (licensee[1:] != licensee[:-1])]
    patent, month = patent[first], month[first]
    # The second of those per patent, in month order.
    order = np.lexsort((month, patent))
    patent, month = patent[order], month[order]
    run_start = np.r_[True, patent[1:] != patent[:-1]]
    second = np.r_[False, run_start[:-1] & ~run_start[1:]] if len(patent) else np.zeros(0, dtype=bool)
    return pd.Series(month[second].astype(object), index=patent[second])


def board_figures(group, key, period: Period, as_of: datetime, n_days: int, counts: dict, quantiles: dict,
             open_patents: dict, licensed_patents: dict, multi_licensee: dict) -> dict:
    """One group's figures, as statistics.grouped_indicators writes them."""
    label, end = period.label, pd.Timestamp(period.end)
    if key == MONTH:
        month_period = Period.month(int(group[:4]), int(group[5:7]))
        label, end = month_period.label, pd.Timestamp(month_period.end)

    def n(name):
        return int(counts.get(name, {}).get(group, 0))

    return statistics.indicator_figures(
        label=label, end=end, as_of=as_of, n_days=n_days, count=n, fee_volume_fen=n("fee_volume"),
        voucher_paid_fen=n("voucher_paid"), open_patents=int(open_patents.get(group, 0) or 0),
        licensed_patents=int(licensed_patents.get(group, 0)), multi_licensee=int(multi_licensee.get(group, 0)),
        median_first=quantiles.get("median_first", {}).get(group), p90_first=quantiles.get("p90_first", {}).get(group),
        median_payment=quantiles.get("median_payment", {}).get(group))


def breakdown_rows(by_value: dict, dimension: str) -> list[dict]:
    rows = []
    for value, row in by_value.items():
        if value is None or value is pd.NA or value == "" or not (
                row["declarations_published"] or row["licences_concluded"] or row["fee_volume_fen"]
                or row["patents_under_open_licence"]):
            continue
        rows.append({"value": int(value) if dimension == "technology_field" else str(value), **row})
    return sorted(rows, key=lambda r: (-r["declarations_published"], -r["licences_concluded"], str(r["value"])))


def _month_labels(first_day: date, after_last: date) -> list[str]:
    labels, month = [], first_day.replace(day=1)
    while month < after_last:
        labels.append(f"{month:%Y-%m}")
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return labels


def figures(facts: Facts, period: Period, **kwargs) -> dict:
    """statistics.indicators from the facts."""
    return Window.read(facts, period, **kwargs).grouped(None)[ALL]


def breakdown(facts: Facts, period: Period, dimension: str, **kwargs) -> list[dict]:
    """statistics.breakdown from the facts: the values with something to show, largest cohort first."""
    if dimension not in statistics.DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(statistics.DIMENSIONS)}")
    return Window.read(facts, period, dimensions=[dimension], **kwargs).breakdown(dimension)


def monthly(facts: Facts, period: Period, **kwargs) -> dict[str, dict]:
    """statistics.indicators of each month of ``period``, {YYYY-MM: figures}."""
    return Window.read(facts, period, **kwargs).grouped(MONTH)


def league_table(facts: Facts, period: Period, *, as_of: datetime | None = None) -> list[dict]:
    """statistics.league_table from the facts."""
    return Window.read(facts, period, as_of=as_of).league()


def flow_table(facts: Facts, period: Period) -> list[dict]:
    """statistics.flow_table from the facts."""
    return Window.read(facts, period).flows()


# ------------------------------------------------------------------------------------ one read per table


def _flag(condition: Q):
    return ExpressionWrapper(condition, output_field=BooleanField())


NUMERIC = {"licensed", "recorded", "statutory_deal", "statutory_recorded", "free", "due", "days", "patent_id",
           "holder_id", "first_amount_fen", "net_fen", "voucher_paid_fen"}


def _read(rows, columns: dict) -> pd.DataFrame:
    """statistics.read_frame, with every column kept as the cursor gives it (object arrays: no per-value type
    inference) and the counted ones made numeric at once."""
    names, fetched = statistics.fetch_columns(rows, columns)
    values = list(zip(*fetched, strict=True)) if fetched else [()] * len(names)
    frame = pd.DataFrame({name: np.array(column, dtype=object) for name, column in
                          zip(names, values, strict=True)})
    for name in frame.columns:
        if name in NUMERIC:
            frame[name] = pd.to_numeric(frame[name])
    return frame[list(columns)]


@dataclass
class Window:
    """The facts of one period read once, one statement per table (the declarations published, withdrawn or
    announced in it, those under open licence at some month's end of it, the licences concluded and the
    payments made in it), with the as-of and N conditions evaluated by the database as flags: every figure of
    the period, of any breakdown among ``dimensions`` and of each of its months is then a pandas groupby over
    these rows (``grouped``), the league table and the flows too. The same figures as ``grouped_figures``."""

    period: Period
    months: list[str]
    as_of: datetime
    n_days: int
    narrowed: bool
    declarations: pd.DataFrame
    stock: object  # the declarations' facts (a queryset)
    licences: pd.DataFrame
    payments: pd.DataFrame
    second_months: pd.Series | None
    league_fees: pd.DataFrame
    flow_fees: pd.DataFrame

    @classmethod
    def read(cls, facts: Facts, period: Period, *, dimensions=(), as_of: datetime | None = None,
             n_days: int | None = None) -> Window:
        as_of = as_of or timezone.now()
        n_days = n_days or statistics.quick_licence_days()
        as_of_day = timezone.localdate(as_of)
        first_day, after_last = timezone.localdate(period.start), timezone.localdate(period.end)
        months = _month_labels(first_day, after_last)
        first, last = months[0], months[-1]
        declaration_dims = [d for d in dimensions if d and d not in LICENSEE_DIMENSIONS]
        licence_dims = [d for d in dimensions if d and d != "licensee_locality"]
        common = {"holder_id": "holder_id", "holder_kind": "holder_kind"}
        in_month = Q(filed_month__gte=first, filed_month__lte=last)
        licensed = Q(first_licence_at__lte=as_of)
        declarations = _read(facts.declarations.filter(
            in_month | Q(withdrawn_month__gte=first, withdrawn_month__lte=last)
            | Q(announced_on__gte=first_day, announced_on__lt=after_last)), {
            **{d: d for d in declaration_dims}, **common, "filed_month": "filed_month",
            "withdrawn_month": "withdrawn_month", "announced_month": "announced_month",
            "licensed": _flag(licensed), "days": "days_to_first_licence",
            "recorded": _flag(Q(first_recorded_on__lte=as_of_day)),
            "statutory_deal": _flag(Q(first_statutory_at__lte=as_of)),
            "statutory_recorded": _flag(Q(first_statutory_recorded_on__lte=as_of_day))})
        declarations["announced_month"] = declarations["announced_month"].where(
            declarations["announced_month"].between(first, last), "")
        stock = facts.declarations  # counted by the database when asked (_open_patents)
        due = Q(recording_deadline__lte=as_of_day)
        licences = _read(facts.licences.filter(activated_at__gte=period.start, activated_at__lt=period.end), {
            **{d: d for d in licence_dims}, **common, "region": "region", "licensee_region": "licensee_region",
            "licensee_province": "licensee_province", "patent_id": "patent_id", "month": "activated_month",
            "free": "free", "first_amount_fen": "first_amount_fen", "basis": "basis", "due": _flag(due),
            "recorded": _flag(due & Q(recorded_on__lte=F("recording_deadline"))),
            "days": "days_notice_to_payment", "second_month": "second_licensee_month",
            **({"licensee_id": "licensee_id"} if facts.narrowed else {})})
        # Payments summed by the database: by month and dimension, by holder (the league), by flow.
        paid = facts.payments.filter(succeeded_at__gte=period.start, succeeded_at__lt=period.end)
        # The licensee's province only for the breakdown by locality (its values multiply the groups).
        payment_keys = ["month", *licence_dims, *(["licensee_province"] if "licensee_locality" in dimensions else [])]
        if facts.narrowed:
            # The kept payments read once and summed three ways by pandas: each grouped statement would test
            # every payment of the period for membership in the kept declarations again.
            kept = _read(paid, {name: name for name in dict.fromkeys([
                "succeeded_month", *licence_dims, "licensee_province", "holder_id", "holder_kind", "region",
                "licensee_region", "net_fen", "voucher_paid_fen"])}).rename(columns={"succeeded_month": "month"})
            payments = _summed(kept, payment_keys)
            league_fees = _summed(kept[kept["holder_kind"].isin(statistics.LEAGUE_HOLDER_KINDS)],
                                  ["holder_id", "holder_kind"])
            flow_fees = _summed(kept, ["region", "licensee_region"])
        else:
            payments = _sums(paid.annotate(month=F("succeeded_month")), payment_keys)
            league_fees = _sums(paid.filter(holder_kind__in=statistics.LEAGUE_HOLDER_KINDS),
                                ["holder_id", "holder_kind"])
            flow_fees = _sums(paid, ["region", "licensee_region"])
        payments["licensee_province"] = (payments["licensee_province"].fillna("") if "licensee_province" in payments
                                         else "")
        for frame in (licences, payments):
            frame["licensee_locality"] = localities(frame["licensee_province"])
        for frame in (declarations, licences):
            for column in ("licensed", "recorded", "statutory_deal", "statutory_recorded", "free", "due"):
                if column in frame:
                    frame[column] = frame[column].fillna(0).astype(bool)
        if "technology_field" in dimensions:
            for frame in (declarations, licences, payments):
                if "technology_field" in frame:
                    frame["technology_field"] = pd.to_numeric(frame["technology_field"]).astype("Int64")
        second = None
        if facts.narrowed and len(licences):
            second = _second_licensee_months(facts, period, licences)
        return cls(period, months, as_of, n_days, facts.narrowed, declarations, stock, licences, payments, second,
                   league_fees, flow_fees)

    def grouped(self, key: str | None, months: list[str] | None = None) -> dict:
        """{group: figures}: key None (ALL), a dimension read, or MONTH (``months``: only these)."""
        d, lic, pay, n_days = self.declarations, self.licences, self.payments, self.n_days
        last = self.months[-1]

        def by(frame, month_column):
            if key is None:
                return pd.Series(ALL, index=frame.index, dtype=object)
            if key == MONTH:
                return frame[month_column]
            return frame[key]

        counts: dict[str, dict] = {}

        def tally(frame, month_column, measures: dict, sums=()):
            """One groupby for several measures: rows (None) or rows where a flag holds, and sums."""
            data = pd.DataFrame({name: (np.ones(len(frame), dtype=np.int64) if flag is None
                                        else np.asarray(flag, dtype=np.int64)) for name, flag in measures.items()},
                                index=frame.index)
            for name, column in sums:
                data[name] = frame[column].to_numpy(dtype=np.int64)
            groups = by(frame, month_column)
            if key == MONTH:
                keep = groups.isin(self.months)
                data, groups = data[keep], groups[keep]
            totals = data.groupby(groups, sort=False, dropna=True).sum()
            for name in totals.columns:
                counts[name] = totals[name].to_dict()

        quantiles: dict[str, dict] = {}
        declaration_key = key is None or key == MONTH or key not in LICENSEE_DIMENSIONS
        open_patents: dict = {}
        if declaration_key:
            cohort = d[d.filed_month.between(self.months[0], last)]
            licensed = cohort.licensed
            tally(cohort, "filed_month", {"published": None, "licensed": licensed,
                                          "quick": licensed & (cohort.days <= n_days),
                                          "recorded_deals": cohort.recorded})
            withdrawn = d[d.withdrawn_month.between(self.months[0], last)]
            tally(withdrawn, "withdrawn_month", {"withdrawn": None})
            announced = d[d.announced_month != ""]
            tally(announced, "announced_month", {"announced": None, "statutory_deals": announced.statutory_deal,
                                                 "statutory_recorded": announced.statutory_recorded})
            ranked = cohort[licensed]
            groups = by(ranked, "filed_month")
            quantiles["median_first"] = statistics.grouped_quantiles(ranked["days"], groups, 0.5)
            quantiles["p90_first"] = statistics.grouped_quantiles(ranked["days"], groups, 0.9)
            open_patents = _open_patents(self.stock, key, months or self.months)
        paid_up_front = lic.first_amount_fen > 0
        tally(lic, "month", {"concluded": None, "free": lic.free, "paid": paid_up_front,
                             "statutory": lic.basis == LicenceBasis.STATUTORY.value, "due": lic.due,
                             "recorded": lic.recorded})
        paid = lic[paid_up_front]
        quantiles["median_payment"] = statistics.grouped_quantiles(paid["days"], by(paid, "month"), 0.5)
        tally(pay, "month", {}, sums=[("fee_volume", "net_fen"), ("voucher_paid", "voucher_paid_fen")])
        # Patents licensed, and those with two or more licensees by the end of the period (MONTH: of the month).
        pairs = pd.DataFrame({"g": by(lic, "month"), "patent_id": lic["patent_id"], "second": (
            lic["second_month"] if self.second_months is None else
            lic["patent_id"].map(self.second_months).astype(object).where(lambda s: s.notna(), ""))}).dropna(
            subset=["g"]).drop_duplicates(["g", "patent_id"])
        end_month = pairs["g"] if key == MONTH else last
        multi = (pairs["second"] != "") & (pairs["second"] <= end_month)
        licensed_patents = pairs.groupby("g", sort=False).size().to_dict()
        multi_licensee = multi.groupby(pairs["g"], sort=False).sum().to_dict()

        groups = set(open_patents) | set(licensed_patents)
        for measure in counts.values():
            groups |= set(measure)
        if key is None:
            groups = {ALL}
        elif key == MONTH:
            groups = set(months or self.months)
        return {group: board_figures(group, key, self.period, self.as_of, n_days, counts, quantiles, open_patents,
                                licensed_patents, multi_licensee) for group in groups}

    def breakdown(self, dimension: str) -> list[dict]:
        return breakdown_rows(self.grouped(dimension), dimension)

    def league(self) -> list[dict]:
        kinds = statistics.LEAGUE_HOLDER_KINDS
        d, lic = self.declarations, self.licences
        cohort = d[d.filed_month.between(self.months[0], self.months[-1]) & d.holder_kind.isin(kinds)]
        concluded = lic[lic.holder_kind.isin(kinds)]
        fees = self.league_fees
        table = pd.DataFrame({
            "declarations_published": cohort.groupby("holder_id").size(),
            "deals": cohort[cohort.licensed].groupby("holder_id").size(),
            "licensed_patents": concluded.groupby("holder_id")["patent_id"].nunique(),
            "licences_concluded": concluded.groupby("holder_id").size(),
            "fee_volume_fen": fees.groupby("holder_id")["net_fen"].sum()}).fillna(0).astype("int64")
        kinds_of = pd.concat([cohort[["holder_id", "holder_kind"]], concluded[["holder_id", "holder_kind"]],
                              fees[["holder_id", "holder_kind"]]]).drop_duplicates("holder_id").set_index(
            "holder_id")["holder_kind"]
        return league_rows(table, kinds_of)

    def flows(self) -> list[dict]:
        keys = ["region", "licensee_region"]
        table = pd.DataFrame({"licences_concluded": self.licences.groupby(keys).size(),
                              "fee_volume_fen": self.flow_fees.groupby(keys)["net_fen"].sum()}).fillna(0).astype(
            "int64")
        if table.empty:
            return []
        table = table.reset_index()
        table["licensee_locality"] = statistics.locality(table["licensee_region"])
        table = table.sort_values(["licences_concluded", "fee_volume_fen", "region", "licensee_region"],
                                  ascending=[False, False, True, True])
        return [{"licensor_region": r["region"], "licensee_region": r["licensee_region"],
                 "licensee_locality": r["licensee_locality"], "licences_concluded": int(r["licences_concluded"]),
                 "fee_volume_fen": int(r["fee_volume_fen"])} for r in table.to_dict("records")]


def _open_patents(declarations, key: str | None, months: list[str]) -> dict:
    """Distinct patents under open licence (published, not withdrawn) at the end of the last month, by ``key``
    (MONTH: at the end of each of ``months``): the declarations that can count read once (a narrowed board
    filters on columns no index holds, so each of the thirteen COUNT(DISTINCT) statements this replaces
    scanned the facts again), then counted by numpy month by month."""
    first, last = min(months), max(months)
    keyed = key not in (None, MONTH)
    names, rows = statistics.fetch_columns(
        declarations.filter(filed_month__lte=last).filter(Q(withdrawn_month="") | Q(withdrawn_month__gt=first)),
        {"patent_id": "patent_id", "filed": "filed_month", "withdrawn": "withdrawn_month",
         **({"key": key} if keyed else {})})
    columns = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else dict.fromkeys(names, ())
    patent = np.array(columns["patent_id"], dtype=np.int64)
    filed = np.array(columns["filed"], dtype=object)
    withdrawn = np.array([w or "" for w in columns["withdrawn"]], dtype=object)

    def at_end(month):
        return (filed <= month) & ((withdrawn == "") | (withdrawn > month))

    if key == MONTH:
        return {month: len(np.unique(patent[at_end(month)])) for month in months}
    if not keyed:
        return {ALL: len(np.unique(patent[at_end(last)]))}
    kept = at_end(last)
    pairs = pd.DataFrame({"key": np.array(columns["key"], dtype=object)[kept], "patent_id": patent[kept]})
    counts = pairs.drop_duplicates().groupby("key", sort=False).size()
    return {value: int(n) for value, n in counts.items() if value is not None}


def _sums(rows, keys: list[str]) -> pd.DataFrame:
    """The net and voucher-paid fen of ``rows`` summed by ``keys`` (one grouped statement)."""
    grouped = rows.values(*keys).annotate(net_fen=Sum("net_fen"), voucher_paid_fen=Sum("voucher_paid_fen"))
    return _sum_frame(list(grouped.order_by()), keys)


def _summed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``_sums`` over payments already read (a frame of ``_read``): the same groups, NULL keys included."""
    sums = ["net_fen", "voucher_paid_fen"]
    if frame.empty:
        return _sum_frame([], keys)
    grouped = frame[keys + sums].astype(dict.fromkeys(keys, object)).groupby(keys, dropna=False, sort=False)[
        sums].sum().reset_index()
    records = [tuple(None if pd.isna(value) else value for value in row[:len(keys)]) + tuple(row[len(keys):])
               for row in grouped.itertuples(index=False, name=None)]
    return _sum_frame(records, keys)


def _sum_frame(records: list, keys: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=[*keys, "net_fen", "voucher_paid_fen"])
    for column in ("net_fen", "voucher_paid_fen"):
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
    for column in keys:
        if column not in ("technology_field", "holder_id"):
            frame[column] = frame[column].astype(object)
    return frame



def league_rows(table: pd.DataFrame, kinds_of: pd.Series) -> list[dict]:
    """The league table's rows from one row of counts per holder (index: holder id), in the league's order; the
    facts' boards and the month aggregates' boards both end here."""
    rows = []
    for holder_id, row in table.iterrows():
        rows.append({"holder_id": int(holder_id), "licensed_patents": int(row["licensed_patents"]),
                     "licences_concluded": int(row["licences_concluded"]),
                     "fee_volume_fen": int(row["fee_volume_fen"]), "holder_kind": kinds_of.get(holder_id),
                     "declarations_published": int(row["declarations_published"]),
                     "deal_rate": statistics._share(int(row["deals"]), int(row["declarations_published"]))})
    return sorted(rows, key=lambda r: (-r["licences_concluded"], -r["fee_volume_fen"],
                                       -r["declarations_published"], r["holder_id"]))

def localities(provinces: pd.Series) -> pd.Series:
    home = statistics.province_key(statistics.home_region())
    keys = provinces.fillna("")
    return pd.Series(np.where(keys == "", "", np.where(keys == home, statistics.LOCAL, statistics.OUT_OF_PROVINCE)),
                     index=provinces.index, dtype=object)
