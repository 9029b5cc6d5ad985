"""Normalise Locarno classes (International Classification for Industrial Designs).

Designs are classified by Locarno, not by IPC: CNIPA prints a design's main
classification as ``14-03(13)`` (class 14, subclass 03, 13th edition). The canonical
form here is ``LL-SS``: class and subclass, two digits each, joined by a hyphen.

Accepted input, after Unicode NFKC (full-width characters become ASCII):
``14-03``, ``14.03`` (EUIPO), ``1403``, ``8-05`` (WIPO writes the class without a
leading zero), an edition marker such as ``(13)`` or ``[12]`` anywhere, and WIPO's
recommended ``LOC (13) Cl. 14-03``. Several classes are separated by ``;`` ``,``
(also full-width) or whitespace; following WIPO's recommendation (``Cl. 8-05, 08``)
a bare two-digit item is a further subclass of the class before it.

Only the shape is checked: classes 01-32 and 99, subclass two digits. The list of
subclasses differs from edition to edition and is deliberately not transcribed here,
so a well-formed but vacant subclass (e.g. ``03-02``) is accepted rather than
checked against a list recalled from memory.

Guarantees: :func:`normalize_locarno` returns the canonical form or raises
:class:`LocarnoError` saying what is wrong; :func:`normalize_locarno_series` returns,
row by row, exactly what :func:`parse_locarno_list` returns or raises.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = [
    "LocarnoError",
    "locarno_class",
    "normalize_locarno",
    "normalize_locarno_series",
    "parse_locarno_list",
]

# Class numbers of the classification: 01-32, and 99 for goods classified nowhere else.
CLASSES = frozenset({*range(1, 33), 99})


class LocarnoError(ValueError):
    """Raised when a string is not a Locarno class; the message says why."""


_EDITION_RE = re.compile(r"[(\[]\s*[0-9]{1,2}\s*[)\]]")
_LABEL_RE = re.compile(r"\bLOC\b|\bCL\b\.?")
_CODE_RE = re.compile(r"(?P<cls>[0-9]{1,2})\s*[-.]\s*(?P<sub>[0-9]+)|(?P<compact>[0-9]{4})")
_SPLIT_RE = re.compile(r"[;,\s]+")
_IPC_LIKE_RE = re.compile(r"[A-H][0-9]{2}[A-Z]")


def _prep(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).upper()
    text = re.sub("[\u2010-\u2015\u2212]", "-", text)  # dashes and minus signs as typed in Word or Excel
    return _LABEL_RE.sub(" ", _EDITION_RE.sub(" ", text))


def _diagnose(item: str) -> str:
    if _IPC_LIKE_RE.match(item):
        return f"{item!r} looks like an IPC symbol; a design is classified by Locarno class, e.g. 14-03"
    if not item[:1].isdigit():
        return f"expected a Locarno class such as 14-03 (class-subclass), got {item!r}"
    if re.fullmatch(r"[0-9]{1,2}\s*[-.]?", item):
        return f"{item!r} has a class but no subclass; write class and subclass, e.g. 14-03"
    if re.fullmatch(r"[0-9]+", item):
        return f"expected class and subclass such as 14-03 or 1403, got {item!r}"
    return f"unrecognised Locarno format: {item!r} (write class-subclass, e.g. 14-03)"


def _canonical(cls: str, sub: str) -> str:
    number = int(cls)
    if number not in CLASSES:
        raise LocarnoError(f"class must be 01-32 or 99, got {cls!r}")
    if len(sub) != 2:
        raise LocarnoError(f"subclass must be two digits (00-99), got {sub!r}")
    return f"{number:02d}-{sub}"


def _item(item: str) -> str:
    m = _CODE_RE.fullmatch(item)
    if m is None:
        raise LocarnoError(_diagnose(item))
    if m["compact"]:
        return _canonical(m["compact"][:2], m["compact"][2:])
    return _canonical(m["cls"], m["sub"])


def normalize_locarno(raw: str) -> str:
    """Return the canonical form of one Locarno class, e.g. ``"14-03"`` for ``"14-03(13)"``.

    Raises:
        LocarnoError: when ``raw`` is not one Locarno class; the message names the
            reason (an IPC symbol, a class outside 01-32/99, a subclass not of two digits...).
    """
    if not isinstance(raw, str):
        raise LocarnoError(f"Locarno class must be text, got {type(raw).__name__}")
    codes = parse_locarno_list(raw)
    if len(codes) != 1:
        raise LocarnoError(f"expected one Locarno class, got {len(codes)}")
    return codes[0]


def locarno_class(code: str) -> int:
    """Class number (``14``) of a Locarno class in any accepted spelling. Raises LocarnoError."""
    return int(normalize_locarno(code)[:2])


def parse_locarno_list(raw: str | None) -> list[str]:
    """Split a list of Locarno classes and normalise each one, main class first, without repeats.

    ``None`` and blank input (also input that is only an edition marker) give ``[]``.

    Raises:
        LocarnoError: naming the first invalid item and why it is invalid.
    """
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise LocarnoError(f"Locarno list must be text, got {type(raw).__name__}")
    # Only separators outside a code split it: "14 - 03" is one code, "14-03 14-02" two.
    text = re.sub(r"\s*([-.])\s*", r"\1", _prep(raw))
    codes: list[str] = []
    for position, item in enumerate(filter(None, _SPLIT_RE.split(text)), start=1):
        try:
            if re.fullmatch(r"[0-9]{2}", item) and codes:
                code = _canonical(codes[-1][:2], item)  # "Cl. 8-05, 08": a further subclass of class 8
            else:
                code = _item(item)
        except LocarnoError as exc:
            raise LocarnoError(f"item {position} ({item!r}): {exc}") from None
        if code not in codes:
            codes.append(code)
    return codes


def normalize_locarno_series(s: pd.Series) -> pd.DataFrame:
    """Parse a Series of Locarno lists; each distinct value is parsed once.

    Returns a DataFrame indexed like ``s`` with columns ``main_locarno`` (first class or
    ``None``), ``locarno_codes`` (list) and ``error`` (``None`` or the message
    :func:`parse_locarno_list` raises; then the other two are ``None``).
    """
    codes, distinct = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=False)
    parsed: list[tuple[list[str] | None, str | None]] = []
    for value in ("" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in distinct):
        try:
            parsed.append((parse_locarno_list(value), None))
        except LocarnoError as exc:
            parsed.append((None, str(exc)))
    lists = [parsed[c][0] if c >= 0 else [] for c in codes]
    errors = [parsed[c][1] if c >= 0 else None for c in codes]
    return pd.DataFrame(
        {"main_locarno": [v[0] if v else None for v in lists], "locarno_codes": lists, "error": errors},
        index=s.index, columns=["main_locarno", "locarno_codes", "error"], dtype=object,
    )
