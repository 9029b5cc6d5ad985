"""The processes `make run` starts beside the web server, as real processes on one database: two schedulers
ticking at the same moment enqueue each periodic job once, and the django-tasks-db worker runs what they and the
site enqueued: a posted need's matching, after which the holder whose listing answers it has been told.

The other processes need a database they can open: on PostgreSQL the test database itself (committed for real,
the migrations' rows restored after); on SQLite, whose test database lives in this process's memory, a file
copy of it that is copied back once the processes are done."""

import contextlib
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from marketplace.models import Need, ScheduledJob
from marketplace.parties.models import Notification
from marketplace.scheduling.schedule import schedule
from tests.marketplace.test_need_notices import BMS, NEED_FORM, listing
from tests.parties.factories import MembershipFactory, OrganisationFactory
from tests.reliability.harness import PYTHON, ROOT, stop_process

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class SharedDatabase:
    def __init__(self, tmp_path: Path):
        self.path = tmp_path / "shared.sqlite3"
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            self.url = (
                f"postgres://{quote(settings['USER'] or '')}:{quote(settings['PASSWORD'] or '')}@"
                f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
            )
        else:
            self.url = f"sqlite:///{self.path}"

    def __enter__(self):
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with contextlib.closing(sqlite3.connect(self.path)) as copy:
                connection.connection.backup(copy)
        return self

    def __exit__(self, *exc):
        if connection.vendor == "sqlite":
            with contextlib.closing(sqlite3.connect(self.path)) as copy:
                copy.backup(connection.connection)

    def statuses(self) -> list[str]:
        if connection.vendor == "sqlite":
            with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as db:
                return [row[0] for row in db.execute(f"SELECT status FROM {DBTaskResult._meta.db_table}")]  # noqa: S608
        return list(DBTaskResult.objects.values_list("status", flat=True))


def _manage(database: SharedDatabase, tmp_path: Path, log: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.test",
        "DATABASE_URL": database.url,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, stdout=(tmp_path / log).open("wb"), stderr=subprocess.STDOUT
    )


def test_two_schedulers_enqueue_each_job_once_and_the_worker_runs_them_and_a_posted_needs_matching(
    client, demo_pages, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    bms = listing(BMS, django_capture_on_commit_callbacks)
    holder_user = MembershipFactory(organisation=bms.holder).user
    buyer = OrganisationFactory(is_licensee=True, is_holder=False)
    client.force_login(MembershipFactory(organisation=buyer).user)
    response = client.post(reverse("need_new"), {**NEED_FORM, "organisation": buyer.pk})
    assert response.status_code == 302
    need = Need.objects.get()
    # Posted: its matching waits in the queue, nobody has been told yet.
    assert DBTaskResult.objects.filter(
        task_path="marketplace.matching.tasks.refresh_need_matches", args_kwargs__args=[need.pk, True]
    ).exists()
    assert not Notification.objects.exists()

    with SharedDatabase(tmp_path) as database:
        worker = _manage(
            database,
            tmp_path,
            "worker.log",
            "run_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.2",
            "--queue-name",
            "*",
        )
        try:
            schedulers = [_manage(database, tmp_path, f"scheduler-{i}.log", "run_scheduler", "--once") for i in (1, 2)]
            for scheduler in schedulers:
                assert scheduler.wait(timeout=120) == 0, (tmp_path / "scheduler-1.log").read_text()
            deadline = time.monotonic() + 120
            while any(s in ("READY", "RUNNING") for s in database.statuses()):
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.2)
        finally:
            stop_process(worker)

    failed = DBTaskResult.objects.exclude(status="SUCCESSFUL")
    assert not failed.exists(), [(t.task_path, t.traceback) for t in failed]
    assert sorted(ScheduledJob.objects.values_list("name", flat=True)) == sorted(job.name for job in schedule())
    for job in schedule():  # two schedulers ticked at once: each job enqueued (and run) once
        path = f"{job.task.func.__module__}.{job.task.func.__name__}"
        assert DBTaskResult.objects.filter(task_path=path).count() == 1, path
    [notice] = Notification.objects.filter(user=holder_user)
    assert notice.kind == "need.matches_listings" and notice.url == reverse("need_detail", args=[need.pk])
