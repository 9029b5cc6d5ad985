"""The inventory import service: reading every supported file form, canonicalising what it reads, and
rejecting bad rows and bad files with a reason that names the row and the column."""

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from patents.inventory.grading import FACTORS, grade_for_score
from patents.inventory.numbers import cn_check_char
from patents.inventory.services import inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch, Patent, PatentChange, PatentCoOwner
from tests.parties.factories import HolderFactory, OrganisationFactory
from tests.patents.factories import (
    EN_HEADERS,
    PatentFactory,
    cn_application_number,
    inventory_csv,
    inventory_xlsx,
)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 1, 1)
REAL_US_PATENTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "real_us_patents.csv"


@pytest.fixture
def holder():
    return HolderFactory()


def import_file(content: bytes, *, holder, filename: str = "inventory.csv", partial: bool = False,
                language: str = "en", **run_kwargs):
    batch = inventory_batch_create(holder=holder, run_by=None, source=InventoryBatch.Source.WEB, filename=filename,
                                   content=content, partial=partial, language=language)
    summary = inventory_batch_run(batch=batch, today=TODAY, **run_kwargs)
    batch.refresh_from_db()
    return batch, summary


def row(serial: int = 1, **values) -> dict:
    """A valid inventory row for a Chinese invention; keyword arguments override or add columns."""
    return {"number": cn_application_number(serial), "title": f"一种锂离子电池 {serial}", "kind": "invention",
            "filing_date": "2021-03-15", **values}


def the_error(batch: InventoryBatch) -> dict:
    assert len(batch.errors_preview) == 1, batch.errors_preview
    return batch.errors_preview[0]


def assert_row_rejected(batch, *, row: int, column: str, reason: str) -> None:
    error = the_error(batch)
    assert (error["row"], error["column"]) == (row, column), error
    assert reason in error["reason"], error
    assert batch.status == InventoryBatch.Status.REJECTED
    assert Patent.objects.count() == 0


def assert_file_rejected(batch, *, reason: str, column: str = "") -> None:
    error = the_error(batch)
    assert (error["row"], error["column"]) == (0, column), error
    assert reason in error["reason"], error
    assert batch.status == InventoryBatch.Status.REJECTED
    assert batch.message == error["reason"]
    assert Patent.objects.count() == 0


def error_report_rows(batch: InventoryBatch) -> list[dict]:
    with batch.error_report.open("rb") as f:
        return list(csv.DictReader(io.StringIO(f.read().decode("utf-8-sig"))))


# --------------------------------------------------------------------------- encodings and file forms


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_csv_is_read_in_each_supported_encoding(holder, encoding):
    content = inventory_csv([row(1, title="一种锂离子电池正极材料及其制备方法")], headers="zh", encoding=encoding)

    batch, summary = import_file(content, holder=holder)

    assert (summary.status, summary.created) == (InventoryBatch.Status.SUCCEEDED, 1), batch.errors_preview
    assert Patent.objects.get().title == "一种锂离子电池正极材料及其制备方法"


def test_a_utf8_bom_does_not_hide_the_first_header(holder):
    content = inventory_csv([row(1)], encoding="utf-8-sig")
    assert content.startswith(b"\xef\xbb\xbfpatent_number,")

    _batch, summary = import_file(content, holder=holder)

    assert summary.created == 1
    assert Patent.objects.get().number == cn_application_number(1)


def test_characters_only_gb18030_can_encode_survive_the_import(holder):
    title = "𠮷野家餐具的外观设计"  # U+20BB7 is outside GBK
    with pytest.raises(UnicodeEncodeError):
        title.encode("gbk")
    content = inventory_csv([row(1, title=title)], headers="zh", encoding="gb18030")

    _batch, summary = import_file(content, holder=holder)

    assert summary.created == 1
    assert Patent.objects.get().title == title


def test_an_xlsx_with_english_headers_and_real_excel_date_cells_is_imported(holder):
    content = inventory_xlsx([row(1, filing_date=date(2021, 3, 15), grant_date=datetime(2023, 6, 20),
                                  claims_count=12, ipc="H01M 10/0525")])
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["D2"].is_date and sheet["E2"].is_date  # the helper really writes date cells

    batch, summary = import_file(content, holder=holder, filename="inventory.xlsx")

    assert (summary.status, summary.created) == (InventoryBatch.Status.SUCCEEDED, 1), batch.errors_preview
    patent = Patent.objects.get()
    assert (patent.filing_date, patent.grant_date) == (date(2021, 3, 15), date(2023, 6, 20))
    assert patent.claims_count == 12
    assert patent.legal_status == "granted"  # no status column: a grant date means granted


def test_chinese_headers_and_chinese_values_are_understood(holder):
    content = inventory_csv([row(1, kind="发明", grant_date="2023-06-20", legal_status="有效", ipc="H01M 10/0525",
                                 inventors="张三、李四", pledged="是", evaluation_report="无", claims_count="8")],
                            headers="zh")

    batch, summary = import_file(content, holder=holder)

    assert summary.created == 1, batch.errors_preview
    patent = Patent.objects.get()
    assert (patent.kind, patent.legal_status, patent.pledged) == ("invention", "granted", True)
    assert patent.inventors == ["张三", "李四"]
    assert patent.claims_count == 8


def test_headers_match_regardless_of_case_spaces_and_underscores(holder):
    headers = {"number": "Patent Number", "title": " TITLE ", "kind": "patent type", "filing_date": "Filing_Date",
               "grant_date": "GRANT DATE", "ipc": "Ipc_Codes", "claims_count": "Claims Count"}
    content = inventory_csv([row(1, grant_date="2023-06-20", ipc="G06F 3/01", claims_count="5")], headers=headers)

    batch, summary = import_file(content, holder=holder)

    assert summary.created == 1, batch.errors_preview
    patent = Patent.objects.get()
    assert (patent.grant_date, patent.main_ipc, patent.claims_count) == (date(2023, 6, 20), "G06F 3/01", 5)


def test_unknown_columns_are_ignored(holder):
    _batch, summary = import_file(inventory_csv([row(1, **{"内部编号": "A-17", "notes": "x"})]), holder=holder)

    assert summary.created == 1


# CNIPA's export layout (专利检索及分析 / 审查信息查询): application and publication numbers side by side.
CNIPA_COLUMNS = ["申请号", "申请日", "公开（公告）号", "公开（公告）日", "发明名称", "专利类型", "主分类号",
                 "申请（专利权）人", "发明人", "授权公告号", "授权公告日", "法律状态"]


def cnipa_row(serial: int, **values) -> dict:
    """A row of a CNIPA export for a granted invention: published as A, granted as B under the same serial."""
    publication = f"CN11{serial:07d}"
    return {"申请号": cn_application_number(serial).removeprefix("CN"), "申请日": "2021.03.15",
            "公开（公告）号": f"{publication}A", "公开（公告）日": "2021.09.10", "发明名称": f"一种锂离子电池 {serial}",
            "专利类型": "发明", "主分类号": "H01M 10/0525", "申请（专利权）人": "甲大学", "发明人": "张三;李四",
            "授权公告号": f"{publication}B", "授权公告日": "2023.06.20", "法律状态": "有效", **values}


def test_a_cnipa_export_with_application_and_grant_numbers_is_keyed_on_the_application_number(holder):
    content = inventory_csv([cnipa_row(1), cnipa_row(2)], headers={}, columns=CNIPA_COLUMNS, encoding="gbk")
    assert content.decode("gbk").startswith("申请号,申请日,公开（公告）号")

    batch, summary = import_file(content, holder=holder)

    assert (summary.status, summary.created) == (InventoryBatch.Status.SUCCEEDED, 2), batch.errors_preview
    patent = Patent.objects.get(number=cn_application_number(1))
    assert patent.number_original == cn_application_number(1).removeprefix("CN")
    assert (patent.grant_date, patent.legal_status, patent.main_ipc) == (date(2023, 6, 20), "granted", "H01M 10/0525")


def test_a_grant_number_beside_the_application_number_is_ignored_even_when_malformed_or_empty(holder):
    content = inventory_csv([cnipa_row(1, 授权公告号="not a number"), cnipa_row(2, 授权公告号="")],
                            headers={}, columns=CNIPA_COLUMNS, encoding="gbk")

    batch, summary = import_file(content, holder=holder)

    assert summary.created == 2, batch.errors_preview


def test_reimporting_after_the_grant_updates_the_patent_instead_of_adding_one(holder):
    pending = cnipa_row(1, 授权公告号="", 授权公告日="", 法律状态="实质审查")
    import_file(inventory_csv([pending], headers={}, columns=CNIPA_COLUMNS, encoding="gbk"), holder=holder)

    batch, summary = import_file(inventory_csv([cnipa_row(1)], headers={}, columns=CNIPA_COLUMNS, encoding="gbk"),
                                 holder=holder)

    assert (summary.created, summary.updated) == (0, 1), batch.errors_preview
    assert Patent.objects.get().legal_status == "granted"


@pytest.mark.parametrize("header", ["授权公告号", "公开（公告）号", "公开号", "公告号", "publication_number"])
def test_a_publication_or_grant_number_is_the_key_when_the_file_has_no_application_number(holder, header):
    content = inventory_csv([{header: "CN113123456B", "title": "一种电池", "kind": "invention",
                              "filing_date": "2021-03-15"}], headers={}, encoding="gbk")

    batch, summary = import_file(content, holder=holder)

    assert summary.created == 1, batch.errors_preview
    assert Patent.objects.get().number == "CN113123456B"


def test_two_publication_number_columns_without_an_application_number_reject_the_file(holder):
    content = inventory_csv([{"公开（公告）号": "CN113123456A", "授权公告号": "CN113123456B", "title": "一种电池",
                              "kind": "invention", "filing_date": "2021-03-15"}], headers={}, encoding="gbk")

    batch, _summary = import_file(content, holder=holder)

    assert_file_rejected(batch, column="number", reason="are both patent numbers")


def test_two_application_number_columns_still_reject_the_file(holder):
    content = inventory_csv([row(1, 申请号=cn_application_number(1))], headers="zh")

    batch, _summary = import_file(content, holder=holder)

    assert_file_rejected(batch, column="number", reason="are both patent numbers")


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("written", ["2021-03-15", "2021/03/15", "2021.03.15", "20210315", "2021/3/15"])
def test_each_date_form_is_read(holder, written):
    batch, summary = import_file(inventory_csv([row(1, filing_date=written)]), holder=holder)

    assert summary.created == 1, batch.errors_preview
    assert Patent.objects.get().filing_date == date(2021, 3, 15)


def test_an_excel_date_cell_is_read_as_a_date(holder):
    content = inventory_xlsx([row(1, filing_date=datetime(2021, 3, 15), annual_fees_paid_through=date(2025, 3, 14))])

    _batch, summary = import_file(content, holder=holder, filename="inventory.xlsx")

    patent = Patent.objects.get()
    assert (patent.filing_date, patent.annual_fees_paid_through) == (date(2021, 3, 15), date(2025, 3, 14))


def test_the_check_digit_of_the_sample_application_number_is_7():
    assert cn_check_char("202110123456") == "7"


@pytest.mark.parametrize(("written", "canonical", "country"), [
    (f"202110123456.{cn_check_char('202110123456')}", "CN202110123456.7", "CN"),
    ("ZL 2021 1 0123456.7", "CN202110123456.7", "CN"),
    ("CN2021101234567", "CN202110123456.7", "CN"),
    ("ＣＮ２０２１１０１２３４５６．７", "CN202110123456.7", "CN"),  # typed with a Chinese input method
    ("CN112345678B", "CN112345678B", "CN"),
    ("US 8,926,509 B2", "US8926509B2", "US"),
    ("EP 1 234 567 B1", "EP1234567B1", "EP"),
])
def test_each_number_form_is_stored_canonically_with_the_original_kept(holder, written, canonical, country):
    batch, summary = import_file(inventory_csv([row(number=written)]), holder=holder)

    assert summary.created == 1, batch.errors_preview
    patent = Patent.objects.get()
    assert (patent.number, patent.country, patent.number_original) == (canonical, country, written)


def test_two_spellings_of_one_number_are_the_same_patent(holder):
    import_file(inventory_csv([row(number="202110123456.7", title="old")]), holder=holder)

    _batch, summary = import_file(inventory_csv([row(number="ZL 2021 1 0123456.7", title="old")]), holder=holder)

    assert (summary.created, summary.unchanged) == (0, 1)


def test_the_kind_may_be_left_empty_when_the_number_says_it(holder):
    content = inventory_csv([row(number="CN212345678U", kind="")])

    _batch, summary = import_file(content, holder=holder)

    assert Patent.objects.get().kind == "utility_model"


def test_ipc_codes_are_normalised_deduplicated_and_the_main_one_comes_first(holder):
    content = inventory_csv([row(1, ipc="g06f3/01；H01M0010052500, G06F 3/01 (2006.01)")])

    _batch, summary = import_file(content, holder=holder)

    patent = Patent.objects.get()
    assert patent.ipc_codes == ["G06F 3/01", "H01M 10/0525"]
    assert (patent.main_ipc, patent.ipc_subclass) == ("G06F 3/01", "G06F")


@pytest.mark.parametrize(("ipc", "field"), [("H01M 10/0525", 1), ("G06F 3/01; H01M 10/0525", 6),
                                            ("A61K 31/00", 16), ("", None)])
def test_the_technology_field_follows_the_main_ipc(holder, ipc, field):
    import_file(inventory_csv([row(1, ipc=ipc)]), holder=holder)

    assert Patent.objects.get().technology_field == field


@pytest.mark.parametrize(("kind", "type_digit_kind", "filed", "expiry"), [
    ("invention", "invention", "2021-03-15", date(2041, 3, 14)),
    ("utility model", "utility_model", "2021-03-15", date(2031, 3, 14)),
    ("design", "design", "2021-05-31", date(2031, 5, 30)),  # before the 2021 amendment: 10 years
    ("design", "design", "2021-06-01", date(2036, 5, 31)),  # on or after 2021-06-01: 15 years
])
def test_expiry_is_computed_by_statute(holder, kind, type_digit_kind, filed, expiry):
    content = inventory_csv([row(number=cn_application_number(1, kind=type_digit_kind), kind=kind, filing_date=filed)])

    batch, _summary = import_file(content, holder=holder)

    assert Patent.objects.get().expiry_date == expiry, batch.errors_preview


def test_an_invention_term_extension_lengthens_its_expiry(holder):
    import_file(inventory_csv([row(1, term_extension_days="100")]), holder=holder)

    patent = Patent.objects.get()
    assert (patent.term_extension_days, patent.expiry_date) == (100, date(2041, 3, 14) + timedelta(days=100))


def test_grades_are_computed_on_import_and_their_factors_stored(holder):
    strong = row(1, grant_date="2023-06-20", claims_count="25", forward_citations="30", family_size="8",
                 ipc="H01M 10/0525")
    weak = row(2, filing_date="2010-01-05", legal_status="lapsed")

    import_file(inventory_csv([strong, weak]), holder=holder)

    strong_patent, weak_patent = Patent.objects.get(number=strong["number"]), Patent.objects.get(number=weak["number"])
    for patent in (strong_patent, weak_patent):
        assert patent.graded_at is not None
        assert patent.grade_computed == grade_for_score(patent.grade_score)
        assert set(patent.grade_factors) == {f.key for f in FACTORS} - {"demand"}  # no demand data yet
    assert strong_patent.grade_computed == "A"
    assert weak_patent.grade_score < strong_patent.grade_score
    assert strong_patent.grade_factors["claims"]["value"] == 1.0
    assert weak_patent.grade_factors["legal_status"]["value"] == 0.0


def test_co_owners_are_stored_with_their_shares_and_linked_to_a_known_organisation(holder):
    partner = OrganisationFactory(name_zh="深圳乙科技有限公司")
    content = inventory_csv([row(1, co_owners="甲大学:60；深圳乙科技有限公司(40%)")])

    import_file(content, holder=holder)

    owners = {o.name: o for o in PatentCoOwner.objects.all()}
    assert {name: o.share_percent for name, o in owners.items()} == {"甲大学": 60, "深圳乙科技有限公司": 40}
    assert owners["深圳乙科技有限公司"].organisation == partner
    assert owners["甲大学"].organisation is None


def test_co_owner_shares_are_kept_to_two_decimals_so_a_reimport_is_unchanged(holder):
    content = inventory_csv([row(1, co_owners="甲大学:33.333;乙公司:33.333;丙研究院")])
    import_file(content, holder=holder)

    _batch, summary = import_file(content, holder=holder)

    assert (summary.updated, summary.unchanged) == (0, 1)
    assert sorted(PatentCoOwner.objects.values_list("share_percent", flat=True), key=str) == [
        Decimal("33.33"), Decimal("33.33"), None]


def test_a_changed_co_owner_share_is_an_audited_update(holder):
    import_file(inventory_csv([row(1, co_owners="甲大学:60;乙公司:40")]), holder=holder)

    _batch, summary = import_file(inventory_csv([row(1, co_owners="甲大学:50;乙公司:50")]), holder=holder)

    assert summary.updated == 1
    assert PatentChange.objects.get(action=PatentChange.Action.IMPORT_UPDATE).changes == {
        "co_owners": [None, [["甲大学", "50.00"], ["乙公司", "50.00"]]]}
    assert set(PatentCoOwner.objects.values_list("share_percent", flat=True)) == {Decimal("50")}


# --------------------------------------------------------------------------- rejected rows


def test_a_number_twice_in_one_file_is_a_duplicate_of_the_first_row(holder):
    content = inventory_csv([row(1), row(2), row(number="ZL 2021 1 0000001." + cn_check_char("202110000001"))])

    batch, _summary = import_file(content, holder=holder)

    assert_row_rejected(batch, row=4, column="number", reason="duplicate of row 2")


def test_a_number_in_another_holders_inventory_is_rejected(holder):
    other = HolderFactory()
    theirs = PatentFactory(holder=other, number=cn_application_number(1), title="theirs")

    batch, _summary = import_file(inventory_csv([row(1, title="mine")]), holder=holder)

    error = the_error(batch)
    assert (error["row"], error["column"]) == (2, "number")
    assert "already in another holder's inventory" in error["reason"]
    theirs.refresh_from_db()
    assert (theirs.holder, theirs.title) == (other, "theirs")
    assert batch.status == InventoryBatch.Status.REJECTED
    assert not Patent.objects.filter(holder=holder).exists()


def test_a_grant_before_the_filing_date_is_rejected(holder):
    batch, _summary = import_file(inventory_csv([row(1, grant_date="2021-03-14")]), holder=holder)

    assert_row_rejected(batch, row=2, column="grant_date", reason="grant date is before the filing date")


def test_an_unknown_kind_is_rejected(holder):
    batch, _summary = import_file(inventory_csv([row(1), row(2, kind="plant patent")]), holder=holder)

    assert_row_rejected(batch, row=3, column="kind", reason="unknown kind")


def test_a_kind_contradicting_the_number_is_rejected(holder):
    content = inventory_csv([row(number=cn_application_number(1, kind="utility_model"), kind="发明")])

    batch, _summary = import_file(content, holder=holder)

    assert_row_rejected(batch, row=2, column="kind", reason="kind contradicts the patent number")
    assert "utility model" in the_error(batch)["reason"]


def test_a_malformed_ipc_is_rejected(holder):
    batch, _summary = import_file(inventory_csv([row(1, ipc="H01M 10/0525; H01M 10")]), holder=holder)

    assert_row_rejected(batch, row=2, column="ipc", reason="malformed IPC")
    assert "item 2" in the_error(batch)["reason"]


@pytest.mark.parametrize("written", ["2021-02-30", "15/03/2021", "next spring"])
def test_a_bad_date_is_rejected(holder, written):
    batch, _summary = import_file(inventory_csv([row(1, filing_date=written)]), holder=holder)

    assert_row_rejected(batch, row=2, column="filing_date", reason="not a date")
    assert the_error(batch)["value"] == written


def test_co_owner_shares_over_100_percent_are_rejected(holder):
    batch, _summary = import_file(inventory_csv([row(1, co_owners="甲大学:60;乙公司:50")]), holder=holder)

    assert_row_rejected(batch, row=2, column="co_owners", reason="more than 100%")


def test_a_negative_claims_count_is_rejected(holder):
    batch, _summary = import_file(inventory_csv([row(1, claims_count="-3")]), holder=holder)

    assert_row_rejected(batch, row=2, column="claims_count", reason="claims count must be a whole number")


@pytest.mark.parametrize("filename", ["inventory.csv", "inventory.xlsx"])
def test_row_numbers_count_the_blank_rows_the_user_sees(holder, filename):
    rows = [row(1), {}, {}, row(2, filing_date="2021-02-30")]
    content = inventory_xlsx(rows) if filename.endswith("xlsx") else inventory_csv(rows)
    assert filename.endswith("xlsx") or b"\r\n,,,\r\n" in content  # a line of bare separators

    batch, _summary = import_file(content, holder=holder, filename=filename)

    assert_row_rejected(batch, row=5, column="filing_date", reason="not a date")


# --------------------------------------------------------------------------- rejected files


def test_a_missing_required_column_rejects_the_file(holder):
    content = inventory_csv([{"number": cn_application_number(1), "title": "t", "kind": "invention"}])

    batch, _summary = import_file(content, holder=holder)

    assert_file_rejected(batch, column="filing_date", reason="Required column(s) missing")


@pytest.mark.parametrize("content", [b"", b" \r\n\r\n"])
def test_an_empty_file_is_rejected(holder, content):
    batch, _summary = import_file(content, holder=holder)

    assert_file_rejected(batch, reason="The file is empty")


@pytest.mark.parametrize("filename", ["inventory.csv", "inventory.xlsx"])
def test_a_header_only_file_is_rejected(holder, filename):
    columns = ["number", "title", "kind", "filing_date"]
    content = inventory_xlsx([], columns=columns) if filename.endswith("xlsx") else inventory_csv([], columns=columns)

    batch, _summary = import_file(content, holder=holder, filename=filename)

    assert_file_rejected(batch, reason="header but no data rows")


def test_a_file_over_the_size_limit_is_rejected(holder):
    content = inventory_csv([row(n) for n in range(1, 20)])

    batch, _summary = import_file(content, holder=holder, max_bytes=len(content) - 1)

    assert_file_rejected(batch, reason="over the limit")


@pytest.mark.parametrize(("content", "reason"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4, "not a spreadsheet"),
    (bytes((i * 37 + 11) % 256 for i in range(4096)), "not a spreadsheet"),
    (b"Dear colleagues\nplease find our patents attached\n", "not a spreadsheet"),
])
def test_a_file_that_is_not_a_spreadsheet_is_rejected(holder, content, reason):
    batch, _summary = import_file(content, holder=holder)

    assert_file_rejected(batch, reason=reason)


def test_text_in_no_supported_encoding_is_rejected(holder):
    content = b"patent_number,title,kind,filing_date\n" + b"\xff\xfe\x80\x80,t,invention,2021-03-15\n"

    batch, _summary = import_file(content, holder=holder)

    assert_file_rejected(batch, reason="neither UTF-8 nor GBK/GB18030")


def test_a_legacy_xls_file_is_rejected_by_its_signature(holder):
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504

    batch, _summary = import_file(content, holder=holder, filename="inventory.xls")

    assert_file_rejected(batch, reason="Old Excel .xls files are not supported")


def test_an_xlsx_zip_bomb_is_refused_before_it_is_expanded(holder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    content = buffer.getvalue()
    assert len(content) * 200 < 20 * 1024 * 1024

    batch, _summary = import_file(content, holder=holder, filename="inventory.xlsx")

    assert_file_rejected(batch, reason="zip bomb")


def test_a_zip_that_is_not_a_workbook_is_rejected(holder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    batch, _summary = import_file(buffer.getvalue(), holder=holder, filename="inventory.xlsx")

    assert_file_rejected(batch, reason="not an XLSX workbook")


@pytest.mark.parametrize("filename", ["inventory.csv", "inventory.xlsx"])
def test_more_than_200_columns_are_refused(holder, filename):
    wide = row(1, **{f"extra {i}": "x" for i in range(197)})
    assert len(wide) == 201
    content = inventory_xlsx([wide]) if filename.endswith("xlsx") else inventory_csv([wide])

    batch, _summary = import_file(content, holder=holder, filename=filename)

    assert_file_rejected(batch, reason="201 columns")


# --------------------------------------------------------------------------- all or nothing, partial, upserts


def test_one_bad_row_rejects_the_whole_file_and_reports_it(holder):
    content = inventory_csv([row(1), row(2, filing_date="2021-13-01"), row(3)])

    batch, summary = import_file(content, holder=holder)

    assert Patent.objects.count() == 0
    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.REJECTED, 0, 1)
    assert "nothing was imported" in batch.message
    assert Path(summary.error_report_path).is_file()
    assert error_report_rows(batch) == [{"row": "3", "column": "filing_date", "value": "2021-13-01",
                                         "reason": "not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"}]


def test_partial_imports_the_valid_rows_and_counts_the_rejected_ones(holder):
    content = inventory_csv([row(1), row(2, filing_date="2021-13-01"), row(3), row(4, kind="plant")])

    batch, summary = import_file(content, holder=holder, partial=True)

    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.SUCCEEDED, 2, 2)
    assert set(Patent.objects.values_list("number", flat=True)) == {cn_application_number(1), cn_application_number(3)}
    assert {r["row"] for r in error_report_rows(batch)} == {"3", "5"}
    assert "2 row(s) rejected" in batch.message


def test_partial_with_every_row_bad_writes_nothing_and_still_succeeds(holder):
    content = inventory_csv([row(1, filing_date="x"), row(2, kind="plant")])

    _batch, summary = import_file(content, holder=holder, partial=True)

    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.SUCCEEDED, 0, 2)
    assert Patent.objects.count() == 0


def full_row(serial: int, **values) -> dict:
    """A row with every column the importer reads."""
    return {**row(serial, grant_date="2023-06-20", ipc="H01M 10/0525; G06F 3/01", abstract="摘要", claims_count="10",
                  legal_status="granted", inventors="张三;李四", co_owners="甲大学:30",
                  annual_fees_paid_through="2025-03-14", family_size="3", forward_citations="4", evaluation_report="",
                  pledged="no", exclusive_licence_in_force="no", term_extension_days="0"), **values}


@pytest.mark.parametrize("filename", ["inventory.csv", "inventory.xlsx"])
def test_importing_the_same_file_again_changes_nothing(holder, filename):
    rows = [full_row(1), full_row(2), row(3)]
    content = inventory_xlsx(rows) if filename.endswith("xlsx") else inventory_csv(rows)
    import_file(content, holder=holder, filename=filename)
    changes = PatentChange.objects.count()

    _batch, summary = import_file(content, holder=holder, filename=filename)

    assert (summary.created, summary.updated, summary.unchanged, summary.rejected) == (0, 0, 3, 0)
    assert PatentChange.objects.count() == changes == 3
    assert set(PatentChange.objects.values_list("action", flat=True)) == {PatentChange.Action.IMPORT_CREATE}


def test_reimporting_with_a_changed_title_updates_that_patent_and_audits_the_change(holder):
    first, _summary = import_file(inventory_csv([full_row(1, title="旧名称"), full_row(2)]), holder=holder)

    batch, summary = import_file(inventory_csv([full_row(1, title="新名称"), full_row(2)]), holder=holder)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    patent = Patent.objects.get(number=cn_application_number(1))
    assert (patent.title, patent.last_batch) == ("新名称", batch)
    change = PatentChange.objects.get(action=PatentChange.Action.IMPORT_UPDATE)
    assert (change.patent, change.batch, change.changes) == (patent, batch, {"title": ["旧名称", "新名称"]})
    assert Patent.objects.get(number=cn_application_number(2)).last_batch == first


def test_a_column_left_out_of_a_reimport_keeps_its_stored_values(holder):
    import_file(inventory_csv([full_row(1, legal_status="lapsed")]), holder=holder)

    _batch, summary = import_file(inventory_csv([row(1, grant_date="2023-06-20")]), holder=holder)

    assert summary.unchanged == 1
    patent = Patent.objects.get()
    assert (patent.claims_count, patent.main_ipc, patent.abstract) == (10, "H01M 10/0525", "摘要")
    assert patent.legal_status == "lapsed"  # not re-derived from the grant date: the file had no status column
    assert patent.co_owners.get().name == "甲大学"


def test_a_formula_in_a_bad_cell_is_neutralised_in_the_error_report(holder):
    formula = '=HYPERLINK("http://evil.example/","click")'
    batch, _summary = import_file(inventory_csv([row(1, kind=formula)]), holder=holder)

    (report_row,) = error_report_rows(batch)
    assert report_row["value"] == "'" + formula
    assert report_row["row"] == "2"


# --------------------------------------------------------------------------- language


def test_an_english_batch_gives_english_reasons_whatever_language_is_active(holder):
    with translation.override("zh-hans"):
        batch, _summary = import_file(inventory_csv([row(1), row(1)]), holder=holder, language="en")

    assert the_error(batch)["reason"] == "duplicate of row 2"
    assert batch.message == "1 row(s) have errors; nothing was imported."


def test_a_chinese_batch_gives_chinese_reasons_where_the_catalog_has_them(holder):
    with translation.override("zh-hans"):
        translated = gettext("duplicate of row %(row)s")
    if translated == "duplicate of row %(row)s":
        pytest.skip("the Chinese catalog has no translation of the import messages yet")

    batch, _summary = import_file(inventory_csv([row(1), row(1)]), holder=holder, language="zh-hans")

    assert the_error(batch)["reason"] == translated % {"row": 2}


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(not REAL_US_PATENTS.is_file(), reason="the shared real US patents sample is not present")
def test_the_shared_sample_of_real_us_patents_imports_completely(holder):
    batch, summary = import_file(REAL_US_PATENTS.read_bytes(), holder=holder, filename=REAL_US_PATENTS.name)

    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.SUCCEEDED, 17, 0), \
        batch.errors_preview
    assert set(Patent.objects.values_list("country", flat=True)) == {"US"}
    assert Patent.objects.get(number="US8926509B2").main_ipc == "A61B 5/00"


def test_the_english_test_headers_are_all_accepted_aliases():
    from patents.inventory.importing import HEADER_ALIASES

    assert set(EN_HEADERS) == set(HEADER_ALIASES)
