"""A streaming reader of an XLSX workbook's first sheet whose memory does not grow with the file.

openpyxl's read-only mode streams a sheet's rows, but it loads the whole shared-string table first (one Python
object per string, plus the element tree it parses them into) and keeps an emptied element for every row it has
read. A 4.5 MB upload expanding to 500 MB of tiny strings took 3.3 GiB and minutes before its header row, which
already lacked required columns, was even looked at. Here expat parses the XML as it is decompressed and no tree
is kept; shared strings are read only as far as the cells reached so far need them and are kept as UTF-8 bytes
(spilled to a temporary file past a budget); and what Excel itself cannot hold is refused: more than 1,048,576
rows or 16,384 columns, a cell of more than 32,767 characters. Cell values come out as openpyxl's
(`load_workbook(read_only=True, data_only=True)`) would: dates by the cell's number format, booleans, numbers,
error cells as None.
"""

from __future__ import annotations

import array
import contextlib
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from xml.parsers import expat

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
# Parts read whole (workbook, relationships, styles) are small in any real workbook.
MAX_SMALL_PART_BYTES = 64 * 1024 * 1024
FEED_BYTES = 256 * 1024
# Shared strings kept in memory (UTF-8) up to this; the rest go to a temporary file.
SHARED_STRINGS_MEMORY_BYTES = 128 * 1024 * 1024

_CELL_REF = re.compile(r"([A-Za-z]{1,3})?(\d+)?$")


class XlsxError(Exception):
    """The workbook cannot be read, or holds more than Excel allows; `reason` says which, for the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _parse(archive: zipfile.ZipFile, name: str, parser, *, limit: int | None = None,
           until: Callable[[], bool] | None = None) -> None:
    """Feed one member of the archive to an expat parser as it is decompressed; stop early once `until()`."""
    read = 0
    with archive.open(name) as stream:
        while block := stream.read(FEED_BYTES):
            read += len(block)
            if limit is not None and read > limit:
                raise XlsxError(f"part {name} is larger than {limit // 1_048_576} MB")
            parser.Parse(block, False)
            if until is not None and until():
                return
        parser.Parse(b"", True)


def _parser(start=None, end=None, chars=None):
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 65536
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if chars:
        parser.CharacterDataHandler = chars
    return parser


class _Text:
    """Collects the text of a cell or shared string (its <t> runs, not its phonetic <rPh> guide), bounded."""

    __slots__ = ("parts", "length", "where")

    def __init__(self, where: str):
        self.parts: list[str] = []
        self.length, self.where = 0, where

    def add(self, data: str) -> None:
        self.length += len(data)
        if self.length > EXCEL_MAX_CELL_CHARS:
            raise XlsxError(f"{self.where} holds more than {EXCEL_MAX_CELL_CHARS:,} characters, "
                            "more than an Excel cell can")
        self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts)


class SharedStrings:
    """The workbook's shared-string table, read lazily: entry i is parsed when a cell first refers to it."""

    def __init__(self, archive: zipfile.ZipFile, name: str | None):
        self.offsets = array.array("Q", [0])
        self.memory = bytearray()
        self.spill = None
        self.done = name is None
        self.error: Exception | None = None
        self.stream = archive.open(name) if name else None
        self.text: _Text | None = None
        self.in_t = self.in_rph = 0
        self.parser = _parser(self._start, self._end, self._chars)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _start(self, name, attrs):
        tag = _local(name)
        if tag == "si":
            self.text = _Text(f"shared string {len(self) + 1}")
        elif tag == "t":
            self.in_t += 1
        elif tag == "rPh":
            self.in_rph += 1

    def _end(self, name):
        tag = _local(name)
        if tag == "si" and self.text is not None:
            self._store(self.text.text().replace("x005F_", ""))  # as openpyxl's read_string_table
            self.text = None
        elif tag == "t":
            self.in_t -= 1
        elif tag == "rPh":
            self.in_rph -= 1

    def _chars(self, data):
        if self.text is not None and self.in_t and not self.in_rph:
            self.text.add(data)

    def _store(self, text: str) -> None:
        data = text.encode()
        end = self.offsets[-1] + len(data)
        if self.spill is None and end > SHARED_STRINGS_MEMORY_BYTES:
            self.spill = tempfile.TemporaryFile(prefix="xlsx-strings-")  # noqa: SIM115 (closed by close())
        if self.spill is None:
            self.memory += data
        else:
            self.spill.seek(self.offsets[-1] - len(self.memory))
            self.spill.write(data)
        self.offsets.append(end)

    def _feed(self) -> None:
        block = self.stream.read(FEED_BYTES)
        try:
            self.parser.Parse(block, not block)
        except (expat.ExpatError, XlsxError) as exc:
            # The entries before the fault are good; the fault is raised only when a cell needs one past it.
            self.error, self.done = exc, True
        if not block:
            self.done = True
        if self.done:
            self.stream.close()

    def __getitem__(self, index: int) -> str:
        while index >= len(self) and not self.done:
            self._feed()
        if index >= len(self) and self.error is not None:
            raise self.error
        if not 0 <= index < len(self):
            raise XlsxError(f"a cell refers to shared string {index + 1}, which the workbook does not have")
        start, end = self.offsets[index], self.offsets[index + 1]
        if end <= len(self.memory):
            return self.memory[start:end].decode()
        self.spill.seek(start - len(self.memory))
        return self.spill.read(end - start).decode()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        if self.spill is not None:
            self.spill.close()


def _relationships(archive: zipfile.ZipFile, name: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last segment, target path inside the archive)."""
    base = posixpath.dirname(posixpath.dirname(name))  # xl/_rels/workbook.xml.rels -> xl
    found = {}

    def start(tag, attrs):
        if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", "").rpartition("/")[2], path)

    if name in archive.namelist():
        _parse(archive, name, _parser(start), limit=MAX_SMALL_PART_BYTES)
    return found


def _styles(archive: zipfile.ZipFile, name: str | None) -> tuple[set[int], set[int]]:
    """Indexes of the cell formats (cellXfs) that show a date, and of those that show a duration."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    depth = {"cellXfs": 0}

    def start(tag, attrs):
        tag = _local(tag)
        if tag == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            depth["cellXfs"] += 1
        elif tag == "xf" and depth["cellXfs"]:
            try:
                formats.append(int(attrs.get("numFmtId", 0)))
            except ValueError:
                formats.append(0)

    def end(tag):
        if _local(tag) == "cellXfs":
            depth["cellXfs"] -= 1

    if name and name in archive.namelist():
        _parse(archive, name, _parser(start, end), limit=MAX_SMALL_PART_BYTES)
    dates, durations = set(), set()
    for index, number_format in enumerate(formats):
        code = custom.get(number_format) or builtin_format_code(number_format)
        if is_date_format(code):
            dates.add(index)
        if is_timedelta_format(code):
            durations.add(index)
    return dates, durations


def _column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


class Workbook:
    """An XLSX archive opened for reading its first worksheet row by row (`rows()`); close() when done."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        names = set(archive.namelist())
        workbook = "xl/workbook.xml"
        relationships = _relationships(archive, "xl/_rels/workbook.xml.rels")
        sheets: list[str] = []
        self.epoch = WINDOWS_EPOCH

        def start(tag, attrs):
            tag = _local(tag)
            if tag == "sheet":
                rid = next((v for k, v in attrs.items() if _local(k) == "id" and ":" in k), "")
                kind, target = relationships.get(rid, ("", ""))
                if kind == "worksheet" and target in names:
                    sheets.append(target)
            elif tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
                self.epoch = MAC_EPOCH

        _parse(archive, workbook, _parser(start), limit=MAX_SMALL_PART_BYTES)
        if not sheets:
            raise XlsxError("the workbook has no worksheet")
        self.sheet = sheets[0]
        by_kind = {kind: target for kind, target in relationships.values() if target in names}
        self.shared = SharedStrings(archive, by_kind.get("sharedStrings"))
        self.dates, self.durations = _styles(archive, by_kind.get("styles"))
        self.dimension_rows = 0

    def close(self) -> None:
        self.shared.close()
        self.archive.close()

    def rows(self) -> Iterator[tuple[int, dict[int, object]]]:
        """(row number, {column number: value}) for every row element of the first sheet, in order. Values are
        str, int, float, bool, datetime (date formats), time/timedelta (duration formats) or None."""
        reader = _SheetReader(self)
        parser = _parser(reader.start, reader.end, reader.chars)
        with self.archive.open(self.sheet) as stream:
            while True:
                block = stream.read(FEED_BYTES)
                try:
                    parser.Parse(block, not block)
                except (expat.ExpatError, XlsxError):
                    # The rows completed before the fault come first (the header is checked before a broken
                    # or oversized row further down is reported).
                    yield from reader.ready
                    raise
                yield from reader.ready
                reader.ready = []
                if not block:
                    return


class _SheetReader:
    """expat handlers for a worksheet: completed rows collect in `ready`."""

    def __init__(self, workbook: Workbook):
        self.workbook, self.shared = workbook, workbook.shared
        self.ready: list[tuple[int, dict[int, object]]] = []
        self.row_number = 0
        self.row: dict[int, object] | None = None
        self.column = 0
        self.cell_type, self.cell_style = "n", 0
        self.text: _Text | None = None
        self.capture = False
        self.inline = self.in_rph = 0
        self.value_text: str | None = None
        self.inline_text: str | None = None

    def start(self, name, attrs):
        tag = _local(name)
        if tag == "c":
            if self.row is None:
                return
            ref = attrs.get("r")
            match = _CELL_REF.match(ref) if ref else None
            if match and match.group(1):
                self.column = _column_index(match.group(1))
            else:
                self.column += 1
            if self.column > EXCEL_MAX_COLUMNS:
                raise XlsxError(f"row {self.row_number} has a cell beyond column {EXCEL_MAX_COLUMNS:,}, "
                                "more than Excel allows")
            self.cell_type = attrs.get("t", "n")
            style = attrs.get("s")
            self.cell_style = int(style) if style and style.isdigit() else 0
            self.value_text = self.inline_text = None
        elif tag == "v" and self.row is not None:
            self.text, self.capture = _Text(f"cell {self._where()}"), True
        elif tag == "is" and self.row is not None:
            self.inline += 1
            self.text = _Text(f"cell {self._where()}")
        elif tag == "t" and self.inline:
            self.capture = True
        elif tag == "rPh":
            self.in_rph += 1
        elif tag == "row":
            number, previous = attrs.get("r"), self.row_number
            try:
                self.row_number = int(float(number)) if number else self.row_number + 1
            except ValueError:
                raise XlsxError(f"{number!r} is not a row number") from None
            if self.row_number <= previous:
                # Excel writes rows in order; two rows with one number would report errors on the wrong row.
                raise XlsxError(f"row {self.row_number} comes after row {previous}: the rows are out of order")
            if self.row_number > EXCEL_MAX_ROWS:
                raise XlsxError(f"the sheet has more than {EXCEL_MAX_ROWS:,} rows, more than Excel allows")
            self.row, self.column = {}, 0
        elif tag == "dimension":
            match = re.search(r"(\d+)$", attrs.get("ref", ""))
            self.workbook.dimension_rows = int(match.group(1)) if match else 0

    def _where(self) -> str:
        letters, n = "", self.column
        while n:
            n, rest = divmod(n - 1, 26)
            letters = chr(65 + rest) + letters
        return f"{letters}{self.row_number}"

    def end(self, name):
        tag = _local(name)
        if tag == "v" and self.text is not None:
            self.value_text, self.text, self.capture = self.text.text(), None, False
        elif tag == "t" and self.inline:
            self.capture = False
        elif tag == "is" and self.inline:
            self.inline -= 1
            if self.text is not None:
                self.inline_text, self.text = self.text.text(), None
        elif tag == "rPh":
            self.in_rph -= 1
        elif tag == "c" and self.row is not None:
            value = self._value()
            if value is not None:
                self.row[self.column] = value
        elif tag == "row" and self.row is not None:
            self.ready.append((self.row_number, self.row))
            self.row = None

    def chars(self, data):
        if self.capture and self.text is not None and not self.in_rph:
            self.text.add(data)

    def _value(self):
        kind, text = self.cell_type, self.value_text or None
        if kind == "inlineStr":
            return self.inline_text
        if text is None or kind == "e":
            return None
        if kind == "s":
            try:
                return self.shared[int(text)]
            except ValueError:
                raise XlsxError(f"cell {self._where()} refers to shared string {text!r}") from None
        if kind == "str":
            return text
        if kind == "b":
            return text.strip() not in ("0", "false", "")
        if kind == "d":
            try:
                return from_ISO8601(text)
            except ValueError:
                return None
        try:
            number = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
        except ValueError:
            return None
        if self.cell_style in self.workbook.dates:
            try:
                return from_excel(number, self.workbook.epoch, timedelta=self.cell_style in self.workbook.durations)
            except (OverflowError, ValueError):
                return None  # openpyxl makes it an error cell
        return number
