"""Double-entry postings in integer fen. Every posting's lines add up to zero, or nothing is written.

Rounding rule (one place): the platform fee is the payment amount times the fee rate, rounded half up to
the fen; the holder is owed the rest, so fee + holder share always equals the amount exactly."""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from licensing.exceptions import UnbalancedPosting
from licensing.models.licences import LedgerAccount, LedgerEntry, Payment


def current_platform_fee_rate() -> Decimal:
    """Percent of a payment kept as platform fee, as the layer above sets it today. Asked only when a payment
    succeeds (the rate is then stored on it); postings read the payment's stored rate. The rate comes through
    a setting naming a function of the marketplace, which owns the platform's commercial terms: licensing
    sits below the marketplace and imports neither it nor the CMS where editors keep the figure."""
    return Decimal(import_string(settings.PLATFORM_FEE_RATE_PROVIDER)())


def _stored_rate(payment: Payment) -> Decimal:
    if payment.platform_fee_rate is None:
        raise ValueError(f"payment {payment.pk} has no platform fee rate: it was never marked succeeded")
    return payment.platform_fee_rate


def fee_split(amount_fen: int, rate_percent: Decimal) -> tuple[int, int]:
    fee = int((Decimal(amount_fen) * rate_percent / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return fee, amount_fen - fee


@transaction.atomic
def post(kind: str, lines: list[tuple[str, int, dict]], description: str = "") -> uuid.UUID:
    """Write one balanced posting: lines of (account, signed fen, refs{organisation, licence, payment})."""
    if sum(amount for _, amount, _ in lines) != 0:
        raise UnbalancedPosting(f"{kind}: lines add up to {sum(a for _, a, _ in lines)} fen")
    posting = uuid.uuid4()
    LedgerEntry.objects.bulk_create([
        LedgerEntry(posting=posting, account=account, amount_fen=amount, kind=kind, description=description[:255],
                    **refs)
        for account, amount, refs in lines if amount != 0
    ])
    return posting


def post_payment_received(payment: Payment) -> uuid.UUID:
    """Card charge and voucher in; platform fee (at the payment's stored rate) and the holder's share owed."""
    licence = payment.licence
    fee, holder_share = fee_split(payment.amount_fen, _stored_rate(payment))
    refs = {"licence": licence, "payment": payment}
    return post("payment_received", [
        (LedgerAccount.CARD_CLEARING, payment.charge_fen, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.VOUCHER_FUND, payment.voucher_fen, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.PLATFORM_FEES, -fee, refs),
        (LedgerAccount.HOLDER_PAYABLE, -holder_share, {**refs, "organisation": licence.licensor}),
    ], description=f"{payment.get_purpose_display()} {licence.certificate_number or licence.pk}")


def post_refund(payment: Payment, refund_fen: int) -> uuid.UUID:
    """A card refund: the fee and the holder's share shrink in proportion, at the rate the payment was charged
    with (same rounding rule), so a change of the rate since then does not move money between them."""
    licence = payment.licence
    fee, holder_share = fee_split(refund_fen, _stored_rate(payment))
    refs = {"licence": licence, "payment": payment}
    return post("refund", [
        (LedgerAccount.CARD_CLEARING, -refund_fen, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.PLATFORM_FEES, fee, refs),
        (LedgerAccount.HOLDER_PAYABLE, holder_share, {**refs, "organisation": licence.licensor}),
    ], description=f"refund {licence.certificate_number or licence.pk}")
