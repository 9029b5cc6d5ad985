"""Issue 19's acceptance, in headless Chromium: a holder takes a draft to "filed at CNIPA" (downloading the
declaration document, a PDF), enters CNIPA's announcement (a date in the future is refused with the input
kept), and a licensee then takes a licence that shows the statutory basis before and after confirming."""

import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from licensing.models import Declaration, DeclarationState, FeeForm, LicenceBasis, RoyaltyBase
from licensing.models.licences import Licence
from marketplace.parties.models import MembershipRole
from tests.browser.flows import log_in
from tests.licensing.factories import DeclarationFactory, eligible_patent
from tests.parties.factories import HolderFactory, MembershipFactory, OrganisationFactory


def test_a_holder_files_at_cnipa_records_the_announcement_and_a_licensee_takes_a_statutory_licence(
        site, page_en, chromium):
    page = page_en
    holder = MembershipFactory(organisation=HolderFactory(), role=MembershipRole.ADMIN)
    # 5% of profit, nothing up front: the licence takes effect at notice, no card needed.
    draft = DeclarationFactory(patent=eligible_patent(holder=holder.organisation), fee_form=FeeForm.ROYALTY,
                               lump_sum_fen=None, royalty_base=RoyaltyBase.PROFIT, royalty_rate=Decimal("5.00"))

    log_in(page, site, holder.user)
    page.goto(f"{site.url}/en/declarations/{draft.pk}/")
    page.click("form.publish button[type=submit]")
    expect(page.locator("main .badge.state-filed")).to_have_text("Filed at CNIPA")
    expect(page.locator("main [data-basis=platform]")).to_contain_text("a licence taken now is an ordinary licence")

    with page.expect_download() as download:
        page.click("main a.download-pdf")
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.value.suggested_filename.endswith(".pdf")

    form = page.locator("section.record-announcement form")
    tomorrow = timezone.localdate() + timedelta(days=1)
    form.locator("#id_cnipa_number").fill("KFXK2026000321")
    form.locator("#id_announced_on").fill(tomorrow.isoformat())
    form.locator("button[type=submit]").click()
    form = page.locator("section.record-announcement form")
    expect(form).to_contain_text(f"The announcement date {tomorrow.isoformat()} is in the future.")
    expect(form.locator("#id_cnipa_number")).to_have_value("KFXK2026000321")
    form.locator("#id_announced_on").fill(timezone.localdate().isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator("main .badge.state-announced")).to_have_text("Announced by CNIPA")
    expect(page.locator("main [data-basis=statutory]")).to_contain_text("under No. KFXK2026000321")
    assert Declaration.objects.get(pk=draft.pk).state == DeclarationState.ANNOUNCED

    licensee = MembershipFactory(organisation=OrganisationFactory(), role=MembershipRole.ADMIN)
    context = chromium.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en-US"})
    try:
        buyer = context.new_page()
        buyer.set_default_timeout(15_000)
        log_in(buyer, site, licensee.user)
        buyer.goto(f"{site.url}/en/declarations/{draft.pk}/")
        buyer.click("main a.take-licence")
        buyer.wait_for_url(re.compile(rf"/en/declarations/{draft.pk}/licence/$"))
        expect(buyer.locator("main [data-basis=statutory]")).to_contain_text("Statutory open licence")
        notice = buyer.locator("form.notice-form")
        notice.locator("#id_field_of_use").fill("Cathode materials for e-bike batteries")
        notice.locator("#id_accept").check()
        notice.locator("button[type=submit]").click()
        buyer.wait_for_url(re.compile(r"/en/licences/\d+/$"))
        expect(buyer.locator("main [data-basis=statutory]")).to_contain_text("CNIPA announcement No. KFXK2026000321")
    finally:
        context.close()
    licence = Licence.objects.get(declaration_id=draft.pk)
    assert (licence.basis, licence.state) == (LicenceBasis.STATUTORY, "active")
