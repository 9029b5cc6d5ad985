"""Compute the IP office's monthly statistics snapshot; run from a scheduler early each month."""

import re

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace.office.statistics import snapshot_month


class Command(BaseCommand):
    help = "Compute (once) the statistics snapshot of a month: every indicator and its breakdowns."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument("--force", action="store_true", help="recompute a month already published")
        parser.add_argument("--no-facts", action="store_true",
                            help="do not rebuild the statistics facts the dashboard counts")

    def handle(self, *args, **options):
        if options["month"]:
            match = re.fullmatch(r"(\d{4})-(\d{2})", options["month"])
            if not match or not 1 <= int(match[2]) <= 12:
                raise CommandError(f"--month: {options['month']!r} is not a month written YYYY-MM")
            year, month = int(match[1]), int(match[2])
        else:
            last = timezone.localdate().replace(day=1) - relativedelta(months=1)
            year, month = last.year, last.month
        if not options["no_facts"]:
            # The published month is computed from the licensing tables (the reference); the dashboard counts the
            # facts, rebuilt here so that whatever bypassed the listeners is caught up once a month.
            call_command("rebuild_statistics_facts", no_progress=True, stdout=self.stdout, stderr=self.stderr)
        snapshot, created = snapshot_month(year=year, month=month, force=options["force"])
        verb = "computed" if created or options["force"] else "already published, kept (use --force to recompute)"
        figures = snapshot.indicators
        self.stdout.write(f"{year:04d}-{month:02d} {verb}: {figures['declarations_published']} declarations published, "
                          f"{figures['licences_concluded']} licences, quick-licence deal rate "
                          f"{figures['quick_licence_deal_rate']}")
