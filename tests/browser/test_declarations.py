"""Open-licence declarations driven in headless Chromium, as the issue's acceptance reads: a holder declares a
granted patent on a royalty form and sees it filed at CNIPA (issue 19: only CNIPA announces, so the gazette
stays empty until its announcement is recorded); declaring an expired patent, a design without an
evaluation report and a patent under an exclusive licence gives one clear refusal each; a withdrawal is
filed and then CNIPA's announcement of it recorded and mirrored in the gazette. Also the licensee's cost
calculator and the fixed-fee cap."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from licensing.declarations.services import declaration_file, declaration_record_announcement
from licensing.models import Declaration, DeclarationState, FeeForm, GazetteEntry, RoyaltyBase
from marketplace.parties.models import MembershipRole
from patents.models import LegalStatus, PatentKind
from tests.browser.flows import log_in
from tests.licensing.factories import DeclarationFactory, LicenceTermsFactory
from tests.parties.factories import HolderFactory, MembershipFactory
from tests.patents.factories import PatentFactory

DECLARATION_URL = re.compile(r"/en/declarations/\d+/(\?.*)?$")


@pytest.fixture
def admin(site):
    """An administrator of a holder, with live standard terms to declare on."""
    LicenceTermsFactory()
    return MembershipFactory(organisation=HolderFactory(), role=MembershipRole.ADMIN)


def eligible(holder, **kwargs):
    kwargs.setdefault("annual_fees_paid_through", timezone.localdate() + timedelta(days=365))
    return PatentFactory(holder=holder, **kwargs)


def declare_from_portfolio(page, patents):
    """The header's Portfolio link, tick each patent, then the bulk button."""
    page.click("header .nav-links a[href$='/portfolio/']")
    page.wait_for_url(re.compile(r"/en/portfolio/(\?.*)?$"))
    for patent in patents:
        page.check(f"table.portfolio input[name=selected][aria-label='{patent.number}']")
    page.click("button:has-text('Declare selected for open licence')")
    page.wait_for_url(re.compile(r"/en/declarations/new/$"))
    expect(page.locator("h1")).to_contain_text("Declare open licence")
    expect(page.locator("ul.declare-patents li")).to_have_count(len(patents))


def fill_content(page):
    """What Regulations art. 85 / Guidelines 3.3 ask beside the fee (issue 19): its basis and the commitment."""
    page.fill("#id_fee_basis_statement", "参照同领域已备案许可合同的许可费确定。")
    page.check("#id_conditions_commitment")


def fill_lump_sum(page, amount):
    page.check("input[name=fee_form][value=lump_sum]")
    page.fill("#id_lump_sum", str(amount))
    page.fill("#id_duration_years", "3")
    fill_content(page)


def publish(page):
    page.click("button[name=action][value=file]")
    page.wait_for_url(re.compile(r"/en/declarations/new/$"))
    expect(page.locator("h1")).to_have_text("Declaration results")


def result_row(page, patent):
    return page.locator("table.declare-results tbody tr").filter(has=page.locator(f"code:text-is('{patent.number}')"))


def published_royalty_declaration(holder=None):
    """A royalty of 3% of net sales, at least RMB 10,000 a year, for 3 years, already in the gazette."""
    patent = eligible(holder or HolderFactory())
    draft = DeclarationFactory(patent=patent, fee_form=FeeForm.ROYALTY, lump_sum_fen=None,
                               royalty_base=RoyaltyBase.NET_SALES, royalty_rate="3.00",
                               annual_minimum_fen=1_000_000, duration_years=3)
    by = MembershipFactory(organisation=patent.holder, role=MembershipRole.ADMIN).user
    return declaration_file(declaration=draft, by=by)


def test_a_holder_declares_a_granted_patent_on_a_royalty_and_sees_it_filed_at_cnipa(site, page_en, admin):
    page = page_en
    patent = eligible(admin.organisation)
    eligible(admin.organisation)  # another patent in the portfolio, not selected

    log_in(page, site, admin.user)
    declare_from_portfolio(page, [patent])
    page.check("input[name=fee_form][value=royalty]")
    page.select_option("#id_royalty_base", "net_sales")
    page.fill("#id_royalty_rate", "3")
    page.fill("#id_annual_minimum", "10000")
    page.fill("#id_duration_years", "3")
    fill_content(page)
    expect(page.locator("#id_contact_email")).not_to_have_value("")
    publish(page)

    row = result_row(page, patent)
    expect(row).to_have_class(re.compile(r"\bok\b"))
    link = row.locator("a")
    expect(link).to_have_text("Filed at CNIPA")
    declaration = Declaration.objects.get(patent=patent)
    assert declaration.state == DeclarationState.FILED and declaration.cnipa_number is None
    assert Declaration.objects.count() == 1
    assert not GazetteEntry.objects.exists()  # filing is not an announcement: the gazette mirrors CNIPA only

    link.click()
    page.wait_for_url(DECLARATION_URL)
    expect(page.locator("main .badge.state-filed")).to_have_text("Filed at CNIPA")
    expect(page.locator("main [data-basis=platform]")).to_contain_text("ordinary licence contract")
    expect(page.locator("main .fee")).to_contain_text("3% of net sales, at least ¥10,000.00/year")
    expect(page.locator("main dl")).to_contain_text("3 years")


def test_bulk_declaring_refuses_an_expired_patent_a_design_without_report_and_an_exclusively_licensed_one(
        site, page_en, admin):
    page = page_en
    holder = admin.organisation
    good = eligible(holder)
    expired = eligible(holder, filing_date=date(2000, 1, 1), grant_date=date(2003, 5, 6),
                       legal_status=LegalStatus.EXPIRED)
    design = eligible(holder, kind=PatentKind.DESIGN, evaluation_report="")
    exclusive = eligible(holder, exclusive_licence_in_force=True)
    assert expired.expiry_date < timezone.localdate()

    log_in(page, site, admin.user)
    # The portfolio does not offer to declare a selection holding the expired patent (issue 20)...
    page.click("header .nav-links a[href$='/portfolio/']")
    for patent in (good, expired, design, exclusive):
        page.check(f"table.portfolio input[name=selected][aria-label='{patent.number}']")
    expect(page.locator("button:has-text('Declare selected for open licence')")).to_be_disabled()
    # ...and the server refuses it all the same when it is posted anyway (as a page without script would).
    page.evaluate("document.querySelector('[data-declare-selected]').disabled = false")
    page.click("button:has-text('Declare selected for open licence')")
    page.wait_for_url(re.compile(r"/en/declarations/new/$"))
    expect(page.locator("ul.declare-patents li")).to_have_count(4)
    fill_lump_sum(page, 50000)
    publish(page)

    expect(page.locator("table.declare-results tbody tr")).to_have_count(4)
    expect(page.locator("table.declare-results tbody tr.refused")).to_have_count(3)
    expect(result_row(page, good)).to_have_class(re.compile(r"\bok\b"))

    def refusal(patent):
        row = result_row(page, patent)
        expect(row).to_have_class(re.compile(r"\brefused\b"))
        expect(row.locator("strong")).to_have_text("Refused")
        return row.locator("ul.failures li")

    reasons = refusal(expired)
    expect(reasons.filter(has_text=f"The patent expired on {expired.expiry_date.isoformat()}.")).to_have_text(
        f"The patent expired on {expired.expiry_date.isoformat()}. (rule expired: Patent Law (2020) art. 42 para. 1)")

    reasons = refusal(design)
    expect(reasons).to_have_count(1)
    expect(reasons).to_have_text(
        "A utility model or design needs a patent evaluation report (专利权评价报告). "
        "(rule evaluation_report: Patent Law (2020) art. 50 para. 1)")

    reasons = refusal(exclusive)
    expect(reasons).to_have_count(1)
    expect(reasons).to_contain_text("An exclusive or sole licence is in force on this patent.")
    expect(reasons.locator("span.muted")).to_have_text(
        re.compile(r"^\(rule exclusive_licence: Implementing Regulations \(2023\) art\. 86 item \(1\); "))

    # None of the refused patents has a declaration; the good one is filed.
    assert not Declaration.objects.filter(patent__in=[expired, design, exclusive]).exists()
    assert Declaration.objects.get(patent=good).state == DeclarationState.FILED


def test_the_exclusive_licence_refusal_cites_implementing_regulations_art_86(site, page_en, admin):
    page = page_en
    exclusive = eligible(admin.organisation, exclusive_licence_in_force=True)
    log_in(page, site, admin.user)
    page.goto(f"{site.url}/en/portfolio/patents/{exclusive.pk}/")
    page.click("button:has-text('Declare open licence')")
    page.wait_for_url(re.compile(r"/en/declarations/new/$"))
    fill_lump_sum(page, 50000)
    publish(page)
    expect(result_row(page, exclusive).locator("ul.failures li span.muted")).to_have_text(
        "(rule exclusive_licence: Implementing Regulations (2023) art. 86 item (1); Patent Law (2020) art. 51 para. 3)",
        timeout=2_000)


def test_a_withdrawal_is_filed_with_a_reason_and_cnipas_announcement_of_it_is_mirrored_in_the_gazette(
        site, page_en, admin):
    page = page_en
    declaration = published_royalty_declaration(admin.organisation)
    declaration = declaration_record_announcement(
        declaration=declaration, by=admin.user, cnipa_number="KFXK2026000501", announced_on=timezone.localdate())
    reason = "The technology is being transferred to a spin-off company."

    log_in(page, site, admin.user)
    page.goto(f"{site.url}/en/declarations/{declaration.pk}/")
    withdraw = page.locator("form[action$='/withdraw/']")
    # Blank text: refused by the server beside the field, the declaration unchanged.
    withdraw.locator("textarea[name=reason]").fill("   ")
    withdraw.locator("button[type=submit]").click()
    expect(page.locator("form[action$='/withdraw/'] .errorlist")).to_be_visible()
    expect(page.locator("main .badge.state-announced")).to_have_text("Announced by CNIPA")
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.ANNOUNCED

    page.locator("form[action$='/withdraw/'] textarea[name=reason]").fill(reason)
    page.locator("form[action$='/withdraw/'] button[type=submit]").click()
    expect(page.locator(".messages .message.success")).to_contain_text("Withdrawal filed.")
    expect(page.locator("main .badge.state-withdrawal_filed")).to_have_text("Withdrawal filed")
    expect(page.locator("main a.take-licence")).to_have_count(1)  # in force until CNIPA announces the withdrawal

    form = page.locator("section.record-withdrawal-announcement form")
    form.locator("#id_cnipa_number").fill("CHXK2026000501")
    form.locator("#id_announced_on").fill(timezone.localdate().isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator("main .badge.state-withdrawn")).to_have_text("Withdrawn")
    expect(page.locator("main p.message.error")).to_contain_text(reason)
    expect(page.locator("main a.take-licence")).to_have_count(0)
    expect(page.locator("main section li").filter(has_text="CHXK2026000501")).to_contain_text(f"Withdrawal: {reason}")

    page.goto(f"{site.url}/en/gazette/")
    entries = page.locator("table.gazette tbody tr")
    expect(entries).to_have_count(2)
    expect(entries.first).to_have_class("entry-withdrawal")
    expect(entries.first.locator("td").nth(1)).to_have_text("CHXK2026000501")
    expect(entries.nth(1)).to_have_class("entry-publication")
    expect(entries.nth(1).locator("td").nth(1)).to_have_text("KFXK2026000501")
    feed = page.request.get(f"{site.url}/en/gazette/feed/?kind=withdrawal")
    assert feed.ok and reason in feed.text() and "CHXK2026000501" in feed.text()


def test_a_prospective_licensee_works_out_the_cost_of_a_royalty_with_an_annual_minimum(site, page_en):
    page = page_en
    declaration = published_royalty_declaration()  # 3% of net sales, at least RMB 10,000 a year, 3 years

    page.goto(f"{site.url}/en/declarations/{declaration.pk}/")  # public: no login
    calculator = page.locator("section.cost-calculator")
    expect(calculator.locator("table")).to_have_count(0)

    # 3% of RMB 200,000 is 6,000: the annual minimum of 10,000 applies in each of the 3 years.
    calculator.locator("#id_annual_net_sales").fill("200000")
    calculator.locator("button:has-text('Calculate')").click()
    page.wait_for_url(re.compile(r"annual_net_sales=200000"))
    rows = calculator.locator("table tbody tr")
    expect(rows).to_have_count(4)
    for year in (1, 2, 3):
        expect(rows.nth(year - 1).locator("td")).to_have_text([str(year), "¥10,000.00"])
    expect(calculator.locator(".cost-total")).to_have_text("¥30,000.00")

    # 3% of RMB 1,234,567.89 is 37,037.04 a year, above the minimum.
    calculator.locator("#id_annual_net_sales").fill("1234567.89")
    calculator.locator("button:has-text('Calculate')").click()
    page.wait_for_url(re.compile(r"annual_net_sales=1234567\.89"))
    for year in (1, 2, 3):
        expect(rows.nth(year - 1).locator("td")).to_have_text([str(year), "¥37,037.04"])
    expect(calculator.locator(".cost-total")).to_have_text("¥111,111.12")


def test_a_lump_sum_above_the_fixed_fee_cap_is_refused_naming_the_cap(site, page_en, admin):
    page = page_en
    patent = eligible(admin.organisation)

    log_in(page, site, admin.user)
    page.goto(f"{site.url}/en/portfolio/patents/{patent.pk}/")
    page.click("button:has-text('Declare open licence')")
    page.wait_for_url(re.compile(r"/en/declarations/new/$"))
    fill_lump_sum(page, 20000001)
    publish(page)

    row = result_row(page, patent)
    expect(row).to_have_class(re.compile(r"\brefused\b"))
    reasons = row.locator("ul.failures li")
    expect(reasons).to_have_count(1)
    expect(reasons).to_have_text("The lump sum exceeds the cap of RMB 20,000,000 for a fixed fee. "
                                 "(rule fixed_fee_cap: CNIPA notice on open-licence fee standards (2024))")
    assert not Declaration.objects.filter(patent=patent).exists()
    assert not GazetteEntry.objects.exists()


def test_a_patent_imported_without_its_annual_fees_is_declared_by_giving_the_date_where_it_is_refused(
        site, page_en, admin):
    """Issue 20, defect 2: the refusal under Implementing Regulations art. 86 asks for the paid-through date
    there and then; a date out of range is refused naming the field, and the offer is never retyped."""
    page = page_en
    patent = PatentFactory(holder=admin.organisation, annual_fees_paid_through=None)  # as imported without the column

    log_in(page, site, admin.user)
    declare_from_portfolio(page, [patent])
    fill_lump_sum(page, 48000)
    publish(page)
    row = result_row(page, patent)
    expect(row).to_have_class(re.compile(r"\brefused\b"))
    expect(row.locator("ul.failures")).to_contain_text("Record the date up to which the annual fees are paid.")
    fees = row.locator(f"input[name='fees-{patent.pk}-annual_fees_paid_through']")
    expect(fees).to_be_visible()

    too_late = timezone.localdate() + timedelta(days=800)
    fees.fill(too_late.isoformat())
    publish(page)
    row = result_row(page, patent)
    expect(row).to_contain_text("Annual fees paid through: the date cannot be after")
    expect(row.locator(f"input[name='fees-{patent.pk}-annual_fees_paid_through']")).to_have_value(too_late.isoformat())
    expect(page.locator("form.declare-again input[name=lump_sum]")).to_have_value("48000")

    paid = timezone.localdate() + timedelta(days=180)
    row.locator(f"input[name='fees-{patent.pk}-annual_fees_paid_through']").fill(paid.isoformat())
    publish(page)
    row = result_row(page, patent)
    expect(row).to_have_class(re.compile(r"\bok\b"))
    declaration = Declaration.objects.get(patent=patent)
    assert declaration.state == DeclarationState.FILED and declaration.lump_sum_fen == 4_800_000
    patent.refresh_from_db()
    assert patent.annual_fees_paid_through == paid
    assert patent.changes.filter(action="annual_fees", by=admin.user).count() == 1
