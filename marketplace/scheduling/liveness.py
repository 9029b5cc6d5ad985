"""Whether the worker that claimed a task is still alive (issue 22; patents/inventory/liveness.py does the same
for one import).

django-tasks-db 0.13 claims a task with SELECT ... FOR UPDATE SKIP LOCKED and marks it RUNNING, then forgets it:
a worker killed mid-task (SIGKILL, out of memory, a lost machine) leaves it RUNNING forever, and no worker
picks a RUNNING task again. So each worker (marketplace/scheduling/worker.py) holds a PostgreSQL session-level
advisory lock keyed on its worker id for its whole life, on a connection of its own that Django never closes
between tasks. The server drops the lock the moment that connection goes, however the process ended; a task
whose worker's lock anyone may take has no worker. No clock, heartbeat or lease length to tune, and a long
import is never mistaken for a dead one.

Databases without advisory locks (SQLite: development, one worker) fall back to age: a task running longer than
TASK_LOST_AFTER_MINUTES is taken as abandoned."""

import contextlib
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

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
                self.connection.close()
            self.connection = None


def worker_gone(*, worker_id: str, started_at) -> bool:
    """True when the worker that claimed a task at `started_at` no longer runs (its lock is free)."""
    if not has_locks():
        return started_at < timezone.now() - timedelta(minutes=settings.TASK_LOST_AFTER_MINUTES)
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LOCK_SPACE, worker_id])
            taken = cursor.fetchone()[0]
            if taken:
                cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_SPACE, worker_id])
    except DatabaseError:
        return False
    return taken
