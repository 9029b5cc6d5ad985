"""Races that only a real database with row locks can show (PostgreSQL): duplicate webhook deliveries at
the same instant, the webhook racing the buyer's return, a double-clicked pay button, two licensees paying
for one declaration, one voucher spent by two payments. Threads start together on a barrier; each closes
its own database connection."""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import translation

from licensing.licences.services import payment_apply_voucher, payment_pay_with_card, payment_start, payment_sync
from licensing.models.licences import (
    LedgerEntry,
    Licence,
    LicenceState,
    Payment,
    ProcessedEvent,
    Voucher,
    VoucherUse,
    WebhookDelivery,
)
from licensing.payments.gateway import confirm_with_card_token
from tests.licensing.fixtures_payments import (
    CARD_OK,
    card_token,
    event_payload,
    give_notice,
    intent_at_stripe,
    licensee_with_member,
    post_webhook,
    postings,
    published_declaration,
    signature,
    use_localstripe,
    voucher_for,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="concurrency needs PostgreSQL row locks; SQLite serialises every writer"),
    # Committed for real so the threads see the data; the migrations' rows (Wagtail's site) are restored after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _localstripe(settings, localstripe_url):
    use_localstripe(settings, localstripe_url)


def run_together(*calls):
    """Run the callables in threads released at the same instant; return their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            with translation.override("en"):  # the language is per thread; messages are asserted in English
                results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def _paid_at_stripe(lump_sum_fen: int = 3_000_000):
    """A licence whose card Stripe.js confirmed at Stripe; our side has heard nothing yet."""
    declaration = published_declaration(lump_sum_fen=lump_sum_fen)
    licensee, member = licensee_with_member()
    licence = give_notice(declaration, licensee, member)
    payment, _secret = payment_start(payment=licence.payments.get())
    confirm_with_card_token(intent_id=payment.stripe_payment_intent_id, token_id=card_token(CARD_OK))
    return licence, payment, intent_at_stripe(payment.stripe_payment_intent_id)


def test_the_same_signed_event_delivered_20_times_at_once_activates_and_posts_once():
    licence, payment, intent = _paid_at_stripe()
    payload = event_payload("payment_intent.succeeded", intent)
    header = signature(payload)

    responses = run_together(*[lambda: post_webhook(payload, header) for _ in range(20)])

    assert [getattr(r, "status_code", r) for r in responses] == [200] * 20
    results = sorted(WebhookDelivery.objects.values_list("result", flat=True))
    assert results.count(WebhookDelivery.Result.PROCESSED) == 1
    assert results.count(WebhookDelivery.Result.DUPLICATE) == 19
    assert ProcessedEvent.objects.count() == 1
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE and licence.certificate_number
    assert len(postings(licence)) == 1
    assert LedgerEntry.objects.filter(payment=payment).aggregate(s=Sum("amount_fen"))["s"] == 0


def test_the_webhook_and_the_buyers_return_at_the_same_instant_post_once():
    licence, payment, intent = _paid_at_stripe()
    payload = event_payload("payment_intent.succeeded", intent)
    header = signature(payload)

    webhook, returned = run_together(lambda: post_webhook(payload, header), lambda: payment_sync(payment=payment))

    assert getattr(webhook, "status_code", webhook) == 200
    assert not isinstance(returned, Exception), returned
    assert returned["status"] == "succeeded"
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    assert len(postings(licence)) == 1
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED


def test_a_double_clicked_pay_button_stores_one_payment_intent():
    declaration = published_declaration()
    licensee, member = licensee_with_member()
    licence = give_notice(declaration, licensee, member)
    payment = licence.payments.get()

    first, second = run_together(lambda: payment_start(payment=payment), lambda: payment_start(payment=payment))

    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    payment.refresh_from_db()
    stored = payment.stripe_payment_intent_id
    assert stored and payment.state == Payment.State.REQUIRES_PAYMENT
    # Both clicks confirm the one stored intent (localstripe ignores idempotency keys, so the loser's own
    # intent is cancelled rather than left chargeable).
    assert first[0].stripe_payment_intent_id == second[0].stripe_payment_intent_id == stored
    assert first[1] == second[1] == intent_at_stripe(stored)["client_secret"]

    assert payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))["status"] == "succeeded"
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE and len(postings(licence)) == 1


def test_two_licensees_paying_for_one_declaration_at_once_each_get_their_licence_with_consecutive_numbers():
    declaration = published_declaration()
    buyers = [licensee_with_member(), licensee_with_member()]

    def take_licence(licensee, member):
        licence = give_notice(declaration, licensee, member)
        return payment_pay_with_card(payment=licence.payments.get(), token_id=card_token(CARD_OK))

    results = run_together(*[lambda b=b: take_licence(*b) for b in buyers])

    assert [r if isinstance(r, Exception) else r["status"] for r in results] == ["succeeded", "succeeded"]
    for licensee, _member in buyers:
        [licence] = Licence.objects.filter(declaration=declaration, licensee=licensee)
        assert licence.state == LicenceState.ACTIVE and licence.certificate_number
        assert len(postings(licence)) == 1
    assert Licence.objects.values("certificate_number").distinct().count() == 2
    # Both numbered from the one locked serial: consecutive, whoever activated first.
    serials = sorted(int(n[-8:]) for n in Licence.objects.values_list("certificate_number", flat=True))
    assert serials[1] == serials[0] + 1


def test_one_voucher_spent_by_several_payments_at_once_never_goes_below_zero():
    licensee, member = licensee_with_member()
    payments = []
    for _ in range(4):
        licence = give_notice(published_declaration(lump_sum_fen=500_000), licensee, member)
        payments.append(licence.payments.get())
    voucher = voucher_for(licensee, amount_fen=1_200_000)

    results = run_together(*[lambda p=p: payment_apply_voucher(payment=p, voucher=voucher, by=member)
                             for p in payments])

    voucher.refresh_from_db()
    assert voucher.balance_fen >= 0
    used = VoucherUse.objects.filter(voucher=voucher).aggregate(s=Sum("amount_fen"))["s"]
    assert used == voucher.amount_fen - voucher.balance_fen
    assert used <= voucher.amount_fen
    covered = sorted(Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list("voucher_fen", flat=True))
    assert covered == [0, 200_000, 500_000, 500_000]  # balance spent to the last fen, never twice
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and "no balance left" in str(refused[0])
    assert Voucher.objects.get(pk=voucher.pk).balance_fen == 0
