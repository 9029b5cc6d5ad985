"""Tests for patents.inventory.term: statutory term under the China Patent Law."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patents.inventory.term import remaining_life_days, statutory_expiry, statutory_expiry_series


def test_invention_expires_the_day_before_the_twentieth_anniversary():
    assert statutory_expiry("invention", date(2021, 3, 15)) == date(2041, 3, 14)


def test_utility_model_expires_the_day_before_the_tenth_anniversary():
    assert statutory_expiry("utility_model", date(2021, 3, 15)) == date(2031, 3, 14)


def test_design_filed_before_1_june_2021_has_a_10_year_term():
    assert statutory_expiry("design", date(2021, 5, 31)) == date(2031, 5, 30)


def test_design_filed_on_or_after_1_june_2021_has_a_15_year_term():
    assert statutory_expiry("design", date(2021, 6, 1)) == date(2036, 5, 31)
    assert statutory_expiry("design", date(2024, 1, 10)) == date(2039, 1, 9)


def test_term_filed_on_new_years_day_ends_on_new_years_eve():
    assert statutory_expiry("invention", date(2021, 1, 1)) == date(2040, 12, 31)


def test_invention_filed_on_29_february_expires_28_february_in_a_leap_anniversary_year():
    # 2040 is a leap year: the anniversary is 29 February, the day before is the 28th.
    assert statutory_expiry("invention", date(2020, 2, 29)) == date(2040, 2, 28)


def test_filing_on_29_february_expires_28_february_when_the_anniversary_year_is_not_leap():
    # No 29 February 2030: the anniversary is taken as 1 March, so expiry is 28 February.
    assert statutory_expiry("utility_model", date(2020, 2, 29)) == date(2030, 2, 28)
    assert statutory_expiry("design", date(2024, 2, 29)) == date(2039, 2, 28)


def test_invention_term_extension_is_added_after_the_statutory_expiry():
    assert statutory_expiry("invention", date(2021, 3, 15), 100) == date(2041, 3, 14) + timedelta(days=100)


@pytest.mark.parametrize("kind", ["utility_model", "design"])
def test_only_inventions_can_have_a_term_extension(kind):
    with pytest.raises(ValueError, match="only inventions can have a term extension"):
        statutory_expiry(kind, date(2021, 3, 15), 10)


def test_zero_extension_is_fine_for_every_kind():
    assert statutory_expiry("design", date(2021, 3, 15), 0) == date(2031, 3, 14)


@pytest.mark.parametrize("extension", [-1, 1.5, True, "10"])
def test_extension_must_be_a_non_negative_whole_number_of_days(extension):
    with pytest.raises(ValueError, match="term_extension_days"):
        statutory_expiry("invention", date(2021, 3, 15), extension)


@pytest.mark.parametrize("kind", ["Invention", "patent", "", None])
def test_unknown_patent_kind_is_rejected(kind):
    with pytest.raises(ValueError, match="unknown patent kind"):
        statutory_expiry(kind, date(2021, 3, 15))


def test_filing_datetime_is_reduced_to_its_date():
    assert statutory_expiry("invention", datetime(2021, 3, 15, 23, 59)) == date(2041, 3, 14)
    assert statutory_expiry("invention", pd.Timestamp("2021-03-15 08:00")) == date(2041, 3, 14)


def test_filing_date_must_be_a_date():
    with pytest.raises(ValueError, match="filing_date must be a date"):
        statutory_expiry("invention", "2021-03-15")  # type: ignore[arg-type]


def test_kind_given_as_a_string_enum_member_works():
    class Kind(enum.StrEnum):
        INVENTION = "invention"
        DESIGN = "design"

    assert statutory_expiry(Kind.INVENTION, date(2021, 3, 15), 5) == date(2041, 3, 19)
    assert statutory_expiry(Kind.DESIGN, date(2021, 6, 1)) == date(2036, 5, 31)


def test_remaining_life_counts_days_after_today():
    assert remaining_life_days(date(2041, 3, 14), date(2041, 3, 4)) == 10
    assert remaining_life_days(date(2041, 3, 14), date(2041, 3, 14)) == 0


def test_remaining_life_of_an_expired_patent_is_zero():
    assert remaining_life_days(date(2020, 1, 1), date(2024, 6, 1)) == 0


# --------------------------------------------------------------------------- bulk path


def test_bulk_expiry_matches_the_scalar_rules_and_keeps_the_index():
    kinds = pd.Series(["invention", "utility_model", "design", "design", "invention"], index=list("abcde"))
    filed = pd.Series(
        pd.to_datetime(["2021-03-15", "2020-02-29", "2021-05-31", "2021-06-01", "2020-02-29"]),
        index=list("abcde"),
    )
    extension = pd.Series([5, 0, None, 0, 0], index=list("abcde"))

    result = statutory_expiry_series(kinds, filed, extension)

    assert list(result.index) == list("abcde")
    assert list(result.dt.date) == [
        date(2041, 3, 19),
        date(2030, 2, 28),
        date(2031, 5, 30),
        date(2036, 5, 31),
        date(2040, 2, 28),
    ]


def test_bulk_expiry_is_missing_where_kind_or_filing_date_is_missing():
    kinds = pd.Series(["invention", None, "design"])
    filed = pd.Series([pd.NaT, pd.Timestamp("2021-01-01"), pd.Timestamp("2022-01-01")])

    result = statutory_expiry_series(kinds, filed)

    assert result.isna().tolist() == [True, True, False]
    assert result.iloc[2].date() == date(2036, 12, 31)


def test_bulk_expiry_accepts_python_dates_and_drops_times_of_day():
    result = statutory_expiry_series(
        pd.Series(["invention", "invention"]), pd.Series([date(2021, 3, 15), datetime(2021, 3, 15, 18, 30)])
    )

    assert list(result.dt.date) == [date(2041, 3, 14), date(2041, 3, 14)]


@pytest.mark.parametrize(
    ("kinds", "extension", "message"),
    [
        (["invention", "patent"], [0, 0], r"row 1: unknown patent kind 'patent'"),
        (["invention", "design"], [0, 3], r"row 1: only inventions can have a term extension"),
        (["invention", "invention"], [-2, 0], r"row 0: term extension must not be negative"),
        (["invention", "invention"], [1.5, 0], r"row 0: term extension must be a whole number"),
    ],
)
def test_bulk_expiry_rejects_what_the_scalar_function_rejects_and_names_the_row(kinds, extension, message):
    filed = pd.Series(pd.to_datetime(["2021-03-15", "2021-03-15"]))

    with pytest.raises(ValueError, match=message):
        statutory_expiry_series(pd.Series(kinds), filed, pd.Series(extension))


def test_bulk_expiry_requires_inputs_of_equal_length():
    with pytest.raises(ValueError, match="same length"):
        statutory_expiry_series(
            pd.Series(["invention"]), pd.Series(pd.to_datetime(["2021-01-01", "2021-01-02"]))
        )


def test_bulk_expiry_of_empty_input_is_empty():
    result = statutory_expiry_series(pd.Series([], dtype=object), pd.Series([], dtype="datetime64[ns]"))

    assert result.empty


_KINDS = st.sampled_from(["invention", "utility_model", "design"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(_KINDS, st.dates(date(1985, 4, 1), date(2079, 12, 31)), st.integers(0, 2000)),
        min_size=1,
        max_size=40,
    )
)
def test_bulk_expiry_agrees_with_scalar_function_on_generated_input(rows):
    kinds = [k for k, _, _ in rows]
    dates = [d for _, d, _ in rows]
    extensions = [e if k == "invention" else 0 for k, _, e in rows]

    result = statutory_expiry_series(
        pd.Series(kinds), pd.Series(pd.to_datetime(dates)), pd.Series(extensions)
    )

    assert list(result.dt.date) == [
        statutory_expiry(k, d, e) for k, d, e in zip(kinds, dates, extensions, strict=True)
    ]


def test_bulk_expiry_covers_every_29_february_since_1988():
    leap_days = [date(y, 2, 29) for y in range(1988, 2080, 4)]
    for kind in ("invention", "utility_model", "design"):
        result = statutory_expiry_series(
            pd.Series([kind] * len(leap_days)), pd.Series(pd.to_datetime(leap_days))
        )
        assert list(result.dt.date) == [statutory_expiry(kind, d) for d in leap_days]
        assert all(d.month == 2 and d.day == 28 for d in result.dt.date)


def test_bulk_expiry_handles_a_million_rows_quickly():
    n = 1_000_000
    rng = np.random.default_rng(0)
    kinds = pd.Series(rng.choice(["invention", "utility_model", "design"], n))
    filed = pd.Series(pd.Timestamp("1990-01-01") + pd.to_timedelta(rng.integers(0, 13_000, n), unit="D"))

    result = statutory_expiry_series(kinds, filed)

    assert len(result) == n and result.notna().all()
