"""The dashboard from month aggregates (marketplace.models.StatisticsMonthAggregate): the counts and sums of the
statistics facts by month, by at most one filter dimension and one breakdown dimension, so that a board reads a
few hundred aggregate rows instead of every fact of its twelve months.

What the aggregates hold, and why the figures stay exact (tests/marketplace/test_statistics_facts.py compares
them with the pandas reference on the hand-computed and random markets):

- **Additive measures** (declarations published, withdrawn, announced; licences concluded, free, paid up
  front, statutory; fees and voucher part in fen) are sums over the facts of a cell, so a period is the sum of
  its months and a filter or breakdown value is a cell of its own.
- **As-of flags** (licensed, recorded, statutory deal or recording, due for recording) and the quick-licence
  window N are stored "as of the end of time" and for N = ``STORED_QUICK_DAYS``; a board as of another moment,
  or with another N, subtracts what differs, counted by the database over only the facts that differ (licences
  not yet due, first licences after the as-of moment, days to first licence between the two N): a few rows
  at most for a live board.
- **Patents under open licence** (a distinct count, a stock) are stored as +1 when a patent's cell opens and -1
  when it closes, the declarations of one patent merged per cell first, so that a patent declared twice counts
  once; the stock at a month's end is the sum of the changes up to it.
- **Distinct patents licensed, two or more licensees, and the quantiles** cannot be summed from months (a
  patent licensed in two months is one patent; a median of medians is not a median): they are computed from
  the facts of the period, reading only the columns they rank or count (see ``_LicenceRows``).

A board with two or more filters (a small share of the facts) is read from the facts (marketplace.office.
aggregates.Window), as is any period that is not whole months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from licensing.models.licences import LicenceBasis
from marketplace.office import month_sets, statistics
from marketplace.office.aggregates import FILTER_COLUMNS, MONTH, board_figures, breakdown_rows, league_rows, localities
from marketplace.office.statistics import ALL, DECLARATION_DIMENSIONS, LICENSEE_DIMENSIONS, Period

# The N the aggregates count quick licences for (another N is corrected from the facts at read time): a
# constant rather than settings.QUICK_LICENCE_DAYS, so that a change of the setting cannot make them stale.
STORED_QUICK_DAYS = 90
HOLDER, FLOW = "holder", "flow"  # the league's and the flow table's cells: "id|kind", "region<TAB>licensee region"
FILTERS = ["", *FILTER_COLUMNS]
# The licensee's locality depends on the platform's home province (a setting): stored by province, mapped at
# read time.
LICENCE_DIMENSIONS = [*DECLARATION_DIMENSIONS, "basis", "licensee_size", "licensee_region", "licensee_province"]
BYS = {
    "filed": ["", *DECLARATION_DIMENSIONS, HOLDER],
    "withdrawn": ["", *DECLARATION_DIMENSIONS],
    "announced": ["", *DECLARATION_DIMENSIONS],
    "stock": ["", *DECLARATION_DIMENSIONS],
    "licence": ["", *LICENCE_DIMENSIONS, HOLDER, FLOW],
    "payment": ["", *LICENCE_DIMENSIONS, HOLDER, FLOW],
}
# The breakdowns the month sets are kept by (marketplace.office.month_sets): not the flows (no distinct
# patents), the holders for the league's patents only.
SET_BYS = ["", *LICENCE_DIMENSIONS, HOLDER]
MEASURES = ["n", "licensed", "quick", "recorded_deals", "statutory_deals", "statutory_recorded", "free", "paid",
            "statutory", "due", "recorded", "fee_volume", "voucher_paid"]
KEYS = ["source", "month", "filter_dim", "filter_value", "by_dim", "by_value"]
# Each source's measures under the names aggregates.board_figures counts them by.
COUNTED = {
    "filed": {"n": "published", "licensed": "licensed", "quick": "quick", "recorded_deals": "recorded_deals"},
    "withdrawn": {"n": "withdrawn"},
    "announced": {"n": "announced", "statutory_deals": "statutory_deals", "statutory_recorded": "statutory_recorded"},
    "licence": {"n": "concluded", "free": "free", "paid": "paid", "statutory": "statutory", "due": "due",
                "recorded": "recorded"},
    "payment": {"fee_volume": "fee_volume", "voucher_paid": "voucher_paid"},
}


def built() -> bool:
    from marketplace.models import StatisticsFactsBuild

    return StatisticsFactsBuild.objects.filter(month_aggregates=True, month_sets=True).exists()


# ---------------------------------------------------------------------------------------------- building


def _text(series: pd.Series, dimension: str) -> np.ndarray:
    """A dimension's values as the aggregates key them ("" where none)."""
    if dimension == "technology_field":
        numbers = pd.to_numeric(series, errors="coerce")
        return np.where(numbers.isna(), "", numbers.fillna(0).astype("int64").astype(str)).astype(object)
    return series.where(series.notna(), "").astype(str).to_numpy(dtype=object)


def _month_index(months: pd.Series) -> np.ndarray:
    """YYYY-MM as a number of months ("" as a month after every other: never)."""
    text = months.fillna("").astype(str)
    has = text != ""
    years = pd.to_numeric(text.str[:4].where(has, "0"))
    numbers = pd.to_numeric(text.str[5:7].where(has, "0"))
    return np.where(has, years * 12 + numbers - 1, 10**9).astype("int64")


def _month_text(index: np.ndarray) -> np.ndarray:
    return np.array([f"{i // 12:04d}-{i % 12 + 1:02d}" for i in index], dtype=object)


def _notna(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def _cells(d: pd.DataFrame, lic: pd.DataFrame, pay: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One row per fact and source: the month it counts in, its filter values (``f:<dim>``, the declaration's:
    NaN for a licence or payment without one), its breakdown values (``b:<dim>``) and its measures."""
    declared = {dim: _text(d[dim], dim) for dim in FILTER_COLUMNS}
    filters = pd.DataFrame({f"f:{dim}": values for dim, values in declared.items()}, index=d.index)
    filters["declaration_id"] = pd.to_numeric(d["declaration_id"]).to_numpy()

    def breakdowns(frame, dims):
        out = {f"b:{dim}": _text(frame[dim], dim) for dim in dims if dim not in (HOLDER, FLOW, "")}
        if HOLDER in dims:
            out[f"b:{HOLDER}"] = (pd.to_numeric(frame["holder_id"]).astype("int64").astype(str) + "|"
                                  + frame["holder_kind"].fillna("").astype(str)).to_numpy(dtype=object)
        if FLOW in dims:
            out[f"b:{FLOW}"] = (frame["region"].fillna("").astype(str) + "\t"
                                + frame["licensee_region"].fillna("").astype(str)).to_numpy(dtype=object)
        return out

    def declaration_rows(frame, months, measures, dims):
        rows = pd.DataFrame({"month": months, **{f"f:{dim}": filters.loc[frame.index, f"f:{dim}"].to_numpy()
                                                 for dim in FILTER_COLUMNS},
                             **breakdowns(frame, dims), **measures}, index=frame.index)
        return rows

    licensed = _notna(d["first_licence_at"])
    days = pd.to_numeric(d["days_to_first_licence"]).to_numpy(dtype=float)
    cells = {"filed": declaration_rows(d, d["filed_month"].to_numpy(dtype=object), {
        "n": 1, "licensed": licensed.astype("int64"),
        "quick": (licensed & (np.nan_to_num(days, nan=np.inf) <= STORED_QUICK_DAYS)).astype("int64"),
        "recorded_deals": _notna(d["first_recorded_on"]).astype("int64")}, BYS["filed"])}
    withdrawn = d[d["withdrawn_month"].fillna("") != ""]
    cells["withdrawn"] = declaration_rows(withdrawn, withdrawn["withdrawn_month"].to_numpy(dtype=object), {"n": 1},
                                          BYS["withdrawn"])
    announced = d[d["announced_month"].fillna("") != ""]
    cells["announced"] = declaration_rows(announced, announced["announced_month"].to_numpy(dtype=object), {
        "n": 1, "statutory_deals": _notna(announced["first_statutory_at"]).astype("int64"),
        "statutory_recorded": _notna(announced["first_statutory_recorded_on"]).astype("int64")}, BYS["announced"])

    def licence_rows(frame, months, measures):
        keyed = frame[["declaration_id"]].merge(filters, on="declaration_id", how="left")
        return pd.DataFrame({"month": months, **{f"f:{dim}": keyed[f"f:{dim}"].to_numpy() for dim in FILTER_COLUMNS},
                             **breakdowns(frame, BYS["licence"]), **measures}, index=frame.index)

    lic = lic.assign(declaration_id=pd.to_numeric(lic["declaration_id"]))
    deadline = pd.to_datetime(lic["recording_deadline"])
    recorded_on = pd.to_datetime(lic["recorded_on"])
    paid = (pd.to_numeric(lic["first_amount_fen"]) > 0).astype("int64").to_numpy()
    cells["licence"] = licence_rows(lic, lic["activated_month"].to_numpy(dtype=object), {
        "n": 1, "free": lic["free"].fillna(False).astype(bool).astype("int64").to_numpy(), "paid": paid,
        "statutory": (lic["basis"] == LicenceBasis.STATUTORY.value).astype("int64").to_numpy(), "due": 1,
        "recorded": (recorded_on.notna() & (recorded_on <= deadline)).astype("int64").to_numpy()})
    # What the month sets keep of each licence (not measures: contributions leaves them out).
    cells["licence"] = cells["licence"].assign(
        patent_id=pd.to_numeric(lic["patent_id"]).to_numpy(), licensee_id=pd.to_numeric(lic["licensee_id"]).to_numpy(),
        days=pd.to_numeric(lic["days_notice_to_payment"]).to_numpy(dtype=float),
        deadline=deadline.to_numpy(dtype="datetime64[D]").astype("int64"),
        in_time=(recorded_on.notna() & (recorded_on <= deadline)).to_numpy())
    pay = pay.assign(declaration_id=pd.to_numeric(pay["declaration_id"]))
    cells["payment"] = licence_rows(pay, pay["succeeded_month"].to_numpy(dtype=object), {
        "n": 1, "fee_volume": pd.to_numeric(pay["net_fen"]).astype("int64").to_numpy(),
        "voucher_paid": pd.to_numeric(pay["voucher_paid_fen"]).astype("int64").to_numpy()})
    cells["stock"] = d.assign(**{f"f:{dim}": filters[f"f:{dim}"] for dim in FILTER_COLUMNS},
                              **breakdowns(d, BYS["stock"]), start=_month_index(d["filed_month"]),
                              end=_month_index(d["withdrawn_month"]))
    return cells


def _stock_changes(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """+1 at the month a patent's cell opens, -1 at the month it closes: the declarations of one patent in one
    cell merged first (a later one adds only the months the earlier ones did not cover)."""
    rows = rows[keys + ["patent_id", "start", "end"]].sort_values([*keys, "patent_id", "start"])
    group = [rows[k] for k in keys] + [rows["patent_id"]]
    covered = rows.groupby(group, sort=False)["end"].cummax().groupby(group, sort=False).shift()
    start = np.maximum(rows["start"].to_numpy(), covered.fillna(-1).to_numpy(dtype="int64"))
    keep = start < rows["end"].to_numpy()
    opened = rows[keep].assign(month=start[keep], n=1)
    closed = rows[keep & (rows["end"].to_numpy() < 10**9)].assign(month=lambda r: r["end"], n=-1)
    changes = pd.concat([opened, closed])[[*keys, "month", "n"]]
    changes = changes.groupby([*keys, "month"], sort=False, as_index=False)["n"].sum()
    changes["month"] = _month_text(changes["month"].to_numpy())
    return changes


def _long(rows: pd.DataFrame, source: str, fdims: list[str], carried: list[str]) -> pd.DataFrame:
    """``rows`` once per cell they count in (each of ``fdims`` x each breakdown of the source), keyed, with the
    ``carried`` columns: built from numpy arrays at once (a frame per cell costs more than the counting)."""
    columns = {name: [] for name in ["filter_dim", "filter_value", "by_dim", "by_value", *carried]}
    carried_values = {name: np.asarray(rows[name].to_numpy()) for name in carried}
    for fdim in fdims:
        keep = np.ones(len(rows), dtype=bool) if not fdim else rows[f"f:{fdim}"].notna().to_numpy()
        if not keep.any():
            continue
        size = int(keep.sum())
        fvalues = rows[f"f:{fdim}"].to_numpy(dtype=object)[keep] if fdim else np.full(size, "", dtype=object)
        for bdim in BYS[source]:
            columns["filter_dim"].append(np.full(size, fdim, dtype=object))
            columns["filter_value"].append(fvalues)
            columns["by_dim"].append(np.full(size, bdim, dtype=object))
            columns["by_value"].append(rows[f"b:{bdim}"].to_numpy(dtype=object)[keep] if bdim
                                       else np.full(size, "", dtype=object))
            for name in carried:
                columns[name].append(carried_values[name][keep])
    if not columns["filter_dim"]:
        return pd.DataFrame()
    return pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})


# Rows x cells above which a source is grouped one filter dimension at a time (memory), not all at once (speed
# for the few facts of a change).
LONG_ROWS = 200_000


def contributions(d: pd.DataFrame, lic: pd.DataFrame, pay: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The aggregate rows these facts make (columns KEYS + MEASURES), from frames with the facts' columns (as
    written by marketplace.office.facts or read back from the tables), and their month sets' cells
    (marketplace.office.month_sets.contributions)."""
    parts = []
    cell_keys = ["filter_dim", "filter_value", "by_dim", "by_value"]
    cells = _cells(d, lic, pay)
    sets = month_sets.contributions(cells["licence"], FILTERS, SET_BYS, HOLDER)
    for source, rows in cells.items():
        if rows.empty:
            continue
        measures = [m for m in MEASURES if m in rows.columns]
        carried = ["patent_id", "start", "end"] if source == "stock" else ["month", *measures]
        at_once = len(rows) * len(FILTERS) * len(BYS[source]) <= LONG_ROWS
        for fdims in ([FILTERS] if at_once else [[fdim] for fdim in FILTERS]):
            long = _long(rows, source, fdims, carried)
            if long.empty:
                continue
            if source == "stock":
                grouped = _stock_changes(long, cell_keys)
            else:
                grouped = long.groupby([*cell_keys, "month"], sort=False, as_index=False)[measures].sum()
            parts.append(grouped.assign(source=source))
    if not parts:
        return pd.DataFrame(columns=KEYS + MEASURES), sets
    table = pd.concat(parts, ignore_index=True)
    for measure in MEASURES:
        table[measure] = table[measure].fillna(0).astype("int64") if measure in table else 0
    return table[KEYS + MEASURES], sets


def summed(*tables: pd.DataFrame, signs=None) -> pd.DataFrame:
    """The tables added cell by cell (``signs``: +1/-1 each)."""
    signs = signs or [1] * len(tables)
    parts = []
    for table, sign in zip(tables, signs, strict=True):
        if len(table):
            parts.append(table if sign == 1 else table.assign(**{m: -table[m] for m in MEASURES}))
    if not parts:
        return pd.DataFrame(columns=KEYS + MEASURES)
    total = pd.concat(parts, ignore_index=True).groupby(KEYS, sort=False, as_index=False)[MEASURES].sum()
    return total[(total[MEASURES] != 0).any(axis=1)]


def _table() -> str:
    from marketplace.models import StatisticsMonthAggregate

    return StatisticsMonthAggregate._meta.db_table


def write(table: pd.DataFrame, *, add: bool) -> int:
    """Insert the rows (a rebuild: the table is empty), or add them to the cells they name (a change)."""
    if table.empty:
        return 0
    q = connection.ops.quote_name
    names = KEYS + MEASURES
    sql = (f"INSERT INTO {q(_table())} ({', '.join(q(n) for n in names)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(names))})")
    if add:  # one statement for both backends (SQLite >= 3.24 and PostgreSQL know ON CONFLICT)
        conflict = ", ".join(q(k) for k in ["filter_dim", "filter_value", "by_dim", "month", "source", "by_value"])
        sql += (f" ON CONFLICT ({conflict}) DO UPDATE SET "
                + ", ".join(f"{q(m)} = {q(_table())}.{q(m)} + excluded.{q(m)}" for m in MEASURES))
    columns = [table[k].astype(str).tolist() for k in KEYS] + [table[m].astype("int64").tolist() for m in MEASURES]
    values = list(zip(*columns, strict=True))
    with connection.cursor() as cursor:
        for i in range(0, len(values), 5000):
            cursor.executemany(sql, values[i:i + 5000])
    return len(values)


def clear() -> None:
    from marketplace.models import StatisticsMonthAggregate

    StatisticsMonthAggregate.objects.all()._raw_delete(StatisticsMonthAggregate.objects.db)


# ----------------------------------------------------------------------------------------------- reading


def usable(filters: dict | None, period: Period) -> bool:
    """Whether a board can be read from the aggregates: at most one filter, whole months, aggregates built."""
    narrowing = [k for k, v in (filters or {}).items() if v not in (None, "")]
    if len(narrowing) > 1:
        return False
    start, end = timezone.localtime(period.start), timezone.localtime(period.end)
    whole = (start.day, start.hour, start.minute, end.day, end.hour, end.minute) == (1, 0, 0, 1, 0, 0)
    return whole and built()


def _month_labels(first_day: date, after_last: date) -> list[str]:
    labels, month = [], first_day.replace(day=1)
    while month < after_last:
        labels.append(f"{month:%Y-%m}")
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return labels


def _frame(rows, columns) -> pd.DataFrame:
    names, fetched = statistics.fetch_columns(rows, columns)
    frame = pd.DataFrame.from_records(fetched, columns=names, coerce_float=False)
    return frame[list(columns)] if len(frame.columns) else pd.DataFrame(columns=list(columns))


@dataclass
class MonthlyWindow:
    """A board's period read from the aggregates (``rows``: its cells, as-of corrections included; ``stock``:
    the open-licence changes up to its last month) and, for what does not add up, from the facts of the period
    (``licences``, ``cohort``): the same interface as aggregates.Window."""

    period: Period
    months: list[str]
    as_of: datetime
    n_days: int
    by: str
    rows: pd.DataFrame
    stock: pd.DataFrame
    licences: month_sets.PeriodSets
    cohort: pd.DataFrame

    @classmethod
    def read(cls, filters: dict | None, period: Period, *, by: str, as_of: datetime | None = None,
             n_days: int | None = None) -> MonthlyWindow:
        from marketplace.models import StatisticsMonthAggregate
        from marketplace.office.aggregates import Facts

        as_of = as_of or timezone.now()
        n_days = n_days or statistics.quick_licence_days()
        as_of_day = timezone.localdate(as_of)
        first_day, after_last = timezone.localdate(period.start), timezone.localdate(period.end)
        months = _month_labels(first_day, after_last)
        first, last = months[0], months[-1]
        narrowing = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
        fdim, fvalue = next(iter(narrowing.items()), ("", ""))
        fvalue = str(fvalue)
        stored_by = "licensee_province" if by == "licensee_locality" else by
        cells = StatisticsMonthAggregate.objects.filter(filter_dim=fdim, filter_value=fvalue).order_by()
        in_period = cells.filter(month__gte=first, month__lte=last).exclude(source="stock")
        columns = ["source", "month", "by_dim", "by_value", *MEASURES]
        # The totals and the trend by month; the breakdown, the league and the flows summed over the months by
        # the database (their cells are many, their months do not matter).
        rows = pd.concat([
            _frame(in_period.filter(by_dim=""), {name: name for name in columns}),
            pd.DataFrame.from_records(list(
                in_period.filter(by_dim__in=[stored_by, HOLDER, FLOW]).values("source", "by_dim", "by_value")
                .annotate(**{f"s_{m}": Sum(m) for m in MEASURES}).values_list(
                    "source", "by_dim", "by_value", *(f"s_{m}" for m in MEASURES))),
                columns=["source", "by_dim", "by_value", *MEASURES]).assign(month="")], ignore_index=True)
        stock = _frame(cells.filter(source="stock", by_dim__in=["", stored_by], month__lte=last),
                       {"month": "month", "by_dim": "by_dim", "by_value": "by_value", "n": "n"})
        facts = Facts(narrowing or None)
        licences = month_sets.PeriodSets(fdim, fvalue, stored_by, months, holder=HOLDER,
                                         league_kinds=statistics.LEAGUE_HOLDER_KINDS,
                                         relabel=_locality if by == "licensee_locality" else None)
        rows = pd.concat([rows, _corrections(facts, period, stored_by, as_of, as_of_day, n_days,
                                             licences.not_due(as_of_day))], ignore_index=True)
        for measure in MEASURES:
            rows[measure] = pd.to_numeric(rows[measure]).fillna(0).astype("int64")
        stock["n"] = pd.to_numeric(stock["n"]).astype("int64")
        if by == "licensee_locality":
            for frame in (rows, stock):
                mapped = frame["by_dim"] == stored_by
                frame.loc[mapped, "by_value"] = localities(frame.loc[mapped, "by_value"]).to_numpy()
                frame.loc[mapped, "by_dim"] = by
        # The licensed cohort's days to first licence, as values (over the index declfact_cohort): a quantile is
        # not a sum of months; numpy ranks them as the reference does (statistics._quantile), to the digit.
        cohort = _frame(facts.declarations.filter(
            filed_at__gte=period.start, filed_at__lt=period.end, first_licence_at__lte=as_of,
            days_to_first_licence__isnull=False), {
            "month": "filed_month", **({by: _key_column(by)} if by and by not in LICENSEE_DIMENSIONS else {}),
            "days": "days_to_first_licence"})
        cohort["days"] = pd.to_numeric(cohort["days"]).astype(float)
        return cls(period, months, as_of, n_days, by, rows, stock, licences, cohort)

    def grouped(self, key: str | None, months: list[str] | None = None) -> dict:
        """{group: figures}: key None (ALL), the breakdown read, or MONTH (``months``: only these)."""
        if key not in (None, MONTH, self.by):
            raise ValueError(f"read by {self.by!r}, not {key!r}")
        wanted = months or self.months
        declaration_key = key is None or key == MONTH or key not in LICENSEE_DIMENSIONS
        rows = self.rows[self.rows.by_dim == ("" if key in (None, MONTH) else key)]
        if key is None:
            groups = pd.Series(ALL, index=rows.index, dtype=object)
        elif key == MONTH:
            groups = rows["month"]
        else:
            groups = rows["by_value"]
        # Every source's measures in one groupby by (source, group).
        sources = [s for s in COUNTED if declaration_key or s not in ("filed", "withdrawn", "announced")]
        chosen = rows.source.isin(sources).to_numpy()
        measures = sorted({measure for source in sources for measure in COUNTED[source]})
        totals = rows.loc[chosen, measures].groupby([rows.source[chosen], groups[chosen]], sort=False).sum()
        counts: dict[str, dict] = {name: {} for source in sources for name in COUNTED[source].values()}
        for (source, group), values in totals.to_dict("index").items():
            for measure, name in COUNTED[source].items():
                counts[name][group] = values[measure]
        open_patents = self._open_patents(key, wanted) if declaration_key else {}
        quantiles = {}
        if declaration_key:
            days = self.cohort
            groups = pd.Series(ALL, index=days.index, dtype=object) if key is None else days[
                "month" if key == MONTH else key]
            quantiles["median_first"] = statistics.grouped_quantiles(days["days"], groups, 0.5)
            quantiles["p90_first"] = statistics.grouped_quantiles(days["days"], groups, 0.9)
        quantiles["median_payment"] = self.licences.median_payment(key)
        licensed_patents, multi_licensee = self.licences.patents(key, wanted)
        if key is None:
            groups_shown = {ALL}
        elif key == MONTH:
            groups_shown = set(wanted)
        else:
            groups_shown = set(open_patents) | set(licensed_patents)
            for measure in counts.values():
                groups_shown |= set(measure)
        return {group: board_figures(group, key, self.period, self.as_of, self.n_days, counts, quantiles, open_patents,
                                licensed_patents, multi_licensee) for group in groups_shown}

    def _open_patents(self, key: str | None, months: list[str]) -> dict:
        stock = self.stock[self.stock.by_dim == ("" if key in (None, MONTH) else key)]
        if key == MONTH:
            changes = stock.groupby("month")["n"].sum().sort_index().cumsum()
            return {month: int(changes[changes.index <= month].iloc[-1]) if (changes.index <= month).any() else 0
                    for month in months}
        totals = stock.groupby("by_value" if key else pd.Series(ALL, index=stock.index), sort=False)["n"].sum()
        return {value: int(n) for value, n in totals.items() if n}

    def breakdown(self, dimension: str) -> list[dict]:
        return breakdown_rows(self.grouped(dimension), dimension)

    def league(self) -> list[dict]:
        kinds = statistics.LEAGUE_HOLDER_KINDS
        rows = self.rows[self.rows.by_dim == HOLDER]
        holder = rows["by_value"].str.split("|", n=1, expand=True) if len(rows) else pd.DataFrame(
            columns=[0, 1])
        rows = rows.assign(holder_id=pd.to_numeric(holder[0]), holder_kind=holder[1])
        rows = rows[rows.holder_kind.isin(kinds)]
        licensed_patents = self.licences.holder_patents()
        # A holder is in the table when it has a row of its own (a correction changes figures, not presence).
        present = set(rows.loc[rows.n != 0, "holder_id"]) | set(licensed_patents.index)

        def of(source, measure):
            mine = rows[rows.source == source]
            return mine.groupby("holder_id")[measure].sum()

        table = pd.DataFrame({
            "declarations_published": of("filed", "n"), "deals": of("filed", "licensed"),
            "licensed_patents": licensed_patents,
            "licences_concluded": of("licence", "n"), "fee_volume_fen": of("payment", "fee_volume")})
        table = table[table.index.isin(present)].fillna(0).astype("int64")
        kinds_of = rows.drop_duplicates("holder_id").set_index("holder_id")["holder_kind"]
        return league_rows(table, kinds_of)

    def flows(self) -> list[dict]:
        rows = self.rows[(self.rows.by_dim == FLOW) & (self.rows.n != 0)]
        if rows.empty:
            return []
        pair = rows["by_value"].str.split("\t", n=1, expand=True)
        rows = rows.assign(region=pair[0], licensee_region=pair[1])
        keys = ["region", "licensee_region"]
        concluded = rows[rows.source == "licence"].groupby(keys)["n"].sum()
        fees = rows[rows.source == "payment"].groupby(keys)["fee_volume"].sum()
        table = pd.DataFrame({"licences_concluded": concluded, "fee_volume_fen": fees}).fillna(0).astype("int64")
        table = table.reset_index()
        table["licensee_locality"] = statistics.locality(table["licensee_region"])
        table = table.sort_values(["licences_concluded", "fee_volume_fen", "region", "licensee_region"],
                                  ascending=[False, False, True, True])
        return [{"licensor_region": r["region"], "licensee_region": r["licensee_region"],
                 "licensee_locality": r["licensee_locality"], "licences_concluded": int(r["licences_concluded"]),
                 "fee_volume_fen": int(r["fee_volume_fen"])} for r in table.to_dict("records")]


def _key_column(by: str):
    """A breakdown's column as the aggregates key it: text ("" or NULL where none); the licensee's locality
    from the province against the platform's home province."""
    if by == "technology_field":
        return Cast("technology_field", CharField())
    if by == "licensee_locality":
        home = statistics.province_key(statistics.home_region())
        return Case(When(licensee_province="", then=Value("")), When(licensee_province=home, then=Value(
            statistics.LOCAL)), default=Value(statistics.OUT_OF_PROVINCE), output_field=CharField())
    return F(by)


def _locality(province: str) -> str:
    """A licensee's stored province as the breakdown by locality shows it (as ``localities``)."""
    if province == "":
        return ""
    return statistics.LOCAL if province == statistics.province_key(statistics.home_region()) else (
        statistics.OUT_OF_PROVINCE)


def _corrections(facts, period: Period, by: str, as_of: datetime, as_of_day: date, n_days: int,
                 not_due: pd.DataFrame) -> pd.DataFrame:
    """What a board as of ``as_of`` with N = ``n_days`` differs from the stored cells by, as rows of the same
    form (by_dim "", ``by`` and the holder), counted by the database over only the facts that differ; the
    licences not yet due (``not_due``) come from the period's licences already read."""
    parts = []
    licensee_by = by in LICENSEE_DIMENSIONS or by == "licensee_province"

    def rows_of(source, grouped: list[dict], month_key: str, deltas: dict):
        frame = pd.DataFrame.from_records(grouped)
        if frame.empty:
            return
        values = {m: sum(sign * pd.to_numeric(frame[name]) for name, sign in parts_.items())
                  for m, parts_ in deltas.items()}
        base = pd.DataFrame({"source": source, "month": frame[month_key], **values})
        base["n"] = 0
        parts.append(base.assign(by_dim="", by_value=""))
        if by and (source == "licence" or not licensee_by):
            parts.append(base.assign(by_dim=by, by_value=_text(frame["b"], by)))
        if "holder_id" in frame:
            parts.append(base.assign(by_dim=HOLDER, by_value=frame["holder_id"].astype("int64").astype(str) + "|"
                                     + frame["holder_kind"].fillna("").astype(str)))

    group_by = {"b": F(by)} if by and not licensee_by else {}
    lo, hi = sorted((n_days, STORED_QUICK_DAYS))
    differ = Q(first_licence_at__gt=as_of) | Q(first_recorded_on__gt=as_of_day)
    if lo != hi:
        differ |= Q(first_licence_at__isnull=False, days_to_first_licence__gt=lo, days_to_first_licence__lte=hi)
    cohort = facts.declarations.filter(filed_at__gte=period.start, filed_at__lt=period.end).filter(differ)
    rows_of("filed", list(cohort.values("filed_month", "holder_id", "holder_kind", **group_by).annotate(
        late=Count("pk", filter=Q(first_licence_at__gt=as_of)),
        quick_stored=Count("pk", filter=Q(first_licence_at__isnull=False,
                                          days_to_first_licence__lte=STORED_QUICK_DAYS)),
        quick_now=Count("pk", filter=Q(first_licence_at__lte=as_of, days_to_first_licence__lte=n_days)),
        unrecorded=Count("pk", filter=Q(first_recorded_on__gt=as_of_day))).order_by()),
        "filed_month", {"licensed": {"late": -1}, "quick": {"quick_now": 1, "quick_stored": -1},
                        "recorded_deals": {"unrecorded": -1}})
    announced = facts.declarations.filter(announced_on__gte=timezone.localdate(period.start),
                                          announced_on__lt=timezone.localdate(period.end)).filter(
        Q(first_statutory_at__gt=as_of) | Q(first_statutory_recorded_on__gt=as_of_day))
    rows_of("announced", list(announced.values("announced_month", **group_by).annotate(
        late=Count("pk", filter=Q(first_statutory_at__gt=as_of)),
        unrecorded=Count("pk", filter=Q(first_statutory_recorded_on__gt=as_of_day))).order_by()),
        "announced_month", {"statutory_deals": {"late": -1}, "statutory_recorded": {"unrecorded": -1}})
    rows_of("licence", not_due.to_dict("records"), "activated_month", {"due": {"not_due": -1},
                                                                      "recorded": {"in_time": -1}})
    if not parts:
        return pd.DataFrame(columns=["source", "month", "by_dim", "by_value", *MEASURES])
    return pd.concat(parts, ignore_index=True)

