"""`manage.py reconcile_payments` against the real localstripe: silent and exit 0 when the ledger, the
payments and Stripe agree; one line naming the payment per difference and exit 1 otherwise."""

import io
import uuid

import pytest
import stripe
from django.core.management import CommandError, call_command

from licensing.ledger import services as ledger
from licensing.models.licences import LedgerEntry, Payment
from licensing.payments import refunds
from marketplace.parties.models import MembershipRole
from tests.licensing import ledger_builders as build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stripe_and_fee(settings, localstripe_url):
    settings.STRIPE_API_BASE = localstripe_url
    settings.PLATFORM_FEE_RATE_PROVIDER = build.FEE_RATE_PROVIDER


def run() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile_payments", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def card_payment(amount_fen=100_000):
    licence = build.licence(first_amount_fen=amount_fen)
    return build.paid_payment(licence, intent_id=build.succeeded_intent(amount_fen))


def test_agreeing_books_reconcile_with_exit_status_0():
    card_payment()
    refunded = card_payment(50_000)
    refunds.payment_refund(payment=refunded, amount_fen=20_000, by=build.ip_officer(), reason="partial")
    voucher_licence = build.licence(first_amount_fen=30_000)
    build.paid_payment(voucher_licence, voucher_=build.voucher(voucher_licence.licensee, amount_fen=30_000),
                       voucher_fen=30_000)
    unpaid = build.licence(first_amount_fen=10_000, state="payment_pending")
    intent = stripe.PaymentIntent.create(amount=10_000, currency="cny", api_key="sk_test_x")
    Payment.objects.create(licence=unpaid, purpose=Payment.Purpose.FIRST_AMOUNT, amount_fen=10_000, charge_fen=10_000,
                           state=Payment.State.REQUIRES_PAYMENT, stripe_payment_intent_id=intent.id)

    status, out = run()
    assert status == 0, out
    assert "no differences" in out and "checked 4 payments (3 with a Stripe intent)" in out


def test_a_fully_refunded_payment_with_a_voucher_reconciles():
    licence = build.licence(first_amount_fen=100_000)
    payment = build.paid_payment(licence, voucher_=build.voucher(licence.licensee, amount_fen=40_000),
                                 voucher_fen=40_000, intent_id=build.succeeded_intent(60_000))
    admin = build.member(licence.licensor, MembershipRole.ADMIN)
    payment = refunds.payment_refund(payment=payment, amount_fen=10_000, by=admin, reason="a")
    refunds.payment_refund(payment=payment, amount_fen=50_000, by=admin, reason="b")
    status, out = run()
    assert status == 0, out


def test_a_payment_missing_from_the_ledger_is_reported():
    payment = card_payment()
    LedgerEntry.objects.filter(payment=payment).delete()
    status, out = run()
    assert status == 1
    assert (f"payment {payment.pk}: Stripe intent {payment.stripe_payment_intent_id} succeeded for 1000.00 but the "
            f"ledger has no payment received") in out
    assert out.count(f"payment {payment.pk}:") == 1  # one cause, one line
    assert out.strip().splitlines()[-1].endswith("(checked 1 payment (1 with a Stripe intent) and 0 ledger postings)")


def test_a_missing_ledger_line_is_reported_as_an_unbalanced_posting_and_a_card_difference():
    payment = card_payment()
    LedgerEntry.objects.filter(payment=payment, account="card_clearing").delete()
    status, out = run()
    assert status == 1
    assert "does not balance" in out and f"payment {payment.pk}" in out
    assert f"payment {payment.pk}: ledger card clearing 0.00" in out


def test_an_amount_that_differs_from_the_intent_is_reported():
    licence = build.licence(first_amount_fen=90_000)
    payment = build.paid_payment(licence, intent_id=build.succeeded_intent(100_000))
    status, out = run()
    assert status == 1
    assert (f"payment {payment.pk}: Stripe intent {payment.stripe_payment_intent_id} is for 1000.00 CNY, the payment "
            f"charges 900.00 CNY") in out


def test_a_paid_payment_whose_intent_did_not_succeed_is_reported():
    licence = build.licence(first_amount_fen=100_000)
    intent = stripe.PaymentIntent.create(amount=100_000, currency="cny", api_key="sk_test_x")
    payment = build.paid_payment(licence, intent_id=intent.id)
    status, out = run()
    assert status == 1
    assert f"payment {payment.pk}: ledger says paid 1000.00, Stripe intent {intent.id} is requires_payment_method" in out
    assert out.count(f"payment {payment.pk}:") == 1


def test_a_refund_made_in_stripe_but_not_in_the_ledger_is_reported():
    payment = card_payment()
    stripe.Refund.create(payment_intent=payment.stripe_payment_intent_id, amount=25_000, api_key="sk_test_x")
    status, out = run()
    assert status == 1
    assert (f"payment {payment.pk}: ledger card clearing 1000.00, Stripe intent {payment.stripe_payment_intent_id}: "
            f"1000.00 charged less 250.00 refunded = 750.00") in out
    assert f"payment {payment.pk}: payment records 0.00 refunded, Stripe refunded 250.00" in out
    assert f"payment {payment.pk}: 0 refund posting(s) in the ledger, 1 refund(s) in Stripe" in out


def test_a_payment_posted_twice_is_reported():
    payment = card_payment()
    ledger.post_payment_received(payment)
    status, out = run()
    assert status == 1 and f"payment {payment.pk}: the payment is posted as received 2 times" in out


def test_an_intent_stripe_does_not_know_is_reported():
    payment = build.paid_payment(build.licence(), intent_id="pi_unknown_to_stripe")
    status, out = run()
    assert status == 1 and f"payment {payment.pk}: Stripe has no intent pi_unknown_to_stripe" in out


def test_an_unbalanced_posting_without_a_payment_is_reported():
    posting = uuid.uuid4()
    LedgerEntry.objects.create(posting=posting, account="platform_fees", amount_fen=-1, kind="adjustment")
    status, out = run()
    assert status == 1 and f"posting {posting} (adjustment) does not balance: its lines add up to -0.01" in out
