"""Tests for patents.inventory.locarno (design classes) and the Locarno -> technology field table."""

import pandas as pd
import pytest

from patents.inventory.fields import FIELDS_BY_NUMBER, LOCARNO_FIELDS, classify_locarno_series
from patents.inventory.locarno import (
    LocarnoError,
    locarno_class,
    normalize_locarno,
    normalize_locarno_series,
    parse_locarno_list,
)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("14-03", "14-03"),
    ("14-03(13)", "14-03"),  # as CNIPA prints it: edition in brackets
    ("26-05（13）", "26-05"),  # full-width brackets from a Chinese spreadsheet
    ("1403", "14-03"),
    ("8-05", "08-05"),  # WIPO writes the class without a leading zero
    ("06.04", "06-04"),  # EUIPO's spelling
    ("14 - 03", "14-03"),
    ("14－03", "14-03"),  # full-width hyphen
    ("LOC (13) Cl. 14-03", "14-03"),
    ("99-00", "99-00"),
])
def test_a_locarno_class_in_any_common_spelling_normalises_to_class_hyphen_subclass(raw, canonical):
    assert normalize_locarno(raw) == canonical


def test_a_list_keeps_the_main_class_first_and_reads_wipo_continued_subclasses():
    assert parse_locarno_list("LOC (13) Cl. 8-05, 08; 11-01") == ["08-05", "08-08", "11-01"]
    assert parse_locarno_list("14-03(13)；14-02(13)；14-03") == ["14-03", "14-02"]
    assert parse_locarno_list("") == [] and parse_locarno_list(None) == [] and parse_locarno_list(" (13) ") == []


@pytest.mark.parametrize(("raw", "message"), [
    ("33-01", "class must be 01-32 or 99, got '33'"),
    ("00-01", "class must be 01-32 or 99"),
    ("14-3", "subclass must be two digits"),
    ("14-003", "subclass must be two digits"),
    ("14", "has a class but no subclass"),
    ("H04M 1/02", "looks like an IPC symbol"),
    ("chair", "expected a Locarno class such as 14-03"),
    ("14-03;x", "item 2 ('X')"),
])
def test_malformed_locarno_classes_are_rejected_with_the_reason(raw, message):
    with pytest.raises(LocarnoError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_locarno_list(raw)


def test_normalize_locarno_wants_exactly_one_class_and_text():
    with pytest.raises(LocarnoError, match="expected one Locarno class, got 2"):
        normalize_locarno("14-03;14-02")
    with pytest.raises(LocarnoError, match="must be text"):
        normalize_locarno(1403)
    assert locarno_class("14-03(13)") == 14


def test_the_series_form_agrees_with_the_list_parser_row_by_row():
    values = ["14-03(13)", "", None, "33-01", "06-01;06-02", "14-03(13)"]
    frame = normalize_locarno_series(pd.Series(values, index=[5, 6, 7, 8, 9, 10]))
    assert list(frame.index) == [5, 6, 7, 8, 9, 10]
    for value, row in zip(values, frame.index, strict=True):
        out = {column: frame.at[row, column] for column in frame.columns}
        try:
            expected = parse_locarno_list(value)
        except LocarnoError as exc:
            assert (out["locarno_codes"], out["error"]) == (None, str(exc))
        else:
            assert (out["locarno_codes"], out["error"]) == (expected, None)
            assert out["main_locarno"] == (expected[0] if expected else None)


def test_designs_get_a_technology_field_only_where_their_class_has_one_counterpart():
    fields = classify_locarno_series(pd.Series(["06-01", "26-05", "14-03", "32-00", None], index=list("abcde")))
    assert fields.dtype == "Int64" and list(fields.index) == list("abcde")
    assert fields.tolist()[:2] == [33, 1]  # furnishing -> furniture, games; lighting -> F21's field
    assert fields.isna().tolist()[2:] == [True, True, True]  # 14 spans several fields, 32 has none


def test_the_locarno_table_names_real_classes_and_real_fields():
    assert set(LOCARNO_FIELDS) <= {*range(1, 33), 99}
    assert set(LOCARNO_FIELDS.values()) <= set(FIELDS_BY_NUMBER)
