"""The synthetic inventory generator: deterministic, valid for the real importer, realistic in its spread."""

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketplace.demo.synthetic import (
    CHINESE_HEADERS,
    COLUMNS,
    ENGLISH_TEXT_COLUMNS,
    check_chars,
    generate_inventory,
    to_chinese_headers,
    write_inventory_csv,
    write_inventory_xlsx,
)
from patents.inventory.fields import classify_series
from patents.inventory.importing import HEADER_ALIASES, map_headers, parse_co_owners, read_table, validate
from patents.inventory.ipc import normalize_ipc
from patents.inventory.numbers import cn_check_char
from patents.inventory.term import statutory_expiry_series

TODAY = date(2026, 3, 1)
CJK = r"[\u4e00-\u9fff]"
MAX_BYTES = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def frame():
    return generate_inventory(2000, seed=11, today=TODAY)


@pytest.fixture(scope="module")
def big():
    return generate_inventory(50_000, seed=5, today=TODAY)


def _validate(table: pd.DataFrame):
    return validate(map_headers(table), today=TODAY)


def _canonical(english_header: str) -> str:
    return next(column for column, aliases in HEADER_ALIASES.items() if english_header in aliases)


def test_same_seed_gives_the_same_frame_and_another_seed_a_different_one():
    first = generate_inventory(500, seed=3, today=TODAY)
    pd.testing.assert_frame_equal(first, generate_inventory(500, seed=3, today=TODAY))
    other = generate_inventory(500, seed=4, today=TODAY)
    assert (first["title"] != other["title"]).mean() > 0.5
    assert (first["filing_date"] != other["filing_date"]).mean() > 0.5


def test_columns_are_the_importers_english_headers_as_text(frame):
    assert list(frame.columns) == COLUMNS
    assert len({_canonical(column) for column in COLUMNS}) == len(COLUMNS)
    for column in COLUMNS:
        assert frame[column].map(type).eq(str).all(), column
    assert len(frame) == 2000


def test_every_row_passes_the_real_validator(frame):
    checked = _validate(frame)
    assert checked.errors.empty, checked.errors.head(10).to_dict("records")
    assert len(checked.rows) == len(frame)
    assert checked.rows["technology_field"][checked.rows["kind"] != "design"].notna().all()


def test_chinese_header_variant_passes_the_validator_with_the_same_meaning(frame):
    chinese = to_chinese_headers(frame)
    assert list(chinese.columns)[:4] == ["专利号", "专利名称", "专利类型", "申请日"]
    for english, header in CHINESE_HEADERS.items():
        assert header.lower() in {alias.lower() for alias in HEADER_ALIASES[_canonical(english)]}, (english, header)
    assert set(chinese["专利类型"]) == {"发明", "实用新型", "外观设计"}
    assert set(chinese["是否质押"]) <= {"是", "否"}
    checked, original = _validate(chinese), _validate(frame)
    assert checked.errors.empty, checked.errors.head(10).to_dict("records")
    for column in ("number", "kind", "legal_status", "evaluation_report", "pledged", "filing_date", "main_ipc"):
        pd.testing.assert_series_equal(checked.rows[column], original.rows[column])


def test_numbers_are_valid_unique_application_numbers_matching_kind_and_year(frame):
    numbers = frame["patent_number"]
    assert numbers.is_unique
    parts = numbers.str.extract(r"^(?P<year>\d{4})(?P<type>[123])(?P<serial>\d{7})\.(?P<check>[0-9X])$")
    assert parts.notna().all().all()
    bodies = parts["year"] + parts["type"] + parts["serial"]
    assert (parts["check"] == bodies.map(cn_check_char)).all()
    assert (parts["year"] == frame["filing_date"].str[:4]).all()
    assert (parts["type"].map({"1": "invention", "2": "utility_model", "3": "design"}) == frame["kind"]).all()
    assert (parts["serial"].astype(int) == np.arange(len(frame))).all()


def test_vectorised_check_characters_agree_with_cn_check_char():
    rng = np.random.default_rng(0)
    bodies = rng.integers(2003_1_0000000, 2099_3_9999999, 20_000)
    expected = [cn_check_char(str(b)) for b in bodies]
    assert check_chars(bodies).tolist() == expected
    assert "X" in expected


def test_calls_with_disjoint_serial_ranges_never_collide():
    a = generate_inventory(3000, seed=1, start_serial=0, today=TODAY)
    b = generate_inventory(3000, seed=1, start_serial=3000, today=TODAY)
    c = generate_inventory(3000, seed=2, start_serial=6000, today=TODAY)
    numbers = pd.concat([a["patent_number"], b["patent_number"], c["patent_number"]])
    assert numbers.is_unique
    assert b["patent_number"].str[5:12].astype(int).tolist() == list(range(3000, 6000))


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        generate_inventory(10, start_serial=9_999_995)
    with pytest.raises(ValueError):
        generate_inventory(10, start_serial=-1)
    with pytest.raises(ValueError):
        generate_inventory(10, language_mix=1.5)
    with pytest.raises(ValueError):
        generate_inventory(-1)
    empty = generate_inventory(0, today=TODAY)
    assert list(empty.columns) == COLUMNS and empty.empty


def test_dates_and_legal_status_are_consistent(frame):
    filing = pd.to_datetime(frame["filing_date"], format="%Y-%m-%d")
    grant = pd.to_datetime(frame["grant_date"].replace("", None), format="%Y-%m-%d")
    status = frame["legal_status"]
    assert filing.min() >= pd.Timestamp("2004-01-01")
    assert filing.max() <= pd.Timestamp(TODAY - timedelta(days=30))
    assert (grant.dropna() <= pd.Timestamp(TODAY)).all()
    assert (grant.dropna() >= filing[grant.notna()]).all()
    assert (grant.isna() == (status == "pending")).all()
    assert (filing[status == "pending"] >= pd.Timestamp(TODAY) - pd.DateOffset(years=6)).all()
    inventions = frame["kind"] == "invention"
    lag_years = (grant - filing).dt.days / 365.25
    assert lag_years[inventions].quantile(0.9) <= 4.0 and lag_years[inventions].min() >= 1.0
    extension = frame["term_extension_days"].astype(int)
    assert (extension[~inventions] == 0).all()
    expiry = statutory_expiry_series(frame["kind"], filing, extension)
    assert (expiry[status == "expired"] < pd.Timestamp(TODAY)).all()
    assert (expiry[status == "granted"] >= pd.Timestamp(TODAY)).all()
    assert (status[frame["pledged"] == "yes"] == "granted").all()
    reported = frame["evaluation_report"] != ""
    assert not (reported & inventions).any() and (status[reported] != "pending").all()


def test_ipc_codes_are_canonical_real_groups_and_designs_have_none(frame):
    designs = frame["kind"] == "design"
    assert (frame.loc[designs, "ipc"] == "").all()
    assert (frame.loc[~designs, "ipc"] != "").all()
    codes = {c for value in frame["ipc"] for c in value.split(";") if c}
    assert all(normalize_ipc(code) == code for code in codes)
    assert all(len(set(value.split(";"))) == len(value.split(";")) for value in frame["ipc"] if value)


def test_language_mix_sets_the_share_of_chinese_titles():
    chinese = generate_inventory(300, seed=2, today=TODAY, language_mix=1.0)
    assert chinese["title"].str.contains(CJK).all() and chinese["abstract"].str.contains(CJK).all()
    english = generate_inventory(300, seed=2, today=TODAY, language_mix=0.0)
    assert not english["title"].str.contains(CJK).any() and not english["abstract"].str.contains(CJK).any()
    assert english["title"].str.match(r"^[A-Z]").all()
    assert _validate(english).errors.empty


def test_english_text_gives_the_chinese_rows_their_english_title_and_abstract_and_changes_nothing_else():
    plain = generate_inventory(400, seed=2, today=TODAY)
    both = generate_inventory(400, seed=2, today=TODAY, english_text=True)
    assert list(both.columns) == COLUMNS + ENGLISH_TEXT_COLUMNS
    pd.testing.assert_frame_equal(both[COLUMNS], plain)  # the generator's draws are the same
    chinese = both["title"].str.contains(CJK)
    assert 0.5 < chinese.mean() < 0.9  # language_mix's default share
    for column in ENGLISH_TEXT_COLUMNS:
        assert (both.loc[chinese, column] != "").all() and not both[column].str.contains(CJK).any(), column
        assert (both.loc[~chinese, column] == "").all(), column  # an English patent's own text is English
    assert both.loc[chinese, "title_en"].str.match(r"^[A-Z]").all()
    table = map_headers(to_chinese_headers(both))
    assert {"title_en", "abstract_en"} <= set(table.columns)
    checked = validate(table, today=TODAY)
    assert checked.errors.empty
    assert (checked.rows["title_en"].to_numpy() == both["title_en"].to_numpy()).all()


def test_holder_names_are_the_co_owners():
    names = ["示范理工大学", "示范先进材料研究院", "深圳示范智能科技有限公司"]
    frame = generate_inventory(3000, seed=1, today=TODAY, holder_names=names)
    listed = frame["co_owners"][frame["co_owners"] != ""]
    assert 0.02 < len(listed) / len(frame) < 0.12
    owners = [owner for text in listed for owner in parse_co_owners(text)]
    assert {name for name, _ in owners} <= set(names)
    assert any(";" in text for text in listed)
    assert (generate_inventory(500, seed=1, today=TODAY, holder_names=[])["co_owners"] == "").all()
    single = generate_inventory(2000, seed=1, today=TODAY, holder_names=["唯一公司"])["co_owners"]
    assert not single.str.contains(";").any() and (single != "").any()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_files_read_back_through_the_importer(tmp_path, encoding):
    frame = generate_inventory(300, seed=8, today=TODAY)
    for variant in (frame, to_chinese_headers(frame)):
        path = write_inventory_csv(variant, tmp_path / f"inventory-{encoding}.csv", encoding=encoding)
        table = read_table(path.read_bytes(), filename=path.name, max_bytes=MAX_BYTES)
        assert list(table.columns) == list(variant.columns)
        assert (table.to_numpy() == variant.to_numpy()).all()
        assert _validate(table).errors.empty


def test_xlsx_file_reads_back_through_the_importer(tmp_path):
    frame = generate_inventory(200, seed=9, today=TODAY)
    expected = _validate(frame).rows
    for variant in (frame, to_chinese_headers(frame)):
        path = write_inventory_xlsx(variant, tmp_path / "inventory.xlsx")
        table = read_table(path.read_bytes(), filename=path.name, max_bytes=MAX_BYTES)
        assert isinstance(table.iloc[0][table.columns[3]], pd.Timestamp)  # real date cells
        checked = _validate(table)
        assert checked.errors.empty, checked.errors.head(10).to_dict("records")
        for column in ("number", "title", "kind", "filing_date", "grant_date", "claims_count", "legal_status",
                       "ipc_codes", "co_owners", "forward_citations"):
            assert checked.rows[column].tolist() == expected[column].tolist(), column


def test_search_terms_find_their_technology(frame):
    text = frame["title"] + " " + frame["abstract"]
    batteries = frame.loc[text.str.contains("电池|battery", case=False), "ipc"].str[:4]
    assert len(batteries) > 30
    assert batteries.isin(["H01M", "G01R", "C01G", "C01B", "H01L", "H10B", "H10K", "G01M", ""]).mean() > 0.95
    assert frame["title"].nunique() > 0.6 * len(frame)
    assert frame["abstract"].nunique() > 0.9 * len(frame)


def test_fifty_thousand_rows_have_a_realistic_spread(big):
    assert len(big) == 50_000 and big["patent_number"].is_unique
    assert _validate(big).errors.empty
    "\n".join(big["title"] + big["abstract"] + big["inventors"] + big["co_owners"]).encode("gbk")  # GBK CSVs work
    kinds = big["kind"].value_counts(normalize=True)
    assert abs(kinds["invention"] - 0.60) < 0.02
    assert abs(kinds["utility_model"] - 0.35) < 0.02
    assert abs(kinds["design"] - 0.05) < 0.01
    status = big["legal_status"].value_counts(normalize=True)
    assert status.idxmax() == "granted" and status["granted"] > 0.45
    assert set(status.index) == {"pending", "granted", "lapsed", "expired", "invalidated"}
    assert status["invalidated"] < 0.03
    citations = big["forward_citations"].astype(int)
    assert (citations <= 3).mean() > 0.8 and citations.max() >= 50
    assert (big["family_size"].astype(int) == 1).mean() > 0.8
    extension = big["term_extension_days"].astype(int)
    assert 0 < (extension > 0).mean() < 0.02
    assert 0 < (big["pledged"] == "yes").mean() < 0.05
    assert big["evaluation_report"].isin(["", "positive", "partial", "negative"]).all()
    assert 0 < (big["evaluation_report"] != "").mean() < 0.1
    assert abs(big["title"].str.contains(CJK).mean() - 0.7) < 0.02
    inventors = big["inventors"].str.split(";")
    assert inventors.map(len).between(1, 6).all()
    assert big["inventors"].str.contains(CJK).mean() > 0.8
    assert big["inventors"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+(;[A-Z][a-z]+ [A-Z][a-z]+)*|.*" + CJK + ".*").all()
    main_ipc = big["ipc"].str.split(";").str[0].replace("", None)
    fields = classify_series(main_ipc)
    assert fields[big["kind"] != "design"].notna().all()
    assert fields.nunique() >= 30
    assert re.fullmatch(r"[A-H]\d\d[A-Z] \d{1,4}/\d{2,6}", main_ipc.dropna().iloc[0])
