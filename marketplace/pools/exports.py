"""The pool tape as a ZIP of CSV or Parquet files, as one XLSX workbook, or the tape alone as one CSV file, byte
for byte the same for the same rows (the content hash in marketplace.pools.services seals the rows; these bytes
follow from them). Parquet columns are typed: money int64, dates date32, decimals decimal(p, s) (DECIMALS). The
formula guard and the exporter interface are patents.exports'."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pandas as pd
from django.utils.translation import gettext_lazy as _

from marketplace.pools.services import (
    POOL_TAPE_EXPORTER,
    SCHEDULE_COLUMNS,
    SUMMARY_COLUMNS,
    TAPE_COLUMNS,
    Tape,
    frame,
    summary_rows,
)
from patents.exports import (
    CSV_CONTENT_TYPE,
    FORMULA_PREFIXES,
    NEGATIVE_NUMBER,
    XLSX_CONTENT_TYPE,
    ZIP_CONTENT_TYPE,
    Exporter,
    Progress,
    neutralise_frame,
    register,
)

CHUNK_ROWS = 20_000
# Every archive member and workbook part carries this time, so the bytes depend on the rows only.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PARTS = ("tape", "cash_flows", "summary")
SPECS = {"tape": TAPE_COLUMNS, "cash_flows": SCHEDULE_COLUMNS, "summary": SUMMARY_COLUMNS}
# Decimals are exact strings in the tape, so they pass the guard too (a negative number stays as it is).
TEXT_COLUMNS = {part: [name for name, kind in columns if kind in ("str", "dec")] for part, columns in SPECS.items()}
# Parquet types every decimal column as an exact decimal(precision, scale), never a float nor a string. The
# precision of each (docs/pools.md, "Columns"):
DECIMALS = {
    "royalty_rate_percent": (5, 2),  # the licence's rate, DecimalField(5, 2): 0.00-100.00 (%)
    "projected_daily_base_fen": (20, 2),  # fen a day, rounded half up to 2 places (services.tape_row)
    "discount_rate_percent": (5, 2),  # the pool's rate, DecimalField(5, 2) (% a year)
    "discount_factor": (11, 10),  # 1 / (1 + rate)^(days / 365) in (0, 1], rounded half up to 10 places (rule 3)
    "share_percent": (5, 2),  # a share of the pool in %, 0.00-100.00, rounded half up to 2 places
}


# CSV members are deflated at level 1: a fifth of the time of zlib's default level 6 on a 100k pool's 75 MB of CSV
# (1.1 s instead of 5.5 s, one run on the loaded machine), for an archive 24 % larger. The content is the same.
CSV_DEFLATE_LEVEL = 1


def _member(name: str, compress: int, level: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    info.compress_type = compress
    # zipfile takes the level of a member given as a ZipInfo from this attribute (public as compress_level
    # from Python 3.13); ZipFile(compresslevel=...) applies to members given by name only.
    info._compresslevel = level
    info.external_attr = 0o644 << 16
    return info


def _chunks(table):
    for start in range(0, max(table.num_rows, 1), CHUNK_ROWS):
        yield table.slice(start, CHUNK_ROWS)


# patents.exports.neutralise's rule in Arrow (RE2's \p{Nd} is Python's \d): the pool tape has millions of cells.
_NEGATIVE_NUMBER = "^(?:" + NEGATIVE_NUMBER.pattern.replace(r"\d", r"\p{Nd}") + ")$"


def _neutralised(table, names: list[str]):
    """``table`` with the formula guard applied to the text columns ``names``."""
    import pyarrow.compute as pc

    for name in names:
        index = table.schema.get_field_index(name)
        column = table.column(index)
        starts = None
        for prefix in FORMULA_PREFIXES:
            match = pc.starts_with(column, prefix)
            starts = match if starts is None else pc.or_(starts, match)
        flagged = pc.fill_null(pc.and_(starts, pc.invert(pc.match_substring_regex(column, _NEGATIVE_NUMBER))), False)
        if pc.any(flagged).as_py():
            table = table.set_column(index, table.schema.field(index),
                                     pc.if_else(flagged, pc.binary_join_element_wise("'", column, ""), column))
    return table


@register
class PoolTapeExporter(Exporter):
    """The pool tape in one format, written in chunks of CHUNK_ROWS rows: CSV and Parquet as a ZIP of three
    files (tape, cash_flows, summary), XLSX as one workbook of three sheets. Text and decimal cells go through
    the one formula guard (CSV and XLSX; Parquet is typed and read by programs). For the same rows the bytes
    are always the same: fixed archive times, no creation time in the workbook, no pandas metadata in the
    Parquet files."""

    identifier = POOL_TAPE_EXPORTER
    verbose_name = _("Pool tape")
    # tape_csv: the tape alone as one plain CSV file (what most tools import); the cash flows and the summary
    # are in the ZIPs and the workbook.
    formats = ("csv", "xlsx", "parquet", "tape_csv")
    labels = {"csv": "CSV", "xlsx": "XLSX", "parquet": "Parquet", "tape_csv": _("CSV, tape only (one file)")}
    extensions = {"csv": "csv.zip", "xlsx": "xlsx", "parquet": "parquet.zip", "tape_csv": "tape.csv"}
    content_types = {"csv": ZIP_CONTENT_TYPE, "parquet": ZIP_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE,
                     "tape_csv": CSV_CONTENT_TYPE}

    def __init__(self, tape: Tape):
        import pyarrow as pa

        self.tape = tape
        rows = {"tape": lambda: tape.tape, "cash_flows": lambda: tape.schedule, "summary": lambda: summary_rows(tape)}
        # A frozen pool brings its tables read by Arrow from the stored JSON; a draft's rows become frames first.
        self.tables = {part: (tape.tables or {}).get(part) or pa.Table.from_pandas(
            frame(rows[part](), SPECS[part]), schema=self._arrow_schema(part), preserve_index=False) for part in PARTS}
        self.total_rows = sum(t.num_rows for t in self.tables.values())
        self._frames = None

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """The three tables as pandas frames (the workbook; int64 nullable, dates as dates)."""
        if self._frames is None:
            import pyarrow as pa

            self._frames = {part: table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
                            for part, table in self.tables.items()}
        return self._frames

    def filename(self, fmt: str) -> str:
        return tape_filename(self.tape.pool_code, self.tape.content_sha256, fmt)

    def write(self, fmt: str, out, progress: Progress | None = None) -> None:
        """Stream the tape in ``fmt`` to ``out``, reporting (rows written, total rows) as it goes."""
        self.check_format(fmt)
        done = 0
        total = self.tables["tape"].num_rows if fmt == "tape_csv" else self.total_rows

        def advance(n):
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        getattr(self, f"_write_{fmt}")(out, advance)

    def _write_csv(self, out, advance) -> None:
        with zipfile.ZipFile(out, "w") as archive:
            for part in PARTS:
                with archive.open(_member(f"{part}.csv", zipfile.ZIP_DEFLATED, CSV_DEFLATE_LEVEL), "w",
                                  force_zip64=True) as stream:
                    self._csv_part(part, stream, advance)

    def _write_tape_csv(self, out, advance) -> None:
        self._csv_part("tape", out, advance)

    def _csv_part(self, part: str, stream, advance) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        schema = self._arrow_schema(part)
        stream.write("\ufeff".encode())  # BOM, as patents.exports.write_csv: Excel reads UTF-8
        for i, chunk in enumerate(_chunks(self.tables[part])):
            # pyarrow's writer: three times pandas' to_csv on a 100k pool (bench/pool_tape.py).
            table = _neutralised(chunk.cast(schema), TEXT_COLUMNS[part])
            sink = pa.BufferOutputStream()  # one write per chunk, not one per batch
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=i == 0, quoting_style="needed"))
            stream.write(sink.getvalue().to_pybytes())
            advance(chunk.num_rows)

    def _arrow_schema(self, part: str, *, typed: bool = False):
        """The part's Arrow schema: decimals as their exact strings (CSV), or ``typed`` as decimal(p, s) of
        DECIMALS (Parquet)."""
        import pyarrow as pa

        types = {"str": pa.string(), "dec": pa.string(), "int": pa.int64(), "int?": pa.int64(), "bool": pa.bool_(),
                 "date": pa.date32()}
        return pa.schema([pa.field(name, pa.decimal128(*DECIMALS[name]) if typed and kind == "dec" else types[kind],
                                   nullable=kind not in ("int", "bool"))
                          for name, kind in SPECS[part]])

    def _typed(self, part: str, table):
        """The decimal columns cast from their exact strings to decimal(p, s) (a blank is null)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for name, kind in SPECS[part]:
            if kind == "dec":
                index = table.schema.get_field_index(name)
                column = table.column(index)
                column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
                table = table.set_column(index, table.schema.field(index).with_type(pa.decimal128(*DECIMALS[name])),
                                         pc.cast(column, pa.decimal128(*DECIMALS[name])))
        return table

    def _write_parquet(self, out, advance) -> None:
        import pyarrow.parquet as pq

        with zipfile.ZipFile(out, "w") as archive:
            for part in PARTS:
                schema = self._arrow_schema(part)
                buffer = io.BytesIO()
                with pq.ParquetWriter(buffer, self._arrow_schema(part, typed=True), compression="zstd",
                                      write_statistics=True) as writer:
                    for chunk in _chunks(self.tables[part]):
                        writer.write_table(self._typed(part, chunk.cast(schema).replace_schema_metadata(None)))
                        advance(chunk.num_rows)
                # Parquet is compressed already; stored as is.
                archive.writestr(_member(f"{part}.parquet", zipfile.ZIP_STORED), buffer.getvalue())

    def _write_xlsx(self, out, advance) -> None:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        stamp = datetime(*FIXED_ZIP_TIME)
        workbook.properties.creator = "Open Patent Licensing Marketplace"
        workbook.properties.created = stamp
        for part in PARTS:
            sheet = workbook.create_sheet(part)
            sheet.append([name for name, _kind in SPECS[part]])
            whole = self.frames[part]
            for start in range(0, max(len(whole), 1), CHUNK_ROWS):
                chunk = whole.iloc[start:start + CHUNK_ROWS]
                neutral = neutralise_frame(chunk, TEXT_COLUMNS[part])
                for values in neutral.itertuples(index=False, name=None):
                    sheet.append([None if v is pd.NA else v for v in values])
                advance(len(chunk))
        raw = io.BytesIO()
        workbook.save(raw)
        out.write(_fixed_workbook(raw.getvalue(), stamp))


def tape_filename(pool_code: str, content_sha256: str, fmt: str) -> str:
    """The download's name: pool code and the start of the content hash (whatever name the storage chose)."""
    return f"{pool_code}-{content_sha256[:12] or 'draft'}.{PoolTapeExporter.extensions[fmt]}"


def _fixed_workbook(content: bytes, stamp: datetime) -> bytes:
    """openpyxl stamps the save time into docProps/core.xml and every ZIP member; replace both."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = zipfile.ZipFile(io.BytesIO(content))
    fixed = io.BytesIO()
    with zipfile.ZipFile(fixed, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + iso.encode()
                              + rb"\g<2>", data)
            target.writestr(_member(info.filename, zipfile.ZIP_DEFLATED), data)
    return fixed.getvalue()
