"""Writes on the inventory: imports, grading, overrides and tags. Each is one transaction."""

import gc
import logging
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from marketplace.parties import listeners
from marketplace.parties.models import Organisation, User
from marketplace.parties.runtime import collector_paused
from marketplace.parties.task_queue import task_may_run_again, task_requeue_lost
from patents.inventory import bulk, liveness, progress
from patents.inventory.exports import InventoryErrorsExporter
from patents.inventory.grading import grade_frame
from patents.inventory.importing import InventoryFileError, map_headers, open_table, validate
from patents.inventory.selectors import user_can_manage_inventory
from patents.models import InventoryBatch, Patent, PatentChange, PatentCoOwner

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
# Rows read, checked and written at a time: large enough that per-chunk costs vanish, small enough that
# memory stays flat (a chunk of the bench's inventory file is ~25 MB of text).
CHUNK_ROWS = 50_000
# Errors kept for the report (and in memory). A file with more is refused at that point (all or nothing: nothing
# would be imported anyway) or, partial, imported with a report of its first errors; the counts stay exact.
MAX_REPORTED_ERRORS = 10_000

# File column -> model fields it sets. A column absent from the file leaves those fields alone on update.
FIELDS_BY_COLUMN = {
    "title": ("title",),
    "abstract": ("abstract",),
    "title_en": ("title_en",),
    "abstract_en": ("abstract_en",),
    "kind": ("kind",),
    "filing_date": ("filing_date",),
    "grant_date": ("grant_date",),
    "ipc": ("main_ipc", "ipc_codes", "ipc_subclass", "locarno_codes", "technology_field"),
    "claims_count": ("claims_count",),
    "legal_status": ("legal_status",),
    "inventors": ("inventors",),
    "annual_fees_paid_through": ("annual_fees_paid_through",),
    "family_size": ("family_size",),
    "forward_citations": ("forward_citations",),
    "evaluation_report": ("evaluation_report",),
    "pledged": ("pledged",),
    "exclusive_licence_in_force": ("exclusive_licence_in_force",),
    "term_extension_days": ("term_extension_days",),
    # The date travels with the suspension (its own column only feeds it): lifting one clears the other.
    "procedure_suspension": ("procedure_suspension", "procedure_suspended_on"),
    "co_owners_agreement_allows_declaring": ("co_owners_agreement_allows_declaring",),
}
ALL_FIELDS = [f for fields in FIELDS_BY_COLUMN.values() for f in fields]
DATE_FIELDS = {"filing_date", "grant_date", "annual_fees_paid_through", "procedure_suspended_on"}
GRADE_INPUT_FIELDS = ["id", "kind", "legal_status", "expiry_date", "claims_count", "forward_citations",
                      "family_size", "evaluation_report", "technology_field"]


@dataclass(frozen=True)
class ImportSummary:
    status: str
    total: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    error_report_path: str | None


def inventory_batch_create(*, holder: Organisation, run_by: User | None, source: str, filename: str,
                           content: bytes | File, partial: bool = False,
                           language: str | None = None) -> InventoryBatch:
    """Record an uploaded or given inventory file as a queued batch (the file is kept with it). `content` is
    the file's bytes or an open File (copied to storage in chunks, never whole in memory)."""
    if not holder.is_holder:
        raise ValidationError({"holder": "This organisation does not act as a patent holder."})
    batch = InventoryBatch(holder=holder, run_by=run_by, source=source, original_filename=filename[:255],
                           partial=partial, language=language or translation.get_language() or settings.LANGUAGE_CODE)
    batch.full_clean(exclude=["file", "error_report"])
    batch.file.save(f"batch-{timezone.now():%Y%m%d%H%M%S}-{filename[-80:]}",
                    content if isinstance(content, File) else ContentFile(content), save=False)
    batch.save()
    return batch


def inventory_batch_run(*, batch: InventoryBatch, on_progress: ProgressCallback | None = None,
                        max_bytes: int | None = None, today: date | None = None,
                        chunk_rows: int = CHUNK_ROWS) -> ImportSummary:
    """Import a batch's file for its holder.

    All or nothing by default: one invalid row rejects the batch and writes no patent. With
    `batch.partial`, valid rows are imported and invalid ones reported. Upserts by canonical number;
    records an audit entry per created or changed patent; regrades what it wrote. Never raises for bad
    input: the outcome, counts and error report are on the batch. The file is read, checked and written
    `chunk_rows` rows at a time inside one transaction (memory stays flat; all or nothing still holds)."""
    with translation.override(batch.language):
        return _run(batch, on_progress, max_bytes or settings.INVENTORY_MAX_FILE_MB * 1024 * 1024,
                    today or timezone.localdate(), chunk_rows)


_RUNNABLE = (InventoryBatch.Status.QUEUED, InventoryBatch.Status.RUNNING)


def _run(batch: InventoryBatch, on_progress, max_bytes: int, today: date, chunk_rows: int) -> ImportSummary:

    def tick(stage: str, done: int, total: int) -> None:
        progress.report("inventory", batch.pk, stage=stage, done=done, total=total)
        if on_progress:
            on_progress(stage, done, total)

    # Held from before "running" is written until the outcome is: a batch that says running without it has
    # lost its worker (inventory_batches_recover).
    with liveness.running(batch.pk):
        # Claimed only while queued or running (a run lost with its worker): a batch already decided (failed, with
        # the holder told to upload again; or imported) is never run again by a retried or re-queued task.
        started = timezone.now()
        if not InventoryBatch.objects.filter(pk=batch.pk, status__in=_RUNNABLE).update(
                status=InventoryBatch.Status.RUNNING, started_at=started):
            batch.refresh_from_db()
            logger.warning("inventory batch %s is %s: not run again", batch.pk, batch.status)
            return _summary(batch)
        batch.status, batch.started_at = InventoryBatch.Status.RUNNING, started
        session = connection.connection  # the connection that holds the batch's lock (and will hold the import)
        try:
            tick("reading", 0, 0)
            with batch.file.open("rb") as f:
                # The storage's own file, not the FieldFile proxy: pandas reads a proxy without a `mode` as text
                # in UTF-8, whatever encoding it is told.
                return _import(batch, f.file, size=batch.file.size, max_bytes=max_bytes, today=today, tick=tick,
                               chunk_rows=chunk_rows)
        except Exception as exc:
            if _connection_lost(exc, session):
                # Not the file's fault: the database went away mid-import (restarted, failed over, the session
                # terminated) and took the uncommitted import with it. Run it again, as for a lost worker.
                logger.warning("inventory batch %s: its database connection was lost mid-import", batch.pk,
                               exc_info=True)
                try:
                    _settle_interrupted(batch, started)
                except DatabaseError:  # the database is still away: the batch says running without a lock, and
                    # the recovery of lost runs settles it (inventory_batch_recover) by the same rule
                    logger.exception("inventory batch %s: its interruption could not be recorded", batch.pk)
                raise  # the worker records the error on the task and queues it again (task_retry_if_allowed)
            logger.exception("inventory batch %s failed", batch.pk)
            batch.status, batch.message, batch.finished_at = (InventoryBatch.Status.FAILED, str(exc)[:2000],
                                                              timezone.now())
            batch.save(update_fields=["status", "message", "finished_at"])
            raise
        finally:
            progress.clear("inventory", batch.pk)


def _connection_lost(exc: Exception, session) -> bool:
    """Whether `exc` is the database connection breaking rather than an error of the import: a database error
    (Django's, or the driver's own from the COPY writers, which use its cursor directly) after which `session`, the
    connection the run started on (and which held the batch's lock), is gone or no longer answers. Django may
    already have replaced it (the import's transaction closes a connection it cannot roll back, and the next query
    opens another); if not, it is closed here, so that the next query opens a fresh one. Inside a caller's
    transaction nothing can be recorded on a fresh connection: the error is the caller's to handle."""
    if (session is None or connection.in_atomic_block
            or not isinstance(exc, (DatabaseError, connection.Database.Error))):
        return False
    if connection.connection is session:
        if connection.is_usable():
            return False  # a statement cancelled, a deadlock, a locked SQLite file: the session itself is fine
        connection.close()
    return True


def _settle_interrupted(batch: InventoryBatch, started) -> None:
    """The batch whose connection broke mid-import (nothing of it committed) waits queued while its task will run it
    again (the task still has attempts left: the worker queues it again when it records the error; or the
    recovery of lost workers already queued it), else is failed with a message asking for the file again.

    Conditional on this run's claim: the batch page may have found it running without its lock meanwhile (the lock
    went with the connection) and queued it already; a later run may have claimed it since."""
    tasks = DBTaskResult.objects.filter(task_path=RUN_BATCH_TASK, args_kwargs__args__0=batch.pk, status__in=_WAITING)
    if any(task.status == TaskResultStatus.READY or task_may_run_again(task) for task in tasks):
        batch.status, batch.finished_at = InventoryBatch.Status.QUEUED, None
        batch.message = _("The import was interrupted: the connection to the database was lost. It will run again "
                          "from the start shortly; nothing from the file was imported yet.")
    else:
        batch.status, batch.finished_at = InventoryBatch.Status.FAILED, timezone.now()
        batch.message = _("The import was interrupted: the connection to the database was lost before it finished, "
                          "and nothing from the file was imported. Please upload the file again.")
    InventoryBatch.objects.filter(pk=batch.pk, status__in=_RUNNABLE, started_at=started).update(
        status=batch.status, message=batch.message, finished_at=batch.finished_at)
    logger.warning("inventory batch %s: %s", batch.pk, "queued to run again" if batch.status ==
                   InventoryBatch.Status.QUEUED else "marked failed (no attempt left)")


def inventory_batch_recover(*, batch: InventoryBatch) -> InventoryBatch:
    """A batch that says running but whose worker is gone (killed, out of memory, machine lost) imported nothing:
    its patents are written in one transaction with its outcome, which the lost worker never committed.

    While its task has attempts left (TASK_MAX_ATTEMPTS), the import runs again from the start: the task is put
    back as the workers' sweep does it (task_requeue_lost, the same conditional update, so that whichever of the
    two gets there first re-queues it and it runs once more, never twice) and the batch waits queued with a
    message saying so. After the last attempt, or with no task to run it again, the batch is marked failed with
    a message asking the holder to upload the file again, and so is its task. A batch still being run, or
    finished, is returned as it is."""
    if batch.status != InventoryBatch.Status.RUNNING:
        return batch
    # Holding the batch's lock: no worker can start or finish it meanwhile; one recoverer at a time decides.
    with liveness.unattended(batch.pk, batch.started_at) as abandoned, transaction.atomic():
        if not abandoned:
            return batch
        batch = InventoryBatch.objects.select_related("holder").select_for_update(of=("self",)).get(pk=batch.pk)
        if batch.status != InventoryBatch.Status.RUNNING:  # it finished just before we looked
            return batch
        if _runs_again(batch):
            with translation.override(batch.language):
                batch.message = _("The import was interrupted: the background worker running it stopped. It will "
                                  "run again from the start shortly; nothing from the file was imported yet.")
            batch.status = InventoryBatch.Status.QUEUED
            batch.save(update_fields=["status", "message"])
            logger.warning("inventory batch %s: its worker was lost; queued to run again", batch.pk)
        else:
            with translation.override(batch.language):
                batch.message = _("The import was interrupted: the background worker running it stopped before it "
                                  "finished, and nothing from the file was imported. Please upload the file again.")
            batch.status, batch.finished_at = InventoryBatch.Status.FAILED, timezone.now()
            batch.save(update_fields=["status", "message", "finished_at"])
            logger.warning("inventory batch %s: its worker was lost on its last attempt; marked failed", batch.pk)
    progress.clear("inventory", batch.pk)
    return batch


def inventory_batches_recover() -> list[int]:
    """Recover every running batch whose worker is gone (`manage.py recover_inventory_batches`, for the
    scheduler; the batch page also recovers the batch it shows): run again while attempts are left, else failed.
    Returns the ids marked failed."""
    recovered = []
    for batch in InventoryBatch.objects.filter(status=InventoryBatch.Status.RUNNING).order_by("pk"):
        if inventory_batch_recover(batch=batch).status == InventoryBatch.Status.FAILED:
            recovered.append(batch.pk)
    return recovered


# The task that runs a batch (patents.inventory.tasks imports this module, so named here, not imported).
RUN_BATCH_TASK = "patents.inventory.tasks.run_inventory_batch"
_WAITING = (TaskResultStatus.READY, TaskResultStatus.RUNNING)


def _runs_again(batch: InventoryBatch) -> bool:
    """Whether a task will run the lost batch again. Its task is READY (the sweep queued it already), or RUNNING:
    then either its worker is gone, and the task is re-queued or, on its last attempt, failed by the one rule the
    sweep applies (task_requeue_lost); or its worker lives, and it is left to that worker: a new attempt that
    claimed it and is about to take the batch's lock, or a run whose database connection broke (the lock went with
    it) and which is about to settle the batch itself (_settle_interrupted: queued while the task has attempts
    left, else failed) before its worker records the error and queues the task again by the same rule; if the
    database is still away, that worker cannot record anything and stops, and its task is then lost, re-queued
    here or by the sweep. The batch is failed only when no task is left that will run it.

    Re-queued here rather than left to the sweep: the sweep runs only inside `run_worker` processes, every
    TASK_RECOVER_SECONDS, so the holder's page would have to promise a run it cannot see coming; applying the same
    rule to the same row makes the answer the same whoever looks first."""
    tasks = DBTaskResult.objects.filter(task_path=RUN_BATCH_TASK, args_kwargs__args__0=batch.pk, status__in=_WAITING)
    for task in tasks:
        status = task.status if task.status == TaskResultStatus.READY else task_requeue_lost(task=task)
        if status is None:  # its worker lives, or a sweep settled it meanwhile: as it stands now
            status = DBTaskResult.objects.filter(pk=task.pk).values_list("status", flat=True).first()
        if status in _WAITING:
            return True
    return False


def _file_rejected(batch: InventoryBatch, exc: InventoryFileError) -> ImportSummary:
    errors = pd.DataFrame([{"row": 0, "column": exc.column, "value": "", "reason": exc.reason}])
    batch.total_rows = 0
    return _finish_rejected(batch, errors, total=0, message=exc.reason)


def _import(batch: InventoryBatch, file, *, size: int, max_bytes: int, today: date, tick,
            chunk_rows: int) -> ImportSummary:
    """Read, check and write the file chunk by chunk inside one transaction: memory stays flat however long
    the file, and a bad row in any chunk still writes nothing (the transaction is rolled back; the remaining
    chunks are still checked so that every bad row is reported). With `batch.partial`, the valid rows of
    every chunk are written and the bad ones reported."""
    try:
        table = open_table(file, size=size, max_bytes=max_bytes, chunk_rows=chunk_rows)
    except InventoryFileError as exc:
        return _file_rejected(batch, exc)
    error_parts: list[pd.DataFrame] = []
    seen_numbers: dict[str, int] = {}
    total, file_error, writer = 0, None, None
    reported = rejected_rows = 0  # errors kept for the report; rows with an error (also past the cap)
    tick("validating", 0, table.estimated_rows)
    with bulk.page_cache(), collector_paused(), transaction.atomic(), closing(table.chunks):
        try:
            for raw in table.chunks:
                # what the previous chunk left in reference cycles: collected once per chunk, memory stays flat
                gc.collect(1)
                checked = validate(map_headers(raw), today=today, seen_numbers=seen_numbers)
                total += checked.total_rows
                # Every stage reports the rows checked so far against the whole file: one bar, in rows/s.
                estimate = max(table.estimated_rows, total)
                tick("validating", total, estimate)
                writer = writer or _ChunkWriter(batch, present=checked.present_columns, today=today)
                found = writer.lookup(checked.rows["number"].tolist())
                errors = _ownership_errors(checked.rows, found, batch.holder)
                if not errors.empty:
                    checked.rows = checked.rows.drop(index=errors["row"].unique())
                    checked.errors = pd.concat([checked.errors, errors], ignore_index=True).sort_values(
                        ["row", "column"], kind="stable")
                if not checked.errors.empty:
                    rejected_rows += checked.errors["row"].nunique()  # chunks never share a row
                    kept = checked.errors.head(MAX_REPORTED_ERRORS - reported)
                    reported += len(kept)
                    if not kept.empty:
                        error_parts.append(kept)
                if batch.partial or not error_parts:
                    writer.write(checked.rows, stage=partial(tick, done=total, total=estimate))
                elif reported >= MAX_REPORTED_ERRORS:
                    break  # nothing will be imported: the report is full, reading on would only cost time
        except InventoryFileError as exc:
            file_error = exc
        rejected = file_error is not None or (bool(error_parts) and not batch.partial)
        if rejected:
            transaction.set_rollback(True)  # nothing of this file is kept
        elif writer is not None:
            writer.finish(tick)
            # The outcome commits with the patents: a worker lost before the commit leaves neither, and the
            # batch that still says running is known to have imported nothing (inventory_batch_recover).
            batch.total_rows = total
            return _finish_imported(batch, writer, _joined(error_parts), total, rejected_rows=rejected_rows,
                                    full=reported >= MAX_REPORTED_ERRORS)
    if file_error is not None:
        return _file_rejected(batch, file_error)
    errors = _joined(error_parts)
    batch.total_rows = total
    full = reported >= MAX_REPORTED_ERRORS
    if rejected:
        message = _("%(n)d row(s) have errors; nothing was imported.") % {"n": rejected_rows}
        if full:
            message += " " + _("Checking stopped after %(max)d errors (rows up to %(row)d); fix these and import "
                               "again.") % {"max": MAX_REPORTED_ERRORS, "row": int(errors["row"].max())}
        return _finish_rejected(batch, errors, total=total, message=message, rejected_rows=rejected_rows)
    return _finish_imported(batch, writer, errors, total, rejected_rows=rejected_rows, full=full)


def _finish_imported(batch, writer, errors, total, *, rejected_rows: int, full: bool) -> ImportSummary:
    summary = _finish(batch, writer.counts(), errors, total, rejected_rows=rejected_rows)
    if full:
        batch.message += " " + _("The error report lists the first %(max)d errors.") % {"max": MAX_REPORTED_ERRORS}
        batch.save(update_fields=["message"])
    return summary


def _joined(error_parts: list[pd.DataFrame]) -> pd.DataFrame:
    return (pd.concat(error_parts, ignore_index=True) if error_parts
            else pd.DataFrame(columns=["row", "column", "value", "reason"]))


def _ownership_errors(rows: pd.DataFrame, found: pd.DataFrame, holder: Organisation) -> pd.DataFrame:
    """Rows the database forbids: numbers already inventoried by another holder, and an exclusive licence
    on a patent under open licence (Patent Law art. 51). `found` is the chunk's patents already stored."""
    foreign = found.loc[found["holder_id"] != holder.pk, "number"]
    open_licensed = found.loc[(found["holder_id"] == holder.pk) & found["under_open_licence"].astype(bool), "number"]
    foreign_mask = rows["number"].isin(foreign)
    exclusive_mask = rows["number"].isin(open_licensed) & rows["exclusive_licence_in_force"].astype(bool)
    return pd.concat([
        pd.DataFrame({"row": rows.index[foreign_mask], "column": "number",
                      "value": rows.loc[foreign_mask, "number"].to_numpy(),
                      "reason": _("this patent is already in another holder's inventory")}),
        pd.DataFrame({"row": rows.index[exclusive_mask], "column": "exclusive_licence_in_force",
                      "value": "yes",
                      "reason": _("the patent is under an open-licence declaration, which forbids exclusive or sole "
                                  "licences (Patent Law art. 51); withdraw the declaration first")}),
    ], ignore_index=True)


# Model fields the import writes, by type: each column of a chunk is converted once, as a whole.
TEXT_FIELDS_BLANK = {"main_ipc", "ipc_subclass", "abstract", "title_en", "abstract_en", "evaluation_report",
                     "procedure_suspension"}
JSON_FIELDS = {"ipc_codes", "locarno_codes", "inventors"}
INT_FIELDS = {"claims_count", "technology_field", "term_extension_days", "family_size", "forward_citations"}
BOOL_FIELDS = {"pledged", "exclusive_licence_in_force", "co_owners_agreement_allows_declaring"}


def _column(rows: pd.DataFrame, field: str) -> list:
    """One validated column as the values compared on update (JSON fields stay Python lists; dates are ISO
    text, which both databases read as a date)."""
    series = rows[field]
    if field in DATE_FIELDS or field == "expiry_date":
        return bulk.date_texts(series)
    if field in JSON_FIELDS:
        return series.tolist()
    if field in INT_FIELDS:
        return bulk.int_values(series)
    if field in BOOL_FIELDS:
        return bulk.bool_values(series)
    return bulk.text_values(series, missing="" if field in TEXT_FIELDS_BLANK else None)


def _stored(value):
    """A value read from the database in the form _column gives (for comparing on update)."""
    return value.isoformat() if isinstance(value, date) else value


class _ChunkWriter:
    """Writes one import's chunks: creates new patents with COPY / executemany, updates the changed ones,
    audits both, replaces co-owners; `finish` regrades what changed and tells the listeners."""

    def __init__(self, batch: InventoryBatch, *, present: set[str], today: date):
        self.batch, self.holder, self.present, self.today = batch, batch.holder, present, today
        fields = [f for column, fs in FIELDS_BY_COLUMN.items() if column in present or column == "kind" for f in fs]
        if "legal_status" not in fields:
            fields.append("legal_status")  # derived from the grant date when the file has no status column
        self.fields = fields
        # On update a column absent from the file leaves its fields alone: that includes the derived status.
        self.compared = [f for f in fields if f != "legal_status" or "legal_status" in present]
        self.write_expiry = bool({"kind", "filing_date", "term_extension_days"} & set(fields))
        self.update_fields = self.compared + ["last_batch", "updated_at"] + (
            ["expiry_date"] if self.write_expiry else [])
        self.now = timezone.now()
        self.now_db = connection.ops.adapt_datetimefield_value(self.now)
        defaults = {f: Patent._meta.get_field(f).get_default() for f in Patent.DEFAULTS_ON_CREATE if f not in fields}
        self.defaults = {f: bulk.json_texts([v])[0] if f in JSON_FIELDS else v for f, v in defaults.items()}
        self._org_by_name = None
        self.created = self.unchanged = 0
        self.changed_ids: list[int] = []

    @property
    def org_by_name(self) -> dict[str, int]:
        if self._org_by_name is None:
            self._org_by_name = _organisations_by_name()
        return self._org_by_name

    def lookup(self, numbers: list[str]) -> pd.DataFrame:
        """The stored patents (of any holder) among `numbers`: one query for the whole chunk. Returns their
        number, holder_id and under_open_licence; the holder's own are kept as records for `write`."""
        records = list(Patent.objects.filter(number__in=bulk.in_values(numbers)).values(
            "id", "number", "holder_id", "under_open_licence", *self.fields)) if numbers else []
        self._own = {r["number"]: r for r in records if r["holder_id"] == self.holder.pk}
        return pd.DataFrame.from_records(records, columns=["number", "holder_id", "under_open_licence"])

    def write(self, rows: pd.DataFrame, *, stage: Callable[[str], None]) -> None:
        """Write a checked chunk (after `lookup` of its numbers): create the new patents, update the changed.
        `stage` is told each stage as it begins."""
        is_new = ~rows["number"].isin(list(self._own)).to_numpy()
        if is_new.any():
            self._create(rows[is_new], stage)
        if not is_new.all():
            stage("comparing")
            self._update(rows[~is_new])
        stage("writing")

    def _create(self, rows: pd.DataFrame, stage: Callable[[str], None]) -> None:
        n, batch = len(rows), self.batch
        graded = grade_frame(rows, today=self.today, factors_as_json=True)
        stage("grading")
        numbers = bulk.text_values(rows["number"])
        columns = {
            "holder": self.holder.pk, "last_batch": batch.pk, "created_at": self.now_db, "updated_at": self.now_db,
            "graded_at": self.now_db, "grade_score": bulk.int_values(graded["score"]),
            "grade_computed": graded["grade"].tolist(), "grade_factors": graded["factors"].tolist(),
            "grade_override": "", "grade_override_reason": "", "under_open_licence": False, "number": numbers,
            "number_original": bulk.text_values(rows["number_original"]), "country": bulk.text_values(rows["country"]),
            "expiry_date": bulk.date_texts(rows["expiry_date"]), **self.defaults,
            **{f: bulk.json_text_lists(rows[f].tolist()) if f in JSON_FIELDS else _column(rows, f) for f in self.fields},
        }
        ids = bulk.reserve_ids(Patent, n)
        if ids is not None:
            columns = {"id": ids, **columns}
        bulk.write_columns(Patent, columns, rows=n)
        if ids is None:  # SQLite numbered them
            ids = bulk.last_ids(Patent, n, field="number", first=numbers[0], last=numbers[-1])
            if ids is None:
                id_of = dict(Patent.objects.filter(number__in=bulk.in_values(numbers)).values_list("number", "id"))
                ids = [id_of[number] for number in numbers]
        bulk.write_per_key(PatentChange, "patent", ids, {
            "batch": batch.pk, "action": PatentChange.Action.IMPORT_CREATE.value, "changes": "{}",
            "by": batch.run_by_id, "at": self.now_db})
        if "co_owners" in rows:
            self._write_co_owners(ids, rows["co_owners"].tolist())
        self.created += n

    def _update(self, rows: pd.DataFrame) -> None:
        """Patents of this holder already stored: compare field by field (whole columns), write and audit the
        changed ones."""
        old = [self._own[number] for number in rows["number"].tolist()]
        ids = [r["id"] for r in old]
        new = {f: _column(rows, f) for f in self.compared}
        diffs: list[dict] = [{} for _ in ids]
        for f in self.compared:
            for i, (was, now) in enumerate(zip((_stored(r[f]) for r in old), new[f], strict=True)):
                if was != now:
                    diffs[i][f] = [was, now]
        owners_changed = [False] * len(ids)
        if "co_owners" in self.present:
            owners_now = _co_owners_of(ids)
            for i, (pid, owners) in enumerate(zip(ids, rows["co_owners"].tolist(), strict=True)):
                if owners_now.get(pid, []) != sorted(owners, key=_owner_key):
                    owners_changed[i] = True
                    diffs[i]["co_owners"] = [None, [[n, str(s) if s is not None else None] for n, s in owners]]
        changed = [i for i, diff in enumerate(diffs) if diff]
        self.unchanged += len(ids) - len(changed)
        if not changed:
            return
        expiry = _column(rows, "expiry_date")
        as_date = {f for f in self.compared if f in DATE_FIELDS}
        bulk.update_rows(Patent, self.update_fields, (
            (*[_date(new[f][i]) if f in as_date else new[f][i] for f in self.compared], self.batch.pk, self.now,
             *([_date(expiry[i])] if self.write_expiry else []), ids[i])
            for i in changed))
        owner_rows = [i for i in changed if owners_changed[i]]
        if owner_rows:
            PatentCoOwner.objects.filter(patent_id__in=bulk.in_values([ids[i] for i in owner_rows])).delete()
            owners = rows["co_owners"].tolist()
            self._write_co_owners([ids[i] for i in owner_rows], [owners[i] for i in owner_rows])
        bulk.write_columns(PatentChange, {
            "patent": [ids[i] for i in changed], "batch": self.batch.pk,
            "action": PatentChange.Action.IMPORT_UPDATE.value, "changes": bulk.json_texts(diffs[i] for i in changed),
            "by": self.batch.run_by_id, "at": self.now_db}, rows=len(changed))
        self.changed_ids.extend(ids[i] for i in changed)

    def _write_co_owners(self, ids: list[int], owners: list[list]) -> None:
        org = self.org_by_name if any(owners) else {}
        rows = [(pid, name, str(share) if share is not None else None, org.get(name) or org.get(name.lower()))
                for pid, named in zip(ids, owners, strict=True) if named for name, share in named]
        if rows:
            patent, name, share, organisation = (list(c) for c in zip(*rows, strict=True))
            bulk.write_columns(PatentCoOwner, {"patent": patent, "name": name, "share_percent": share,
                                               "organisation": organisation}, rows=len(rows))

    def finish(self, tick) -> None:
        if self.changed_ids:
            listeners.changed(listeners.PATENT_CHANGE_LISTENERS, patent_ids=self.changed_ids,
                              fields=self.update_fields)
            patents_regrade(patent_ids=self.changed_ids, today=self.today,
                            on_progress=lambda d, t: tick("grading", d, t))

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": len(self.changed_ids), "unchanged": self.unchanged}


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _owner_key(owner):
    return (owner[0], owner[1] is None, owner[1] or 0)


def _co_owners_of(patent_ids: list[int]) -> dict[int, list]:
    """Current co-owners of many patents, in one query (compared on re-import)."""
    owners: dict[int, list] = {}
    if patent_ids:
        for pid, name, share in PatentCoOwner.objects.filter(patent_id__in=bulk.in_values(patent_ids)).values_list(
                "patent_id", "name", "share_percent"):
            owners.setdefault(pid, []).append((name, share))
    return {pid: sorted(items, key=_owner_key) for pid, items in owners.items()}


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def _organisations_by_name() -> dict[str, int]:
    lookup = {}
    for pk, zh, en in Organisation.objects.values_list("id", "name_zh", "name_en"):
        lookup[zh] = pk
        if en:
            lookup[en.lower()] = pk
    return lookup


def _error_report(batch: InventoryBatch, errors: pd.DataFrame) -> None:
    if errors.empty:
        return
    report = InventoryErrorsExporter(errors).render("csv")
    batch.error_report.save(f"batch-{batch.pk}-errors.csv", ContentFile(report.content), save=False)
    batch.errors_preview = [
        {"row": int(r.row), "column": r.column, "value": r.value, "reason": r.reason}
        for r in errors.head(500).itertuples()
    ]


def _finish_rejected(batch, errors, *, total, message, rejected_rows: int | None = None) -> ImportSummary:
    batch.status, batch.message = InventoryBatch.Status.REJECTED, message
    if rejected_rows is None:
        rejected_rows = len(set(errors["row"]) - {0})
    batch.rejected_count = rejected_rows if total else 0
    batch.processed_rows, batch.finished_at = total, timezone.now()
    _error_report(batch, errors)
    batch.save()
    return _summary(batch)


def _finish(batch, counts, errors, total, *, rejected_rows: int) -> ImportSummary:
    batch.created_count, batch.updated_count = counts["created"], counts["updated"]
    batch.unchanged_count = counts["unchanged"]
    batch.rejected_count = rejected_rows
    batch.status, batch.processed_rows, batch.finished_at = InventoryBatch.Status.SUCCEEDED, total, timezone.now()
    batch.message = (_("%(n)d row(s) rejected; the valid rows were imported.") % {"n": batch.rejected_count}
                     if batch.rejected_count else "")
    _error_report(batch, errors)
    batch.save()
    return _summary(batch)


def _summary(batch: InventoryBatch) -> ImportSummary:
    return ImportSummary(status=batch.status, total=batch.total_rows, created=batch.created_count,
                         updated=batch.updated_count, unchanged=batch.unchanged_count, rejected=batch.rejected_count,
                         error_report_path=batch.error_report.path if batch.error_report else None)


def patents_regrade(*, holder: Organisation | None = None, patent_ids: list[int] | None = None,
                    today: date | None = None, demand_by_field: dict[int, float] | None = None,
                    on_progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute score, grade and factor breakdown for a holder's portfolio (or given patents) in one
    bulk pass. Holder overrides are kept; the computed grade is refreshed beside them. Returns the count."""
    today = today or timezone.localdate()
    qs = Patent.objects.all()
    if holder is not None:
        qs = qs.filter(holder=holder)
    if patent_ids is not None:
        chunks = [patent_ids[lo:lo + 5000] for lo in range(0, len(patent_ids), 5000)]
    else:
        chunks = [list(qs.values_list("id", flat=True))]
    total, done, now = sum(len(c) for c in chunks), 0, timezone.now()
    for ids in chunks:
        if not ids:
            continue
        frame = pd.DataFrame.from_records(qs.filter(id__in=ids).values(*GRADE_INPUT_FIELDS), columns=GRADE_INPUT_FIELDS)
        graded = grade_frame(frame, today=today, demand_by_field=demand_by_field)
        bulk.update_rows(Patent, ["grade_score", "grade_computed", "grade_factors", "graded_at"], (
            (int(score), grade, factors, now, int(pid))
            for pid, score, grade, factors in zip(frame["id"], graded["score"], graded["grade"], graded["factors"],
                                                  strict=True)))
        listeners.changed(listeners.PATENT_CHANGE_LISTENERS, patent_ids=ids, fields=["grade_computed"])
        done += len(ids)
        if on_progress:
            on_progress(done, total)
    return done


@transaction.atomic
def patent_grade_override(*, patent: Patent, grade: str, reason: str, by: User) -> Patent:
    """The holder sets its own grade with a reason (audited); the computed grade stays visible. An empty
    grade removes the override."""
    patent = Patent.objects.select_for_update().get(pk=patent.pk)
    old = (patent.grade_override, patent.grade_override_reason)
    patent.grade_override, patent.grade_override_reason = grade or "", (reason or "").strip() if grade else ""
    patent.full_clean(validate_unique=False, validate_constraints=False)
    patent.save(update_fields=["grade_override", "grade_override_reason", "updated_at"])
    listeners.changed(listeners.PATENT_CHANGE_LISTENERS, patent_ids=[patent.pk], fields=["grade_override"])
    PatentChange.objects.create(
        patent=patent, by=by,
        action=PatentChange.Action.GRADE_OVERRIDE if grade else PatentChange.Action.GRADE_OVERRIDE_CLEARED,
        changes={"grade_override": [old[0], patent.grade_override],
                 "grade_override_reason": [old[1], patent.grade_override_reason]},
    )
    return patent


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def patent_annual_fees_record(*, patent: Patent, paid_through: date, by: User, today: date | None = None) -> Patent:
    """The holder records the date up to which the patent's annual fees are paid (audited), e.g. when its
    inventory file had no such column. Annual fees are paid a year at a time, so the date lies between the
    grant (or filing) date and one year from today, and never after the patent's expiry.

    Raises PermissionDenied for anyone but the holder's members, ValidationError naming
    `annual_fees_paid_through` for an impossible date."""
    patent = Patent.objects.select_for_update().select_related("holder").get(pk=patent.pk)
    if not user_can_manage_inventory(user=by, holder=patent.holder):
        raise PermissionDenied(_("Only members of the patentee may record its annual fees."))
    today = today or timezone.localdate()
    start = patent.grant_date or patent.filing_date
    latest = min(_add_years(today, 1), patent.expiry_date)
    if paid_through < start:
        raise ValidationError({"annual_fees_paid_through": _(
            "Annual fees paid through: the date cannot be before the %(which)s (%(date)s).")
            % {"which": _("grant date") if patent.grant_date else _("filing date"), "date": start}})
    if paid_through > latest:
        raise ValidationError({"annual_fees_paid_through": _(
            "Annual fees paid through: the date cannot be after %(date)s (fees are paid one year at a time, "
            "and never beyond the patent's expiry).") % {"date": latest}})
    old = patent.annual_fees_paid_through
    if old == paid_through:
        return patent
    patent.annual_fees_paid_through = paid_through
    patent.full_clean(validate_unique=False, validate_constraints=False)
    patent.save(update_fields=["annual_fees_paid_through", "updated_at"])
    PatentChange.objects.create(patent=patent, by=by, action=PatentChange.Action.ANNUAL_FEES,
                                changes={"annual_fees_paid_through": [_jsonable(old), _jsonable(paid_through)]})
    return patent


# What the holder records on the patent's page about its standing for licensing (the grounds of Regulations
# art. 86 and the Guidelines' co-owner rule); the licensing app reads them when a patent is declared.
STANDING_FIELDS = ("evaluation_report_conclusion", "procedure_suspension", "procedure_suspended_on",
                   "co_owners_agreement_allows_declaring", "pledged", "exclusive_licence_in_force")


@transaction.atomic
def patent_standing_record(*, patent: Patent, by: User, **standing) -> Patent:
    """The holder records the evaluation report's conclusion, a suspension of the procedures (Regulations arts.
    103-104, with its date), whether the co-owners' agreement lets it declare alone, a pledge and an exclusive
    licence. Audited; the change listeners are told (an art. 86 situation arising on a declared patent is
    detected there: licensing prompts the holder to withdraw and tells the licensees).

    Raises PermissionDenied for anyone but the holder's members, TypeError for an unknown field,
    ValidationError by field (a suspension without its date; a conclusion on an invention)."""
    unknown = set(standing) - set(STANDING_FIELDS)
    if unknown:
        raise TypeError(f"unknown standing fields: {sorted(unknown)}")
    patent = Patent.objects.select_for_update().select_related("holder").get(pk=patent.pk)
    if not user_can_manage_inventory(user=by, holder=patent.holder):
        raise PermissionDenied(_("Only members of the patentee may record this."))
    if "procedure_suspension" in standing and not standing["procedure_suspension"]:
        standing["procedure_suspended_on"] = None  # lifted: the date goes with it
    changes = {}
    for name, value in standing.items():
        old = getattr(patent, name)
        if old != value:
            changes[name] = [_jsonable(old), _jsonable(value)]
            setattr(patent, name, value)
    if not changes:
        return patent
    return _save_audited(patent, by=by, action=PatentChange.Action.STANDING, changes=changes)


ENGLISH_TEXT_FIELDS = ("title_en", "abstract_en")


@transaction.atomic
def patent_english_text_record(*, patent: Patent, by: User, title_en: str, abstract_en: str) -> Patent:
    """The holder gives (or clears) the patent's English title and abstract. Audited; the change listeners
    are told (the listing's search document holds the English text).

    Raises PermissionDenied for anyone but the holder's members, ValidationError by field (too long)."""
    patent = Patent.objects.select_for_update().select_related("holder").get(pk=patent.pk)
    if not user_can_manage_inventory(user=by, holder=patent.holder):
        raise PermissionDenied(_("Only members of the patentee may record this."))
    changes = {}
    for name, value in (("title_en", title_en), ("abstract_en", abstract_en)):
        value = (value or "").strip()
        if getattr(patent, name) != value:
            changes[name] = [getattr(patent, name), value]
            setattr(patent, name, value)
    if not changes:
        return patent
    return _save_audited(patent, by=by, action=PatentChange.Action.ENGLISH_TEXT, changes=changes)


@transaction.atomic
def patent_tags_set(*, patent: Patent, tags: list[str], by: User) -> Patent:
    """Replace the holder's own tags on a patent (audited)."""
    clean = sorted({t.strip()[:100] for t in tags if t.strip()})
    old = sorted(patent.tags.names())
    if clean != old:
        patent.tags.set(clean)
        PatentChange.objects.create(patent=patent, by=by, action=PatentChange.Action.TAGS, changes={"tags": [old, clean]})
    return patent


@transaction.atomic
def patents_tag_add(*, holder: Organisation, patent_ids: list[int], tag: str, by: User) -> int:
    """Add one tag to several of the holder's patents (bulk selection in the portfolio). Patents of other
    holders in the list are ignored, never tagged. Returns how many were tagged."""
    tag = tag.strip()[:100]
    if not tag:
        raise ValidationError({"tag": _("The tag is empty.")})
    patents = list(Patent.objects.filter(holder=holder, pk__in=patent_ids))
    for patent in patents:
        patent_tags_set(patent=patent, tags=[*patent.tags.names(), tag], by=by)
    return len(patents)


def _save_audited(patent: Patent, *, by: User, action: str, changes: dict) -> Patent:
    """Saves the changed fields (``changes``: field -> [old, new], already set on ``patent``), records them in the
    patent's history and tells the change listeners: the tail the standing and English-text records share."""
    patent.full_clean(validate_unique=False, validate_constraints=False)
    patent.save(update_fields=[*changes, "updated_at"])
    PatentChange.objects.create(patent=patent, by=by, action=action, changes=changes)
    listeners.changed(listeners.PATENT_CHANGE_LISTENERS, patent_ids=[patent.pk], fields=list(changes))
    return patent
