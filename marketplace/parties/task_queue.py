"""The task queue's rules for lost workers, on the ground floor (issue 22) so that both sides that find a lost task
use the one rule: the workers' sweep (marketplace/scheduling/worker.py) and the inventory import's own recovery
(patents/inventory/services.py, which may import nothing of marketplace but the parties).

Whether the worker that claimed a task is still alive (patents/inventory/liveness.py does the same for one
import): django-tasks-db 0.13 claims a task with SELECT ... FOR UPDATE SKIP LOCKED and marks it RUNNING, then
forgets it: a worker killed mid-task (SIGKILL, out of memory, a lost machine) leaves it RUNNING forever, and no
worker picks a RUNNING task again. So each worker holds a PostgreSQL session-level advisory lock keyed on its
worker id for its whole life, on a connection of its own that Django never closes between tasks. The server drops
the lock the moment that connection goes, however the process ended; a task whose worker's lock anyone may take
has no worker. No clock, heartbeat or lease length to tune, and a long import is never mistaken for a dead one.

Databases without advisory locks (SQLite: development, one worker) fall back to age: a task running longer than
TASK_LOST_AFTER_MINUTES is taken as abandoned."""

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# First half of the two-integer advisory lock key: "task worker" (the second is hashtext(worker id)).
LOCK_SPACE = 22_001


def has_locks() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


class WorkerLock:
    """The lock a live worker holds, on a raw connection of its own to the primary (autocommit, so that it is
    never idle in a transaction)."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self.connection = None

    def acquire(self) -> None:
        if not has_locks():
            return
        wrapper = connections[DEFAULT_DB_ALIAS]
        self.connection = wrapper.get_new_connection(wrapper.get_connection_params())
        self.connection.autocommit = True
        self.connection.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LOCK_SPACE, self.worker_id])

    def held(self) -> bool:
        """False once the lock's connection is lost: another worker may then take this one's tasks for lost."""
        if self.connection is None:
            return not has_locks()
        try:
            self.connection.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - any failure of the driver means the session, and the lock, are gone
            return False
        return True

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                # Unlocked before closing: a closed connection's lock is freed only once the server's backend
                # has exited, a moment later, and whoever checks meanwhile would still see the worker alive.
                self.connection.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_SPACE, self.worker_id])
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


def worker_gone(*, worker_id: str, started_at) -> bool:
    """True when the worker that claimed a task at `started_at` no longer runs (its lock is free)."""
    if not has_locks():
        return started_at < timezone.now() - timedelta(minutes=settings.TASK_LOST_AFTER_MINUTES)
    try:
        # A savepoint: callers ask inside their own transaction (inventory_batch_recover), which a failed query
        # here must not break (the answer is then "alive": nothing is re-queued on a guess).
        with transaction.atomic(using=DEFAULT_DB_ALIAS), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LOCK_SPACE, worker_id])
            taken = cursor.fetchone()[0]
            if taken:
                cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_SPACE, worker_id])
    except DatabaseError:
        return False
    return taken


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped while running it (the task is queued again, or failed for good)."""


def task_attempts(task: DBTaskResult) -> int:
    """How many times a task was claimed: the library appends the claiming worker's id at each claim."""
    return len(task.worker_ids or [])


def task_may_run_again(task: DBTaskResult) -> bool:
    """Whether a task that stopped short (it failed, its worker was lost, or its database connection broke) may run
    again: it was claimed fewer than TASK_MAX_ATTEMPTS times and is not one that must never repeat (TASK_NO_RETRY).
    The one rule of the workers' retries (scheduling.services.task_retry_if_allowed), of lost workers (below) and
    of an import whose connection broke (patents.inventory.services)."""
    return task_attempts(task) < settings.TASK_MAX_ATTEMPTS and task.task_path not in settings.TASK_NO_RETRY


def task_requeue_lost(*, task: DBTaskResult) -> str | None:
    """A RUNNING task whose worker is gone is queued again at once (or failed for good after TASK_MAX_ATTEMPTS),
    with WorkerLost as its error. Returns the new status, or None when its worker still runs it (or someone
    settled it meanwhile).

    One conditional UPDATE (still RUNNING, still the claim that was seen): of the workers' sweeps and the import's
    recovery finding the same lost task at once, one re-queues it and the others change nothing, so it runs once
    more, not twice. A task whose worker lives is never touched (its worker would record its outcome over ours).

    The task runs again from its start, so it does again whatever the lost worker did and did not record. Each
    task must make that harmless: its effects commit together with the record of them (an import batch leaves
    the queued state, a saved search's last_notified_at moves, a reminder stage is marked told), a re-run skips
    what is recorded, and e-mails leave only on commit (so one lost between commit and sending is not resent).
    Work outside the database (a pool export's file) is simply done again."""
    worker_ids = task.worker_ids or []
    if not worker_ids or not worker_gone(worker_id=worker_ids[-1], started_at=task.started_at):
        return None
    error = WorkerLost(f"the worker {worker_ids[-1]} stopped while running this task")
    again = task_may_run_again(task)
    status = TaskResultStatus.READY if again else TaskResultStatus.FAILED
    changed = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING,
                                          started_at=task.started_at).update(
        status=status, run_after=timezone.now(), finished_at=None if again else timezone.now(),
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}", traceback=f"WorkerLost: {error}")
    if not changed:
        return None
    logger.warning("task %s (%s): %s; %s", task.pk, task.task_path, error, "queued again" if again else "failed")
    return status
