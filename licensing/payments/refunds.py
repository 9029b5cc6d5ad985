"""Refunds of payments and termination of licences.

Refunds
  Only the card part of a payment goes back to the card, through Stripe, in one or more refunds. Vouchers
  are never paid out to a card: when the card part has been refunded in full (or there was none), the
  payment counts as refunded in full and every voucher use on it is released — its amount goes back to
  the voucher's balance (also when the voucher has expired since; it then simply lapses unused) and a
  `voucher_released` posting takes the voucher part out of the ledger. A partial refund leaves vouchers
  alone.
  Payment: succeeded → partially_refunded → refunded. A FIRST_AMOUNT refunded in full ends the licence:
  active | expired → terminated, with the reason given.
  Ledger: each card refund is `ledger.post_refund` (fee and holder share shrink by the rounding rule of
  ledger.py, at the fee rate stored on the payment when it succeeded, not today's rate). Refunding a payment
  in full also takes out whatever fee and holder share remain on it, so a fully refunded payment nets to
  zero on every account even when partial refunds rounded differently from the original split.
  Order: all rows are written first and Stripe is called last, inside the same transaction, so a refusal
  by Stripe rolls everything back; the idempotency key is derived from the amount refunded so far, so a
  retried request cannot refund twice. `reconcile_payments` reports a Stripe refund the ledger lacks.

Termination for non-payment
  The holder's administrators or the IP office may terminate an active licence when one of its royalty
  payments is still unpaid more than GRACE_DAYS days after its due date. The unpaid invoice stays as it
  is: the royalty for the time the licence ran remains owed."""

from datetime import date, timedelta

import stripe
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.exceptions import LicensingError, NotAllowed
from licensing.ledger import services as ledger
from licensing.legal.register import cite
from licensing.licences.services import licence_page_url
from licensing.models.licences import LedgerAccount, LedgerEntry, Licence, LicenceState, Payment, Voucher, VoucherUse
from licensing.payments import gateway as stripe_gateway
from marketplace.parties import listeners, notifications
from marketplace.parties.models import User
from marketplace.parties.selectors import user_is_ip_office, user_is_org_admin

# Days a royalty invoice may stay unpaid after its due date before the holder may terminate the licence.
# Sixty days: the usual cure period of Chinese technology licence contracts (a month's notice plus a
# month to pay), long enough for a bank transfer at year end.
GRACE_DAYS = 60

REFUNDABLE_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED)
UNPAID_STATES = (Payment.State.CREATED, Payment.State.REQUIRES_PAYMENT, Payment.State.REQUIRES_ACTION,
                 Payment.State.FAILED)

__all__ = ["GRACE_DAYS", "licence_terminate_for_non_payment", "overdue_royalty_payments",
           "payment_refund", "user_can_refund", "user_can_terminate"]


def user_can_refund(*, user: User, licence: Licence) -> bool:
    """The licensor's administrators, the IP office and superusers."""
    return user.is_authenticated and (user_is_org_admin(user=user, organisation=licence.licensor)
                                      or user_is_ip_office(user=user))


def user_can_terminate(*, user: User, licence: Licence) -> bool:
    """The same people who may refund: the holder's administrators and the IP office."""
    return user_can_refund(user=user, licence=licence)


def _terminate(licence: Licence, *, reason: str) -> Licence:
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    if licence.state == LicenceState.TERMINATED:
        return licence
    if licence.state not in (LicenceState.ACTIVE, LicenceState.EXPIRED):
        raise LicensingError(_("A %(state)s licence cannot be terminated.") % {"state": licence.get_state_display()})
    licence.state, licence.terminated_at, licence.termination_reason = LicenceState.TERMINATED, timezone.now(), reason
    licence.save(update_fields=["state", "terminated_at", "termination_reason"])
    listeners.changed(listeners.LICENCE_CHANGE_LISTENERS, declaration_ids=[licence.declaration_id])
    return licence


def _release_vouchers(payment: Payment) -> int:
    """Give every unreleased voucher use of the payment back to its voucher; returns the fen given back.
    Unlike a cancelled payment, the payment keeps its voucher/card split: it is history."""
    released = 0
    for use in VoucherUse.objects.select_for_update().filter(payment=payment, released=False).order_by("voucher_id"):
        voucher = Voucher.objects.select_for_update().get(pk=use.voucher_id)
        voucher.balance_fen += use.amount_fen
        voucher.save(update_fields=["balance_fen"])
        use.released = True
        use.save(update_fields=["released"])
        released += use.amount_fen
    return released


def _close_postings(payment: Payment, *, voucher_released_fen: int) -> None:
    """Take the voucher part and whatever fee and holder share remain on a fully refunded payment out of the
    ledger, so the payment nets to zero on every account."""
    totals = {row["account"]: row["total"] for row in LedgerEntry.objects.filter(payment=payment).order_by()
              .values("account").annotate(total=Sum("amount_fen"))}
    fee_left, holder_left = -totals.get(LedgerAccount.PLATFORM_FEES, 0), -totals.get(LedgerAccount.HOLDER_PAYABLE, 0)
    voucher_left = totals.get(LedgerAccount.VOUCHER_FUND, 0)
    if voucher_left != voucher_released_fen:
        raise LicensingError(f"payment {payment.pk}: ledger holds {voucher_left} fen of vouchers, "
                             f"{voucher_released_fen} fen released")
    if not (voucher_left or fee_left or holder_left):
        return
    licence = payment.licence
    refs = {"licence": licence, "payment": payment}
    ledger.post("voucher_released" if voucher_left else "refund_rounding", [
        (LedgerAccount.VOUCHER_FUND, -voucher_left, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.PLATFORM_FEES, fee_left, refs),
        (LedgerAccount.HOLDER_PAYABLE, holder_left, {**refs, "organisation": licence.licensor}),
    ], description=f"voucher released {licence.certificate_number or licence.pk}" if voucher_left
        else f"refund rounding {licence.certificate_number or licence.pk}")


@transaction.atomic
def payment_refund(*, payment: Payment, amount_fen: int, by: User, reason: str) -> Payment:
    """Refund `amount_fen` of the payment's card part (see the module docstring for vouchers, the ledger
    and the licence). `amount_fen` may be 0 only for a payment with nothing left to refund to a card,
    which then releases its vouchers.

    Raises NotAllowed unless `by` administers the licensor or is IP-office staff; LicensingError for an
    unpaid payment, a missing reason, an amount above what is left, or Stripe refusing the refund (nothing
    is recorded then)."""
    payment = Payment.objects.select_for_update().select_related("licence__licensor", "licence__licensee") \
        .get(pk=payment.pk)
    licence = payment.licence
    if not user_can_refund(user=by, licence=licence):
        raise NotAllowed(_("Only the licensor's administrators or the IP office may refund a payment."))
    reason = (reason or "").strip()
    if not reason:
        raise LicensingError(cite("refund_terms", _("Give the reason for the refund.")))
    if payment.state not in REFUNDABLE_STATES:
        raise LicensingError(cite("refund_terms", _("Only a payment that went through can be refunded (this one is "
                                                    "%(state)s).") % {"state": payment.get_state_display()}))
    refundable = payment.charge_fen - payment.refunded_fen
    if amount_fen < 0 or amount_fen > refundable or (amount_fen == 0 and refundable > 0):
        raise LicensingError(cite("refund_terms", _("The amount to refund must be more than 0 and at most %(left)s fen.")
                                  % {"left": refundable}))
    if amount_fen and not payment.stripe_payment_intent_id:
        raise LicensingError(f"payment {payment.pk} has a card part but no PaymentIntent")

    refunded_before = payment.refunded_fen
    if amount_fen:
        payment.refunded_fen += amount_fen
        ledger.post_refund(payment, amount_fen)
    in_full = payment.refunded_fen == payment.charge_fen
    if in_full:
        _close_postings(payment, voucher_released_fen=_release_vouchers(payment))
    payment.state = Payment.State.REFUNDED if in_full else Payment.State.PARTIALLY_REFUNDED
    payment.full_clean()
    payment.save(update_fields=["refunded_fen", "state"])
    listeners.changed(listeners.PAYMENT_CHANGE_LISTENERS, payment_ids=[payment.pk])
    if in_full and payment.purpose == Payment.Purpose.FIRST_AMOUNT:
        _terminate(licence, reason=_("Licence fee refunded: %(reason)s") % {"reason": reason})
    if amount_fen:
        # In the transaction: if Stripe refuses the refund below, nothing is recorded and nobody is told.
        notifications.notify(
            users=notifications.members_of([licence.licensee_id]), kind="payment.refunded",
            url=licence_page_url(licence), params={
                "patent": licence.patent.number, "title": licence.patent.title, "holder": licence.licensor.name_zh,
                "amount": notifications.money_text(amount_fen), "reason": reason})

    if amount_fen:
        try:
            stripe_gateway.refund(intent_id=payment.stripe_payment_intent_id, amount_fen=amount_fen,
                                  idempotency_key=f"payment-{payment.pk}-refund-{refunded_before}-{amount_fen}")
        except stripe.StripeError as exc:
            raise LicensingError(_("The payment service refused the refund: %(reason)s")
                                 % {"reason": exc.user_message or str(exc)}) from exc
    return payment


def overdue_royalty_payments(*, licence: Licence, today: date):
    """The licence's royalty payments still unpaid more than GRACE_DAYS days after their due date."""
    return Payment.objects.filter(licence=licence, purpose=Payment.Purpose.ROYALTY, state__in=UNPAID_STATES,
                                  due_on__lt=today - timedelta(days=GRACE_DAYS)).order_by("due_on")


@transaction.atomic
def licence_terminate_for_non_payment(*, licence: Licence, by: User, today: date) -> Licence:
    """Terminate an active licence whose royalty is unpaid more than GRACE_DAYS days after it fell due;
    the reason names the invoice. Already terminated: nothing happens.

    Raises NotAllowed unless `by` administers the holder or is IP-office staff; LicensingError when no
    royalty payment is that far overdue or the licence is not active."""
    licence = Licence.objects.select_for_update().select_related("licensor").get(pk=licence.pk)
    if not user_can_terminate(user=by, licence=licence):
        raise NotAllowed(_("Only the holder's administrators or the IP office may terminate a licence."))
    if licence.state == LicenceState.TERMINATED:
        return licence
    if licence.state != LicenceState.ACTIVE:
        raise LicensingError(cite("termination_non_payment", _("Only an active licence can be terminated for non-payment.")))
    overdue = overdue_royalty_payments(licence=licence, today=today).first()
    if overdue is None:
        raise LicensingError(cite("termination_non_payment", _("No royalty payment of this licence is more than "
                                                               "%(days)s days overdue.") % {"days": GRACE_DAYS}))
    reason = _("Terminated for non-payment: royalty payment %(payment)s of %(amount)s fen, due on %(due)s, still "
               "unpaid %(days)s days later (grace period %(grace)s days).") % {
        "payment": overdue.pk, "amount": overdue.amount_fen, "due": overdue.due_on.isoformat(),
        "days": (today - overdue.due_on).days, "grace": GRACE_DAYS}
    return _terminate(licence, reason=reason)
