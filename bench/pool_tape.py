"""How long a 100k-licence pool tape takes to compute and export, against a same-run baseline. For bench/run.py
(`benchmark`): ``manage.py export_pool`` of a frozen 100k-licence pool, Parquet <= 10 s and CSV <= 20 s (issue #18).

    DJANGO_SETTINGS_MODULE=marketplace.settings.test .venv/bin/python bench/pool_tape.py [--licences 100000]

It generates licence facts directly (seeded, so every run computes the same pool; no database), then times:
selection + schedules + DCF (marketplace.pools.services.build_tape), the three frames, and the exporter writing
Parquet and CSV (chunked, with formula neutralising, ZIP of three files). The baseline writes prebuilt
frames of the same shape straight through pyarrow (parquet.write_table, csv.write_csv) into the same kind of
ZIP: what the tape costs over the bare writer. Medians of --repeat runs; files go to a temporary folder.

With --database it also writes the same licences (bulk_create) into a throwaway SQLite database and times
the real path: loading the facts (licence_facts), freezing the pool (pool_freeze) and exporting the frozen
pool from its stored rows (pool_frozen_tape + the exporter), i.e. what ``manage.py export_pool`` does.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")
if "--database" in sys.argv:
    DB_FOLDER = tempfile.mkdtemp(prefix="pool-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_FOLDER}/bench.sqlite3"
    os.environ["PRIVATE_MEDIA_ROOT"] = DB_FOLDER

import django  # noqa: E402

django.setup()

import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from marketplace.pools import exports as tape_exports  # noqa: E402
from marketplace.pools import services as pools  # noqa: E402

CUT_OFF = date(2026, 6, 30)
FIELDS = list(range(1, 36))


def synthetic_facts(n: int, seed: int = 7) -> list[pools.LicenceFacts]:
    """n active licences: 60% royalty, 25% entry fee plus royalty, 15% lump sum (those have nothing left to
    receive and drop out), 20k licensees, 2k holders, 0-8 quarterly reports each."""
    rng = random.Random(seed)
    facts = []
    for i in range(1, n + 1):
        roll = rng.random()
        fee_form = "royalty" if roll < 0.6 else "entry_plus_royalty" if roll < 0.85 else "lump_sum"
        starts = CUT_OFF - timedelta(days=rng.randint(30, 900))
        years = rng.randint(3, 10)
        ends = pools.add_years(starts, years) - timedelta(days=1)
        expiry = starts + timedelta(days=rng.randint(365 * 2, 365 * 18))
        reports, start = [], starts
        for _q in range(rng.randint(0, 8)):
            end = start + timedelta(days=89)
            if end > CUT_OFF or end > ends:
                break
            base = rng.randint(0, 50_000_000)
            royalty = base * 3 // 100
            reports.append(pools.ReportFact(start, end, base, royalty, royalty))
            start = end + timedelta(days=1)
        royalty_rate = None if fee_form == "lump_sum" else Decimal(rng.choice(["1.50", "2.00", "3.00", "5.00"]))
        facts.append(pools.LicenceFacts(
            licence_id=i, certificate_number=f"OL2026{i:08d}", licensee_id=rng.randint(1, 20_000),
            licensee_uscc=f"91440300{i:010d}", licensee_kind="enterprise", licensee_region=rng.choice(
                ["广东省", "江苏省", "浙江省", "北京市", "上海市"]), licensee_industry=rng.choice(
                ["储能设备制造", "=cmd|' /C calc'!A0", "医疗器械", "新能源汽车"]),
            licensor_id=100_000 + rng.randint(1, 2_000), licensor_uscc=f"12110000{i:010d}",
            declaration_published=rng.random() < 0.9, patent_number=f"CN2020{i:07d}.X", patent_kind="invention",
            main_ipc="H01M 10/44", technology_field=rng.choice(FIELDS), grade=rng.choice("ABCD"),
            legal_status="granted", grant_date=starts - timedelta(days=400), expiry_date=expiry,
            pledged=rng.random() < 0.05, fee_form=fee_form, royalty_base="net_sales" if royalty_rate else "",
            royalty_rate=royalty_rate, lump_sum_fen=5_000_000 if fee_form == "lump_sum" else None,
            entry_fee_fen=3_000_000 if fee_form == "entry_plus_royalty" else None,
            annual_minimum_fen=rng.choice([None, 1_000_000, 2_000_000]) if royalty_rate else None,
            starts_on=starts, ends_on=ends, recording_number=f"2026{i:09d}" if rng.random() < 0.7 else "",
            recorded=rng.random() < 0.7, collected_fen=rng.randint(0, 10_000_000), paid_payments=1,
            reports=tuple(reports)))
    return facts


def timed(fn, repeat: int, deadline: float = float("inf")):
    """Median seconds of up to `repeat` calls (at least one; no new call once `deadline`, a perf_counter time,
    would be passed by another call as long as the slowest so far) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        if times and time.perf_counter() + max(times) > deadline:
            break
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def baseline_parquet(frames: dict, path: Path, schemas: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, frame in frames.items():
            buffer = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(frame, schema=schemas[name], preserve_index=False), buffer,
                           compression="zstd")
            archive.writestr(f"{name}.parquet", buffer.getvalue())


def baseline_csv(frames: dict, path: Path, schemas: dict) -> None:
    # Deflated at the exporter's level (marketplace.pools.exports.CSV_DEFLATE_LEVEL): the same kind of ZIP.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=tape_exports.CSV_DEFLATE_LEVEL) as archive:
        for name, frame in frames.items():
            buffer = io.BytesIO()
            pacsv.write_csv(pa.Table.from_pandas(frame, schema=schemas[name], preserve_index=False), buffer)
            archive.writestr(f"{name}.csv", buffer.getvalue())


def load_database(facts: list[pools.LicenceFacts]) -> None:
    """The facts as rows: organisations, patents, published declarations, active licences, their first
    payment and royalty reports, written with bulk_create (no per-row validation: the generator is trusted)."""
    from django.utils import timezone

    from licensing.models import Declaration, LicenceTerms, LicenceTermsVersion
    from licensing.models.licences import Licence, Payment, RoyaltyReport
    from marketplace.parties.models import Organisation
    from patents.models import Patent

    terms = LicenceTerms.objects.create(name_zh="标准条款", name_en="Standard terms", clauses_zh="第一条", clauses_en="1.")
    version = LicenceTermsVersion.objects.create(terms=terms, number=1, name_zh="标准条款", name_en="Standard terms",
                                                 clauses_zh="第一条", clauses_en="1.", sha256="0" * 64)
    orgs = {}
    for f in facts:
        orgs.setdefault(f.licensee_id, Organisation(pk=f.licensee_id, kind="enterprise", slug=f"l{f.licensee_id}",
                                                    name_zh=f"被许可企业{f.licensee_id}", uscc=f"L{f.licensee_id:017d}",
                                                    province=f.licensee_region, is_licensee=True))
        orgs.setdefault(f.licensor_id, Organisation(pk=f.licensor_id, kind="university", slug=f"h{f.licensor_id}",
                                                    name_zh=f"大学{f.licensor_id}", uscc=f"H{f.licensor_id:017d}",
                                                    province="北京市", is_holder=True))
    Organisation.objects.bulk_create(orgs.values(), batch_size=5000)
    now = timezone.now()
    Patent.objects.bulk_create([Patent(
        pk=f.licence_id, holder_id=f.licensor_id, number=f.patent_number, number_original=f.patent_number,
        kind=f.patent_kind, title="一种储能装置", main_ipc=f.main_ipc, technology_field=f.technology_field,
        filing_date=f.grant_date - timedelta(days=700), grant_date=f.grant_date, expiry_date=f.expiry_date,
        legal_status=f.legal_status, pledged=f.pledged, grade_computed=f.grade) for f in facts], batch_size=5000)
    offer = lambda f: {"fee_form": f.fee_form, "lump_sum_fen": f.lump_sum_fen, "entry_fee_fen": f.entry_fee_fen,  # noqa: E731
                       "royalty_base": f.royalty_base, "royalty_rate": f.royalty_rate,
                       "annual_minimum_fen": f.annual_minimum_fen}
    Declaration.objects.bulk_create([Declaration(
        pk=f.licence_id, patent_id=f.licence_id, holder_id=f.licensor_id, terms_version=version, state="filed",
        payment_method="在线支付", duration_years=3, contact_name="王老师", contact_email="tto@example.edu.cn",
        filed_at=now, **offer(f)) for f in facts], batch_size=5000)
    Licence.objects.bulk_create([Licence(
        pk=f.licence_id, declaration_id=f.licence_id, patent_id=f.licence_id, licensor_id=f.licensor_id,
        licensee_id=f.licensee_id, state="active", notice_legal_name="被许可企业", notice_contact_name="李经理",
        notice_contact_email="li@example.cn", notice_field_of_use=f.licensee_industry, notice_submitted_at=now,
        terms_version=version, terms_text="第一条", terms_sha256="0" * 64, duration_years=3, first_amount_fen=0,
        starts_on=f.starts_on, ends_on=f.ends_on, activated_at=now, certificate_number=f.certificate_number,
        recording_number=f.recording_number, recorded_on=f.starts_on if f.recorded else None, **offer(f))
        for f in facts], batch_size=5000)
    paid_at = timezone.make_aware(datetime.combine(CUT_OFF - timedelta(days=400), datetime.min.time()))
    Payment.objects.bulk_create([Payment(
        licence_id=f.licence_id, purpose="first_amount", state="succeeded", amount_fen=f.collected_fen,
        charge_fen=f.collected_fen, succeeded_at=paid_at) for f in facts], batch_size=5000)
    RoyaltyReport.objects.bulk_create([RoyaltyReport(
        licence_id=f.licence_id, period_start=r.period_start, period_end=r.period_end,
        base_amount_fen=r.base_amount_fen, royalty_fen=r.royalty_fen, amount_due_fen=r.amount_due_fen,
        due_on=r.period_end + timedelta(days=30)) for f in facts for r in f.reports], batch_size=5000)


def run_database(facts: list[pools.LicenceFacts], criteria: pools.Criteria, repeat: int) -> None:
    from django.core.management import call_command

    from marketplace.models.pools import Pool
    from marketplace.parties.models import User

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - start
    start = time.perf_counter()
    load_database(facts)
    print(f"database: migrated in {migrate_s:.1f} s, {len(facts):,} licences written in "
          f"{time.perf_counter() - start:.1f} s (SQLite, {DB_FOLDER})")
    facts_s, loaded = timed(lambda: pools.licence_facts(cut_off=CUT_OFF), repeat)
    print(f"licence_facts (load every active licence, its payments and reports): {facts_s:.2f} s, {len(loaded):,}")
    officer = User.objects.create_superuser(email="bench@example.cn", username="bench@example.cn", password="bench-only-pass-1")  # noqa: S106
    pool = pools.pool_create(by=officer, name="bench", cut_off_date=CUT_OFF, max_licensee_share=criteria.max_licensee_share,
                             max_holder_share=criteria.max_holder_share, discount_rate=criteria.discount_rate)
    start = time.perf_counter()
    pool = pools.pool_freeze(pool=pool, by=officer)
    print(f"pool_freeze (compute, store {pool.exposures.count():,} exposures, hash): "
          f"{time.perf_counter() - start:.2f} s")
    for fmt in ("parquet", "csv"):
        path = Path(DB_FOLDER) / f"frozen.{fmt}.zip"

        def export(fmt=fmt, path=path):
            exporter = tape_exports.PoolTapeExporter(pools.pool_frozen_tape(pool=Pool.objects.get(pk=pool.pk)))
            with path.open("wb") as handle:
                exporter.write(fmt, handle)
            return path.read_bytes()

        seconds, first = timed(export, repeat)
        print(f"{fmt:>7}: export of the frozen pool from the database (read rows, check hash, frames, write): "
              f"{seconds:.2f} s; identical bytes on a second export: {export() == first}")


def store_frozen(tape: pools.Tape, criteria: pools.Criteria):
    """`tape` stored as a frozen pool in the current database, as pool_freeze stores one (each exposure's tape
    row and schedule as JSON, the content hash over them and the pool's criteria, the typed columns), so that ``export_pool`` can
    be timed on it. Its licences are synthetic (no rows): foreign-key checks are off while the exposures are
    written, which only the bench's throwaway database allows (PostgreSQL: session_replication_role, as
    superuser)."""
    from collections import defaultdict

    from django.db import connection, transaction
    from django.utils import timezone

    from marketplace.models.pools import Pool, PoolExposure

    pool = Pool.objects.create(name="bench frozen pool", cut_off_date=criteria.cut_off,
                               max_licensee_share=criteria.max_licensee_share,
                               max_holder_share=criteria.max_holder_share, discount_rate=criteria.discount_rate)
    flows = defaultdict(list)
    for row in tape.schedule:
        flows[row["exposure_id"]].append(row)
    exposures = [PoolExposure(pool=pool, position=position, licence_id=row["licence_id"],
                              licensee_id=row["licensee_id"], holder_id=row["licensor_id"],
                              technology_field=row["technology_field"], exposure_fen=row["scheduled_receivables_fen"],
                              dcf_value_fen=row["dcf_value_fen"], tape=row, schedule=flows[row["exposure_id"]])
                 for position, row in enumerate(tape.tape, start=1)]
    if connection.vendor == "sqlite":
        with connection.constraint_checks_disabled():
            PoolExposure.objects.bulk_create(exposures, batch_size=2000)
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            PoolExposure.objects.bulk_create(exposures, batch_size=2000)
    pool.content_sha256 = pools.content_hash(pools.Criteria.of(pool).as_json(), tape.tape, tape.schedule)
    pools.frozen_columns_store(pool=pool, tape=tape.tape, flows=tape.schedule)  # as pool_freeze stores them
    Pool.objects.filter(pk=pool.pk).update(state=Pool.State.FROZEN, frozen_at=timezone.now(),
                                           content_sha256=pool.content_sha256)
    return Pool.objects.get(pk=pool.pk)


def export_stages(pool, path: Path) -> dict[str, float]:
    """Where one Parquet export of the frozen pool spends its time, one stage after the other (the export runs
    the first two side by side): the digest of the exposures' stored rows, the stored columns read and their
    content hash recomputed, the tables typed for export with the summary, and the writer."""
    from marketplace.models.pools import PoolColumns
    from marketplace.pools import tables

    stages, start = {}, time.perf_counter()

    def lap(name):
        nonlocal start
        stages[name] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()

    pools.stored_rows_digest(pool=pool)
    lap("rows_digest")
    stored = PoolColumns.objects.get(pool=pool)
    tape = tables.from_ipc(stored.tape, pools.TAPE_COLUMNS)
    flows = tables.from_ipc(stored.cash_flows, pools.SCHEDULE_COLUMNS)
    lap("read_columns")
    tables.canonical_digest(pools.Criteria.of(pool).as_json(), [("T", tape, pools.TAPE_COLUMNS),
                                                                ("S", flows, pools.SCHEDULE_COLUMNS)])
    lap("hash")
    exporter = tape_exports.PoolTapeExporter(pools.Tape(
        pool.code, pools.Criteria.of(pool).as_json(), tables.Rows(tape), tables.Rows(flows),
        content_sha256=pool.content_sha256, tables={"tape": tables.export_table(tape, pools.TAPE_COLUMNS),
                                                    "cash_flows": tables.export_table(flows, pools.SCHEDULE_COLUMNS)}))
    lap("typed_tables_and_summary")
    with path.open("wb") as handle:
        exporter.write("parquet", handle)
    lap("write")
    return stages


EXPORT_GOALS_S = {"parquet": 10, "csv": 20}  # seconds for 100k licences (issue #18), scaled for other sizes


def benchmark(repeats: int = 3, licences: int | None = None, budget_seconds: float | None = None):
    """For bench/run.py: ``manage.py export_pool`` of a frozen pool of `licences` licences (BENCH_POOL_LICENCES,
    default 100k), in Parquet and in CSV (the ZIP of three files; the tape alone as one CSV file in the details),
    against pyarrow writing prebuilt frames of the same shape into the same kind of file. The pool is computed
    from seeded synthetic licence facts and stored frozen first (not timed: details build_s and store_s).
    Medians of `repeats` exports, fewer when they would not fit in `budget_seconds` (the note says how many).
    The pool is deleted afterwards."""
    from django.core.management import call_command

    from bench.common import Figure, ratio

    started = time.perf_counter()
    deadline = started + budget_seconds if budget_seconds is not None else float("inf")
    n = licences or int(os.environ.get("BENCH_POOL_LICENCES", "100000"))
    facts = synthetic_facts(n)
    # The concentration caps of a realistic pilot (1% per licensee, 5% per holder) would empty a tiny pool.
    capped = n >= 10_000
    criteria = pools.Criteria(cut_off=CUT_OFF, max_licensee_share=Decimal("1") if capped else None,
                              max_holder_share=Decimal("5") if capped else None, discount_rate=Decimal("8"))
    build_s, tape = timed(lambda: pools.build_tape(facts, criteria, pool_code="POOL99999", added_on=CUT_OFF), 1)
    store_s, pool = timed(lambda: store_frozen(tape, criteria), 1)
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)

        def export(fmt):
            out = folder / f"{pool.code}.{fmt}"
            call_command("export_pool", pool.code, "--format", fmt, "--out", str(out), "--no-progress",
                         stdout=io.StringIO(), stderr=io.StringIO())
            return out

        exporter = tape_exports.PoolTapeExporter(pools.pool_frozen_tape(pool=pool))
        schemas = {part: exporter._arrow_schema(part) for part in tape_exports.PARTS}
        single_s, single = timed(lambda: export("tape_csv"), 1, deadline)
        for fmt, baseline in (("parquet", baseline_parquet), ("csv", baseline_csv)):
            counted: list[float] = []

            def counting(fmt=fmt, counted=counted):
                start = time.perf_counter()
                try:
                    return export(fmt)
                finally:
                    counted.append(time.perf_counter() - start)

            seconds, path = timed(counting, repeats, deadline)
            base_path = folder / f"baseline.{fmt}.zip"
            base_s, _ = timed(lambda baseline=baseline, base_path=base_path: baseline(exporter.frames, base_path, schemas),
                              repeats, deadline)
            goal_s = EXPORT_GOALS_S[fmt] * n / 100_000
            kind = "Parquet" if fmt == "parquet" else "CSV (ZIP of three files)"
            details = {"exposures": len(tape.tape), "cash_flow_rows": len(tape.schedule), "bytes": path.stat().st_size,
                       "export_s": [round(x, 2) for x in counted], "build_s": round(build_s, 2),
                       "store_s": round(store_s, 2)}
            if fmt == "csv":
                details.update(tape_csv_s=round(single_s, 2), tape_csv_bytes=single.stat().st_size)
            elif time.perf_counter() < deadline:
                details["stages_s"] = export_stages(pool, folder / "stages.parquet.zip")
            figures.append(Figure(
                name=f"export_pool of a frozen pool of {n:,} licences to {kind}", unit="s", value=round(seconds, 2),
                baseline=round(base_s, 2), baseline_label="pyarrow writing prebuilt frames of the same shape",
                ratio=round(ratio(seconds, base_s), 1), goal=f"<= {EXPORT_GOALS_S[fmt]} s for 100k licences",
                met=seconds <= goal_s, samples=len(counted),
                note="; ".join(filter(None, [
                    "" if len(counted) == repeats else (f"{len(counted)} of {repeats} exports within the budget "
                                                        f"({budget_seconds:.0f} s, BENCH_POOL_TAPE_BUDGET)"),
                    f"the tape alone as one CSV file: {single_s:.2f} s" if fmt == "csv" else ""])),
                details=details))
    pool.delete()  # its synthetic exposures point at no licence: leave nothing behind
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licences", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", action="store_true", help="also time the path through a SQLite database")
    args = parser.parse_args()

    start = time.perf_counter()
    facts = synthetic_facts(args.licences)
    generate_s = time.perf_counter() - start
    criteria = pools.Criteria(cut_off=CUT_OFF, max_licensee_share=Decimal("1"), max_holder_share=Decimal("5"),
                              discount_rate=Decimal("8"))
    build_s, tape = timed(lambda: pools.build_tape(facts, criteria, pool_code="POOL99999", added_on=CUT_OFF),
                          args.repeat)
    tape.content_sha256 = pools.content_hash(tape.criteria, tape.tape, tape.schedule)
    frames_s, exporter = timed(lambda: tape_exports.PoolTapeExporter(tape), args.repeat)
    print(f"{args.licences:,} licences generated in {generate_s:.1f} s; pool: {len(tape.tape):,} exposures, "
          f"{len(tape.schedule):,} cash-flow rows; left out {tape.excluded_counts}")
    print(f"select + schedule + DCF (build_tape): {build_s:.2f} s")
    print(f"three typed frames (PoolTapeExporter init): {frames_s:.2f} s")
    schemas = {part: exporter._arrow_schema(part) for part in tape_exports.PARTS}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for fmt in ("parquet", "csv"):
            path = folder / f"tape.{fmt}.zip"

            def write(fmt=fmt, path=path):
                with path.open("wb") as handle:
                    exporter.write(fmt, handle)

            seconds, _ = timed(write, args.repeat)
            size = path.stat().st_size
            base_path = folder / f"baseline.{fmt}.zip"
            baseline = baseline_parquet if fmt == "parquet" else baseline_csv
            base_s, _ = timed(lambda baseline=baseline, base_path=base_path: baseline(exporter.frames, base_path,
                                                                                      schemas), args.repeat)
            print(f"{fmt:>7}: exporter {seconds:.2f} s ({size / 1e6:.1f} MB); baseline pyarrow on the prebuilt "
                  f"frames {base_s:.2f} s ({base_path.stat().st_size / 1e6:.1f} MB)")
        again = folder / "again.parquet.zip"
        with again.open("wb") as handle:
            exporter.write("parquet", handle)
        same = again.read_bytes() == (folder / "tape.parquet.zip").read_bytes()
        print(f"second Parquet export byte-identical: {same}")
    if args.database:
        run_database(facts, criteria, args.repeat)


if __name__ == "__main__":
    main()
