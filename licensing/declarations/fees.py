"""Fee arithmetic: the official annual-fee schedule, the reductions a holder is granted on it, fee caps and the
licensee's cost over a licence term. Money is integer fen throughout; rates are Decimal.

Annual fees (专利年费), in RMB per year of the patent counted from the filing date, from CNIPA's fee schedule
(国家知识产权局《专利收费标准》, as revised in 2017), with design years 11-15 at RMB 3,000 from the NDRC/MOF notice
on design annual fees (发改价格〔2022〕465号, the 15-year design term of the amended Patent Law) and the
term-compensation years at RMB 8,000 (NDRC/MOF notice on the annual fee of the patent-term compensation period,
2023: 《国家发展改革委 财政部关于专利权补偿期年费标准等有关事项的通知》; a part year costs nothing). Kept here as
one table so it can be updated in one place when a new schedule is published.

Two reductions may apply to an annual fee, never both (the holder takes the better one):
- the open-licence reduction of 15% (CNIPA Announcement No. 594 (2024); Patent Law art. 51 para. 2; Guidelines
  Part V ch. 11): only for annual fees falling due while a licence under an announced declaration (a statutory
  open licence) is recorded with CNIPA, from the recording date to the end of that licence's term; it stops from
  the patent year after CNIPA announces the declaration's withdrawal;
- the small-entity reduction (专利收费减缴办法, 财税〔2016〕78号, arts. 2-4): 85% off for a qualifying individual
  or entity, 70% when two or more co-own the patent (art. 4), on the annual fees of the year of grant and the
  following years: six years in art. 2 item 3 as issued, ten since the 2019 fee cuts (财税〔2019〕45号). The
  2023 notice on the term-compensation fee says a patentee eligible for several reductions picks the most
  favourable one and does not combine them.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

ANNUAL_FEE_SCHEDULE_SOURCE = "国家知识产权局《专利收费标准》（2017年修订）；外观设计第11-15年：发改价格〔2022〕465号"

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


# The reductions as granted --------------------------------------------------------------------------------

# Small-entity reduction (专利收费减缴办法, 财税〔2016〕78号): art. 4 sets the share taken off, art. 2 item 3 limits
# it to the annual fees from the year of grant: six years as issued, ten since 1 July 2019 (财税〔2019〕45号).
SMALL_ENTITY_REDUCTION_SOLE = Decimal("0.85")
SMALL_ENTITY_REDUCTION_JOINT = Decimal("0.70")
SMALL_ENTITY_ANNUAL_FEE_YEARS = 10
SMALL_ENTITY_SOURCE = "《专利收费减缴办法》（财税〔2016〕78号）第二条、第三条、第四条；财税〔2019〕45号"
OPEN_LICENCE_SOURCE = "国家知识产权局公告第594号（2024年）；《专利法》第五十一条第二款；《专利审查指南》第五部分第十一章"
# Annual fee of each full year of the term-compensation period (Patent Law art. 42 paras. 2-3); a part year
# is free.
TERM_COMPENSATION_ANNUAL_FEE_FEN = 8_000 * 100
TERM_COMPENSATION_SOURCE = "《国家发展改革委 财政部关于专利权补偿期年费标准等有关事项的通知》（2023年）"
TERM_YEARS = {"invention": 20, "utility_model": 10, "design": 15}


class FeeRule:
    """Which rule sets the fee a year applies (codes of the rules register, licensing/legal)."""

    STANDARD = "annual_fee_standard"
    OPEN_LICENCE = "annual_fee_reduction"  # the 15% open-licence reduction
    SMALL_ENTITY = "small_entity_fee_reduction"


class FeeReason:
    """Why a year's fee is what it is: the reduction that applies, or why the open-licence one does not."""

    OPEN_LICENCE = "open_licence_recorded"  # due while a recorded statutory licence runs
    SMALL_ENTITY_BETTER = "small_entity_better"  # both apply; the small-entity reduction takes more off
    SMALL_ENTITY = "small_entity"  # no open-licence reduction this year; the small-entity one applies
    NO_RECORDED_LICENCE = "no_recorded_statutory_licence"
    DUE_BEFORE_RECORDING = "due_before_recording"
    AFTER_LICENCE_TERM = "after_licence_term"
    AFTER_WITHDRAWAL = "after_withdrawal"
    PART_YEAR = "term_compensation_part_year"  # the last, incomplete compensation year costs nothing


@dataclass(frozen=True)
class OpenLicencePeriod:
    """A statutory licence recorded with CNIPA: annual fees falling due from ``recorded_on`` to ``ends_on`` (both
    included) are reduced, unless they fall due after ``withdrawal_announced_on`` (the withdrawal of the
    declaration ends the reduction from the next patent year)."""

    recorded_on: date
    ends_on: date
    withdrawal_announced_on: date | None = None

    def covers(self, due_on: date) -> bool:
        if self.withdrawal_announced_on is not None and due_on > self.withdrawal_announced_on:
            return False
        return self.recorded_on <= due_on <= self.ends_on


@dataclass(frozen=True)
class AnnualFeeYear:
    """One patent year's annual fee: the standard fee, each reduced fee the holder could claim (None when that
    reduction does not apply to the year), the fee applied (the lowest), and the rule and reason that set it."""

    patent_year: int
    due_on: date  # the anniversary of the filing date that opens the year
    pay_by: date  # the last day to pay without surcharge: due_on moved off rest days (Civil Code art. 203)
    standard_fee_fen: int
    small_entity_fee_fen: int | None
    open_licence_fee_fen: int | None
    applied_fee_fen: int
    rule: str
    reason: str
    term_compensation: bool = False

    @property
    def reduction_fen(self) -> int:
        return self.standard_fee_fen - self.applied_fee_fen

    @property
    def open_licence_reduction_fen(self) -> int:
        """What the open-licence reduction takes off this year (0 when another rule set the fee)."""
        return self.reduction_fen if self.rule == FeeRule.OPEN_LICENCE else 0


def _share(fee_fen: int, share: Decimal) -> int:
    return int((Decimal(fee_fen) * share).quantize(Decimal("1"), ROUND_HALF_UP))


def annual_fee_schedule(*, kind: str, filing_date: date, expiry_date: date, grant_date: date | None = None,
                        term_extension_days: int = 0, periods: list[OpenLicencePeriod] = (),
                        small_entity_reduction: Decimal | None = None) -> list[AnnualFeeYear]:
    """Every annual fee of the patent from the year of grant (year 1 when the grant date is unknown) to its
    expiry, term-compensation years included, each with the reduction that applies.

    ``periods`` are the recorded statutory licences (``OpenLicencePeriod``); ``small_entity_reduction`` the share
    the small-entity reduction takes off (0.85 or 0.70), None when the holder does not qualify. A year both
    reductions reach gets the better one, never both. Compensation years (after the normal term) cost RMB 8,000
    each, the last part year nothing; the small-entity measures do not list that fee, the open-licence
    reduction (on "annual fees") does reach it."""
    from licensing import deadlines  # the arithmetic of periods lives with the deadlines

    term_years = TERM_YEARS[kind]
    normal_end = deadlines.add_years(filing_date, term_years) - timedelta(days=1)
    last_year = patent_year(filing_date, expiry_date)
    first_year = patent_year(filing_date, grant_date) if grant_date else 1
    grant_year = first_year if grant_date else None
    rows = []
    for year in range(first_year, last_year + 1):
        due = deadlines.add_years(filing_date, year - 1)
        compensation = due > normal_end
        reason = None
        if compensation:
            year_end = deadlines.add_years(filing_date, year) - timedelta(days=1)
            standard = TERM_COMPENSATION_ANNUAL_FEE_FEN if year_end <= expiry_date else 0
            if not standard:
                reason = FeeReason.PART_YEAR
        else:
            standard = annual_fee_fen(kind, year)
        small = None
        if (small_entity_reduction is not None and grant_year is not None and not compensation
                and year < grant_year + SMALL_ENTITY_ANNUAL_FEE_YEARS):
            small = standard - _share(standard, small_entity_reduction)
        open_fee, open_reason = None, FeeReason.NO_RECORDED_LICENCE
        if any(p.covers(due) for p in periods):
            open_fee, open_reason = standard - _share(standard, OPEN_LICENCE_ANNUAL_FEE_REDUCTION), FeeReason.OPEN_LICENCE
        elif periods:
            if all(due < p.recorded_on for p in periods):
                open_reason = FeeReason.DUE_BEFORE_RECORDING
            elif any(p.withdrawal_announced_on is not None and p.recorded_on <= due <= p.ends_on
                     and due > p.withdrawal_announced_on for p in periods):
                open_reason = FeeReason.AFTER_WITHDRAWAL
            else:
                open_reason = FeeReason.AFTER_LICENCE_TERM
        if small is not None and (open_fee is None or small <= open_fee) and small < standard:
            applied, rule = small, FeeRule.SMALL_ENTITY
            reason = FeeReason.SMALL_ENTITY_BETTER if open_fee is not None else FeeReason.SMALL_ENTITY
        elif open_fee is not None and open_fee < standard:
            applied, rule, reason = open_fee, FeeRule.OPEN_LICENCE, FeeReason.OPEN_LICENCE
        else:
            applied, rule, reason = standard, FeeRule.STANDARD, reason or open_reason
        rows.append(AnnualFeeYear(year, due, deadlines.next_working_day(due), standard, small, open_fee, applied,
                                  rule, reason, compensation))
    return rows


def open_licence_reduction_granted_fen(rows: list[AnnualFeeYear], *, today: date) -> int:
    """What the open-licence reduction has taken off the fees that fell due by ``today``."""
    return sum(r.open_licence_reduction_fen for r in rows if r.due_on <= today)
