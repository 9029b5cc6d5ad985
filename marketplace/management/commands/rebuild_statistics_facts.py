"""Build the IP office's statistics facts again from the licensing tables (after a bulk load, or to repair)."""

from django.core.management.base import BaseCommand

from marketplace.management.progress import progress_bar
from marketplace.office.facts import rebuild


class Command(BaseCommand):
    help = ("Rebuild the statistics facts the dashboard counts (one row per declaration, licence and payment) "
            "from the licensing tables; the change listeners keep them afterwards.")

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        with progress_bar(self, unit="patents", desc="statistics facts", disable=options["no_progress"]) as progress:
            rows = rebuild(progress=progress)
        self.stdout.write(f"{rows} statistics facts written")
