"""Give every payment already paid the platform fee rate it was charged with, so that refunding it splits at
that rate. The rate is read back from the payment's `payment_received` posting (its platform fee line against
the payment amount); a payment without exactly one such posting gets the current site setting. Unpaid
payments stay empty: they get their rate when they succeed.

A separate migration from the AddField, so that PostgreSQL never updates rows and alters their table in one
transaction. The rounding rule is copied from licensing.ledger.services (a migration must not change when the
app's code does)."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations
from django.db.models import Case, Count, BigIntegerField, Sum, When

PAID_STATES = ("succeeded", "partially_refunded", "refunded")
MAX_RATE = Decimal("999.99")  # what max_digits=5, decimal_places=2 can hold
BATCH = 500


def fee_at(amount_fen: int, rate_percent: Decimal) -> int:
    return int((Decimal(amount_fen) * rate_percent / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def rate_implied_by_ledger(*, amount_fen: int, fee_fen: int | None, current: Decimal) -> Decimal:
    """The rate (percent, two decimals) that reproduces the fee posted for `amount_fen`. Below 100 yuan
    several rates round to the same fee: the current setting is preferred when it is one of them, else the
    posted fee over the amount. `current` when no fee was posted or no rate reproduces it."""
    if fee_fen is None or amount_fen <= 0:
        return current
    if fee_at(amount_fen, current) == fee_fen:
        return current
    implied = (Decimal(fee_fen) * 100 / Decimal(amount_fen)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if Decimal("0") <= implied <= MAX_RATE and fee_at(amount_fen, implied) == fee_fen:
        return implied
    return current


def current_setting(apps) -> Decimal:
    """The default site's platform fee rate, as cms.models.PlatformSettings stores it (0 when none)."""
    Site = apps.get_model("wagtailcore", "Site")
    PlatformSettings = apps.get_model("cms", "PlatformSettings")
    site = Site.objects.filter(is_default_site=True).first()
    row = PlatformSettings.objects.filter(site=site).first() if site else None
    return row.platform_fee_rate if row else Decimal("0.00")


def backfill_platform_fee_rates(apps, schema_editor):
    Payment = apps.get_model("licensing", "Payment")
    LedgerEntry = apps.get_model("licensing", "LedgerEntry")
    payments = Payment.objects.filter(state__in=PAID_STATES, platform_fee_rate__isnull=True).order_by("pk")
    if not payments.exists():  # a new database: nothing to read, not even the site settings
        return
    current = current_setting(apps)
    # The platform fee line is negative (the platform is owed it); a zero fee writes no line at all.
    posted = {
        row["payment_id"]: row for row in LedgerEntry.objects.filter(kind="payment_received", payment__isnull=False)
        .values("payment_id").order_by()
        .annotate(postings=Count("posting", distinct=True),
                  fee=Sum(Case(When(account="platform_fees", then="amount_fen"), default=0,
                               output_field=BigIntegerField())))
    }
    # Read first, write after: SQLite does not isolate a write from a query still being iterated.
    rates = []
    for pk, amount_fen in list(payments.values_list("pk", "amount_fen")):
        row = posted.get(pk)
        fee = -row["fee"] if row and row["postings"] == 1 else None
        rates.append(Payment(pk=pk, platform_fee_rate=rate_implied_by_ledger(amount_fen=amount_fen, fee_fen=fee,
                                                                             current=current)))
    Payment.objects.bulk_update(rates, ["platform_fee_rate"], batch_size=BATCH)


class Migration(migrations.Migration):

    dependencies = [
        ("licensing", "0003_payment_platform_fee_rate"),
        ("cms", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(backfill_platform_fee_rates, migrations.RunPython.noop)]
