"""Normalise patent numbers (CN, US, EP) to one canonical spelling.

Every supported number is reduced to a single canonical string so that the same
patent typed in different ways (``ZL 2021 1 0123456.7``, ``202110123456.7``,
``CN2021101234567``) is stored and matched as one record.

Guarantees
----------
* :func:`normalize_patent_number` either returns a fully validated
  :class:`NormalizedNumber` or raises :class:`PatentNumberError` whose message says
  *why* the input was rejected (bad check digit, unknown kind code, ...).
  It never guesses: input that fits no supported format is rejected.
* Chinese application numbers are accepted only with a correct CNIPA check
  character, so a mistyped digit is caught at entry time rather than producing a
  plausible but wrong record.
* :func:`normalize_series` returns exactly what the scalar function would return
  for each row (same canonical values, same error messages); it only does the
  common cases faster. The agreement is pinned by the test-suite.

Input clean-up (identical in the scalar and the vectorised path): Unicode NFKC
(full-width letters, digits and punctuation become ASCII), upper-casing, ``。`` and
``·`` read as a decimal point, and removal of whitespace, dashes, underscores and
thousands commas.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "NormalizedNumber",
    "PatentNumberError",
    "cn_check_char",
    "is_valid_patent_number",
    "normalize_patent_number",
    "normalize_series",
]

NumberType = Literal["application", "publication"]

INVENTION = "invention"
UTILITY_MODEL = "utility_model"
DESIGN = "design"


class PatentNumberError(ValueError):
    """Raised when a string is not a valid patent number; the message says why."""


@dataclass(frozen=True, slots=True)
class NormalizedNumber:
    """A validated patent number.

    Attributes:
        canonical: the one spelling used for storage and matching, e.g.
            ``CN202110123456.7``, ``CN112345678B``, ``US8926509B2``, ``EP1234567B1``.
        country: ISO 3166 alpha-2 code of the issuing office (``EP`` for the EPO).
        number_type: ``"application"`` or ``"publication"`` (grants included).
        kind_code: WIPO ST.16 kind code such as ``B``, ``U``, ``B2``; ``""`` if the
            input carried none (applications never have one).
        patent_kind: ``"invention"``, ``"utility_model"`` or ``"design"`` when the
            number itself determines it, otherwise ``None``.
        original: the input exactly as given.
    """

    canonical: str
    country: str
    number_type: NumberType
    kind_code: str
    patent_kind: str | None
    original: str


# --------------------------------------------------------------------------- clean-up

# Whitespace (Unicode-aware), every common dash, underscore and thousands comma.
_STRIP_PATTERN = r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212_,]+"
_STRIP_RE = re.compile(_STRIP_PATTERN)
_DOT_LOOKALIKES = ("\u3002", "\u00b7")  # ideographic full stop, middle dot

MISSING_MESSAGE = "missing patent number"
EMPTY_MESSAGE = "empty patent number"


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).upper()
    for lookalike in _DOT_LOOKALIKES:
        text = text.replace(lookalike, ".")
    return _STRIP_RE.sub("", text)


# --------------------------------------------------------------------------- patterns
# The same pattern strings drive the scalar parser (re.fullmatch) and the vectorised
# fast path (Series.str.extract with ^...$), so both see identical matches.
# [0-9] rather than \d: \d would also accept non-ASCII digits such as Arabic-Indic ones.

# Post-2003 CNIPA application number: 4-digit year, type digit, 7-digit serial, check.
_CN_APP12 = r"(?:CN)?(?:ZL)?(?P<body>[0-9]{12})\.?(?P<check>[0-9X])"
# CN publication / grant: 9 digits whose first digit is the type, optional kind code.
_CN_PUB = r"CN(?P<num>[1-3][0-9]{8})(?P<kind>[A-Z][0-9]?)?"
# Pre-2003 application number: 2-digit year, type digit, 5-digit serial, check.
# Tried after _CN_PUB so that e.g. CN112345678 (publication, no kind) is not read here.
_CN_APP8 = r"(?:CN)?(?:ZL)?(?P<body>[0-9]{8})\.?(?P<check>[0-9X])"
# US application serial number "12/345,678" (commas are already stripped).
_US_APP = r"US(?P<series>[0-9]{2})/(?P<serial>[0-9]{6})"
# US pre-grant publication, e.g. US20120123456A1 or US2012/0123456A1.
_US_PGPUB = r"US(?P<year>20[0-9]{2})/?(?P<serial>[0-9]{7})(?P<kind>[A-Z][0-9]?)?"
# US grant: utility (no prefix), design (D), reissue (RE) or plant (PP); up to 8 digits.
_US_GRANT = r"US(?P<series>D|RE|PP)?0*(?P<num>[1-9][0-9]{0,7})(?P<kind>[A-Z][0-9]?)?"
# EP publication: 7 digits and an optional kind code.
_EP_PUB = r"EP(?P<num>[0-9]{7})(?P<kind>[A-Z][0-9]?)?"

_CN_CHECK_CHARS = np.array(list("0123456789X"))
_CN_WEIGHTS_12 = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5], dtype=np.int64)
_CN_WEIGHTS_8 = np.array([2, 3, 4, 5, 6, 7, 8, 9], dtype=np.int64)

_CN_APP_TYPE = {"1": INVENTION, "8": INVENTION, "2": UTILITY_MODEL, "9": UTILITY_MODEL, "3": DESIGN}
_CN_PUB_TYPE = {"1": INVENTION, "2": UTILITY_MODEL, "3": DESIGN}
# Kind-code letter -> patent kind. A/B (and C, used for grants before 2010) = invention,
# U/Y = utility model, S/D = design. An optional trailing 8 or 9 marks a correction.
_CN_KIND_LETTER = {
    "A": INVENTION,
    "B": INVENTION,
    "C": INVENTION,
    "U": UTILITY_MODEL,
    "Y": UTILITY_MODEL,
    "S": DESIGN,
    "D": DESIGN,
}
_CN_KIND_DIGITS = {"", "8", "9"}

_US_UTILITY_KINDS = {"", "A", "B1", "B2", "C1", "C2", "C3"}
_US_SERIES_KINDS = {
    "": _US_UTILITY_KINDS,
    "D": {"", "S", "S1"},
    "RE": {"", "E", "E1"},
    "PP": {"", "P", "P2", "P3"},
}
_US_SERIES_PATENT_KIND = {"": INVENTION, "D": DESIGN, "RE": None, "PP": None}
_US_PGPUB_KINDS = {"", "A1", "A2", "A9"}
_EP_KINDS = {"", "A1", "A2", "A3", "A4", "A8", "A9", "B1", "B2", "B3", "B8", "B9"}

_SUPPORTED_COUNTRIES = ("CN", "US", "EP")


def _label(kind: str | None) -> str:
    return kind.replace("_", " ") if kind else "unknown kind"


def cn_check_char(body: str) -> str:
    """Return the CNIPA check character for a 12- or 8-digit application body.

    The check is ``sum(digit_i * w_i) mod 11`` with weights 2,3,...,9,2,3,4,5
    (12 digits) or 2,...,9 (8 digits); a remainder of 10 is written ``X``.
    """
    if not (body.isascii() and body.isdigit() and len(body) in (8, 12)):
        raise ValueError(f"expected 8 or 12 ASCII digits, got {body!r}")
    weights = _CN_WEIGHTS_12 if len(body) == 12 else _CN_WEIGHTS_8
    total = sum(int(d) * int(w) for d, w in zip(body, weights, strict=True))
    return str(_CN_CHECK_CHARS[total % 11])


# --------------------------------------------------------------------------- scalar parsers
# Each parser receives the regex match and the original input and either returns a
# NormalizedNumber or raises PatentNumberError with a specific reason.


def _parse_cn_app12(m: re.Match[str], original: str) -> NormalizedNumber:
    body, check = m["body"], m["check"]
    year = int(body[:4])
    if not 2003 <= year <= 2099:
        raise PatentNumberError(
            f"year {year} is outside 2003-2099, the range of 12-digit Chinese application numbers"
        )
    type_digit = body[4]
    if type_digit not in _CN_APP_TYPE:
        raise PatentNumberError(
            f"unknown application type digit {type_digit} (5th digit must be 1, 2, 3, 8 or 9)"
        )
    expected = cn_check_char(body)
    if check != expected:
        raise PatentNumberError(f"check digit mismatch: expected {expected}, got {check}")
    return NormalizedNumber(f"CN{body}.{check}", "CN", "application", "", _CN_APP_TYPE[type_digit], original)


def _parse_cn_app8(m: re.Match[str], original: str) -> NormalizedNumber:
    body, check = m["body"], m["check"]
    year = body[:2]
    if "03" < year < "85":  # two-digit years 85..99 and 00..03 are valid
        raise PatentNumberError(
            f"year {year} is outside 1985-2003, the range of 8-digit Chinese application numbers"
        )
    type_digit = body[2]
    if type_digit not in _CN_APP_TYPE:
        raise PatentNumberError(
            f"unknown application type digit {type_digit} (3rd digit must be 1, 2, 3, 8 or 9)"
        )
    expected = cn_check_char(body)
    if check != expected:
        raise PatentNumberError(f"check digit mismatch: expected {expected}, got {check}")
    return NormalizedNumber(f"CN{body}.{check}", "CN", "application", "", _CN_APP_TYPE[type_digit], original)


def _parse_cn_pub(m: re.Match[str], original: str) -> NormalizedNumber:
    num, kind = m["num"], m["kind"] or ""
    by_number = _CN_PUB_TYPE[num[0]]
    if kind:
        by_kind = _CN_KIND_LETTER.get(kind[0])
        if by_kind is None or kind[1:] not in _CN_KIND_DIGITS:
            raise PatentNumberError(f"unknown Chinese kind code {kind}")
        if by_kind != by_number:
            raise PatentNumberError(
                f"kind code {kind} ({_label(by_kind)}) does not match the number, whose "
                f"first digit {num[0]} means {_label(by_number)}"
            )
    return NormalizedNumber(f"CN{num}{kind}", "CN", "publication", kind, by_number, original)


def _parse_us_app(m: re.Match[str], original: str) -> NormalizedNumber:
    series = m["series"]
    if series == "29":
        patent_kind: str | None = DESIGN
    elif series in ("60", "61", "62", "63"):
        patent_kind = None  # provisional application
    else:
        patent_kind = INVENTION
    return NormalizedNumber(f"US{series}/{m['serial']}", "US", "application", "", patent_kind, original)


def _parse_us_pgpub(m: re.Match[str], original: str) -> NormalizedNumber:
    kind = m["kind"] or ""
    if kind not in _US_PGPUB_KINDS:
        raise PatentNumberError(f"unknown kind code {kind} for a US pre-grant publication")
    return NormalizedNumber(
        f"US{m['year']}{m['serial']}{kind}", "US", "publication", kind, INVENTION, original
    )


def _parse_us_grant(m: re.Match[str], original: str) -> NormalizedNumber:
    series, num, kind = m["series"] or "", m["num"], m["kind"] or ""
    if kind not in _US_SERIES_KINDS[series]:
        what = {"": "utility", "D": "design", "RE": "reissue", "PP": "plant"}[series]
        raise PatentNumberError(f"unknown kind code {kind} for a US {what} patent")
    return NormalizedNumber(
        f"US{series}{num}{kind}", "US", "publication", kind, _US_SERIES_PATENT_KIND[series], original
    )


def _parse_ep_pub(m: re.Match[str], original: str) -> NormalizedNumber:
    num, kind = m["num"], m["kind"] or ""
    if kind not in _EP_KINDS:
        raise PatentNumberError(f"unknown EP kind code {kind}")
    return NormalizedNumber(f"EP{num}{kind}", "EP", "publication", kind, INVENTION, original)


_Parser = Callable[[re.Match[str], str], NormalizedNumber]
_PARSERS: tuple[tuple[re.Pattern[str], _Parser], ...] = (
    (re.compile(_CN_APP12), _parse_cn_app12),
    (re.compile(_CN_PUB), _parse_cn_pub),
    (re.compile(_CN_APP8), _parse_cn_app8),
    (re.compile(_US_APP), _parse_us_app),
    (re.compile(_US_PGPUB), _parse_us_pgpub),
    (re.compile(_US_GRANT), _parse_us_grant),
    (re.compile(_EP_PUB), _parse_ep_pub),
)

_CN_MISSING_CHECK_RE = re.compile(r"(?:CN)?(?:ZL)?(?P<body>[0-9]{12}|[0-9]{8})\.?")
_COUNTRY_PREFIX_RE = re.compile(r"(?P<cc>[A-Z]{2})[0-9]")


def _unrecognised(cleaned: str, raw: str) -> PatentNumberError:
    """Build the most specific error for input that fits no supported pattern."""
    m = _CN_MISSING_CHECK_RE.fullmatch(cleaned)
    if m:
        return PatentNumberError(
            f"Chinese application number is missing its check digit (expected {cn_check_char(m['body'])})"
        )
    m = _COUNTRY_PREFIX_RE.match(cleaned)
    if m and m["cc"] not in _SUPPORTED_COUNTRIES + ("ZL",):
        return PatentNumberError(
            f"unsupported country code {m['cc']} (supported: {', '.join(_SUPPORTED_COUNTRIES)})"
        )
    return PatentNumberError(f"unrecognised format: {raw.strip()!r}")


def normalize_patent_number(raw: str) -> NormalizedNumber:
    """Validate ``raw`` and return its canonical form.

    Supported inputs (after the clean-up described in the module docstring):

    * Chinese application numbers, 12 digits + check (``202110123456.7``,
      ``ZL 2021 1 0123456.7``, ``CN2021101234567``) and pre-2003 8 digits + check
      (``98123456.9``); the check character is verified. Canonical ``CN<digits>.<check>``.
    * Chinese publication/grant numbers ``CN112345678B`` (kind code optional and
      checked against the type digit). Canonical ``CN112345678B``.
    * US grants ``US8926509B2`` / ``US 8,926,509 B2`` / ``USD123456S``, pre-grant
      publications ``US20120123456A1`` and application serials ``US 12/345,678``
      (canonical ``US12/345678``).
    * EP publications ``EP 1 234 567 B1``. Canonical ``EP1234567B1``.

    Raises:
        PatentNumberError: with a human-readable reason when the input is not a
            valid number of a supported format.
    """
    if raw is None:
        raise PatentNumberError(MISSING_MESSAGE)
    if not isinstance(raw, str):
        raise PatentNumberError(f"patent number must be text, got {type(raw).__name__}")
    cleaned = _clean(raw)
    if not cleaned:
        raise PatentNumberError(EMPTY_MESSAGE)
    for pattern, parser in _PARSERS:
        m = pattern.fullmatch(cleaned)
        if m:
            return parser(m, raw)
    raise _unrecognised(cleaned, raw)


def is_valid_patent_number(raw: str) -> bool:
    """Return True iff :func:`normalize_patent_number` accepts ``raw``."""
    try:
        normalize_patent_number(raw)
    except PatentNumberError:
        return False
    return True


# --------------------------------------------------------------------------- vectorised
#
# Pandas' .str methods on object dtype (pyarrow is not installed) run one Python call
# per row per operation, which measured slower than simply looping over the scalar
# function. The fast path therefore works on a fixed-width matrix of code points:
# every cleaned string becomes one row of uint32 codes, and each common format is
# recognised and validated with whole-array numpy operations. Each fast path mirrors
# one of the regexes above exactly; rows it does not accept go to the scalar parser.

SERIES_COLUMNS = ["canonical", "country", "number_type", "kind_code", "patent_kind", "error"]

_WIDTH = 24  # longest fast-path form is CNZL + 12 digits + "." + check = 18 characters
_CHUNK = 250_000  # rows per block; bounds the code-point matrix to ~24 MB
_SEPARATOR = "\x00"  # NFKC-, upper()- and clean-up-invariant, and blocks composition

_PATENT_KIND_BY_ID = np.array([None, INVENTION, UTILITY_MODEL, DESIGN], dtype=object)
# Code point -> patent-kind id (1 invention, 2 utility model, 3 design), for CN letters.
_CN_LETTER_KIND_ID = np.zeros(128, dtype=np.int64)
for _letter, _kind in _CN_KIND_LETTER.items():
    _CN_LETTER_KIND_ID[ord(_letter)] = {INVENTION: 1, UTILITY_MODEL: 2, DESIGN: 3}[_kind]
_CN_APP_KIND_ID = np.array([0, 1, 2, 3, 0, 0, 0, 0, 1, 2])  # type digit -> id


def _clean_many(values: list[str]) -> list[str]:
    """:func:`_clean` for many strings at once.

    The strings are joined with NUL, cleaned as one string and split again. That is
    equivalent to cleaning each one: NUL is unchanged by NFKC, upper() and the strip
    pattern, and as a starter without compositions it stops NFKC from combining
    characters across the boundary. Inputs that contain NUL are cleaned one by one.
    """
    joined = _SEPARATOR.join(values)
    if joined.count(_SEPARATOR) != max(len(values) - 1, 0):
        return [_clean(v) for v in values]
    return _clean(joined).split(_SEPARATOR) if values else []


def _is_digit(codes: np.ndarray) -> np.ndarray:
    return (codes >= ord("0")) & (codes <= ord("9"))


def _is_upper(codes: np.ndarray) -> np.ndarray:
    return (codes >= ord("A")) & (codes <= ord("Z"))


class _CodePoints:
    """Cleaned strings as an (n, _WIDTH) matrix of code points, zero-padded."""

    def __init__(self, codes: np.ndarray, length: np.ndarray) -> None:
        self.codes, self.length = codes, length
        self.rows = np.arange(len(length))

    @classmethod
    def from_strings(cls, strings: list[str]) -> _CodePoints:
        n = len(strings)
        length = np.fromiter(map(len, strings), dtype=np.int64, count=n)
        codes = np.array(strings, dtype=f"U{_WIDTH}").view(np.uint32).reshape(n, _WIDTH)
        return cls(codes, length)

    def take(self, rows: np.ndarray) -> _CodePoints:
        return _CodePoints(self.codes[rows], self.length[rows])

    def at(self, pos: np.ndarray | int) -> np.ndarray:
        """Code at a (per-row) position; 0 outside the matrix."""
        pos = np.broadcast_to(pos, self.rows.shape)
        inside = (pos >= 0) & (pos < _WIDTH)
        return np.where(inside, self.codes[self.rows, np.clip(pos, 0, _WIDTH - 1)], 0)

    def window(self, start: np.ndarray | int, count: int, end: np.ndarray | None = None) -> np.ndarray:
        """(n, count) codes from a per-row start; 0 at or beyond ``end`` (default: length)."""
        pos = np.broadcast_to(start, self.rows.shape)[:, None] + np.arange(count)
        stop = self.length if end is None else end
        inside = (pos >= 0) & (pos < np.minimum(stop, _WIDTH)[:, None])
        return np.where(inside, self.codes[self.rows[:, None], np.clip(pos, 0, _WIDTH - 1)], 0)

    def literal(self, start: int, text: str) -> np.ndarray:
        """Rows whose characters at ``start`` spell ``text``."""
        expected = np.array([ord(c) for c in text], dtype=np.uint32)
        return (self.codes[:, start : start + len(text)] == expected).all(axis=1)


_Parsed = dict[str, np.ndarray | str]
_FastPath = Callable[[_CodePoints], tuple[np.ndarray, _Parsed]]


def _as_text(codes: np.ndarray) -> np.ndarray:
    """(m, k) code points -> array of m strings (trailing zeros dropped)."""
    m, k = codes.shape
    if m == 0:
        return np.array([], dtype=object)
    return np.ascontiguousarray(codes, dtype=np.uint32).view(f"U{k}").ravel().astype(object)


def _kind_keys(kinds: set[str]) -> np.ndarray:
    """Integer keys of kind codes, comparable with :func:`_kind_key` (fast np.isin)."""
    codes = np.array([[ord(c) for c in k.ljust(2, "\0")] for k in kinds], dtype=np.int64)
    return _kind_key(codes)


def _kind_key(kind: np.ndarray) -> np.ndarray:
    """(m, 2) code points of a kind code -> one integer per row."""
    return (kind[:, 0].astype(np.int64) << 21) | kind[:, 1].astype(np.int64)


def _kind_at(cp: _CodePoints, start: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Mirror of ``(?P<kind>[A-Z][0-9]?)?$`` from ``start``: (matches, kind codes)."""
    size = cp.length - start
    first, second = cp.at(start), cp.at(np.asarray(start) + 1)
    ok = (size == 0) | ((size == 1) & _is_upper(first)) | ((size == 2) & _is_upper(first) & _is_digit(second))
    return ok, cp.window(start, 2)


def _fast_cn_app12(cp: _CodePoints) -> tuple[np.ndarray, _Parsed]:
    """Mirror of _CN_APP12 plus _parse_cn_app12's checks, accepting valid rows only."""
    length = cp.length
    check = cp.at(length - 1)
    has_dot = cp.at(length - 2) == ord(".")
    body_start = length - 1 - has_dot - 12
    prefix_ok = (
        (body_start == 0)
        | ((body_start == 2) & (cp.literal(0, "CN") | cp.literal(0, "ZL")))
        | ((body_start == 4) & cp.literal(0, "CNZL"))
    )
    body = cp.window(body_start, 12)
    shape_ok = (
        (length <= _WIDTH)
        & prefix_ok
        & _is_digit(body).all(axis=1)
        & (_is_digit(check) | (check == ord("X")))
    )
    digits = body.astype(np.int64) - ord("0")
    year = digits[:, :4] @ np.array([1000, 100, 10, 1])
    type_digit = np.clip(digits[:, 4], 0, 9)
    expected = np.array([ord(c) for c in "0123456789X"])[(digits @ _CN_WEIGHTS_12) % 11]
    ok = (
        shape_ok
        & (year >= 2003)
        & (year <= 2099)
        & np.isin(type_digit, [1, 2, 3, 8, 9])
        & (expected == check)
    )
    n = int(ok.sum())
    canonical = np.zeros((n, 16), dtype=np.uint32)
    canonical[:, 0], canonical[:, 1] = ord("C"), ord("N")
    canonical[:, 2:14] = body[ok]
    canonical[:, 14], canonical[:, 15] = ord("."), check[ok]
    return ok, {
        "canonical": _as_text(canonical),
        "country": "CN",
        "number_type": "application",
        "kind_code": "",
        "patent_kind": _PATENT_KIND_BY_ID[_CN_APP_KIND_ID[type_digit[ok]]],
    }


def _fast_cn_pub(cp: _CodePoints) -> tuple[np.ndarray, _Parsed]:
    """Mirror of _CN_PUB plus _parse_cn_pub's checks, accepting valid rows only."""
    type_code = cp.codes[:, 2]
    kind_ok, kind = _kind_at(cp, 11)
    number_kind = np.where((type_code >= ord("1")) & (type_code <= ord("3")), type_code - ord("0"), 0)
    letter_kind = _CN_LETTER_KIND_ID[np.clip(kind[:, 0], 0, 127)]
    correction_digit_ok = np.isin(kind[:, 1], [0, ord("8"), ord("9")])  # "", "8" or "9"
    consistent = (kind[:, 0] == 0) | ((letter_kind == number_kind) & correction_digit_ok)
    ok = (
        (cp.length >= 11)
        & (cp.length <= 13)
        & cp.literal(0, "CN")
        & (number_kind > 0)
        & _is_digit(cp.codes[:, 3:11]).all(axis=1)
        & kind_ok
        & consistent
    )
    kinds = _as_text(kind[ok])
    return ok, {
        "canonical": "CN" + _as_text(cp.codes[ok, 2:11]) + kinds,
        "country": "CN",
        "number_type": "publication",
        "kind_code": kinds,
        "patent_kind": _PATENT_KIND_BY_ID[number_kind[ok]],
    }


def _fast_us_utility(cp: _CodePoints) -> tuple[np.ndarray, _Parsed]:
    """Mirror of _US_GRANT without a series prefix, plus its kind-code check."""
    length = cp.length
    last, before_last = cp.at(length - 1), cp.at(length - 2)
    kind_size = np.where(_is_upper(last), 1, np.where(_is_digit(last) & _is_upper(before_last), 2, 0))
    number_end = length - kind_size
    pos = np.arange(_WIDTH)
    in_number = (pos >= 2) & (pos < number_end[:, None])
    all_digits = (~in_number | _is_digit(cp.codes)).all(axis=1) & (number_end > 2)
    significant = in_number & (cp.codes != ord("0"))
    first = np.where(significant.any(axis=1), significant.argmax(axis=1), _WIDTH)
    kind = cp.window(number_end, 2)
    ok = (
        (length <= _WIDTH)
        & cp.literal(0, "US")
        & all_digits
        & (first < number_end)
        & (number_end - first <= 8)
        & np.isin(_kind_key(kind), _US_UTILITY_KEYS)
    )
    number = _as_text(cp.window(first, 8, end=number_end)[ok])
    kinds = _as_text(kind[ok])
    return ok, {
        "canonical": "US" + number + kinds,
        "country": "US",
        "number_type": "publication",
        "kind_code": kinds,
        "patent_kind": INVENTION,
    }


def _fast_ep(cp: _CodePoints) -> tuple[np.ndarray, _Parsed]:
    """Mirror of _EP_PUB plus its kind-code check."""
    kind_ok, kind = _kind_at(cp, 9)
    ok = (
        (cp.length >= 9)
        & (cp.length <= 11)
        & cp.literal(0, "EP")
        & _is_digit(cp.codes[:, 2:9]).all(axis=1)
        & kind_ok
        & np.isin(_kind_key(kind), _EP_KEYS)
    )
    kinds = _as_text(kind[ok])
    return ok, {
        "canonical": "EP" + _as_text(cp.codes[ok, 2:9]) + kinds,
        "country": "EP",
        "number_type": "publication",
        "kind_code": kinds,
        "patent_kind": INVENTION,
    }


_US_UTILITY_KEYS = _kind_keys(_US_UTILITY_KINDS)
_EP_KEYS = _kind_keys(_EP_KINDS)


def _route(cp: _CodePoints) -> list[tuple[np.ndarray, _FastPath]]:
    """Cheap pre-selection: which rows each fast path needs to look at."""
    first = cp.codes[:, 0]
    is_cn, is_us, is_ep = cp.literal(0, "CN"), cp.literal(0, "US"), cp.literal(0, "EP")
    app12 = (_is_digit(first) | cp.literal(0, "ZL") | is_cn) & (cp.length >= 13)
    return [
        (np.flatnonzero(app12), _fast_cn_app12),
        (np.flatnonzero(is_cn & (cp.length <= 13)), _fast_cn_pub),
        (np.flatnonzero(is_us), _fast_us_utility),
        (np.flatnonzero(is_ep), _fast_ep),
    ]


def normalize_series(s: pd.Series) -> pd.DataFrame:
    """Normalise a Series of patent numbers in bulk.

    Returns a DataFrame indexed like ``s`` with columns ``canonical``, ``country``,
    ``number_type``, ``kind_code``, ``patent_kind`` and ``error`` (object dtype).
    For a valid row ``error`` is ``None``; for an invalid row every other column is
    ``None`` and ``error`` holds the message :func:`normalize_patent_number` raises.

    Missing values (None/NaN/NA) get the error ``"missing patent number"``.
    Non-string values (e.g. integers from a spreadsheet) are converted with ``str``
    first - the only way in which this differs from calling the scalar function.

    The common formats (12-digit CN applications, CN publications, US utility
    grants, EP publications) are recognised and validated with numpy over a
    code-point matrix; every other row - rarer formats and all invalid input - goes
    through :func:`normalize_patent_number`, which is also where every error message
    comes from.
    """
    n = len(s)
    out = {col: np.full(n, None, dtype=object) for col in SERIES_COLUMNS}
    values = s.to_numpy(dtype=object)
    missing = pd.isna(values)
    out["error"][missing] = MISSING_MESSAGE
    text = [
        "" if gone else v if isinstance(v, str) else str(v) for v, gone in zip(values, missing, strict=True)
    ]

    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        cp = _CodePoints.from_strings(_clean_many(text[lo:hi]))
        todo = ~missing[lo:hi]
        for candidates, fast_path in _route(cp):
            ok, parsed = fast_path(cp.take(candidates))
            # Parsed values are aligned with the accepted candidates. Keep those still to
            # do (a no-op in practice: the formats are disjoint and missing rows are "").
            keep = todo[candidates[ok]]
            accepted = candidates[ok][keep]
            for col, value in parsed.items():
                out[col][lo + accepted] = value[keep] if isinstance(value, np.ndarray) else value
            todo[accepted] = False
        for pos in lo + np.flatnonzero(todo):
            try:
                r = normalize_patent_number(text[pos])
            except PatentNumberError as exc:
                out["error"][pos] = str(exc)
            else:
                out["canonical"][pos] = r.canonical
                out["country"][pos] = r.country
                out["number_type"][pos] = r.number_type
                out["kind_code"][pos] = r.kind_code
                out["patent_kind"][pos] = r.patent_kind

    return pd.DataFrame(out, index=s.index, columns=SERIES_COLUMNS, dtype=object)
