"""Seed the demo: organisations, users of each role and the CMS pages, written as code (not JSON dumps)
so it survives model changes. Idempotent: running it again updates in place and duplicates nothing."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from marketplace.demo.seed import (
    DEMO_PASSWORD,
    seed_declarations,
    seed_history,
    seed_licences,
    seed_needs,
    seed_office_figures,
    seed_pages,
    seed_parties,
    seed_patents,
    seed_pool,
    seed_vouchers,
)
from marketplace.parties import notifications


class Command(BaseCommand):
    help = "Create or refresh the demo organisations, users and pages (idempotent)."

    def handle(self, *args, **options):
        # The demo's history makes notifications (licences paid, needs matched): kept in the inboxes, but not
        # e-mailed, which on the development console printed one e-mail per notification while seeding. The
        # server started afterwards e-mails as usual.
        with notifications.without_emails():
            self._seed()

    @transaction.atomic
    def _seed(self):
        users = seed_parties()
        seed_pages()
        for line in seed_patents():
            self.stdout.write(f"Inventory {line}")
        for line in seed_declarations():
            self.stdout.write(f"Declarations {line}")
        for line in seed_licences():
            self.stdout.write(f"Licence: {line}")
        for line in seed_vouchers():
            self.stdout.write(f"Innovation {line}")
        for line in seed_office_figures():
            self.stdout.write(f"Office figures: {line}")
        for line in seed_needs():
            self.stdout.write(f"Buyer {line}")
        for line in seed_pool():
            self.stdout.write(f"Securitization: {line}")
        if settings.DEMO_HISTORY:
            for line in seed_history():
                self.stdout.write(f"History: {line}")
        editors = Group.objects.filter(name="Editors").first()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password {DEMO_PASSWORD}):"))
        for email, what in users:
            self.stdout.write(f"  {email:<22} {what}")
        if editors is None:
            self.stdout.write(self.style.WARNING("Wagtail's Editors group is missing; the editor cannot use /admin/."))
