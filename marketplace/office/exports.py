"""The IP office's dashboard tables and drill-down list as CSV / XLSX (see patents.exports for the writers
and the formula guard)."""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext_lazy as _

from marketplace.office import selectors as office
from patents.exports import Exporter, register

# The dashboard's tables, in the order the workbook shows them.
STATISTICS_TABLES = {"figures": office.figures_frame, "breakdown": office.breakdown_frame, "trend": office.trend_frame,
                     "league": office.league_frame, "flows": office.flows_frame, "funnel": office.funnel_frame,
                     "withdrawals": office.withdrawals_frame}


@register
class StatisticsExporter(Exporter):
    """The deal-rate dashboard: one table (``table``) in CSV, every table as a sheet of one workbook in XLSX.
    Money columns hold yuan and are named ``*_yuan`` (marketplace.office.selectors.export_name)."""

    identifier = "office_statistics"
    verbose_name = _("Open-licensing statistics")

    def __init__(self, board: office.Dashboard, table: str = "figures"):
        if table not in STATISTICS_TABLES:
            raise ValueError(f"Unknown table {table!r}; choose one of {', '.join(STATISTICS_TABLES)}")
        self.board, self.table = board, table

    def frame(self) -> pd.DataFrame:
        return STATISTICS_TABLES[self.table](self.board)

    def sheets(self) -> dict[str, pd.DataFrame]:
        return {name: make(self.board) for name, make in STATISTICS_TABLES.items()}


@register
class DeclarationsExporter(Exporter):
    """The drill-down list: one row per declaration published in the period, with its first licence."""

    identifier = "office_declarations"
    verbose_name = _("Declarations and their first licence")

    def __init__(self, rows: list[office.DrillRow]):
        self.drill_rows = rows

    def frame(self) -> pd.DataFrame:
        return office.drill_frame(self.drill_rows)

    def sheets(self) -> dict[str, pd.DataFrame]:
        return {"declarations": self.frame()}
