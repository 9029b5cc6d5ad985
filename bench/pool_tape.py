"""How long a 100k-licence pool tape takes to compute and export, against a same-run baseline.

    DJANGO_SETTINGS_MODULE=marketplace.settings.test .venv/bin/python bench/pool_tape.py [--licences 100000]

It generates licence facts directly (seeded, so every run computes the same pool; no database), then times:
selection + schedules + DCF (marketplace.pools.build_tape), the three frames, and the exporter writing
Parquet and CSV (chunked, with formula neutralising, ZIP of three files). The baseline writes prebuilt
frames of the same shape straight through pyarrow (parquet.write_table, csv.write_csv) into the same kind of
ZIP: what the tape costs over the bare writer. Medians of --repeat runs; files go to a temporary folder.
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
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")

import django  # noqa: E402

django.setup()

import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from marketplace import pools  # noqa: E402

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


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licences", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    facts = synthetic_facts(args.licences)
    generate_s = time.perf_counter() - start
    criteria = pools.Criteria(cut_off=CUT_OFF, max_licensee_share=Decimal("1"), max_holder_share=Decimal("5"),
                              discount_rate=Decimal("8"))
    build_s, tape = timed(lambda: pools.build_tape(facts, criteria, pool_code="POOL99999", added_on=CUT_OFF),
                          args.repeat)
    tape.content_sha256 = pools.content_hash(tape.criteria, tape.tape, tape.schedule)
    frames_s, exporter = timed(lambda: pools.PoolTapeExporter(tape), args.repeat)
    print(f"{args.licences:,} licences generated in {generate_s:.1f} s; pool: {len(tape.tape):,} exposures, "
          f"{len(tape.schedule):,} cash-flow rows; left out {tape.excluded_counts}")
    print(f"select + schedule + DCF (build_tape): {build_s:.2f} s")
    print(f"three typed frames (PoolTapeExporter init): {frames_s:.2f} s")
    schemas = {part: exporter._arrow_schema(part) for part in pools.PARTS}
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


if __name__ == "__main__":
    main()
