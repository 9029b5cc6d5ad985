"""`manage.py reconcile_payments`: compare the ledger with Stripe's PaymentIntents and refunds.

Prints one line per difference and a summary; exit status 1 when there is any difference, 0 (and
"no differences") otherwise. Read only: it never corrects anything. See licensing/payments/reconciliation.py for
what is compared."""

from django.core.management.base import BaseCommand, CommandError

from licensing.payments.reconciliation import reconcile


class Command(BaseCommand):
    help = ("Compare every payment with the ledger and with Stripe (intent status and amount, refunds) and check "
            "that every ledger posting balances. Exit status 1 when anything differs.")

    def handle(self, *args, **options):
        report = reconcile()
        for difference in report.differences:
            self.stdout.write(difference.message)
        summary = (f"checked {_n(report.payments, 'payment')} ({report.intents} with a Stripe intent) and "
                   f"{_n(report.postings, 'ledger posting')}")
        if report.clean:
            self.stdout.write(self.style.SUCCESS(f"no differences ({summary})"))
            return
        count = _n(len(report.differences), "difference")
        self.stdout.write(f"{count} ({summary})")
        raise CommandError(f"{count} between the ledger and Stripe", returncode=1)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
