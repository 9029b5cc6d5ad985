"""The IP office's indicators of open licensing: how many declarations, licences and fees, and above all the
**quick-licence deal rate**.

Definitions (also in docs/statistics.md; every figure is for a period [start, end) as known at ``as_of``):

- declarations filed / withdrawn: ``filed_at`` / ``withdrawn_at`` in the period.
- patents under open licence: distinct patents with a declaration published before ``end`` and not withdrawn
  before ``end`` (a stock, at the end of the period).
- licences concluded: licences activated (paid, or free) in the period; *free* when nothing was due up front
  (``first_amount_fen == 0``), *paid* otherwise.
- fee volume: what licensees paid in the period (succeeded payments, net of refunds), fen.
- **quick-licence deal rate**: of the declarations published in the period, the share that obtained at least
  one licence within N days of publication (N = ``QUICK_LICENCE_DAYS``, default 90). The cohort is *mature*
  when ``end + N days <= as_of``; before that the rate can still rise and is marked provisional.
- overall conversion: of the declarations published in the period, the share licensed by ``as_of``.
- days to first licence: median and 90th percentile, publication → first licence, over the licensed ones of
  the cohort.
- days from notice to payment: median over the paid licences concluded in the period (written notice →
  activation, which happens when the first amount is paid).
- recording compliance: of the licences concluded in the period whose 3-month recording deadline has passed
  by ``as_of``, the share recorded within 3 months of taking effect (Measures for recording of patent licence
  contracts).
- licences per licensed patent: licences concluded in the period / distinct patents they cover (open licences
  are one-to-many: one patent, many licensees).

pandas does the work: three frames (declarations, licences, payments) are read with one statement per table
(``read_frame``: the cursor's rows, no model instances or per-value converters), restricted in SQL to the rows a
period needs and to the declarations a filter keeps, and every indicator is one pandas ``groupby`` over them
(``grouped_indicators``): the totals are the single group, a breakdown groups by the dimension, so a request
costs the same whatever the number of values shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from licensing.models import Declaration
from licensing.models.licences import Licence, Payment
from patents.inventory.fields import FIELDS_BY_NUMBER

RECORDING_MONTHS = 3
# The breakdowns the dashboard offers; each is a column of both frames.
DIMENSIONS = ["technology_field", "sector", "holder_kind", "fee_form", "grade", "region"]
PAID_PAYMENT_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED, Payment.State.REFUNDED)


def quick_licence_days() -> int:
    return int(getattr(settings, "QUICK_LICENCE_DAYS", 90))


# ------------------------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        tz = ZoneInfo(settings.TIME_ZONE)
        first = date(year, month, 1)
        return cls(datetime.combine(first, time.min, tz), datetime.combine(first + relativedelta(months=1), time.min, tz))

    @classmethod
    def days(cls, start: date, end_inclusive: date) -> Period:
        tz = ZoneInfo(settings.TIME_ZONE)
        return cls(datetime.combine(start, time.min, tz), datetime.combine(end_inclusive + timedelta(days=1), time.min, tz))

    @classmethod
    def months(cls, first: date, last: date) -> Period:
        """From the first day of ``first``'s month to the end of ``last``'s month."""
        start, end = cls.month(first.year, first.month), cls.month(last.year, last.month)
        return cls(start.start, end.end)

    @property
    def label(self) -> str:
        start = timezone.localtime(self.start)
        last = timezone.localtime(self.end - timedelta(seconds=1))
        return f"{start:%Y-%m}" if (start.year, start.month) == (last.year, last.month) else f"{start:%Y-%m}–{last:%Y-%m}"


# ------------------------------------------------------------------------------------------------- frames


SECTOR_OF_FIELD = {number: field.sector.key for number, field in FIELDS_BY_NUMBER.items()}


def _dimensions(frame: pd.DataFrame) -> pd.DataFrame:
    frame["technology_field"] = pd.to_numeric(frame["technology_field"]).astype("Int64")
    frame["sector"] = frame["technology_field"].map(SECTOR_OF_FIELD).astype(object).fillna("")
    for column in ("holder_kind", "fee_form", "grade", "region"):
        frame[column] = frame[column].fillna("")
    return frame


def _utc(series: pd.Series) -> pd.Series:
    # SQLite gives ISO text (with or without microseconds), PostgreSQL aware datetimes: both parse at once.
    return pd.to_datetime(series, utc=True, format="ISO8601")


def _day(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, format="ISO8601")


def read_frame(queryset, columns: dict) -> pd.DataFrame:
    """``columns`` ({name: field path or expression}) of ``queryset``'s rows in one statement, straight from the
    cursor into a frame: no model instances and no per-value converters, which were most of the dashboard's time
    (bench/findings.md §3)."""
    aliases = {f"c{i}": name for i, name in enumerate(columns)}
    query = queryset.values(**{alias: F(columns[name]) if isinstance(columns[name], str) else columns[name]
                               for alias, name in aliases.items()}).query
    # As ValuesIterable names the row's values (Django 5.2 selects them in the order values() was given).
    selected = list(query.selected) if query.selected else [
        *query.extra_select, *query.values_select, *query.annotation_select]
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=selected, coerce_float=False)
    return frame.rename(columns=aliases)[list(columns)]


def _moment(path: str):
    """A date or time column as SQLite stores it (ISO text, UTC), which pandas parses at once, rather than
    through the sqlite3 module's per-value converter; PostgreSQL's driver converts natively."""
    return Cast(path, TextField()) if connection.vendor == "sqlite" else F(path)


def _grade(patent: str = "patent__"):
    """Patent.grade in SQL: the override, else the computed grade."""
    return Coalesce(NullIf(f"{patent}grade_override", Value("")), f"{patent}grade_computed")


def declaration_frame(*, published_before: datetime | None = None, declarations=None) -> pd.DataFrame:
    """One row per declaration published (before ``published_before``; among ``declarations``, a queryset of
    them), with its dimensions and its first licence's activation (``first_licence_at``, added by Frames)."""
    rows = Declaration.objects.filter(filed_at__isnull=False)
    if published_before is not None:
        rows = rows.filter(filed_at__lt=published_before)
    if declarations is not None:
        rows = rows.filter(pk__in=declarations.values("pk"))
    frame = read_frame(rows, {
        "pk": "pk", "patent_id": "patent_id", "filed_at": _moment("filed_at"),
        "withdrawn_at": _moment("withdrawn_at"), "fee_form": "fee_form", "grade": _grade(),
        "technology_field": "patent__technology_field", "holder_kind": "holder__kind", "region": "holder__province"})
    for column in ("filed_at", "withdrawn_at"):
        frame[column] = _utc(frame[column])
    return _dimensions(frame)


def licence_frame(*, period: Period | None = None, declarations=None) -> pd.DataFrame:
    """One row per licence taken (activated), without its dimensions (Frames adds them): with ``period``, those
    activated in it, every licence of the declarations published in it (the cohort) and the licences of the
    payments succeeded in it. No join: a licence row is wide (the terms text), so reading it twice costs."""
    rows = Licence.objects.filter(activated_at__isnull=False)
    if declarations is not None:
        rows = rows.filter(declaration_id__in=declarations.values("pk"))
    if period is not None:
        cohort = Declaration.objects.filter(filed_at__gte=period.start, filed_at__lt=period.end)
        paid = _paid_payments(period).values("licence_id")
        rows = rows.filter(Q(activated_at__gte=period.start, activated_at__lt=period.end)
                           | Q(declaration_id__in=cohort.values("pk")) | Q(pk__in=paid))
    frame = read_frame(rows.order_by(), {
        "pk": "pk", "patent_id": "patent_id", "licensor_id": "licensor_id", "declaration_id": "declaration_id",
        "activated_at": _moment("activated_at"), "notice_submitted_at": _moment("notice_submitted_at"),
        "first_amount_fen": "first_amount_fen", "starts_on": _moment("starts_on"),
        "recorded_on": _moment("recorded_on"), "fee_form": "fee_form"})
    for column in ("activated_at", "notice_submitted_at"):
        frame[column] = _utc(frame[column])
    for column in ("starts_on", "recorded_on"):
        frame[column] = _day(frame[column])
    frame["first_amount_fen"] = frame["first_amount_fen"].astype("int64")
    return frame


def _paid_payments(period: Period | None):
    rows = Payment.objects.filter(state__in=PAID_PAYMENT_STATES, succeeded_at__isnull=False)
    if period is not None:
        rows = rows.filter(succeeded_at__gte=period.start, succeeded_at__lt=period.end)
    return rows


def payment_frame(*, period: Period | None = None) -> pd.DataFrame:
    """One row per paid payment (net of refunds; succeeded in ``period``), without its licence's dimensions."""
    frame = read_frame(_paid_payments(period).order_by(), {
        "licence_id": "licence_id", "succeeded_at": _moment("succeeded_at"), "amount_fen": "amount_fen",
        "refunded_fen": "refunded_fen"})
    frame["succeeded_at"] = _utc(frame["succeeded_at"])
    for column in ("amount_fen", "refunded_fen"):
        frame[column] = frame[column].astype("int64")
    return frame


def organisation_frame() -> pd.DataFrame:
    """Every organisation's kind and region (a narrow table: the licensors' dimensions)."""
    from marketplace.parties.models import Organisation

    return read_frame(Organisation.objects.order_by(), {"pk": "pk", "holder_kind": "kind", "region": "province"})


def patent_dimensions(patent_ids) -> pd.DataFrame:
    """Technology field and grade of these patents (those no declaration of the frame already carries)."""
    from patents.models import Patent

    return read_frame(Patent.objects.filter(pk__in=list(patent_ids)).order_by(), {
        "patent_id": "pk", "technology_field": "technology_field", "grade": _grade("")})


@dataclass
class Frames:
    declarations: pd.DataFrame
    licences: pd.DataFrame
    payments: pd.DataFrame

    @classmethod
    def load(cls, *, period: Period | None = None, declarations=None) -> Frames:
        """One statement per table (declarations with their patent and holder, licences, payments,
        organisations). With ``period``, only the rows the period's figures (and those of its months) need:
        declarations published before its end, licences activated in it, of its cohort or paid in it,
        payments succeeded in it. ``declarations``: a queryset narrowing everything to them (a FilterSet's
        result), applied in the same statements. A licence's dimensions are those of its own patent, licensor
        and fee form (as a join would give them); a payment's those of its licence."""
        end = period.end if period is not None else None
        d = declaration_frame(published_before=end, declarations=declarations)
        lic = licence_frame(period=period, declarations=declarations)
        pay = payment_frame(period=period)
        # The licence's patent is its declaration's, published before the licence was taken: the declarations
        # read already carry its field and grade; any other patent is read (normally none).
        patents = d[["patent_id", "technology_field", "grade"]].drop_duplicates("patent_id")
        missing = set(lic["patent_id"].unique()) - set(patents["patent_id"])
        if missing:
            patents = pd.concat([patents, patent_dimensions(missing)], ignore_index=True)
        lic = lic.merge(patents, on="patent_id", how="left", validate="many_to_one")
        organisations = organisation_frame()
        lic = lic.merge(organisations.rename(columns={"pk": "licensor_id"}), on="licensor_id", how="left",
                        validate="many_to_one")
        lic = _dimensions(lic)
        pay = pay.merge(lic[["pk", "declaration_id", "fee_form", "grade", "technology_field", "sector", "holder_kind",
                             "region"]].rename(columns={"pk": "licence_id"}), on="licence_id", how="inner",
                        validate="many_to_one")
        first = lic.groupby("declaration_id")["activated_at"].min()
        d["first_licence_at"] = pd.to_datetime(first.reindex(d["pk"].to_numpy()).to_numpy(), utc=True)
        return cls(d, lic, pay)

    def restricted(self, declaration_ids) -> Frames:
        """Only these declarations, their licences and their payments (a FilterSet's result)."""
        ids = pd.Index(list(declaration_ids))
        return Frames(self.declarations[self.declarations.pk.isin(ids)],
                      self.licences[self.licences.declaration_id.isin(ids)],
                      self.payments[self.payments.declaration_id.isin(ids)])

    def where(self, dimension: str, value) -> Frames:
        def pick(frame):
            column = frame[dimension]
            if dimension == "technology_field":
                return frame[column == int(value)] if str(value).isdigit() else frame[column.isna()]
            return frame[column == value]
        return Frames(pick(self.declarations), pick(self.licences), pick(self.payments))

# --------------------------------------------------------------------------------------------- indicators


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 86400


def _quantile(values: pd.Series, q: float) -> float | None:
    values = values.dropna()
    return round(float(np.quantile(values, q)), 1) if len(values) else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


ALL = "(all)"


def _by(frame: pd.DataFrame, key: str | None):
    """The frame grouped by ``key`` (None: one group, ALL)."""
    return frame.groupby(key if key else np.full(len(frame), ALL, dtype=object), sort=False, dropna=True)


def grouped_indicators(frames: Frames, period: Period, key: str | None = None, *, as_of: datetime | None = None,
                       n_days: int | None = None) -> dict:
    """Every indicator of ``indicators`` for each value of the dimension ``key`` at once (one pandas groupby
    per measure, not one pass over the frames per value), as {value: figures}; ``key`` None gives the
    totals under ALL. A value appears when any of its rows is in the frames."""
    as_of = as_of or timezone.now()
    n_days = n_days or quick_licence_days()
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    as_of_ts = pd.Timestamp(as_of)
    d, lic, pay = frames.declarations, frames.licences, frames.payments

    published = d[(d.filed_at >= start) & (d.filed_at < end)]
    withdrawn = d[(d.withdrawn_at >= start) & (d.withdrawn_at < end)]
    open_at_end = d[(d.filed_at < end) & (d.withdrawn_at.isna() | (d.withdrawn_at >= end))]
    licensed = published[published.first_licence_at.notna() & (published.first_licence_at <= as_of_ts)]
    licensed = licensed.assign(to_first=_days(licensed.first_licence_at - licensed.filed_at))
    quick = licensed[licensed.to_first <= n_days]

    concluded = lic[(lic.activated_at >= start) & (lic.activated_at < end)]
    paid = concluded[concluded.first_amount_fen > 0]
    paid = paid.assign(to_payment=_days(paid.activated_at - paid.notice_submitted_at))
    deadline = concluded.starts_on.fillna(concluded.activated_at.dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None)
                                          .dt.normalize()) + pd.DateOffset(months=RECORDING_MONTHS)
    due = concluded[deadline <= pd.Timestamp(timezone.localdate(as_of))]
    recorded_in_time = due[due.recorded_on.notna() & (due.recorded_on <= deadline[due.index])]
    fees = pay[(pay.succeeded_at >= start) & (pay.succeeded_at < end)]
    fees = fees.assign(net_fen=fees.amount_fen - fees.refunded_fen)

    def size(frame):
        return _by(frame, key).size().to_dict()

    counts = {name: size(frame) for name, frame in [
        ("published", published), ("withdrawn", withdrawn), ("licensed", licensed), ("quick", quick),
        ("concluded", concluded), ("paid", paid), ("due", due), ("recorded", recorded_in_time)]}
    counts["free"] = size(concluded[concluded.first_amount_fen == 0])
    open_patents = _by(open_at_end, key)["patent_id"].nunique().to_dict()
    licensed_patents = _by(concluded, key)["patent_id"].nunique().to_dict()
    fee_volume = _by(fees, key)["net_fen"].sum().to_dict()
    median_first = _by(licensed, key)["to_first"].agg(lambda s: _quantile(s, 0.5)).to_dict()
    p90_first = _by(licensed, key)["to_first"].agg(lambda s: _quantile(s, 0.9)).to_dict()
    median_payment = _by(paid, key)["to_payment"].agg(lambda s: _quantile(s, 0.5)).to_dict()

    if key:
        values = set(d[key].dropna().unique()) | set(lic[key].dropna().unique())
    else:
        values = {ALL}
    common = {"period": period.label, "as_of": as_of.isoformat(), "quick_licence_days": n_days}
    mature = bool(end + pd.Timedelta(days=n_days) <= as_of_ts)
    result = {}
    for value in values:
        def n(name, value=value):
            return int(counts[name].get(value, 0))

        concluded_n = n("concluded")
        result[value] = {
            **common,
            "declarations_published": n("published"),
            "declarations_withdrawn": n("withdrawn"),
            "patents_under_open_licence": int(open_patents.get(value, 0)),
            "licences_concluded": concluded_n,
            "licences_free": n("free"),
            "licences_paid": n("paid"),
            "fee_volume_fen": int(fee_volume.get(value, 0)),
            "quick_licence_deal_rate": _share(n("quick"), n("published")),
            "quick_licence_rate_mature": mature,
            "overall_conversion": _share(n("licensed"), n("published")),
            "median_days_to_first_licence": median_first.get(value),
            "p90_days_to_first_licence": p90_first.get(value),
            "median_days_notice_to_payment": median_payment.get(value),
            "recording_compliance": _share(n("recorded"), n("due")),
            "licences_per_licensed_patent": (round(concluded_n / licensed_patents[value], 2)
                                             if concluded_n else None),
        }
    return result


def indicators(frames: Frames, period: Period, *, as_of: datetime | None = None, n_days: int | None = None) -> dict:
    """Every indicator for one period, as plain JSON-able values (fen as int, shares 0–1, days as float);
    None where the indicator has nothing to measure (e.g. no declaration published in the period)."""
    return grouped_indicators(frames, period, None, as_of=as_of, n_days=n_days)[ALL]


def _values(frames: Frames, dimension: str) -> list:
    values = set(frames.declarations[dimension].dropna().unique()) | set(frames.licences[dimension].dropna().unique())
    if dimension == "technology_field":
        return sorted(int(v) for v in values)
    return sorted(str(v) for v in values if str(v) != "")


def breakdown(frames: Frames, period: Period, dimension: str, **kwargs) -> list[dict]:
    """The indicators for each value of one dimension (technology field, sector, holder kind, fee form, grade,
    region), largest cohort first: one groupby over the frames (grouped_indicators), whatever the number of
    values."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")
    by_value = grouped_indicators(frames, period, dimension, **kwargs)
    rows = []
    for value in _values(frames, dimension):
        figures = by_value[value]
        if (figures["declarations_published"] or figures["licences_concluded"] or figures["fee_volume_fen"]
                or figures["patents_under_open_licence"]):
            rows.append({"value": value, **figures})
    return sorted(rows, key=lambda r: (-r["declarations_published"], -r["licences_concluded"], str(r["value"])))


def monthly(frames: Frames, first: date, last: date, **kwargs) -> list[dict]:
    """The indicators month by month from ``first``'s month to ``last``'s (a trend)."""
    rows, month = [], date(first.year, first.month, 1)
    while month <= last:
        rows.append(indicators(frames, Period.month(month.year, month.month), **kwargs))
        month += relativedelta(months=1)
    return rows


# ------------------------------------------------------------------------------------------------ snapshots


# Set in a snapshot's indicators when the dashboard stored a closed month it needed (nobody published it):
# the trend shows it as computed, and compute_statistics publishes over it without --force.
STORED_BY = "stored_by"
STORED_BY_DASHBOARD = "dashboard"


def snapshot_is_published(snapshot) -> bool:
    return snapshot.indicators.get(STORED_BY) != STORED_BY_DASHBOARD


def snapshot_month(*, year: int, month: int, force: bool = False, as_of: datetime | None = None,
                   publish: bool = True, frames: Frames | None = None, n_days: int | None = None):
    """Compute and store the month's snapshot (every indicator and every breakdown), so that published figures
    stay as published: an existing published snapshot is kept unless ``force``. ``publish`` False is the
    dashboard storing a closed month once instead of computing it on every request (kept whatever exists;
    marked STORED_BY_DASHBOARD). ``frames``: already read and covering the month (else read for it).
    Returns (snapshot, created), created also when a publication replaces a dashboard's snapshot."""
    from django.db import transaction

    from marketplace.models import StatisticsSnapshot
    from marketplace.office.cache import statistics_changed

    n_days = n_days or quick_licence_days()
    first = date(year, month, 1)
    with transaction.atomic():
        existing = StatisticsSnapshot.objects.select_for_update().filter(month=first, quick_licence_days=n_days).first()
        if existing and not force and (not publish or snapshot_is_published(existing)):
            return existing, False
        period = Period.month(year, month)
        frames = frames if frames is not None else Frames.load(period=period)
        figures = indicators(frames, period, as_of=as_of, n_days=n_days)
        if not publish:
            figures[STORED_BY] = STORED_BY_DASHBOARD
        breakdowns = {dimension: breakdown(frames, period, dimension, as_of=as_of, n_days=n_days)
                      for dimension in DIMENSIONS}
        snapshot, created = StatisticsSnapshot.objects.update_or_create(
            month=first, quick_licence_days=n_days,
            defaults={"indicators": figures, "breakdowns": breakdowns, "computed_at": timezone.now()})
        if publish:
            statistics_changed()  # cached dashboards show the month as published from now on
    return snapshot, created or (existing is not None and not snapshot_is_published(existing))


__all__ = ["ALL", "DIMENSIONS", "Frames", "Period", "breakdown", "grouped_indicators", "indicators", "monthly",
           "quick_licence_days", "read_frame", "snapshot_is_published", "snapshot_month"]
