"""Tests for patents.inventory.fields: the WIPO IPC-technology concordance."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patents.inventory.fields import (
    FIELDS,
    FIELDS_BY_NUMBER,
    LOCAL_EXTENSIONS,
    SECTORS,
    WIPO_CONCORDANCE,
    classify_ipc,
    classify_series,
)
from patents.inventory.ipc import normalize_ipc


def test_there_are_35_fields_numbered_1_to_35_in_order():
    assert [f.number for f in FIELDS] == list(range(1, 36))
    assert FIELDS_BY_NUMBER[16].name_en == "Pharmaceuticals"


def test_field_names_follow_wipo_english_names():
    names = {f.number: f.name_en for f in FIELDS}

    assert names[1] == "Electrical machinery, apparatus, energy"
    assert names[4] == "Digital communication"
    assert names[7] == "IT methods for management"
    assert names[11] == "Analysis of biological materials"
    assert names[22] == "Micro-structural and nano-technology"
    assert names[35] == "Civil engineering"


def test_every_field_has_english_and_chinese_names():
    for field in FIELDS:
        assert field.name_en and field.name_zh
        assert re.search(r"[\u4e00-\u9fff]", field.name_zh), field


@pytest.mark.parametrize(
    ("numbers", "sector_en", "sector_zh"),
    [
        (range(1, 9), "Electrical engineering", "电气工程"),
        (range(9, 14), "Instruments", "仪器"),
        (range(14, 25), "Chemistry", "化学"),
        (range(25, 33), "Mechanical engineering", "机械工程"),
        (range(33, 36), "Other fields", "其他领域"),
    ],
)
def test_fields_belong_to_wipos_five_sectors(numbers, sector_en, sector_zh):
    for number in numbers:
        sector = FIELDS_BY_NUMBER[number].sector
        assert (sector.name_en, sector.name_zh) == (sector_en, sector_zh)


def test_there_are_five_sectors_with_distinct_keys():
    assert len(SECTORS) == 5
    assert len({s.key for s in SECTORS}) == 5
    assert {f.sector for f in FIELDS} == set(SECTORS)


def test_every_field_has_at_least_one_ipc_prefix_in_the_wipo_table():
    assert set(WIPO_CONCORDANCE.values()) == set(range(1, 36))


def test_every_concordance_prefix_is_a_subclass_or_a_main_group():
    prefixes = {**WIPO_CONCORDANCE, **LOCAL_EXTENSIONS}
    malformed = [p for p in prefixes if not re.fullmatch(r"[A-H][0-9]{2}[A-Z]( [1-9][0-9]{0,3})?", p)]

    assert len(WIPO_CONCORDANCE) == 757  # rows in WIPO's table as transcribed
    assert malformed == []


def test_local_extensions_never_override_the_wipo_table():
    assert not set(LOCAL_EXTENSIONS) & set(WIPO_CONCORDANCE)
    subclasses_split_by_wipo = {k[:4] for k in WIPO_CONCORDANCE if " " in k}
    for prefix in LOCAL_EXTENSIONS:
        if " " not in prefix:
            assert prefix not in subclasses_split_by_wipo


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("H01M 10/0525", 1),
        ("F21V 8/00", 1),
        ("H02S 40/38", 1),
        ("G09G 3/32", 2),
        ("H04N 5/232", 2),
        ("H04N 19/503", 2),
        ("H04N 1/00", 3),
        ("H04B 7/06", 3),
        ("H04L 9/32", 4),
        ("H04N 21/4335", 4),
        ("H04W 72/04", 4),
        ("H03M 13/11", 5),
        ("G06F 3/0482", 6),
        ("G06N 3/08", 6),
        ("G10L 15/22", 6),
        ("G11C 11/16", 6),
        ("G06Q 10/06", 7),
        ("H01L 21/02", 8),
        ("G02B 6/12", 9),
        ("H01S 5/00", 9),
        ("G01N 21/01", 10),
        ("G01R 31/36", 10),
        ("G01N 33/53", 11),
        ("G05B 19/418", 12),
        ("A61B 5/00", 13),
        ("H05G 1/00", 13),
        ("A61K 8/02", 14),
        ("A61Q 19/00", 14),
        ("C07D 401/04", 14),
        ("C12N 15/11", 15),
        ("A61K 31/4025", 16),
        ("A61K 36/00", 16),
        ("A61K 9/20", 16),
        ("A61P 35/00", 16),
        ("C08L 23/06", 17),
        ("A23L 33/00", 18),
        ("C13B 10/00", 18),
        ("C09D 5/00", 19),
        ("C22C 38/00", 20),
        ("B32B 27/00", 21),
        ("B82Y 30/00", 22),
        ("B01D 61/00", 23),
        ("B01J 23/00", 23),
        ("B01D 53/00", 24),
        ("E01F 8/00", 24),
        ("C02F 1/00", 24),
        ("B65D 81/00", 25),
        ("B23K 26/00", 26),
        ("F02M 51/00", 27),
        ("D01F 6/00", 28),
        ("B29C 45/00", 29),
        ("B33Y 10/00", 29),
        ("C13B 5/00", 29),
        ("F24F 11/00", 30),
        ("F16H 57/00", 31),
        ("B60L 53/00", 32),
        ("A47J 31/00", 33),
        ("A24F 40/00", 34),
        ("E01F 9/00", 35),
        ("E04B 1/00", 35),
    ],
)
def test_ipc_codes_map_to_their_wipo_technology_field(code, field):
    result = classify_ipc(code)

    assert result is not None
    assert result.number == field


@pytest.mark.parametrize(
    ("code", "field"),
    [("A61K 8/02", 14), ("A61K 31/00", 16), ("H04N 21/00", 4), ("H04N 1/00", 3), ("G01N 33/00", 11)],
)
def test_main_group_entries_beat_the_rest_of_their_subclass(code, field):
    assert classify_ipc(code).number == field


@pytest.mark.parametrize("code", ["A61K", "H04N", "G01N", "B01D", "C13B", "E01F"])
def test_a_bare_subclass_that_wipo_splits_by_group_is_not_guessed(code):
    assert classify_ipc(code) is None


@pytest.mark.parametrize("code", ["A61K 40/00", "G01N 34/00", "H04N 99/00", "B01D 99/00"])
def test_a_group_missing_from_a_split_subclass_is_unknown(code):
    assert classify_ipc(code) is None


def test_a_subclass_that_wipo_does_not_split_classifies_without_a_group():
    assert classify_ipc("H01M").number == 1
    assert classify_ipc("g06q").number == 7


@pytest.mark.parametrize("code", ["", "garbage", "Z99Z 1/00", "H01M 10", "G16B 5/00", None, 42])
def test_unknown_or_invalid_codes_are_not_classified(code):
    assert classify_ipc(code) is None


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("F24S 10/00", 30),
        ("G06V 10/00", 6),
        ("G16H 50/20", 13),
        ("H10K 50/00", 8),
        ("H04N 23/60", 2),
        ("B64U 10/00", 32),
    ],
)
def test_newer_ipc_subclasses_are_classified_by_local_extensions(code, field):
    assert classify_ipc(code).number == field


@pytest.mark.parametrize(
    "raw", ["h01m10/0525", "H01M0010052500", "Ｈ０１Ｍ　１０／０５２５", "H01M 10/0525 (2010.01)"]
)
def test_classification_accepts_any_spelling_normalize_ipc_accepts(raw):
    assert classify_ipc(raw).number == 1


def test_classified_field_carries_its_sector():
    field = classify_ipc("A61K 31/00")

    assert field.name_zh == "药品"
    assert field.sector.key == "chemistry"
    assert field.sector.name_zh == "化学"


# --------------------------------------------------------------------------- bulk path


def expected_numbers(values: list) -> list:
    out = []
    for v in values:
        field = classify_ipc(v) if isinstance(v, str) else None
        out.append(pd.NA if field is None else field.number)
    return out


MIXED = [
    "H01M 10/0525",
    "A61K 8/02",
    "A61K 31/00",
    "A61K",
    "A61K 40/00",
    "H04N 21/4335",
    "h04n 21/4335",
    "H04N 021/4335",
    "H04N0021433500",
    "G06Q 10/00",
    "G06V 10/00",
    "H01M",
    "garbage",
    "",
    None,
    float("nan"),
    42,
]


def test_bulk_classification_agrees_with_classify_ipc():
    result = classify_series(pd.Series(MIXED * 3, dtype=object))

    assert result.dtype == "Int64"
    assert result.name == "wipo_field"
    assert [pd.NA if pd.isna(x) else int(x) for x in result] == expected_numbers(MIXED * 3)


def test_bulk_classification_keeps_the_index():
    s = pd.Series(["H01M 10/0525", None], index=["a", "b"])

    result = classify_series(s)

    assert list(result.index) == ["a", "b"]
    assert result["a"] == 1
    assert pd.isna(result["b"])


def test_bulk_classification_of_an_empty_series_is_empty():
    result = classify_series(pd.Series([], dtype=object))

    assert result.empty and result.dtype == "Int64"


_SUBCLASSES = sorted({k[:4] for k in {**WIPO_CONCORDANCE, **LOCAL_EXTENSIONS}}) + ["G16B", "Z99Z"]


@st.composite
def main_ipcs(draw) -> str:
    subclass = draw(st.sampled_from(_SUBCLASSES))
    group = draw(st.integers(0, 140))
    subgroup = f"{draw(st.integers(0, 9999)):02d}"
    text = draw(
        st.sampled_from([f"{subclass} {group}/{subgroup}", f"{subclass}{group}/{subgroup}", subclass])
    )
    return text.lower() if draw(st.integers(0, 4)) == 0 else text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(main_ipcs(), st.text(max_size=12), st.none()), min_size=1, max_size=30))
def test_bulk_classification_agrees_with_classify_ipc_on_generated_input(values):
    result = classify_series(pd.Series(values, dtype=object))

    assert [pd.NA if pd.isna(x) else int(x) for x in result] == expected_numbers(values)


@settings(max_examples=200, deadline=None)
@given(main_ipcs())
def test_classification_depends_only_on_the_canonical_symbol(raw):
    try:
        canonical = normalize_ipc(raw, allow_subclass=True)
    except ValueError:
        return
    assert classify_ipc(raw) == classify_ipc(canonical)
