"""The patent-inventory pages a holder uses, driven in headless Chromium: import, portfolio, patent page,
grade override, landscape and the privacy of another holder's patents."""

import re
from datetime import date

import pytest
from django.utils import translation
from playwright.sync_api import expect

from marketplace.parties.models import MembershipRole
from patents.inventory.services import patents_regrade
from patents.models import InventoryBatch, Patent
from tests.browser.flows import log_in
from tests.parties.factories import HolderFactory, MembershipFactory
from tests.patents.factories import PatentFactory, cn_application_number, inventory_csv, inventory_xlsx

BATCH_URL = re.compile(r"/inventory/batches/\d+/$")
PATENT_URL = re.compile(r"/portfolio/patents/\d+/$")


@pytest.fixture
def holder_admin(site):
    return MembershipFactory(organisation=HolderFactory(), role=MembershipRole.ADMIN)


def open_upload_page(page):
    """From anywhere: the Portfolio link in the header, then the portfolio's Import button."""
    page.click("header .nav-links a[href$='/portfolio/']")
    page.wait_for_url(re.compile(r"/portfolio/(\?.*)?$"))
    page.click("main a.button[href*='/inventory/import/']")
    page.wait_for_url(re.compile(r"/inventory/import/\?holder="))


def upload(page, path, *, partial=False):
    page.set_input_files("#id_file", str(path))
    if partial:
        page.check("#id_partial")
    page.click("main form.stacked button[type=submit]")
    page.wait_for_url(BATCH_URL)


def label(choice, lang):
    """A choice label as the page renders it in `lang` (whatever the catalogue translates it to)."""
    with translation.override(lang):
        return str(choice.label)


def rows(n, *, start=1, **changes):
    return [{"number": cn_application_number(start + i), "title": f"一种储能电池管理方法{start + i}", "kind": "发明",
             "filing_date": "2020-05-01", "grant_date": "2022-07-08", "ipc": "H01M 10/44;H02J 7/00",
             "claims_count": "12", **changes} for i in range(n)]


def test_a_holder_admin_imports_a_gbk_csv_with_chinese_headers_and_browses_the_graded_portfolio(
        site, page, holder_admin, tmp_path):
    holder = holder_admin.organisation
    data = rows(3)
    csv_file = tmp_path / "专利清单.csv"
    csv_file.write_bytes(inventory_csv(data, headers="zh", encoding="gbk"))

    log_in(page, site, holder_admin.user, lang="zh-hans")
    open_upload_page(page)
    upload(page, csv_file)

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "专利清单.csv" in page.locator("h1").inner_text()
    status = page.locator("#batch-status")
    expect(status.locator("[data-field=status_label]")).to_have_text(label(InventoryBatch.Status.SUCCEEDED, "zh-hans"))
    expect(status.locator("[data-field=created]")).to_have_text("3")
    expect(status.locator("[data-field=rejected]")).to_have_text("0")
    assert page.locator("table.errors").count() == 0

    page.click("main a[href*='/portfolio/?holder=']")
    page.wait_for_url(re.compile(r"/zh-hans/portfolio/\?holder="))
    grades = dict(Patent.objects.filter(holder=holder).values_list("number", "grade_computed"))
    assert sorted(grades) == sorted(r["number"] for r in data)
    table_rows = page.locator("table.portfolio tbody tr")
    expect(table_rows).to_have_count(3)
    for number, grade in grades.items():
        row = table_rows.filter(has=page.locator(f"code:text-is('{number}')"))
        expect(row.locator("span.badge[class*='grade-']")).to_have_text(grade)
        assert grade in "ABCD"

    number = data[0]["number"]
    page.click(f"table.portfolio a:has(code:text-is('{number}'))")
    page.wait_for_url(PATENT_URL)
    expect(page.locator("h1")).to_have_text(data[0]["title"])
    factors = page.locator("table.factors tbody tr")
    patent = Patent.objects.get(number=number)
    assert len(patent.grade_factors) >= 5
    expect(factors).to_have_count(len(patent.grade_factors))
    # In Chinese the factors carry their Chinese labels.
    expect(factors.first.locator("td").first).to_have_text("剩余保护期")
    expect(page.locator(".grade-card h2 .badge")).to_have_text(patent.grade)


def test_an_xlsx_with_a_bad_row_is_rejected_with_row_column_and_reason_then_a_fixed_file_imports(
        site, page_en, holder_admin, tmp_path):
    page = page_en
    holder = holder_admin.organisation
    good = [{"number": cn_application_number(i), "title": f"Battery management method {i}", "kind": "invention",
             "filing_date": date(2020, 5, 1), "grant_date": date(2022, 7, 8), "ipc": "H01M 10/44"}
            for i in (11, 12)]
    bad = [dict(good[0]), dict(good[1], grant_date=date(2019, 1, 1))]  # spreadsheet row 3: granted before filed
    bad_file = tmp_path / "inventory.xlsx"
    bad_file.write_bytes(inventory_xlsx(bad, headers="en"))

    log_in(page, site, holder_admin.user)
    open_upload_page(page)
    upload(page, bad_file)

    status = page.locator("#batch-status")
    expect(status.locator("[data-field=status_label]")).to_have_text("Rejected")
    expect(status.locator("[data-field=rejected]")).to_have_text("1")
    expect(status.locator("[data-field=created]")).to_have_text("0")
    expect(status.locator("[data-field=message]")).to_have_text("1 row(s) have errors; nothing was imported.")
    errors = page.locator("table.errors tbody tr")
    expect(errors).to_have_count(1)
    cells = errors.first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("grant date")  # the field's name, not the internal column (issue 20, defect 4)
    expect(cells.nth(2)).to_contain_text("2019-01-01")
    expect(cells.nth(3)).to_have_text("grant date is before the filing date")

    page.click("main a[href*='/portfolio/?holder=']")
    page.wait_for_url(re.compile(r"/en/portfolio/\?holder="))
    expect(page.locator(".portfolio-summary")).to_contain_text("0 patents")
    expect(page.locator("table.portfolio tbody tr")).to_have_count(1)
    expect(page.locator("table.portfolio tbody td.muted")).to_have_text("No patents match. Import your inventory to start.")
    assert not Patent.objects.filter(holder=holder).exists()

    fixed_file = tmp_path / "inventory-fixed.xlsx"
    fixed_file.write_bytes(inventory_xlsx(good, headers="en"))
    page.click("main a.button[href*='/inventory/import/']")
    page.wait_for_url(re.compile(r"/inventory/import/\?holder="))
    upload(page, fixed_file)
    expect(status.locator("[data-field=status_label]")).to_have_text("Imported")
    expect(status.locator("[data-field=created]")).to_have_text("2")
    expect(status.locator("[data-field=rejected]")).to_have_text("0")
    assert "inventory-fixed.xlsx" in page.locator("h1").inner_text()
    assert Patent.objects.filter(holder=holder).count() == 2


@pytest.fixture
def graded_patent(holder_admin):
    patent = PatentFactory(holder=holder_admin.organisation, title="Solid-state electrolyte membrane",
                           claims_count=3, grant_date=date(2023, 6, 20))
    patents_regrade(holder=holder_admin.organisation)
    patent.refresh_from_db()
    return patent


def test_the_holder_overrides_a_grade_with_a_reason_and_without_one_is_refused(
        site, page_en, holder_admin, graded_patent):
    page = page_en
    patent = graded_patent
    computed = patent.grade_computed
    new_grade = "A" if computed != "A" else "D"
    other_grade = next(g for g in "ABCD" if g not in (computed, new_grade))

    log_in(page, site, holder_admin.user)
    page.goto(f"{site.url}/en/portfolio/patents/{patent.pk}/")
    expect(page.locator(".grade-card h2 .badge")).to_have_text(computed)
    expect(page.locator("table.factors tbody tr").first.locator("td").first).to_have_text("Remaining life")

    page.select_option("#id_grade", new_grade)
    page.fill("#id_reason", "Core patent of our licensed battery line")
    page.click("button:has-text('Save grade')")
    page.wait_for_url(PATENT_URL)
    expect(page.locator("ul.messages li.success")).to_have_text("Grade saved.")
    expect(page.locator(".grade-card h2 .badge")).to_have_text(new_grade)
    card = page.locator(".grade-card > p").first
    expect(card).to_contain_text(f"Set by the holder: {new_grade}")
    expect(card.locator("em")).to_have_text("Core patent of our licensed battery line")
    expect(card).to_contain_text(f"Computed: {computed}")
    patent.refresh_from_db()
    assert (patent.grade_override, patent.grade_override_reason) == (new_grade, "Core patent of our licensed battery line")

    page.select_option("#id_grade", other_grade)
    page.fill("#id_reason", "")
    page.click("button:has-text('Save grade')")
    page.wait_for_url(PATENT_URL)
    expect(page.locator("ul.messages li.error")).to_have_text("Say why you set a different grade.")
    expect(page.locator("ul.messages li.success")).to_have_count(0)
    expect(page.locator(".grade-card h2 .badge")).to_have_text(new_grade)
    expect(card.locator("em")).to_have_text("Core patent of our licensed battery line")
    patent.refresh_from_db()
    assert (patent.grade_override, patent.grade_override_reason) == (new_grade, "Core patent of our licensed battery line")


def test_clicking_a_technology_field_bar_narrows_the_landscape(site, page_en, holder_admin):
    page = page_en
    holder = holder_admin.organisation
    PatentFactory.create_batch(2, holder=holder)  # H01M: field 1, electrical machinery
    PatentFactory(holder=holder, main_ipc="G06F 17/30", technology_field=6)  # computer technology
    PatentFactory(main_ipc="G06F 17/30", technology_field=6)  # another holder's: never on this landscape
    patents_regrade()

    log_in(page, site, holder_admin.user)
    page.click("header .nav-links a[href$='/portfolio/']")
    page.click("main a.button[href*='/navigation/']")
    page.wait_for_url(re.compile(rf"/en/navigation/{holder.slug}/$"))
    expect(page.locator(".landscape-total strong")).to_have_text("3")
    fields_chart = page.locator("#chart-technology_field")
    expect(fields_chart.locator("table.bars tbody tr")).to_have_count(2)
    assert page.locator(".landscape-charts section.chart").count() >= 5
    expect(page.locator("#chart-grade")).to_be_visible()
    # The widest bar is the biggest field; bars are drawn with a width proportional to the count.
    first = fields_chart.locator("tbody tr").first
    expect(first.locator("td.num")).to_have_text("2")
    # (set by our static script from data-bar-width: the Content-Security-Policy refuses inline styles)
    assert first.locator(".bar").evaluate("bar => bar.style.width") == "100%"
    assert fields_chart.locator("tbody tr").nth(1).locator(".bar").evaluate("bar => bar.style.width") == "50%"

    computer = fields_chart.locator("tbody tr", has_text="Computer technology")
    expect(computer.locator("td.num")).to_have_text("1")
    computer.locator("th a").click()
    page.wait_for_url(re.compile(r"[?&]technology_field=6(&|$)"))
    expect(page.locator(".landscape-total strong")).to_have_text("1")
    expect(fields_chart.locator("table.bars tbody tr")).to_have_count(1)
    expect(page.locator("select[name=technology_field]")).to_have_value("6")


def test_a_member_of_another_holder_gets_a_404_for_the_first_holders_patent(site, page_en, holder_admin):
    page = page_en
    patent = PatentFactory(holder=holder_admin.organisation, title="Confidential sodium-ion anode")
    stranger = MembershipFactory(organisation=HolderFactory(), role=MembershipRole.ADMIN)

    log_in(page, site, stranger.user)
    response = page.goto(f"{site.url}/en/portfolio/patents/{patent.pk}/")
    assert response.status == 404
    assert "Confidential sodium-ion anode" not in page.content()
    assert patent.number not in page.content()

    # Its own holder's admin sees it at the same address.
    page.context.clear_cookies()
    log_in(page, site, holder_admin.user)
    response = page.goto(f"{site.url}/en/portfolio/patents/{patent.pk}/")
    assert response.status == 200
    expect(page.locator("h1")).to_have_text("Confidential sodium-ion anode")


def test_the_batch_page_follows_a_queued_import_until_it_finishes(site, page_en, holder_admin):
    """The page of a batch still waiting for a worker polls its status and shows the outcome by itself."""
    from patents.inventory.services import inventory_batch_create, inventory_batch_run

    page = page_en
    batch = inventory_batch_create(holder=holder_admin.organisation, run_by=holder_admin.user, source="web",
                                   filename="queued.csv", content=inventory_csv(rows(2, start=40)), language="en")

    log_in(page, site, holder_admin.user)
    page.goto(f"{site.url}/en/inventory/batches/{batch.pk}/")
    status = page.locator("#batch-status")
    expect(status.locator("[data-field=status_label]")).to_have_text("Queued")
    assert status.get_attribute("data-finished") == "false"

    inventory_batch_run(batch=batch)  # what the worker does
    expect(status).to_have_attribute("data-finished", "true")  # the script reloaded the finished page
    expect(status.locator("[data-field=status_label]")).to_have_text("Imported")
    expect(status.locator("[data-field=created]")).to_have_text("2")
    expect(status.locator("[data-field=total]")).to_have_text("2")
    assert page.locator("progress[data-field=percent]").get_attribute("value") == "100"


def test_a_gbk_cnipa_export_with_designs_imports_whole_and_shows_the_locarno_class(site, page, holder_admin, tmp_path):
    from tests.patents.test_import_designs import cnipa_csv

    csv_file = tmp_path / "检索结果.csv"
    csv_file.write_bytes(cnipa_csv())  # GBK, CNIPA headers; designs under 主分类号 as 14-03(13), 06-01, 26-05(13)

    log_in(page, site, holder_admin.user, lang="zh-hans")
    open_upload_page(page)
    upload(page, csv_file)

    status = page.locator("#batch-status")
    expect(status.locator("[data-field=status_label]")).to_have_text(label(InventoryBatch.Status.SUCCEEDED, "zh-hans"))
    expect(status.locator("[data-field=created]")).to_have_text("6")
    expect(status.locator("[data-field=rejected]")).to_have_text("0")
    assert page.locator("table.errors").count() == 0

    phone = Patent.objects.get(holder=holder_admin.organisation, title="手机")
    page.goto(f"{site.url}/zh-hans/portfolio/patents/{phone.pk}/")
    expect(page.locator("h1")).to_have_text("手机")
    expect(page.locator("dl code").first).to_have_text("14-03")
