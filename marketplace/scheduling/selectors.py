"""Reads on the task queue: what the IP office sees of the background work (imports, matching, exports,
statistics, notifications), each task as queued, running, failed or done, with its error."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

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
    error: str  # the last line of the last error (kept while a retry waits)


def _row(task: DBTaskResult) -> TaskRow:
    state, label = STATES.get(task.status, (task.status.lower(), task.status))
    attempts = len(task.worker_ids or [])
    lines = [line for line in (task.traceback or "").strip().splitlines() if line.strip()]
    waiting = task.status == TaskResultStatus.READY and attempts > 0 and task.run_after != get_date_max()
    args = task.args_kwargs or {}
    shown = [str(a) for a in args.get("args", [])] + [f"{k}={v}" for k, v in args.get("kwargs", {}).items()]
    return TaskRow(id=str(task.pk), label=str(TASK_LABELS.get(task.task_path, task.task_path.rsplit(".", 1)[-1])),
                   arguments=", ".join(shown), state=state, state_label=str(label), attempts=attempts,
                   enqueued_at=task.enqueued_at, started_at=task.started_at, finished_at=task.finished_at,
                   retry_at=task.run_after if waiting else None,
                   error=lines[-1][:500] if lines and task.status != TaskResultStatus.SUCCESSFUL else "")


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
