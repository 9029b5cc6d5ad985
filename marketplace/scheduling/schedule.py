"""The periodic jobs of the platform, in one table: what runs, and when.

Each job is a django-tasks task that the scheduler (``manage.py run_scheduler``) enqueues when its slot comes;
the task workers (``manage.py run_worker``) run it. A slot is the latest scheduled time at or before now: a
scheduler that was down over several slots enqueues the job once when it comes back, not once per slot missed
(every job here catches up on its own: a refresh looks at everything, the alerts at what is new since last time,
the statistics at last month, the art. 86 check and the recording reminders at today, the import sweep at
every batch).

Times are local (settings.TIME_ZONE, Asia/Shanghai), as the people reading the results count days."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from licensing.declarations.tasks import check_declared_patents
from licensing.recording.tasks import remind_recording_deadlines
from marketplace.matching.tasks import refresh_all_matches
from marketplace.office.tasks import compute_last_months_statistics
from marketplace.saved_searches.tasks import notify_saved_searches
from patents.inventory.tasks import recover_inventory_batches


@dataclass(frozen=True)
class Every:
    """Every ``minutes`` minutes, counted from midnight."""

    minutes: int

    def slot(self, now: datetime) -> datetime:
        local = timezone.localtime(now)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = int((local - midnight).total_seconds() // 60)
        return midnight + timedelta(minutes=elapsed - elapsed % self.minutes)


@dataclass(frozen=True)
class Daily:
    hour: int
    minute: int = 0

    def slot(self, now: datetime) -> datetime:
        local = timezone.localtime(now)
        today = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        return today if today <= local else today - timedelta(days=1)


@dataclass(frozen=True)
class Monthly:
    day: int
    hour: int
    minute: int = 0

    def slot(self, now: datetime) -> datetime:
        local = timezone.localtime(now)
        this_month = local.replace(day=self.day, hour=self.hour, minute=self.minute, second=0, microsecond=0)
        return this_month if this_month <= local else this_month - relativedelta(months=1)


@dataclass(frozen=True)
class Job:
    name: str
    task: object  # a django_tasks Task
    when: Every | Daily | Monthly
    why: str


def schedule() -> list[Job]:
    """The jobs, read at each tick so that a changed setting needs only a restart of the scheduler."""
    return [
        Job(
            "refresh_matches",
            refresh_all_matches,
            Every(settings.MATCH_REFRESH_MINUTES),
            "scores drift with time (remaining life, deadlines, new words); holders hear of needs they answer",
        ),
        Job(
            "saved_search_alerts",
            notify_saved_searches,
            Every(60),
            "buyers hear of new listings matching their saved searches within the hour",
        ),
        Job(
            "monthly_statistics",
            compute_last_months_statistics,
            Monthly(day=1, hour=1),
            "the IP office's snapshot of last month, once it is over",
        ),
        Job(
            "recover_inventory_batches",
            recover_inventory_batches,
            Every(5),
            "an import whose worker died runs again (after its last attempt, it is failed and its holder asked to "
            "upload the file again)",
        ),
        Job(
            "check_declared_patents",
            check_declared_patents,
            Daily(hour=2),
            "Regulations art. 86 situations arise with time (annual fees fall unpaid) with no one editing anything",
        ),
        Job(
            "remind_recording_deadlines",
            remind_recording_deadlines,
            Daily(hour=8),
            "a licence is recorded with CNIPA within three months of taking effect (recording measures art. 5): "
            "its parties hear when the deadline is near and when it has passed, at the start of a working day",
        ),
    ]
