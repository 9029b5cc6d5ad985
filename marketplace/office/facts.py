"""The statistics facts (marketplace.models.statistics): built from the licensing tables with the same frames and
derivations as marketplace.office.statistics (its definitions are the reference), then kept by the change
listeners, patent by patent: a change to a declaration, licence, payment, patent or holder rebuilds the facts of
the patents it touches (a patent's second licensee depends on all of its licences, so the patent is the unit).

Nothing here decides a figure: the dashboard's grouped SQL over these rows is in marketplace.office.aggregates,
and tests/marketplace/test_statistics_facts.py checks that it gives exactly what the pandas computation gives."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from licensing.models import Declaration
from licensing.models.licences import Licence, LicenceBasis, Payment
from marketplace.office import month_sets, monthly, statistics
from marketplace.office.statistics import SETTLED_PAYMENT_STATES

CHUNK = 10_000  # patents per pass of a rebuild: bounded memory, and the progress bar moves
# The advisory lock key that serialises the changes to the facts on PostgreSQL (``refresh``).
REFRESH_LOCK = 33_001


def facts_built() -> bool:
    from marketplace.models import StatisticsFactsBuild

    return StatisticsFactsBuild.objects.exists()


def _month(series: pd.Series) -> pd.Series:
    """YYYY-MM of aware timestamps in the platform's time zone ("" where none)."""
    local = series.dt.tz_convert(settings.TIME_ZONE)
    return local.dt.strftime("%Y-%m").fillna("")


def _day_month(series: pd.Series) -> pd.Series:
    return series.dt.strftime("%Y-%m").fillna("")


def _patents(patent_ids) -> pd.DataFrame:
    from patents.models import Patent

    rows = Patent.objects.order_by()
    if patent_ids is not None:
        rows = rows.filter(pk__in=patent_ids)
    return statistics.read_frame(rows, {"patent_id": "pk", "technology_field": "technology_field",
                                        "patent_kind": "kind", "grade": statistics._grade("")})


def _payments(licence_ids) -> pd.DataFrame:
    if not licence_ids:  # no licence taken: no statement (an empty IN matches nothing)
        return pd.DataFrame({"payment_id": pd.Series(dtype="int64"), "licence_id": pd.Series(dtype="int64"),
                             "state": pd.Series(dtype=object),
                             "succeeded_at": pd.Series(dtype="datetime64[us, UTC]"),
                             **{c: pd.Series(dtype="int64") for c in ("amount_fen", "voucher_fen", "refunded_fen")}})
    rows = statistics._paid_payments(None).filter(licence_id__in=licence_ids).order_by()
    frame = statistics.read_frame(rows, {
        "payment_id": "pk", "licence_id": "licence_id", "state": "state",
        "succeeded_at": statistics._moment("succeeded_at"), "amount_fen": "amount_fen", "voucher_fen": "voucher_fen",
        "refunded_fen": "refunded_fen"})
    frame["succeeded_at"] = statistics._utc(frame["succeeded_at"])
    return frame


def frames(patent_ids: list[int] | None, organisations: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """The three frames of facts for these patents (None: every patent)."""
    declarations = None if patent_ids is None else Declaration.objects.filter(patent_id__in=patent_ids)
    d = statistics.declaration_frame(declarations=declarations)
    lic = statistics.licence_frame(declarations=declarations)
    patents = _patents(patent_ids if patent_ids is not None else None)
    patents["technology_field"] = pd.to_numeric(patents["technology_field"]).astype("Int64")
    lic = lic.merge(patents, on="patent_id", how="left", validate="many_to_one")
    licensors = organisations[["pk", "kind", "province"]].rename(
        columns={"pk": "licensor_id", "kind": "holder_kind", "province": "region"})
    licensees = organisations[["pk", "province", "size"]].rename(
        columns={"pk": "licensee_id", "province": "licensee_region", "size": "licensee_size"})
    lic = lic.merge(licensors, on="licensor_id", how="left", validate="many_to_one")
    lic = lic.merge(licensees, on="licensee_id", how="left", validate="many_to_one")
    lic = statistics._dimensions(lic)
    lic["holder_id"] = lic["licensor_id"]

    # A declaration's first licence, first recording, and the same for its statutory licences (Frames.load).
    def first(frame, column):
        return frame.groupby("declaration_id")[column].min().reindex(d["pk"].to_numpy()).to_numpy()

    d["first_licence_at"] = pd.to_datetime(first(lic, "activated_at"), utc=True)
    d["first_recorded_on"] = pd.to_datetime(first(lic[lic.recorded_on.notna()], "recorded_on"))
    statutory = lic[lic.basis == LicenceBasis.STATUTORY.value]
    d["first_statutory_at"] = pd.to_datetime(first(statutory, "activated_at"), utc=True)
    d["first_statutory_recorded_on"] = pd.to_datetime(first(statutory[statutory.recorded_on.notna()], "recorded_on"))
    d["days_to_first_licence"] = statistics._days(d.first_licence_at - d.filed_at)
    d["filed_month"] = _month(d.filed_at)
    d["withdrawn_month"] = _month(d.withdrawn_at)
    d["announced_month"] = _day_month(d.announced_on)

    # The month each patent had its second distinct licensee, among all its licences (the history of
    # statistics._multi_licensee: a patent counts when that month is not after the period's last).
    firsts = lic.groupby(["patent_id", "licensee_id"], sort=False)["activated_at"].min().reset_index()
    firsts = firsts.sort_values(["patent_id", "activated_at"])
    second = firsts[firsts.groupby("patent_id").cumcount() == 1].set_index("patent_id")["activated_at"]
    second_at = second.reindex(lic["patent_id"].to_numpy()).to_numpy()  # NaT: one licensee at most
    lic["second_licensee_month"] = _month(pd.to_datetime(pd.Series(second_at, index=lic.index, dtype=object),
                                                         utc=True))
    lic["activated_month"] = _month(lic.activated_at)
    lic["days_notice_to_payment"] = statistics._days(lic.activated_at - lic.notice_submitted_at)
    local_day = lic.activated_at.dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None).dt.normalize()
    lic["recording_deadline"] = lic.starts_on.fillna(local_day) + pd.DateOffset(months=statistics.RECORDING_MONTHS)
    lic["licensee_province"] = lic["licensee_region"].map(statistics.province_key)

    pay = _payments(lic["pk"].tolist())
    settled = pay.state.isin([state.value for state in SETTLED_PAYMENT_STATES])
    pay["net_fen"] = pay.amount_fen - pay.refunded_fen - np.where(settled, 0, pay.voucher_fen)
    pay["voucher_paid_fen"] = np.where(settled, pay.voucher_fen, 0)
    pay["succeeded_month"] = _month(pay.succeeded_at)
    pay = pay.merge(lic[["pk", "declaration_id", "patent_id", "holder_id", "basis", "licensee_size",
                         "licensee_region", "licensee_province", *statistics.DECLARATION_DIMENSIONS]]
                    .rename(columns={"pk": "licence_id"}), on="licence_id", how="inner", validate="many_to_one")
    return d, lic, pay


DIMENSION_COLUMNS = ["patent_id", "holder_id", "technology_field", "sector", "patent_kind", "holder_kind",
                     "fee_form", "grade", "region"]
DECLARATION_COLUMNS = {"declaration_id": "pk", **{c: c for c in DIMENSION_COLUMNS}, "filed_at": "filed_at",
                       "filed_month": "filed_month", "withdrawn_at": "withdrawn_at",
                       "withdrawn_month": "withdrawn_month", "announced_on": "announced_on",
                       "announced_month": "announced_month", "first_licence_at": "first_licence_at",
                       "days_to_first_licence": "days_to_first_licence", "first_recorded_on": "first_recorded_on",
                       "first_statutory_at": "first_statutory_at",
                       "first_statutory_recorded_on": "first_statutory_recorded_on"}
LICENCE_COLUMNS = {"licence_id": "pk", "declaration_id": "declaration_id", **{c: c for c in DIMENSION_COLUMNS},
                   "licensee_id": "licensee_id", "basis": "basis", "licensee_size": "licensee_size",
                   "licensee_region": "licensee_region", "licensee_province": "licensee_province",
                   "activated_at": "activated_at", "activated_month": "activated_month", "free": "free",
                   "first_amount_fen": "first_amount_fen", "days_notice_to_payment": "days_notice_to_payment",
                   "recording_deadline": "recording_deadline", "recorded_on": "recorded_on",
                   "second_licensee_month": "second_licensee_month"}
PAYMENT_COLUMNS = {"payment_id": "payment_id", "licence_id": "licence_id", "declaration_id": "declaration_id",
                   **{c: c for c in DIMENSION_COLUMNS}, "basis": "basis", "licensee_size": "licensee_size",
                   "licensee_region": "licensee_region", "licensee_province": "licensee_province",
                   "succeeded_at": "succeeded_at", "succeeded_month": "succeeded_month", "net_fen": "net_fen",
                   "voucher_paid_fen": "voucher_paid_fen"}
MOMENTS = {"filed_at", "withdrawn_at", "first_licence_at", "first_statutory_at", "activated_at", "succeeded_at"}
DAYS = {"announced_on", "first_recorded_on", "first_statutory_recorded_on", "recording_deadline", "recorded_on"}


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as the database takes it, converted at once: moments as UTC text (SQLite keeps them so, as
    Django writes them; PostgreSQL reads the offset), days as ISO dates, NaN as NULL."""
    series = frame[name]
    if name in MOMENTS:
        utc = series.dt.tz_convert("UTC")
        text = utc.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        if connection.vendor != "sqlite":
            text = text + "+00:00"
        return [None if pd.isna(v) else v for v in text]
    if name in DAYS:
        return [None if pd.isna(v) else v for v in series.dt.strftime("%Y-%m-%d")]
    if name == "technology_field":
        return [None if pd.isna(v) else int(v) for v in series]
    if series.dtype.kind == "f":
        return [None if np.isnan(v) else float(v) for v in series]
    if series.dtype.kind in "iu":
        return [int(v) for v in series]
    if series.dtype.kind == "b":
        return [bool(v) for v in series]
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in series]


def _insert(model, frame: pd.DataFrame, columns: dict) -> int:
    if frame.empty:
        return 0
    table = model._meta.db_table
    names = list(columns)
    values = list(zip(*(_column(frame, columns[name]) for name in names), strict=True))
    sql = (f"INSERT INTO {connection.ops.quote_name(table)} ({', '.join(connection.ops.quote_name(n) for n in names)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(names))})")
    with connection.cursor() as cursor:
        for i in range(0, len(values), 5000):
            cursor.executemany(sql, values[i:i + 5000])
    return len(values)


def _as_stored(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """A frame of ``frames`` with the columns its facts table stores, named as there."""
    return frame[list(columns.values())].set_axis(list(columns), axis=1)


def _write(patent_ids: list[int] | None, organisations: pd.DataFrame) -> tuple[int, tuple[pd.DataFrame, dict]]:
    """Write the facts of these patents again; returns the rows written and the month aggregates' rows and
    month sets' cells they make (marketplace.office.monthly.contributions)."""
    from marketplace.models import DeclarationFact, LicenceFact, PaymentFact

    d, lic, pay = frames(patent_ids, organisations)
    for model in (DeclarationFact, LicenceFact, PaymentFact):
        rows = model.objects.all() if patent_ids is None else model.objects.filter(patent_id__in=patent_ids)
        rows._raw_delete(rows.db)
    # A payment's licence may be on a patent outside these (never in practice): its fact follows the licence.
    written = (_insert(DeclarationFact, d, DECLARATION_COLUMNS) + _insert(LicenceFact, lic, LICENCE_COLUMNS)
               + _insert(PaymentFact, pay, PAYMENT_COLUMNS))
    return written, monthly.contributions(_as_stored(d, DECLARATION_COLUMNS), _as_stored(lic, LICENCE_COLUMNS),
                                          _as_stored(pay, PAYMENT_COLUMNS))


def rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Every fact, from the licensing tables, in chunks of patents (all-or-nothing). Returns the rows written."""
    from marketplace.models import DeclarationFact, LicenceFact, PaymentFact, StatisticsFactsBuild
    from marketplace.office.cache import statistics_changed
    written, cells = 0, []
    with transaction.atomic():
        _lock_changes()  # the changes meanwhile wait, then apply to the rebuilt rows
        patent_ids = sorted(set(Declaration.objects.values_list("patent_id", flat=True))
                            | set(Licence.objects.filter(activated_at__isnull=False).values_list("patent_id",
                                                                                                  flat=True)))
        organisations = statistics.organisation_frame()
        for model in (DeclarationFact, LicenceFact, PaymentFact, StatisticsFactsBuild):
            model.objects.all()._raw_delete(model.objects.db)
        monthly.clear()
        month_sets.clear()
        if progress:
            progress(0, len(patent_ids))
        sets: dict = {}
        for i in range(0, len(patent_ids), CHUNK):
            chunk = patent_ids[i:i + CHUNK]
            rows, (contributions, chunk_sets) = _write(chunk, organisations)
            written += rows
            cells.append(contributions)
            month_sets.merge_into(sets, chunk_sets)  # the chunks' patents are disjoint
            if progress:
                progress(min(i + CHUNK, len(patent_ids)), len(patent_ids))
        # The month aggregates of every chunk added up, then written once; the month sets likewise.
        monthly.write(monthly.summed(*cells), add=False)
        month_sets.write(sets)
        StatisticsFactsBuild.objects.create(built_at=timezone.now(), rows=written, month_aggregates=True,
                                            month_sets=True)
        statistics_changed()
    return written


def refresh(patent_ids: Iterable[int]) -> int:
    """The facts of these patents again (their declarations, licences and payments), when the facts exist."""
    ids = sorted({int(i) for i in patent_ids if i is not None})
    if not ids or not facts_built():
        return 0
    with transaction.atomic():
        return _refresh(ids)


def _in_facts(patent_ids: list[int]) -> bool:
    """Whether any of these patents has facts, or a declaration (the facts come from its declarations)."""
    from marketplace.models import DeclarationFact, LicenceFact, PaymentFact

    return any(model.objects.filter(patent_id__in=patent_ids).exists()
               for model in (Declaration, DeclarationFact, LicenceFact, PaymentFact))


def _lock_changes() -> None:
    """PostgreSQL: one change to the facts at a time, to the end of its transaction. A change reads the stored
    facts and month sets it replaces (a bitmap is written back whole, not added to in SQL as the aggregates'
    counts): two changes reading the same cell before either commits lose one's patents or collide on the
    cell's key. SQLite serialises every writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])


def _refresh(ids: list[int]) -> int:
    from marketplace.models import StatisticsFactsBuild

    organisations = statistics.organisation_frame()
    build = StatisticsFactsBuild.objects.order_by("-built_at").first()
    aggregated = build is not None and build.month_aggregates
    with_sets = aggregated and build.month_sets  # a build before the month sets leaves them to the next one
    written = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        if not _in_facts(chunk):  # patents off the market (an import's): nothing to write, no lock to wait for
            continue
        _lock_changes()
        before, before_sets = monthly.contributions(*stored_facts(chunk)) if aggregated else (None, None)
        rows, (after, after_sets) = _write(chunk, organisations)
        written += rows
        if aggregated:  # the old facts' cells out, the new ones in (the caller's transaction holds both)
            monthly.write(monthly.summed(after, before, signs=[1, -1]), add=True)
            if with_sets:
                month_sets.replace(chunk, before_sets, after_sets)
    return written


def statistics_facts_changed(*, declaration_ids=(), payment_ids=(), patent_ids=(), organisation_ids=(),
                             **facts) -> None:
    """Listener (DECLARATION_, LICENCE_, PAYMENT_, PATENT_, ORGANISATION_CHANGE_LISTENERS): rebuild the facts of
    the patents the change touches, in the change's transaction. Vouchers are read from their own table."""
    if not (declaration_ids or payment_ids or patent_ids or organisation_ids) or not facts_built():
        return
    patents = set(patent_ids or ())
    if declaration_ids:
        patents |= set(Declaration.objects.filter(pk__in=list(declaration_ids)).values_list("patent_id", flat=True))
    if payment_ids:
        patents |= set(Payment.objects.filter(pk__in=list(payment_ids)).values_list("licence__patent_id", flat=True))
    if organisation_ids:
        orgs = list(organisation_ids)
        patents |= set(Declaration.objects.filter(holder_id__in=orgs).values_list("patent_id", flat=True))
        patents |= set(Licence.objects.filter(licensor_id__in=orgs).values_list("patent_id", flat=True))
        patents |= set(Licence.objects.filter(licensee_id__in=orgs).values_list("patent_id", flat=True))
    refresh(patents)


def stored_facts(patent_ids: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The facts of these patents as stored (before a change rewrites them)."""
    from marketplace.models import DeclarationFact, LicenceFact, PaymentFact

    def read(model, columns):
        names = {name: name for name in columns}
        return statistics.read_frame(model.objects.filter(patent_id__in=patent_ids).order_by(), names)

    return (read(DeclarationFact, DECLARATION_COLUMNS), read(LicenceFact, LICENCE_COLUMNS),
            read(PaymentFact, PAYMENT_COLUMNS))
