"""The audit log as CSV / XLSX: one row per changed field, with its value before and after (an entry that changed
no field, e.g. a deletion's summary, still gives one row). Written through patents.exports, so text that a
spreadsheet would run as a formula (a withdrawal reason beginning with "=") comes out inert."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from marketplace.audit.selectors import audit_rows
from patents.exports import Exporter, register

CHUNK = 2000


@register
class AuditLogExporter(Exporter):
    """The entries of a search of the audit log (the reader's own, already filtered)."""

    identifier = "audit_log"
    verbose_name = _("Audit log")
    header = ("entry", "time", "record", "record_id", "record_text", "change", "by", "source", "field", "before",
              "after")

    def __init__(self, entries: QuerySet):
        self.entries = entries

    def rows(self) -> Iterable[tuple]:
        batch = []
        for entry in self.entries.iterator(chunk_size=CHUNK):
            batch.append(entry)
            if len(batch) == CHUNK:
                yield from self._rows(batch)
                batch = []
        yield from self._rows(batch)

    @staticmethod
    def _rows(entries) -> Iterable[tuple]:
        for row in audit_rows(entries):
            head = (row.pk, row.timestamp.isoformat(), row.model, row.object_id, row.object_repr, row.action,
                    row.actor, row.source)
            if not row.changes:
                yield (*head, "", "", "")
            for change in row.changes:
                yield (*head, change.field, change.before, change.after)
