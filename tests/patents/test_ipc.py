"""Tests for patents.inventory.ipc: IPC symbol normalisation, list parsing and the bulk path."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patents.inventory import ipc
from patents.inventory.ipc import IPCError, ipc_subclass, normalize_ipc, normalize_ipc_series, parse_ipc_list


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


@pytest.mark.parametrize(
    "raw",
    [
        "H01M 10/0525",
        "H01M10/0525",
        "H01M  10/0525",
        "h01m 10/0525",
        " H01M 10 / 0525 ",
        "H01M0010052500",
        "H01M 010/0525",
        "H01M 10/052500",
        "H01M 10/0525 (2010.01)",
        "H01M 10/0525 [2010.01]",
        "H01M10/0525(2010.01)",
        fullwidth("H01M 10/0525"),
        fullwidth("H01M 10/0525 (2010.01)"),
    ],
)
def test_ipc_symbol_in_any_common_spelling_normalises_to_the_wipo_printed_form(raw):
    assert normalize_ipc(raw) == "H01M 10/0525"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("G06F 3/0482", "G06F 3/0482"),
        ("G06F0003048200", "G06F 3/0482"),
        ("A61K 31/00", "A61K 31/00"),
        ("A61K0031000000", "A61K 31/00"),
        ("C07D 401/04", "C07D 401/04"),
        ("C07D0401040000", "C07D 401/04"),
        ("B01D 53/00", "B01D 53/00"),
        ("H04L 9/32", "H04L 9/32"),
        ("H01L 21/00", "H01L 21/00"),
        ("A61K 31/4025", "A61K 31/4025"),
        ("A61P 35/10", "A61P 35/10"),
        ("H01M 10/0500", "H01M 10/05"),
        ("G06Q 1000/123456", "G06Q 1000/123456"),
    ],
)
def test_main_group_loses_leading_zeros_and_subgroup_keeps_two_to_six_significant_digits(raw, canonical):
    assert normalize_ipc(raw) == canonical


def test_epo_fixed_width_subgroup_is_right_padded_so_trailing_zeros_are_dropped():
    assert normalize_ipc("H01M0010050000") == "H01M 10/05"
    assert normalize_ipc("H01M0010100000") == "H01M 10/10"
    assert normalize_ipc("H01M0010000000") == "H01M 10/00"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty IPC code"),
        ("   ", "empty IPC code"),
        ("(2010.01)", "empty IPC code"),
        ("X01M 10/05", "section must be a letter A-H, got 'X'"),
        ("101M 10/05", "section must be a letter A-H, got '1'"),
        ("H1M 10/05", "class must be two digits"),
        ("H011 10/05", "subclass must be a letter"),
        ("H01M", "subclass without a group; pass allow_subclass=True"),
        ("H01M 10", "expected main group and subgroup"),
        ("H01M 12345/00", "main group must be 1-4 digits, got '12345'"),
        ("H01M /05", "main group must be 1-4 digits, got ''"),
        ("H01M 10/5", "subgroup must be 2-6 digits, got '5'"),
        ("H01M 10/1234567", "subgroup must be 2-6 digits"),
        ("H01M 0/05", "main group must not be 0"),
        ("H01M0000000000", "main group must not be 0"),
        ("H01M 10/05 extra", "subgroup must be 2-6 digits, got '05EXTRA'"),
    ],
)
def test_invalid_ipc_symbols_are_rejected_with_the_wrong_part_named(raw, message):
    with pytest.raises(IPCError, match=message):
        normalize_ipc(raw)


def test_non_text_ipc_code_is_rejected():
    with pytest.raises(IPCError, match="must be text"):
        normalize_ipc(None)  # type: ignore[arg-type]


def test_ipc_error_is_a_value_error():
    assert issubclass(IPCError, ValueError)


def test_subclass_only_code_is_accepted_when_allowed():
    assert normalize_ipc("h01m", allow_subclass=True) == "H01M"
    assert normalize_ipc(fullwidth("H01M"), allow_subclass=True) == "H01M"
    assert normalize_ipc("H01M 10/0525", allow_subclass=True) == "H01M 10/0525"


def test_subclass_helper_returns_the_four_character_subclass():
    assert ipc_subclass("h01m10/0525") == "H01M"
    assert ipc_subclass("H01M0010052500") == "H01M"
    assert ipc_subclass("G06Q") == "G06Q"
    with pytest.raises(IPCError):
        ipc_subclass("nonsense")


# --------------------------------------------------------------------------- lists


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("H01M 10/0525; H01M 4/36", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M 10/0525,H01M 4/36", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M 10/0525；H01M 4/36", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M 10/0525，H01M 4/36", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M 10/0525\nH01M 4/36\r\n", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M 10/0525 H01M 4/36", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M10/0525 (2010.01); H01M4/36 (2006.01)", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M 10/0525 (2010.01) H01M 4/36 (2006.01)", ["H01M 10/0525", "H01M 4/36"]),
        ("h01m 10/0525 ;; ; h01m 4/36 ;", ["H01M 10/0525", "H01M 4/36"]),
        ("H01M0010052500;H01M0004360000", ["H01M 10/0525", "H01M 4/36"]),
    ],
)
def test_ipc_list_is_split_on_any_common_separator(raw, codes):
    assert parse_ipc_list(raw) == codes


def test_ipc_list_keeps_the_first_code_as_main_ipc_and_drops_later_duplicates():
    raw = "G06F 3/01; H04L 9/32; g06f 3/01; G06F0003010000; H04L 9/32 (2006.01); A61B 5/00"

    assert parse_ipc_list(raw) == ["G06F 3/01", "H04L 9/32", "A61B 5/00"]


@pytest.mark.parametrize("raw", [None, "", "   ", ";;", "\n", "(2006.01)"])
def test_blank_ipc_list_gives_no_codes(raw):
    assert parse_ipc_list(raw) == []


def test_invalid_item_in_ipc_list_is_reported_with_its_position_and_reason():
    with pytest.raises(IPCError, match=r"^item 2 \('H01M 5'\): expected main group and subgroup"):
        parse_ipc_list("H01M 10/0525; ; H01M 5; H01M 4/36")


def test_ipc_list_accepts_subclasses_only_when_allowed():
    assert parse_ipc_list("H01M; G06F 3/01", allow_subclass=True) == ["H01M", "G06F 3/01"]
    with pytest.raises(IPCError, match="item 1"):
        parse_ipc_list("H01M; G06F 3/01")


def test_non_text_ipc_list_is_rejected():
    with pytest.raises(IPCError, match="must be text"):
        parse_ipc_list(123)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bulk path


def scalar_rows(values: list, allow_subclass: bool = False) -> list[tuple]:
    rows = []
    for value in values:
        try:
            codes = parse_ipc_list(value, allow_subclass=allow_subclass)
        except IPCError as exc:
            rows.append((None, None, str(exc)))
        else:
            rows.append((codes[0] if codes else None, codes, None))
    return rows


def assert_series_agrees_with_scalar(values: list, allow_subclass: bool = False) -> None:
    frame = normalize_ipc_series(pd.Series(values, dtype=object), allow_subclass=allow_subclass)
    assert list(frame.itertuples(index=False, name=None)) == scalar_rows(values, allow_subclass)


MIXED_LISTS = [
    "H01M 10/0525; H01M 4/36",
    "H01M10/0525 (2010.01) H01M4/36 (2006.01)",
    "G06F 3/01; H04L 9/32; g06f 3/01",
    fullwidth("H01M 10/0525；H01M 4/36"),
    "H01M0010052500",
    "",
    None,
    ";",
    "H01M 5",
    "H01M 10/0525; bogus",
    "H01M",
    "A61K 31/00\nA61P 35/00\n",
    "(2006.01)",
    "x\x00y",
    "H01M 10/05\x01H01M 4/36",
    "H01M 10/05 \x1c H01M 4/36",
    "H01M 10/05; \udcff",
    "\U0001f600 H01M 10/05",
]


@pytest.mark.parametrize("raw", MIXED_LISTS)
def test_bulk_ipc_parsing_agrees_with_parse_ipc_list_for_each_input(raw):
    assert_series_agrees_with_scalar([raw])


def test_bulk_ipc_parsing_agrees_with_parse_ipc_list_on_a_mixed_batch():
    assert_series_agrees_with_scalar(MIXED_LISTS * 2)
    assert_series_agrees_with_scalar(MIXED_LISTS, allow_subclass=True)


def test_bulk_ipc_parsing_keeps_the_index_and_reports_errors_per_row():
    s = pd.Series(["H01M 10/0525; H01M 4/36", "garbage", None], index=[10, 20, 30])

    frame = normalize_ipc_series(s)

    assert list(frame.index) == [10, 20, 30]
    assert list(frame.columns) == ["main_ipc", "ipc_codes", "error"]
    assert frame.loc[10].tolist() == ["H01M 10/0525", ["H01M 10/0525", "H01M 4/36"], None]
    assert frame.loc[20, "main_ipc"] is None and frame.loc[20, "ipc_codes"] is None
    assert frame.loc[20, "error"].startswith("item 1 ('GARBAGE'):")
    assert frame.loc[30].tolist() == [None, [], None]


def test_bulk_ipc_parsing_of_an_empty_series_is_an_empty_frame():
    frame = normalize_ipc_series(pd.Series([], dtype=object))

    assert frame.empty
    assert list(frame.columns) == ["main_ipc", "ipc_codes", "error"]


def test_bulk_ipc_parsing_does_the_work_once_per_distinct_spelling_not_once_per_row(monkeypatch):
    calls: list[str] = []
    original = ipc._canonical

    def counting(code: str, allow_subclass: bool) -> str:
        calls.append(code)
        return original(code, allow_subclass)

    monkeypatch.setattr(ipc, "_canonical", counting)

    frame = normalize_ipc_series(pd.Series(["H01M 10/0525; H01M 4/36", "H01M 4/36", "H01M10/0525"] * 100))

    # Four distinct spellings: "H01M 10/0525", " H01M 4/36", "H01M 4/36", "H01M10/0525".
    assert sorted(calls) == ["H01M10/0525", "H01M10/0525", "H01M4/36", "H01M4/36"]
    assert frame["ipc_codes"].iloc[0] == ["H01M 10/0525", "H01M 4/36"]


_SECTIONS = "ABCDEFGHXZ"


@st.composite
def ipc_symbols(draw) -> str:
    subclass = (
        f"{draw(st.sampled_from(_SECTIONS))}{draw(st.integers(0, 99)):02d}{draw(st.sampled_from('ABKMQZ1'))}"
    )
    if draw(st.integers(0, 5)) == 0:
        return subclass.lower() if draw(st.booleans()) else subclass
    if draw(st.integers(0, 3)) == 0:
        group, subgroup = f"{draw(st.integers(0, 9999)):04d}", f"{draw(st.integers(0, 999999)):06d}"
        return f"{subclass}{group}{subgroup}"
    group = str(draw(st.integers(0, 12000)))
    subgroup = str(draw(st.integers(0, 9_999_999))).zfill(draw(st.integers(1, 3)))
    space = draw(st.sampled_from(["", " ", "  ", "\u3000"]))
    version = draw(st.sampled_from(["", " (2006.01)", "(2010.01)", " [2019.01]"]))
    text = f"{subclass}{space}{group}/{subgroup}{version}"
    return text.lower() if draw(st.integers(0, 4)) == 0 else text


@st.composite
def ipc_lists(draw) -> str:
    items = draw(st.lists(ipc_symbols(), max_size=5))
    separators = st.sampled_from(["; ", ",", "；", "，", "\n", " ", "  ;  ", ";;"])
    text = ""
    for item in items:
        text += item + draw(separators)
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(ipc_lists(), st.text(max_size=30), st.none()), min_size=1, max_size=30), st.booleans()
)
def test_bulk_ipc_parsing_agrees_with_parse_ipc_list_on_generated_input(values, allow_subclass):
    assert_series_agrees_with_scalar(values, allow_subclass)


@settings(max_examples=200, deadline=None)
@given(ipc_symbols())
def test_normalised_ipc_symbols_are_stable_under_renormalisation(raw):
    try:
        canonical = normalize_ipc(raw, allow_subclass=True)
    except IPCError:
        return
    assert normalize_ipc(canonical, allow_subclass=True) == canonical
