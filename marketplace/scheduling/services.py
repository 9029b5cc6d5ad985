"""Enqueueing the periodic jobs when they are due, once per slot however many schedulers run; and the task
queue's retries and lost-worker recovery (below).

Written here rather than taken from a package: django-periodic-tasks (the one package that schedules django-tasks
jobs) needs Python 3.13; django-celery-beat needs Celery, django-tasks-scheduler Redis, and the APScheduler
integrations run jobs in their own process instead of enqueueing them for our workers. What we need is small: a
table of jobs (schedule.py) and a row per job recording its last slot in the database every process shares."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from marketplace.models import ScheduledJob
from marketplace.parties.task_queue import task_attempts, task_may_run_again, task_requeue_lost
from marketplace.scheduling.schedule import Job, schedule

logger = logging.getLogger(__name__)


@dataclass
class Enqueued:
    job: str
    slot: datetime
    task_id: str
    status: str  # READY in the database queue; where tasks run at once (the tests), how it ended


def scheduled_job_enqueue_if_due(*, job: Job, now: datetime) -> Enqueued | None:
    """Enqueue the job if its current slot was not enqueued yet, and record that it was; None otherwise.

    The slot is claimed by one conditional UPDATE (last_slot before this slot → this slot) in the transaction
    that also writes the task row (django-tasks-db enqueues in the caller's transaction): of two schedulers
    ticking at once, PostgreSQL makes the second UPDATE wait for the first and then find the row already moved,
    and SQLite lets one writer at a time; either way the job is enqueued once, and a failure enqueues nothing
    and claims nothing."""
    slot = job.when.slot(now)
    ScheduledJob.objects.bulk_create([ScheduledJob(name=job.name)], ignore_conflicts=True)
    with transaction.atomic():
        claimed = ScheduledJob.objects.filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot), name=job.name).update(
            last_slot=slot, last_enqueued_at=now
        )
        if not claimed:
            return None
        result = job.task.enqueue()
        ScheduledJob.objects.filter(name=job.name).update(last_task_id=str(result.id))
    logger.info("scheduled job %s enqueued for %s as task %s", job.name, slot.isoformat(), result.id)
    return Enqueued(job=job.name, slot=slot, task_id=str(result.id), status=result.status.value)


def scheduled_jobs_enqueue(*, now: datetime | None = None) -> list[Enqueued]:
    """One tick of the scheduler: enqueue every job whose slot has come (each at most once per slot)."""
    now = now or timezone.now()
    enqueued = []
    for job in schedule():
        done = scheduled_job_enqueue_if_due(job=job, now=now)
        if done is not None:
            enqueued.append(done)
    return enqueued


# --- The task queue: retries and lost workers (what django-tasks-db 0.13 leaves to us) -------------------------
# The rule for a task whose worker died (task_requeue_lost) is on the ground floor, marketplace/parties/task_queue.py:
# the inventory import's own recovery applies it too.


def task_retry_delay(*, attempts: int) -> timedelta:
    """Exponential back-off: TASK_RETRY_BACKOFF_SECONDS after the first failure, four times longer after each
    further one, so that a failing dependency (Stripe, the disk, the database) is not hammered."""
    return timedelta(seconds=settings.TASK_RETRY_BACKOFF_SECONDS * 4 ** max(attempts - 1, 0))


def task_retry_if_allowed(*, task: DBTaskResult) -> bool:
    """Queue a task that has just failed again, after its back-off, unless it has used its TASK_MAX_ATTEMPTS or
    is one that must not repeat (TASK_NO_RETRY). Its error stays on the row (shown as the reason of the retry)
    until an attempt succeeds. Returns whether it was queued again.

    Conditional on the row still being FAILED with the same attempts, so that it is queued once whoever asks."""
    if not task_may_run_again(task):
        return False
    attempts = task_attempts(task)
    run_after = timezone.now() + task_retry_delay(attempts=attempts)
    queued = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.FAILED, started_at=task.started_at).update(
        status=TaskResultStatus.READY, run_after=run_after, finished_at=None)
    if queued:
        logger.warning("task %s (%s) failed on attempt %d; queued again for %s", task.pk, task.task_path, attempts,
                       run_after.isoformat())
    return bool(queued)


def tasks_requeue_lost() -> list[str]:
    """Every running task whose worker is gone, queued again (task_requeue_lost). Each worker runs this every
    TASK_RECOVER_SECONDS; returns the ids queued again or failed."""
    settled = []
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).order_by("started_at"):
        if task_requeue_lost(task=task) is not None:
            settled.append(str(task.pk))
    return settled
