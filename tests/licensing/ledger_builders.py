"""ORM builders for money tests: an active licence, a paid payment posted to the ledger (optionally part
paid by a voucher, optionally settled by a real localstripe PaymentIntent) and a fixed platform fee."""

from datetime import timedelta
from decimal import Decimal

import stripe
from django.utils import timezone

from licensing.ledger import services as ledger
from licensing.models.licences import Licence, LicenceState, Payment, Voucher, VoucherUse
from marketplace.parties.models import MembershipRole
from tests.licensing.factories import DeclarationFactory, LicenceFactory, PaymentFactory, VoucherFactory
from tests.parties import factories as parties
from tests.parties.factories import IPOfficeFactory, OrganisationFactory

FEE_RATE_PROVIDER = "tests.licensing.ledger_builders.five_percent"


def five_percent() -> Decimal:
    """A platform fee of 5%: makes the fee/holder split and its rounding visible in the ledger."""
    return Decimal("5")


def member(organisation, role=MembershipRole.MEMBER):
    return parties.member(organisation, role)


def ip_officer():
    return member(IPOfficeFactory())


def licence(*, licensee=None, first_amount_fen=100_000, state=LicenceState.ACTIVE, **kwargs) -> Licence:
    """A licence taken under a lump-sum declaration, built directly (no notice flow)."""
    declaration = DeclarationFactory(lump_sum_fen=first_amount_fen)
    fields = {"declaration": declaration, "licensee": licensee or OrganisationFactory(), "state": state}
    if state == LicenceState.ACTIVE:
        fields.update(starts_on=timezone.localdate(), activated_at=timezone.now())
    fields.update(kwargs)
    created = LicenceFactory(**fields)
    if state == LicenceState.ACTIVE and not created.certificate_number:
        created.certificate_number = f"OL{timezone.localdate():%Y}{created.pk:08d}"
        created.save(update_fields=["certificate_number"])
    return created


def voucher(organisation, *, amount_fen=30_000, balance_fen=None, uses=("licence_fees", "royalties"),
            expires_in_days=365, code=None) -> Voucher:
    return VoucherFactory(
        code=code or f"CX2026-T{Voucher.objects.count():05d}", organisation=organisation, amount_fen=amount_fen,
        balance_fen=amount_fen if balance_fen is None else balance_fen, eligible_uses=list(uses),
        expires_on=timezone.localdate() + timedelta(days=expires_in_days))


def succeeded_intent(amount_fen: int) -> str:
    """A real PaymentIntent that succeeded in localstripe; returns its id."""
    intent = stripe.PaymentIntent.create(amount=amount_fen, currency="cny", payment_method="pm_card_visa", confirm=True,
                                         api_key="sk_test_x")
    assert intent.status == "succeeded"
    return intent.id


def paid_payment(licence_: Licence, *, amount_fen=None, voucher_: Voucher | None = None, voucher_fen=0,
                 intent_id: str | None = None, purpose=Payment.Purpose.FIRST_AMOUNT, post=True, **kwargs) -> Payment:
    """A succeeded payment: `voucher_fen` of it spent from `voucher_` (its balance lowered, a use recorded),
    the rest by card (`intent_id`), with the platform fee rate of the moment stored on it as
    payment_mark_succeeded stores it, posted with ledger.post_payment_received unless post=False."""
    amount_fen = licence_.first_amount_fen if amount_fen is None else amount_fen
    payment = PaymentFactory(licence=licence_, paid=True, purpose=purpose, amount_fen=amount_fen,
                             voucher_fen=voucher_fen, stripe_payment_intent_id=intent_id, **kwargs)
    if voucher_fen:
        voucher_.balance_fen -= voucher_fen
        voucher_.save(update_fields=["balance_fen"])
        VoucherUse.objects.create(voucher=voucher_, payment=payment, amount_fen=voucher_fen)
    if post:
        ledger.post_payment_received(payment)
    return payment


__all__ = ["FEE_RATE_PROVIDER", "five_percent", "ip_officer", "licence", "member", "paid_payment", "succeeded_intent",
           "voucher"]
