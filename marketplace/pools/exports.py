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
)
from patents.exports import (
    CSV_CONTENT_TYPE,
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


def _member(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _chunks(frame_: pd.DataFrame):
    for start in range(0, max(len(frame_), 1), CHUNK_ROWS):
        yield frame_.iloc[start:start + CHUNK_ROWS]


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
        self.tape = tape
        self.frames = tape.frames()
        self.total_rows = sum(len(f) for f in self.frames.values())

    def filename(self, fmt: str) -> str:
        return tape_filename(self.tape.pool_code, self.tape.content_sha256, fmt)

    def write(self, fmt: str, out, progress: Progress | None = None) -> None:
        """Stream the tape in ``fmt`` to ``out``, reporting (rows written, total rows) as it goes."""
        self.check_format(fmt)
        done = 0
        total = len(self.frames["tape"]) if fmt == "tape_csv" else self.total_rows

        def advance(n):
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        getattr(self, f"_write_{fmt}")(out, advance)

    def _write_csv(self, out, advance) -> None:
        with zipfile.ZipFile(out, "w") as archive:
            for part in PARTS:
                with archive.open(_member(f"{part}.csv", zipfile.ZIP_DEFLATED), "w", force_zip64=True) as stream:
                    self._csv_part(part, stream, advance)

    def _write_tape_csv(self, out, advance) -> None:
        self._csv_part("tape", out, advance)

    def _csv_part(self, part: str, stream, advance) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        schema = self._arrow_schema(part)
        stream.write("\ufeff".encode())  # BOM, as patents.exports.write_csv: Excel reads UTF-8
        for i, chunk in enumerate(_chunks(self.frames[part])):
            # pyarrow's writer: three times pandas' to_csv on a 100k pool (bench/pool_tape.py).
            table = pa.Table.from_pandas(neutralise_frame(chunk, TEXT_COLUMNS[part]), schema=schema,
                                         preserve_index=False)
            sink = pa.BufferOutputStream()  # one write per chunk, not one per batch
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=i == 0, quoting_style="needed"))
            stream.write(sink.getvalue().to_pybytes())
            advance(len(chunk))

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
        import pyarrow as pa
        import pyarrow.parquet as pq

        with zipfile.ZipFile(out, "w") as archive:
            for part in PARTS:
                schema = self._arrow_schema(part)
                buffer = io.BytesIO()
                with pq.ParquetWriter(buffer, self._arrow_schema(part, typed=True), compression="zstd",
                                      write_statistics=True) as writer:
                    for chunk in _chunks(self.frames[part]):
                        table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
                        writer.write_table(self._typed(part, table.replace_schema_metadata(None)))
                        advance(len(chunk))
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
            for chunk in _chunks(self.frames[part]):
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
