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


def platform_fee_rate() -> Decimal:
    """Percent of each payment kept as platform fee. Read through a setting so licensing does not import
    the CMS layer that edits it (site settings)."""
    return Decimal(import_string(settings.PLATFORM_FEE_RATE_PROVIDER)())


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
    """Card charge and voucher in; platform fee and the holder's share owed."""
    licence = payment.licence
    fee, holder_share = fee_split(payment.amount_fen, platform_fee_rate())
    refs = {"licence": licence, "payment": payment}
    return post("payment_received", [
        (LedgerAccount.CARD_CLEARING, payment.charge_fen, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.VOUCHER_FUND, payment.voucher_fen, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.PLATFORM_FEES, -fee, refs),
        (LedgerAccount.HOLDER_PAYABLE, -holder_share, {**refs, "organisation": licence.licensor}),
    ], description=f"{payment.get_purpose_display()} {licence.certificate_number or licence.pk}")


def post_refund(payment: Payment, refund_fen: int) -> uuid.UUID:
    """A card refund: the fee and the holder's share shrink in proportion (same rounding rule)."""
    licence = payment.licence
    fee, holder_share = fee_split(refund_fen, platform_fee_rate())
    refs = {"licence": licence, "payment": payment}
    return post("refund", [
        (LedgerAccount.CARD_CLEARING, -refund_fen, {**refs, "organisation": licence.licensee}),
        (LedgerAccount.PLATFORM_FEES, fee, refs),
        (LedgerAccount.HOLDER_PAYABLE, holder_share, {**refs, "organisation": licence.licensor}),
    ], description=f"refund {licence.certificate_number or licence.pk}")
