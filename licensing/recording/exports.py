"""Contract recording packs as CSV / XLSX (see patents.exports for the writers and the formula guard)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pandas as pd
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from licensing.recording.services import PACK_FIELDS, RecordingRow, recording_pack
from patents.exports import Exporter, register


@register
class RecordingPackExporter(Exporter):
    """Recording packs, one row per licence, with the deadline and what was recorded: CSV, or XLSX with a
    second sheet naming each column in the active language. Names and the way of payment are typed by users;
    the writers neutralise them."""

    identifier = "recording_packs"
    verbose_name = _("Contract recording packs")
    header = (*(key for key, _label in PACK_FIELDS), "recording_due_on", "recording_status", "recording_number",
              "recorded_on")

    def __init__(self, rows: Iterable[RecordingRow]):
        self.recordings = rows

    def rows(self) -> Iterator[tuple]:
        for row in self.recordings:
            pack = recording_pack(row.licence)
            yield (*(pack[key] for key, _label in PACK_FIELDS), row.due_on, row.status,
                   row.licence.recording_number, row.licence.recorded_on)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows()), columns=list(self.header), dtype=object)

    def legend(self) -> pd.DataFrame:
        labels = {**{key: str(label) for key, label in PACK_FIELDS},
                  "recording_due_on": gettext("Recording due on"), "recording_status": gettext("Recording status"),
                  "recording_number": gettext("Recording number"), "recorded_on": gettext("Recorded on")}
        return pd.DataFrame([(key, labels[key]) for key in self.header], columns=["column", "meaning"])

    def sheets(self) -> dict[str, pd.DataFrame]:
        return {"recordings": self.frame(), "columns": self.legend()}
