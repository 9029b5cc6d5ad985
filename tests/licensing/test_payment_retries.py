"""Paying again after an attempt that failed or was abandoned, against the real localstripe (issue 20,
defect 3): a 3-D Secure box left open, a declined card, a failed authentication. The retry runs on a fresh
intent, the old one is cancelled at Stripe, and the old attempt's late events change nothing."""

import pytest

from licensing.licences.services import (
    payment_mark_failed,
    payment_pay_with_card,
    payment_start,
    payment_sync,
)
from licensing.models.licences import LedgerEntry, Licence, LicenceState, Payment, WebhookDelivery
from tests.licensing.fixtures_payments import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    authenticate_3ds,
    card_token,
    event_payload,
    give_notice,
    intent_at_stripe,
    licensee_with_member,
    post_webhook,
    postings,
    published_declaration,
    signature,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_localstripe")]


def _payment_left_in_3d_secure() -> tuple[Licence, Payment, str]:
    """A notice paid with the 3-D Secure card whose authentication box the buyer left without answering."""
    declaration = published_declaration()
    licensee, member = licensee_with_member()
    licence = give_notice(declaration, licensee, member)
    payment = licence.payments.get(purpose=Payment.Purpose.FIRST_AMOUNT)
    result = payment_pay_with_card(payment=payment, token_id=card_token(CARD_3DS))
    assert result["status"] == "requires_action"
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_ACTION
    abandoned = payment.stripe_payment_intent_id
    assert intent_at_stripe(abandoned)["status"] == "requires_action"
    return licence, payment, abandoned


def _deliver(event_type: str, obj: dict):
    payload = event_payload(event_type, obj)
    response = post_webhook(payload, signature(payload))
    assert response.status_code == 200, response.content
    return WebhookDelivery.objects.latest("received_at")


def _assert_paid_once(licence: Licence, payment: Payment) -> None:
    licence.refresh_from_db()
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED and payment.failure_message == ""
    assert licence.state == LicenceState.ACTIVE and licence.certificate_number
    assert intent_at_stripe(payment.stripe_payment_intent_id)["status"] == "succeeded"
    assert len(postings(licence)) == 1


def test_a_good_card_after_an_abandoned_3d_secure_box_pays_on_a_fresh_intent_and_cancels_the_old_one():
    licence, payment, abandoned = _payment_left_in_3d_secure()

    retry = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))

    assert retry["status"] == "succeeded", retry
    _assert_paid_once(licence, payment)
    assert payment.stripe_payment_intent_id != abandoned
    assert intent_at_stripe(abandoned)["status"] == "canceled"  # it can never be charged later


def test_a_second_3d_secure_attempt_after_an_abandoned_one_can_be_authenticated():
    licence, payment, abandoned = _payment_left_in_3d_secure()

    again = payment_pay_with_card(payment=payment, token_id=card_token(CARD_3DS))

    assert again["status"] == "requires_action", again
    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id != abandoned and payment.state == Payment.State.REQUIRES_ACTION
    authenticate_3ds(payment.stripe_payment_intent_id, again["client_secret"], success=True)
    assert payment_sync(payment=payment)["status"] == "succeeded"
    _assert_paid_once(licence, payment)


@pytest.mark.parametrize("first_card", [CARD_DECLINED, "3ds-failed"])
def test_a_good_card_after_a_failed_attempt_pays(first_card):
    declaration = published_declaration()
    licensee, member = licensee_with_member()
    licence = give_notice(declaration, licensee, member)
    payment = licence.payments.get()
    if first_card == "3ds-failed":
        started = payment_pay_with_card(payment=payment, token_id=card_token(CARD_3DS))
        payment.refresh_from_db()
        authenticate_3ds(payment.stripe_payment_intent_id, started["client_secret"], success=False)
        assert payment_sync(payment=payment)["status"] == "failed"
    else:
        assert payment_pay_with_card(payment=payment, token_id=card_token(first_card))["status"] == "failed"
    payment.refresh_from_db()
    failed_intent = payment.stripe_payment_intent_id

    retry = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))

    assert retry["status"] == "succeeded", retry
    _assert_paid_once(licence, payment)
    assert intent_at_stripe(failed_intent)["status"] == "canceled"


def test_late_events_of_the_abandoned_attempt_do_not_fail_the_retry():
    licence, payment, abandoned = _payment_left_in_3d_secure()
    payment, _secret = payment_start(payment=payment)  # the buyer is back on the page, paying again
    assert payment.stripe_payment_intent_id != abandoned

    old = intent_at_stripe(abandoned)
    cancelled = _deliver("payment_intent.canceled", old)
    failed = _deliver("payment_intent.payment_failed",
                      {**old, "last_payment_error": {"message": "The authentication was not completed."}})

    assert cancelled.result == WebhookDelivery.Result.IGNORED
    assert failed.result == WebhookDelivery.Result.PROCESSED, failed.error
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT and payment.failure_message == ""
    assert licence.state == LicenceState.PAYMENT_PENDING
    assert payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))["status"] == "succeeded"
    _assert_paid_once(licence, payment)

    # Even after the licence is active, the old attempt's failure changes nothing.
    _deliver("payment_intent.payment_failed", old)
    _assert_paid_once(licence, payment)


def test_a_failure_of_a_replaced_intent_read_before_the_retry_changes_nothing():
    """The webhook found the payment by the old intent id just before the retry replaced it: once it holds
    the payment's lock it sees the intent is no longer the payment's and leaves the new attempt alone."""
    _licence, payment, abandoned = _payment_left_in_3d_secure()
    payment, _secret = payment_start(payment=payment)

    payment_mark_failed(payment_id=payment.pk, message="late", intent_id=abandoned)

    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT and payment.failure_message == ""


def test_an_abandoned_3d_secure_box_completed_in_another_tab_is_settled_not_charged_again():
    licence, payment, abandoned = _payment_left_in_3d_secure()
    secret = intent_at_stripe(abandoned)["client_secret"]
    authenticate_3ds(abandoned, secret, success=True)  # neither the webhook nor the return has arrived

    retry = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))

    assert retry["status"] == "succeeded"
    _assert_paid_once(licence, payment)
    assert payment.stripe_payment_intent_id == abandoned
    assert LedgerEntry.objects.filter(payment=payment).values("posting").distinct().count() == 1
