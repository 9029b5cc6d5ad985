"""Reads on the task queue: what the IP office sees of the background work (imports, matching, exports,
statistics, notifications), each task as queued, running, failed or done, with its error."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from marketplace.parties.task_queue import WorkerLost

STATES = {  # the library's statuses, in the words of the page
    TaskResultStatus.READY: ("queued", _("Queued")),
    TaskResultStatus.RUNNING: ("running", _("Running")),
    TaskResultStatus.FAILED: ("failed", _("Failed")),
    TaskResultStatus.SUCCESSFUL: ("done", _("Done")),
}
STATUS_OF_STATE = {state: status for status, (state, _label) in STATES.items()}
TASK_LABELS = {
    "patents.inventory.tasks.run_inventory_batch": _("Inventory import"),
    "patents.inventory.tasks.regrade_portfolio": _("Portfolio regrading"),
    "patents.inventory.tasks.recover_inventory_batches": _("Interrupted-import sweep"),
    "marketplace.pools.tasks.write_pool_export": _("Pool export"),
    "marketplace.matching.tasks.refresh_need_matches": _("Matching of a need"),
    "marketplace.matching.tasks.refresh_listing_matches": _("Matching of a listing"),
    "marketplace.matching.tasks.refresh_all_matches": _("Refresh of all matches"),
    "marketplace.matching.tasks.refit_matching_index": _("Matching index refit"),
    "marketplace.saved_searches.tasks.notify_saved_searches": _("Saved-search alerts"),
    "marketplace.office.tasks.compute_last_months_statistics": _("Monthly statistics"),
    "licensing.declarations.tasks.check_declared_patents": _("Declared patents check (art. 86)"),
    "licensing.recording.tasks.remind_recording_deadlines": _("Recording deadline reminders"),
}
# The errors the office meets in the normal course (a worker stopped), in the words of the page; any other
# error shows as "failed: <its class>", its raw message (English, from the code) kept for staff beside it.
KNOWN_ERRORS = {
    f"{WorkerLost.__module__}.{WorkerLost.__qualname__}": _("Its worker stopped while running it."),
    # Where WorkerLost was recorded before it moved to the ground floor (rows of earlier runs keep their path).
    "marketplace.scheduling.services.WorkerLost": _("Its worker stopped while running it."),
    # Before an import lost with its worker was run again like any task, its own recovery failed it with this.
    "patents.inventory.services.WorkerLost": _(
        "The worker running this import stopped; the holder is asked to upload the file again."),
}


def task_error_reason(*, exception_class_path: str) -> str:
    """Why a task failed, in the page's language: a known error's explanation, else "failed: <class name>"."""
    if exception_class_path in KNOWN_ERRORS:
        return str(KNOWN_ERRORS[exception_class_path])
    name = exception_class_path.rsplit(".", 1)[-1]
    return _("failed: %(exception)s") % {"exception": name} if name else str(_("Failed"))


@dataclass(frozen=True)
class TaskRow:
    id: str
    label: str
    arguments: str
    state: str  # queued, running, failed, done
    state_label: str
    attempts: int
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    retry_at: datetime | None  # queued again after a failure or a lost worker: not before this time
    error: str  # why the last attempt failed, translated (kept while a retry waits)
    error_detail: str  # the last line of its traceback, raw, for staff


def _row(task: DBTaskResult) -> TaskRow:
    state, label = STATES.get(task.status, (task.status.lower(), task.status))
    attempts = len(task.worker_ids or [])
    lines = [line for line in (task.traceback or "").strip().splitlines() if line.strip()]
    waiting = task.status == TaskResultStatus.READY and attempts > 0 and task.run_after != get_date_max()
    args = task.args_kwargs or {}
    failed = bool(lines) and task.status != TaskResultStatus.SUCCESSFUL
    detail = lines[-1][:500] if failed else ""
    error = task_error_reason(exception_class_path=task.exception_class_path or "") if failed else ""
    shown = [str(a) for a in args.get("args", [])] + [f"{k}={v}" for k, v in args.get("kwargs", {}).items()]
    return TaskRow(id=str(task.pk), label=str(TASK_LABELS.get(task.task_path, task.task_path.rsplit(".", 1)[-1])),
                   arguments=", ".join(shown), state=state, state_label=str(label), attempts=attempts,
                   enqueued_at=task.enqueued_at, started_at=task.started_at, finished_at=task.finished_at,
                   retry_at=task.run_after if waiting else None, error=error, error_detail=detail)


def background_tasks(*, state: str | None = None, limit: int = 200) -> list[TaskRow]:
    """The latest `limit` tasks, newest first, optionally of one state (queued, running, failed, done)."""
    tasks = DBTaskResult.objects.order_by("-enqueued_at")
    if state in STATUS_OF_STATE:
        tasks = tasks.filter(status=STATUS_OF_STATE[state])
    return [_row(task) for task in tasks[:limit]]


def background_task_counts() -> dict[str, int]:
    """How many tasks are in each state (every state present, zero if none)."""
    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {state: counts.get(status, 0) for status, (state, _label) in STATES.items()}
