"""Inventory import of a CSV through the real service (patents.inventory.services: read, validate, compare, grade, write,
audit) against the fastest bulk write of the same rows: PostgreSQL COPY of the CSV into an unindexed table, or
on SQLite executemany of the parsed rows into one, in one transaction.

Each repeat imports the same file for a fresh holder and removes what it wrote afterwards, so the database is
the same size for every repeat and for the benchmarks that follow."""

from __future__ import annotations

import csv
import io
import time

from django.db import connection, transaction

from bench.common import Figure, median, ratio, timed

BASELINE_TABLE = "bench_import_baseline"
START_SERIAL = 8_000_000  # above anything bench.generate numbers (it counts up from 0)


def inventory_csv(rows: int, *, seed: int) -> bytes:
    """A realistic inventory file of `rows` patents (marketplace.demo.synthetic), as a holder would upload it."""
    from marketplace.demo.synthetic import generate_inventory

    frame = generate_inventory(rows, seed=seed, start_serial=START_SERIAL, holder_names=[])
    # The same format as marketplace.demo.synthetic.write_inventory_csv, kept in memory.
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _holder(n: int):
    from marketplace.demo.seed import demo_uscc
    from marketplace.parties.models import Organisation

    return Organisation.objects.create(kind="university", slug=f"bench-import-{n}-{time.time_ns()}",
                                       uscc=demo_uscc(f"121100009{time.time_ns() % 10**8:08d}"),
                                       name_zh=f"导入基准大学{n}", name_en=f"Import Bench University {n}",
                                       province="北京市", is_holder=True)


def _remove(holder) -> None:
    """Delete what one import wrote (its patents, co-owners, audit entries, batch) with plain SQL."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM patents_patentchange WHERE patent_id IN "
                       "(SELECT id FROM patents_patent WHERE holder_id = %s)", [holder.pk])
        cursor.execute("DELETE FROM patents_patentcoowner WHERE patent_id IN "
                       "(SELECT id FROM patents_patent WHERE holder_id = %s)", [holder.pk])
        cursor.execute("DELETE FROM patents_patent WHERE holder_id = %s", [holder.pk])
        cursor.execute("DELETE FROM patents_inventorybatch WHERE holder_id = %s", [holder.pk])
        cursor.execute("DELETE FROM parties_organisation WHERE id = %s", [holder.pk])


def import_once(content: bytes, n: int) -> tuple[float, dict]:
    """Seconds for one import through inventory_batch_create + inventory_batch_run, and its outcome."""
    from patents.inventory.services import inventory_batch_create, inventory_batch_run

    holder = _holder(n)
    try:
        def run():
            batch = inventory_batch_create(holder=holder, run_by=None, source="cli", filename="bench-inventory.csv",
                                           content=content)
            return inventory_batch_run(batch=batch, max_bytes=len(content) + 1)
        seconds, summary = timed(run)
        outcome = {"status": summary.status, "created": summary.created, "rejected": summary.rejected}
    finally:
        _remove(holder)
    return seconds, outcome


def _baseline_columns(content: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(content[:4096].decode("utf-8", "ignore"))))


def baseline_once(content: bytes) -> float:
    """Seconds to bulk-write the file's rows into an unindexed table of text columns."""
    columns = _baseline_columns(content)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")
        cursor.execute(f"CREATE TABLE {BASELINE_TABLE} ({', '.join(f'{c} TEXT' for c in columns)})")
    try:
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {BASELINE_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    for lo in range(0, len(content), 1 << 20):
                        copy.write(content[lo:lo + (1 << 20)])
            else:
                reader = csv.reader(io.StringIO(content.decode("utf-8")))
                next(reader)
                cursor.executemany(f"INSERT INTO {BASELINE_TABLE} VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
                                   reader)
        return time.perf_counter() - start
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {BASELINE_TABLE}")


def benchmark(*, rows: int, repeats: int = 3, seed: int = 0) -> Figure:
    content = inventory_csv(rows, seed=seed)
    service, outcomes = [], []
    base = []
    for i in range(repeats):
        seconds, outcome = import_once(content, i)
        service.append(seconds)
        outcomes.append(outcome)
        base.append(baseline_once(content))
    ok = all(o["status"] == "succeeded" and o["created"] == rows for o in outcomes)
    speed, base_speed = rows / median(service), rows / median(base)
    r = ratio(speed, base_speed)
    profiled = None
    if r is not None and r < 0.3:
        from bench.profiling import profile

        profiled = profile(lambda: import_once(content, repeats))
    return Figure(
        name="inventory import (CSV through the real service)", unit="rows/s", value=round(speed),
        baseline=round(base_speed),
        baseline_label=("COPY of the same CSV into an unindexed table" if connection.vendor == "postgresql"
                        else "executemany of the same rows into an unindexed table, one transaction"),
        ratio=round(r, 3) if r is not None else None, goal=">= 0.3 x baseline speed", met=ok and r is not None and r >= 0.3,
        samples=repeats,
        note="" if ok else f"import did not succeed cleanly: {outcomes[0]}",
        details={"rows": rows, "file_mb": round(len(content) / 1e6, 1), "service_s": [round(s, 2) for s in service],
                 "baseline_s": [round(s, 2) for s in base], "outcome": outcomes[0],
                 "profile": profiled})
