"""Taking a licence: the written notice, the payment and the activation, exactly once.

State machines (one function per transition, each locking its row and checking the state it leaves):
  Licence: notice_submitted → payment_pending → active → expired | terminated; payment_pending ⇄ payment_failed;
           notice_submitted | payment_pending | payment_failed → cancelled.
  Payment: created → requires_payment → (requires_action →) succeeded | failed; → refunded;
           requires_action | failed → requires_payment when the buyer tries again (on a fresh intent).
The buyer's return to the page and Stripe's `payment_intent.succeeded` webhook both call
`payment_mark_succeeded`; whichever comes first activates the licence, the other finds it done."""

import logging
from datetime import date, timedelta

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from licensing.certificates.services import certificate_number_allocate
from licensing.exceptions import LicensingError, NotAllowed
from licensing.ledger import services as ledger
from licensing.legal.register import cite
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
from licensing.models.licences import (
    LIVE_LICENCE_STATES,
    Licence,
    LicenceBasis,
    LicenceState,
    Payment,
    ProcessedEvent,
    Voucher,
    VoucherUse,
)
from licensing.payments import gateway as stripe_gateway
from licensing.payments.declines import decline_message
from licensing.vouchers.services import voucher_split
from marketplace.parties import listeners, notifications
from marketplace.parties.acting import acting_as
from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.validators import normalize_uscc

logger = logging.getLogger(__name__)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def licence_basis_for(*, declaration: Declaration, on: date) -> str:
    """What a licence noticed on `on` rests on, frozen on the licence: statutory when CNIPA announced the
    declaration on or before that day (Patent Law art. 50: it takes effect from the announcement; a withdrawal
    filed but not yet announced leaves it in force), otherwise an ordinary licence contract on the platform."""
    if declaration.is_statutory and declaration.announced_on <= on:
        return LicenceBasis.STATUTORY
    return LicenceBasis.PLATFORM


@transaction.atomic
def licence_notice_submit(*, declaration: Declaration, licensee: Organisation, by: User, legal_name: str, uscc: str,
                          contact_name: str, contact_email: str, contact_phone: str, field_of_use: str,
                          accepted_terms_sha256: str) -> Licence:
    """Record the written notice (Patent Law art. 51) with a snapshot of the terms the licensee accepted and
    the basis the licence rests on (statutory once CNIPA announced the declaration; platform before).
    A licensee with a live licence for this declaration gets that one back (to finish paying) or an error
    if it is already active. A declaration asking nothing up front activates at once."""
    declaration = Declaration.objects.select_for_update().select_related("terms_version", "patent").get(pk=declaration.pk)
    if not (by.is_superuser or Membership.objects.filter(user=by, organisation=licensee).exists()):
        raise NotAllowed(_("Only members of the licensee may give notice for it."))
    if not licensee.is_licensee:
        raise LicensingError(_("%(org)s is not registered as a licensee.") % {"org": licensee.name_zh})
    if declaration.state not in LICENSABLE_DECLARATION_STATES:
        raise LicensingError(cite("licence_not_open", _("This declaration is not open for licensing.")))
    if licensee.pk == declaration.holder_id:
        raise LicensingError(cite("licence_own_patent", _("A patentee cannot license its own patent.")))
    if accepted_terms_sha256 != declaration.terms_version.sha256:
        raise LicensingError(cite("licence_terms_accepted",
                                   _("The terms you accepted are not the terms of this declaration; reload the page.")))
    if licensee.uscc and normalize_uscc(uscc) != licensee.uscc:
        raise ValidationError({"uscc": cite("licence_notice_identity",
                                             _("The credit code does not match your organisation's."))})
    live = Licence.objects.select_for_update().filter(declaration=declaration, licensee=licensee,
                                                      state__in=LIVE_LICENCE_STATES).first()
    if live is not None:
        if live.state == LicenceState.ACTIVE:
            raise LicensingError(cite("licence_one_active",
                                       _("Your organisation already holds an active licence under this declaration.")))
        return live
    terms = declaration.terms_version
    licence = Licence(
        declaration=declaration, patent=declaration.patent, licensor_id=declaration.holder_id, licensee=licensee,
        notice_legal_name=legal_name.strip(), notice_uscc=normalize_uscc(uscc), notice_contact_name=contact_name,
        notice_contact_email=contact_email, notice_contact_phone=contact_phone, notice_field_of_use=field_of_use,
        notice_submitted_at=timezone.now(), notice_submitted_by=by, terms_version=terms,
        terms_text=terms.text,
        terms_sha256=terms.sha256, fee_form=declaration.fee_form, lump_sum_fen=declaration.lump_sum_fen,
        entry_fee_fen=declaration.entry_fee_fen, royalty_base=declaration.royalty_base,
        royalty_rate=declaration.royalty_rate, annual_minimum_fen=declaration.annual_minimum_fen,
        duration_years=declaration.duration_years, first_amount_fen=declaration.first_amount_due_fen,
        basis=licence_basis_for(declaration=declaration, on=timezone.localdate()),
    )
    licence.full_clean(exclude=["certificate_number"])
    try:
        with transaction.atomic():
            licence.save()
    except IntegrityError as exc:  # a concurrent notice of the same licensee won
        raise LicensingError(_("A notice for this declaration is already being processed.")) from exc
    if licence.first_amount_fen == 0:
        return licence_activate(licence=licence)
    Payment.objects.create(licence=licence, purpose=Payment.Purpose.FIRST_AMOUNT, amount_fen=licence.first_amount_fen,
                           charge_fen=licence.first_amount_fen, due_on=timezone.localdate())
    licence.state = LicenceState.PAYMENT_PENDING
    licence.save(update_fields=["state"])
    return licence


@transaction.atomic
def licence_activate(*, licence: Licence) -> Licence:
    """Make the licence active with its certificate number. Already active: nothing happens."""
    licence = Licence.objects.select_for_update().select_related("patent").get(pk=licence.pk)
    if licence.state == LicenceState.ACTIVE:
        return licence
    if licence.state not in (LicenceState.NOTICE_SUBMITTED, LicenceState.PAYMENT_PENDING, LicenceState.PAYMENT_FAILED):
        raise LicensingError(_("A %(state)s licence cannot become active.") % {"state": licence.get_state_display()})
    today = timezone.localdate()
    licence.state, licence.activated_at, licence.starts_on = LicenceState.ACTIVE, timezone.now(), today
    licence.ends_on = min(_add_years(today, licence.duration_years) - timedelta(days=1), licence.patent.expiry_date)
    # Numbered only now, never at notice time: a cancelled notice leaves no gap in the certificate numbers.
    licence.certificate_number = certificate_number_allocate(on=today)
    licence.save(update_fields=["state", "activated_at", "starts_on", "ends_on", "certificate_number"])
    listeners.changed(listeners.LICENCE_CHANGE_LISTENERS, declaration_ids=[licence.declaration_id])
    _tell_licence_active(licence)
    return licence


def licence_page_url(licence: Licence) -> str:
    """The licence's page (in the site's default language), where both parties see it."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("licence_detail", args=[licence.pk])


def _tell_licence_active(licence: Licence) -> None:
    """Both parties hear of the new licence: the licensee's members that it is in force (with its certificate
    number), the holder's members who took it and what it paid. Called once per licence, from the transition
    to active (a replayed webhook or the buyer's return finds it active and tells nobody again); the e-mails
    go after the commit."""
    licence = Licence.objects.select_related("patent", "licensor", "licensee").get(pk=licence.pk)
    params = {"patent": licence.patent.number, "title": licence.patent.title, "holder": licence.licensor.name_zh,
              "licensee": licence.licensee.name_zh, "certificate": licence.certificate_number,
              "starts_on": licence.starts_on.isoformat(), "ends_on": licence.ends_on.isoformat(),
              "amount": notifications.money_text(licence.first_amount_fen)}
    url = licence_page_url(licence)
    notifications.notify(users=notifications.members_of([licence.licensee_id]), kind="licence.active",
                         params=params, url=url)
    notifications.notify(users=notifications.members_of([licence.licensor_id]), kind="licence.new_licensee",
                         params=params, url=url)


# A payment in any of these states was paid; refunds later change its state, never the fact it was paid.
PAID_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED, Payment.State.REFUNDED)


def _lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().select_related("licence").get(pk=payment_id)


@transaction.atomic
def payment_apply_voucher(*, payment: Payment, voucher: Voucher, by: User) -> Payment:
    """Let a voucher of the licensee cover as much of a not-yet-charged payment as its balance allows. The
    voucher row is locked, so two payments can never spend the same balance twice."""
    payment = _lock_payment(payment.pk)
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    amount = voucher_split(payment=payment, voucher=voucher).voucher_fen
    voucher.balance_fen -= amount
    voucher.save(update_fields=["balance_fen"])
    VoucherUse.objects.create(voucher=voucher, payment=payment, amount_fen=amount)
    payment.voucher_fen += amount
    payment.charge_fen -= amount
    payment.save(update_fields=["voucher_fen", "charge_fen"])
    return payment


# Where a payment may still move to a new intent: not paid, not cancelled.
OPEN_PAYMENT_STATES = (Payment.State.CREATED, Payment.State.REQUIRES_PAYMENT, Payment.State.REQUIRES_ACTION,
                       Payment.State.FAILED)


def payment_start(*, payment: Payment) -> tuple[Payment, str]:
    """Create (or find again) the PaymentIntent for the card part; returns the client secret for Stripe.js.
    When a voucher covers everything, the payment succeeds here without a card. The stored intent is reused
    only while it is still waiting for its first card; an attempt that failed (declined, 3-D Secure failed)
    or was abandoned (3-D Secure box left open) is cancelled at Stripe first and replaced by a fresh intent,
    so the old one can never be charged later and its late events find no payment of ours. An intent that
    was paid meanwhile settles the payment instead. Raises LicensingError when the payment was cancelled
    meanwhile or its last attempt is still being processed."""
    payment = Payment.objects.select_related("licence").get(pk=payment.pk)
    if payment.state in PAID_STATES:
        return payment, ""
    if payment.state == Payment.State.CANCELLED:
        raise LicensingError(cite("payment_open", _("This payment can no longer be made.")))
    if payment.charge_fen == 0:
        return payment_mark_succeeded(payment_id=payment.pk, intent=None), ""
    previous = payment.stripe_payment_intent_id
    if previous:
        intent = stripe_gateway.retrieve_intent(previous)
        if intent.status == "succeeded":  # e.g. 3-D Secure completed in another tab
            return payment_mark_succeeded(payment_id=payment.pk, intent=intent), ""
        if _intent_reusable(payment, intent):
            return payment, intent.client_secret
        settled = _retire_intent(payment, intent)
        if settled is not None:
            return settled, ""
        key = f"payment-{payment.pk}-after-{previous}"
    else:
        key = f"payment-{payment.pk}-intent"
    # The key is stable per payment and attempt, so a double-clicked button creates one intent at Stripe.
    intent = stripe_gateway.create_intent(
        amount_fen=payment.charge_fen, currency=payment.currency, idempotency_key=key,
        metadata={"payment_id": str(payment.pk), "licence_id": str(payment.licence_id)})
    with transaction.atomic():
        locked = _lock_payment(payment.pk)
        if locked.stripe_payment_intent_id == previous and locked.state in OPEN_PAYMENT_STATES:
            locked.stripe_payment_intent_id = intent.id
            locked.state = Payment.State.REQUIRES_PAYMENT
            locked.save(update_fields=["stripe_payment_intent_id", "state"])
    if locked.stripe_payment_intent_id == intent.id:
        return locked, intent.client_secret
    # A concurrent click stored its intent first (without Stripe's idempotency, e.g. on localstripe, ours
    # is a second one): drop ours and hand out the stored one's secret, so the page confirms that one.
    _cancel_intent_quietly(intent.id)
    if locked.stripe_payment_intent_id is None or locked.state in (Payment.State.CANCELLED, Payment.State.REFUNDED):
        raise LicensingError(cite("payment_open", _("This payment can no longer be made.")))
    if locked.state in PAID_STATES:
        return locked, ""
    return locked, stripe_gateway.retrieve_intent(locked.stripe_payment_intent_id).client_secret


def _intent_reusable(payment: Payment, intent: stripe_gateway.IntentState) -> bool:
    """A fresh intent still waiting for its first card (or whose confirm never arrived) can take the card;
    one that was declined, asked for 3-D Secure or was cancelled cannot be confirmed again (localstripe
    answers 400), so the next attempt needs a new intent."""
    return (payment.state in (Payment.State.CREATED, Payment.State.REQUIRES_PAYMENT)
            and intent.status in ("requires_payment_method", "requires_confirmation") and not intent.error_message)


def _retire_intent(payment: Payment, intent: stripe_gateway.IntentState) -> Payment | None:
    """Cancel the intent of a failed or abandoned attempt before a new one is made, so that at most one
    intent of a payment can ever be charged. If Stripe refuses because the old attempt was paid meanwhile,
    that payment is settled and returned; if it is still being processed, the buyer must wait."""
    if intent.status == "canceled":
        return None
    try:
        stripe_gateway.cancel_intent(intent.id)
        return None
    except stripe.StripeError as exc:
        status = stripe_gateway.retrieve_intent(intent.id)
        if status.status == "canceled":  # a concurrent retry cancelled it first
            return None
        if status.status == "succeeded":
            return payment_mark_succeeded(payment_id=payment.pk, intent=status)
        logger.warning("could not cancel intent %s (%s) of payment %s: %s", intent.id, status.status, payment.pk, exc)
        raise LicensingError(_("Your previous payment attempt is still being processed; please reload the page "
                               "in a minute.")) from exc


def _cancel_intent_quietly(intent_id: str) -> None:
    try:
        stripe_gateway.cancel_intent(intent_id)
    except stripe.StripeError:
        logger.warning("could not cancel intent %s", intent_id)


def payment_pay_with_card(*, payment: Payment, token_id: str) -> dict:
    """Confirm the PaymentIntent with the card Stripe.js tokenised. Returns what the page does next:
    {"status": "succeeded" | "requires_action" | "failed" | "error", "client_secret", "message"}. When Stripe
    cannot be reached (down, timing out) the payment stays as it was and the buyer is told so; the next attempt
    finds the stored intent again and settles it if the card was charged after all."""
    try:
        payment, client_secret = payment_start(payment=payment)
    except stripe.StripeError as exc:  # nothing was sent to be charged yet
        logger.warning("stripe error starting payment %s: %s", payment.pk, exc)
        return {"status": "error", "client_secret": "",
                "message": _("The payment service is not reachable right now; nothing was charged. Please try again.")}
    if payment.state in PAID_STATES:
        return {"status": "succeeded", "client_secret": "", "message": ""}
    try:
        intent = stripe_gateway.confirm_with_card_token(intent_id=payment.stripe_payment_intent_id, token_id=token_id)
    except stripe.CardError as exc:
        code = (getattr(exc, "error", None) and getattr(exc.error, "decline_code", None)) or exc.code
        message = decline_message(code=code, stripe_text=exc.user_message or "", payment_id=payment.pk)
        payment_mark_failed(payment_id=payment.pk, message=message, intent_id=payment.stripe_payment_intent_id)
        return {"status": "failed", "client_secret": client_secret, "message": _(message)}
    except stripe.StripeError as exc:
        # The confirmation may have reached Stripe before the connection failed: the outcome is unknown here,
        # and the webhook or the next attempt (payment_start reads the intent first) settles a charge.
        logger.warning("stripe error on payment %s: %s", payment.pk, exc)
        return {"status": "error", "client_secret": client_secret,
                "message": _("The payment service did not answer. If your card was charged, the payment is "
                             "recorded as soon as the payment service confirms it; otherwise please try again in a "
                             "few minutes.")}
    return _follow(payment, intent)


def _follow(payment: Payment, intent: stripe_gateway.IntentState) -> dict:
    if intent.status == "succeeded":
        payment_mark_succeeded(payment_id=payment.pk, intent=intent)
        return {"status": "succeeded", "client_secret": intent.client_secret, "message": ""}
    if intent.status == "requires_action":
        payment_mark_requires_action(payment_id=payment.pk, intent_id=intent.id)
        return {"status": "requires_action", "client_secret": intent.client_secret,
                "message": _("Your bank asks you to confirm this payment.")}
    if intent.status == "requires_payment_method" and intent.error_message:
        message = decline_message(code=intent.error_code, stripe_text=intent.error_message, payment_id=payment.pk)
        payment_mark_failed(payment_id=payment.pk, message=message, intent_id=intent.id)
        return {"status": "failed", "client_secret": intent.client_secret, "message": _(message)}
    return {"status": intent.status, "client_secret": intent.client_secret, "message": ""}


def payment_sync(*, payment: Payment) -> dict:
    """The buyer's return to the page: ask Stripe where the intent stands and act on it."""
    if payment.state in PAID_STATES or not payment.stripe_payment_intent_id:
        return {"status": "succeeded" if payment.state in PAID_STATES else payment.state, "client_secret": "",
                "message": _(payment.failure_message) if payment.failure_message else ""}
    return _follow(payment, stripe_gateway.retrieve_intent(payment.stripe_payment_intent_id))


@transaction.atomic
def payment_mark_succeeded(*, payment_id: int, intent: stripe_gateway.IntentState | None) -> Payment:
    """Record a successful payment exactly once: lock the payment, return early if already done, check the
    intent matches (amount, currency, status), post the ledger, activate the licence."""
    payment = _lock_payment(payment_id)
    if payment.state in PAID_STATES:
        return payment
    if intent is not None:
        if intent.id != payment.stripe_payment_intent_id or intent.status != "succeeded":
            raise LicensingError(f"intent {intent.id} does not settle payment {payment.pk}")
        if intent.amount_fen != payment.charge_fen or intent.currency != payment.currency:
            raise LicensingError(f"intent {intent.id} amount {intent.amount_fen} {intent.currency} does not match "
                                 f"payment {payment.pk} ({payment.charge_fen} {payment.currency})")
    elif payment.charge_fen != 0:
        raise LicensingError(f"payment {payment.pk} needs a card charge")
    payment.state, payment.succeeded_at, payment.failure_message = Payment.State.SUCCEEDED, timezone.now(), ""
    # The fee rate is fixed now, when the money arrives, rather than when the invoice is made or the intent
    # created: a royalty invoice may wait weeks to be paid, and voucher-only payments have no intent at all.
    # This is the one place it is read; the posting below and every later refund use the stored rate.
    payment.platform_fee_rate = ledger.current_platform_fee_rate()
    payment.save(update_fields=["state", "succeeded_at", "failure_message", "platform_fee_rate"])
    ledger.post_payment_received(payment)
    listeners.changed(listeners.PAYMENT_CHANGE_LISTENERS, payment_ids=[payment.pk])
    if payment.purpose == Payment.Purpose.FIRST_AMOUNT:
        licence_activate(licence=payment.licence)
    return payment


@transaction.atomic
def payment_mark_requires_action(*, payment_id: int, intent_id: str) -> Payment:
    """The bank asks the buyer to authenticate (3-D Secure): only the payment's current intent, and only from
    awaiting a card or a failed attempt. The row is saved, not updated in bulk, so the audit log sees it."""
    payment = _lock_payment(payment_id)
    if payment.stripe_payment_intent_id == intent_id and payment.state in (Payment.State.REQUIRES_PAYMENT,
                                                                           Payment.State.FAILED):
        payment.state = Payment.State.REQUIRES_ACTION
        payment.save(update_fields=["state"])
    return payment


@transaction.atomic
def payment_mark_failed(*, payment_id: int, message: str, intent_id: str | None = None) -> Payment:
    """A declined or unauthenticated card: the payment and licence show it; the licensee may try again.
    With `intent_id`, only a failure of the payment's current intent counts: a late event of an attempt
    already replaced by a retry changes nothing."""
    payment = _lock_payment(payment_id)
    if payment.state in (*PAID_STATES, Payment.State.CANCELLED):
        return payment
    if intent_id is not None and intent_id != payment.stripe_payment_intent_id:
        logger.info("payment %s: failure of replaced intent %s ignored", payment.pk, intent_id)
        return payment
    told_before = payment.state == Payment.State.FAILED  # the webhook and the buyer's return report one failure
    payment.state, payment.failure_message = Payment.State.FAILED, message[:2000]
    payment.save(update_fields=["state", "failure_message"])
    if not told_before:
        licence = Licence.objects.select_related("patent").get(pk=payment.licence_id)
        notifications.notify(
            users=notifications.members_of([licence.licensee_id]), kind="payment.failed", url=licence_page_url(licence),
            params={"patent": licence.patent.number, "reason": notifications.translated_text(payment.failure_message),
                    "amount": notifications.money_text(payment.charge_fen)})
    if payment.purpose == Payment.Purpose.FIRST_AMOUNT:
        licence = Licence.objects.select_for_update().get(pk=payment.licence_id)
        if licence.state == LicenceState.PAYMENT_PENDING:
            licence.state = LicenceState.PAYMENT_FAILED
            licence.save(update_fields=["state"])  # saved, not updated in bulk: the audit log sees it
    return payment


@transaction.atomic
def licence_cancel(*, licence: Licence, by: User) -> Licence:
    """The licensee abandons an unpaid notice; vouchers it reserved are given back."""
    # Lock order payment → licence, the same as payment_mark_succeeded, so the two cannot deadlock.
    list(Payment.objects.select_for_update().filter(licence_id=licence.pk).order_by("pk"))
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    if not (by.is_superuser or Membership.objects.filter(user=by, organisation_id=licence.licensee_id).exists()):
        raise NotAllowed(_("Only the licensee may cancel its notice."))
    if licence.state == LicenceState.CANCELLED:
        return licence
    if licence.state not in (LicenceState.NOTICE_SUBMITTED, LicenceState.PAYMENT_PENDING, LicenceState.PAYMENT_FAILED):
        raise LicensingError(cite("licence_cancel_unpaid", _("Only an unpaid notice can be cancelled.")))
    for payment in Payment.objects.select_for_update().filter(licence=licence).exclude(state=Payment.State.SUCCEEDED):
        if payment.stripe_payment_intent_id:
            try:
                stripe_gateway.cancel_intent(payment.stripe_payment_intent_id)
            except stripe.StripeError as exc:
                # Stripe refuses to cancel an intent that is paid or being paid: the card was charged, so
                # the notice must stay (the webhook or the return page activates it), not be cancelled.
                try:
                    status = stripe_gateway.retrieve_intent(payment.stripe_payment_intent_id).status
                except stripe.StripeError:
                    status = "unknown"
                if status != "canceled":
                    logger.warning("could not cancel intent %s (%s): %s", payment.stripe_payment_intent_id, status, exc)
                    raise LicensingError(_("The card payment has already gone through or is under way, so this "
                                           "notice cannot be cancelled now.")) from exc
        _release_vouchers(payment)
        payment.state = Payment.State.CANCELLED
        payment.save(update_fields=["state", "voucher_fen", "charge_fen"])
    licence.state = LicenceState.CANCELLED
    licence.save(update_fields=["state"])
    return licence


def _release_vouchers(payment: Payment) -> None:
    for use in VoucherUse.objects.select_for_update().filter(payment=payment, released=False).order_by("voucher_id"):
        # Locked and saved rather than updated in bulk with F(): as safe against a concurrent use, and the
        # audit log sees the balance before and after.
        voucher = Voucher.objects.select_for_update().get(pk=use.voucher_id)
        voucher.balance_fen += use.amount_fen
        voucher.save(update_fields=["balance_fen"])
        use.released = True
        use.save(update_fields=["released"])
        payment.voucher_fen -= use.amount_fen
        payment.charge_fen += use.amount_fen


# --- webhooks -------------------------------------------------------------------------------------------

HANDLED_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed"}


def webhook_process(event) -> bool:
    """Apply one verified Stripe event, exactly once. Returns False for event types we do not handle.
    Runs in one transaction with the ProcessedEvent insert: a failure rolls both back so Stripe's retry
    processes it again; a duplicate (even a concurrent one) hits the unique event id and does nothing."""
    event_type = event["type"]
    if event_type not in HANDLED_EVENTS:
        return False
    with acting_as(f"stripe webhook {event['id']}"), transaction.atomic():
        ProcessedEvent.objects.create(event_id=event["id"], event_type=event_type)
        intent = stripe_gateway.IntentState.of(event["data"]["object"])
        payment = Payment.objects.filter(stripe_payment_intent_id=intent.id).first()
        if payment is None:
            # An intent from another system on the same Stripe account: nothing of ours to settle.
            logger.info("webhook %s for unknown intent %s", event["id"], intent.id)
            return True
        if event_type == "payment_intent.succeeded":
            payment_mark_succeeded(payment_id=payment.pk, intent=intent)
        else:
            message = (decline_message(code=intent.error_code, stripe_text=intent.error_message, payment_id=payment.pk)
                       if intent.error_code or intent.error_message else gettext_noop("The payment failed."))
            payment_mark_failed(payment_id=payment.pk, message=message, intent_id=intent.id)
    return True
