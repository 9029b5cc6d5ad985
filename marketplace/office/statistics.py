"""The IP office's indicators of open licensing: how many declarations, licences and fees, and above all the
**quick-licence deal rate**.

Definitions (also in docs/statistics.md; every figure is for a period [start, end) as known at ``as_of``):

- declarations filed / withdrawn: ``filed_at`` / ``withdrawn_at`` in the period.
- patents under open licence: distinct patents with a declaration published before ``end`` and not withdrawn
  before ``end`` (a stock, at the end of the period).
- licences concluded: licences activated in the period; *free* when no fee of any kind is due (a lump sum of 0,
  or a royalty rate of 0 with no entry fee and no minimum: a royalty licence with nothing up front is not
  free), *paid up front* when a first amount was due (``first_amount_fen > 0``). The free-licence share is
  free / concluded.
- fee volume (licence value): what licensees paid in the period (succeeded payments, net of refunds; a payment
  refunded in full gives its voucher part back, so it counts 0), fen; the voucher share is the part of it
  innovation vouchers paid (payments that went through).
- **quick-licence deal rate**: of the declarations published in the period, the share that obtained at least
  one licence within N days of publication (N = ``QUICK_LICENCE_DAYS``, default 90). The cohort is *mature*
  when ``end + N days <= as_of``; before that the rate can still rise and is marked provisional.
- deal rate on two bases: of the declarations published in the period, the share with a licence concluded on
  the platform by ``as_of`` (``overall_conversion``), and the share with a licence recorded at CNIPA by then
  (``deal_rate_recorded``).
- deal rate of CNIPA-announced declarations: of the declarations announced in the period (``announced_on``),
  the share with a statutory licence (``Licence.basis``) concluded by ``as_of``, and with one recorded by then.
- licensed patents with two or more licensees: of the patents with a licence concluded in the period, the
  share that had two or more distinct licensees by the period's end.
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
costs the same whatever the number of values shown. The league table of universities and institutes and the
licensor-region -> licensee-region flow table are groupbys over the same frames; the tables that need other
rows (vouchers issued and lapsed, withdrawals by reason, the inventory funnel per holder) are one grouped SQL
statement each (``voucher_months``, ``withdrawal_reasons``, ``inventory_funnel``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Min, Q, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce, Lower, NullIf, Trim, TruncMonth
from django.utils import timezone

from licensing.models import Declaration
from licensing.models.licences import Licence, LicenceBasis, Payment
from patents.inventory.fields import FIELDS_BY_NUMBER

RECORDING_MONTHS = 3
# The breakdowns the dashboard offers. A declaration's dimensions are columns of every frame; a licensee's
# (its size class, its province, and whether that is the platform's home province) only of the licences and
# payments: a declaration has no licensee, so its figures (published, deal rates) are not split by them.
DECLARATION_DIMENSIONS = ["technology_field", "sector", "patent_kind", "holder_kind", "fee_form", "grade", "region"]
# A licence's own dimensions: the basis it rests on (statutory open licence or ordinary platform licence,
# Licence.basis) and its licensee's size, province and locality.
LICENSEE_DIMENSIONS = ["basis", "licensee_size", "licensee_region", "licensee_locality"]
DIMENSIONS = DECLARATION_DIMENSIONS + LICENSEE_DIMENSIONS
PAID_PAYMENT_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED, Payment.State.REFUNDED)
# Payments whose voucher part was really spent: a payment refunded in full gave its vouchers back.
SETTLED_PAYMENT_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED)
# The indicators that are shares (0-1, shown as percentages) and those in fen (shown and exported as money).
SHARE_FIGURES = frozenset({"quick_licence_deal_rate", "overall_conversion", "deal_rate_recorded",
                           "deal_rate_announced", "deal_rate_announced_recorded",
                           "recording_compliance", "free_licence_share", "multi_licensee_share",
                           "voucher_share_of_fee_volume"})
LOCAL, OUT_OF_PROVINCE = "local", "out_of_province"
# The universities' and institutes' league table.
LEAGUE_HOLDER_KINDS = ("university", "institute")
GOOD_PROSPECT_GRADES = ("A", "B")


def quick_licence_days() -> int:
    return int(getattr(settings, "QUICK_LICENCE_DAYS", 90))


# Provinces are written by people: "广东省", "广东" and " 广东省 " are one province.
_PROVINCE_SUFFIX = re.compile(r"(省|市|自治区|特别行政区)$")


def province_key(province: str) -> str:
    return _PROVINCE_SUFFIX.sub("", (province or "").strip())


def home_region() -> str:
    """The platform's home province (settings.PLATFORM_HOME_REGION): licensees there are local."""
    return getattr(settings, "PLATFORM_HOME_REGION", "")


def locality(regions: pd.Series) -> pd.Series:
    """LOCAL or OUT_OF_PROVINCE for each province of ``regions`` ("" where none is stated)."""
    keys = regions.fillna("").astype(str).str.strip().str.replace(_PROVINCE_SUFFIX, "", regex=True)
    return pd.Series(np.where(keys == "", "", np.where(keys == province_key(home_region()), LOCAL, OUT_OF_PROVINCE)),
                     index=regions.index, dtype=object)


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
    for column in ("holder_kind", "fee_form", "grade", "region", "patent_kind"):
        frame[column] = frame[column].fillna("")
    if "licensee_region" in frame:
        for column in ("basis", "licensee_size", "licensee_region"):
            frame[column] = frame[column].fillna("")
        frame["licensee_locality"] = locality(frame["licensee_region"])
    else:  # a declaration has no licensee: these groups leave it out (NaN)
        for column in LICENSEE_DIMENSIONS:
            frame[column] = pd.Series(np.nan, index=frame.index, dtype=object)
    return frame


def _utc(series: pd.Series) -> pd.Series:
    # SQLite gives ISO text (with or without microseconds), PostgreSQL aware datetimes: both parse at once.
    return pd.to_datetime(series, utc=True, format="ISO8601")


def _day(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, format="ISO8601")


def fetch_columns(queryset, columns: dict) -> tuple[list[str], list[tuple]]:
    """``columns`` ({name: field path or expression}) of ``queryset``'s rows in one statement, straight from the
    cursor: the names in the order the rows hold them, and the rows. No model instances and no per-value
    converters, which were most of the dashboard's time (bench/findings.md §3)."""
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
    return [aliases[alias] for alias in selected], rows


def fetch_frame(queryset, columns: dict, *, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """``fetch_columns`` as a frame with the columns in ``columns``' order, ``text`` ones as text (NULL as NaN,
    '' kept), the others as pandas infers them. On PostgreSQL the rows come through ``COPY (...) TO STDOUT`` as
    CSV, parsed by pandas' C reader: no Python object per value (at a year's 55k licences the cursor's tuples
    and their conversion to arrays cost more than the statement)."""
    if connection.vendor != "postgresql":
        names, rows = fetch_columns(queryset, columns)
        frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=False)[list(columns)]
        for name in text:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), np.nan)
        return frame
    import io

    aliases = {f"c{i}": name for i, name in enumerate(columns)}
    query = queryset.values(**{alias: F(columns[name]) if isinstance(columns[name], str) else columns[name]
                               for alias, name in aliases.items()}).query
    selected = list(query.selected) if query.selected else [
        *query.extra_select, *query.values_select, *query.annotation_select]
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '\\N')", params) as copy:  # noqa: S608
        data = b"".join(copy)
    names = [aliases[alias] for alias in selected]
    if not data:
        return pd.DataFrame({name: pd.Series(dtype=object if name in text else float) for name in columns})
    frame = pd.read_csv(io.BytesIO(data), names=names, header=None, na_values=["\\N"], keep_default_na=False,
                        dtype=dict.fromkeys(text, object))
    return frame[list(columns)]


def read_frame(queryset, columns: dict) -> pd.DataFrame:
    """``fetch_columns`` as a frame (pandas infers each column's type)."""
    names, rows = fetch_columns(queryset, columns)
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=False)
    return frame[list(columns)]


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
        "pk": "pk", "patent_id": "patent_id", "filed_at": _moment("filed_at"), "announced_on": _moment("announced_on"),
        "withdrawn_at": _moment("withdrawn_at"), "fee_form": "fee_form", "grade": _grade(),
        "technology_field": "patent__technology_field", "patent_kind": "patent__kind", "holder_id": "holder_id",
        "holder_kind": "holder__kind", "region": "holder__province"})
    for column in ("filed_at", "withdrawn_at"):
        frame[column] = _utc(frame[column])
    frame["announced_on"] = _day(frame["announced_on"])
    return _dimensions(frame)


# A licence with no fee of any kind: a lump sum of 0, or a royalty of 0 % with no entry fee and no minimum. A
# royalty licence with nothing up front is not free (it was counted free by its first amount before issue 19).
FREE_LICENCE = (Q(fee_form="lump_sum", lump_sum_fen=0)
                | (Q(fee_form__in=("royalty", "entry_plus_royalty")) & Q(royalty_rate=0)
                   & (Q(entry_fee_fen__isnull=True) | Q(entry_fee_fen=0))
                   & (Q(annual_minimum_fen__isnull=True) | Q(annual_minimum_fen=0))))


def licence_frame(*, period: Period | None = None, declarations=None) -> pd.DataFrame:
    """One row per licence taken (activated), without its dimensions (Frames adds them): with ``period``, those
    activated before its end (in it, and the earlier ones whose licensees count for the patents licensed in
    it), every licence of the declarations published in it (the cohort) and the licences of the payments
    succeeded in it. No join: a licence row is wide (the terms text), so reading it twice costs; for the same
    reason the earlier licences come with the one scan rather than through a second look at the table for the
    patents licensed in the period (which took longer than reading them)."""
    rows = Licence.objects.filter(activated_at__isnull=False)
    if declarations is not None:
        rows = rows.filter(declaration_id__in=declarations.values("pk"))
    if period is not None:
        cohort = Declaration.objects.filter(filed_at__gte=period.start, filed_at__lt=period.end)
        paid = _paid_payments(period).values("licence_id")
        first_day, after_last = timezone.localdate(period.start), timezone.localdate(period.end)
        announced = Declaration.objects.filter(announced_on__gte=first_day, announced_on__lt=after_last)
        rows = rows.filter(Q(activated_at__lt=period.end) | Q(declaration_id__in=cohort.values("pk"))
                           | Q(declaration_id__in=announced.values("pk")) | Q(pk__in=paid))
    frame = read_frame(rows.order_by(), {
        "pk": "pk", "patent_id": "patent_id", "licensor_id": "licensor_id", "licensee_id": "licensee_id",
        "declaration_id": "declaration_id",
        "activated_at": _moment("activated_at"), "notice_submitted_at": _moment("notice_submitted_at"),
        "first_amount_fen": "first_amount_fen", "starts_on": _moment("starts_on"),
        "recorded_on": _moment("recorded_on"), "fee_form": "fee_form", "basis": "basis",
        "free": ExpressionWrapper(FREE_LICENCE, output_field=BooleanField())})
    for column in ("activated_at", "notice_submitted_at"):
        frame[column] = _utc(frame[column])
    for column in ("starts_on", "recorded_on"):
        frame[column] = _day(frame[column])
    frame["first_amount_fen"] = frame["first_amount_fen"].astype("int64")
    frame["free"] = frame["free"].fillna(False).astype(bool)
    return frame


def _paid_payments(period: Period | None):
    rows = Payment.objects.filter(state__in=PAID_PAYMENT_STATES, succeeded_at__isnull=False)
    if period is not None:
        rows = rows.filter(succeeded_at__gte=period.start, succeeded_at__lt=period.end)
    return rows


def payment_frame(*, period: Period | None = None) -> pd.DataFrame:
    """One row per paid payment (net of refunds; succeeded in ``period``), without its licence's dimensions."""
    frame = read_frame(_paid_payments(period).order_by(), {
        "licence_id": "licence_id", "state": "state", "succeeded_at": _moment("succeeded_at"),
        "amount_fen": "amount_fen", "voucher_fen": "voucher_fen", "refunded_fen": "refunded_fen"})
    frame["succeeded_at"] = _utc(frame["succeeded_at"])
    for column in ("amount_fen", "voucher_fen", "refunded_fen"):
        frame[column] = frame[column].astype("int64")
    return frame


def organisation_frame() -> pd.DataFrame:
    """Every organisation's kind, region and size class (a narrow table: the licensors' and the licensees'
    dimensions)."""
    from marketplace.parties.models import Organisation

    return read_frame(Organisation.objects.order_by(), {"pk": "pk", "kind": "kind", "province": "province",
                                                        "size": "size"})


def patent_dimensions(patent_ids) -> pd.DataFrame:
    """Technology field, kind and grade of these patents (those no declaration of the frame already carries)."""
    from patents.models import Patent

    return read_frame(Patent.objects.filter(pk__in=list(patent_ids)).order_by(), {
        "patent_id": "pk", "technology_field": "technology_field", "patent_kind": "kind", "grade": _grade("")})


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
        patents = d[["patent_id", "technology_field", "patent_kind", "grade"]].drop_duplicates("patent_id")
        missing = set(lic["patent_id"].unique()) - set(patents["patent_id"])
        if missing:
            patents = pd.concat([patents, patent_dimensions(missing)], ignore_index=True)
        lic = lic.merge(patents, on="patent_id", how="left", validate="many_to_one")
        organisations = organisation_frame()
        licensors = organisations[["pk", "kind", "province"]].rename(
            columns={"pk": "licensor_id", "kind": "holder_kind", "province": "region"})
        licensees = organisations[["pk", "province", "size"]].rename(
            columns={"pk": "licensee_id", "province": "licensee_region", "size": "licensee_size"})
        lic = lic.merge(licensors, on="licensor_id", how="left", validate="many_to_one")
        lic = lic.merge(licensees, on="licensee_id", how="left", validate="many_to_one")
        lic["holder_id"] = lic["licensor_id"]
        lic = _dimensions(lic)
        pay = pay.merge(lic[["pk", "declaration_id", "holder_id", *DIMENSIONS]].rename(columns={"pk": "licence_id"}),
                        on="licence_id", how="inner", validate="many_to_one")
        first = lic.groupby("declaration_id")["activated_at"].min()
        d["first_licence_at"] = pd.to_datetime(first.reindex(d["pk"].to_numpy()).to_numpy(), utc=True)
        recorded = lic[lic.recorded_on.notna()].groupby("declaration_id")["recorded_on"].min()
        d["first_recorded_on"] = pd.to_datetime(recorded.reindex(d["pk"].to_numpy()).to_numpy())
        # The deal rate of CNIPA-announced declarations counts statutory licences (taken after the announcement).
        statutory = lic[lic.basis == LicenceBasis.STATUTORY.value]
        first = statutory.groupby("declaration_id")["activated_at"].min()
        d["first_statutory_at"] = pd.to_datetime(first.reindex(d["pk"].to_numpy()).to_numpy(), utc=True)
        recorded = statutory[statutory.recorded_on.notna()].groupby("declaration_id")["recorded_on"].min()
        d["first_statutory_recorded_on"] = pd.to_datetime(recorded.reindex(d["pk"].to_numpy()).to_numpy())
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


def grouped_quantiles(values, groups, q: float) -> dict:
    """{group: the q-quantile of its values, as ``_quantile`` gives it}, NaN values and missing groups left out
    as a groupby leaves them (a group without a value is absent, which reads as None). The same numpy call per
    group on arrays split once: a groupby's ``agg`` with a Python function cost more than the ranking."""
    codes, uniques = pd.factorize(np.asarray(groups, dtype=object), use_na_sentinel=True)
    return coded_quantiles(values, codes, uniques, q)


def coded_quantiles(values, codes: np.ndarray, uniques, q: float) -> dict:
    """``grouped_quantiles`` over groups already factorised (``codes`` into ``uniques``, -1: no group)."""
    values = np.asarray(values, dtype=float)
    kept = (codes >= 0) & ~np.isnan(values)
    codes, values = codes[kept], values[kept]
    order = np.argsort(codes, kind="stable")
    codes, values = codes[order], values[order]
    if not len(codes):
        return {}
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    return {uniques[codes[start]]: round(float(np.quantile(values[start:end], q)), 1)
            for start, end in zip(starts, ends, strict=True)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


ALL = "(all)"


def _by(frame: pd.DataFrame, key: str | None):
    """The frame grouped by ``key`` (None: one group, ALL)."""
    return frame.groupby(key if key else np.full(len(frame), ALL, dtype=object), sort=False, dropna=True)


def _keyed(frame: pd.DataFrame, key: str | None) -> tuple[pd.DataFrame, str]:
    """``frame`` with a column to group by: ``key``'s, or one ALL group."""
    if key:
        return frame, key
    return frame.assign(_all=ALL), "_all"


def _multi_licensee(concluded: pd.DataFrame, history: pd.DataFrame, key: str | None) -> tuple[dict, dict]:
    """Per group of ``key``: the patents licensed in the period (``concluded``) and how many of them had two
    or more distinct licensees among all the licences taken before the period's end (``history``), whoever
    took them: for a licensee's dimension, "of the patents small enterprises licensed, those licensed to two
    or more"."""
    concluded, column = _keyed(concluded, key)
    licensees = history.groupby("patent_id", sort=False)["licensee_id"].nunique()
    pairs = concluded[[column, "patent_id"]].dropna().drop_duplicates()
    multi = pairs["patent_id"].map(licensees).fillna(0) >= 2
    patents = pairs.groupby(column, sort=False).size().to_dict()
    return patents, multi.groupby(pairs[column], sort=False).sum().to_dict()


def indicator_figures(*, label: str, end, as_of: datetime, n_days: int, count, fee_volume_fen: int,
                      voucher_paid_fen: int, open_patents: int, licensed_patents: int, multi_licensee: int,
                      median_first, p90_first, median_payment) -> dict:
    """One group's indicators from its counts, the one assembly of the figures for every path (the pandas
    reference here, the facts and the month aggregates in marketplace.office.aggregates and .monthly).
    ``count(name)``: the group's count of ``name`` (published, withdrawn, licensed, quick, recorded_deals,
    announced, statutory_deals, statutory_recorded, statutory, concluded, free, paid, due, recorded); ``end``:
    the period's end (the cohort is mature N days after it)."""
    concluded_n = count("concluded")
    return {
        "period": label, "as_of": as_of.isoformat(), "quick_licence_days": n_days,
        "declarations_published": count("published"),
        "declarations_withdrawn": count("withdrawn"),
        "patents_under_open_licence": open_patents,
        "licences_concluded": concluded_n,
        "licences_free": count("free"),
        "licences_paid": count("paid"),
        "free_licence_share": _share(count("free"), concluded_n),
        "fee_volume_fen": fee_volume_fen,
        "voucher_paid_fen": voucher_paid_fen,
        "voucher_share_of_fee_volume": _share(voucher_paid_fen, fee_volume_fen) if fee_volume_fen > 0 else None,
        "quick_licence_deal_rate": _share(count("quick"), count("published")),
        "quick_licence_rate_mature": bool(pd.Timestamp(end) + pd.Timedelta(days=n_days) <= pd.Timestamp(as_of)),
        "overall_conversion": _share(count("licensed"), count("published")),
        "deal_rate_recorded": _share(count("recorded_deals"), count("published")),
        "declarations_announced": count("announced"),
        "deal_rate_announced": _share(count("statutory_deals"), count("announced")),
        "deal_rate_announced_recorded": _share(count("statutory_recorded"), count("announced")),
        "licences_statutory": count("statutory"),
        "median_days_to_first_licence": median_first,
        "p90_days_to_first_licence": p90_first,
        "median_days_notice_to_payment": median_payment,
        "recording_compliance": _share(count("recorded"), count("due")),
        "licences_per_licensed_patent": (round(concluded_n / licensed_patents, 2)
                                         if concluded_n and licensed_patents else None),
        "licensed_patents": licensed_patents,
        "multi_licensee_share": _share(multi_licensee, licensed_patents),
    }


def grouped_indicators(frames: Frames, period: Period, key: str | None = None, *, as_of: datetime | None = None,
                       n_days: int | None = None) -> dict:
    """Every indicator of ``indicators`` for each value of the dimension ``key`` at once (one pandas groupby
    per measure, not one pass over the frames per value), as {value: figures}; ``key`` None gives the
    totals under ALL. A value appears when any of its rows is in the frames."""
    as_of = as_of or timezone.now()
    n_days = n_days or quick_licence_days()
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    as_of_ts = pd.Timestamp(as_of)
    as_of_day = pd.Timestamp(timezone.localdate(as_of))
    d, lic, pay = frames.declarations, frames.licences, frames.payments

    published = d[(d.filed_at >= start) & (d.filed_at < end)]
    withdrawn = d[(d.withdrawn_at >= start) & (d.withdrawn_at < end)]
    open_at_end = d[(d.filed_at < end) & (d.withdrawn_at.isna() | (d.withdrawn_at >= end))]
    licensed = published[published.first_licence_at.notna() & (published.first_licence_at <= as_of_ts)]
    licensed = licensed.assign(to_first=_days(licensed.first_licence_at - licensed.filed_at))
    quick = licensed[licensed.to_first <= n_days]
    recorded_deals = published[published.first_recorded_on.notna() & (published.first_recorded_on <= as_of_day)]
    first_day, after_last = pd.Timestamp(timezone.localdate(period.start)), pd.Timestamp(timezone.localdate(period.end))
    announced = d[(d.announced_on >= first_day) & (d.announced_on < after_last)]
    statutory_deals = announced[announced.first_statutory_at.notna() & (announced.first_statutory_at <= as_of_ts)]
    statutory_recorded = announced[announced.first_statutory_recorded_on.notna()
                                   & (announced.first_statutory_recorded_on <= as_of_day)]

    concluded = lic[(lic.activated_at >= start) & (lic.activated_at < end)]
    paid = concluded[concluded.first_amount_fen > 0]
    paid = paid.assign(to_payment=_days(paid.activated_at - paid.notice_submitted_at))
    deadline = concluded.starts_on.fillna(concluded.activated_at.dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None)
                                          .dt.normalize()) + pd.DateOffset(months=RECORDING_MONTHS)
    due = concluded[deadline <= as_of_day]
    recorded_in_time = due[due.recorded_on.notna() & (due.recorded_on <= deadline[due.index])]
    fees = pay[(pay.succeeded_at >= start) & (pay.succeeded_at < end)]
    settled = fees.state.isin([state.value for state in SETTLED_PAYMENT_STATES])
    # A payment refunded in full gave its voucher part back to the voucher: nothing of it stays paid.
    fees = fees.assign(net_fen=fees.amount_fen - fees.refunded_fen - np.where(settled, 0, fees.voucher_fen),
                       voucher_paid_fen=np.where(settled, fees.voucher_fen, 0))

    def size(frame):
        return _by(frame, key).size().to_dict()

    counts = {name: size(frame) for name, frame in [
        ("published", published), ("withdrawn", withdrawn), ("licensed", licensed), ("quick", quick),
        ("recorded_deals", recorded_deals), ("announced", announced), ("statutory_deals", statutory_deals),
        ("statutory_recorded", statutory_recorded), ("concluded", concluded), ("paid", paid), ("due", due),
        ("recorded", recorded_in_time)]}
    counts["statutory"] = size(concluded[concluded.basis == LicenceBasis.STATUTORY.value])
    counts["free"] = size(concluded[concluded.free])
    open_patents = _by(open_at_end, key)["patent_id"].nunique().to_dict()
    licensed_patents, multi_licensee = _multi_licensee(concluded, lic[lic.activated_at < end], key)
    fee_volume = _by(fees, key)["net_fen"].sum().to_dict()
    voucher_paid = _by(fees, key)["voucher_paid_fen"].sum().to_dict()
    median_first = _by(licensed, key)["to_first"].agg(lambda s: _quantile(s, 0.5)).to_dict()
    p90_first = _by(licensed, key)["to_first"].agg(lambda s: _quantile(s, 0.9)).to_dict()
    median_payment = _by(paid, key)["to_payment"].agg(lambda s: _quantile(s, 0.5)).to_dict()

    if key:
        values = set(d[key].dropna().unique()) | set(lic[key].dropna().unique())
    else:
        values = {ALL}
    result = {}
    for value in values:
        result[value] = indicator_figures(
            label=period.label, end=end, as_of=as_of, n_days=n_days,
            count=lambda name, value=value: int(counts[name].get(value, 0)),
            fee_volume_fen=int(fee_volume.get(value, 0)), voucher_paid_fen=int(voucher_paid.get(value, 0)),
            open_patents=int(open_patents.get(value, 0)), licensed_patents=int(licensed_patents.get(value, 0)),
            multi_licensee=int(multi_licensee.get(value, 0)), median_first=median_first.get(value),
            p90_first=p90_first.get(value), median_payment=median_payment.get(value))
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


# ------------------------------------------------------------------------------------------ tables of a period


def league_table(frames: Frames, period: Period, *, as_of: datetime | None = None) -> list[dict]:
    """Each university and institute (holder kinds LEAGUE_HOLDER_KINDS) with something in the period:
    declarations published, patents licensed and licences concluded in it, licence value (fee volume, fen) and
    its deal rate (share of its declarations published in the period licensed by ``as_of``). One groupby per
    measure over the frames, by holder; most licences first. Rows carry ``holder_id`` (names: ``named``)."""
    as_of_ts = pd.Timestamp(as_of or timezone.now())
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    d, lic, pay = frames.declarations, frames.licences, frames.payments
    d = d[d.holder_kind.isin(LEAGUE_HOLDER_KINDS)]
    published = d[(d.filed_at >= start) & (d.filed_at < end)]
    licensed = published[published.first_licence_at.notna() & (published.first_licence_at <= as_of_ts)]
    concluded = lic[(lic.activated_at >= start) & (lic.activated_at < end) & lic.holder_kind.isin(LEAGUE_HOLDER_KINDS)]
    fees = pay[(pay.succeeded_at >= start) & (pay.succeeded_at < end) & pay.holder_kind.isin(LEAGUE_HOLDER_KINDS)]
    settled = fees.state.isin([state.value for state in SETTLED_PAYMENT_STATES])
    fees = fees.assign(net_fen=fees.amount_fen - fees.refunded_fen - np.where(settled, 0, fees.voucher_fen))
    table = pd.DataFrame({
        "declarations_published": published.groupby("holder_id").size(),
        "deals": licensed.groupby("holder_id").size(),
        "licensed_patents": concluded.groupby("holder_id")["patent_id"].nunique(),
        "licences_concluded": concluded.groupby("holder_id").size(),
        "fee_volume_fen": fees.groupby("holder_id")["net_fen"].sum(),
    }).fillna(0).astype("int64")
    kinds = pd.concat([d[["holder_id", "holder_kind"]], concluded[["holder_id", "holder_kind"]]]).drop_duplicates(
        "holder_id").set_index("holder_id")["holder_kind"]
    table["holder_kind"] = kinds.reindex(table.index)
    table = table.reset_index(names="holder_id")
    table = table.sort_values(["licences_concluded", "fee_volume_fen", "declarations_published", "holder_id"],
                              ascending=[False, False, False, True])
    rows = []
    for row in table.to_dict("records"):
        published_n, deals = int(row.pop("declarations_published")), int(row.pop("deals"))
        rows.append({**{k: (int(v) if k != "holder_kind" else v) for k, v in row.items()},
                     "declarations_published": published_n, "deal_rate": _share(deals, published_n)})
    return rows


def flow_table(frames: Frames, period: Period) -> list[dict]:
    """Licences concluded in the period and their fee volume (fen), from the licensor's province to the
    licensee's, each flow marked local or out-of-province (the licensee's province against the platform's
    home): one groupby over the licences and one over the payments. Largest flows first."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    lic, pay = frames.licences, frames.payments
    concluded = lic[(lic.activated_at >= start) & (lic.activated_at < end)]
    fees = pay[(pay.succeeded_at >= start) & (pay.succeeded_at < end)]
    settled = fees.state.isin([state.value for state in SETTLED_PAYMENT_STATES])
    fees = fees.assign(net_fen=fees.amount_fen - fees.refunded_fen - np.where(settled, 0, fees.voucher_fen))
    keys = ["region", "licensee_region"]
    table = pd.DataFrame({"licences_concluded": concluded.groupby(keys).size(),
                          "fee_volume_fen": fees.groupby(keys)["net_fen"].sum()}).fillna(0).astype("int64")
    if table.empty:
        return []
    table = table.reset_index()
    table["licensee_locality"] = locality(table["licensee_region"])
    table = table.sort_values(["licences_concluded", "fee_volume_fen", "region", "licensee_region"],
                              ascending=[False, False, True, True])
    return [{"licensor_region": r["region"], "licensee_region": r["licensee_region"],
             "licensee_locality": r["licensee_locality"], "licences_concluded": int(r["licences_concluded"]),
             "fee_volume_fen": int(r["fee_volume_fen"])} for r in table.to_dict("records")]


def named(rows: list[dict], key: str = "holder_id") -> list[dict]:
    """``rows`` with each holder's names (one statement for all of them)."""
    from marketplace.parties.models import Organisation

    names = {o["pk"]: o for o in Organisation.objects.filter(pk__in=[r[key] for r in rows]).values(
        "pk", "name_zh", "name_en", "slug")}
    return [{**row, "name_zh": names.get(row[key], {}).get("name_zh", ""),
             "name_en": names.get(row[key], {}).get("name_en", "")} for row in rows]


def _month_key(value) -> str:
    """A TruncMonth value (a date, an aware datetime) as YYYY-MM in the platform's time zone."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value:%Y-%m}"


def voucher_months(period: Period, *, as_of: datetime | None = None) -> dict[str, dict]:
    """Innovation vouchers month by month over ``period`` as {"YYYY-MM": figures} (every month of it, zeros
    included), from two grouped statements: vouchers issued (count, fen) by month of issue, and vouchers that
    lapsed (expired by ``as_of`` with a balance left: count, the balance in fen) by month of expiry. What
    vouchers paid is a measure of the payments (``voucher_paid_fen`` in ``indicators``)."""
    from licensing.models.licences import Voucher

    today = timezone.localdate(as_of or timezone.now())
    tz = ZoneInfo(settings.TIME_ZONE)
    first_day = timezone.localdate(period.start)
    after_last = timezone.localdate(period.end)
    issued = (Voucher.objects.filter(issued_at__gte=period.start, issued_at__lt=period.end).order_by()
              .annotate(month=TruncMonth("issued_at", tzinfo=tz)).values("month")
              .annotate(n=Count("pk"), fen=Sum("amount_fen")))
    lapsed = (Voucher.objects.filter(expires_on__gte=first_day, expires_on__lt=min(after_last, today), balance_fen__gt=0)
              .order_by().annotate(month=TruncMonth("expires_on")).values("month")
              .annotate(n=Count("pk"), fen=Sum("balance_fen")))
    months, month = {}, first_day.replace(day=1)
    while month < after_last:
        months[f"{month:%Y-%m}"] = {"vouchers_issued": 0, "vouchers_issued_fen": 0, "vouchers_lapsed": 0,
                                    "vouchers_lapsed_fen": 0}
        month += relativedelta(months=1)
    for rows, prefix in ((issued, "vouchers_issued"), (lapsed, "vouchers_lapsed")):
        for row in rows:
            figures = months[_month_key(row["month"])]
            figures[prefix] += int(row["n"])
            figures[f"{prefix}_fen"] += int(row["fen"] or 0)
    return months


def voucher_figures(months: dict[str, dict]) -> dict:
    """The period's voucher figures: the sum of ``voucher_months``."""
    totals = dict.fromkeys(("vouchers_issued", "vouchers_issued_fen", "vouchers_lapsed", "vouchers_lapsed_fen"), 0)
    for figures in months.values():
        for name in totals:
            totals[name] += figures[name]
    return totals


def fee_reduction_granted(period: Period, *, as_of: datetime | None = None, declarations=None) -> dict:
    """The 15% open-licence reduction of annual fees granted in the period (fees that fell due in it, by
    ``as_of``, while a statutory licence was recorded: licensing.declarations.fee_selectors, the fees' own
    reading of the rule, which computes each patent's schedule; it reads only the patents with a recorded
    statutory licence), in fen, and how many patents it reached. ``declarations``: only their patents."""
    from licensing.declarations.fee_selectors import open_licence_fee_reduction_granted
    from patents.models import Patent

    last_day = min(timezone.localdate(period.end) - timedelta(days=1), timezone.localdate(as_of or timezone.now()))
    first_day = timezone.localdate(period.start)
    if last_day < first_day:
        return {"fee_reduction_granted_fen": 0, "fee_reduction_patents": 0}
    patents = None
    if declarations is not None:
        # The few patents with a recorded statutory licence (the rule's own filter, over its index) kept by the
        # filters: a subquery over the narrowed declarations made the planner visit every licence of their
        # patents (0.2-0.7 s on SQLite at 100k patents).
        recorded = (Licence.objects.filter(basis=LicenceBasis.STATUTORY, recorded_on__isnull=False,
                                           recorded_on__lte=last_day).order_by().values_list("patent_id", flat=True)
                    .distinct())
        kept = set(declarations.filter(patent_id__in=recorded).values_list("patent_id", flat=True))
        if not kept:
            return {"fee_reduction_granted_fen": 0, "fee_reduction_patents": 0}
        patents = Patent.objects.filter(pk__in=sorted(kept))
    granted = open_licence_fee_reduction_granted(today=last_day, since=first_day, patents=patents)
    return {"fee_reduction_granted_fen": granted.total_fen, "fee_reduction_patents": granted.patents}


def withdrawal_reasons(period: Period, *, declarations=None) -> list[dict]:
    """Withdrawals filed in the period by reason, most frequent first. The reason is free text (the
    declaration has no category of reasons), so one grouped statement groups by the reason trimmed and in
    lower case, and each group shows one of its texts as written. ``declarations``: only these (declarations,
    or their statistics facts, whose primary key is the declaration's)."""
    # A withdrawal counts when the holder files it (with its reason); one recorded before withdrawals were filed
    # at CNIPA has only its withdrawal time.
    rows = (Declaration.objects.annotate(withdrawal_at=Coalesce("withdrawal_filed_at", "withdrawn_at"))
            .filter(withdrawal_at__gte=period.start, withdrawal_at__lt=period.end))
    if declarations is not None:
        # The period's withdrawals first (over declaration_withdrawal_at: a few hundred), then those the filters
        # keep: a subquery over the narrowed declarations made SQLite visit each of them (20-90 ms at 100k).
        withdrawn = list(rows.order_by().values_list("pk", flat=True))
        rows = rows.filter(pk__in=list(declarations.filter(pk__in=withdrawn).values_list("pk", flat=True)))
    grouped = (rows.order_by().annotate(reason_key=Lower(Trim("withdrawal_reason"))).values("reason_key")
               .annotate(withdrawals=Count("pk"), reason=Min(Trim("withdrawal_reason")))
               .order_by("-withdrawals", "reason_key"))
    return [{"reason": row["reason"], "withdrawals": row["withdrawals"]} for row in grouped]


FUNNEL_STAGES = ["inventoried", "good_prospects", "declared", "announced", "licensed", "recorded"]


def inventory_funnel(*, as_of: datetime | None = None, from_facts: bool = False) -> list[dict]:
    """Each holder's inventory funnel as of ``as_of``, in patents: inventoried (in the inventory), with good
    prospects (grade A or B, the holder's grade where set), declared (with a declaration filed at CNIPA),
    announced (with a declaration CNIPA announced), licensed (with a licence taken) and recorded (with a
    licence recorded at CNIPA). Each stage counts the holder's patents
    that reached it, whatever their grade. Three grouped statements (patents, declarations, licences by
    holder; ``from_facts``: the declarations and licences from the statistics facts); holders with most patents
    first."""
    from patents.models import Patent

    as_of = as_of or timezone.now()
    declarations, licences = Declaration.objects.all(), Licence.objects.all()
    if from_facts:  # the same rows, narrow (marketplace.office.facts): filed declarations, licences taken
        from marketplace.models import DeclarationFact, LicenceFact

        declarations = DeclarationFact.objects.all()
        licences = LicenceFact.objects.annotate(licensor_id=F("holder_id"))
    good = Q(grade_override__in=GOOD_PROSPECT_GRADES) | Q(grade_override="", grade_computed__in=GOOD_PROSPECT_GRADES)
    patents = pd.DataFrame.from_records(
        Patent.objects.order_by().values("holder_id").annotate(
            inventoried=Count("pk"), good_prospects=Count("pk", filter=good)),
        columns=["holder_id", "inventoried", "good_prospects"])
    declared = pd.DataFrame.from_records(
        declarations.filter(filed_at__lte=as_of).order_by().values("holder_id").annotate(
            declared=Count("patent_id", distinct=True),
            announced=Count("patent_id", distinct=True, filter=Q(announced_on__lte=timezone.localdate(as_of)))),
        columns=["holder_id", "declared", "announced"])
    licensed = pd.DataFrame.from_records(
        licences.filter(activated_at__lte=as_of).order_by().values("licensor_id").annotate(
            licensed=Count("patent_id", distinct=True),
            recorded=Count("patent_id", distinct=True, filter=Q(recorded_on__lte=timezone.localdate(as_of)))),
        columns=["licensor_id", "licensed", "recorded"]).rename(columns={"licensor_id": "holder_id"})
    table = (patents.merge(declared, on="holder_id", how="left").merge(licensed, on="holder_id", how="left")
             .fillna(0))
    table[FUNNEL_STAGES] = table[FUNNEL_STAGES].astype("int64")
    table = table.sort_values(["inventoried", "declared", "holder_id"], ascending=[False, False, True])
    return [{k: int(v) for k, v in row.items()} for row in table.to_dict("records")]


def funnel_totals(rows: list[dict]) -> dict:
    return {stage: sum(row[stage] for row in rows) for stage in FUNNEL_STAGES}


# ------------------------------------------------------------------------------------------------ snapshots


# Set in a snapshot's indicators when the dashboard stored a closed month it needed (nobody published it):
# the trend shows it as computed, and compute_statistics publishes over it without --force.
STORED_BY = "stored_by"
STORED_BY_DASHBOARD = "dashboard"
DASHBOARD_SNAPSHOT_DIMENSIONS = ["technology_field", "sector", "holder_kind", "fee_form", "grade", "region"]


def snapshot_is_published(snapshot) -> bool:
    return snapshot.indicators.get(STORED_BY) != STORED_BY_DASHBOARD


def snapshot_month(*, year: int, month: int, force: bool = False, as_of: datetime | None = None,
                   publish: bool = True, frames: Frames | None = None, n_days: int | None = None,
                   read_window=None):
    """Compute and store the month's snapshot (every indicator and every breakdown), so that published figures
    stay as published: an existing published snapshot is kept unless ``force``. ``publish`` False is the
    dashboard storing a closed month once instead of computing it on every request (kept whatever exists;
    marked STORED_BY_DASHBOARD). ``frames``: already read and covering the month (else read for it);
    ``read_window(period, dimensions=..., as_of=..., n_days=...)``: computed from the statistics facts instead (the
    same figures; the caller binds marketplace.office.aggregates.Window.read, which this module must not import:
    aggregates builds on it).
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
        dimensions = DIMENSIONS if publish else DASHBOARD_SNAPSHOT_DIMENSIONS
        if read_window is not None:  # one read of the month's facts for every figure and breakdown
            window = read_window(period, dimensions=dimensions, as_of=as_of, n_days=n_days)
            figures = window.grouped(None)[ALL]
        else:
            window = None
            frames = frames if frames is not None else Frames.load(period=period)
            figures = indicators(frames, period, as_of=as_of, n_days=n_days)
        figures.update(voucher_figures(voucher_months(period, as_of=as_of)))
        figures.update(fee_reduction_granted(period, as_of=as_of))
        if not publish:
            figures[STORED_BY] = STORED_BY_DASHBOARD
        # A month the dashboard stores serves its trend (the indicators): it keeps the breakdowns it kept before
        # issue 19 and no more, so that the first visitor does not wait for tables nobody reads from it. A
        # published month keeps every breakdown and the month's tables; the funnel is a stock of today's
        # inventory, not the month's: kept as of the computation.
        breakdowns = {dimension: window.breakdown(dimension) if window else breakdown(
            frames, period, dimension, as_of=as_of, n_days=n_days) for dimension in dimensions}
        if publish:
            breakdowns["league"] = named(window.league() if window else league_table(frames, period, as_of=as_of))
            breakdowns["flows"] = window.flows() if window else flow_table(frames, period)
            breakdowns["withdrawal_reasons"] = withdrawal_reasons(period)
            breakdowns["funnel"] = named(inventory_funnel(as_of=as_of))
        snapshot, created = StatisticsSnapshot.objects.update_or_create(
            month=first, quick_licence_days=n_days,
            defaults={"indicators": figures, "breakdowns": breakdowns, "computed_at": timezone.now()})
        if publish:
            statistics_changed()  # cached dashboards show the month as published from now on
    return snapshot, created or (existing is not None and not snapshot_is_published(existing))


__all__ = ["ALL", "DIMENSIONS", "FUNNEL_STAGES", "Frames", "Period", "SHARE_FIGURES", "breakdown", "flow_table",
           "funnel_totals", "grouped_indicators", "home_region", "indicators", "inventory_funnel", "league_table",
           "fee_reduction_granted", "monthly", "named", "quick_licence_days", "read_frame", "snapshot_is_published",
           "snapshot_month", "voucher_figures", "voucher_months", "withdrawal_reasons"]
