"""Statutory patent term under the Patent Law of the People's Republic of China.

Article 42 (as amended in 2020, in force 1 June 2021):

* invention: 20 years from the filing date, plus any term extension (patent term
  adjustment for examination delay, or compensation for new-drug approval time);
  only inventions can be extended;
* utility model: 10 years from the filing date;
* design: 15 years from the filing date for applications filed on or after
  2021-06-01, 10 years for applications filed before that date.

The term counts from the filing date, so it ends on the day *before* the
anniversary: an invention filed 2021-03-15 expires at the end of 2041-03-14. The
returned expiry is the last day on which the patent is in force.

Filings on 29 February: when the anniversary year is not a leap year, the
anniversary is taken to be 1 March, so the patent expires on 28 February. (Reading
the missing day as 28 February instead would end the term one day earlier, on
27 February; we do not take that reading.) In leap years the anniversary is
29 February and the patent expires on 28 February as well.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "DESIGN_15_YEAR_TERM_FROM",
    "KINDS",
    "remaining_life_days",
    "statutory_expiry",
    "statutory_expiry_series",
]

INVENTION = "invention"
UTILITY_MODEL = "utility_model"
DESIGN = "design"
KINDS = (INVENTION, UTILITY_MODEL, DESIGN)

DESIGN_15_YEAR_TERM_FROM = date(2021, 6, 1)
"""Designs filed on or after this date (the 2020 amendment's effective date) get 15 years."""


def _term_years(kind: str, filing_date: date) -> int:
    if kind == INVENTION:
        return 20
    if kind == UTILITY_MODEL:
        return 10
    if kind == DESIGN:
        return 15 if filing_date >= DESIGN_15_YEAR_TERM_FROM else 10
    raise ValueError(f"unknown patent kind {kind!r}; expected one of {', '.join(KINDS)}")


def _anniversary(filing_date: date, years: int) -> date:
    year = filing_date.year + years
    if filing_date.month == 2 and filing_date.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return filing_date.replace(year=year)


def _check_extension(kind: str, term_extension_days: int) -> None:
    if isinstance(term_extension_days, bool) or not isinstance(term_extension_days, int):
        raise ValueError(f"term_extension_days must be an int, got {term_extension_days!r}")
    if term_extension_days < 0:
        raise ValueError(f"term_extension_days must not be negative, got {term_extension_days}")
    if term_extension_days and kind != INVENTION:
        raise ValueError(f"only inventions can have a term extension, not a {kind.replace('_', ' ')}")


def statutory_expiry(kind: str, filing_date: date, term_extension_days: int = 0) -> date:
    """Return the last day of protection for a Chinese patent.

    Args:
        kind: ``"invention"``, ``"utility_model"`` or ``"design"``.
        filing_date: the application's filing date (a ``datetime`` is reduced to its date).
        term_extension_days: days of term adjustment/compensation granted;
            inventions only.

    Raises:
        ValueError: unknown ``kind``, negative extension, or an extension for a
            utility model or design.
    """
    if isinstance(filing_date, datetime):
        filing_date = filing_date.date()
    if not isinstance(filing_date, date):
        raise ValueError(f"filing_date must be a date, got {filing_date!r}")
    years = _term_years(kind, filing_date)
    _check_extension(kind, term_extension_days)
    return _anniversary(filing_date, years) - timedelta(days=1) + timedelta(days=term_extension_days)


def remaining_life_days(expiry: date, today: date) -> int:
    """Days of protection left after ``today``: ``expiry - today``, never negative.

    On the expiry day itself this is 0 - the patent is still in force that day but
    no further day remains - and it stays 0 afterwards.
    """
    return max(0, (expiry - today).days)


def statutory_expiry_series(
    kind: pd.Series, filing: pd.Series, extension_days: pd.Series | None = None
) -> pd.Series:
    """Vectorised :func:`statutory_expiry`.

    ``kind``, ``filing`` (anything :func:`pandas.to_datetime` accepts; times of day
    are dropped) and ``extension_days`` are aligned by position and must have equal
    length. Returns a ``datetime64`` Series indexed like ``filing``; rows with a
    missing kind or filing date are ``NaT``, and a missing extension counts as 0.

    Raises:
        ValueError: for the same inputs :func:`statutory_expiry` rejects (unknown
            kind, negative extension, extension on a non-invention), naming the
            first offending row.
    """
    n = len(filing)
    if len(kind) != n or (extension_days is not None and len(extension_days) != n):
        raise ValueError("kind, filing and extension_days must have the same length")
    kinds = kind.to_numpy(dtype=object)
    filed = pd.to_datetime(filing).reset_index(drop=True).dt.normalize()
    if extension_days is None:
        extension = np.zeros(n, dtype=np.float64)
    else:
        extension = pd.Series(extension_days.to_numpy()).fillna(0).to_numpy(dtype=np.float64)

    present = ~(pd.isna(kinds) | filed.isna().to_numpy())
    is_kind = {k: present & (kinds == k) for k in KINDS}
    index = filing.index
    _raise_first(
        present & ~np.logical_or.reduce(list(is_kind.values())),
        index,
        lambda i: f"unknown patent kind {kinds[i]!r}",
    )
    _raise_first(
        extension != np.floor(extension),
        index,
        lambda i: f"term extension must be a whole number of days, got {extension[i]}",
    )
    _raise_first(extension < 0, index, lambda i: f"term extension must not be negative, got {extension[i]:g}")
    _raise_first(
        present & ~is_kind[INVENTION] & (extension != 0),
        index,
        lambda i: f"only inventions can have a term extension, not {kinds[i]!r}",
    )

    design_15 = is_kind[DESIGN] & (filed >= pd.Timestamp(DESIGN_15_YEAR_TERM_FROM)).to_numpy()
    years = np.select([is_kind[INVENTION], design_15], [20, 15], default=10)
    year = filed.dt.year.to_numpy(dtype=np.float64) + years
    month = filed.dt.month.to_numpy(dtype=np.float64)
    day = filed.dt.day.to_numpy(dtype=np.float64)
    # 29 February with no 29 February in the anniversary year: anniversary is 1 March.
    leap_day_gone = (month == 2) & (day == 29) & ~_is_leap(year)
    month = np.where(leap_day_gone, 3, month)
    day = np.where(leap_day_gone, 1, day)
    anniversary = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")
    expiry = anniversary - pd.Timedelta(days=1) + pd.to_timedelta(extension, unit="D")
    return pd.Series(expiry.where(present).to_numpy(), index=index, name="expiry")


def _is_leap(year: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        y = np.nan_to_num(year).astype(np.int64)
    return (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))


def _raise_first(mask: np.ndarray, index: pd.Index, message: Callable[[int], str]) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise ValueError(f"row {index[i]!r}: {message(i)}")
