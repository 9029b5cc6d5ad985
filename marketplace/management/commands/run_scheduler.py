"""`manage.py run_scheduler`: the scheduler process. Every few seconds it enqueues the periodic jobs whose time
has come (marketplace/scheduling/schedule.py) for the task workers (`manage.py run_worker`) to run. Any number may
run side by side (each slot is enqueued once: marketplace/scheduling/services.py)."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from marketplace.scheduling.services import scheduled_jobs_enqueue


class Command(BaseCommand):
    help = "Enqueue the periodic jobs (match refresh, saved-search alerts, statistics, art. 86 check) when due."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one tick, then exit (for cron or a test)")
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between ticks (default 20)")

    def handle(self, *args, once: bool, interval: float, **options):
        self.running = True

        def stop(signum, frame):
            self.running = False

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            self.stdout.write(f"scheduler started (a tick every {interval:g} s)")
        while self.running:
            if not once:  # between ticks, as between requests: drop a stale or broken connection
                close_old_connections()
            for enqueued in scheduled_jobs_enqueue():
                self.stdout.write(
                    f"{enqueued.job}: slot {enqueued.slot.isoformat()} enqueued as {enqueued.task_id} ({enqueued.status})"
                )
            if once:
                return
            deadline = time.monotonic() + interval
            while self.running and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))
