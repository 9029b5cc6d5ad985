"""The error report of an inventory import as CSV (see patents.exports for the writer and the formula guard)."""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext_lazy as _

from patents.exports import Exporter, register


@register
class InventoryErrorsExporter(Exporter):
    """One row per rejected cell: the row, the column, the value as typed and the reason. The holder opens it in
    a spreadsheet next to the file it uploaded, so the typed values are neutralised like every export's text."""

    identifier = "inventory_errors"
    verbose_name = _("Inventory import errors")
    formats = ("csv",)

    def __init__(self, errors: pd.DataFrame):
        self.errors = errors

    def frame(self) -> pd.DataFrame:
        frame = self.errors.copy()
        for column in ("value", "reason", "column"):
            frame[column] = frame[column].astype(str)
        return frame
