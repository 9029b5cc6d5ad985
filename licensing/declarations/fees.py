"""Fee arithmetic: the official annual-fee schedule, the open-licence reduction, fee caps and the
licensee's cost over a licence term. Money is integer fen throughout; rates are Decimal percent.

Annual fees (专利年费), in RMB per year of the patent counted from the filing date, from CNIPA's fee
schedule (国家知识产权局《专利收费标准》, as revised by the 2017 fee notice and, for the 15-year design term,
the 2021 notice implementing the amended Patent Law). Kept here as one table so it can be updated in one
place when CNIPA publishes a new schedule."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ANNUAL_FEE_SCHEDULE_SOURCE = "国家知识产权局《专利收费标准》（2017年修订；2021年外观设计第11-15年）"

# (first year, last year, RMB per year)
ANNUAL_FEES_RMB: dict[str, tuple[tuple[int, int, int], ...]] = {
    "invention": ((1, 3, 900), (4, 6, 1200), (7, 9, 2000), (10, 12, 4000), (13, 15, 6000), (16, 20, 8000)),
    "utility_model": ((1, 3, 600), (4, 5, 900), (6, 8, 1200), (9, 10, 2000)),
    "design": ((1, 3, 600), (4, 5, 900), (6, 8, 1200), (9, 10, 2000), (11, 15, 3000)),
}

# CNIPA announcement No. 594 (2024): annual fees fall by 15% while a patent is under open licence;
# not combined with other reductions.
OPEN_LICENCE_ANNUAL_FEE_REDUCTION = Decimal("0.15")

# CNIPA 2024 notice on open-licence fee standards: a fixed fee generally at most RMB 20,000,000; a
# royalty generally at most 20% of net sales or 40% of profit.
FIXED_FEE_CAP_FEN = 20_000_000 * 100
ROYALTY_CAP_NET_SALES = Decimal("20")
ROYALTY_CAP_PROFIT = Decimal("40")


def annual_fee_fen(kind: str, patent_year: int) -> int:
    for first, last, rmb in ANNUAL_FEES_RMB[kind]:
        if first <= patent_year <= last:
            return rmb * 100
    return 0


def patent_year(filing_date: date, on: date) -> int:
    """Patent years run from the filing date: the first year ends the day before the first anniversary."""
    years = on.year - filing_date.year - ((on.month, on.day) < (filing_date.month, filing_date.day))
    return years + 1


@dataclass(frozen=True)
class FeeYear:
    patent_year: int
    due_on: date
    fee_fen: int
    reduced_fee_fen: int

    @property
    def saving_fen(self) -> int:
        return self.fee_fen - self.reduced_fee_fen


def open_licence_fee_savings(*, kind: str, filing_date: date, expiry_date: date, today: date) -> list[FeeYear]:
    """Each remaining patent year's annual fee with and without the 15% open-licence reduction."""
    rows = []
    first = patent_year(filing_date, today)
    last_year = patent_year(filing_date, expiry_date)
    for year in range(max(first, 1), last_year + 1):
        try:
            due = filing_date.replace(year=filing_date.year + year - 1)
        except ValueError:  # filed on 29 February
            due = filing_date.replace(year=filing_date.year + year - 1, day=28)
        fee = annual_fee_fen(kind, year)
        reduced = int((Decimal(fee) * (1 - OPEN_LICENCE_ANNUAL_FEE_REDUCTION)).quantize(Decimal("1"), ROUND_HALF_UP))
        rows.append(FeeYear(year, due, fee, reduced))
    return rows


def licence_cost_fen(*, fee_form: str, years: int, annual_net_sales_fen: int, annual_profit_fen: int | None = None,
                     lump_sum_fen: int = 0, entry_fee_fen: int = 0, royalty_base: str = "net_sales",
                     royalty_rate: Decimal = Decimal("0"), annual_minimum_fen: int = 0) -> list[tuple[int, int]]:
    """What a licensee pays in each licence year for an expected yearly net sales (or profit) figure:
    [(year, fen)], year 1 including any lump sum or entry fee."""
    base = annual_net_sales_fen if royalty_base == "net_sales" else (annual_profit_fen or 0)
    rows = []
    for year in range(1, years + 1):
        due = 0
        if fee_form == "lump_sum":
            due = lump_sum_fen if year == 1 else 0
        else:
            royalty = int((Decimal(base) * royalty_rate / 100).quantize(Decimal("1"), ROUND_HALF_UP))
            due = max(royalty, annual_minimum_fen or 0)
            if fee_form == "entry_plus_royalty" and year == 1:
                due += entry_fee_fen
        rows.append((year, due))
    return rows
