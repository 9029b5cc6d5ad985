"""An import whose worker lives but whose database connection breaks mid-import (PostgreSQL restarted, a failover,
the session terminated by an admin or a timeout). The import's transaction is rolled back with the connection, so
nothing of the file is in; the batch must not be failed with the driver's message (as it was: "terminating
connection due to administrator command", and the task's retry then found the batch failed and imported nothing).
While its task has attempts left the batch waits queued and the task runs again from the start; after the last
attempt it is failed with a message asking for the file again.

Real PostgreSQL, a real worker (in this process, as tests/marketplace/test_task_queue.py runs it) and a real
`pg_terminate_backend` from another session, at a known point: that session holds a lock on the audit table, so
the import blocks writing its audit entries (its patents already written inside its transaction) until the
terminator, watching pg_stat_activity, ends it."""

import threading
import time

import psycopg
import pytest
from django.db import connection
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
    return psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"], host=s["HOST"],
                           port=s["PORT"] or None, **options)


class Terminator(threading.Thread):
    """Holds the audit table against writers, ends the session that waits on it, then lets go."""

    def __init__(self):
        super().__init__(daemon=True)
        self.blocker = _session()
        self.blocker.execute(f"LOCK TABLE {PatentChange._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        self.ended: str | None = None

    def run(self):
        with _session(autocommit=True) as watch:
            deadline = time.monotonic() + 10
            while self.ended is None and time.monotonic() < deadline:
                row = watch.execute("SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock' AND pid <> %s",
                                    (self.blocker.info.backend_pid,)).fetchone()
                if row:
                    watch.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                    self.ended = row[1]
                time.sleep(0.01)
        self.blocker.close()  # rolls back: the lock goes


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


def _import_cut_off(membership) -> tuple[InventoryBatch, DBTaskResult, str]:
    """An upload's task run by a worker whose connection is ended while the import writes; the worker lives on."""
    batch = inventory_batch_create(
        holder=membership.organisation, run_by=membership.user, source=InventoryBatch.Source.WEB,
        filename="inventory.csv", language="en", content=inventory_csv([
            {"number": cn_application_number(n), "title": f"一种储能装置 {n}", "kind": "invention",
             "filing_date": "2021-03-15"} for n in range(1, ROWS + 1)]))
    result = run_inventory_batch.enqueue(batch.pk)
    terminator = Terminator()
    terminator.start()
    _worker("worker-1", batch=False, max_tasks=1).run()  # returns normally: the worker survived
    terminator.join()
    assert terminator.ended and terminator.ended.startswith(f'COPY "{PatentChange._meta.db_table}"')
    batch.refresh_from_db()
    return batch, DBTaskResult.objects.get(pk=result.id), terminator.ended


def test_an_import_whose_connection_is_ended_waits_queued_and_runs_again_once_from_the_start(queue, client):
    membership = MembershipFactory(organisation=HolderFactory())
    batch, task, _ = _import_cut_off(membership)

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
    batch, task, _ = _import_cut_off(membership)

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
