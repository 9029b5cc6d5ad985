"""An import whose worker lives but whose database connection breaks mid-import (PostgreSQL restarted, a failover,
the session terminated by an admin or a timeout). The import's transaction is rolled back with the connection, so
nothing of the file is in; the batch must not be failed with the driver's message (as it was: "terminating
connection due to administrator command", and the task's retry then found the batch failed and imported nothing).
While its task has attempts left the batch waits queued and the task runs again from the start; after the last
attempt it is failed with a message asking for the file again. A database still away when the run settles the batch
makes it a lost worker (recovered by the same rule); a cancelled statement on a live connection is an ordinary
database error (failed, as before).

Real PostgreSQL, a real worker (in this process, as tests/marketplace/test_task_queue.py runs it) and a real
`pg_terminate_backend` from another session, at a known point: that session holds a lock on the audit table, so
the import blocks writing its audit entries (its patents already written inside its transaction) until the
terminator, watching pg_stat_activity, ends it."""

import threading
import time

import psycopg
import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from marketplace.scheduling.worker import RecoveringWorker
from patents.inventory.services import inventory_batch_create, inventory_batches_recover
from patents.inventory.tasks import run_inventory_batch
from patents.models import InventoryBatch, Patent, PatentChange
from tests.parties.factories import HolderFactory, MembershipFactory
from tests.patents.factories import cn_application_number, inventory_csv

# transaction=True: the worker's connection is really lost, and what it committed afterwards is what is read back.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL)")]
ROWS = 3


def _session(**options) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(**{"dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"], "host": s["HOST"],
                              "port": s["PORT"] or None, **options})


class Terminator(threading.Thread):
    """Holds the audit table against writers, ends the session that waits on it, then lets go. With `away`, the
    database also refuses new connections (a restart still under way) until `back` is set."""

    def __init__(self, *, away: bool = False, end: str = "pg_terminate_backend"):
        super().__init__(daemon=True)
        self.away, self.back, self.end = away, threading.Event(), end
        self.blocker = _session()
        self.blocker.execute(f"LOCK TABLE {PatentChange._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        self.ended: str | None = None

    def run(self):
        name = connection.settings_dict["NAME"]
        try:
            with _session(autocommit=True) as watch:
                deadline = time.monotonic() + 10
                while self.ended is None and time.monotonic() < deadline:
                    row = watch.execute("SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND wait_event_type = 'Lock' AND pid <> %s",
                                        (self.blocker.info.backend_pid,)).fetchone()
                    if row:
                        if self.away:  # from another database: PostgreSQL refuses it for the current one
                            with _session(autocommit=True, dbname="postgres") as admin:
                                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                        watch.execute(f"SELECT {self.end}(%s)", (row[0],))
                        self.ended = row[1]
                    time.sleep(0.01)
                if self.away:
                    self.back.wait(timeout=30)
        finally:
            self.blocker.close()  # rolls back: the lock goes
            if self.away:
                with _session(autocommit=True, dbname="postgres") as admin:
                    admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASK_RECOVER_SECONDS = 3600  # the workers' sweep stays idle: inventory_batches_recover is called here
    settings.TASK_RETRY_BACKOFF_SECONDS = 0
    return settings


def _worker(worker_id: str, **options) -> RecoveringWorker:
    return RecoveringWorker(**{"queue_names": ["*"], "interval": 0, "batch": True, "backend_name": "default",
                               "startup_delay": False, "max_tasks": None, "worker_id": worker_id,
                               "excluded_queue_names": [], **options})


def _upload(membership) -> tuple[InventoryBatch, str]:
    batch = inventory_batch_create(
        holder=membership.organisation, run_by=membership.user, source=InventoryBatch.Source.WEB,
        filename="inventory.csv", language="en", content=inventory_csv([
            {"number": cn_application_number(n), "title": f"一种储能装置 {n}", "kind": "invention",
             "filing_date": "2021-03-15"} for n in range(1, ROWS + 1)]))
    return batch, str(run_inventory_batch.enqueue(batch.pk).id)


def _import_cut_off(membership, **terminator) -> tuple[InventoryBatch, DBTaskResult]:
    """An upload's task run by a worker whose connection is ended while the import writes; the worker lives on."""
    batch, task_id = _upload(membership)
    terminator = Terminator(**terminator)
    terminator.start()
    _worker("worker-1", batch=False, max_tasks=1).run()  # returns normally: the worker survived
    terminator.join()
    assert terminator.ended and terminator.ended.startswith(f'COPY "{PatentChange._meta.db_table}"')
    batch.refresh_from_db()
    return batch, DBTaskResult.objects.get(pk=task_id)


def test_an_import_whose_connection_is_ended_waits_queued_and_runs_again_once_from_the_start(queue, client):
    membership = MembershipFactory(organisation=HolderFactory())
    batch, task = _import_cut_off(membership)

    assert batch.status == InventoryBatch.Status.QUEUED and batch.finished_at is None
    assert batch.message == ("The import was interrupted: the connection to the database was lost. It will run "
                             "again from the start shortly; nothing from the file was imported yet.")
    assert task.status == TaskResultStatus.READY and task.worker_ids == ["worker-1"]  # the worker's retry rule
    assert task.exception_class_path == "psycopg.errors.AdminShutdown"  # the reason, shown to the IP office
    assert not Patent.objects.exists() and not PatentChange.objects.exists()  # rolled back with the connection
    client.force_login(membership.user)
    status = client.get(reverse("batch_status", args=[batch.pk])).json()
    assert (status["status"], status["finished"]) == ("queued", False) and "run again" in status["message"]
    assert inventory_batches_recover() == []  # the sweep leaves a queued batch to its task

    _worker("worker-2").run()

    batch.refresh_from_db()
    task.refresh_from_db()
    assert (batch.status, batch.created_count) == (InventoryBatch.Status.SUCCEEDED, ROWS)
    assert Patent.objects.count() == ROWS and PatentChange.objects.count() == ROWS  # imported once
    assert (task.status, task.worker_ids) == (TaskResultStatus.SUCCESSFUL, ["worker-1", "worker-2"])


def test_an_import_whose_connection_is_ended_on_its_last_attempt_is_failed_asking_for_the_file_again(queue, client):
    queue.TASK_MAX_ATTEMPTS = 1
    membership = MembershipFactory(organisation=HolderFactory())
    batch, task = _import_cut_off(membership)

    assert batch.status == InventoryBatch.Status.FAILED and batch.finished_at is not None
    assert batch.message == ("The import was interrupted: the connection to the database was lost before it "
                             "finished, and nothing from the file was imported. Please upload the file again.")
    assert task.status == TaskResultStatus.FAILED and "AdminShutdown" in task.traceback
    assert not Patent.objects.exists()
    client.force_login(membership.user)
    page = client.get(reverse("batch_detail", args=[batch.pk]))
    assert "upload the file again" in page.content.decode()
    assert inventory_batches_recover() == []
    _worker("worker-2").run()  # nothing is left to run
    assert DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.FAILED and not Patent.objects.exists()


def test_an_import_cut_off_while_the_database_stays_away_is_recovered_as_a_lost_worker_and_runs_again_once(queue):
    # Nothing can be recorded: the batch stays running (its lock gone with the connection) and the worker, unable
    # to record the task's error either, stops (as `run_worker` exits), which frees its own lock.
    batch, task_id = _upload(MembershipFactory(organisation=HolderFactory()))
    terminator = Terminator(away=True)
    terminator.start()
    try:
        with pytest.raises(OperationalError, match="not currently accepting connections"):
            _worker("worker-1", batch=False, max_tasks=1).run()
    finally:
        terminator.back.set()
        terminator.join()
    assert terminator.ended and terminator.ended.startswith(f'COPY "{PatentChange._meta.db_table}"')
    connection.close()  # this process's connection was refused too: the next query opens a fresh one

    batch.refresh_from_db()
    assert (batch.status, DBTaskResult.objects.get(pk=task_id).status) == (InventoryBatch.Status.RUNNING,
                                                                           TaskResultStatus.RUNNING)
    assert inventory_batches_recover() == []  # the sweep (or the batch page): queued again, as for a lost worker
    batch.refresh_from_db()
    assert batch.status == InventoryBatch.Status.QUEUED and "run again from the start" in batch.message

    _worker("worker-2").run()

    batch.refresh_from_db()
    task = DBTaskResult.objects.get(pk=task_id)
    assert (batch.status, Patent.objects.count(), PatentChange.objects.count()) == (
        InventoryBatch.Status.SUCCEEDED, ROWS, ROWS)
    assert (task.status, task.worker_ids) == (TaskResultStatus.SUCCESSFUL, ["worker-1", "worker-2"])


def test_a_statement_cancelled_on_a_connection_that_lives_on_fails_the_import_as_any_database_error(queue):
    # Not a lost connection (pg_cancel_backend, as a statement_timeout does): the session answers afterwards, and
    # the import fails with the database's message as before; its task's retry does not import it behind the
    # holder's back.
    batch, task = _import_cut_off(MembershipFactory(organisation=HolderFactory()), end="pg_cancel_backend")

    assert batch.status == InventoryBatch.Status.FAILED and "canceling statement" in batch.message
    assert task.status == TaskResultStatus.READY  # the worker's ordinary retry, which finds the batch decided
    _worker("worker-2").run()
    batch.refresh_from_db()
    assert batch.status == InventoryBatch.Status.FAILED and not Patent.objects.exists()
