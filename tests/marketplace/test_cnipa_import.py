"""Importing CNIPA's announcements of open-licence declarations (tests/data/cnipa_open_licence_announcements.csv:
ten rows in CNIPA's column layout, GBK as CNIPA's site exports) as announced declarations and listings of
patents already in the inventory; bad rows named by row and reason, nothing written; the command."""

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from licensing.models import Declaration, DeclarationState, FeeForm, GazetteEntry
from marketplace.listings import services as listings
from marketplace.listings.cnipa_import import CnipaImportRefused, cnipa_announcements_import
from marketplace.models import PatentListingPage
from patents.models import Patent
from tests.licensing.factories import DeclarationFactory, LicenceTermsFactory, holder_admin
from tests.parties.factories import HolderFactory
from tests.patents.factories import PatentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Refusals are read in English here (a request's language would otherwise stay active in the thread)."""
    with translation.override("en"):
        yield

FILE = Path(__file__).resolve().parents[1] / "data" / "cnipa_open_licence_announcements.csv"
# The file's patents as the inventory stores them (canonical numbers), by patentee.
PATENTS = {
    "北京理工新能源大学": ["CN202010512345.0", "CN202110233456.2", "CN201910876543.2"],
    "江苏先进制造研究院": ["CN202010345678.9", "CN202210123987.0", "CN202110654321.3"],
    "浙江医药科技大学": ["CN201810998877.2", "CN202010112233.6", "CN202110445566.5", "CN202210778899.4"],
}


@pytest.fixture
def inventory(demo_pages):
    LicenceTermsFactory()
    patents = {}
    for name, numbers in PATENTS.items():
        holder = HolderFactory(name_zh=name, contact_email="tto@example.edu.cn")
        for number in numbers:
            filing = date(2020, 6, 1) if number == "CN202010345678.9" else date(2021, 3, 15)
            patents[number] = PatentFactory(number=number, number_original=number, holder=holder, filing_date=filing,
                                            annual_fees_paid_through=timezone.localdate() + timedelta(days=300))
    return patents


def test_the_realistic_file_becomes_announced_declarations_with_listings(inventory):
    result = cnipa_announcements_import(raw=FILE.read_bytes())
    assert (result.rows, result.created, result.announced, result.unchanged) == (10, 10, 0, 0)
    declarations = {d.patent.number: d for d in Declaration.objects.select_related("patent")}
    assert {d.state for d in declarations.values()} == {DeclarationState.ANNOUNCED}
    assert all(d.announcement_source == "cnipa_import" for d in declarations.values())
    first = declarations["CN202010512345.0"]  # ZL202010512345.0, 5万元, 一次性支付, 3年
    assert (first.fee_form, first.lump_sum_fen, first.duration_years) == (FeeForm.LUMP_SUM, 5_000_000, 3)
    assert (first.cnipa_number, first.announced_on, first.contact_name) == ("KFXK2025000101", date(2025, 3, 18), "王老师")
    assert first.contact_email == "tto@example.edu.cn" and first.contact_phone == "010-68912345"
    entry = declarations["CN201910876543.2"]  # ZL 2019 1 0876543.2: 入门费2万元，另按净销售额的2.5%提成; 2025年3月25日
    assert (entry.fee_form, entry.entry_fee_fen, entry.royalty_rate, entry.royalty_base) == (
        FeeForm.ENTRY_PLUS_ROYALTY, 2_000_000, Decimal("2.50"), "net_sales")
    assert entry.announced_on == date(2025, 3, 25)
    # 至专利权期满 from 2025-04-01: filed 2020-06-01, expires 2040-06-01: 15 whole years left.
    assert declarations["CN202010345678.9"].duration_years == 15
    profit = declarations["CN202210123987.0"]  # CN2022101239870 (no dot): 按利润的10%提成
    assert (profit.fee_form, profit.royalty_rate, profit.royalty_base) == (FeeForm.ROYALTY, Decimal("10.00"), "profit")
    minimum = declarations["CN202110654321.3"]  # 1.5% of net sales, at least 1万元 a year
    assert (minimum.royalty_rate, minimum.annual_minimum_fen) == (Decimal("1.50"), 1_000_000)
    assert declarations["CN201810998877.2"].lump_sum_fen == 30_000_000
    assert PatentListingPage.objects.filter(alias_of__isnull=True, live=True).count() == 10
    assert GazetteEntry.objects.filter(kind="publication").count() == 10
    assert all(p.declarations.get().is_statutory for p in inventory.values())


def test_a_declaration_filed_through_the_platform_gets_its_announcement_and_a_rerun_changes_nothing(inventory):
    patent = inventory["CN202110233456.2"]
    filed = listings.declaration_file(declaration=DeclarationFactory(patent=patent, holder=patent.holder),
                                      by=holder_admin(patent.holder))
    Declaration.objects.filter(pk=filed.pk).update(filed_at=filed.filed_at.replace(year=2025, month=3, day=1))
    first = cnipa_announcements_import(raw=FILE.read_bytes())
    assert (first.created, first.announced) == (9, 1)
    filed.refresh_from_db()
    assert (filed.state, filed.cnipa_number, filed.lump_sum_fen) == ("announced", "KFXK2025000102", 5_000_000)
    again = cnipa_announcements_import(raw=FILE.read_bytes())
    assert (again.created, again.announced, again.unchanged) == (0, 0, 10)
    assert Declaration.objects.count() == 10


def test_bad_rows_are_named_with_their_reason_and_nothing_is_written(inventory):
    text = FILE.read_bytes().decode("gbk").splitlines()
    text[2] = text[2].replace("北京理工新能源大学", "北京某某科技有限公司")  # row 2: another patentee
    text[5] = text[5].replace("CN2022101239870", "CN202210999999.1")  # row 5: a bad check digit
    text[7] = text[7].replace("ZL201810998877.2", "ZL201810998878.7")  # row 7: valid, but not in the inventory
    text[9] = text[9].replace("2025-05-20", "2025-13-40")  # row 9: no such date
    with pytest.raises(CnipaImportRefused) as refused:
        cnipa_announcements_import(raw="\r\n".join(text).encode("gbk"))
    named = [(e.row, e.column) for e in refused.value.errors]
    assert (2, "专利权人") in named and (5, "专利号") in named and (7, "专利号") in named and (9, "公告日") in named
    reasons = {(e.row, e.column): e.reason for e in refused.value.errors}
    assert "北京理工新能源大学" in reasons[(2, "专利权人")]
    assert reasons[(7, "专利号")] == "the patent CN201810998878.7 is not in the inventory"
    assert Declaration.objects.count() == 0 and not PatentListingPage.objects.exists()


def test_an_utf8_sig_file_reads_the_same_and_a_file_without_cnipas_columns_is_refused(inventory):
    utf8 = FILE.read_bytes().decode("gbk").encode("utf-8-sig")
    assert cnipa_announcements_import(raw=utf8).created == 10
    from licensing.declarations.cnipa_announcements import AnnouncementFileError

    with pytest.raises(AnnouncementFileError, match="公告日"):
        cnipa_announcements_import(raw="专利号,专利权人,许可使用费,许可使用费支付方式,许可期限,公告号\r\n".encode())


def test_the_command_reports_each_bad_row_and_imports_a_good_file(inventory, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(FILE.read_bytes().decode("gbk").replace(",5万元,", ",面议,").encode("gbk"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported: 1 problem"):
        call_command("import_cnipa_announcements", str(bad), "--no-progress", stdout=out)
    assert "row 1, 许可使用费" in out.getvalue()
    out = io.StringIO()
    call_command("import_cnipa_announcements", str(FILE), "--no-progress", stdout=out)
    assert "rows 10: 10 new announced declarations listed" in out.getvalue()


def test_the_ip_office_uploads_the_list_on_the_web_and_sees_bad_rows_others_get_403(client, inventory):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests.parties.factories import IPOfficeFactory, member

    url = reverse("cnipa_announcements_import")
    holder = Patent.objects.get(number="CN202010512345.0").holder
    client.force_login(holder_admin(holder))
    assert client.post(url, {"file": SimpleUploadedFile("cnipa.csv", FILE.read_bytes())}).status_code == 403
    assert not Declaration.objects.exists()
    client.force_login(member(IPOfficeFactory()))
    bad = FILE.read_bytes().decode("gbk").replace("KFXK2025000104", "KF").encode("gbk")
    refused = client.post(url, {"file": SimpleUploadedFile("cnipa.csv", bad)})
    assert refused.status_code == 400 and refused.context["errors"][0].row == 4
    assert refused.context["errors"][0].reason == "not a CNIPA announcement number"
    done = client.post(url, {"file": SimpleUploadedFile("cnipa.csv", FILE.read_bytes())})
    assert done.status_code == 200 and done.context["result"].created == 10
    assert Declaration.objects.filter(state="announced").count() == 10


def test_an_xlsx_list_in_cnipas_layout_reads_as_the_csv_does(inventory, tmp_path):
    import csv

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in csv.reader(io.StringIO(FILE.read_bytes().decode("gbk"))):
        sheet.append(row)
    sheet["I2"] = date(2025, 3, 18)  # Excel keeps dates as dates
    path = tmp_path / "cnipa.xlsx"
    workbook.save(path)
    result = cnipa_announcements_import(raw=path.read_bytes())
    assert result.created == 10
    assert Declaration.objects.get(patent__number="CN202010512345.0").announced_on == date(2025, 3, 18)
