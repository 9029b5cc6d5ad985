"""Enqueueing the periodic jobs when they are due, once per slot however many schedulers run.

Written here rather than taken from a package: django-periodic-tasks (the one package that schedules django-tasks
jobs) needs Python 3.13; django-celery-beat needs Celery, django-tasks-scheduler Redis, and the APScheduler
integrations run jobs in their own process instead of enqueueing them for our workers. What we need is small: a
table of jobs (schedule.py) and a row per job recording its last slot in the database every process shares."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.models import ScheduledJob
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
