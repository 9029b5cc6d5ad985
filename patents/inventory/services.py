"""Writes on the inventory: imports, grading, overrides and tags. Each is one transaction."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.parties import listeners
from marketplace.parties.models import Organisation, User
from patents.inventory import bulk, progress
from patents.inventory.exports import InventoryErrorsExporter
from patents.inventory.grading import grade_frame
from patents.inventory.importing import InventoryFileError, map_headers, read_table, validate
from patents.inventory.selectors import user_can_manage_inventory
from patents.models import InventoryBatch, Patent, PatentChange, PatentCoOwner

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
WRITE_CHUNK = 2000

# File column -> model fields it sets. A column absent from the file leaves those fields alone on update.
FIELDS_BY_COLUMN = {
    "title": ("title",),
    "abstract": ("abstract",),
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
}
ALL_FIELDS = [f for fields in FIELDS_BY_COLUMN.values() for f in fields]
DATE_FIELDS = {"filing_date", "grant_date", "annual_fees_paid_through"}
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
                           content: bytes, partial: bool = False, language: str | None = None) -> InventoryBatch:
    """Record an uploaded or given inventory file as a queued batch (the file is kept with it)."""
    if not holder.is_holder:
        raise ValidationError({"holder": "This organisation does not act as a patent holder."})
    batch = InventoryBatch(holder=holder, run_by=run_by, source=source, original_filename=filename[:255],
                           partial=partial, language=language or translation.get_language() or settings.LANGUAGE_CODE)
    batch.full_clean(exclude=["file", "error_report"])
    batch.file.save(f"batch-{timezone.now():%Y%m%d%H%M%S}-{filename[-80:]}", ContentFile(content), save=False)
    batch.save()
    return batch


def inventory_batch_run(*, batch: InventoryBatch, on_progress: ProgressCallback | None = None,
                        max_bytes: int | None = None, today: date | None = None) -> ImportSummary:
    """Import a batch's file for its holder.

    All or nothing by default: one invalid row rejects the batch and writes no patent. With
    `batch.partial`, valid rows are imported and invalid ones reported. Upserts by canonical number;
    records an audit entry per created or changed patent; regrades what it wrote. Never raises for bad
    input: the outcome, counts and error report are on the batch."""
    with translation.override(batch.language):
        return _run(batch, on_progress, max_bytes or settings.INVENTORY_MAX_FILE_MB * 1024 * 1024,
                    today or timezone.localdate())


def _run(batch: InventoryBatch, on_progress, max_bytes: int, today: date) -> ImportSummary:

    def tick(stage: str, done: int, total: int) -> None:
        progress.report("inventory", batch.pk, stage=stage, done=done, total=total)
        if on_progress:
            on_progress(stage, done, total)

    batch.status, batch.started_at = InventoryBatch.Status.RUNNING, timezone.now()
    batch.save(update_fields=["status", "started_at"])
    try:
        tick("reading", 0, 0)
        with batch.file.open("rb") as f:
            raw = f.read()
        try:
            frame = map_headers(read_table(raw, filename=batch.original_filename, max_bytes=max_bytes))
        except InventoryFileError as exc:
            errors = pd.DataFrame([{"row": 0, "column": exc.column, "value": "", "reason": exc.reason}])
            return _finish_rejected(batch, errors, total=0, message=exc.reason)
        batch.total_rows = len(frame)
        batch.save(update_fields=["total_rows"])
        tick("validating", 0, len(frame))
        checked = validate(frame, today=today)
        errors = _ownership_errors(checked.rows, batch.holder)
        if not errors.empty:
            checked.rows = checked.rows.drop(index=errors["row"].unique())
            checked.errors = pd.concat([checked.errors, errors], ignore_index=True).sort_values(["row", "column"])
        tick("validating", len(frame), len(frame))
        if not checked.errors.empty and not batch.partial:
            rows = len(checked.rejected_row_numbers)
            return _finish_rejected(batch, checked.errors, total=checked.total_rows,
                                    message=_("%(n)d row(s) have errors; nothing was imported.") % {"n": rows})
        with transaction.atomic():
            counts = _write(batch, checked.rows, checked.present_columns, tick, today)
        return _finish(batch, counts, checked.errors, checked.total_rows)
    except Exception as exc:
        logger.exception("inventory batch %s failed", batch.pk)
        batch.status, batch.message, batch.finished_at = InventoryBatch.Status.FAILED, str(exc)[:2000], timezone.now()
        batch.save(update_fields=["status", "message", "finished_at"])
        raise
    finally:
        progress.clear("inventory", batch.pk)


def _ownership_errors(rows: pd.DataFrame, holder: Organisation) -> pd.DataFrame:
    """Rows the database forbids: numbers already inventoried by another holder, and an exclusive licence
    on a patent under open licence (Patent Law art. 51). One query per chunk of numbers, never per row."""
    numbers = rows["number"].tolist()
    foreign, open_licensed = set(), set()
    for lo in range(0, len(numbers), 5000):
        for number, holder_id, under_open in Patent.objects.filter(number__in=numbers[lo:lo + 5000]).values_list(
                "number", "holder_id", "under_open_licence"):
            if holder_id != holder.pk:
                foreign.add(number)
            elif under_open:
                open_licensed.add(number)
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


def _py(value, field: str):
    """pandas cell -> the Python value the model field stores (None for missing)."""
    if isinstance(value, list):
        return value
    if value is None or value is pd.NaT or (not isinstance(value, str | bool) and pd.isna(value)):
        return None if field not in {"main_ipc", "ipc_subclass", "abstract", "evaluation_report"} else ""
    if field in DATE_FIELDS or field == "expiry_date":
        return pd.Timestamp(value).date()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _write(batch: InventoryBatch, rows: pd.DataFrame, present: set[str], tick, today: date) -> dict[str, int]:
    holder = batch.holder
    fields = [f for column, fs in FIELDS_BY_COLUMN.items() if column in present or column == "kind" for f in fs]
    if "legal_status" not in fields:
        fields.append("legal_status")  # derived from the grant date when the file has no status column
    # On update a column absent from the file leaves its fields alone: that includes the derived status.
    compared = [f for f in fields if f != "legal_status" or "legal_status" in present]
    write_expiry = bool({"kind", "filing_date", "term_extension_days"} & set(fields))
    existing = {}
    numbers = rows["number"].tolist()
    for lo in range(0, len(numbers), 5000):
        existing.update({p["number"]: p for p in Patent.objects.filter(holder=holder, number__in=numbers[lo:lo + 5000])
                        .values("id", "number", *fields)})
    owners_now = _co_owners_of([p["id"] for p in existing.values()]) if "co_owners" in present else {}
    records = rows.to_dict("records")
    org_by_name = _organisations_by_name()
    now = timezone.now()
    created, changed, unchanged = [], [], 0
    co_owner_rows: list[tuple[str, list]] = []
    for done, record in enumerate(records, start=1):
        values = {f: _py(record[f], f) for f in fields}
        values["expiry_date"] = _py(record["expiry_date"], "expiry_date")
        old = existing.get(record["number"])
        if old is None:
            values.update(number=record["number"], number_original=record["number_original"], country=record["country"])
            created.append(values)
            co_owner_rows.append((record["number"], record["co_owners"]))
        else:
            diff = {f: [_jsonable(old[f]), _jsonable(values[f])] for f in compared if old[f] != values[f]}
            new_owners = sorted(record["co_owners"], key=_owner_key)
            owners_changed = "co_owners" in present and owners_now.get(old["id"], []) != new_owners
            if diff or owners_changed:
                if owners_changed:
                    diff["co_owners"] = [None, [[n, str(s) if s is not None else None] for n, s in record["co_owners"]]]
                    co_owner_rows.append((record["number"], record["co_owners"]))
                changed.append((old["id"], values, diff))
            else:
                unchanged += 1
        if done % WRITE_CHUNK == 0:
            tick("comparing", done, len(records))

    if created:
        tick("grading", 0, len(created))
        graded = grade_frame(pd.DataFrame.from_records(created, columns=GRADE_INPUT_FIELDS[1:]), today=today)
        tick("grading", len(created), len(created))
    tick("writing", 0, len(created) + len(changed))
    if created:
        names = ["holder", "last_batch", "created_at", "updated_at", "graded_at", "grade_score", "grade_computed",
                 "grade_factors", "grade_override", "grade_override_reason", "under_open_licence", "number",
                 "number_original", "country", "expiry_date", *[f for f in Patent.DEFAULTS_ON_CREATE if f not in fields],
                 *fields]
        defaults = {f: Patent._meta.get_field(f).get_default() for f in Patent.DEFAULTS_ON_CREATE}
        bulk.insert_rows(Patent, names, (
            (holder.pk, batch.pk, now, now, now, int(score), grade, factors, "", "", False, v["number"],
             v["number_original"], v["country"], v["expiry_date"],
             *[defaults[f] for f in Patent.DEFAULTS_ON_CREATE if f not in fields], *[v[f] for f in fields])
            for v, score, grade, factors in zip(created, graded["score"], graded["grade"], graded["factors"], strict=True)
        ))
        tick("writing", len(created), len(created) + len(changed))
    update_fields = compared + ["last_batch", "updated_at"] + (["expiry_date"] if write_expiry else [])
    bulk.update_rows(Patent, update_fields, (
        (*[v[f] for f in compared], batch.pk, now, *([v["expiry_date"]] if write_expiry else []), pk)
        for pk, v, _diff in changed))
    if changed:
        listeners.changed(listeners.PATENT_CHANGE_LISTENERS, patent_ids=[pk for pk, _v, _diff in changed],
                          fields=update_fields)
    tick("writing", len(created) + len(changed), len(created) + len(changed))

    created_numbers = {v["number"] for v in created}
    ids = {n: i for n, i in Patent.objects.filter(holder=holder, last_batch=batch).values_list("number", "id")
           if n in created_numbers}
    ids.update({number: existing[number]["id"] for number, _ in co_owner_rows if number in existing})
    _replace_co_owners(co_owner_rows, ids, org_by_name)
    by = batch.run_by_id
    bulk.insert_rows(PatentChange, ["patent", "batch", "action", "changes", "by", "at"], [
        *((ids[v["number"]], batch.pk, PatentChange.Action.IMPORT_CREATE, {}, by, now) for v in created),
        *((pk, batch.pk, PatentChange.Action.IMPORT_UPDATE, diff, by, now) for pk, _v, diff in changed),
    ])
    patents_regrade(patent_ids=[pk for pk, _v, _d in changed], today=today,
                    on_progress=lambda d, t: tick("grading", d, t))
    return {"created": len(created), "updated": len(changed), "unchanged": unchanged}


def _owner_key(owner):
    return (owner[0], owner[1] is None, owner[1] or 0)


def _co_owners_of(patent_ids: list[int]) -> dict[int, list]:
    """Current co-owners of many patents, in one query per chunk (compared on re-import)."""
    owners: dict[int, list] = {}
    for lo in range(0, len(patent_ids), 5000):
        for pid, name, share in PatentCoOwner.objects.filter(patent_id__in=patent_ids[lo:lo + 5000]).values_list(
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


def _replace_co_owners(rows: list[tuple[str, list]], ids: dict[str, int], org_by_name: dict[str, int]) -> None:
    patent_ids = [ids[n] for n, _ in rows if n in ids]
    PatentCoOwner.objects.filter(patent_id__in=patent_ids).delete()
    PatentCoOwner.objects.bulk_create(
        [PatentCoOwner(patent_id=ids[number], name=name, share_percent=share,
                       organisation_id=org_by_name.get(name) or org_by_name.get(name.lower()))
         for number, owners in rows if number in ids for name, share in owners],
        batch_size=WRITE_CHUNK,
    )


def _error_report(batch: InventoryBatch, errors: pd.DataFrame) -> None:
    if errors.empty:
        return
    report = InventoryErrorsExporter(errors).render("csv")
    batch.error_report.save(f"batch-{batch.pk}-errors.csv", ContentFile(report.content), save=False)
    batch.errors_preview = [
        {"row": int(r.row), "column": r.column, "value": r.value, "reason": r.reason}
        for r in errors.head(500).itertuples()
    ]


def _finish_rejected(batch, errors, *, total, message) -> ImportSummary:
    batch.status, batch.message = InventoryBatch.Status.REJECTED, message
    batch.rejected_count = len(set(errors["row"]) - {0}) if total else 0
    batch.processed_rows, batch.finished_at = total, timezone.now()
    _error_report(batch, errors)
    batch.save()
    return _summary(batch)


def _finish(batch, counts, errors, total) -> ImportSummary:
    batch.created_count, batch.updated_count = counts["created"], counts["updated"]
    batch.unchanged_count = counts["unchanged"]
    batch.rejected_count = len(set(errors["row"]) - {0}) if not errors.empty else 0
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
