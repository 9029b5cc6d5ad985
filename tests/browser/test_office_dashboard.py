"""The IP office's deal-rate dashboard on the demo data, driven in headless Chromium as issue 7's acceptance reads:
the quick-licence deal rate and its breakdowns, a drill-down to the declarations behind a row, and the tables
exported as CSV and XLSX whose figures are the page's."""

import csv
import io
import re
from datetime import datetime, time
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from licensing.models import Declaration, DeclarationState
from licensing.models.licences import Licence, LicenceState
from tests.browser.flows import log_in

DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo_site(site):
    call_command("seed_demo", verbosity=0)
    return site


def test_the_ip_office_reads_the_deal_rate_drills_down_and_exports_the_tables(demo_site, page_en):
    page, site = page_en, demo_site
    # Declarations published in the period (the last twelve months), including those withdrawn since (the demo
    # withdraws some); with DEMO_HISTORY the demo's history reaches further back.
    since = timezone.make_aware(datetime.combine(timezone.localdate().replace(day=1) - relativedelta(months=11), time()))
    published = Declaration.objects.filter(filed_at__gte=since).count()
    assert Declaration.objects.filter(state=DeclarationState.WITHDRAWN).exists()
    licences = Licence.objects.filter(state=LicenceState.ACTIVE, activated_at__gte=since).count()
    assert published > 0 and licences > 0

    log_in(page, site, "ipoffice@demo.test", password=DEMO_PASSWORD)
    page.goto(f"{site.url}/en/office/statistics/")

    headline = page.locator(".deal-rate .headline")
    expect(headline).to_have_text(re.compile(r"^\d+(\.\d+)?\s?%$"))
    expect(page.locator(".deal-rate .definition")).to_contain_text("at least one licence within 90 days")
    figures = page.locator("#figures")
    expect(figures.locator("td[data-figure=declarations_published]")).to_have_text(str(published))
    expect(figures.locator("td[data-figure=licences_concluded]")).to_have_text(str(licences))

    # Break down by fee form: the rows' declarations add up to the total, and a row drills down to its list.
    page.select_option("#id_by", "fee_form")
    page.click("#statistics-filters button[type=submit]")
    page.wait_for_url(re.compile(r"by=fee_form"))
    rows = page.locator("#breakdown tbody tr")
    counts = [int(t) for t in rows.locator("td[data-figure=declarations_published]").all_inner_texts()]
    assert sum(counts) == published and len(counts) >= 2
    first = rows.first
    expected = int(first.locator("td[data-figure=declarations_published]").inner_text())
    first.locator("th a").click()
    page.wait_for_url(re.compile(r"/en/office/statistics/declarations/\?"))
    expect(page.locator("table.data tbody tr")).to_have_count(expected)
    page.go_back()

    # The breakdown as CSV has the page's rows; the XLSX has all three tables.
    with page.expect_download() as download:
        page.click("#breakdown caption a:has-text('CSV')")
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(table) == len(counts)
    assert sorted(int(r["declarations_published"]) for r in table) == sorted(counts)
    with page.expect_download() as download:
        page.click("#figures caption a:has-text('XLSX')")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    assert {"figures", "breakdown", "trend"} <= set(workbook.sheetnames)


def test_the_ip_office_reads_the_issue_19_indicators_on_the_demo_data(demo_site, page_en):
    """The demo seeds what the new indicators need (marketplace.demo.seed.seed_office_figures): a patent with two
    licensees, a recorded licence, a withdrawal reason shared by two declarations, licensees of two sizes in and
    out of the home province, a voucher issued and a licence fee it paid (the voucher share of the licence value)."""
    page, site = page_en, demo_site
    log_in(page, site, "ipoffice@demo.test", password=DEMO_PASSWORD)
    page.goto(f"{site.url}/en/office/statistics/")
    figures = page.locator("#figures")
    expect(figures.locator("td[data-figure=vouchers_issued]")).to_have_text("1")
    expect(figures.locator("td[data-figure=multi_licensee_share]")).not_to_have_text("—")
    expect(figures.locator("td[data-figure=deal_rate_recorded]")).not_to_have_text("—")
    for name in ("deal_rate_announced", "deal_rate_announced_recorded", "voucher_share_of_fee_volume"):
        expect(figures.locator(f"td[data-figure={name}]")).not_to_have_text(re.compile(r"^(—|0(\.0)?\s?%)$"))
    expect(page.locator("#league tbody tr")).to_have_count(2)  # the demo university and institute
    expect(page.locator("#flows tbody tr").first).to_contain_text("浙江省")
    expect(page.locator("#withdrawals td[data-figure=withdrawals]").first).to_have_text("2")
    expect(page.locator("#funnel tr[data-holder=all] td[data-figure=inventoried]")).to_have_text("500")
    page.select_option("#id_by", "licensee_size")
    page.click("#statistics-filters button[type=submit]")
    page.wait_for_url(re.compile(r"by=licensee_size"))
    expect(page.locator("#breakdown tbody tr")).to_have_count(2)  # medium (demo-company) and small (demo-startup)
    with page.expect_download() as download:
        page.click("#figures caption a:has-text('XLSX')")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    assert {"league", "flows", "funnel", "withdrawals"} <= set(workbook.sheetnames)
    values = {row[0]: row[2] for row in workbook["figures"].iter_rows(min_row=2, values_only=True)}
    assert values["vouchers_issued_yuan"] == 50000 and "fee_volume_fen" not in values
