"""Annual fees as the reductions are granted (licensing/declarations/fees.py ``annual_fee_schedule``): the 15%
open-licence reduction (CNIPA Announcement No. 594 (2024)) only on fees falling due while a recorded statutory
licence runs and until the patent year after the withdrawal is announced; the small-entity reduction (专利收费减缴办法,
财税〔2016〕78号 arts. 2-4: 85% off, 70% for co-owners, the year of grant and nine more since 财税〔2019〕45号)
never combined with it; design years 11-15 (发改价格〔2022〕465号);
term-compensation years at RMB 8,000 (2023 notice), a part year free.
Every figure is worked out by hand in the comments."""

from datetime import date
from decimal import Decimal

from licensing.declarations import fees
from licensing.declarations.fees import FeeReason, FeeRule, OpenLicencePeriod
from patents.inventory.term import statutory_expiry

RMB = 100  # fen


def by_year(rows):
    return {r.patent_year: r for r in rows}


def test_the_reduction_applies_from_recording_and_ends_the_patent_year_after_the_withdrawal():
    # Invention filed 16 March 2015, granted 20 September 2018 (patent year 4), expiring 15 March 2035.
    # A statutory licence recorded 10 May 2022 runs to 9 May 2027; the withdrawal is announced 1 August 2025.
    rows = fees.annual_fee_schedule(
        kind="invention", filing_date=date(2015, 3, 16), grant_date=date(2018, 9, 20),
        expiry_date=date(2035, 3, 15),
        periods=[OpenLicencePeriod(date(2022, 5, 10), date(2027, 5, 9), withdrawal_announced_on=date(2025, 8, 1))])
    years = by_year(rows)
    assert [r.patent_year for r in rows] == list(range(4, 21))  # annual fees from the year of grant
    # Year 8 fell due on 16 March 2022, before the recording: no reduction.
    assert (years[8].due_on, years[8].applied_fee_fen, years[8].reason) == (
        date(2022, 3, 16), 2000 * RMB, FeeReason.DUE_BEFORE_RECORDING)
    # Years 9-11 (due 16 March 2023, 2024, 2025): 85% of 2,000 = 1,700; of 4,000 = 3,400.
    assert [(years[y].standard_fee_fen, years[y].open_licence_fee_fen, years[y].applied_fee_fen, years[y].rule)
            for y in (9, 10, 11)] == [(2000 * RMB, 1700 * RMB, 1700 * RMB, FeeRule.OPEN_LICENCE),
                                      (4000 * RMB, 3400 * RMB, 3400 * RMB, FeeRule.OPEN_LICENCE),
                                      (4000 * RMB, 3400 * RMB, 3400 * RMB, FeeRule.OPEN_LICENCE)]
    # Year 12 (16 March 2026) and 13 (16 March 2027, still inside the licence term) follow the withdrawal.
    assert (years[12].applied_fee_fen, years[12].reason) == (4000 * RMB, FeeReason.AFTER_WITHDRAWAL)
    assert (years[13].applied_fee_fen, years[13].reason) == (6000 * RMB, FeeReason.AFTER_WITHDRAWAL)
    assert (years[14].applied_fee_fen, years[14].reason) == (6000 * RMB, FeeReason.AFTER_LICENCE_TERM)
    assert all(years[y].small_entity_fee_fen is None for y in years)  # the holder does not qualify
    # Due on Saturday 16 March 2024 and Sunday 16 March 2025: payable on the Monday after (Civil Code art. 203).
    assert (years[10].pay_by, years[11].pay_by, years[9].pay_by) == (
        date(2024, 3, 18), date(2025, 3, 17), date(2023, 3, 16))
    # Granted so far (7 December 2026): 300 + 600 + 600 = RMB 1,500.
    assert fees.open_licence_reduction_granted_fen(rows, today=date(2026, 12, 7)) == 1500 * RMB
    assert fees.open_licence_reduction_granted_fen(rows, today=date(2024, 3, 15)) == 300 * RMB


def test_without_a_recorded_statutory_licence_nothing_is_reduced():
    rows = fees.annual_fee_schedule(kind="invention", filing_date=date(2015, 3, 16), grant_date=date(2018, 9, 20),
                                    expiry_date=date(2035, 3, 15))
    assert {r.rule for r in rows} == {FeeRule.STANDARD}
    assert {r.reason for r in rows} == {FeeReason.NO_RECORDED_LICENCE}
    assert sum(r.applied_fee_fen for r in rows) == (3 * 1200 + 3 * 2000 + 3 * 4000 + 3 * 6000 + 5 * 8000) * RMB


def test_a_small_entity_sees_both_reductions_and_gets_the_better_one_each_year():
    # Invention filed 10 June 2012, granted 5 November 2016 (patent year 5): the small-entity reduction covers
    # years 5-14. A statutory licence is recorded 10 January 2023 and runs to 9 January 2030.
    rows = fees.annual_fee_schedule(
        kind="invention", filing_date=date(2012, 6, 10), grant_date=date(2016, 11, 5), expiry_date=date(2032, 6, 9),
        periods=[OpenLicencePeriod(date(2023, 1, 10), date(2030, 1, 9))],
        small_entity_reduction=fees.SMALL_ENTITY_REDUCTION_SOLE)
    years = by_year(rows)
    assert [r.patent_year for r in rows] == list(range(5, 21))
    figures = {y: (years[y].standard_fee_fen // RMB,
                   years[y].small_entity_fee_fen // RMB if years[y].small_entity_fee_fen is not None else None,
                   years[y].open_licence_fee_fen // RMB if years[y].open_licence_fee_fen is not None else None,
                   years[y].applied_fee_fen // RMB, years[y].rule, years[y].reason) for y in range(11, 20)}
    assert figures == {
        11: (4000, 600, None, 600, FeeRule.SMALL_ENTITY, FeeReason.SMALL_ENTITY),  # 15% of 4,000; before recording
        12: (4000, 600, 3400, 600, FeeRule.SMALL_ENTITY, FeeReason.SMALL_ENTITY_BETTER),  # both shown, 600 < 3,400
        13: (6000, 900, 5100, 900, FeeRule.SMALL_ENTITY, FeeReason.SMALL_ENTITY_BETTER),
        14: (6000, 900, 5100, 900, FeeRule.SMALL_ENTITY, FeeReason.SMALL_ENTITY_BETTER),  # the tenth year
        15: (6000, None, 5100, 5100, FeeRule.OPEN_LICENCE, FeeReason.OPEN_LICENCE),  # due 10 June 2026
        16: (8000, None, 6800, 6800, FeeRule.OPEN_LICENCE, FeeReason.OPEN_LICENCE),
        17: (8000, None, 6800, 6800, FeeRule.OPEN_LICENCE, FeeReason.OPEN_LICENCE),
        18: (8000, None, 6800, 6800, FeeRule.OPEN_LICENCE, FeeReason.OPEN_LICENCE),  # due 10 June 2029
        19: (8000, None, None, 8000, FeeRule.STANDARD, FeeReason.AFTER_LICENCE_TERM),  # due 10 June 2030
    }
    assert years[5].small_entity_fee_fen == 180 * RMB  # 15% of 1,200 in the year of grant
    # Never stacked: in years 12-14 the open-licence reduction granted nothing.
    assert fees.open_licence_reduction_granted_fen(rows, today=date(2026, 6, 9)) == 0
    assert fees.open_licence_reduction_granted_fen(rows, today=date(2026, 12, 7)) == 900 * RMB
    assert fees.open_licence_reduction_granted_fen(rows, today=date(2029, 12, 31)) == (900 + 3 * 1200) * RMB


def test_co_owners_get_the_seventy_percent_small_entity_reduction():
    rows = fees.annual_fee_schedule(kind="invention", filing_date=date(2012, 6, 10), grant_date=date(2016, 11, 5),
                                    expiry_date=date(2032, 6, 9), small_entity_reduction=fees.SMALL_ENTITY_REDUCTION_JOINT)
    years = by_year(rows)
    assert (years[5].small_entity_fee_fen, years[12].small_entity_fee_fen, years[14].small_entity_fee_fen) == (
        360 * RMB, 1200 * RMB, 1800 * RMB)  # 30% of 1,200, 4,000, 6,000
    assert years[15].small_entity_fee_fen is None


def test_design_years_11_to_15_cost_3000_and_the_table_cites_the_2022_notice():
    # Design filed 1 July 2021 (the 15-year term), granted 20 January 2022; a licence recorded 1 September 2030.
    assert "发改价格〔2022〕465号" in fees.ANNUAL_FEE_SCHEDULE_SOURCE
    rows = fees.annual_fee_schedule(kind="design", filing_date=date(2021, 7, 1), grant_date=date(2022, 1, 20),
                                    expiry_date=date(2036, 6, 30),
                                    periods=[OpenLicencePeriod(date(2030, 9, 1), date(2035, 8, 31))])
    years = by_year(rows)
    assert [r.patent_year for r in rows] == list(range(1, 16))
    assert (years[10].due_on, years[10].applied_fee_fen) == (date(2030, 7, 1), 2000 * RMB)  # before recording
    assert [(years[y].standard_fee_fen, years[y].applied_fee_fen) for y in range(11, 16)] == [
        (3000 * RMB, 2550 * RMB)] * 5  # 85% of 3,000
    assert sum(r.standard_fee_fen for r in rows) == (3 * 600 + 2 * 900 + 3 * 1200 + 2 * 2000 + 5 * 3000) * RMB


def test_term_compensation_years_cost_8000_and_the_part_year_nothing():
    # Invention filed 20 April 2010, granted 10 May 2016 (year 7), 800 days of term compensation: the normal
    # term ends 19 April 2030; + 800 days (365 + 366, 2032 being a leap year, + 69) = 27 June 2032.
    expiry = statutory_expiry("invention", date(2010, 4, 20), 800)
    assert expiry == date(2032, 6, 27)
    rows = fees.annual_fee_schedule(kind="invention", filing_date=date(2010, 4, 20), grant_date=date(2016, 5, 10),
                                    expiry_date=expiry, term_extension_days=800,
                                    periods=[OpenLicencePeriod(date(2029, 1, 1), date(2031, 12, 31))])
    years = by_year(rows)
    assert [r.patent_year for r in rows] == list(range(7, 24))
    assert not years[20].term_compensation and (years[20].standard_fee_fen, years[20].applied_fee_fen) == (
        8000 * RMB, 6800 * RMB)
    # Year 21: 20 April 2030 - 19 April 2031; year 22: to 19 April 2032: full years, RMB 8,000 each, reduced to
    # 6,800 while the recorded licence runs. Year 23 (from 20 April 2032) ends with the patent on 27 June: free.
    assert [(years[y].term_compensation, years[y].standard_fee_fen, years[y].applied_fee_fen) for y in (21, 22, 23)] == [
        (True, 8000 * RMB, 6800 * RMB), (True, 8000 * RMB, 6800 * RMB), (True, 0, 0)]
    assert years[23].reason == FeeReason.PART_YEAR


def test_the_small_entity_reduction_does_not_reach_term_compensation_years():
    rows = fees.annual_fee_schedule(kind="invention", filing_date=date(2010, 4, 20), grant_date=date(2028, 1, 5),
                                    expiry_date=date(2032, 6, 27), term_extension_days=800,
                                    small_entity_reduction=Decimal("0.85"))
    years = by_year(rows)  # granted in year 18: the ten years would run to year 27
    assert years[20].small_entity_fee_fen == 1200 * RMB  # 15% of 8,000
    assert years[21].small_entity_fee_fen is None and years[21].applied_fee_fen == 8000 * RMB
