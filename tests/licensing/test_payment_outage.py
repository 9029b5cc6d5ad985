"""Paying while Stripe cannot be reached (issue 21, faults): the buyer's pay step answers a message, not a
500; nothing changes on our side; once Stripe answers again, the next attempt pays. "Unreachable" is real: a
loopback port nobody listens on (connection refused) or one that accepts and never answers (a timeout)."""

import json
import socket
import time

import pytest
from django.test import Client
from django.urls import reverse

from licensing.licences.services import payment_pay_with_card
from licensing.models.licences import LedgerEntry, LicenceState, Payment
from tests.licensing.fixtures_payments import (
    CARD_3DS,
    CARD_OK,
    card_token,
    intent_at_stripe,
    notice,
    postings,
    use_localstripe,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _localstripe(settings, localstripe_url):
    use_localstripe(settings, localstripe_url)


@pytest.fixture
def refused_url():
    """A loopback address where nothing listens: every connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_url():
    """A loopback address that accepts connections (the kernel's backlog) and never answers them."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def _notice():
    licence, member = notice(lump_sum_fen=2_000_000)
    return licence, licence.payments.get(purpose=Payment.Purpose.FIRST_AMOUNT), member


def _pay_through_the_page(licence, member, token: str):
    client = Client()
    client.force_login(member)
    return client.post(reverse("licence_pay", args=[licence.pk]), data=json.dumps({"token": token}),
                       content_type="application/json")


def test_paying_while_stripe_refuses_connections_answers_a_message_and_changes_nothing(settings, refused_url):
    licence, payment, member = _notice()
    token = card_token(CARD_OK)  # Stripe.js read the card just before Stripe became unreachable
    settings.STRIPE_API_BASE = refused_url

    response = _pay_through_the_page(licence, member, token)

    assert response.status_code == 200
    assert response.json()["status"] == "error"
    assert "not reachable" in response.json()["message"] and "nothing was charged" in response.json()["message"]
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert (payment.state, payment.stripe_payment_intent_id) == (Payment.State.CREATED, None)
    assert licence.state == LicenceState.PAYMENT_PENDING
    assert not LedgerEntry.objects.filter(licence=licence).exists()


def test_an_attempt_left_in_3d_secure_then_stripe_down_then_back_pays_on_a_fresh_intent(settings, refused_url):
    licence, payment, member = _notice()
    assert payment_pay_with_card(payment=payment, token_id=card_token(CARD_3DS))["status"] == "requires_action"
    payment.refresh_from_db()
    abandoned, stripe_url = payment.stripe_payment_intent_id, settings.STRIPE_API_BASE
    token = card_token(CARD_OK)
    settings.STRIPE_API_BASE = refused_url

    down = payment_pay_with_card(payment=payment, token_id=token)

    assert down["status"] == "error" and "not reachable" in down["message"]
    payment.refresh_from_db()
    assert (payment.state, payment.stripe_payment_intent_id) == (Payment.State.REQUIRES_ACTION, abandoned)

    settings.STRIPE_API_BASE = stripe_url
    again = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))

    assert again["status"] == "succeeded", again
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED and licence.state == LicenceState.ACTIVE
    assert intent_at_stripe(abandoned)["status"] == "canceled"
    assert len(postings(licence)) == 1


def test_a_stripe_that_accepts_and_never_answers_gives_up_after_the_configured_timeout(settings, silent_url):
    licence, payment, member = _notice()
    token = card_token(CARD_OK)
    settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT, settings.STRIPE_MAX_NETWORK_RETRIES = silent_url, 0.5, 1

    started = time.monotonic()
    response = _pay_through_the_page(licence, member, token)
    waited = time.monotonic() - started

    assert response.status_code == 200 and response.json()["status"] == "error"
    # Two attempts of 0.5 s and one back-off; the library's own default would wait 80 s per attempt.
    assert waited < 15, waited
    payment.refresh_from_db()
    assert payment.state == Payment.State.CREATED
