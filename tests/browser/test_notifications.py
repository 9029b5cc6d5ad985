"""Nothing happens silently: a licensee takes and pays a licence by card through the local Stripe stand-in, then
the holder logs in, sees the unread notification in the header, reads who took a licence of which patent for how
much, and follows it to the licence; the licensee's own inbox says the licence is in force (issue 20, defect 6)."""

import re

from playwright.sync_api import expect

from licensing.models.licences import LicenceState, WebhookDelivery
from marketplace.parties.models import MembershipRole, Notification
from tests.browser.flows import log_in
from tests.browser.test_licensing import GOOD_CARD, give_notice, licensee_admin, pay, state_badge, wait_for
from tests.parties.factories import MembershipFactory


def inbox_link(page):
    return page.get_by_role("navigation").get_by_role("link", name=re.compile("Notifications"))


def test_the_holder_sees_a_paid_licence_in_its_notifications_and_the_licensee_sees_it_in_force(stripe_site, page_en, declaration):
    page, site = page_en, stripe_site
    licensee_user = licensee_admin()
    holder_user = MembershipFactory(organisation=declaration.holder, role=MembershipRole.ADMIN).user

    log_in(page, site, licensee_user)
    licence = give_notice(page, site, declaration)
    pay(page, GOOD_CARD)
    expect(state_badge(page)).to_have_text("Active")
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    # localstripe's webhook arrives a second later and finds the licence active: it tells nobody again.
    wait_for(
        lambda: (
            WebhookDelivery.objects.filter(event_type="payment_intent.succeeded")
            .exclude(result=WebhookDelivery.Result.RECEIVED)
            .exists()
        ),
        what="the payment_intent.succeeded webhook",
    )
    assert Notification.objects.filter(user=holder_user, kind="licence.new_licensee").count() == 1

    # The licensee's inbox.
    inbox_link(page).click()
    expect(page.get_by_text(f"Your licence of {licence.patent.number} is in force")).to_be_visible()
    expect(page.get_by_text(f"Licence certificate {licence.certificate_number}")).to_be_visible()

    # The holder, in another session.
    page.context.clear_cookies()
    log_in(page, site, holder_user)
    link = inbox_link(page)
    expect(link).to_contain_text("1")  # one unread
    link.click()
    title = page.get_by_role("link", name=f"{licence.licensee.name_zh} took a licence of {licence.patent.number}")
    expect(title).to_be_visible()
    expect(page.get_by_text("paid ¥50,000.00")).to_be_visible()
    title.click()
    page.wait_for_url(re.compile(rf"/en/licences/{licence.pk}/$"))
    expect(state_badge(page)).to_have_text("Active")
    expect(inbox_link(page)).not_to_contain_text("1")  # opened: read
