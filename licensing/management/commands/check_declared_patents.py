"""`manage.py check_declared_patents` (daily): find the standing declarations on which a Regulations art. 86
situation arose (annual fees unpaid past their date, a suspension, an exclusive licence, a pledge without the
pledgee's consent), prompt each holder to withdraw and tell each licensee, once per situation."""

from datetime import date

from django.core.management.base import BaseCommand

from licensing.declarations.situations import declared_patents_check


class Command(BaseCommand):
    help = "Prompt holders to withdraw declarations barred by Regulations art. 86 and tell their licensees."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, default=None, help="Check as of this day (YYYY-MM-DD).")

    def handle(self, *args, **options):
        counts = declared_patents_check(today=options["today"])
        self.stdout.write(f"{counts['checked']} declarations checked, {counts['with_situation']} with a situation, "
                          f"{counts['told']} situations told")
