"""The Stripe webhook endpoint through Django's test client, with events signed by the stripe library the way
Stripe signs them (t=...,v1=HMAC-SHA256): every delivery stored first, bad signatures refused with 400,
each event applied once, failures answered 500 so Stripe retries, and the browser return racing it."""

import json
import time

import pytest
import stripe

from licensing.licences.services import payment_start, payment_sync
from licensing.models.licences import LedgerEntry, LicenceState, Payment, ProcessedEvent, WebhookDelivery
from licensing.payments.gateway import confirm_with_card_token
from tests.licensing.fixtures_payments import (
    CARD_DECLINED,
    WEBHOOK_SECRET,
    card_token,
    event_payload,
    give_notice,
    intent_at_stripe,
    licensee_with_member,
    new_event_id,
    post_webhook,
    postings,
    published_declaration,
    signature,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_localstripe")]


def _deliver(event_type: str, obj: dict, *, event_id: str | None = None):
    payload = event_payload(event_type, obj, event_id=event_id)
    return post_webhook(payload, signature(payload)), payload


def _state(licence) -> str:
    licence.refresh_from_db()
    return licence.state


def test_a_signed_payment_succeeded_event_activates_the_licence_and_the_later_return_page_changes_nothing(
        paid_at_stripe):
    licence, payment, intent = paid_at_stripe

    response, payload = _deliver("payment_intent.succeeded", intent)

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.result == WebhookDelivery.Result.PROCESSED
    assert delivery.event_id == json.loads(payload)["id"] and delivery.event_type == "payment_intent.succeeded"
    assert _state(licence) == LicenceState.ACTIVE and licence.certificate_number
    assert ProcessedEvent.objects.filter(event_id=delivery.event_id).exists()

    assert payment_sync(payment=payment)["status"] == "succeeded"  # the stale object the return page holds
    payment.refresh_from_db()
    assert payment_sync(payment=payment)["status"] == Payment.State.SUCCEEDED
    [lines] = postings(licence).values()
    assert sum(lines.values()) == 0 and lines["card_clearing"] == 2_000_000


def test_the_return_page_first_then_the_webhook_makes_one_set_of_ledger_entries(paid_at_stripe):
    licence, payment, intent = paid_at_stripe
    assert payment_sync(payment=payment)["status"] == "succeeded"
    assert _state(licence) == LicenceState.ACTIVE

    response, _payload = _deliver("payment_intent.succeeded", intent)

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().result == WebhookDelivery.Result.PROCESSED
    assert len(postings(licence)) == 1
    assert LedgerEntry.objects.filter(payment=payment).count() == 2  # card and holder (no platform fee set)
    assert _state(licence) == LicenceState.ACTIVE


def test_the_same_event_delivered_twice_is_processed_once(paid_at_stripe):
    licence, _payment, intent = paid_at_stripe
    payload = event_payload("payment_intent.succeeded", intent)

    first = post_webhook(payload, signature(payload))
    second = post_webhook(payload, signature(payload))

    assert (first.status_code, second.status_code) == (200, 200)
    results = list(WebhookDelivery.objects.order_by("received_at", "pk").values_list("result", flat=True))
    assert results == [WebhookDelivery.Result.PROCESSED, WebhookDelivery.Result.DUPLICATE]
    assert ProcessedEvent.objects.count() == 1
    assert len(postings(licence)) == 1


@pytest.mark.parametrize("how", ["tampered body", "wrong secret", "missing header", "older than 300 s"])
def test_a_delivery_without_a_valid_signature_is_stored_and_refused_with_400(paid_at_stripe, how):
    licence, _payment, intent = paid_at_stripe
    payload = event_payload("payment_intent.succeeded", intent)
    header = signature(payload)
    if how == "tampered body":
        payload = payload.replace('"amount": 2000000', '"amount": 1')
        assert '"amount": 1,' in payload
    elif how == "wrong secret":
        header = signature(payload, secret="whsec_someone_else")
    elif how == "missing header":
        header = None
    else:
        header = signature(payload, timestamp=int(time.time()) - 301)

    response = post_webhook(payload, header)

    assert response.status_code == 400
    delivery = WebhookDelivery.objects.get()
    assert delivery.result == WebhookDelivery.Result.BAD_SIGNATURE and delivery.error
    assert delivery.body == payload
    assert not ProcessedEvent.objects.exists()
    assert _state(licence) == LicenceState.PAYMENT_PENDING and not LedgerEntry.objects.exists()


def test_the_signing_secret_is_the_configured_one(settings, paid_at_stripe):
    licence, _payment, intent = paid_at_stripe
    settings.STRIPE_WEBHOOK_SECRET = "whsec_rotated"
    payload = event_payload("payment_intent.succeeded", intent)

    assert post_webhook(payload, signature(payload, secret=WEBHOOK_SECRET)).status_code == 400
    assert post_webhook(payload, signature(payload, secret="whsec_rotated")).status_code == 200
    assert _state(licence) == LicenceState.ACTIVE


def test_an_event_type_we_do_not_handle_is_acknowledged_and_ignored():
    response, payload = _deliver("customer.created", {"id": "cus_test123", "object": "customer"})

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.result == WebhookDelivery.Result.IGNORED and delivery.event_type == "customer.created"
    assert not ProcessedEvent.objects.exists()


def test_a_failing_handler_answers_500_records_the_failure_and_a_corrected_retry_succeeds(paid_at_stripe):
    licence, payment, intent = paid_at_stripe
    event_id = new_event_id()

    response, _payload = _deliver("payment_intent.succeeded", {**intent, "amount": intent["amount"] + 1},
                                  event_id=event_id)

    assert response.status_code == 500
    failed = WebhookDelivery.objects.get()
    assert failed.result == WebhookDelivery.Result.FAILED and "does not match" in failed.error
    assert failed.event_id == event_id
    assert not ProcessedEvent.objects.exists()  # not marked processed, so Stripe's retry is applied
    assert not LedgerEntry.objects.exists()
    assert _state(licence) == LicenceState.PAYMENT_PENDING
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT

    retry, _payload = _deliver("payment_intent.succeeded", intent, event_id=event_id)

    assert retry.status_code == 200
    assert WebhookDelivery.objects.filter(event_id=event_id).count() == 2
    assert WebhookDelivery.objects.exclude(pk=failed.pk).get().result == WebhookDelivery.Result.PROCESSED
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 1
    assert _state(licence) == LicenceState.ACTIVE
    assert len(postings(licence)) == 1


def test_every_request_is_stored_with_its_raw_body_and_signature_header_before_processing(paid_at_stripe):
    _licence, _payment, intent = paid_at_stripe
    good, good_payload = _deliver("payment_intent.succeeded", intent)
    bad_payload = event_payload("payment_intent.succeeded", intent)
    post_webhook(bad_payload, "t=1,v1=deadbeef")
    ignored, _ = _deliver("customer.created", {"id": "cus_1", "object": "customer"})

    deliveries = list(WebhookDelivery.objects.order_by("received_at", "pk"))
    assert [d.body for d in deliveries][:2] == [good_payload, bad_payload]
    assert [d.result for d in deliveries] == [WebhookDelivery.Result.PROCESSED, WebhookDelivery.Result.BAD_SIGNATURE,
                                              WebhookDelivery.Result.IGNORED]
    assert all("Stripe-Signature" in d.headers for d in deliveries)
    processed = ProcessedEvent.objects.get()
    assert deliveries[0].received_at <= processed.processed_at


def test_a_payment_failed_event_marks_the_payment_failed_without_activating():
    declaration = published_declaration()
    licensee, member = licensee_with_member()
    licence = give_notice(declaration, licensee, member)
    payment, _secret = payment_start(payment=licence.payments.get())
    with pytest.raises(stripe.CardError, match="declined"):
        confirm_with_card_token(intent_id=payment.stripe_payment_intent_id, token_id=card_token(CARD_DECLINED))

    response, _payload = _deliver("payment_intent.payment_failed", intent_at_stripe(payment.stripe_payment_intent_id))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.state == Payment.State.FAILED and "declined" in payment.failure_message.lower()
    assert _state(licence) == LicenceState.PAYMENT_FAILED
    assert not LedgerEntry.objects.filter(licence=licence).exists()


def test_an_event_for_an_intent_that_is_not_ours_changes_nothing(paid_at_stripe):
    licence, _payment, intent = paid_at_stripe
    response, _payload = _deliver("payment_intent.succeeded", {**intent, "id": "pi_from_another_system"})
    assert response.status_code == 200
    assert _state(licence) == LicenceState.PAYMENT_PENDING and not LedgerEntry.objects.exists()
