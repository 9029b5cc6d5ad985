"""How long a 100k-licence pool tape takes to compute and export, against a same-run baseline.

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
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
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
        pk=f.licence_id, patent_id=f.licence_id, holder_id=f.licensor_id, terms_version=version, state="published",
        payment_method="在线支付", duration_years=3, contact_name="王老师", contact_email="tto@example.edu.cn",
        published_at=now, **offer(f)) for f in facts], batch_size=5000)
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


def benchmark(repeats: int = 3, licences: int | None = None, budget_seconds: float | None = None):
    """For bench/run.py: the pool tape of `licences` licences (BENCH_POOL_LICENCES, default 100k) to Parquet,
    selection, schedules, DCF, the three frames and the exporter together, against pyarrow writing prebuilt
    frames of the same shape (the issue's baseline). Medians of `repeats` runs, fewer when they would not fit
    in `budget_seconds` (the note says how many)."""
    from bench.common import Figure, ratio

    n = licences or int(os.environ.get("BENCH_POOL_LICENCES", "100000"))
    facts = synthetic_facts(n)
    # The concentration caps of a realistic pilot (1% per licensee, 5% per holder) would empty a tiny pool.
    capped = n >= 10_000
    criteria = pools.Criteria(cut_off=CUT_OFF, max_licensee_share=Decimal("1") if capped else None,
                              max_holder_share=Decimal("5") if capped else None, discount_rate=Decimal("8"))
    with tempfile.TemporaryDirectory() as folder:
        path, base_path = Path(folder) / "tape.parquet.zip", Path(folder) / "baseline.parquet.zip"

        def whole():
            tape = pools.build_tape(facts, criteria, pool_code="POOL99999", added_on=CUT_OFF)
            tape.content_sha256 = pools.content_hash(tape.criteria, tape.tape, tape.schedule)
            exporter = tape_exports.PoolTapeExporter(tape)
            with path.open("wb") as handle:
                exporter.write("parquet", handle)
            return exporter

        deadline = time.perf_counter() + budget_seconds if budget_seconds is not None else float("inf")
        counted: list[float] = []

        def counting():
            start = time.perf_counter()
            try:
                return whole()
            finally:
                counted.append(time.perf_counter() - start)

        seconds, exporter = timed(counting, repeats, deadline)
        schemas = {part: exporter._arrow_schema(part) for part in tape_exports.PARTS}
        base_s, _ = timed(lambda: baseline_parquet(exporter.frames, base_path, schemas), repeats)
    goal_s = 30 * n / 100_000  # the goal is 30 s for 100k licences; scaled for smaller runs
    return Figure(name=f"pool tape of {n:,} licences to Parquet (select, schedule, DCF, frames, write)", unit="s",
                  value=round(seconds, 2), baseline=round(base_s, 2),
                  baseline_label="pyarrow writing prebuilt frames of the same shape", ratio=ratio(seconds, base_s),
                  goal="<= 30 s for 100k licences", met=seconds <= goal_s, samples=len(counted),
                  note="" if len(counted) == repeats else
                  f"{len(counted)} of {repeats} repeats within the budget ({budget_seconds:.0f} s, BENCH_POOL_TAPE_BUDGET)",
                  details={"exposures": len(exporter.frames["tape"]), "cash_flow_rows": len(exporter.frames["cash_flows"])})


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
