import pytest
from django.utils import translation

from licensing.licences.services import payment_start
from licensing.models.licences import Payment
from licensing.payments.gateway import confirm_with_card_token
from tests.licensing.fixtures_payments import CARD_OK, card_token, intent_at_stripe, notice, use_localstripe


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the site's default language is Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def on_localstripe(settings, localstripe_url):
    """The app pays through the session's localstripe (the payment, webhook and notification tests)."""
    use_localstripe(settings, localstripe_url)


@pytest.fixture
def paid_at_stripe(on_localstripe):
    """A licence of 20,000 yuan whose card Stripe.js has confirmed at Stripe (localstripe) while our records still
    wait: neither the webhook nor the buyer's return has arrived. Returns (licence, payment, intent as a dict)."""
    licence, _member = notice(lump_sum_fen=2_000_000)
    payment, _secret = payment_start(payment=licence.payments.get())
    confirm_with_card_token(intent_id=payment.stripe_payment_intent_id, token_id=card_token(CARD_OK))
    intent = intent_at_stripe(payment.stripe_payment_intent_id)
    assert intent["status"] == "succeeded"
    payment.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_PAYMENT
    return licence, payment, intent
