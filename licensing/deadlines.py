"""Deadlines as the law counts them: one module for every period the platform computes (the licence-contract
recording deadline, royalty payment dates, annual-fee dates).

- Civil Code art. 201: a period counted in days, months or years starts on the day after the event (the day of
  the event is not counted), so "three months from 15 March" ends on 15 June.
- Civil Code art. 202: a period in months or years ends on the corresponding day of its last month; when that
  month has no such day (31 January + 1 month, 29 February + 1 year), on the last day of that month.
- Civil Code art. 203: when the last day is a statutory holiday (法定休假日, which includes the weekly rest days),
  the period ends on the day after the holiday ends, i.e. the next working day. Weekend days that the State
  Council's holiday arrangement makes working days (调休上班) are working days.

The holiday calendar is the State Council's yearly arrangement as packaged by ``chinese-calendar`` (pinned in
requirements.txt; a new release each year adds the next year's arrangement). For a year the installed release
does not know, only weekends are treated as rest days: a deadline may then fall on a public holiday that was not
yet published or packaged. That fallback is logged as a warning once per year, and ``calendar_knows`` lets a page
say so.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, timedelta

import chinese_calendar

logger = logging.getLogger(__name__)

CIVIL_CODE_MONTHS = "Civil Code art. 202"
CIVIL_CODE_HOLIDAYS = "Civil Code art. 203"

_warned_years: set[int] = set()


def add_months(day: date, months: int) -> date:
    """The corresponding day ``months`` later (or earlier, for a negative number); the last day of that month
    when it has no such day (Civil Code art. 202): 31 January + 1 month = 28/29 February, 30 November +
    3 months = 28/29 February."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """The corresponding day ``years`` later; 28 February for 29 February in a common year (art. 202)."""
    return add_months(day, 12 * years)


def calendar_knows(year: int) -> bool:
    """Whether the installed holiday calendar has the State Council's arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    """A day CNIPA and the courts work: not a statutory holiday, not a weekend unless the holiday arrangement
    makes it a working day. Years the calendar does not know fall back to Monday-Friday (logged once a year)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning("chinese-calendar %s has no holiday arrangement for %s: deadlines in that year skip "
                           "weekends only; upgrade the package when the State Council publishes it.",
                           getattr(chinese_calendar, "__version__", "?"), day.year)
        return day.weekday() < 5


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it (Civil Code art. 203)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def period_end_months(start: date, months: int) -> date:
    """The last day of a period of ``months`` months counted from the event on ``start`` (arts. 201-203)."""
    return next_working_day(add_months(start, months))


def period_end_days(start: date, days: int) -> date:
    """The last day of a period of ``days`` days counted from the event on ``start``: the day after the event
    is day 1 (art. 201), moved off rest days (art. 203)."""
    return next_working_day(start + timedelta(days=days))
