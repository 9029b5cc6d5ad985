"""Tests for patents.inventory.numbers: scalar normalisation and the bulk (Series) path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patents.inventory import numbers
from patents.inventory.numbers import (
    NormalizedNumber,
    PatentNumberError,
    cn_check_char,
    is_valid_patent_number,
    normalize_patent_number,
    normalize_series,
)


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms, as typed with a Chinese input method."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


# --------------------------------------------------------------------------- CN applications


@pytest.mark.parametrize(
    "raw",
    [
        "202110123456.7",
        "ZL 2021 1 0123456.7",
        "ZL202110123456.7",
        "CN202110123456.7",
        "CN 202110123456.7",
        "CN ZL 2021 1 0123456.7",
        "2021101234567",
        "zl202110123456.7",
        "2021-1-0123456.7",
        "2021 1 0123456 . 7",
        "  202110123456.7\n",
        "202110123456。7",
        fullwidth("ZL 2021 1 0123456.7"),
        fullwidth("202110123456.7"),
    ],
)
def test_chinese_application_number_in_any_common_spelling_normalises_to_one_canonical_form(raw):
    result = normalize_patent_number(raw)

    assert result.canonical == "CN202110123456.7"
    assert result.country == "CN"
    assert result.number_type == "application"
    assert result.kind_code == ""
    assert result.original == raw


def test_chinese_application_number_with_zl_prefix_and_spaces_normalises():
    assert normalize_patent_number("ZL 2021 1 0123456.7").canonical == "CN202110123456.7"


@pytest.mark.parametrize(
    ("raw", "patent_kind"),
    [
        ("202110123456.7", "invention"),
        ("202180123456.5", "invention"),
        ("202120123456.2", "utility_model"),
        ("202190123456.0", "utility_model"),
        ("202130123456.8", "design"),
    ],
)
def test_fifth_digit_of_chinese_application_number_gives_the_patent_kind(raw, patent_kind):
    assert normalize_patent_number(raw).patent_kind == patent_kind


def test_check_character_ten_is_written_x_and_accepted_in_either_case():
    assert normalize_patent_number("202110123450.X").canonical == "CN202110123450.X"
    assert normalize_patent_number("202110123450.x").canonical == "CN202110123450.X"


def test_wrong_check_digit_is_rejected_with_expected_and_actual_digit():
    with pytest.raises(PatentNumberError, match=r"^check digit mismatch: expected 7, got 3$"):
        normalize_patent_number("202110123456.3")


def test_x_where_a_digit_is_expected_is_a_check_digit_mismatch():
    with pytest.raises(PatentNumberError, match="expected 7, got X"):
        normalize_patent_number("202110123456.X")


def test_chinese_application_number_without_check_digit_says_which_digit_is_missing():
    with pytest.raises(PatentNumberError, match=r"missing its check digit \(expected 7\)"):
        normalize_patent_number("ZL 2021 1 0123456")


def test_unknown_type_digit_in_chinese_application_number_is_rejected():
    with pytest.raises(PatentNumberError, match="unknown application type digit 5"):
        normalize_patent_number("202150123456." + cn_check_char("202150123456"))


def test_twelve_digit_application_number_from_before_2003_is_rejected():
    body = "199810123456"
    with pytest.raises(PatentNumberError, match="year 1998 is outside 2003-2099"):
        normalize_patent_number(f"{body}.{cn_check_char(body)}")


@pytest.mark.parametrize(
    ("raw", "canonical", "patent_kind"),
    [
        ("98123456.9", "CN98123456.9", "invention"),
        ("ZL 99 2 10001.1", "CN99210001.1", "utility_model"),
        ("00310002.2", "CN00310002.2", "design"),
        ("CN03110005.8", "CN03110005.8", "invention"),
        ("851000010", "CN85100001.0", "invention"),
    ],
)
def test_pre_2003_eight_digit_application_number_is_validated_and_normalised(raw, canonical, patent_kind):
    result = normalize_patent_number(raw)

    assert (result.canonical, result.patent_kind, result.number_type) == (
        canonical,
        patent_kind,
        "application",
    )


def test_eight_digit_application_number_with_wrong_check_character_is_rejected():
    with pytest.raises(PatentNumberError, match="check digit mismatch: expected 9, got X"):
        normalize_patent_number("98123456.X")


def test_eight_digit_application_number_outside_1985_to_2003_is_rejected():
    body = "50123456"
    with pytest.raises(PatentNumberError, match="year 50 is outside 1985-2003"):
        normalize_patent_number(f"{body}.{cn_check_char(body)}")


def test_check_character_helper_uses_cnipa_weights():
    # 2*2 + 0*3 + 2*4 + 1*5 + 1*6 + 0*7 + 1*8 + 2*9 + 3*2 + 4*3 + 5*4 + 6*5 = 117 = 10*11 + 7
    assert cn_check_char("202110123456") == "7"
    assert cn_check_char("202110123450") == "X"
    with pytest.raises(ValueError):
        cn_check_char("12345")


# --------------------------------------------------------------------------- CN publications


@pytest.mark.parametrize(
    ("raw", "canonical", "kind_code", "patent_kind"),
    [
        ("CN112345678B", "CN112345678B", "B", "invention"),
        ("CN112345678A", "CN112345678A", "A", "invention"),
        ("CN 112345678 B", "CN112345678B", "B", "invention"),
        ("cn112345678b", "CN112345678B", "B", "invention"),
        ("CN212345678U", "CN212345678U", "U", "utility_model"),
        ("CN212345678Y", "CN212345678Y", "Y", "utility_model"),
        ("CN302345678S", "CN302345678S", "S", "design"),
        ("CN302345678D", "CN302345678D", "D", "design"),
        ("CN101234567C", "CN101234567C", "C", "invention"),
        ("CN112345678A8", "CN112345678A8", "A8", "invention"),
        ("CN112345678", "CN112345678", "", "invention"),
        (fullwidth("CN 112345678 B"), "CN112345678B", "B", "invention"),
    ],
)
def test_chinese_publication_number_normalises_with_kind_code(raw, canonical, kind_code, patent_kind):
    result = normalize_patent_number(raw)

    assert result.canonical == canonical
    assert result.country == "CN"
    assert result.number_type == "publication"
    assert result.kind_code == kind_code
    assert result.patent_kind == patent_kind


def test_chinese_kind_code_that_contradicts_the_type_digit_is_rejected():
    with pytest.raises(
        PatentNumberError, match=r"kind code U \(utility model\) does not match.*3 means design"
    ):
        normalize_patent_number("CN312345678U")


@pytest.mark.parametrize("raw", ["CN112345678X", "CN112345678B1", "CN212345678U2"])
def test_unknown_chinese_kind_code_is_rejected(raw):
    with pytest.raises(PatentNumberError, match="unknown Chinese kind code"):
        normalize_patent_number(raw)


# --------------------------------------------------------------------------- US and EP


@pytest.mark.parametrize(
    ("raw", "canonical", "number_type", "kind_code", "patent_kind"),
    [
        ("US8926509B2", "US8926509B2", "publication", "B2", "invention"),
        ("US 8,926,509 B2", "US8926509B2", "publication", "B2", "invention"),
        ("US8926509", "US8926509", "publication", "", "invention"),
        ("US08926509B2", "US8926509B2", "publication", "B2", "invention"),
        ("US 11,234,567 B1", "US11234567B1", "publication", "B1", "invention"),
        ("US12345678", "US12345678", "publication", "", "invention"),
        ("US 12/345,678", "US12/345678", "application", "", "invention"),
        ("US29/123,456", "US29/123456", "application", "", "design"),
        ("US 63/123,456", "US63/123456", "application", "", None),
        ("US20120123456A1", "US20120123456A1", "publication", "A1", "invention"),
        ("US 2012/0123456 A1", "US20120123456A1", "publication", "A1", "invention"),
        ("USD123456S", "USD123456S", "publication", "S", "design"),
        ("US D0123456 S", "USD123456S", "publication", "S", "design"),
        ("USRE45678E", "USRE45678E", "publication", "E", None),
        ("USPP12345P2", "USPP12345P2", "publication", "P2", None),
    ],
)
def test_us_numbers_normalise(raw, canonical, number_type, kind_code, patent_kind):
    result = normalize_patent_number(raw)

    assert result.canonical == canonical
    assert result.country == "US"
    assert result.number_type == number_type
    assert result.kind_code == kind_code
    assert result.patent_kind == patent_kind


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("US8926509A1", "unknown kind code A1 for a US utility patent"),
        ("USD123456B2", "unknown kind code B2 for a US design patent"),
        ("US20120123456B2", "unknown kind code B2 for a US pre-grant publication"),
        ("US123456789", "unrecognised format"),
        ("US0", "unrecognised format"),
    ],
)
def test_invalid_us_numbers_are_rejected_with_reason(raw, message):
    with pytest.raises(PatentNumberError, match=message):
        normalize_patent_number(raw)


@pytest.mark.parametrize(
    ("raw", "canonical", "kind_code"),
    [
        ("EP1234567B1", "EP1234567B1", "B1"),
        ("EP 1 234 567 B1", "EP1234567B1", "B1"),
        ("EP-1234567-A1", "EP1234567A1", "A1"),
        ("EP1234567", "EP1234567", ""),
        ("ep 0 123 456 a3", "EP0123456A3", "A3"),
    ],
)
def test_european_publication_numbers_normalise(raw, canonical, kind_code):
    result = normalize_patent_number(raw)

    assert (result.canonical, result.country, result.kind_code) == (canonical, "EP", kind_code)
    assert result.number_type == "publication"
    assert result.patent_kind == "invention"


def test_unknown_european_kind_code_is_rejected():
    with pytest.raises(PatentNumberError, match="unknown EP kind code C1"):
        normalize_patent_number("EP1234567C1")


# --------------------------------------------------------------------------- garbage


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("JP2001123456A", "unsupported country code JP"),
        ("WO2020123456A1", "unsupported country code WO"),
        ("hello", "unrecognised format: 'hello'"),
        ("EP123456", "unrecognised format"),
        ("2021101234567890", "unrecognised format"),
        ("", "empty patent number"),
        ("  - ", "empty patent number"),
    ],
)
def test_garbage_is_rejected_with_a_human_readable_reason(raw, message):
    with pytest.raises(PatentNumberError, match=message):
        normalize_patent_number(raw)


def test_non_text_input_is_rejected():
    with pytest.raises(PatentNumberError, match="missing patent number"):
        normalize_patent_number(None)  # type: ignore[arg-type]
    with pytest.raises(PatentNumberError, match="must be text, got int"):
        normalize_patent_number(2021101234567)  # type: ignore[arg-type]


def test_patent_number_error_is_a_value_error():
    assert issubclass(PatentNumberError, ValueError)


def test_is_valid_patent_number_mirrors_normalisation():
    assert is_valid_patent_number("ZL 2021 1 0123456.7")
    assert is_valid_patent_number("US8926509B2")
    assert not is_valid_patent_number("202110123456.3")
    assert not is_valid_patent_number("garbage")
    assert not is_valid_patent_number(None)  # type: ignore[arg-type]


def test_normalized_number_is_immutable():
    result = normalize_patent_number("CN112345678B")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.canonical = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- bulk path


def scalar_rows(values: list) -> list[tuple]:
    """What normalize_series must return, computed with the scalar function."""
    rows = []
    for value in values:
        try:
            r = normalize_patent_number(value)
        except PatentNumberError as exc:
            rows.append((None, None, None, None, None, str(exc)))
        else:
            rows.append((r.canonical, r.country, r.number_type, r.kind_code, r.patent_kind, None))
    return rows


def assert_series_agrees_with_scalar(values: list[str]) -> None:
    frame = normalize_series(pd.Series(values, dtype=object))
    assert list(frame.itertuples(index=False, name=None)) == scalar_rows(values)


MIXED_INPUTS = [
    "202110123456.7",
    "ZL 2021 1 0123456.7",
    fullwidth("CN202110123456.7"),
    "2021101234567",
    "CNZL202110123450.X",
    "202110123456.3",
    "200210123456." + cn_check_char("200210123456"),
    "200310123456." + cn_check_char("200310123456"),
    "209910123456." + cn_check_char("209910123456"),
    "210010123456." + cn_check_char("210010123456"),
    "202150123456.9",
    "199810123456.1",
    "ZL 2021 1 0123456",
    "98123456.9",
    "98123456.X",
    "CN112345678B",
    "CN 212345678 U",
    "CN302345678S",
    "CN312345678U",
    "CN112345678B1",
    "CN112345678",
    "CN412345678B",
    "US8926509B2",
    "US 8,926,509 B2",
    "US000008926509",
    "US8926509A1",
    "US 12/345,678",
    "US20120123456A1",
    "USD123456S",
    "USRE45678E",
    "US123456789",
    "US5",
    "EP1234567B1",
    "EP 1 234 567 B1",
    "EP1234567",
    "EP1234567C1",
    "JP2001123456A",
    "",
    " ",
    "hello",
    "x\x00y",
    "\u00df202110123456.7",
    "CN112345678B\udcff",
    "\U0001f600",
]


@pytest.mark.parametrize("raw", MIXED_INPUTS)
def test_series_normalisation_agrees_with_scalar_function_for_each_input(raw):
    assert_series_agrees_with_scalar([raw])


def test_series_normalisation_agrees_with_scalar_function_on_a_mixed_batch():
    assert_series_agrees_with_scalar(MIXED_INPUTS * 3)


def test_series_normalisation_agrees_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(numbers, "_CHUNK", 7)
    assert_series_agrees_with_scalar(MIXED_INPUTS)


def test_series_normalisation_keeps_the_index_and_column_order():
    s = pd.Series(["CN112345678B", "nope"], index=["row-a", "row-b"])

    frame = normalize_series(s)

    assert list(frame.index) == ["row-a", "row-b"]
    assert list(frame.columns) == ["canonical", "country", "number_type", "kind_code", "patent_kind", "error"]
    assert frame.loc["row-a", "canonical"] == "CN112345678B"
    assert frame.loc["row-a", "error"] is None
    assert frame.loc["row-b", "canonical"] is None
    assert frame.loc["row-b", "error"] == "unrecognised format: 'nope'"


def test_series_normalisation_reports_missing_values_as_missing():
    frame = normalize_series(pd.Series([None, np.nan, pd.NA, "CN112345678B"], dtype=object))

    assert frame["error"].tolist() == ["missing patent number"] * 3 + [None]


def test_series_normalisation_converts_numbers_read_from_spreadsheets_to_text():
    frame = normalize_series(pd.Series([2021101234567, 202110123456]))

    assert frame["canonical"].tolist() == ["CN202110123456.7", None]
    assert frame["error"].tolist()[1] == "Chinese application number is missing its check digit (expected 7)"


def test_series_normalisation_of_an_empty_series_is_an_empty_frame():
    frame = normalize_series(pd.Series([], dtype=object))

    assert frame.empty
    assert list(frame.columns) == numbers.SERIES_COLUMNS


def test_common_formats_are_handled_without_calling_the_scalar_function(monkeypatch):
    def forbidden(raw):
        raise AssertionError(f"scalar fallback used for {raw!r}")

    monkeypatch.setattr(numbers, "normalize_patent_number", forbidden)
    values = [
        "202110123456.7",
        "ZL 2021 1 0123456.7",
        "CN2021101234567",
        "CN112345678B",
        "CN 212345678 U",
        "US 8,926,509 B2",
        "US8926509",
        "EP 1 234 567 B1",
    ]

    frame = normalize_series(pd.Series(values))

    assert frame["error"].isna().all()


# Hypothesis: generated numbers close to the supported formats (valid and invalid),
# decorated the way people type them, plus arbitrary text.

_DECORATIONS = st.sampled_from(["", " ", "-", "  ", "\t", "\u3000", "_", ","])


@st.composite
def decorated(draw, core: str) -> str:
    chars = []
    for c in core:
        chars.append(c)
        if draw(st.integers(0, 5)) == 0:
            chars.append(draw(_DECORATIONS))
    text = "".join(chars)
    if draw(st.booleans()):
        text = text.lower()
    if draw(st.integers(0, 4)) == 0:
        text = fullwidth(text)
    return text


@st.composite
def cn_applications(draw) -> str:
    year = draw(st.one_of(st.sampled_from([2002, 2003, 2099, 2100]), st.integers(1995, 2100)))
    body = f"{year}{draw(st.integers(0, 9))}{draw(st.integers(0, 9_999_999)):07d}"
    check = cn_check_char(body) if draw(st.integers(0, 3)) else draw(st.sampled_from("0123456789X"))
    prefix = draw(st.sampled_from(["", "CN", "ZL", "CNZL", "ZLCN"]))
    dot = draw(st.sampled_from([".", "", "\u3002", ".."]))
    return draw(decorated(f"{prefix}{body}{dot}{check}"))


@st.composite
def old_cn_applications(draw) -> str:
    body = f"{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 9))}{draw(st.integers(0, 99_999)):05d}"
    check = cn_check_char(body) if draw(st.booleans()) else draw(st.sampled_from("0123456789X"))
    return draw(
        decorated(f"{draw(st.sampled_from(['', 'CN', 'ZL']))}{body}{draw(st.sampled_from(['.', '']))}{check}")
    )


_CN_KINDS = ["", "A", "B", "C", "U", "Y", "S", "D", "X", "B1", "A8", "U9", "S2", "B8"]


@st.composite
def cn_publications(draw) -> str:
    number = f"{draw(st.integers(0, 9))}{draw(st.integers(0, 99_999_999)):08d}"
    return draw(decorated(f"CN{number}{draw(st.sampled_from(_CN_KINDS))}"))


_US_KINDS = ["", "A", "B1", "B2", "C1", "E", "S", "S1", "P2", "A1", "A9", "X"]


@st.composite
def us_numbers(draw) -> str:
    series = draw(st.sampled_from(["", "", "", "D", "RE", "PP"]))
    zeros = "0" * draw(st.integers(0, 3))
    number = str(draw(st.integers(0, 10**10)))
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return draw(decorated(f"US{draw(st.integers(0, 99)):02d}/{draw(st.integers(0, 999_999)):06d}"))
    if shape == 1:
        return draw(decorated(f"US20{draw(st.integers(0, 99)):02d}/{draw(st.integers(0, 9_999_999)):07d}"))
    return draw(decorated(f"US{series}{zeros}{number}{draw(st.sampled_from(_US_KINDS))}"))


_EP_KINDS = ["", "A1", "A2", "A3", "B1", "B2", "B9", "C1", "A", "B"]


@st.composite
def ep_numbers(draw) -> str:
    digits = draw(st.integers(5, 8))
    number = f"{draw(st.integers(0, 10**digits - 1)):0{digits}d}"
    return draw(decorated(f"EP{number}{draw(st.sampled_from(_EP_KINDS))}"))


patent_like = st.one_of(
    cn_applications(),
    old_cn_applications(),
    cn_publications(),
    us_numbers(),
    ep_numbers(),
    st.text(max_size=20),
    st.text(alphabet="CNZLUSEP0123456789.X /-", max_size=20),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patent_like, min_size=1, max_size=40))
def test_series_normalisation_agrees_with_scalar_function_on_generated_input(values):
    assert_series_agrees_with_scalar(values)


@settings(max_examples=100, deadline=None)
@given(cn_applications())
def test_generated_chinese_application_numbers_are_accepted_iff_their_check_digit_is_right(raw):
    cleaned = numbers._clean(raw)
    match = numbers._PARSERS[0][0].fullmatch(cleaned)
    if match is None:
        return
    body, check = match["body"], match["check"]
    plausible = 2003 <= int(body[:4]) <= 2099 and body[4] in "12389"
    assert is_valid_patent_number(raw) == (plausible and check == cn_check_char(body))


def test_normalized_number_fields_match_the_documented_contract():
    assert [f.name for f in dataclasses.fields(NormalizedNumber)] == [
        "canonical",
        "country",
        "number_type",
        "kind_code",
        "patent_kind",
        "original",
    ]
