"""A frozen pool's stored rows as Arrow tables, without a Python object per row: the database hands over the JSON
text of each table in one statement (marketplace.pools.services.frozen_json), Arrow's JSON reader parses it with
an explicit schema, and the content hash is recomputed column by column from the parsed values. Nothing here
knows the tape's columns: they are passed in as (name, kind) lists (services.TAPE_COLUMNS and the others).

Why the hash can be checked on the table: ``canonical_digest`` writes every parsed row as the canonical JSON that
services.content_hash writes for the stored dict (sorted keys, no spaces, ``ensure_ascii=False``), so the digest
equals the seal only when the table holds exactly the sealed values, which is what the exports write.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

# Every column as JSON gives it: dates and decimals are the stored ISO and exact strings until the exports type them.
JSON_TYPES = {
    "str": pa.string(),
    "dec": pa.string(),
    "int": pa.int64(),
    "int?": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.string(),
}
# Python's json escapes these (ensure_ascii=False escapes nothing else); a backslash first, so that it is not
# doubled again.
_ESCAPES = [("\\", "\\\\"), ('"', '\\"')] + [
    (chr(code), {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(code, f"\\u{code:04x}")) for code in range(32)
]
_NEEDS_ESCAPE = re.compile(rb'[\\"\x00-\x1f]')
HASH_BLOCK_ROWS = 50_000


def json_schema(columns: list[tuple[str, str]]) -> pa.Schema:
    return pa.schema([pa.field(name, JSON_TYPES[kind]) for name, kind in columns])


def read_rows(ndjson: bytes, columns: list[tuple[str, str]], *, nested: str | None = None) -> pa.Table:
    """Newline-delimited JSON objects as a table of ``columns`` typed as JSON types them (JSON_TYPES). With
    ``nested``, each line is ``{nested: [row, ...]}`` and the rows of every line follow one another. Raises
    pyarrow.ArrowInvalid when a value is not of its column's JSON type (Arrow converts nothing: a number stored
    as text is refused) or a key is not one of ``columns``; a missing key reads as null."""
    schema = json_schema(columns)
    if not ndjson:
        return schema.empty_table()
    if nested:
        schema = pa.schema([pa.field(nested, pa.list_(pa.struct(list(json_schema(columns)))))])
    # Blocks of 1 MiB, parsed in parallel (16 MiB left a 100 MB tape in seven); a row is a few KiB, and one longer
    # than a block is refused (ArrowInvalid), which sends the caller to its exact path.
    table = pajson.read_json(
        io.BytesIO(ndjson),
        read_options=pajson.ReadOptions(block_size=1 << 20),
        parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"),
    )
    if nested:
        rows = pc.list_flatten(table.column(nested))
        chunks = rows.chunks if rows.num_chunks else [pa.array([], pa.struct(list(json_schema(columns))))]
        table = pa.Table.from_batches([pa.RecordBatch.from_struct_array(chunk) for chunk in chunks])
    return table.select([name for name, _kind in columns])


def _values(column) -> Iterator[memoryview]:
    """The bytes of a string column's values, chunk by chunk, without a copy."""
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        if len(chunk):
            _validity, offsets, data = chunk.buffers()
            width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
            offsets = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
            yield memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def _escaped(column):
    """Text as json.dumps(ensure_ascii=False) writes it between its quotes. Most columns hold nothing to escape,
    which one scan of their bytes tells."""
    if any(_NEEDS_ESCAPE.search(values) for values in _values(column)):
        for char, escaped in _ESCAPES:
            column = pc.replace_substring(column, char, escaped)
    return column


def _json_text(column, kind: str):
    """Each value of ``column`` as json.dumps(ensure_ascii=False) writes it."""
    if kind in ("int", "int?"):
        text = pc.cast(column, pa.string())
    elif kind == "bool":
        text = pc.if_else(column, "true", "false")
    else:
        text = pc.binary_join_element_wise('"', _escaped(column), '"', "")
    return pc.fill_null(text, "null")


def _update(digest, texts) -> None:
    """Feed the string array ``texts`` to ``digest`` as one run of bytes (its values buffer, no copy)."""
    for values in _values(texts):
        digest.update(values)


def canonical_digest(criteria: dict, parts: list[tuple[str, pa.Table, list[tuple[str, str]]]]) -> str:
    """services.content_hash computed on tables: SHA-256 of the canonical JSON of ``criteria``, then of every row
    of each (marker, table, columns) in ``parts``, each row preceded by a newline and its marker."""
    digest = hashlib.sha256(json.dumps(criteria, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    for marker, table, columns in parts:
        kinds = dict(columns)
        names = sorted(kinds)  # as sort_keys orders them
        for start in range(0, table.num_rows, HASH_BLOCK_ROWS):
            block = table.slice(start, HASH_BLOCK_ROWS)
            pieces, literal = [], "\n" + marker + "{"
            for i, name in enumerate(names):
                literal += ("," if i else "") + json.dumps(name) + ":"
                column = block.column(name)
                if kinds[name] in ("str", "dec", "date") and column.null_count == 0:
                    # No null to write as null: the quotes join the literals around the text.
                    pieces += [literal + '"', _escaped(column)]
                    literal = '"'
                else:
                    pieces += [literal, _json_text(column, kinds[name])]
                    literal = ""
            _update(digest, pc.binary_join_element_wise(*pieces, literal + "}", ""))
    return digest.hexdigest()


def to_ipc(table: pa.Table) -> bytes:
    """``table`` as one Arrow IPC stream, zstd-compressed column by column (a 100k pool's tape and cash flows:
    22 MB instead of 233 MB of JSON rows)."""
    import pyarrow.ipc as ipc

    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def from_ipc(data, columns: list[tuple[str, str]]) -> pa.Table:
    """The table of ``to_ipc``; pyarrow.ArrowInvalid when it is not a stream of exactly ``columns`` typed as JSON
    types them (JSON_TYPES)."""
    import pyarrow.ipc as ipc

    table = ipc.open_stream(pa.py_buffer(data)).read_all()
    if not table.schema.equals(json_schema(columns)):
        raise pa.ArrowInvalid(f"stored columns {table.schema.names} are not the expected ones")
    return table


def export_table(table: pa.Table, columns: list[tuple[str, str]]) -> pa.Table:
    """The parsed table as the exports write it: dates date32, text and exact decimal strings blank rather than
    null (as services.frame types them)."""
    for index, (name, kind) in enumerate(columns):
        column = table.column(index)
        if kind == "date":
            table = table.set_column(index, pa.field(name, pa.date32()), pc.cast(column, pa.date32()))
        elif kind in ("str", "dec"):
            table = table.set_column(index, name, pc.fill_null(column, ""))
    return table


class Rows(Sequence):
    """The rows of a parsed table as the dicts json.loads would give for the stored rows, made only when asked
    for (a page shows 50 of a 100k-row tape; the exports never ask)."""

    def __init__(self, table: pa.Table):
        self.table = table

    def __len__(self) -> int:
        return self.table.num_rows

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return self.table.slice(start, max(0, stop - start)).to_pylist()
            return [self[i] for i in range(start, stop, step)]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.table.slice(index, 1).to_pylist()[0]

    def __iter__(self) -> Iterator[dict]:
        for batch in self.table.to_batches(max_chunksize=10_000):
            yield from batch.to_pylist()

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None
