"""Exporters: one small class per export, registered by identifier, written as CSV or XLSX through one
formula-injection guard.

An exporter says what its tables are (``header`` and ``rows()``, or ``frame()`` / ``sheets()`` when it needs
pandas); this module writes them. Every app may import it (it sits in ``patents``, the lowest app of ours that
has exports, and imports no other app). Each feature keeps its exporters in its own ``exports.py`` and its
app's ``ready()`` imports that module, so ``exporters()`` lists them all. The pool tape writes its own
streamed, byte-stable files but goes through the same guard (``neutralise_column``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

import numpy as np
import pandas as pd

# OWASP's list: a spreadsheet runs a cell that begins with one of these as a formula (or, for tab and CR,
# may strip them and run what follows).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A negative number written as text (a decimal kept exact as a string) is a number to a spreadsheet, not a
# formula: it stays as it is so that the column still sums.
NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_CONTENT_TYPE = "application/zip"

Progress = Callable[[int, int], None]


def neutralise(value):
    """The one formula-injection rule: text that begins with = + - @, a tab or a carriage return gets a leading
    apostrophe, which makes a spreadsheet show it as typed. Anything that is not text (numbers, dates, blanks)
    and a plain negative number written as text pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not NEGATIVE_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_column(column: pd.Series) -> pd.Series:
    """``neutralise`` over a column, finding the candidates vectorised (a pool tape has millions of cells);
    numeric, boolean and date columns are returned as they are."""
    if not (pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)
            or isinstance(column.dtype, pd.CategoricalDtype)):
        return column
    text = column if pd.api.types.is_object_dtype(column.dtype) else column.astype(object)
    try:
        starts = text.str.startswith(FORMULA_PREFIXES, na=False).to_numpy(dtype=bool)
    except AttributeError:  # no text in the column at all (numbers, dates or blanks held as objects)
        return column
    if not starts.any():
        return column
    values = text.to_numpy(dtype=object, copy=True)
    for position in np.flatnonzero(starts):
        values[position] = neutralise(values[position])
    return pd.Series(values, index=column.index, name=column.name, dtype=object)


def neutralise_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with ``neutralise`` applied to ``columns`` (every column by default)."""
    frame = frame.copy()
    for name in frame.columns if columns is None else columns:
        frame[name] = neutralise_column(frame[name])
    return frame


def write_csv(frame: pd.DataFrame, out: BinaryIO) -> None:
    """A table as CSV for Excel users, its text neutralised."""
    buffer = io.StringIO()
    # CRLF between records (RFC 4180, what Excel writes): the csv module then quotes every cell holding a CR or
    # LF. With "\n" alone a bare CR went unquoted, Excel broke the row there, and the text after it (a title
    # "'\r=1+1" guarded by its apostrophe) began a new row as a live formula.
    neutralise_frame(frame).to_csv(buffer, index=False, lineterminator="\r\n")
    # BOM: Excel opens UTF-8 CSV as the local code page without it, garbling Chinese names.
    out.write(buffer.getvalue().encode("utf-8-sig"))


def write_xlsx(sheets: dict[str, pd.DataFrame], out: BinaryIO) -> None:
    """Tables as the sheets of one workbook (names cut to Excel's 31 characters), their text neutralised.
    Decimal cells are written as numbers with no float on the way."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            neutralise_frame(frame).to_excel(writer, sheet_name=name[:31], index=False)
    out.write(buffer.getvalue())


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    content_type: str
    extension: str


class Exporter:
    """One export. A subclass sets ``identifier`` (unique, stable: it names the export in code and URLs),
    ``verbose_name`` and ``formats``, and gives its table as ``header`` + ``rows()`` or by overriding
    ``frame()``. CSV writes ``frame()``; XLSX writes ``sheets()``, by default that one frame as a sheet named
    after the identifier. An exporter that streams its own files overrides ``write()``."""

    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    formats: ClassVar[tuple[str, ...]] = ("csv", "xlsx")
    header: ClassVar[tuple[str, ...]] = ()
    content_types: ClassVar[dict[str, str]] = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}
    extensions: ClassVar[dict[str, str]] = {"csv": "csv", "xlsx": "xlsx"}

    def rows(self) -> Iterable[tuple]:
        raise NotImplementedError(f"{type(self).__name__} gives neither rows() nor frame()")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows()), columns=list(self.header))

    def sheets(self) -> dict[str, pd.DataFrame]:
        return {self.identifier: self.frame()}

    def check_format(self, fmt: str) -> None:
        if fmt not in self.formats:
            raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(self.formats)}")

    def write(self, fmt: str, out: BinaryIO, progress: Progress | None = None) -> None:
        """Write the export in ``fmt`` to a binary stream (ValueError for a format it does not write)."""
        self.check_format(fmt)
        if fmt == "csv":
            write_csv(self.frame(), out)
        elif fmt == "xlsx":
            write_xlsx(self.sheets(), out)
        else:
            raise ValueError(f"{type(self).__name__} lists {fmt!r} but does not write it")

    def render(self, fmt: str) -> ExportFile:
        """The export in ``fmt`` as bytes, with its content type and file extension."""
        buffer = io.BytesIO()
        self.write(fmt, buffer)
        return ExportFile(buffer.getvalue(), self.content_types[fmt], self.extensions[fmt])


# The registry -------------------------------------------------------------------------------------------

_registry: dict[str, type[Exporter]] = {}


class UnknownExporter(LookupError):
    pass


def register(cls: type[Exporter]) -> type[Exporter]:
    """Class decorator: make an exporter findable by its identifier. Two exporters may not share one."""
    known = _registry.get(cls.identifier)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"Exporter identifier {cls.identifier!r} is taken by {known.__module__}.{known.__qualname__}")
    _registry[cls.identifier] = cls
    return cls


def exporter(identifier: str) -> type[Exporter]:
    """The exporter class registered as ``identifier`` (UnknownExporter if there is none)."""
    try:
        return _registry[identifier]
    except KeyError:
        raise UnknownExporter(identifier) from None


def exporters() -> list[type[Exporter]]:
    """Every registered exporter, by identifier."""
    return [_registry[key] for key in sorted(_registry)]
