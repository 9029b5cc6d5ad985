"""Paying a licence fee with an innovation voucher in headless Chromium (localstripe's fake Stripe.js): the
split between voucher and card is on the page before the buyer pays, and the card is charged exactly that."""

import re

from playwright.sync_api import expect

from licensing.models.licences import LicenceState, Payment
from marketplace.parties.models import Membership
from tests.browser.flows import log_in
from tests.browser.test_licensing import GOOD_CARD, give_notice, licensee_admin, pay, state_badge
from tests.licensing.fixtures_payments import voucher_for


def _voucher_of(user, amount_fen):
    return voucher_for(Membership.objects.get(user=user).organisation, amount_fen=amount_fen)


def test_choosing_a_voucher_shows_the_split_before_paying_and_the_card_pays_the_rest(stripe_site, page_en,
                                                                                      declaration):
    page, site = page_en, stripe_site
    user = licensee_admin()
    voucher = _voucher_of(user, 2_000_000)  # RMB 20,000 against a RMB 50,000 lump sum
    log_in(page, site, user)
    licence = give_notice(page, site, declaration)
    expect(page.locator("#payment .amount-due")).to_have_text("¥50,000.00")
    expect(page.locator(".voucher-split")).to_have_count(0)

    page.select_option("#voucher", str(voucher.pk))  # reloads the page with the split

    page.wait_for_url(re.compile(rf"\?voucher={voucher.pk}$"))
    expect(page.locator(".voucher-split .split-voucher")).to_have_text("¥20,000.00")
    expect(page.locator(".voucher-split .split-card")).to_have_text("¥30,000.00")
    expect(page.locator("#payment .amount-due")).to_have_text("¥30,000.00")
    expect(page.locator("#voucher")).to_have_value(str(voucher.pk))
    expect(page.locator("#payment #card-element input")).to_have_count(5)
    pay(page, GOOD_CARD)

    expect(state_badge(page)).to_have_text("Active")
    payment = Payment.objects.get(licence=licence)
    assert (payment.state, payment.voucher_fen, payment.charge_fen) == (Payment.State.SUCCEEDED, 2_000_000,
                                                                       3_000_000)


def test_a_voucher_covering_the_fee_pays_without_a_card(stripe_site, page_en, declaration):
    page, site = page_en, stripe_site
    user = licensee_admin()
    voucher = _voucher_of(user, 8_000_000)
    log_in(page, site, user)
    licence = give_notice(page, site, declaration)

    page.select_option("#voucher", str(voucher.pk))
    page.wait_for_url(re.compile(rf"\?voucher={voucher.pk}$"))
    expect(page.locator(".voucher-split .split-card")).to_have_text("¥0.00")
    page.click("#pay-button")  # no card typed

    expect(state_badge(page)).to_have_text("Active")
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    payment = Payment.objects.get(licence=licence)
    assert (payment.voucher_fen, payment.charge_fen, payment.stripe_payment_intent_id) == (5_000_000, 0, None)
