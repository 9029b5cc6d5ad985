"""The scheduler enqueues each periodic job once per slot, however often and by however many schedulers it runs,
into the database queue the workers read (django-tasks-db); the slots are local times."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from marketplace.models import ScheduledJob, StatisticsSnapshot
from marketplace.scheduling.schedule import Daily, Every, Monthly, schedule
from marketplace.scheduling.services import scheduled_jobs_enqueue

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_a_slot_is_the_latest_scheduled_local_time_at_or_before_now():
    assert Every(15).slot(at(2026, 12, 7, 10, 7, 30)) == at(2026, 12, 7, 10, 0)
    assert Every(15).slot(at(2026, 12, 7, 10, 15)) == at(2026, 12, 7, 10, 15)
    assert Every(60).slot(at(2026, 12, 7, 0, 59)) == at(2026, 12, 7, 0, 0)
    assert Daily(2).slot(at(2026, 12, 7, 1, 59)) == at(2026, 12, 6, 2, 0)
    assert Daily(2).slot(at(2026, 12, 7, 2, 0)) == at(2026, 12, 7, 2, 0)
    assert Monthly(day=1, hour=1).slot(at(2026, 12, 1, 0, 30)) == at(2026, 11, 1, 1, 0)
    assert Monthly(day=1, hour=1).slot(at(2026, 12, 31, 23, 0)) == at(2026, 12, 1, 1, 0)
    # A UTC instant counts in local time: 2026-12-06 17:30 UTC is 01:30 on the 7th in Shanghai.
    assert Daily(1).slot(datetime(2026, 12, 6, 17, 30, tzinfo=ZoneInfo("UTC"))) == at(2026, 12, 7, 1, 0)


def _queued() -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in DBTaskResult.objects.values_list("task_path", flat=True):
        counts[path] = counts.get(path, 0) + 1
    return counts


@pytest.mark.django_db
def test_each_due_job_is_enqueued_once_when_the_scheduler_runs_twice(settings):
    settings.TASKS = DATABASE_QUEUE
    out = io.StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    call_command("run_scheduler", "--once", stdout=out)

    paths = {f"{job.task.func.__module__}.{job.task.func.__name__}" for job in schedule()}
    assert _queued() == dict.fromkeys(paths, 1)
    assert out.getvalue().count("enqueued as") == len(paths) == 6
    for job in ScheduledJob.objects.all():
        assert job.last_slot is not None and DBTaskResult.objects.filter(pk=job.last_task_id).exists()


@pytest.mark.django_db
def test_a_later_tick_enqueues_only_the_jobs_whose_next_slot_came(settings):
    settings.TASKS = DATABASE_QUEUE
    settings.MATCH_REFRESH_MINUTES = 15
    every_five = "recover_inventory_batches"
    now = at(2026, 12, 7, 10, 5)
    first = {e.job for e in scheduled_jobs_enqueue(now=now)}
    assert first == {
        "refresh_matches",
        "saved_search_alerts",
        "monthly_statistics",
        "check_declared_patents",
        every_five,
        "remind_recording_deadlines",
    }
    assert scheduled_jobs_enqueue(now=now + timedelta(minutes=4)) == []  # 10:09: the same slots
    assert {e.job for e in scheduled_jobs_enqueue(now=at(2026, 12, 7, 10, 16))} == {"refresh_matches", every_five}
    assert {e.job for e in scheduled_jobs_enqueue(now=at(2026, 12, 7, 11, 0))} == {
        "refresh_matches",
        "saved_search_alerts",
        every_five,
    }
    assert {e.job for e in scheduled_jobs_enqueue(now=at(2026, 12, 8, 2, 0))} == {
        "refresh_matches",
        "saved_search_alerts",
        "check_declared_patents",
        every_five,
    }
    assert {e.job for e in scheduled_jobs_enqueue(now=at(2027, 1, 1, 1, 0))} >= {"monthly_statistics"}
    assert ScheduledJob.objects.get(name="monthly_statistics").last_slot == at(2027, 1, 1, 1, 0)
    # A scheduler whose clock is behind (or a slot already taken) enqueues nothing.
    assert scheduled_jobs_enqueue(now=at(2026, 12, 31, 0, 0)) == []


@pytest.mark.django_db
def test_the_scheduled_jobs_run_on_the_immediate_backend_too():
    """Each job's task runs (here at once, as in the tests' settings): none fails on an empty market."""
    enqueued = scheduled_jobs_enqueue(now=at(2026, 12, 7, 10, 5))
    assert [(e.job, e.status) for e in enqueued] == [(job.name, "SUCCESSFUL") for job in schedule()]
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    assert StatisticsSnapshot.objects.filter(month=last_month).exists()  # the job computes the real last month
