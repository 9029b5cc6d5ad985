"""Bulk writes with executemany over plain tuples, for inventory-scale imports and regrading.

Written by hand because Django's bulk_create builds a model instance per row and bulk_update builds a
CASE expression per row: profiling a 20k-row import showed 35 of its 42 seconds there. Here each column
is converted once with the backend's own adapters, then rows go to the driver in chunks."""

import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from itertools import islice, repeat
from json.encoder import encode_basestring

import numpy as np
import pandas as pd
from django.db import connection, models
from django.db.models.expressions import RawSQL

CHUNK = 5000


def _memo(adapt: Callable) -> Callable:
    # Dates and timestamps repeat a lot in one batch (one `now`, a few thousand distinct days).
    cache: dict = {}

    def adapted(value):
        if value not in cache:
            cache[value] = adapt(value)
        return cache[value]

    return adapted


def _adapter(field: models.Field) -> Callable:
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if isinstance(field, models.DateTimeField):
        return _memo(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return _memo(ops.adapt_datefield_value)
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else bool(v)
    if isinstance(field, models.IntegerField | models.ForeignKey):
        return lambda v: None if v is None else int(v)
    return lambda v: v


def _prepare(model, names: Sequence[str], rows: Iterable[Sequence]) -> tuple[list[str], list[tuple]]:
    fields = [model._meta.get_field(n) for n in names]
    adapters = [_adapter(f) for f in fields]
    columns = [connection.ops.quote_name(f.column) for f in fields]
    prepared = [tuple(a(v) for a, v in zip(adapters, row, strict=True)) for row in rows]
    return columns, prepared


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """INSERT rows (tuples in the order of `names`, model field names). Returns the row count."""
    columns, prepared = _prepare(model, names, rows)
    # Identifiers come from model metadata and are quoted; values are always parameters.
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection.cursor() as cursor:
        for lo in range(0, len(prepared), CHUNK):
            cursor.executemany(sql, prepared[lo:lo + CHUNK])
    return len(prepared)


def update_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """UPDATE by primary key: each row is the values of `names` followed by the pk."""
    rows = list(rows)
    columns, prepared = _prepare(model, names, [r[:-1] for r in rows])
    prepared = [values + (int(row[-1]),) for values, row in zip(prepared, rows, strict=True)]
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = (f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET "  # noqa: S608
           f"{', '.join(f'{c} = %s' for c in columns)} WHERE {pk} = %s")
    with connection.cursor() as cursor:
        for lo in range(0, len(prepared), CHUNK):
            cursor.executemany(sql, prepared[lo:lo + CHUNK])
    return len(prepared)


# ------------------------------------------------------------------------------------- columnar writes
# An import or a bench load writes hundreds of thousands of rows: each column is converted once as a whole
# (pandas/numpy), rows are tuples made by zip, and the driver receives them through its fastest path.

SQLITE_CHUNK = 50_000
_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps(..., ensure_ascii=False) builds one per call


def json_texts(values: Iterable) -> list[str | None]:
    """JSON text of each value (lists, dicts), None kept as SQL NULL: one comprehension over a column."""
    encode = _JSON.encode
    return [None if v is None else encode(v) for v in values]


def json_text_lists(values: Iterable[list[str]]) -> list[str]:
    """JSON text of each list of strings (IPC codes, inventors): the same text json_texts gives, built from
    the C string encoder alone (json's per-call set-up cost more than the encoding)."""
    quote = encode_basestring
    return ["[" + ", ".join(map(quote, v)) + "]" if v else "[]" for v in values]


def date_texts(series: pd.Series) -> list[str | None]:
    """A datetime64 column as ISO dates ("2021-03-15"), NaT as None: both backends read that text as a date."""
    days = pd.to_datetime(series).to_numpy(dtype="datetime64[D]")
    texts = np.datetime_as_string(days, unit="D").astype(object)
    texts[np.isnat(days)] = None
    return texts.tolist()


def int_values(series: pd.Series) -> list[int | None]:
    """A numeric column (int, float or nullable Int64) as Python ints, missing values as None."""
    numbers = pd.to_numeric(series, errors="coerce")
    missing = numbers.isna().to_numpy()
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    out = np.where(missing, 0, values).astype(np.int64).astype(object)
    out[missing] = None
    return out.tolist()


def text_values(series: pd.Series, *, missing: str | None = "") -> list:
    """A text column as Python str, missing values as `missing`."""
    values = series.to_numpy(dtype=object, na_value=None)
    gone = pd.isna(values)
    if gone.any():
        values = values.copy()
        values[gone] = missing
    return values.tolist()


def bool_values(series: pd.Series) -> list[bool]:
    return series.fillna(False).to_numpy(dtype=bool).tolist()


def _columns_sql(model: type[models.Model], names: Sequence[str]) -> tuple[str, str]:
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in names)
    return table, columns


def write_columns(model: type[models.Model], columns: dict[str, Sequence | object], *, rows: int) -> int:
    """INSERT `rows` rows given column by column: {model field name: a sequence of `rows` values, or one value
    for every row}. Values must already be what the database stores: text for JSON (json_texts), ISO text or
    `date` for dates, Python int/str/bool/None, datetimes adapted by connection.ops. Returns the row count."""
    if not rows:
        return 0
    # One value for every row: repeated lazily, so constants cost no list of their own.
    parts = [c if isinstance(c, list | tuple | np.ndarray) else repeat(c, rows) for c in columns.values()]
    for name, part in zip(columns, parts, strict=True):
        if not isinstance(part, repeat) and len(part) != rows:
            raise ValueError(f"column {name} has {len(part)} values for {rows} rows")
    if connection.vendor == "postgresql":
        # Each constant as a repeat of its own: copy_texts takes a constant's value out of its repeat, which
        # would leave the rows below one value short (zip would then drop the last row without a word).
        texts = [copy_texts(repeat(c) if isinstance(part, repeat) else part)
                 for c, part in zip(columns.values(), parts, strict=True)]
        if all(t is not None for t in texts):
            _copy_text(model, list(columns), texts, rows)
            return rows
    write_rows(model, list(columns), zip(*parts))  # noqa: B905 - constants are repeats of `rows` values
    return rows


# COPY's text format: a row is its values' texts joined by tabs, NULL is \N, and a backslash, tab, newline or
# carriage return inside a value is written as a backslash escape.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NULL = "\\N"
_COPY_ROWS = 10_000  # rows per COPY message: a few MB of text at a time


def _escaped(text: str) -> str:
    for char, escape in _COPY_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


def _scalar_text(value) -> str | None:
    """COPY text of one value of a type the bulk writers receive; None for any other type."""
    if value is None:
        return _NULL
    kind = type(value)
    if kind is str:
        return _escaped(value)
    if kind is bool or kind is np.bool_:
        return "t" if value else "f"
    if kind is int or kind is float or kind is Decimal:
        return str(value)
    if kind is date or kind is datetime:
        return value.isoformat()
    return None


def copy_texts(values) -> list[str] | repeat | None:
    """One column (a list, or a `repeat` of one value) as the texts COPY reads, converted as a whole: text
    columns are escaped in one pass over the column joined (C string methods, not a call per value). None when
    the column holds a type this does not know: the caller then lets psycopg adapt the rows (write_rows)."""
    if isinstance(values, repeat):
        value = next(values)  # a constant: converted once
        text = _scalar_text(value)
        return None if text is None else repeat(text)
    values = values.tolist() if isinstance(values, np.ndarray) else values
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if kinds <= {str}:
        texts = ["" if v is None else v for v in values] if nulls else values
        joined = "\0".join(texts)  # PostgreSQL text never holds NUL: a safe separator
        escaped = _escaped(joined)
        if escaped is not joined:
            texts = escaped.split("\0")
            if len(texts) != len(values):
                return None
        return [_NULL if v is None else t for v, t in zip(values, texts, strict=True)] if nulls else texts
    if kinds <= {int} or kinds <= {float} or kinds <= {Decimal}:
        return [_NULL if v is None else str(v) for v in values]
    if kinds <= {bool}:
        return [_NULL if v is None else ("t" if v else "f") for v in values]
    if kinds <= {date} or kinds <= {datetime}:
        return [_NULL if v is None else v.isoformat() for v in values]
    return None


def _copy_text(model: type[models.Model], names: Sequence[str], texts: list, rows: int) -> None:
    """COPY rows given as columns of COPY text (copy_texts): each row is joined once and sent in blocks, so no
    Python adapter runs per value (psycopg's write_row was most of the import's own time on PostgreSQL)."""
    table, quoted = _columns_sql(model, names)
    lines = map("\t".join, zip(*texts))  # noqa: B905 - constants are endless repeats
    # Identifiers come from model metadata and are quoted; values are COPY text, escaped above.
    statement = f"COPY {table} ({quoted}) FROM STDIN"  # noqa: S608
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for lo in range(0, rows, _COPY_ROWS):
            copy.write("\n".join(islice(lines, min(_COPY_ROWS, rows - lo))) + "\n")


def write_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """INSERT rows (tuples in the order of `names`, model field names) whose values are already what the
    database stores (see write_columns). PostgreSQL: COPY ... FROM STDIN (psycopg 3's cursor.copy), the
    fastest bulk path there is; SQLite: executemany on sqlite3's own cursor in large chunks.

    Hand-written because Django's bulk_create builds a model instance per row and adapts every value field by
    field (the import spent most of its time there). The import and the bench generator both write here."""
    table, quoted = _columns_sql(model, names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Identifiers come from model metadata and are quoted; values go through COPY's own encoding.
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:  # noqa: S608
                write = copy.write_row
                for row in rows:
                    write(row)
        else:
            # sqlite3's own cursor: Django's wrapper would rewrite the statement (%s -> ?) for every chunk.
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['?'] * len(names))})"  # noqa: S608
            raw, rows = cursor.cursor, iter(rows)
            while chunk := list(islice(rows, SQLITE_CHUNK)):
                raw.executemany(sql, chunk)


def write_per_key(model: type[models.Model], key: str, keys: list[int], constants: dict[str, object]) -> int:
    """INSERT one row per value of `keys` (a non-empty list of ints) into `model`: field `key` takes the value,
    every field of `constants` the same value (already what the database stores, as for write_columns).

    SQLite: one INSERT ... SELECT over the keys sent as one parameter, so the rows are built by the database and
    none is bound from Python (an import's audit entries, one per patent, cost a third of the patents' own
    executemany). PostgreSQL: COPY like every other bulk row (write_columns), which is as cheap there."""
    if connection.vendor == "postgresql":
        return write_columns(model, {key: keys, **constants}, rows=len(keys))
    table, quoted = _columns_sql(model, [key, *constants])
    source = in_values(keys)
    # SQLite stores each parameter as it is given (no cast: a cast to a declared type would coerce the value).
    values = ", ".join(["%s"] * len(constants))
    with connection.cursor() as cursor:
        # Identifiers come from model metadata and are quoted; values are parameters.
        cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT k.value, {values} FROM ({source.sql}) AS k",  # noqa: S608
                       [*constants.values(), *source.params])
    return len(keys)


@contextmanager
def page_cache(mebibytes: int = 256):
    """On SQLite, a larger page cache for this connection while a bulk write fills the table's indexes (the
    default 2 MB made each 50k-row insert re-read index pages from the OS); the old size is restored after.
    PRAGMA, hand-written: Django has no API for it. Nothing elsewhere."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        before = cursor.execute("PRAGMA cache_size").fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(mebibytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """`count` primary keys drawn from the table's sequence (PostgreSQL), so rows written by COPY can be
    referred to (audit entries, co-owners) without reading them back; None elsewhere (SQLite assigns them)."""
    if connection.vendor != "postgresql" or not count:
        return None
    with connection.cursor() as cursor:
        # Hand-written: Django has no way to draw many values of a sequence at once.
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [model._meta.db_table, model._meta.pk.column, count])
        return [r[0] for r in cursor.fetchall()]


def last_ids(model: type[models.Model], count: int, *, field: str, first, last) -> list[int] | None:
    """On SQLite, right after `write_columns` inserted `count` rows without keys: their keys, in the order
    written. Django's SQLite tables use AUTOINCREMENT, so each new row's key is larger than any before, and
    the transaction holds the write lock from its first insert, so the `count` largest keys are those rows.
    Checked against `field` of the first and last row written; None when they do not match (the caller then
    reads the keys back by a unique field)."""
    if connection.vendor != "sqlite" or not count:
        return None
    pk = model._meta.pk.attname
    ids = sorted(model._base_manager.order_by(f"-{pk}").values_list(pk, flat=True)[:count])
    if len(ids) != count:
        return None
    ends = dict(model._base_manager.filter(pk__in=[ids[0], ids[-1]]).values_list(pk, field))
    return ids if ends == {ids[0]: first, ids[-1]: last} else None


def in_values(values: list) -> RawSQL:
    """A subquery yielding `values`, for `filter(field__in=in_values([...]))` (a non-empty list): one parameter
    for the whole list. Hand-written because Django's `__in` with a list sends one parameter per value and
    prepares each (batch_process_rhs showed in the import's profile); an array (PostgreSQL) or a JSON array
    read by json_each (SQLite) is one value however long."""
    values = list(values)
    if connection.vendor == "postgresql":
        # The array literal needs its type; values are always one parameter.
        if isinstance(values[0], int):
            return RawSQL("SELECT unnest(%s::bigint[])", (values,))
        return RawSQL("SELECT unnest(%s::text[])", (values,))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(values),))
