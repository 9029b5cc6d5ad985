"""Refunds through the real localstripe and termination for non-payment: ledger entries, payment and
licence states, vouchers given back to their balance, and who may do it."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from licensing.exceptions import LicensingError, NotAllowed
from licensing.ledger import services as ledger
from licensing.models.licences import LedgerEntry, LicenceState, Payment, VoucherUse
from licensing.payments import gateway as stripe_gateway
from licensing.payments import refunds
from marketplace.parties.models import MembershipRole
from tests.licensing import ledger_builders as build
from tests.licensing.fixtures_payments import set_platform_fee_rate
from tests.parties.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stripe_and_fee(settings, localstripe_url):
    settings.STRIPE_API_BASE = localstripe_url
    settings.PLATFORM_FEE_RATE_PROVIDER = build.FEE_RATE_PROVIDER


def holder_admin(licence):
    return build.member(licence.licensor, MembershipRole.ADMIN)


def card_payment(amount_fen=100_000, **kwargs):
    licence = build.licence(first_amount_fen=amount_fen, **kwargs)
    return build.paid_payment(licence, intent_id=build.succeeded_intent(amount_fen))


def net(payment) -> dict[str, int]:
    return {row["account"]: row["total"] for row in LedgerEntry.objects.filter(payment=payment).values("account")
            .annotate(total=Sum("amount_fen")).order_by()}


def postings(payment, kind):
    return LedgerEntry.objects.filter(payment=payment, kind=kind)


def stripe_refunded(payment) -> list[int]:
    return [r["amount"] for r in stripe_gateway.list_refunds(payment.stripe_payment_intent_id)]


def test_a_partial_refund_goes_to_the_card_and_the_ledger_and_the_licence_stays_active():
    payment = card_payment()
    refunded = refunds.payment_refund(payment=payment, amount_fen=30_000, by=holder_admin(payment.licence),
                                      reason="Delivered late")
    assert (refunded.state, refunded.refunded_fen) == (Payment.State.PARTIALLY_REFUNDED, 30_000)
    assert stripe_refunded(payment) == [30_000]
    lines = {e.account: e.amount_fen for e in postings(payment, "refund")}
    assert lines == {"card_clearing": -30_000, "platform_fees": 1_500, "holder_payable": 28_500}
    assert net(payment) == {"card_clearing": 70_000, "platform_fees": -3_500, "holder_payable": -66_500}
    payment.licence.refresh_from_db()
    assert payment.licence.state == LicenceState.ACTIVE


def test_refunding_the_rest_refunds_in_full_terminates_the_licence_and_nets_every_account_to_zero():
    # 5% of 100,020 is 5,001; refunds of 10 + 10 + 100,000 round to 1 + 1 + 5,000 = 5,002: one fen too many.
    payment = card_payment(100_020)
    officer = build.ip_officer()
    for amount in (10, 10, 100_000):
        payment = refunds.payment_refund(payment=payment, amount_fen=amount, by=officer, reason="Patent invalidated")
    assert (payment.state, payment.refunded_fen) == (Payment.State.REFUNDED, 100_020)
    assert sorted(stripe_refunded(payment)) == [10, 10, 100_000]
    assert postings(payment, "refund").values("posting").distinct().count() == 3
    assert postings(payment, "refund_rounding").exists()
    assert all(total == 0 for total in net(payment).values())
    licence = payment.licence
    licence.refresh_from_db()
    assert licence.state == LicenceState.TERMINATED and licence.terminated_at
    assert "Patent invalidated" in licence.termination_reason


def test_a_voucher_is_given_back_to_its_balance_not_refunded_to_the_card():
    licence = build.licence(first_amount_fen=100_000)
    voucher = build.voucher(licence.licensee, amount_fen=30_000)
    payment = build.paid_payment(licence, voucher_=voucher, voucher_fen=30_000,
                                 intent_id=build.succeeded_intent(70_000))
    voucher.refresh_from_db()
    assert voucher.balance_fen == 0

    payment = refunds.payment_refund(payment=payment, amount_fen=70_000, by=holder_admin(licence), reason="Withdrawn")
    assert payment.state == Payment.State.REFUNDED
    assert stripe_refunded(payment) == [70_000]  # only the card part went to Stripe
    voucher.refresh_from_db()
    assert voucher.balance_fen == 30_000
    assert VoucherUse.objects.get(payment=payment).released
    released = {e.account: e.amount_fen for e in postings(payment, "voucher_released")}
    assert released == {"voucher_fund": -30_000, "platform_fees": 1_500, "holder_payable": 28_500}
    assert all(total == 0 for total in net(payment).values())
    payment.refresh_from_db()
    assert (payment.voucher_fen, payment.charge_fen) == (30_000, 70_000)  # the split stays as history


def test_a_partial_refund_leaves_the_voucher_spent():
    licence = build.licence(first_amount_fen=100_000)
    voucher = build.voucher(licence.licensee, amount_fen=30_000)
    payment = build.paid_payment(licence, voucher_=voucher, voucher_fen=30_000,
                                 intent_id=build.succeeded_intent(70_000))
    refunds.payment_refund(payment=payment, amount_fen=20_000, by=holder_admin(licence), reason="Partial")
    voucher.refresh_from_db()
    assert voucher.balance_fen == 0 and not VoucherUse.objects.get(payment=payment).released


def test_a_payment_covered_by_a_voucher_alone_is_refunded_by_releasing_the_voucher():
    licence = build.licence(first_amount_fen=40_000)
    voucher = build.voucher(licence.licensee, amount_fen=50_000)
    payment = build.paid_payment(licence, voucher_=voucher, voucher_fen=40_000)
    payment = refunds.payment_refund(payment=payment, amount_fen=0, by=holder_admin(licence), reason="Error")
    voucher.refresh_from_db()
    assert payment.state == Payment.State.REFUNDED and voucher.balance_fen == 50_000
    assert all(total == 0 for total in net(payment).values())


def test_a_royalty_refunded_in_full_leaves_the_licence_active():
    licence = build.licence(first_amount_fen=100_000)
    royalty = build.paid_payment(licence, amount_fen=8_000, purpose=Payment.Purpose.ROYALTY,
                                 intent_id=build.succeeded_intent(8_000))
    refunds.payment_refund(payment=royalty, amount_fen=8_000, by=holder_admin(licence), reason="Over-reported sales")
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE


@pytest.mark.parametrize("amount", [100_001, -1, 0])
def test_a_refund_beyond_what_is_left_records_nothing_and_asks_nothing_of_stripe(amount):
    payment = card_payment()
    with pytest.raises(LicensingError):
        refunds.payment_refund(payment=payment, amount_fen=amount, by=holder_admin(payment.licence), reason="x")
    assert stripe_refunded(payment) == [] and not postings(payment, "refund").exists()


def test_a_refund_needs_a_reason_and_a_paid_payment():
    payment = card_payment()
    with pytest.raises(LicensingError):
        refunds.payment_refund(payment=payment, amount_fen=100, by=holder_admin(payment.licence), reason="  ")
    Payment.objects.filter(pk=payment.pk).update(state=Payment.State.FAILED)
    with pytest.raises(LicensingError):
        refunds.payment_refund(payment=payment, amount_fen=100, by=holder_admin(payment.licence), reason="x")


def test_when_stripe_refuses_the_refund_nothing_is_recorded():
    licence = build.licence(first_amount_fen=100_000)
    payment = build.paid_payment(licence, intent_id="pi_that_stripe_never_made")
    with pytest.raises(LicensingError, match="refused"):
        refunds.payment_refund(payment=payment, amount_fen=100_000, by=holder_admin(licence), reason="x")
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert (payment.state, payment.refunded_fen) == (Payment.State.SUCCEEDED, 0)
    assert licence.state == LicenceState.ACTIVE and not postings(payment, "refund").exists()


@pytest.mark.parametrize("who", ["licensee_admin", "holder_member", "stranger"])
def test_only_the_holders_admins_and_the_ip_office_may_refund(who):
    payment = card_payment()
    licence = payment.licence
    user = {"licensee_admin": lambda: build.member(licence.licensee, MembershipRole.ADMIN),
            "holder_member": lambda: build.member(licence.licensor), "stranger": UserFactory}[who]()
    with pytest.raises(NotAllowed):
        refunds.payment_refund(payment=payment, amount_fen=100, by=user, reason="x")
    assert stripe_refunded(payment) == []


# The platform fee rate of the charge ------------------------------------------------------------------

SITE_SETTING_PROVIDER = "marketplace.fees.selectors.current_platform_fee_rate"


def charged_through_the_service(amount_fen: int, *, purpose=Payment.Purpose.ROYALTY) -> Payment:
    """An invoiced payment whose card charge succeeded, settled by payment_mark_succeeded as the webhook does."""
    from licensing.licences import services as licence_services

    licence = build.licence(first_amount_fen=100_000)
    intent_id = build.succeeded_intent(amount_fen)
    invoice = Payment.objects.create(licence=licence, purpose=purpose, state=Payment.State.REQUIRES_PAYMENT,
                                     amount_fen=amount_fen, charge_fen=amount_fen, stripe_payment_intent_id=intent_id,
                                     due_on=timezone.localdate())
    assert invoice.platform_fee_rate is None  # not fixed while unpaid
    return licence_services.payment_mark_succeeded(payment_id=invoice.pk,
                                                   intent=stripe_gateway.retrieve_intent(intent_id))


def test_a_payment_stores_the_site_fee_rate_in_force_when_it_succeeds_and_posts_its_fee_at_that_rate(settings):
    settings.PLATFORM_FEE_RATE_PROVIDER = SITE_SETTING_PROVIDER
    set_platform_fee_rate(Decimal("1.50"))
    payment = charged_through_the_service(12_345)
    payment.refresh_from_db()
    assert payment.platform_fee_rate == Decimal("1.50")
    # 1.5% of 12,345 is 185.175: the fee rounds half up to 185 fen, the holder is owed the rest.
    received = {e.account: e.amount_fen for e in postings(payment, "payment_received")}
    assert received == {"card_clearing": 12_345, "platform_fees": -185, "holder_payable": -12_160}


def test_a_partial_refund_after_a_rate_change_splits_at_the_rate_the_payment_was_charged_with(settings):
    settings.PLATFORM_FEE_RATE_PROVIDER = SITE_SETTING_PROVIDER
    set_platform_fee_rate(Decimal("1.50"))
    payment = charged_through_the_service(100_000)
    set_platform_fee_rate(Decimal("5.00"))
    officer = build.ip_officer()

    payment = refunds.payment_refund(payment=payment, amount_fen=50_000, by=officer, reason="Half delivered")
    lines = {e.account: e.amount_fen for e in postings(payment, "refund")}
    assert lines == {"card_clearing": -50_000, "platform_fees": 750, "holder_payable": 49_250}  # 1.5%, not 5%
    assert net(payment) == {"card_clearing": 50_000, "platform_fees": -750, "holder_payable": -49_250}
    assert sum(net(payment).values()) == 0

    payment = refunds.payment_refund(payment=payment, amount_fen=50_000, by=officer, reason="Rest withdrawn")
    assert payment.state == Payment.State.REFUNDED
    assert all(total == 0 for total in net(payment).values())
    assert not postings(payment, "refund_rounding").exists()  # the two halves split exactly like the charge
    payment.refresh_from_db()
    assert payment.platform_fee_rate == Decimal("1.50")


def test_a_payment_paid_before_a_rate_change_keeps_its_rate_and_one_paid_after_takes_the_new_one(settings):
    settings.PLATFORM_FEE_RATE_PROVIDER = SITE_SETTING_PROVIDER
    set_platform_fee_rate(Decimal("1.50"))
    before = charged_through_the_service(10_000)
    set_platform_fee_rate(Decimal("2.00"))
    after = charged_through_the_service(10_000)
    before.refresh_from_db()
    after.refresh_from_db()
    assert (before.platform_fee_rate, after.platform_fee_rate) == (Decimal("1.50"), Decimal("2.00"))


def test_the_ledger_refuses_to_split_a_payment_that_has_no_stored_rate():
    payment = build.paid_payment(build.licence(), post=False, platform_fee_rate=None)
    with pytest.raises(ValueError, match="no platform fee rate"):
        ledger.post_payment_received(payment)


# Backfill of the rate on payments made before it was stored (migration 0004) ---------------------------

backfill = importlib.import_module("licensing.migrations.0004_backfill_payment_platform_fee_rate")


@pytest.mark.parametrize("amount_fen, fee_fen, current, expected", [
    (100_000, 1_500, Decimal("5.00"), Decimal("1.50")),  # the posted fee tells the rate of the time
    (12_345, 185, Decimal("5.00"), Decimal("1.50")),  # 185.175 rounded: 185/12,345 = 1.4986% reads back as 1.50
    (100_000, 5_000, Decimal("5.00"), Decimal("5.00")),
    (20, 0, Decimal("1.00"), Decimal("1.00")),  # several rates give 0 fen on 0.20 yuan: the current one is kept
    (20, 0, Decimal("5.00"), Decimal("0.00")),  # 5% would have posted 1 fen: the current one cannot be it
    (100_000, None, Decimal("2.50"), Decimal("2.50")),  # nothing posted: the current setting
    (0, 0, Decimal("2.50"), Decimal("2.50")),
    (100, 50_000, Decimal("2.50"), Decimal("2.50")),  # no rate the field can hold gives this fee
])
def test_the_backfill_reads_the_rate_back_from_the_posted_fee(amount_fen, fee_fen, current, expected):
    assert backfill.rate_implied_by_ledger(amount_fen=amount_fen, fee_fen=fee_fen, current=current) == expected


def test_the_backfill_gives_paid_payments_their_posted_rate_and_leaves_unpaid_ones_empty(settings):
    from django.apps import apps

    posted_at_5 = card_payment()  # at the builders' 5%
    settings.PLATFORM_FEE_RATE_PROVIDER = SITE_SETTING_PROVIDER
    set_platform_fee_rate(Decimal("1.50"))
    posted_at_1_5 = build.paid_payment(build.licence(first_amount_fen=12_345))
    never_posted = build.paid_payment(build.licence(), post=False)
    set_platform_fee_rate(Decimal("2.50"))
    unpaid = royalty_due(build.licence(), days_ago=0)
    Payment.objects.update(platform_fee_rate=None)  # as the rows were before migration 0003

    backfill.backfill_platform_fee_rates(apps, None)
    rates = dict(Payment.objects.values_list("pk", "platform_fee_rate"))
    assert rates == {posted_at_5.pk: Decimal("5.00"), posted_at_1_5.pk: Decimal("1.50"),
                     never_posted.pk: Decimal("2.50"), unpaid.pk: None}

    posted_at_5.refresh_from_db()
    refunds.payment_refund(payment=posted_at_5, amount_fen=30_000, by=build.ip_officer(), reason="After backfill")
    assert {e.account: e.amount_fen for e in postings(posted_at_5, "refund")}["platform_fees"] == 1_500


def test_the_backfill_does_nothing_on_an_empty_database():
    from django.apps import apps

    backfill.backfill_platform_fee_rates(apps, None)
    assert not Payment.objects.exists()


# Termination for non-payment ----------------------------------------------------------------------------

def royalty_due(licence, days_ago, state=Payment.State.REQUIRES_PAYMENT):
    today = timezone.localdate()
    return Payment.objects.create(licence=licence, purpose=Payment.Purpose.ROYALTY, state=state, amount_fen=12_345,
                                  charge_fen=12_345, due_on=today - timedelta(days=days_ago))


def test_a_licence_with_a_royalty_unpaid_past_the_grace_period_can_be_terminated():
    licence = build.licence()
    overdue = royalty_due(licence, refunds.GRACE_DAYS + 1)
    terminated = refunds.licence_terminate_for_non_payment(licence=licence, by=holder_admin(licence),
                                                           today=timezone.localdate())
    assert terminated.state == LicenceState.TERMINATED and terminated.terminated_at
    assert f"royalty payment {overdue.pk}" in terminated.termination_reason
    assert "61 days" in terminated.termination_reason
    again = refunds.licence_terminate_for_non_payment(licence=licence, by=build.ip_officer(),
                                                      today=timezone.localdate())
    assert again.terminated_at == terminated.terminated_at  # a repeat changes nothing


@pytest.mark.parametrize("days_ago, state", [
    (refunds.GRACE_DAYS, Payment.State.REQUIRES_PAYMENT),  # still within the grace period
    (refunds.GRACE_DAYS + 30, Payment.State.SUCCEEDED),  # paid, if late
])
def test_no_termination_within_the_grace_period_or_once_paid(days_ago, state):
    licence = build.licence()
    royalty_due(licence, days_ago, state)
    with pytest.raises(LicensingError):
        refunds.licence_terminate_for_non_payment(licence=licence, by=holder_admin(licence), today=timezone.localdate())
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE


def test_the_licensee_cannot_terminate_for_non_payment():
    licence = build.licence()
    royalty_due(licence, 90)
    with pytest.raises(NotAllowed):
        refunds.licence_terminate_for_non_payment(licence=licence, by=build.member(licence.licensee, "admin"),
                                                  today=timezone.localdate())


# Endpoints ----------------------------------------------------------------------------------------------

def test_the_holder_admin_refunds_from_the_licence_statement(client):
    payment = card_payment()
    licence = payment.licence
    client.force_login(holder_admin(licence))
    page = client.get(reverse("statement_licence", args=[licence.pk]))
    assert b"refund-form" in page.content
    response = client.post(reverse("licence_refund", args=[licence.pk]),
                           {"payment": payment.pk, "amount": "1000.00", "reason": "Cancelled by agreement"})
    assert response.status_code == 302 and response["Location"] == reverse("statement_licence", args=[licence.pk])
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.REFUNDED and licence.state == LicenceState.TERMINATED


def test_the_refund_endpoint_is_forbidden_to_the_licensee_and_hidden_from_strangers(client):
    payment = card_payment()
    url = reverse("licence_refund", args=[payment.licence.pk])
    data = {"payment": payment.pk, "amount": "10.00", "reason": "x"}
    client.force_login(build.member(payment.licence.licensee))
    assert client.post(url, data).status_code == 403
    client.force_login(UserFactory())
    assert client.post(url, data).status_code == 404
    assert client.get(url).status_code == 405
    assert stripe_refunded(payment) == []


def test_the_terminate_endpoint(client):
    licence = build.licence()
    royalty_due(licence, 75)
    client.force_login(build.member(licence.licensee))
    assert client.post(reverse("licence_terminate", args=[licence.pk])).status_code == 403
    client.force_login(build.ip_officer())
    page = client.get(reverse("statement_licence", args=[licence.pk]))
    assert b'id="terminate"' in page.content
    assert client.post(reverse("licence_terminate", args=[licence.pk])).status_code == 302
    licence.refresh_from_db()
    assert licence.state == LicenceState.TERMINATED


def test_returning_to_the_payment_page_after_a_partial_refund_does_not_count_the_payment_again():
    from licensing.licences import services as licence_services

    payment = card_payment()
    refunds.payment_refund(payment=payment, amount_fen=30_000, by=holder_admin(payment.licence), reason="Late")
    before = LedgerEntry.objects.filter(payment=payment).count()
    payment.refresh_from_db()
    result = licence_services.payment_sync(payment=payment)
    payment.refresh_from_db()
    assert result["status"] == "succeeded"
    assert payment.state == Payment.State.PARTIALLY_REFUNDED
    assert LedgerEntry.objects.filter(payment=payment).count() == before
    assert postings(payment, "payment_received").values("posting").distinct().count() == 1
