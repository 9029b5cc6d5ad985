"""Reconciliation of the ledger with Stripe and with the payments themselves (read only).

For every payment:
  ledger vs payment  a paid payment (succeeded, partially refunded, refunded) has exactly one
                     `payment_received` posting and an unpaid one none; its card_clearing lines add up to
                     charge − refunded, its voucher_fund lines to the voucher part still spent.
  ledger vs Stripe   for a payment with a PaymentIntent: the intent exists; if our side says paid, it
                     succeeded; its amount and currency are the payment's card part; the card_clearing lines
                     add up to the intent's amount less the refunds Stripe made; there is one `refund`
                     posting per Stripe refund and the payment records what Stripe refunded.
And every posting of the ledger adds up to zero.

Each difference is one sentence naming the payment (or the posting); `manage.py reconcile_payments`
prints them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import stripe
from django.db.models import Count, Max, Sum

from licensing.models.licences import LedgerAccount, LedgerEntry, Payment
from licensing.payments import gateway as stripe_gateway

PAID_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED, Payment.State.REFUNDED)
VOUCHER_SPENT_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED)
# Refunds in these states gave (or will give) nothing back.
VOID_REFUND_STATES = ("failed", "canceled")


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


@dataclass(frozen=True)
class Difference:
    message: str
    payment_id: int | None = None


@dataclass
class Report:
    payments: int = 0
    intents: int = 0
    postings: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences


@dataclass
class _PaymentLedger:
    by_account: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    received_card: int = 0
    postings: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _ledger_by_payment() -> dict[int, _PaymentLedger]:
    """Two aggregate queries: the sum per (payment, kind, account) and the postings per (payment, kind)."""
    books: dict[int, _PaymentLedger] = defaultdict(_PaymentLedger)
    sums = (LedgerEntry.objects.filter(payment__isnull=False).order_by().values("payment_id", "kind", "account")
            .annotate(total=Sum("amount_fen")))
    for row in sums:
        book = books[row["payment_id"]]
        book.by_account[row["account"]] += row["total"]
        if row["kind"] == "payment_received" and row["account"] == LedgerAccount.CARD_CLEARING:
            book.received_card += row["total"]
    counts = (LedgerEntry.objects.filter(payment__isnull=False).order_by().values("payment_id", "kind")
              .annotate(n=Count("posting", distinct=True)))
    for row in counts:
        books[row["payment_id"]].postings[row["kind"]] = row["n"]
    return books


def unbalanced_postings() -> list[Difference]:
    rows = (LedgerEntry.objects.order_by().values("posting")
            .annotate(total=Sum("amount_fen"), kind=Max("kind"), payment_id=Max("payment_id")).exclude(total=0)
            .order_by("posting"))
    return [Difference(f"posting {row['posting']} ({row['kind']}"
                       + (f", payment {row['payment_id']}" if row["payment_id"] else "")
                       + f") does not balance: its lines add up to {yuan(row['total'])}", row["payment_id"])
            for row in rows]


def _check_ledger(payment: Payment, book: _PaymentLedger) -> dict[str, str]:
    """Ledger vs the payment record, keyed by what differs (so the Stripe check can say it better or skip
    what follows from it)."""
    found: dict[str, str] = {}
    paid = payment.state in PAID_STATES
    received = book.postings.get("payment_received", 0)
    if paid and received == 0:
        found["no_received"] = (f"payment is {payment.state} ({yuan(payment.amount_fen)}) but the ledger has no "
                                f"payment received")
        return found  # every other ledger figure is missing for the same reason
    if not paid and received:
        found["received_unpaid"] = f"ledger says paid {yuan(book.received_card)}, but the payment is {payment.state}"
    if received > 1:
        found["received_twice"] = f"the payment is posted as received {received} times in the ledger"
    card = book.by_account.get(LedgerAccount.CARD_CLEARING, 0)
    expected_card = payment.charge_fen - payment.refunded_fen if paid else 0
    if card != expected_card:
        found["card"] = (f"ledger card clearing {yuan(card)}, the payment charges {yuan(payment.charge_fen)} less "
                         f"{yuan(payment.refunded_fen)} refunded = {yuan(expected_card)}")
    voucher = book.by_account.get(LedgerAccount.VOUCHER_FUND, 0)
    expected_voucher = payment.voucher_fen if payment.state in VOUCHER_SPENT_STATES else 0
    if voucher != expected_voucher:
        found["voucher"] = (f"ledger voucher fund {yuan(voucher)}, the payment's voucher part still spent is "
                            f"{yuan(expected_voucher)}")
    return found


def _check_stripe(payment: Payment, book: _PaymentLedger, ledger_found: dict[str, str]) -> dict[str, str]:
    """The payment and its ledger lines vs Stripe's intent and refunds. A key also found by the ledger
    check replaces that finding."""
    intent_id = payment.stripe_payment_intent_id
    try:
        intent = stripe_gateway.retrieve_intent(intent_id)
    except stripe.InvalidRequestError:
        return {"intent": f"Stripe has no intent {intent_id}"}
    except stripe.StripeError as exc:
        return {"intent": f"could not ask Stripe about intent {intent_id}: {exc}"}
    found: dict[str, str] = {}
    received = book.postings.get("payment_received", 0)
    if intent.metadata.get("payment_id") not in (None, str(payment.pk)):
        found["metadata"] = f"Stripe intent {intent_id} belongs to payment {intent.metadata['payment_id']}"
    if intent.status != "succeeded":
        if received:
            found["status"] = f"ledger says paid {yuan(book.received_card)}, Stripe intent {intent_id} is {intent.status}"
        elif payment.state in PAID_STATES:
            found["no_received"] = (f"payment is {payment.state} ({yuan(payment.charge_fen)} by card), Stripe intent "
                                    f"{intent_id} is {intent.status}")
        return found
    try:
        refunds = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in stripe_gateway.list_refunds(intent_id)]
    except stripe.StripeError as exc:
        return {**found, "refunds": f"could not list Stripe's refunds of intent {intent_id}: {exc}"}
    refunds = [r for r in refunds if r.get("status") not in VOID_REFUND_STATES]
    stripe_refunded = sum(int(r["amount"]) for r in refunds)
    if received == 0:
        found["no_received"] = (f"Stripe intent {intent_id} succeeded for {yuan(intent.amount_fen)} but the ledger "
                                f"has no payment received (payment is {payment.state})")
        return found
    if intent.amount_fen != payment.charge_fen or intent.currency != payment.currency:
        found["amount"] = (f"Stripe intent {intent_id} is for {yuan(intent.amount_fen)} {intent.currency}, the "
                           f"payment charges {yuan(payment.charge_fen)} {payment.currency}")
    card = book.by_account.get(LedgerAccount.CARD_CLEARING, 0)
    if card != intent.amount_fen - stripe_refunded and "card" not in ledger_found and "amount" not in found:
        found["card_stripe"] = (f"ledger card clearing {yuan(card)}, Stripe intent {intent_id}: "
                                f"{yuan(intent.amount_fen)} charged less {yuan(stripe_refunded)} refunded = "
                                f"{yuan(intent.amount_fen - stripe_refunded)}")
    if payment.refunded_fen != stripe_refunded:
        found["refunded"] = (f"payment records {yuan(payment.refunded_fen)} refunded, Stripe refunded "
                             f"{yuan(stripe_refunded)}")
    postings = book.postings.get("refund", 0)
    if postings != len(refunds):
        found["refund_postings"] = f"{postings} refund posting(s) in the ledger, {len(refunds)} refund(s) in Stripe"
    return found


def reconcile(*, on_payment: Callable[[Payment], None] | None = None) -> Report:
    """Compare every payment with the ledger and, when it has a PaymentIntent, with Stripe; check every
    posting balances. Calls Stripe twice per intent (retrieve it, list its refunds); never writes."""
    report = Report(postings=LedgerEntry.objects.values("posting").distinct().count())
    report.differences.extend(unbalanced_postings())
    books = _ledger_by_payment()
    for payment in Payment.objects.order_by("pk").iterator(chunk_size=500):
        report.payments += 1
        book = books.get(payment.pk, _PaymentLedger())
        found = _check_ledger(payment, book)
        if payment.stripe_payment_intent_id:
            report.intents += 1
            found.update(_check_stripe(payment, book, found))
        report.differences.extend(Difference(f"payment {payment.pk}: {m}", payment.pk) for m in found.values())
        if on_payment:
            on_payment(payment)
    orphans = set(books) - set(Payment.objects.filter(pk__in=list(books)).values_list("pk", flat=True))
    report.differences.extend(Difference(f"ledger lines point at payment {pk}, which does not exist", pk)
                              for pk in sorted(orphans))
    return report
