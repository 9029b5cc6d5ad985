"""What of a period's licences does not add up over months, kept per month cell (marketplace.models.
StatisticsMonthSet) so that a board reads a few hundred small values instead of every licence of its period:

- ``patents``: the patents licensed in the cell, as a Roaring bitmap (pyroaring, a maintained C library:
  compressed, and the union and intersection cardinalities are what is counted). The distinct patents
  licensed over a period are the cardinality of the union of its months' bitmaps; a patent licensed in two
  months is one. Chosen over month aggregates keyed by "the month of the patent's previous licence in the
  cell" (bench/findings.md, section 3): those would multiply the aggregate rows by the months, and the patents
  with two or more licensees would need a third month key; a bitmap per cell answers both, and the league's
  patents per holder with the same code.
- ``second``: per filter value (breakdown none), the patents whose second distinct licensee among the licences
  the filter keeps came in the month; the patents licensed in a period with two or more licensees by its last
  month are the intersection of the period's union with the union of these up to that month.
- ``paid_days``: the days from notice to payment of the cell's paid licences, as float64 values. They are not
  whole days (seconds / 86400), so a histogram would not give the median to the digit; the period's values
  are the months' arrays put together and numpy ranks them as the reference does (statistics._quantile).

A change rewrites the facts of whole patents (marketplace.office.facts), so a cell is kept as: its bitmap
without the changed patents, with their new cells' patents; its days without the changed patents' old values
(a multiset difference, the values are the stored floats), with the new ones. Nothing here imports
marketplace.office.monthly: it hands the licence rows in (``contributions``) and reads through ``PeriodSets``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Q
from pyroaring import BitMap

from marketplace.office.statistics import ALL

PATENTS, SECOND, PAID_DAYS = "patents", "second", "paid_days"
DEADLINES, IN_TIME = "deadlines", "in_time"
# The sources kept as arrays of values (a multiset each) rather than bitmaps, and their types.
ARRAYS = {PAID_DAYS: "<f8", DEADLINES: "<i4", IN_TIME: "<i4"}
MONTH = "month"


def key(source: str, month: str, filter_dim: str, filter_value: str, by_dim: str, by_value: str) -> str:
    return "|".join((source, month, filter_dim, filter_value, by_dim, by_value))


def bitmap(patent_ids: np.ndarray) -> BitMap:
    """Patent ids (below 2**32: a Roaring bitmap of 32-bit values) as a bitmap, from the array at once."""
    ids = np.asarray(patent_ids, dtype=np.int64)
    if len(ids) and (ids.min() < 0 or ids.max() >= 2**32):
        raise ValueError("patent ids must fit in 32 bits for the month sets")
    return BitMap(array("I", ids.astype(np.uint32).tobytes()))


def _groups(frame: pd.DataFrame, keys: list[str]) -> dict:
    return frame.groupby(keys, sort=False, dropna=False).indices if len(frame) else {}


def contributions(rows: pd.DataFrame, filters: list[str], bys: list[str], holder: str) -> dict[str, tuple]:
    """{key: (source, month, filter dim, filter value, by dim, by value, value)} of these licence rows (one per
    licence: ``month``, ``f:<dim>`` the declaration's filter values (NaN: none), ``b:<dim>`` the breakdown
    values, ``patent_id``, ``licensee_id``, ``days`` from notice to payment, ``paid`` up front); ``value`` a
    BitMap or a float64 array. ``bys``: the breakdowns, ``holder`` the league's (patents only)."""
    out: dict[str, tuple] = {}
    if rows.empty:
        return out
    patents = rows["patent_id"].to_numpy(dtype=np.int64)
    days = rows["days"].to_numpy(dtype=float)
    paid = rows["paid"].to_numpy(dtype=bool) & ~np.isnan(days)
    deadlines = rows["deadline"].to_numpy(dtype=np.int64).astype(np.int32)  # days since 1970
    in_time = rows["in_time"].to_numpy(dtype=bool)
    for fdim in filters:
        kept = rows if not fdim else rows[rows[f"f:{fdim}"].notna()]
        if kept.empty:
            continue
        position = rows.index.get_indexer(kept.index)
        fvalue = kept[f"f:{fdim}"].astype(str) if fdim else pd.Series("", index=kept.index)
        for bdim in bys:
            bvalue = kept[f"b:{bdim}"] if bdim else pd.Series("", index=kept.index)
            cells = pd.DataFrame({"f": fvalue.to_numpy(), "b": bvalue.to_numpy(), "m": kept["month"].to_numpy()})
            for (f, b, m), where in _groups(cells, ["f", "b", "m"]).items():
                at = position[where]
                out[key(PATENTS, m, fdim, f, bdim, b)] = (PATENTS, m, fdim, f, bdim, b, bitmap(patents[at]))
                if bdim == holder:
                    continue
                for source, values in ((PAID_DAYS, days[at[paid[at]]]), (DEADLINES, deadlines[at]),
                                       (IN_TIME, deadlines[at[in_time[at]]])):
                    if len(values):
                        out[key(source, m, fdim, f, bdim, b)] = (source, m, fdim, f, bdim, b, values)
        # The month of each patent's second distinct licensee among the kept licences: each licensee's first
        # month per patent, then the second smallest of those.
        firsts = pd.DataFrame({"f": fvalue.to_numpy(), "patent": patents[position],
                               "licensee": kept["licensee_id"].to_numpy(dtype=np.int64),
                               "m": kept["month"].to_numpy()}).groupby(["f", "patent", "licensee"], sort=False)[
            "m"].min().reset_index().sort_values(["f", "patent", "m"], kind="stable")
        second = firsts[firsts.groupby(["f", "patent"], sort=False).cumcount() == 1]
        for (f, m), where in _groups(second, ["f", "m"]).items():
            out[key(SECOND, m, fdim, f, "", "")] = (SECOND, m, fdim, f, "", "",
                                                     bitmap(second["patent"].to_numpy()[where]))
    return out


# A cell's arrays are kept as a list of parts and put together when written (``_encode``: one copy at a time),
# but never more than this many parts: a rebuild at 1M patents has a hundred chunks, and a part per chunk for
# each of ~10^6 cells held every chunk's small arrays at once (20 GB and more).
_PARTS = 8


def merge_into(total: dict[str, tuple], part: dict[str, tuple]) -> None:
    """Add one chunk's contributions (patents disjoint from those already in ``total``) to ``total``, in place, as
    the chunks come: the rebuild holds the running total and one chunk, never every chunk."""
    for k, cell in part.items():
        held = total.get(k)
        if cell[0] in ARRAYS:
            values = [cell[6]] if held is None else [*held[6], cell[6]]
            if len(values) > _PARTS:
                values = [np.concatenate(values)]
            total[k] = (*cell[:6], values)
        elif held is not None:
            held[6].update(cell[6])
        else:
            total[k] = cell


def _encode(cell: tuple) -> bytes:
    value = cell[6]
    if cell[0] in ARRAYS:
        values = np.concatenate(value) if isinstance(value, list) else value
        return np.sort(np.asarray(values, dtype=ARRAYS[cell[0]])).tobytes()
    value.run_optimize()
    return value.serialize()


def _decode(source: str, data) -> BitMap | np.ndarray:
    data = bytes(data)  # PostgreSQL gives a memoryview
    return np.frombuffer(data, dtype=ARRAYS[source]) if source in ARRAYS else BitMap.deserialize(data)


def _table() -> str:
    from marketplace.models import StatisticsMonthSet

    return StatisticsMonthSet._meta.db_table


def write(cells: dict[str, tuple]) -> int:
    """Insert these cells (a rebuild: the table is empty), in batches."""
    q = connection.ops.quote_name
    names = ["key", "source", "month", "filter_dim", "filter_value", "by_dim", "by_value", "data"]
    sql = (f"INSERT INTO {q(_table())} ({', '.join(q(n) for n in names)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(names))})")
    items = list(cells.items())
    with connection.cursor() as cursor:
        for i in range(0, len(items), 5000):  # encoded batch by batch: the bytes of one batch at a time
            cursor.executemany(sql, [(k, *cell[:6], _encode(cell)) for k, cell in items[i:i + 5000]])
    return len(items)


def clear() -> None:
    from marketplace.models import StatisticsMonthSet

    StatisticsMonthSet.objects.all()._raw_delete(StatisticsMonthSet.objects.db)


def _without(values: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """The multiset ``values`` less ``removed`` (each removed value once per occurrence)."""
    if not len(removed):
        return values
    kept, counts = np.unique(values, return_counts=True)
    gone, times = np.unique(removed, return_counts=True)
    at = np.searchsorted(kept, gone)
    if (at >= len(kept)).any() or (kept[np.minimum(at, len(kept) - 1)] != gone).any():
        raise ValueError("month set out of step with the facts: rebuild_statistics_facts")
    counts[at] -= times
    return np.repeat(kept, counts)


def replace(patent_ids: Iterable[int], before: dict[str, tuple], after: dict[str, tuple]) -> None:
    """The cells these patents' facts changed, from ``before`` (their stored facts) to ``after`` (the new ones):
    in the caller's transaction, as the month aggregates."""
    from marketplace.models import StatisticsMonthSet

    touched = sorted(set(before) | set(after))
    if not touched:
        return
    changed = bitmap(np.fromiter((int(i) for i in patent_ids), dtype=np.int64))
    stored = {}
    for i in range(0, len(touched), 500):
        stored.update(StatisticsMonthSet.objects.filter(key__in=touched[i:i + 500]).values_list("key", "data"))
    cells = {}
    for k in touched:
        cell = after.get(k) or before[k]
        source = cell[0]
        old = _decode(source, stored[k]) if k in stored else None
        if source in ARRAYS:
            value = np.asarray(old if old is not None else np.zeros(0), dtype=ARRAYS[source])
            if k in before:
                value = _without(value, before[k][6])
            if k in after:
                value = np.concatenate([value, after[k][6]])
        else:
            value = (old if old is not None else BitMap()) - changed
            if k in after:
                value |= after[k][6]
        if len(value):
            cells[k] = (*cell[:6], value)
    present = [k for k in touched if k in stored]
    for i in range(0, len(present), 500):
        StatisticsMonthSet.objects.filter(key__in=present[i:i + 500])._raw_delete(StatisticsMonthSet.objects.db)
    write(cells)


# ----------------------------------------------------------------------------------------------- reading


class PeriodSets:
    """The month sets of one board: its filter value's cells of the period for the totals, the breakdown
    ``by`` (``stored_by`` as stored; ``relabel`` maps stored values to the breakdown's, e.g. provinces to
    local / out-of-province) and the league's holders, and the second-licensee sets up to its last month.
    Counts what _LicenceRows counted from the period's licences: patents licensed and with two or more
    licensees by group, the league's patents per holder, the median days from notice to payment."""

    def __init__(self, fdim: str, fvalue: str, stored_by: str, months: list[str], *, holder: str,
                 league_kinds: Iterable[str], relabel=None):
        from marketplace.models import StatisticsMonthSet

        self.months = months
        cells = StatisticsMonthSet.objects.filter(filter_dim=fdim, filter_value=fvalue).order_by()
        read = list(cells.filter(Q(source__in=[PATENTS, PAID_DAYS], by_dim__in=["", stored_by, holder])
                                 | Q(source__in=[DEADLINES, IN_TIME], by_dim=stored_by),
                                 month__gte=months[0], month__lte=months[-1])
                    .values_list("source", "month", "by_dim", "by_value", "data"))
        read += list(cells.filter(source=SECOND, by_dim="", month__lte=months[-1])
                     .values_list("source", "month", "by_dim", "by_value", "data"))
        kinds = set(league_kinds)
        self.deadlines: dict[tuple[str, str], dict] = {}
        self.by_month: dict[str, BitMap] = {}
        self.days_by_month: dict[str, np.ndarray] = {}
        by_group: dict[str, list] = {}
        days_by_group: dict[str, list] = {}
        holders: dict[int, list] = {}
        seconds: list[tuple[str, BitMap]] = []
        for source, month, by_dim, by_value, data in read:
            value = _decode(source, data)
            if source == SECOND:
                seconds.append((month, value))
            elif source in (DEADLINES, IN_TIME):
                self.deadlines.setdefault((month, by_value), {})[source] = value
            elif by_dim == "":
                (self.by_month if source == PATENTS else self.days_by_month)[month] = value
            elif by_dim == holder:
                holder_id, _bar, kind = by_value.partition("|")
                if kind in kinds:
                    holders.setdefault(int(holder_id), []).append(value)
            else:
                group = relabel(by_value) if relabel else by_value
                (by_group if source == PATENTS else days_by_group).setdefault(group, []).append(value)
        self.by_group = {group: BitMap.union(*maps) for group, maps in by_group.items()}
        self.days_by_group = {group: np.concatenate(values) for group, values in days_by_group.items()}
        self.holders = {holder_id: len(BitMap.union(*maps)) for holder_id, maps in holders.items()}
        # Patents with a second licensee by the end of each month of the period (cumulative unions).
        seconds.sort(key=lambda pair: pair[0])
        self.second_by: dict[str, BitMap] = {}
        running, i = BitMap(), 0
        for month in months:
            while i < len(seconds) and seconds[i][0] <= month:
                running |= seconds[i][1]
                i += 1
            self.second_by[month] = running.copy()

    def _all(self) -> BitMap:
        maps = [self.by_month[m] for m in self.months if m in self.by_month]
        return BitMap.union(*maps) if maps else BitMap()

    def patents(self, key: str | None, months: list[str]) -> tuple[dict, dict]:
        """Patents licensed (distinct) and those of them with two or more licensees by the end of the period
        (MONTH: of each month), by ``key`` (None: ALL; MONTH; else the breakdown)."""
        last = self.second_by[self.months[-1]]
        if key is None:
            groups = {ALL: (self._all(), last)}
        elif key == MONTH:
            groups = {m: (self.by_month[m], self.second_by[m]) for m in self.months if m in self.by_month}
        else:
            groups = {group: (patents, last) for group, patents in self.by_group.items()}
        licensed, multi = {}, {}
        for group, (patents, second) in groups.items():
            if len(patents):
                licensed[group] = len(patents)
                multi[group] = patents.intersection_cardinality(second)
        return licensed, multi

    def median_payment(self, key: str | None) -> dict:
        if key is None:
            values = [self.days_by_month[m] for m in self.months if m in self.days_by_month]
            groups = {ALL: np.concatenate(values)} if values else {}
        elif key == MONTH:
            groups = self.days_by_month
        else:
            groups = self.days_by_group
        return {group: round(float(np.quantile(values, 0.5)), 1) for group, values in groups.items() if len(values)}

    def not_due(self, as_of_day: date) -> pd.DataFrame:
        """The licences not yet due for recording as of the day (deadline after it), and those of them recorded
        in time, by month and by the breakdown's stored value (``b``): the as-of correction of the month
        aggregates' due and recorded counts (stored as of the end of time)."""
        day = np.datetime64(as_of_day, "D").astype(np.int64)
        rows = []
        for (month, value), arrays in self.deadlines.items():
            not_due = int((arrays.get(DEADLINES, np.zeros(0)) > day).sum())
            if not_due:
                rows.append((month, value, not_due, int((arrays.get(IN_TIME, np.zeros(0)) > day).sum())))
        return pd.DataFrame.from_records(rows, columns=["activated_month", "b", "not_due", "in_time"])

    def holder_patents(self) -> pd.Series:
        """Patents licensed by each university and institute (the league)."""
        return pd.Series(self.holders, dtype="int64")

