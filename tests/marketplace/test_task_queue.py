"""The task queue beyond django-tasks-db 0.13 (marketplace/scheduling/worker.py): a failed task is tried again
with a growing delay up to TASK_MAX_ATTEMPTS, a task whose worker died is queued again (on PostgreSQL as soon as
the dead worker's lock is free; on SQLite after TASK_LOST_AFTER_MINUTES), and the IP office sees each task as
queued, running, failed or done with its error. The worker runs in this process in batch mode (it stops when
the queue is empty); the tasks are real django-tasks tasks of this module."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from marketplace.parties.task_queue import WorkerLock, WorkerLost
from marketplace.scheduling.selectors import task_error_reason
from marketplace.scheduling.services import task_retry_delay, tasks_requeue_lost
from marketplace.scheduling.worker import RecoveringWorker
from tests.parties.factories import IPOfficeFactory, MembershipFactory

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# transaction=True: the worker closes and reopens its connection between tasks, as it does when it runs for real.
# serialized_rollback: the flush after a plain transactional test re-creates content types under new ids (post_migrate),
# which the next serialized_rollback test (test_task_worker, test_import_cli) then cannot load over.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
CALLS: list[str] = []


@task()
def fails_twice(key: str) -> str:
    CALLS.append(key)
    if CALLS.count(key) <= 2:
        raise ConnectionError(f"the far end of {key} is down")
    return "done"


@task()
def loses_its_connection_once(key: str) -> str:
    CALLS.append(key)
    if CALLS.count(key) == 1:
        with connection.cursor() as cursor:  # as a database restart, a failover or an administrator ends it
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    return "done"


@pytest.fixture
def queue(settings):
    settings.TASKS = DATABASE_QUEUE
    settings.TASK_RECOVER_SECONDS = 3600  # the recovery thread stays idle; tasks_requeue_lost is called directly
    CALLS.clear()
    return settings


def work_until_empty(worker_id: str = "worker-1") -> None:
    RecoveringWorker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                     max_tasks=None, worker_id=worker_id, excluded_queue_names=[]).run()


def test_the_retry_delay_grows_fourfold_from_the_configured_back_off(settings):
    settings.TASK_RETRY_BACKOFF_SECONDS = 30
    assert [task_retry_delay(attempts=n).total_seconds() for n in (1, 2, 3)] == [30, 120, 480]


def test_a_failed_task_is_tried_again_and_its_error_cleared_once_an_attempt_succeeds(queue):
    queue.TASK_RETRY_BACKOFF_SECONDS = 0
    result = fails_twice.enqueue("stripe")
    work_until_empty()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.return_value, row.traceback) == ("SUCCESSFUL", "done", "")
    assert row.worker_ids == ["worker-1"] * 3 and CALLS == ["stripe"] * 3


def test_a_task_that_keeps_failing_stops_after_its_attempts_with_the_last_error(queue):
    queue.TASK_RETRY_BACKOFF_SECONDS, queue.TASK_MAX_ATTEMPTS = 0, 2
    result = fails_twice.enqueue("disk")
    work_until_empty()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, len(row.worker_ids)) == ("FAILED", 2)
    assert "ConnectionError: the far end of disk is down" in row.traceback


def test_a_failed_task_waits_its_back_off_queued_and_a_task_listed_as_not_to_repeat_fails_at_once(queue):
    queue.TASK_RETRY_BACKOFF_SECONDS = 60
    waiting = fails_twice.enqueue("bank")
    work_until_empty()  # one attempt: the retry is not due for a minute, so the batch worker stops
    row = DBTaskResult.objects.get(pk=waiting.id)
    assert row.status == "READY" and "the far end of bank is down" in row.traceback
    assert timedelta(seconds=55) < row.run_after - timezone.now() <= timedelta(seconds=60)

    queue.TASK_NO_RETRY = ["tests.marketplace.test_task_queue.fails_twice"]
    once = fails_twice.enqueue("mail")
    work_until_empty()
    assert DBTaskResult.objects.get(pk=once.id).status == "FAILED" and CALLS.count("mail") == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL)")
def test_a_task_whose_database_connection_broke_is_recorded_failed_on_a_fresh_one_and_tried_again(queue):
    # django-tasks-db records the error on the dead connection, which Django does not reopen by itself: the worker
    # stopped with "the connection is closed" and left the task running.
    queue.TASK_RETRY_BACKOFF_SECONDS = 0
    result = loses_its_connection_once.enqueue("restart")
    work_until_empty()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.return_value, row.worker_ids) == ("SUCCESSFUL", "done", ["worker-1"] * 2)
    assert CALLS == ["restart"] * 2


def _running(worker_id: str, *, minutes_ago: int = 0) -> DBTaskResult:
    result = fails_twice.enqueue("import")
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", worker_ids=[worker_id], started_at=timezone.now() - timedelta(minutes=minutes_ago))
    return DBTaskResult.objects.get(pk=result.id)


def test_a_running_task_whose_worker_is_gone_is_queued_again_with_the_reason_and_then_run(queue):
    # PostgreSQL knows at once (nobody holds the dead worker's lock); SQLite once the task is older than the limit.
    lost = _running("killed-worker", minutes_ago=0 if connection.vendor == "postgresql" else 400)
    assert tasks_requeue_lost() == [str(lost.pk)]
    row = DBTaskResult.objects.get(pk=lost.pk)
    assert row.status == "READY" and row.exception_class_path.endswith(WorkerLost.__qualname__)
    assert tasks_requeue_lost() == []  # queued once, however many workers sweep
    queue.TASK_RETRY_BACKOFF_SECONDS, queue.TASK_MAX_ATTEMPTS = 0, 4  # the lost run counts as an attempt
    work_until_empty("worker-2")
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL" and row.worker_ids == ["killed-worker"] + ["worker-2"] * 3


def test_a_running_task_whose_worker_is_alive_is_left_to_it(queue):
    if connection.vendor == "postgresql":
        lock = WorkerLock("live-worker")
        lock.acquire()  # the live worker's lock, on its own connection as the worker holds it
        try:
            alive = _running("live-worker")
            assert tasks_requeue_lost() == [] and lock.held()
        finally:
            lock.release()
        assert tasks_requeue_lost() == [str(alive.pk)]  # its connection closed: the worker is gone
    else:
        alive = _running("live-worker", minutes_ago=5)
        assert tasks_requeue_lost() == []
    assert DBTaskResult.objects.get(pk=alive.pk).worker_ids == ["live-worker"]


def test_a_task_lost_on_its_last_attempt_is_failed_for_good(queue):
    queue.TASK_MAX_ATTEMPTS = 1
    lost = _running("killed-worker", minutes_ago=400)
    tasks_requeue_lost()
    row = DBTaskResult.objects.get(pk=lost.pk)
    assert row.status == "FAILED" and row.finished_at is not None and "stopped while running" in row.traceback


def test_the_ip_office_sees_each_task_queued_running_failed_or_done_with_its_error(client, queue):
    queue.TASK_RETRY_BACKOFF_SECONDS, queue.TASK_MAX_ATTEMPTS = 0, 1
    fails_twice.enqueue("failed-one")
    work_until_empty()
    _running("some-worker")
    queued = fails_twice.enqueue("queued-one")
    with translation.override("en"):
        url = reverse("office_tasks")
    client.force_login(MembershipFactory().user)
    assert client.get(url).status_code == 404
    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    with translation.override("en"):
        page = client.get(url).content.decode()
        failed_only = client.get(url, {"state": "failed"}).content.decode()
    assert "Queued (1)" in page and "Running (1)" in page and "Failed (1)" in page and "Done (0)" in page
    assert "ConnectionError: the far end of failed-one is down" in page
    assert 'class="task-queued"' in page and str(queued.id) not in failed_only
    assert failed_only.count('<tr class="task-') == 1 and "failed-one" in failed_only


def test_the_office_reads_why_a_task_failed_in_its_language_with_the_raw_error_kept_for_staff(client, queue):
    queue.TASK_RETRY_BACKOFF_SECONDS, queue.TASK_MAX_ATTEMPTS = 0, 1
    fails_twice.enqueue("failed-one")
    work_until_empty()
    lost = _running("killed-worker", minutes_ago=400)
    tasks_requeue_lost()
    assert DBTaskResult.objects.get(pk=lost.pk).status == "FAILED"
    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    with translation.override("zh-hans"):
        page = client.get(reverse("office_tasks")).content.decode()
    assert "任务运行中其工作进程已停止。" in page and "失败：ConnectionError" in page
    summaries = "".join(part.split("</summary>")[0] for part in page.split("<summary>")[1:])
    assert "WorkerLost" not in summaries and "stopped while running" not in summaries  # no raw English shown
    assert "<code>WorkerLost: the worker killed-worker stopped while running this task</code>" in page
    assert "<code>ConnectionError: the far end of failed-one is down</code>" in page
    with translation.override("zh-hans"):  # the import's own lost-worker error (patents.inventory.services)
        assert task_error_reason(exception_class_path="patents.inventory.services.WorkerLost") == (
            "运行此导入的工作进程已停止；已请权利人重新上传文件。")
