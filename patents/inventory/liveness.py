"""Whether a running inventory batch still has a worker (issue 21; issue 22 generalises this to every task).

django-tasks-db 0.13 marks a task RUNNING when a worker claims it, and nothing notices that worker dying
(SIGKILL, out of memory, a lost machine): the task and its batch would say "running" forever. So the worker
running a batch holds a PostgreSQL session-level advisory lock keyed on the batch for the whole run; the server
drops it the moment the worker's connection goes, however the process ended. A batch that says running while
anyone may take its lock has no worker: no clock, heartbeat or lease length to tune.

Databases without advisory locks (SQLite: development, where tasks run in the web process) fall back to age:
a batch running for longer than INVENTORY_RUN_TIMEOUT_HOURS is taken as abandoned."""

import contextlib
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

# First half of the two-integer advisory lock key: "inventory batch" (the second half is the batch id).
LOCK_SPACE = 21_001


def _locks() -> bool:
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def running(batch_id: int):
    """Hold the batch's lock while the block runs (in the worker that runs the batch)."""
    if not _locks():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_SPACE, batch_id])
    try:
        yield
    finally:
        # A connection lost meanwhile took the lock with it.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, batch_id])


@contextlib.contextmanager
def unattended(batch_id: int, started_at):
    """Yields True, holding the batch's lock, when no worker runs the batch; else yields False. Whoever gets
    True may settle the batch: a worker cannot start or finish it meanwhile."""
    if not _locks():
        hours = settings.INVENTORY_RUN_TIMEOUT_HOURS
        yield started_at is None or started_at < timezone.now() - timedelta(hours=hours)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_SPACE, batch_id])
        taken = cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_SPACE, batch_id])
