"""Deadlines as the law counts them (licensing/deadlines.py): Civil Code art. 202 (a period of months ends on
the corresponding day, or the month's last day) and art. 203 (a last day on a statutory holiday or weekend
moves to the next working day), with the State Council's holiday arrangement from chinese-calendar. Every date
below was worked out by hand from the published 2024-2026 arrangements."""

import logging
from datetime import date

import pytest

from licensing import deadlines


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),  # no 31 February: the month's last day
    (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
    (date(2024, 2, 29), 1, date(2024, 3, 29)),  # the corresponding day exists
    (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 29 February + 1 year: 28 February
    (date(2024, 2, 29), 48, date(2028, 2, 29)),
    (date(2025, 5, 31), -3, date(2025, 2, 28)),  # counting back
    (date(2025, 10, 31), 3, date(2026, 1, 31)),
])
def test_a_period_of_months_ends_on_the_corresponding_day_or_the_months_last_day(start, months, end):
    assert deadlines.add_months(start, months) == end


def test_years_are_twelve_months():
    assert deadlines.add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert deadlines.add_years(date(2021, 3, 15), 20) == date(2041, 3, 15)


@pytest.mark.parametrize(("day", "working"), [
    (date(2025, 10, 1), False), (date(2025, 10, 8), False), (date(2025, 10, 9), True),  # National Day 2025
    (date(2025, 9, 28), True), (date(2025, 10, 11), True),  # the Sunday and Saturday worked in exchange
    (date(2026, 2, 15), False), (date(2026, 2, 23), False), (date(2026, 2, 24), True),  # Spring Festival 2026
    (date(2026, 2, 14), True), (date(2026, 2, 28), True),  # Saturdays worked in exchange
    (date(2026, 1, 4), True),  # a Sunday worked after New Year's Day
    (date(2025, 3, 15), False), (date(2025, 3, 17), True),  # an ordinary weekend and Monday
])
def test_working_days_follow_the_state_councils_holiday_arrangement(day, working):
    assert deadlines.is_working_day(day) is working


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2025, 7, 1), 3, date(2025, 10, 9)),  # 1 October: National Day week, due Thursday 9 October
    (date(2025, 7, 8), 3, date(2025, 10, 9)),  # 8 October, the holiday's last day
    (date(2025, 11, 16), 3, date(2026, 2, 24)),  # 16 February 2026: Spring Festival (15-23 February)
    (date(2025, 11, 14), 3, date(2026, 2, 14)),  # Saturday 14 February 2026 is a working day: no move
    (date(2025, 10, 4), 3, date(2026, 1, 4)),  # Sunday 4 January 2026 is a working day: no move
    (date(2025, 10, 31), 3, date(2026, 2, 2)),  # Saturday 31 January 2026: Monday 2 February
    (date(2024, 12, 31), 2, date(2025, 2, 28)),  # 31 December + 2 months: 28 February (a Friday)
    (date(2023, 11, 29), 3, date(2024, 2, 29)),  # 29 February 2024, a Thursday
])
def test_a_period_ending_on_a_holiday_or_weekend_ends_on_the_next_working_day(start, months, end):
    assert deadlines.period_end_months(start, months) == end


def test_a_period_of_days_starts_the_day_after_the_event():
    assert deadlines.period_end_days(date(2025, 9, 8), 30) == date(2025, 10, 9)  # 8 October is a holiday
    assert deadlines.period_end_days(date(2024, 3, 31), 30) == date(2024, 4, 30)


def test_a_year_the_calendar_does_not_know_skips_weekends_only_and_says_so(caplog):
    assert deadlines.calendar_knows(2026) and not deadlines.calendar_knows(2099)
    with caplog.at_level(logging.WARNING, logger="licensing.deadlines"):
        assert deadlines.is_working_day(date(2099, 1, 1))  # a Thursday; New Year's Day is not known
        assert deadlines.next_working_day(date(2099, 1, 3)) == date(2099, 1, 5)  # Saturday -> Monday
    assert "2099" in caplog.text and "weekends only" in caplog.text
