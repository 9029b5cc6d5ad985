"""Bench-only bulk loading into the real schema: PostgreSQL COPY through psycopg, executemany on SQLite, both
through the inventory import's own writer (patents.inventory.bulk.write_rows).

These skip the services on purpose (they are what the benchmarks measure); they are fixtures, never a way
to write production data. Rows carry explicit primary keys so related rows can be built before any is
written; `reset_sequences` moves PostgreSQL's identity sequences past them afterwards.

On SQLite each column is adapted once as a whole (only the types sqlite3 cannot store as they are: JSON,
dates and times, decimals, UUIDs) and the rows go to executemany in large chunks: at a million patents the
per-cell adapters of patents.inventory.bulk were a third of the load."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import numpy as np
from django.db import connection, models

from patents.inventory.bulk import write_rows


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
    as fast as the backend allows, through the product's own bulk writer (patents.inventory.bulk.write_rows:
    COPY / large executemany chunks). Returns the row count."""
    if connection.vendor != "postgresql":
        return _sqlite_rows(model, names, rows)
    json_at = set(_json_columns(model, names))
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            if json_at:
                row = tuple(json.dumps(v, ensure_ascii=False) if i in json_at and not isinstance(v, str) and
                            v is not None else v for i, v in enumerate(row))
            count += 1
            yield row

    write_rows(model, names, counted())
    return count


def _memo(adapt: Callable) -> Callable:
    cache: dict = {}

    def adapted(value):
        if value is None:
            return None
        if value not in cache:
            cache[value] = adapt(value)
        return cache[value]

    return adapted


def _sqlite_adapter(field: models.Field) -> Callable | None:
    """How one column's Python values become what Django would store on SQLite; None: as they are."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    if isinstance(field, models.DateTimeField):
        return _memo(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return _memo(ops.adapt_datefield_value)
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else ops.adapt_decimalfield_value(
            v if isinstance(v, Decimal) else Decimal(str(v)), field.max_digits, field.decimal_places)
    if isinstance(field, models.UUIDField):
        return lambda v: None if v is None else v.hex  # stored as 32 hex digits
    return None


def _sqlite_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    fields = [model._meta.get_field(n) for n in names]
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    adapters = [_sqlite_adapter(f) for f in fields]
    for i, value in enumerate(rows[0]):
        if adapters[i] is None and isinstance(value, np.generic):  # numpy scalars: sqlite3 cannot store them
            adapters[i] = lambda v: v.item() if isinstance(v, np.generic) else v
    if any(adapters):
        columns = list(zip(*rows, strict=True))
        columns = [col if a is None else list(map(a, col)) for a, col in zip(adapters, columns, strict=True)]
        rows = list(zip(*columns, strict=True))
    write_rows(model, names, rows)
    return len(rows)


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
