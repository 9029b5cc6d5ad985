"""Bench-only bulk loading into the real schema: PostgreSQL COPY through psycopg, executemany on SQLite.

These skip the services on purpose (they are what the benchmarks measure); they are fixtures, never a way
to write production data. Rows carry explicit primary keys so related rows can be built before any is
written; `reset_sequences` moves PostgreSQL's identity sequences past them afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models

from patents.inventory import bulk

COPY_CHUNK = 50_000


def next_id(model: type[models.Model]) -> int:
    """The first primary key free above every existing row of `model`."""
    top = model._base_manager.aggregate(top=models.Max("pk"))["top"]
    return (top or 0) + 1


def _json_columns(model, names: Sequence[str]) -> list[int]:
    return [i for i, name in enumerate(names)
            if isinstance(model._meta.get_field(name), models.JSONField)
            or model._meta.get_field(name).get_internal_type() == "JSONField"]


def load_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write `rows` (tuples in the order of `names`, model field names, Python values) into `model`'s table
    as fast as the backend allows. Returns the row count."""
    if connection.vendor != "postgresql":
        uuids = [i for i, n in enumerate(names) if isinstance(model._meta.get_field(n), models.UUIDField)]
        if uuids:  # stored as 32 hex digits on SQLite; patents.inventory.bulk passes other types through as they are
            rows = ([v.hex if i in uuids and v is not None else v for i, v in enumerate(row)] for row in rows)
        return bulk.insert_rows(model, names, rows)
    fields = [model._meta.get_field(n) for n in names]
    json_at = set(_json_columns(model, names))
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    # Identifiers come from model metadata; values go through COPY's own encoding.
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            if json_at:
                row = tuple(json.dumps(v, ensure_ascii=False) if i in json_at and not isinstance(v, str) and
                            v is not None else v for i, v in enumerate(row))
            copy.write_row(row)
            count += 1
    return count


def reset_sequences(*model_list: type[models.Model]) -> None:
    """After rows with explicit keys: make the next generated key follow the largest one (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in model_list:
            table, pk = model._meta.db_table, model._meta.pk.column
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), "  # noqa: S608 - identifiers from metadata
                           f"COALESCE((SELECT MAX({connection.ops.quote_name(pk)}) FROM "
                           f"{connection.ops.quote_name(table)}), 1))", [table, pk])


def analyze() -> None:
    """Fresh planner statistics after a bulk load (what autovacuum would do some time later)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
