"""An import whose worker died (issues 21 and 22, faults): the batch would say "running" forever, since
django-tasks-db never notices a lost worker. The batch page and `manage.py recover_inventory_batches` find it
(on PostgreSQL the running worker holds the batch's advisory lock, patents/inventory/liveness.py; on SQLite age
decides) and, while its task has attempts left, queue it to run again from the start exactly as the workers'
sweep does (whichever looks first, the task is queued once); after the last attempt the batch is marked failed
with a message for the holder, and its task too. A batch a live worker still runs is left alone.

The worker killed for real, mid-import, is tests/reliability/test_faults.py."""

import time
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from marketplace.parties.task_queue import WorkerLock, WorkerLost
from marketplace.scheduling.services import tasks_requeue_lost
from patents.inventory import liveness
from patents.inventory.services import (
    RUN_BATCH_TASK,
    inventory_batch_create,
    inventory_batch_recover,
    inventory_batch_run,
    inventory_batches_recover,
)
from patents.inventory.tasks import run_inventory_batch
from patents.models import InventoryBatch, Patent
from tests.parties.factories import HolderFactory, MembershipFactory
from tests.patents.factories import cn_application_number, inventory_csv

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL)")


def _file() -> bytes:
    return inventory_csv([{"number": cn_application_number(n), "title": f"一种储能装置 {n}", "kind": "invention",
                           "filing_date": "2021-03-15"} for n in (1, 2)])


def _running_batch(*, hours_ago: float, holder=None, attempts: int = 1) -> InventoryBatch:
    """A batch a worker claimed and started `hours_ago` (what the worker writes first), with its task, claimed
    `attempts` times so far (the last claim the worker that started the batch)."""
    batch = inventory_batch_create(holder=holder or HolderFactory(), run_by=None, source=InventoryBatch.Source.WEB,
                                   filename="inventory.csv", content=_file(), language="en")
    started = timezone.now() - timedelta(hours=hours_ago)
    InventoryBatch.objects.filter(pk=batch.pk).update(status=InventoryBatch.Status.RUNNING, started_at=started)
    DBTaskResult.objects.create(status=TaskResultStatus.RUNNING, task_path=RUN_BATCH_TASK, started_at=started,
                                args_kwargs={"args": [batch.pk], "kwargs": {}}, backend_name="default",
                                queue_name="default",
                                worker_ids=[f"lost-worker-{n}" for n in range(1, attempts + 1)])
    batch.refresh_from_db()
    return batch


def _task(batch: InventoryBatch) -> DBTaskResult:
    return DBTaskResult.objects.get(args_kwargs__args__0=batch.pk)


def _held_elsewhere(batch: InventoryBatch) -> psycopg.Connection:
    """Another session (a live worker) holding the batch's lock."""
    settings = connection.settings_dict
    other = psycopg.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"],
                            host=settings["HOST"], port=settings["PORT"] or None, autocommit=True)
    other.execute("SELECT pg_advisory_lock(%s, %s)", (liveness.LOCK_SPACE, batch.pk))
    return other


def test_the_task_named_for_lost_batches_is_the_task_that_runs_them():
    assert run_inventory_batch.module_path == RUN_BATCH_TASK


def _lost_hours(settings) -> float:
    """How long ago a lost batch started: at once on PostgreSQL (the lock decides), past the age limits on SQLite."""
    return 0 if connection.vendor == "postgresql" else settings.INVENTORY_RUN_TIMEOUT_HOURS + 1


def test_a_batch_whose_worker_is_gone_is_queued_to_run_again_while_its_task_has_attempts_left(settings):
    # The race of issue 22: the holder's page looks between the worker's death and the workers' sweep.
    batch = _running_batch(hours_ago=_lost_hours(settings), attempts=settings.TASK_MAX_ATTEMPTS - 1)

    recovered = inventory_batch_recover(batch=batch)

    batch.refresh_from_db()
    assert recovered.status == batch.status == InventoryBatch.Status.QUEUED
    assert "run again from the start" in batch.message and batch.finished_at is None
    task = _task(batch)
    assert task.status == TaskResultStatus.READY  # queued again as the sweep does it: no new claim, no new task
    assert task.exception_class_path == f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
    assert len(task.worker_ids) == settings.TASK_MAX_ATTEMPTS - 1
    assert tasks_requeue_lost() == []  # the sweep, coming next, finds nothing to queue a second time
    assert inventory_batch_recover(batch=batch).status == InventoryBatch.Status.QUEUED  # nor does a second look
    assert DBTaskResult.objects.filter(args_kwargs__args__0=batch.pk).count() == 1
    inventory_batch_run(batch=recovered)  # what the task does when a worker takes it again
    batch.refresh_from_db()
    assert batch.status == InventoryBatch.Status.SUCCEEDED and Patent.objects.count() == 2


def test_a_batch_lost_on_its_last_attempt_is_marked_failed_with_a_message_and_so_is_its_task(settings):
    batch = _running_batch(hours_ago=_lost_hours(settings), attempts=settings.TASK_MAX_ATTEMPTS)

    recovered = inventory_batch_recover(batch=batch)

    batch.refresh_from_db()
    assert recovered.status == batch.status == InventoryBatch.Status.FAILED
    assert batch.message.startswith("The import was interrupted") and "upload the file again" in batch.message
    assert batch.finished_at is not None
    task = _task(batch)
    assert task.status == TaskResultStatus.FAILED and task.finished_at is not None
    assert task.exception_class_path == f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
    assert Patent.objects.count() == 0
    assert inventory_batch_run(batch=batch).status == InventoryBatch.Status.FAILED  # a late run imports nothing
    assert Patent.objects.count() == 0


def test_a_lost_batch_with_no_task_to_run_it_again_is_marked_failed(settings):
    batch = _running_batch(hours_ago=_lost_hours(settings))
    DBTaskResult.objects.all().delete()  # run by `manage.py import_inventory` in a process that died, say

    assert inventory_batch_recover(batch=batch).status == InventoryBatch.Status.FAILED


def test_a_lost_batch_whose_task_the_workers_queued_again_waits_queued_instead_of_failing(settings):
    batch = _running_batch(hours_ago=settings.INVENTORY_RUN_TIMEOUT_HOURS + 1)
    DBTaskResult.objects.filter(pk=_task(batch).pk).update(status=TaskResultStatus.READY)  # tasks_requeue_lost

    recovered = inventory_batch_recover(batch=batch)

    assert recovered.status == InventoryBatch.Status.QUEUED and "run again from the start" in recovered.message
    assert _task(batch).status == TaskResultStatus.READY
    inventory_batch_run(batch=recovered)  # what the task does when a worker takes it again
    batch.refresh_from_db()
    assert batch.status == InventoryBatch.Status.SUCCEEDED and Patent.objects.count() == 2


def test_a_lost_batch_whose_task_a_live_worker_claimed_again_is_left_to_that_worker(settings):
    # The sweep queued the task again and a live worker claimed it (its last attempt), but has not taken the
    # batch's lock yet: the batch waits queued for it; the task is neither failed nor queued a second time.
    batch = _running_batch(hours_ago=settings.INVENTORY_RUN_TIMEOUT_HOURS + 1, attempts=settings.TASK_MAX_ATTEMPTS)
    claimed = timezone.now()
    DBTaskResult.objects.filter(pk=_task(batch).pk).update(started_at=claimed)
    live = WorkerLock(f"lost-worker-{settings.TASK_MAX_ATTEMPTS}")  # on SQLite the recent claim says it lives
    live.acquire()
    try:
        recovered = inventory_batch_recover(batch=batch)
    finally:
        live.release()

    assert recovered.status == InventoryBatch.Status.QUEUED and "run again from the start" in recovered.message
    task = _task(batch)
    assert (task.status, task.started_at, len(task.worker_ids)) == (TaskResultStatus.RUNNING, claimed,
                                                                     settings.TASK_MAX_ATTEMPTS)
    assert inventory_batch_run(batch=recovered).status == InventoryBatch.Status.SUCCEEDED  # that worker's run


@pytest.mark.skipif(connection.vendor == "postgresql", reason="on PostgreSQL the lock decides, not age")
def test_without_advisory_locks_a_recent_running_batch_is_left_alone(settings):
    batch = _running_batch(hours_ago=settings.INVENTORY_RUN_TIMEOUT_HOURS - 1)

    assert inventory_batch_recover(batch=batch).status == InventoryBatch.Status.RUNNING
    assert _task(batch).status == TaskResultStatus.RUNNING


@on_postgresql
def test_on_postgresql_a_batch_just_started_by_a_worker_that_died_is_recovered_at_once():
    batch = _running_batch(hours_ago=0)

    assert inventory_batch_recover(batch=batch).status == InventoryBatch.Status.QUEUED
    assert _task(batch).status == TaskResultStatus.READY


@on_postgresql
def test_on_postgresql_a_batch_a_live_worker_runs_is_left_alone_however_old():
    batch = _running_batch(hours_ago=100)
    worker = _held_elsewhere(batch)
    try:
        assert inventory_batch_recover(batch=batch).status == InventoryBatch.Status.RUNNING
        assert inventory_batches_recover() == []
    finally:
        worker.close()  # the worker's connection goes: its lock with it, once the server's backend has exited
    deadline = time.monotonic() + 10
    while inventory_batch_recover(batch=batch).status != InventoryBatch.Status.QUEUED:
        assert time.monotonic() < deadline, "the lock of a closed connection was never released"
        time.sleep(0.05)


def test_finished_and_queued_batches_are_never_touched(settings):
    done = inventory_batch_create(holder=HolderFactory(), run_by=None, source=InventoryBatch.Source.WEB,
                                  filename="inventory.csv", content=_file(), language="en")
    inventory_batch_run(batch=done)
    queued = inventory_batch_create(holder=HolderFactory(), run_by=None, source=InventoryBatch.Source.WEB,
                                    filename="inventory.csv", content=_file(), language="en")

    assert inventory_batches_recover() == []
    done.refresh_from_db()
    queued.refresh_from_db()
    assert (done.status, done.created_count, queued.status) == (InventoryBatch.Status.SUCCEEDED, 2,
                                                                 InventoryBatch.Status.QUEUED)


def test_the_command_recovers_every_lost_batch_and_says_which_it_failed(settings, capsys):
    hours, last = settings.INVENTORY_RUN_TIMEOUT_HOURS + 1, settings.TASK_MAX_ATTEMPTS
    lost = [_running_batch(hours_ago=hours, attempts=last) for _ in range(2)]
    again = _running_batch(hours_ago=hours, attempts=last - 1)

    call_command("recover_inventory_batches")

    out = capsys.readouterr().out
    assert f"batch {lost[0].pk}:" in out and f"batch {lost[1].pk}:" in out and "2 interrupted batch(es)" in out
    assert f"batch {again.pk}:" not in out
    assert dict(InventoryBatch.objects.values_list("pk", "status")) == {
        lost[0].pk: InventoryBatch.Status.FAILED, lost[1].pk: InventoryBatch.Status.FAILED,
        again.pk: InventoryBatch.Status.QUEUED}


def test_the_holder_sees_a_lost_import_queued_to_run_again_and_after_its_last_attempt_failed(client, settings):
    membership = MembershipFactory(organisation=HolderFactory())
    hours = settings.INVENTORY_RUN_TIMEOUT_HOURS + 1
    again = _running_batch(hours_ago=hours, holder=membership.organisation)
    lost = _running_batch(hours_ago=hours, holder=membership.organisation, attempts=settings.TASK_MAX_ATTEMPTS)
    client.force_login(membership.user)

    waiting = client.get(reverse("batch_status", args=[again.pk])).json()
    status = client.get(reverse("batch_status", args=[lost.pk])).json()
    page = client.get(reverse("batch_detail", args=[lost.pk]))

    assert (waiting["status"], waiting["finished"]) == ("queued", False)
    assert "run again from the start" in waiting["message"]
    assert (status["status"], status["finished"]) == ("failed", True)
    assert "interrupted" in status["message"] and "upload the file again" in status["message"]
    assert "interrupted" in page.content.decode()


@pytest.mark.parametrize("decided", [InventoryBatch.Status.FAILED, InventoryBatch.Status.SUCCEEDED])
def test_a_batch_already_decided_is_not_run_again_by_a_retried_or_requeued_task(decided):
    # The holder was told "upload again" (failed) or the file is in (imported): a task the workers retry or queue
    # again afterwards must not import the file behind their back.
    batch = inventory_batch_create(holder=HolderFactory(), run_by=None, source=InventoryBatch.Source.WEB,
                                   filename="inventory.csv", content=_file(), language="en")
    InventoryBatch.objects.filter(pk=batch.pk).update(status=decided)
    batch.refresh_from_db()

    summary = inventory_batch_run(batch=batch)

    assert summary.status == decided
    assert not Patent.objects.exists()
    batch.refresh_from_db()
    assert batch.status == decided and batch.started_at is None

