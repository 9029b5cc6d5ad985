"""The task worker: django-tasks-db's own (it claims each task with SELECT ... FOR UPDATE SKIP LOCKED, so any
number of workers run each task once), with what version 0.13 lacks added here rather than by forking it:

- a lock held for the worker's life (marketplace/parties/task_queue.py), by which the others know it is gone;
- every TASK_RECOVER_SECONDS, the running tasks of workers that are gone are queued again (a thread of its own,
  so that a long task does not hold recovery back);
- a failed task is queued again with back-off, up to TASK_MAX_ATTEMPTS (services.task_retry_if_allowed);
- a task whose database connection broke has its failure recorded on a fresh connection (the library would
  try the dead one and stop the worker).

The library has no hooks for these: its Worker is subclassed at the two points it offers (run, run_task)."""

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from marketplace.parties.task_queue import WorkerLock
from marketplace.scheduling.services import task_retry_if_allowed, tasks_requeue_lost

logger = logging.getLogger(__name__)


class RecoveringWorker(Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lock = WorkerLock(self.worker_id)
        self.stopped = threading.Event()

    def run(self) -> None:
        self.lock.acquire()  # before the first claim: a task of ours is never taken for lost
        sweeper = threading.Thread(target=self.sweep, name="task-recovery", daemon=True)
        sweeper.start()
        try:
            super().run()
        finally:
            self.stopped.set()
            sweeper.join(timeout=5)
            self.lock.release()

    def sweep(self) -> None:
        while not self.stopped.wait(settings.TASK_RECOVER_SECONDS):
            if not self.lock.held():
                # Others may now take our running task for lost and run it again: stop claiming, and let the
                # process supervisor start a fresh worker.
                logger.error("worker %s lost its liveness lock; stopping after the current task", self.worker_id)
                self.running = False
                return
            try:
                tasks_requeue_lost()
            except DatabaseError:
                logger.exception("recovering lost tasks failed; trying again in %s s", settings.TASK_RECOVER_SECONDS)
            finally:
                close_old_connections()
        connections.close_all()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except DatabaseError as exc:
            # The library records the outcome on the connection the task used. A task that lost that connection
            # (the database restarted, the session was ended) leaves it dead, and Django reopens a connection only
            # once it is closed: the library's three tries fail on it, and the worker would stop over a blip. So
            # the outcome is recorded again on a fresh connection; if the database is still away this raises too,
            # the worker stops, and the others take its task for lost.
            close_old_connections()
            db_task_result.set_failed(exc.__context__ or exc)  # the task's own error, which the recording lost
            logger.warning("task %s: its outcome was recorded on a fresh database connection", db_task_result.pk)
        if db_task_result.status == TaskResultStatus.FAILED:
            try:
                task_retry_if_allowed(task=db_task_result)
            except DatabaseError:
                logger.exception("task %s failed and could not be queued again", db_task_result.pk)
