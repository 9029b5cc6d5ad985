"""Normalise International Patent Classification (IPC) symbols.

Canonical form is the WIPO printed form ``H01M 10/0525``: section letter A-H, two
class digits, subclass letter, one space, main group without leading zeros, ``/``,
subgroup of 2-6 digits. Trailing zeros beyond the second subgroup digit carry no
meaning (``10/0500`` is ``10/05``) and are dropped, so each group has exactly one
spelling and two spellings of the same code always compare equal.

Accepted input, after Unicode NFKC (full-width characters become ASCII) and
upper-casing: any whitespace inside the symbol (``H01M  10/0525``), the EPO/PATSTAT
14-character fixed-width form (``H01M0010052500``) and version tags such as
``(2010.01)`` or ``[2006.01]``, which are removed.

Guarantees: :func:`normalize_ipc` returns the canonical form or raises
:class:`IPCError` saying what is wrong; :func:`normalize_ipc_series` returns, row
by row, exactly what :func:`parse_ipc_list` returns or raises (pinned by tests).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "IPCError",
    "ipc_subclass",
    "normalize_ipc",
    "normalize_ipc_series",
    "parse_ipc_list",
]


class IPCError(ValueError):
    """Raised when a string is not a valid IPC symbol; the message says why."""


_FREE_RE = re.compile(r"(?P<subclass>[A-H][0-9]{2}[A-Z])(?P<group>[0-9]{1,4})/(?P<subgroup>[0-9]{2,6})")
_FIXED_RE = re.compile(r"(?P<subclass>[A-H][0-9]{2}[A-Z])(?P<group>[0-9]{4})(?P<subgroup>[0-9]{6})")
_SUBCLASS_RE = re.compile(r"[A-H][0-9]{2}[A-Z]")
_WHITESPACE_RE = re.compile(r"\s+")
_VERSION_RE = re.compile(r"[(\[][0-9]{4}\.[0-9]{2}[)\]]")
# List separators: ; , and their full-width forms (NFKC already maps those), line
# breaks, and whitespace directly followed by the start of another symbol.
_SPLIT_RE = re.compile(r"[;,\uff1b\uff0c\r\n]+|\s+(?=[A-H][0-9]{2}[A-Z])")

_ROW_SEPARATOR = "\x00"  # between rows in bulk processing; not whitespace, no NFKC effect
_ITEM_SEPARATOR = "\x01"  # between items; likewise (note \x1c-\x1f count as whitespace)


def _prep(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).upper()


def _strip_noise(text: str) -> str:
    return _VERSION_RE.sub("", _WHITESPACE_RE.sub("", text))


def _diagnose(code: str) -> str:
    """Explain why a cleaned, non-matching ``code`` is not a valid IPC symbol."""
    if not code:
        return "empty IPC code"
    if not ("A" <= code[0] <= "H"):
        return f"section must be a letter A-H, got {code[0]!r}"
    if not (len(code) >= 3 and code[1:3].isascii() and code[1:3].isdigit()):
        return f"class must be two digits after the section letter, got {code[1:3]!r}"
    if not (len(code) >= 4 and "A" <= code[3] <= "Z"):
        return f"subclass must be a letter after {code[:3]!r}"
    rest = code[4:]
    if not rest:
        return f"{code!r} is a subclass without a group; pass allow_subclass=True to accept it"
    if "/" not in rest:
        return f"expected main group and subgroup like '10/0525' after {code[:4]!r}, got {rest!r}"
    group, _, subgroup = rest.partition("/")
    if not (group.isascii() and group.isdigit() and 1 <= len(group) <= 4):
        return f"main group must be 1-4 digits, got {group!r}"
    if not (subgroup.isascii() and subgroup.isdigit() and 2 <= len(subgroup) <= 6):
        return f"subgroup must be 2-6 digits, got {subgroup!r}"
    return f"unrecognised IPC format: {code!r}"


def _canonical(code: str, allow_subclass: bool) -> str:
    """Canonical form of an already prepped and noise-stripped symbol."""
    m = _FREE_RE.fullmatch(code) or _FIXED_RE.fullmatch(code)
    if m is None:
        if allow_subclass and _SUBCLASS_RE.fullmatch(code):
            return code
        raise IPCError(_diagnose(code))
    group = m["group"].lstrip("0")
    if not group:
        raise IPCError(f"main group must not be 0 in {code!r}")
    subgroup = m["subgroup"].rstrip("0").ljust(2, "0")
    return f"{m['subclass']} {group}/{subgroup}"


def normalize_ipc(raw: str, *, allow_subclass: bool = False) -> str:
    """Return the canonical form of one IPC symbol, e.g. ``"H01M 10/0525"``.

    With ``allow_subclass=True`` a bare subclass such as ``"h01m"`` is accepted and
    returned as ``"H01M"``; otherwise a group is required.

    Raises:
        IPCError: when ``raw`` is not an IPC symbol; the message names the part
            that is wrong (section, class, subclass, main group or subgroup).
    """
    if not isinstance(raw, str):
        raise IPCError(f"IPC code must be text, got {type(raw).__name__}")
    return _canonical(_strip_noise(_prep(raw)), allow_subclass)


def ipc_subclass(code: str) -> str:
    """Return the subclass (``"H01M"``) of an IPC symbol or subclass.

    Raises:
        IPCError: when ``code`` is not a valid symbol.
    """
    return normalize_ipc(code, allow_subclass=True)[:4]


def parse_ipc_list(raw: str | None, *, allow_subclass: bool = False) -> list[str]:
    """Split a list of IPC symbols and normalise each one.

    Items are separated by ``;`` ``,`` (also full-width ``；`` ``，``), line breaks,
    or whitespace followed by the start of another symbol (``H01M 4/36 H01M 10/05``).
    Items that are empty once whitespace and version tags are removed are skipped.
    The result keeps the first occurrence of each symbol in input order, so the
    first element is the main IPC. ``None`` and blank input give ``[]``.

    Raises:
        IPCError: naming the first invalid item and why it is invalid.
    """
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise IPCError(f"IPC list must be text, got {type(raw).__name__}")
    codes: list[str] = []
    position = 0
    for piece in _SPLIT_RE.split(_prep(raw)):
        item = _strip_noise(piece)
        if not item:
            continue
        position += 1
        try:
            code = _canonical(item, allow_subclass)
        except IPCError as exc:
            raise IPCError(f"item {position} ({piece.strip()!r}): {exc}") from None
        if code not in codes:
            codes.append(code)
    return codes


def normalize_ipc_series(s: pd.Series, *, allow_subclass: bool = False) -> pd.DataFrame:
    """Parse a Series of IPC lists in bulk.

    Returns a DataFrame indexed like ``s`` with columns ``main_ipc`` (first code or
    ``None``), ``ipc_codes`` (list of canonical codes) and ``error``. For a valid
    row ``error`` is ``None`` and the values equal :func:`parse_ipc_list`'s result;
    for an invalid row ``main_ipc`` and ``ipc_codes`` are ``None`` and ``error`` is
    the message :func:`parse_ipc_list` raises. Missing values give ``[]``, like
    blank strings. Non-string values are converted with ``str`` first.

    Speed comes from doing the text clean-up once over all rows joined together and
    from normalising each *distinct* item only once: a million rows typically hold
    a few tens of thousands of distinct IPC symbols.
    """
    n = len(s)
    values = s.to_numpy(dtype=object)
    missing = pd.isna(values)
    text = [
        "" if gone else v if isinstance(v, str) else str(v) for v, gone in zip(values, missing, strict=True)
    ]
    main = np.full(n, None, dtype=object)
    codes_col = np.empty(n, dtype=object)
    error = np.full(n, None, dtype=object)

    joined = _ROW_SEPARATOR.join(text)
    separators_ok = joined.count(_ROW_SEPARATOR) == max(n - 1, 0) and _ITEM_SEPARATOR not in joined
    if n and separators_ok:
        joined = _strip_noise(_SPLIT_RE.sub(_ITEM_SEPARATOR, _prep(joined)))
        items = pd.Series(joined.split(_ROW_SEPARATOR), dtype=object).str.split(_ITEM_SEPARATOR).explode()
        items = items[items != ""]
        row_of_item = items.index.to_numpy()
        item_ids, distinct = pd.factorize(items.to_numpy(dtype=object))
        canonical = np.empty(len(distinct), dtype=object)
        for i, item in enumerate(distinct):
            try:
                canonical[i] = _canonical(item, allow_subclass)
            except IPCError:
                canonical[i] = None
        item_codes = canonical[item_ids]
        bad_rows = np.zeros(n, dtype=bool)
        bad_rows[row_of_item[pd.isna(item_codes)]] = True
        # First occurrence of each (row, code), in input order.
        pairs = pd.DataFrame({"row": row_of_item, "code": item_codes})
        pairs = pairs[~bad_rows[row_of_item]].drop_duplicates()
        rows, row_codes = pairs["row"].to_numpy(), pairs["code"].tolist()
        bounds = np.searchsorted(rows, np.arange(n + 1))
        for r in range(n):
            codes_col[r] = row_codes[bounds[r] : bounds[r + 1]]
        slow_rows = np.flatnonzero(bad_rows)
    else:
        slow_rows = np.arange(n)

    for r in slow_rows:
        try:
            codes_col[r] = parse_ipc_list(text[r], allow_subclass=allow_subclass)
        except IPCError as exc:
            codes_col[r], error[r] = None, str(exc)
    for r in range(n):
        if codes_col[r]:
            main[r] = codes_col[r][0]

    return pd.DataFrame(
        {"main_ipc": main, "ipc_codes": codes_col, "error": error},
        index=s.index,
        columns=["main_ipc", "ipc_codes", "error"],
        dtype=object,
    )
