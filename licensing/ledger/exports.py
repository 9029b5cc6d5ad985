"""Ledger statements as CSV / XLSX (see patents.exports for the writers and the formula guard)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
from django.utils.translation import gettext_lazy as _

from licensing.ledger.statements import Statement
from patents.exports import Exporter, register


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


@register
class StatementExporter(Exporter):
    """A statement as one table: one row per ledger line and a closing totals row. Amounts in yuan with
    two decimals, as Decimal (numbers in XLSX, with no float on the way)."""

    identifier = "statement"
    verbose_name = _("Ledger statement")
    header = ("date", "kind", "description", "licence", "counterparty", "account", "payment", "debit_cny",
              "credit_cny", "balance_cny")

    def __init__(self, statement: Statement):
        self.statement = statement

    def rows(self) -> Iterator[tuple]:
        for line in self.statement.lines:
            yield (line.date.isoformat(), line.kind_label, line.description, line.licence_ref, line.counterparty,
                   line.account_label, line.payment_id, fen_to_yuan(line.debit_fen), fen_to_yuan(line.credit_fen),
                   fen_to_yuan(line.balance_fen))
        s = self.statement
        yield ("", str(_("Total")), s.balance_label, "", "", "", None, fen_to_yuan(s.total_debit_fen),
               fen_to_yuan(s.total_credit_fen), fen_to_yuan(s.balance_fen))

    def frame(self) -> pd.DataFrame:
        frame = super().frame()
        frame["payment"] = frame["payment"].astype("Int64")
        return frame
