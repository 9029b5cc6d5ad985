"""The IP office's indicators of open licensing: how many declarations, licences and fees, and above all the
**quick-licence deal rate**.

Definitions (also in docs/statistics.md; every figure is for a period [start, end) as known at ``as_of``):

- declarations published / withdrawn: ``published_at`` / ``withdrawn_at`` in the period.
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

pandas does the work: two frames (declarations, licences) are read once with ``values()`` and every
indicator and breakdown is a vectorised filter over them, so a dashboard request is a few queries whatever
the period or the dimension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import F, Min, Value
from django.db.models.functions import Coalesce, NullIf
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


def _sector(field_number) -> str:
    field = FIELDS_BY_NUMBER.get(int(field_number)) if pd.notna(field_number) else None
    return field.sector.key if field else ""


def _dimensions(frame: pd.DataFrame) -> pd.DataFrame:
    frame["technology_field"] = frame["technology_field"].astype("Int64")
    frame["sector"] = frame["technology_field"].map(_sector).fillna("")
    for column in ("holder_kind", "fee_form", "grade", "region"):
        frame[column] = frame[column].fillna("")
    return frame


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def declaration_frame() -> pd.DataFrame:
    """One row per declaration ever published, with its dimensions and its first licence's activation."""
    rows = (Declaration.objects.filter(published_at__isnull=False)
            .annotate(grade=Coalesce(NullIf("patent__grade_override", Value("")), "patent__grade_computed"),
                      first_licence_at=Min("licences__activated_at"))
            .values("pk", "patent_id", "published_at", "withdrawn_at", "fee_form", "first_licence_at", "grade",
                    technology_field=F("patent__technology_field"), holder_kind=F("holder__kind"),
                    region=F("holder__province")))
    frame = pd.DataFrame.from_records(list(rows), columns=[
        "pk", "patent_id", "published_at", "withdrawn_at", "fee_form", "first_licence_at", "grade",
        "technology_field", "holder_kind", "region"])
    for column in ("published_at", "withdrawn_at", "first_licence_at"):
        frame[column] = _utc(frame[column])
    return _dimensions(frame)


def licence_frame() -> pd.DataFrame:
    """One row per licence taken (activated), with its declaration's dimensions."""
    rows = (Licence.objects.filter(activated_at__isnull=False)
            .annotate(grade=Coalesce(NullIf("patent__grade_override", Value("")), "patent__grade_computed"))
            .values("pk", "patent_id", "declaration_id", "activated_at", "notice_submitted_at", "first_amount_fen",
                    "starts_on", "recorded_on", "grade", "fee_form",
                    technology_field=F("patent__technology_field"), holder_kind=F("licensor__kind"),
                    region=F("licensor__province")))
    frame = pd.DataFrame.from_records(list(rows), columns=[
        "pk", "patent_id", "declaration_id", "activated_at", "notice_submitted_at", "first_amount_fen", "starts_on",
        "recorded_on", "grade", "fee_form", "technology_field", "holder_kind", "region"])
    for column in ("activated_at", "notice_submitted_at"):
        frame[column] = _utc(frame[column])
    for column in ("starts_on", "recorded_on"):
        frame[column] = pd.to_datetime(frame[column])
    return _dimensions(frame)


def payment_frame() -> pd.DataFrame:
    """One row per paid payment (net of refunds), with the licence's dimensions."""
    rows = (Payment.objects.filter(state__in=PAID_PAYMENT_STATES, succeeded_at__isnull=False)
            .annotate(grade=Coalesce(NullIf("licence__patent__grade_override", Value("")),
                                     "licence__patent__grade_computed"))
            .values("pk", "succeeded_at", "amount_fen", "refunded_fen", "grade", declaration_id=F("licence__declaration_id"),
                    fee_form=F("licence__fee_form"), technology_field=F("licence__patent__technology_field"),
                    holder_kind=F("licence__licensor__kind"), region=F("licence__licensor__province")))
    frame = pd.DataFrame.from_records(list(rows), columns=[
        "pk", "succeeded_at", "amount_fen", "refunded_fen", "grade", "declaration_id", "fee_form", "technology_field",
        "holder_kind", "region"])
    frame["succeeded_at"] = _utc(frame["succeeded_at"])
    return _dimensions(frame)


@dataclass
class Frames:
    declarations: pd.DataFrame
    licences: pd.DataFrame
    payments: pd.DataFrame

    @classmethod
    def load(cls) -> Frames:
        return cls(declaration_frame(), licence_frame(), payment_frame())

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


def indicators(frames: Frames, period: Period, *, as_of: datetime | None = None, n_days: int | None = None) -> dict:
    """Every indicator for one period, as plain JSON-able values (fen as int, shares 0–1, days as float);
    None where the indicator has nothing to measure (e.g. no declaration published in the period)."""
    as_of = as_of or timezone.now()
    n_days = n_days or quick_licence_days()
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    as_of_ts = pd.Timestamp(as_of)
    d, lic, pay = frames.declarations, frames.licences, frames.payments

    published = d[(d.published_at >= start) & (d.published_at < end)]
    withdrawn = d[(d.withdrawn_at >= start) & (d.withdrawn_at < end)]
    open_at_end = d[(d.published_at < end) & (d.withdrawn_at.isna() | (d.withdrawn_at >= end))]
    licensed_by_as_of = published[published.first_licence_at.notna() & (published.first_licence_at <= as_of_ts)]
    to_first = _days(licensed_by_as_of.first_licence_at - licensed_by_as_of.published_at)
    quick = licensed_by_as_of[to_first <= n_days]

    concluded = lic[(lic.activated_at >= start) & (lic.activated_at < end)]
    paid = concluded[concluded.first_amount_fen > 0]
    deadline = concluded.starts_on.fillna(concluded.activated_at.dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None)
                                          .dt.normalize()) + pd.DateOffset(months=RECORDING_MONTHS)
    due = concluded[deadline <= pd.Timestamp(timezone.localtime(as_of).date())]
    recorded_in_time = due[due.recorded_on.notna() & (due.recorded_on <= deadline[due.index])]
    fees = pay[(pay.succeeded_at >= start) & (pay.succeeded_at < end)]

    return {
        "period": period.label, "as_of": as_of.isoformat(), "quick_licence_days": n_days,
        "declarations_published": int(len(published)),
        "declarations_withdrawn": int(len(withdrawn)),
        "patents_under_open_licence": int(open_at_end.patent_id.nunique()),
        "licences_concluded": int(len(concluded)),
        "licences_free": int((concluded.first_amount_fen == 0).sum()),
        "licences_paid": int(len(paid)),
        "fee_volume_fen": int((fees.amount_fen - fees.refunded_fen).sum()),
        "quick_licence_deal_rate": _share(len(quick), len(published)),
        "quick_licence_rate_mature": bool(end + pd.Timedelta(days=n_days) <= as_of_ts),
        "overall_conversion": _share(len(licensed_by_as_of), len(published)),
        "median_days_to_first_licence": _quantile(to_first, 0.5),
        "p90_days_to_first_licence": _quantile(to_first, 0.9),
        "median_days_notice_to_payment": _quantile(_days(paid.activated_at - paid.notice_submitted_at), 0.5),
        "recording_compliance": _share(len(recorded_in_time), len(due)),
        "licences_per_licensed_patent": (round(len(concluded) / concluded.patent_id.nunique(), 2)
                                         if len(concluded) else None),
    }


def _values(frames: Frames, dimension: str) -> list:
    values = set(frames.declarations[dimension].dropna().unique()) | set(frames.licences[dimension].dropna().unique())
    if dimension == "technology_field":
        return sorted(int(v) for v in values)
    return sorted(str(v) for v in values if str(v) != "")


def breakdown(frames: Frames, period: Period, dimension: str, **kwargs) -> list[dict]:
    """The indicators for each value of one dimension (technology field, sector, holder kind, fee form, grade,
    region), largest cohort first."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")
    rows = [{"value": value, **indicators(frames.where(dimension, value), period, **kwargs)}
            for value in _values(frames, dimension)]
    rows = [r for r in rows if r["declarations_published"] or r["licences_concluded"] or r["fee_volume_fen"]
            or r["patents_under_open_licence"]]
    return sorted(rows, key=lambda r: (-r["declarations_published"], -r["licences_concluded"], str(r["value"])))


def monthly(frames: Frames, first: date, last: date, **kwargs) -> list[dict]:
    """The indicators month by month from ``first``'s month to ``last``'s (a trend)."""
    rows, month = [], date(first.year, first.month, 1)
    while month <= last:
        rows.append(indicators(frames, Period.month(month.year, month.month), **kwargs))
        month += relativedelta(months=1)
    return rows


# ------------------------------------------------------------------------------------------------ snapshots


def snapshot_month(*, year: int, month: int, force: bool = False, as_of: datetime | None = None):
    """Compute and store the month's snapshot (every indicator and every breakdown), so that published figures
    stay as published: an existing snapshot is kept unless ``force``. Returns (snapshot, created)."""
    from django.db import transaction

    from marketplace.models import StatisticsSnapshot

    n_days = quick_licence_days()
    first = date(year, month, 1)
    with transaction.atomic():
        existing = StatisticsSnapshot.objects.select_for_update().filter(month=first, quick_licence_days=n_days).first()
        if existing and not force:
            return existing, False
        frames = Frames.load()
        period = Period.month(year, month)
        figures = indicators(frames, period, as_of=as_of, n_days=n_days)
        breakdowns = {dimension: breakdown(frames, period, dimension, as_of=as_of, n_days=n_days)
                      for dimension in DIMENSIONS}
        snapshot, created = StatisticsSnapshot.objects.update_or_create(
            month=first, quick_licence_days=n_days,
            defaults={"indicators": figures, "breakdowns": breakdowns, "computed_at": timezone.now()})
    return snapshot, created


__all__ = ["DIMENSIONS", "Frames", "Period", "breakdown", "indicators", "monthly", "quick_licence_days",
           "snapshot_month"]
