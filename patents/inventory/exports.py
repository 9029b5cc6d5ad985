"""Inventory exports: the error report of an import (CSV) and the holder's portfolio (CSV, XLSX). The writers and
the formula guard are patents.exports'."""

from __future__ import annotations

from collections.abc import Iterator

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


@register
class PortfolioExporter(Exporter):
    """A holder's portfolio (the patents the portfolio page lists, with its filters), one row per patent. Titles,
    abstracts and inventors are the holder's own free text, imported from files anyone could have written: they
    go through the formula guard like every export's text (a title "=HYPERLINK(...)" comes out as typed)."""

    identifier = "portfolio"
    verbose_name = _("Patent portfolio")
    header = ("number", "title", "kind", "grade", "grade_score", "technology_field", "main_ipc", "ipc_codes",
              "locarno_codes", "filing_date", "grant_date", "expiry_date", "legal_status", "declared_open_licence",
              "exclusive_licence_in_force", "pledged", "claims_count", "inventors", "abstract")
    # Read in slices: a large portfolio's abstracts are never all in Django model instances at once.
    BATCH = 2_000

    def __init__(self, patents):
        """`patents`: a Patent queryset annotated with effective_grade (patents.inventory.selectors)."""
        self.patents = patents.prefetch_related(None)  # values only: the page's tag prefetch is not needed

    def rows(self) -> Iterator[tuple]:
        fields = ("number", "title", "kind", "effective_grade", "grade_score", "technology_field", "main_ipc",
                  "ipc_codes", "locarno_codes", "filing_date", "grant_date", "expiry_date", "legal_status",
                  "under_open_licence", "exclusive_licence_in_force", "pledged", "claims_count", "inventors",
                  "abstract")
        for patent in self.patents.values_list(*fields).iterator(chunk_size=self.BATCH):
            row = dict(zip(fields, patent, strict=True))
            yield (row["number"], row["title"], row["kind"], row["effective_grade"], row["grade_score"],
                   row["technology_field"], row["main_ipc"], "; ".join(row["ipc_codes"] or []),
                   "; ".join(row["locarno_codes"] or []), row["filing_date"], row["grant_date"], row["expiry_date"],
                   row["legal_status"], row["under_open_licence"], row["exclusive_licence_in_force"],
                   row["pledged"], row["claims_count"], "; ".join(row["inventors"] or []), row["abstract"])

    def frame(self) -> pd.DataFrame:
        frame = super().frame()
        for column in ("technology_field", "claims_count"):
            frame[column] = frame[column].astype("Int64")  # an integer where set, blank where not
        return frame
