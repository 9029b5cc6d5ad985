"""Reading and validating an inventory file (CSV in UTF-8 / UTF-8 with BOM / UTF-16 with BOM / GBK / GB18030,
or XLSX).

Everything here is vectorised with pandas: no database query per row. The result is a frame of clean
values ready to write, plus a frame of errors naming row, column, value and reason. Writing is
patents.inventory.services.inventory_import's job. The header mapping is documented in docs/inventory-import.md.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO
from xml.parsers import expat

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patents.inventory import xlsx
from patents.inventory.diagnostics import translate_diagnosis
from patents.inventory.fields import classify_locarno_series, classify_series
from patents.inventory.ipc import IPCError, normalize_ipc_series, parse_ipc_list
from patents.inventory.locarno import LocarnoError, normalize_locarno_series, parse_locarno_list
from patents.inventory.numbers import normalize_series
from patents.inventory.term import statutory_expiry_series

# Canonical column -> accepted headers. "ipc" is the main classification column: IPC for inventions and
# utility models, Locarno for designs (CNIPA exports put both under 主分类号 / 分类号).
# Headers match case-, space- and underscore-insensitively.
# The inventory keys a patent on its application number: it is fixed from filing to expiry, whereas a
# publication number changes kind code as the patent advances (CN112345678A, then ...B). CNIPA exports carry
# both, so a publication or grant number column is the key only in a file without an application number;
# beside one it is ignored (the model keeps one number, and the application number identifies the patent).
APPLICATION_NUMBER_HEADERS = ("patent_number", "number", "application_number", "专利号", "申请号", "申请号/专利号")
PUBLICATION_NUMBER_HEADERS = ("publication_number", "grant_publication_number", "公开号", "公告号", "公开（公告）号",
                              "授权公告号")
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "number": APPLICATION_NUMBER_HEADERS + PUBLICATION_NUMBER_HEADERS,
    "title": ("title", "专利名称", "发明名称", "名称", "发明创造名称"),
    "kind": ("kind", "patent_type", "type", "专利类型", "类型"),
    "filing_date": ("filing_date", "application_date", "申请日"),
    "grant_date": ("grant_date", "授权日", "授权公告日"),
    "ipc": ("ipc", "ipc_codes", "ipc分类号", "主分类号", "分类号"),
    "abstract": ("abstract", "摘要"),
    # The holder's English text (an English-original patent's own text goes in title / abstract).
    "title_en": ("title_en", "english_title", "title (english)", "英文名称", "英文标题", "英文专利名称", "英文发明名称"),
    "abstract_en": ("abstract_en", "english_abstract", "abstract (english)", "英文摘要"),
    "claims_count": ("claims_count", "claims", "权利要求数", "权利要求项数"),
    "legal_status": ("legal_status", "status", "法律状态"),
    "inventors": ("inventors", "发明人", "设计人"),
    "co_owners": ("co_owners", "共同专利权人", "共有人"),
    "annual_fees_paid_through": ("annual_fees_paid_through", "fees_paid_through", "年费缴至", "年费缴纳至"),
    "family_size": ("family_size", "同族数", "同族数量"),
    "forward_citations": ("forward_citations", "citations", "被引次数", "被引用次数"),
    "evaluation_report": ("evaluation_report", "专利权评价报告", "评价报告"),
    "pledged": ("pledged", "质押", "是否质押"),
    "exclusive_licence_in_force": ("exclusive_licence_in_force", "exclusive_licence", "独占许可", "排他许可"),
    "term_extension_days": ("term_extension_days", "专利权期限补偿天数", "期限补偿天数"),
    # Grounds that bar open licensing (Implementing Regulations arts. 86, 103-104; Guidelines on co-owners).
    "procedure_suspension": ("procedure_suspension", "procedures_suspended", "中止程序", "程序中止", "中止原因"),
    "procedure_suspended_on": ("procedure_suspended_on", "suspended_on", "中止日期", "程序中止日"),
    "co_owners_agreement_allows_declaring": ("co_owners_agreement_allows_declaring", "共有人约定可单独声明",
                                             "共有人约定允许单独声明"),
}
REQUIRED_COLUMNS = ("number", "title", "kind", "filing_date")

KIND_VALUES = {
    "invention": "invention", "发明": "invention", "发明专利": "invention", "i": "invention",
    "utilitymodel": "utility_model", "utility_model": "utility_model", "utility": "utility_model",
    "实用新型": "utility_model", "实用新型专利": "utility_model", "u": "utility_model",
    "design": "design", "外观设计": "design", "外观设计专利": "design", "industrialdesign": "design",
    "d": "design", "s": "design",
}
STATUS_VALUES = {
    "granted": "granted", "授权": "granted", "有效": "granted", "专利权维持": "granted", "inforce": "granted",
    "active": "granted",
    "pending": "pending", "审中": "pending", "在审": "pending", "实质审查": "pending", "公开": "pending",
    "申请中": "pending",
    "lapsed": "lapsed", "失效": "lapsed", "未缴年费专利权终止": "lapsed", "放弃": "lapsed", "终止": "lapsed",
    "expired": "expired", "期限届满": "expired", "届满": "expired",
    "invalidated": "invalidated", "无效": "invalidated", "全部无效": "invalidated", "宣告无效": "invalidated",
}
EVALUATION_VALUES = {
    "positive": "positive", "全部符合": "positive", "符合": "positive", "yes": "positive", "有": "positive",
    "partial": "partial", "部分符合": "partial",
    "negative": "negative", "不符合": "negative", "全部不符合": "negative",
    "": "", "none": "", "no": "", "无": "",
}
SUSPENSION_VALUES = {
    "": "", "none": "", "no": "", "无": "", "否": "",
    "ownership_dispute": "ownership_dispute", "ownershipdispute": "ownership_dispute", "权属纠纷": "ownership_dispute",
    "preservation_order": "preservation_order", "preservationorder": "preservation_order",
    "财产保全": "preservation_order", "保全": "preservation_order", "保全措施": "preservation_order",
}
BOOL_VALUES = {"true": True, "yes": True, "y": True, "1": True, "是": True, "有": True,
               "false": False, "no": False, "n": False, "0": False, "否": False, "无": False, "": False}
KIND_LABELS = {"invention": gettext_lazy("invention"), "utility_model": gettext_lazy("utility model"),
               "design": gettext_lazy("design")}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")

MAX_COLUMNS = 200
# An XLSX is a zip; refuse archives whose contents would expand beyond this (zip bombs).
MAX_XLSX_EXPANDED_BYTES = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL_RE = re.compile(_CONTROL)


class InventoryFileError(Exception):
    """The file as a whole cannot be read; `column` names the header concerned when there is one."""

    def __init__(self, reason: str, column: str = ""):
        super().__init__(reason)
        self.reason, self.column = reason, column


@dataclass
class ValidatedInventory:
    """Clean values for the valid rows (index = source row number) and one error row per problem."""

    rows: pd.DataFrame
    errors: pd.DataFrame
    total_rows: int
    present_columns: set[str] = field(default_factory=set)

    @property
    def rejected_row_numbers(self) -> set[int]:
        return set(self.errors["row"].astype(int)) - {0}


def _header_key(header) -> str:
    return re.sub(r"[\s_\-（）()]+", "", str(header).replace("\ufeff", "")).lower()


_ALIAS_LOOKUP = {_header_key(alias): column for column, aliases in HEADER_ALIASES.items() for alias in aliases}
_PUBLICATION_NUMBER_KEYS = {_header_key(alias) for alias in PUBLICATION_NUMBER_HEADERS}


BLOCK_BYTES = 16 * 1024 * 1024
CHUNK_ROWS = 50_000
# A chunk's text, whatever its row count: ~100 MB as Python strings, a few times that while it is checked.
CHUNK_TEXT_CHARS = 16 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass
class InventoryTable:
    """An opened inventory file: its data rows come in frames of strings (XLSX dates stay dates), each
    indexed by its data rows' positions after the header, so blank rows (dropped) still count. Only frames
    with at least one non-blank row are yielded; iterating raises InventoryFileError for a file that turns
    out unreadable further down (and for a header without data rows)."""

    estimated_rows: int
    chunks: Iterator[pd.DataFrame]


def _blocks(file: BinaryIO, start: int = 0) -> Iterator[bytes]:
    file.seek(start)
    while block := file.read(BLOCK_BYTES):
        yield block


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ACCEPTED_ENCODINGS = "UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's \"Unicode text\"), GBK/GB18030"


def _candidates(head: bytes) -> tuple[str, ...]:
    """The encodings a CSV beginning with `head` may be in, by its byte order mark when it has one."""
    if head.startswith(_BOM):
        return ("utf-8-sig",)
    if head.startswith(_UTF16_BOMS):
        # Excel's "Unicode text" (UTF-16 LE, tab-separated) and other UTF-16 exports; the codec reads the BOM.
        return ("utf-16",)
    return ("utf-8", "gb18030")


def _encoding(file: BinaryIO, head: bytes) -> tuple[str, int]:
    """The file's text encoding ("utf-8-sig", "utf-16", "utf-8" or "gb18030"), checked over the whole file
    block by block (memory stays flat), and its line count. Raises InventoryFileError for undecodable bytes."""
    candidates = _candidates(head)
    for encoding in candidates:
        decoder, offset, lines = codecs.getincrementaldecoder(encoding)(), 0, 0
        try:
            for block in _blocks(file):
                text = decoder.decode(block)
                offset += len(block)
                # In UTF-16 a 0x0A byte is also half of other characters: count decoded line ends there.
                lines += text.count("\n") if encoding == "utf-16" else block.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            if encoding != candidates[-1]:
                continue
            if encoding == "utf-16":
                raise InventoryFileError(
                    _("The file starts as UTF-16 text but has undecodable bytes at offset %(offset)d. Accepted "
                      "encodings: %(accepted)s.") % {"offset": offset + max(exc.start, 0),
                                                    "accepted": ACCEPTED_ENCODINGS}) from exc
            # GB18030 is a superset of GBK and GB2312: what Chinese Excel writes as "CSV".
            raise InventoryFileError(
                _("The file is neither UTF-8 nor GBK/GB18030 text (undecodable bytes at offset %(offset)d).")
                % {"offset": offset + max(exc.start, 0)}
            ) from exc
        return encoding, lines
    raise AssertionError("unreachable")


def open_table(file: BinaryIO, *, size: int, max_bytes: int, chunk_rows: int = CHUNK_ROWS) -> InventoryTable:
    """A seekable binary file of `size` bytes -> InventoryTable read `chunk_rows` rows at a time (CSV: pandas'
    C parser; XLSX: patents.inventory.xlsx, streaming). Checks what can be checked before reading any data row
    (size, kind of file, header and its required columns), then the CSV's encoding over the whole file; raises
    InventoryFileError."""
    file.seek(0)
    head = file.read(65536)
    if not head.strip() and not any(block.strip() for block in _blocks(file)):
        raise InventoryFileError(_("The file is empty."))
    if size > max_bytes:
        raise InventoryFileError(
            _("The file is %(size).1f MB, over the limit of %(limit).0f MB; split it into several files.")
            % {"size": size / 1_048_576, "limit": max_bytes / 1_048_576}
        )
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(file, size=size, chunk_rows=chunk_rows)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InventoryFileError(_("Old Excel .xls files are not supported; save the sheet as .xlsx or CSV."))
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise InventoryFileError(
            _("This is not a spreadsheet: the file contains binary data. Upload XLSX, or CSV text in one of these "
              "encodings: %(accepted)s.") % {"accepted": ACCEPTED_ENCODINGS})
    # The header first: a file without the required columns is refused before its body is decoded or parsed.
    delimiter = None
    for encoding in _candidates(head):
        first_line = _first_line(file, encoding, errors="strict")
        if first_line is not None:
            delimiter = _check_csv_header(file, first_line, encoding)
            break
    encoding, lines = _encoding(file, head)
    if delimiter is None:  # a header undecodable in every candidate but a body that decodes: not expected
        delimiter = _check_csv_header(file, _first_line(file, encoding), encoding)
    return _open_csv(file, encoding=encoding, delimiter=delimiter, lines=lines, size=size, chunk_rows=chunk_rows)


def read_table(raw: bytes, *, filename: str = "", max_bytes: int) -> pd.DataFrame:
    """Bytes of an uploaded file -> one frame of strings (XLSX dates stay dates), indexed by each data row's
    position after the header (blank rows are dropped but still counted). Raises InventoryFileError."""
    table = open_table(io.BytesIO(raw), size=len(raw), max_bytes=max_bytes)
    return pd.concat(list(table.chunks))


def _first_line(file: BinaryIO, encoding: str, errors: str = "replace") -> str | None:
    """The file's first line (at most ~1M characters); None when `errors` is strict and it does not decode.
    Only the line itself is decoded: the body may be anything (it is checked after the header)."""
    if encoding != "utf-16":
        # In UTF-8 and GB18030 the byte 0x0A is only ever a line feed, never part of a character.
        file.seek(0)
        raw = file.read(1_100_000).split(b"\n", 1)[0]
        try:
            return raw.decode(encoding, errors=errors)
        except UnicodeDecodeError:
            return None
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = ""
    for block in _blocks(file):
        text += decoder.decode(block[:1_100_000])
        if "\n" in text or len(text) > 1_000_000 or len(block) > 1_100_000:
            break
    return text.split("\n", 1)[0]


def _check_csv_header(file: BinaryIO, first_line: str, encoding: str) -> str:
    """Check a CSV's header line (separator, width, required columns) before any data row is read; returns
    the separator. Raises InventoryFileError."""
    if first_line.count(",") + first_line.count(";") + first_line.count("\t") + first_line.count("，") == 0 \
            and len(first_line) > 0 and _header_key(first_line) not in _ALIAS_LOOKUP:
        raise InventoryFileError(_("This is not a spreadsheet: no column separator in the first line."))
    delimiter = max([",", ";", "\t"], key=first_line.count)
    if len(first_line) > 1_000_000:
        raise InventoryFileError(_("The header line is too long."))
    try:
        # Only the header row is checked for width first: a 10k-column row fails fast and clearly.
        header_cells = next(csv.reader([first_line], delimiter=delimiter))
    except csv.Error as exc:
        raise InventoryFileError(_("The CSV cannot be parsed: %(error)s") % {"error": exc}) from exc
    if len(header_cells) > MAX_COLUMNS:
        raise InventoryFileError(_("The file has %(n)d columns; at most %(max)d are read.")
                                 % {"n": len(header_cells), "max": MAX_COLUMNS})
    file.seek(0)
    try:
        # pandas itself reads the header (nrows=0: no data row), so the names are those the chunks will have.
        header = pd.read_csv(file, sep=delimiter, dtype=str, nrows=0, engine="c", encoding=encoding,
                             encoding_errors="replace")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, UnicodeDecodeError):
        return delimiter  # reported with its row when the file is read
    map_headers(header)
    return delimiter


def _open_csv(file: BinaryIO, *, encoding: str, delimiter: str, lines: int, size: int,
              chunk_rows: int) -> InventoryTable:
    # Rows per chunk also bounded by the text they hold on average: 50,000 rows of 20 kB abstracts would be 1 GB.
    average_line = size / max(lines, 1)
    chunk_rows = min(chunk_rows, max(100, int(CHUNK_TEXT_CHARS / max(average_line, 1))))
    file.seek(0)
    try:
        # Blank lines are read and then dropped, so the index keeps each record's position: error reports
        # must name the row the user sees in Excel, also after an empty line (or a line of bare separators).
        reader = pd.read_csv(file, sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, engine="c", encoding=encoding, chunksize=chunk_rows)
    except (pd.errors.ParserError, csv.Error, UnicodeDecodeError) as exc:
        raise InventoryFileError(_("The CSV cannot be parsed: %(error)s") % {"error": exc}) from exc
    return InventoryTable(estimated_rows=max(lines - 1, 0), chunks=_csv_chunks(reader))


def _csv_chunks(reader) -> Iterator[pd.DataFrame]:
    data_rows = 0
    with reader:
        while True:
            try:
                frame = next(reader)
            except StopIteration:
                break
            except (pd.errors.ParserError, csv.Error, UnicodeDecodeError) as exc:
                raise InventoryFileError(_("The CSV cannot be parsed: %(error)s") % {"error": exc}) from exc
            if frame.shape[1] > MAX_COLUMNS:
                raise InventoryFileError(_("The file has %(n)d columns; at most %(max)d are read.")
                                         % {"n": frame.shape[1], "max": MAX_COLUMNS})
            frame = frame[frame.ne("").any(axis=1)]
            if not frame.empty:
                data_rows += len(frame)
                yield frame
    if not data_rows:
        raise InventoryFileError(_("The file has a header but no data rows."))


def _open_xlsx(file: BinaryIO, *, size: int, chunk_rows: int) -> InventoryTable:
    try:
        file.seek(0)
        archive = zipfile.ZipFile(file)
        expanded = sum(info.file_size for info in archive.infolist())
        if expanded > MAX_XLSX_EXPANDED_BYTES or expanded > MAX_XLSX_RATIO * max(size, 1):
            raise InventoryFileError(_("The XLSX file expands to an unreasonable size (a zip bomb?); refused."))
        if "xl/workbook.xml" not in archive.namelist():
            raise InventoryFileError(_("This zip file is not an XLSX workbook."))
        # Streams the sheet's XML as it is decompressed, and the shared strings only as far as the cells read so
        # far need them (patents.inventory.xlsx): the header is checked before any data row is read.
        try:
            workbook = xlsx.Workbook(archive)
        except BaseException:
            archive.close()
            raise
    except InventoryFileError:
        raise
    except xlsx.XlsxError as exc:
        raise InventoryFileError(_("The XLSX file cannot be read: %(error)s") % {"error": exc.reason}) from exc
    except (zipfile.BadZipFile, expat.ExpatError, ValueError, KeyError, OSError, EOFError) as exc:
        raise InventoryFileError(_("The XLSX file cannot be read: %(error)s") % {"error": exc}) from exc
    rows = _xlsx_rows(workbook)
    header: list = []
    header_row = 0
    try:
        for number, cells in rows:  # blank rows above the header are skipped
            header_row = number
            header = [_xlsx_value(cells.get(column)) for column in range(1, max(cells, default=0) + 1)]
            while header and header[-1] == "":
                header.pop()
            if header:
                break
        if not header:
            raise InventoryFileError(_("The file is empty."))  # no row with anything in it on the first sheet
        if len(header) > MAX_COLUMNS:
            raise InventoryFileError(_("The file has %(n)d columns; at most %(max)d are read.")
                                     % {"n": len(header), "max": MAX_COLUMNS})
        names = _column_names(header)
        map_headers(pd.DataFrame(columns=names))  # a file without the required columns is refused here
    except BaseException:
        workbook.close()
        raise
    estimated = max(workbook.dimension_rows - header_row, 0)
    return InventoryTable(estimated_rows=estimated,
                          chunks=_xlsx_chunks(workbook, rows, names, header_row, chunk_rows))


def _xlsx_rows(workbook) -> Iterator[tuple[int, dict]]:
    try:
        yield from workbook.rows()
    except xlsx.XlsxError as exc:
        raise InventoryFileError(_("The XLSX file cannot be read: %(error)s") % {"error": exc.reason}) from exc
    except (zipfile.BadZipFile, expat.ExpatError, ValueError, KeyError, OSError, EOFError) as exc:
        raise InventoryFileError(_("The XLSX file cannot be read: %(error)s") % {"error": exc}) from exc


# Cell texts pandas' readers take for "missing" (its default na_values); an XLSX cell holding one reads as empty.
_NA_TEXTS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})


def _xlsx_value(value):
    """One cell value as the text (or date) the importer reads; error cells (#N/A...) and empty ones as ""."""
    if value is None or (isinstance(value, str) and value in _NA_TEXTS):
        return ""
    return _xlsx_cell(value)


def _column_names(header: list) -> list:
    """Header cells as column names: an empty one is "Unnamed: i", a repeated one gets ".1", ".2"..."""
    names, seen = [], {}
    for i, value in enumerate(header):
        name = f"Unnamed: {i}" if value == "" else value
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _xlsx_chunks(workbook, rows, names: list, header_row: int, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Frames of at most `chunk_rows` rows and about CHUNK_TEXT_CHARS characters of text: a row's cells can
    each hold 32,767 characters (or refer to one shared string of that length many times), so a count of rows
    alone does not bound a chunk's memory."""
    width, data_rows = len(names), 0
    positions: list[int] = []
    values: list[list] = []
    chars = 0
    try:
        for number, cells in rows:
            row = [_xlsx_value(cells.get(column)) for column in range(1, width + 1)]
            if any(v != "" for v in row):  # blank rows are dropped but still counted
                positions.append(number - header_row - 1)
                values.append(row)
                chars += sum(len(v) for v in row if isinstance(v, str))
            if len(values) >= chunk_rows or chars >= CHUNK_TEXT_CHARS:
                data_rows += len(values)
                yield pd.DataFrame(values, columns=names, index=positions, dtype=object)
                positions, values, chars = [], [], 0
    finally:
        workbook.close()
    if values:
        data_rows += len(values)
        yield pd.DataFrame(values, columns=names, index=positions, dtype=object)
    if not data_rows:
        raise InventoryFileError(_("The file has a header but no data rows."))


def _xlsx_cell(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | date):
        return pd.Timestamp(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def map_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename known headers to canonical column names; unknown columns are ignored.

    Publication and grant number columns are ignored when the file has an application number column,
    which is then the key (see APPLICATION_NUMBER_HEADERS). Two headers for the same column are refused."""
    headers = list(frame.columns)
    if any(_ALIAS_LOOKUP.get(_header_key(h)) == "number" and _header_key(h) not in _PUBLICATION_NUMBER_KEYS
           for h in headers):
        headers = [h for h in headers if _header_key(h) not in _PUBLICATION_NUMBER_KEYS]
    renames, seen = {}, {}
    for header in headers:
        column = _ALIAS_LOOKUP.get(_header_key(header))
        if column is None:
            continue
        if column in seen and column == "number":
            raise InventoryFileError(_("Columns '%(a)s' and '%(b)s' are both patent numbers: keep one. Beside an "
                                       "application number column (申请号), publication and grant number columns "
                                       "are ignored.") % {"a": seen[column], "b": header}, column=column)
        if column in seen:
            raise InventoryFileError(_("Columns '%(a)s' and '%(b)s' both mean %(column)s.")
                                     % {"a": seen[column], "b": header, "column": column}, column=column)
        seen[column] = header
        renames[header] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        accepted = "; ".join(f"{c}: {' / '.join(HEADER_ALIASES[c][:4])}" for c in missing)
        raise InventoryFileError(_("Required column(s) missing: %(columns)s.") % {"columns": accepted},
                                 column=", ".join(missing))
    return frame[list(renames)].rename(columns=renames)


def _per_row(source: pd.Series, build):
    """A reason built from each rejected row's value; `_Errors.add` calls it for masked rows only."""
    build.source = source.to_numpy(dtype=object)
    return build


class _Errors:
    def __init__(self):
        self.parts: list[pd.DataFrame] = []

    def add(self, mask, rows: pd.Index, column: str, values, reason) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        values = pd.Series(values, index=rows) if not isinstance(values, pd.Series) else values
        if callable(reason):  # per-row reasons are only built for the rejected rows
            reasons = [reason(v) for v in reason.source[mask]]
        else:
            reasons = reason[mask] if isinstance(reason, np.ndarray | pd.Series) else reason
        self.parts.append(pd.DataFrame({
            "row": rows[mask], "column": column, "value": values[mask].astype(str).str.slice(0, 200).to_numpy(),
            "reason": np.asarray(reasons, dtype=object) if not isinstance(reasons, str) else reasons,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row", "column", "value", "reason"])
        return pd.concat(self.parts, ignore_index=True).sort_values(["row", "column"], kind="stable")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    cells = frame[column]
    if pd.api.types.is_string_dtype(cells.dtype) and cells.dtype != object:
        # A CSV column: one vectorised strip (Arrow trims the same characters as str.strip); a missing cell
        # (a short line) reads as "nan", as str() of it always did.
        return (cells.fillna("nan") if cells.hasnans else cells).str.strip()
    return cells.map(lambda v: v if isinstance(v, pd.Timestamp) else str(v).strip())


def _key(series: pd.Series) -> pd.Series:
    return series.astype(str).str.lower().str.replace(r"[\s_\-]+", "", regex=True)


def _per_distinct(series: pd.Series, convert) -> pd.Series:
    """`convert(series)` computed on the column's distinct values only, then spread back to every row: a column
    of kinds, statuses, flags or dates holds a handful (or a few thousand) distinct values, so the string work
    runs on those instead of on every cell."""
    codes, distinct = pd.factorize(series, use_na_sentinel=False)
    converted = convert(pd.Series(distinct, dtype=series.dtype))
    return pd.Series(converted.to_numpy()[codes], index=series.index, name=series.name,
                     dtype=converted.dtype)


def _lookup(raw: pd.Series, values: dict) -> pd.Series:
    """`values` of each cell's key (lower case, without spaces, underscores or hyphens); NaN when unknown."""
    return _per_distinct(raw, lambda distinct: _key(distinct).map(values))


def parse_dates(series: pd.Series) -> pd.Series:
    """Vectorised: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, or Excel date cells -> Timestamp/NaT."""
    return _per_distinct(series, _parse_dates)


def _parse_dates(series: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        is_ts = np.zeros(len(series), dtype=bool)  # text only (CSV): no date cells to look for
    else:
        is_ts = series.map(lambda v: isinstance(v, pd.Timestamp)).to_numpy(dtype=bool)
    if is_ts.any():
        out[is_ts] = pd.to_datetime(series[is_ts]).dt.normalize()
    text = series[~is_ts].astype(str).str.strip().str.slice(0, 10)
    for fmt in DATE_FORMATS:
        todo = out.isna() & ~is_ts & (series.astype(str).str.strip() != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text.reindex(series.index)[todo], format=fmt, errors="coerce")
    return out


def _parse_int(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", np.nan), errors="coerce")


_LIST_SPLIT = re.compile(r"\s*[;；,，、]\s*")
_SHARE = re.compile(r"^(?P<name>.+?)\s*(?:[:：]\s*(?P<a>\d+(?:\.\d+)?)\s*%?|[（(]\s*(?P<b>\d+(?:\.\d+)?)\s*%?\s*[）)])$")


def parse_co_owners(text: str) -> list[tuple[str, Decimal | None]]:
    """'甲大学:60;乙公司:40' or '甲大学(60%)；乙公司' -> [(name, share or None)]. Raises ValueError."""
    owners = []
    for part in filter(None, (p.strip() for p in re.split(r"\s*[;；]\s*", text))):
        m = _SHARE.match(part)
        name, share = (m["name"].strip(), m["a"] or m["b"]) if m else (part, None)
        try:
            # Stored with two decimals: rounding here keeps a re-import of the same file unchanged.
            value = Decimal(share).quantize(Decimal("0.01")) if share is not None else None
        except InvalidOperation as exc:
            raise ValueError(_("share of %(name)s is not a number") % {"name": name}) from exc
        if value is not None and not (0 < value <= 100):
            raise ValueError(_("share of %(name)s must be between 0 and 100") % {"name": name})
        owners.append((name[:200], value))
    total = sum(s for _, s in owners if s is not None)
    if total > 100:
        raise ValueError(_("co-owner shares add up to %(total)s%%, more than 100%%") % {"total": total})
    if len({n for n, _ in owners}) != len(owners):
        raise ValueError(_("a co-owner is listed twice"))
    return owners


def _lists(series: pd.Series) -> pd.Series:
    """Each cell's list, [] for a rejected or empty one."""
    return pd.Series([v if isinstance(v, list) else [] for v in series.tolist()], index=series.index, dtype=object)


def _where(mask: np.ndarray, values: pd.Series, test) -> np.ndarray:
    """`mask` narrowed to the rows whose value passes `test`; the test runs on the masked rows only."""
    out = np.zeros(len(values), dtype=bool)
    out[mask] = [test(v) for v in values.to_numpy(dtype=object)[mask]]
    return out


def _is_locarno(text) -> bool:
    try:
        return bool(parse_locarno_list(str(text)))
    except LocarnoError:
        return False


def _is_ipc(text) -> bool:
    try:
        return bool(parse_ipc_list(str(text), allow_subclass=True))
    except IPCError:
        return False


def validate(frame: pd.DataFrame, *, today: date, seen_numbers: dict[str, int] | None = None) -> ValidatedInventory:
    """Check every row; return clean values of the valid rows and the errors of the others.

    A file read in chunks passes the same `seen_numbers` dict with every chunk: it maps each number met so
    far to the row it was first met on, so a number repeated in a later chunk is a duplicate of that row."""
    frame = frame.copy()
    # Spreadsheet row numbers: the header is row 1 and read_table's index is each data row's position.
    frame.index = pd.Index(np.asarray(frame.index, dtype=np.int64) + 2)
    rows = frame.index
    errors = _Errors()
    out = pd.DataFrame(index=rows)

    # Control characters (other than tab and line breaks) have no place in a patent record: they garble
    # pages and exports, and PostgreSQL refuses NUL outright. The reported value shows them as \xNN.
    for column in frame.columns:
        cells = frame[column]
        if not (cells.dtype == object or pd.api.types.is_string_dtype(cells)):
            continue
        text = cells.astype(str)
        bad = text.str.contains(_CONTROL, regex=True, na=False).to_numpy(dtype=bool)  # one vectorised scan
        if bad.any():
            shown = text.str.replace(_CONTROL, lambda m: f"\\x{ord(m.group()):02x}", regex=True)
            errors.add(bad, rows, column, shown, _("contains a control character (shown as \\xNN); remove it"))
            frame.loc[bad, column] = shown[bad]

    raw_number = _text(frame, "number")
    numbers = normalize_series(raw_number.where(raw_number != "", None))
    errors.add(numbers["error"].notna(), rows, "number", raw_number,
               _per_row(numbers["error"].fillna("").astype(str), lambda e: translate_diagnosis(e)))
    out["number"] = numbers["canonical"]
    out["number_original"] = raw_number.str.slice(0, 60)
    out["country"] = numbers["country"].fillna("CN")
    first_row = pd.Series(rows, index=rows).groupby(out["number"].to_numpy()).transform("min")
    duplicate = out["number"].notna() & out["number"].duplicated(keep="first")
    if seen_numbers is not None:
        known = seen_numbers.get
        earlier = pd.Series([known(n) for n in out["number"].tolist()], index=rows, dtype="Int64")
        in_earlier_chunk = earlier.notna() & out["number"].notna()
        first_row = first_row.where(~in_earlier_chunk, earlier)
        remember = out["number"].notna() & ~duplicate & ~in_earlier_chunk
        seen_numbers.update(zip(out["number"][remember].tolist(), rows[remember.to_numpy()].tolist(), strict=True))
        duplicate = duplicate | in_earlier_chunk
    errors.add(duplicate, rows, "number", raw_number,
               _per_row(first_row.astype("Int64").astype(str), lambda r: _("duplicate of row %(row)s") % {"row": r}))

    title = _text(frame, "title")
    errors.add(title == "", rows, "title", title, _("missing title"))
    errors.add(title.str.len() > 500, rows, "title", title, _("title longer than 500 characters"))
    out["title"] = title
    out["abstract"] = _text(frame, "abstract").str.slice(0, 20000)
    title_en = _text(frame, "title_en")
    errors.add(title_en.str.len() > 500, rows, "title_en", title_en, _("English title longer than 500 characters"))
    out["title_en"] = title_en
    out["abstract_en"] = _text(frame, "abstract_en").str.slice(0, 20000)

    raw_kind = _text(frame, "kind")
    kind = _lookup(raw_kind, KIND_VALUES)
    implied = numbers["patent_kind"]
    kind = kind.where(~((raw_kind == "") & implied.notna()), implied)
    errors.add(kind.isna() & (raw_kind != ""), rows, "kind", raw_kind,
               _("unknown kind (use invention/发明, utility model/实用新型 or design/外观设计)"))
    errors.add(kind.isna() & (raw_kind == ""), rows, "kind", raw_kind, _("missing kind"))
    mismatch = kind.notna() & implied.notna() & (kind != implied)
    errors.add(mismatch, rows, "kind", raw_kind,
               _per_row(implied.fillna(""), lambda k: _("kind contradicts the patent number, which denotes: %(kind)s")
                        % {"kind": KIND_LABELS.get(k, k)}))
    out["kind"] = kind

    raw_filing = _text(frame, "filing_date")
    filing = parse_dates(raw_filing)
    errors.add((raw_filing.astype(str) == ""), rows, "filing_date", raw_filing, _("missing filing date"))
    errors.add(filing.isna() & (raw_filing.astype(str) != ""), rows, "filing_date", raw_filing,
               _("not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"))
    errors.add(filing > pd.Timestamp(today), rows, "filing_date", raw_filing, _("filing date is in the future"))
    errors.add((filing < pd.Timestamp("1985-04-01")) & (out["country"] == "CN"), rows, "filing_date", raw_filing,
               _("filing date before 1985-04-01, when the Chinese patent system began"))
    errors.add(filing < pd.Timestamp("1900-01-01"), rows, "filing_date", raw_filing, _("filing date before 1900"))
    out["filing_date"] = filing

    raw_grant = _text(frame, "grant_date")
    grant = parse_dates(raw_grant)
    errors.add(grant.isna() & (raw_grant.astype(str) != ""), rows, "grant_date", raw_grant,
               _("not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"))
    errors.add(grant.notna() & filing.notna() & (grant < filing), rows, "grant_date", raw_grant,
               _("grant date is before the filing date"))
    errors.add(grant > pd.Timestamp(today), rows, "grant_date", raw_grant, _("grant date is in the future"))
    out["grant_date"] = grant

    # One classification column, read by kind: designs carry Locarno classes, the others IPC symbols.
    raw_ipc = _text(frame, "ipc")
    is_design = (kind == "design").to_numpy(dtype=bool)
    ipc = normalize_ipc_series(raw_ipc.where(~is_design, ""))
    ipc_bad = ipc["error"].notna().to_numpy(dtype=bool)
    given_locarno = _where(ipc_bad, raw_ipc, _is_locarno)
    errors.add(given_locarno, rows, "ipc", raw_ipc, _(
        "this is a Locarno class, which only designs have; an invention or utility model needs an IPC symbol "
        "such as H01M 10/0525"))
    errors.add(ipc_bad & ~given_locarno, rows, "ipc", raw_ipc,
               _per_row(ipc["error"].fillna("").astype(str),
                        lambda e: _("malformed IPC: %(error)s") % {"error": translate_diagnosis(e)}))
    locarno = normalize_locarno_series(raw_ipc.where(is_design, ""))
    locarno_bad = locarno["error"].notna().to_numpy(dtype=bool)
    given_ipc = _where(locarno_bad, raw_ipc, _is_ipc)
    errors.add(given_ipc, rows, "ipc", raw_ipc, _(
        "this is an IPC symbol, but a design is classified by its Locarno class, e.g. 14-03"))
    errors.add(locarno_bad & ~given_ipc, rows, "ipc", raw_ipc,
               _per_row(locarno["error"].fillna("").astype(str),
                        lambda e: _("malformed Locarno class: %(error)s") % {"error": translate_diagnosis(e)}))
    out["main_ipc"] = ipc["main_ipc"].fillna("")
    out["ipc_codes"] = _lists(ipc["ipc_codes"])
    # main_ipc is canonical already: its subclass is its first four characters (ipc_subclass's answer).
    out["ipc_subclass"] = out["main_ipc"].str.slice(0, 4)
    out["locarno_codes"] = _lists(locarno["locarno_codes"])
    out["technology_field"] = classify_series(ipc["main_ipc"]).where(
        ~is_design, classify_locarno_series(locarno["main_locarno"]))

    raw_status = _text(frame, "legal_status")
    status = _lookup(raw_status, STATUS_VALUES)
    default_status = pd.Series(np.where(grant.notna(), "granted", "pending"), index=rows)
    status = status.where(raw_status != "", default_status)
    errors.add(status.isna(), rows, "legal_status", raw_status,
               _("unknown legal status (use pending, granted, lapsed, expired or invalidated)"))
    out["legal_status"] = status

    for column, label in (("claims_count", _("claims count")), ("family_size", _("family size")),
                          ("forward_citations", _("forward citations")), ("term_extension_days", _("term extension"))):
        raw = _text(frame, column)
        value = _per_distinct(raw, _parse_int)  # claim counts, family sizes: few distinct values
        bad = (raw != "") & (value.isna() | (value < 0) | (value % 1 != 0) | (value > 100_000))
        errors.add(bad, rows, column, raw, _("%(label)s must be a whole number from 0 to 100000") % {"label": label})
        out[column] = value.where(~bad).astype("Int64")
    out["term_extension_days"] = out["term_extension_days"].fillna(0)
    errors.add((out["term_extension_days"] > 0) & (out["kind"] != "invention"), rows, "term_extension_days",
               _text(frame, "term_extension_days"), _("only inventions can have a term extension"))

    raw_fees = _text(frame, "annual_fees_paid_through")
    fees = parse_dates(raw_fees)
    errors.add(fees.isna() & (raw_fees.astype(str) != ""), rows, "annual_fees_paid_through", raw_fees,
               _("not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"))
    out["annual_fees_paid_through"] = fees

    raw_eval = _text(frame, "evaluation_report")
    evaluation = _lookup(raw_eval, EVALUATION_VALUES)
    errors.add(evaluation.isna(), rows, "evaluation_report", raw_eval,
               _("unknown evaluation report conclusion (use positive, partial, negative or leave empty)"))
    out["evaluation_report"] = evaluation.fillna("")

    raw_suspension = _text(frame, "procedure_suspension")
    suspension = _lookup(raw_suspension, SUSPENSION_VALUES)
    errors.add(suspension.isna(), rows, "procedure_suspension", raw_suspension,
               _("unknown suspension (use ownership_dispute, preservation_order or leave empty)"))
    out["procedure_suspension"] = suspension.fillna("")
    raw_suspended_on = _text(frame, "procedure_suspended_on")
    suspended_on = parse_dates(raw_suspended_on)
    errors.add(suspended_on.isna() & (raw_suspended_on.astype(str) != ""), rows, "procedure_suspended_on",
               raw_suspended_on, _("not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"))
    errors.add((out["procedure_suspension"] != "") & suspended_on.isna() & (raw_suspended_on.astype(str) == ""),
               rows, "procedure_suspended_on", raw_suspended_on, _("a suspension needs the date it began"))
    out["procedure_suspended_on"] = suspended_on.where(out["procedure_suspension"] != "")

    for column in ("pledged", "exclusive_licence_in_force", "co_owners_agreement_allows_declaring"):
        raw = _text(frame, column)
        value = _lookup(raw, BOOL_VALUES)
        errors.add(value.isna(), rows, column, raw, _("use yes/no (是/否)"))
        out[column] = value.fillna(False).astype(bool)

    split = _LIST_SPLIT.split
    out["inventors"] = pd.Series([[p[:100] for p in split(t) if p][:100] if t else []
                                  for t in _text(frame, "inventors").tolist()], index=rows, dtype=object)
    co_owner_text = _text(frame, "co_owners")
    owners, owner_errors = [[] for _ in range(len(rows))], [None] * len(rows)
    for i, text in enumerate(co_owner_text.tolist()):
        if text:
            try:
                owners[i] = parse_co_owners(text)
            except ValueError as exc:
                owner_errors[i] = str(exc)
    co_owner_error = pd.Series(owner_errors, index=rows, dtype=object)
    errors.add(co_owner_error.notna(), rows, "co_owners", co_owner_text, co_owner_error.to_numpy(dtype=object))
    out["co_owners"] = pd.Series(owners, index=rows, dtype=object)

    error_frame = errors.frame()
    bad_rows = set(error_frame["row"])
    valid = out.loc[~out.index.isin(bad_rows)].copy()
    valid["expiry_date"] = statutory_expiry_series(valid["kind"], valid["filing_date"], valid["term_extension_days"])
    return ValidatedInventory(rows=valid, errors=error_frame, total_rows=len(frame),
                              present_columns=set(frame.columns))
