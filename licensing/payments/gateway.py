"""The one place that talks to Stripe (the real `stripe` library; in dev and tests pointed at localstripe
through STRIPE_API_BASE). Amounts cross this edge as integer fen, which is Stripe's minor unit for CNY."""

from dataclasses import dataclass

import stripe
from django.conf import settings


def client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {}
    # A bounded timeout (settings.STRIPE_TIMEOUT): the library's 80 s default outlives the web worker.
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base,
                               max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
                               http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT))


@dataclass(frozen=True)
class IntentState:
    id: str
    status: str
    amount_fen: int
    currency: str
    client_secret: str
    error_message: str  # Stripe's English text: for the log, never the page (licensing.payments.declines)
    metadata: dict
    error_code: str = ""  # the decline code, else the error code, of the last failed attempt

    @classmethod
    def of(cls, intent) -> "IntentState":
        # stripe 16 objects are not mappings: turn them (and webhook payloads) into plain dicts first.
        data = intent.to_dict() if hasattr(intent, "to_dict") else dict(intent)
        error = data.get("last_payment_error") or {}
        return cls(id=data["id"], status=data["status"], amount_fen=int(data["amount"]),
                   currency=str(data["currency"]).upper(), client_secret=data.get("client_secret") or "",
                   error_message=error.get("message") or "", metadata=dict(data.get("metadata") or {}),
                   error_code=error.get("decline_code") or error.get("code") or "")


def create_intent(*, amount_fen: int, currency: str, metadata: dict, idempotency_key: str) -> IntentState:
    # The idempotency key makes a retried request (double click, network retry) return the same intent.
    intent = client().v1.payment_intents.create(
        params={"amount": amount_fen, "currency": currency.lower(), "metadata": metadata,
                "payment_method_types": ["card"]},
        options={"idempotency_key": idempotency_key})
    return IntentState.of(intent)


def retrieve_intent(intent_id: str) -> IntentState:
    return IntentState.of(client().v1.payment_intents.retrieve(intent_id))


def confirm_with_card_token(*, intent_id: str, token_id: str) -> IntentState:
    """Attach the card that Stripe.js tokenised in the browser (the card number never reaches us) and
    confirm. Stripe accepts a Card id as a PaymentIntent's payment method; localstripe's Stripe.js stand-in
    tokenises cards the same way, so one page works with both. Declines raise stripe.CardError."""
    c = client()
    token = c.v1.tokens.retrieve(token_id)
    c.v1.payment_intents.update(intent_id, params={"payment_method": token["card"]["id"]})
    return IntentState.of(c.v1.payment_intents.confirm(intent_id))


def cancel_intent(intent_id: str) -> IntentState:
    return IntentState.of(client().v1.payment_intents.cancel(intent_id))


def refund(*, intent_id: str, amount_fen: int, idempotency_key: str):
    return client().v1.refunds.create(params={"payment_intent": intent_id, "amount": amount_fen},
                                      options={"idempotency_key": idempotency_key})


def list_refunds(intent_id: str) -> list:
    return list(client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 100}).auto_paging_iter())


def verify_webhook(payload: bytes, signature: str | None):
    """Check Stripe's signature (HMAC-SHA256 over timestamp and raw body, 5-minute tolerance). Raises
    stripe.SignatureVerificationError or ValueError."""
    return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300)
