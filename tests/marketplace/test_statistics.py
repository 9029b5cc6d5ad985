"""The IP office's indicators on a small market whose every figure is computed by hand below.

Period: March 2026 (Asia/Shanghai). As of 1 August 2026 (so the 90-day cohort of March is mature).

    D1 field 1 (electrical)  university 北京  grade A  published 03-05 10:00
       L1 paid 1000.00 (refund 100.00) notice 03-20 → active 03-25 10:00, starts 03-25, recorded 05-01 (in time)
       L5 paid 1000.00                 notice 03-27 → active 03-28 10:00, starts 03-28, never recorded
       L2 paid  500.00                 notice 05-19 → active 05-20 10:00 (outside the period)
    D2 field 1 (electrical)  enterprise 江苏  grade B  royalty 3 %  published 03-10 10:00
       L3 nothing up front, not free   active 07-01 10:00 (113 days after publication: licensed, not quick)
    D3 field 15 (chemistry)  institute 北京   grade C  published 03-20 10:00, withdrawn 04-10 (still open at the end)
    D4 field 6 (electrical)  university 北京  grade B  lump sum 0  published 02-15 (before), withdrawn 03-28
       L4 free                          active 03-03 10:00, starts 03-03, recorded 06-10 (late: due 06-03)
    D5 field 1               published 04-02 (after the period)

    declarations published 3 (D1-D3), withdrawn 1 (D4); patents under open licence at the end 3 (D1-D3)
    licences concluded 3 (L1, L4, L5): free 1, paid 2; fee volume 900.00 + 1000.00 = 1900.00 → 190 000 fen
    quick-licence deal rate 1/3 (D1 in 20 days; D2 in 113; D3 never); overall conversion 2/3
    days to first licence 20 and 113: median 66.5, p90 20 + 0.9 × 93 = 103.7
    notice → payment (paid ones): L1 5 days, L5 1 day: median 3.0
    recording compliance: all three due by 08-01; only L1 in time: 1/3
    licences per licensed patent: 3 licences / 2 patents = 1.5
"""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from licensing.models import DeclarationState, FeeForm, RoyaltyBase
from licensing.models.licences import Licence, LicenceState, Payment
from marketplace.models import StatisticsSnapshot
from marketplace.office import statistics
from marketplace.parties.models import OrganisationKind
from tests.licensing.factories import DeclarationFactory, LicenceFactory, PaymentFactory, eligible_patent
from tests.parties.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 8, 1, 12, 0, tzinfo=SH)
MARCH = statistics.Period.month(2026, 3)


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


def declaration(*, field, kind, province, grade, published, withdrawn=None, **offer):
    holder = OrganisationFactory(kind=kind, province=province, is_holder=True)
    patent = eligible_patent(holder=holder, technology_field=field, grade_computed=grade)
    d = DeclarationFactory(patent=patent, holder=holder, state=DeclarationState.FILED, **offer)
    type(d).objects.filter(pk=d.pk).update(filed_at=published, withdrawn_at=withdrawn, withdrawal_reason="转让",
                                           state=DeclarationState.WITHDRAWN if withdrawn else DeclarationState.FILED)
    d.refresh_from_db()
    return d


def licence(d, *, active, notice=None, first_amount_fen=0, recorded=None, paid_fen=0, refunded_fen=0):
    made = LicenceFactory(
        declaration=d, state=LicenceState.ACTIVE, notice_field_of_use="制造", notice_submitted_at=notice or active,
        duration_years=3, first_amount_fen=first_amount_fen, starts_on=active.date(), activated_at=active,
        recorded_on=recorded, recording_number="2026990000123" if recorded else "")
    if paid_fen:
        PaymentFactory(licence=made, amount_fen=paid_fen, refunded_fen=refunded_fen, succeeded_at=active, due_on=None,
                       state=Payment.State.PARTIALLY_REFUNDED if refunded_fen else Payment.State.SUCCEEDED)
    return made


def build_market():
    """The market of the module docstring (also used by the dashboard's tests)."""
    uni, ent, inst = OrganisationKind.UNIVERSITY, OrganisationKind.ENTERPRISE, OrganisationKind.INSTITUTE
    d1 = declaration(field=1, kind=uni, province="北京市", grade="A", published=at(3, 5), lump_sum_fen=100_000)
    d2 = declaration(field=1, kind=ent, province="江苏省", grade="B", published=at(3, 10),
                     fee_form=FeeForm.ROYALTY, lump_sum_fen=None, royalty_base=RoyaltyBase.NET_SALES,
                     royalty_rate="3.00", annual_minimum_fen=0)
    declaration(field=15, kind=inst, province="北京市", grade="C", published=at(3, 20), withdrawn=at(4, 10))
    # A free declaration (lump sum 0): its licence is the one free licence of March. (Before issue 19 the default
    # RMB 50,000 lump sum stood here and the licence counted free only because nothing was paid up front.)
    d4 = declaration(field=6, kind=uni, province="北京市", grade="B", published=at(2, 15), withdrawn=at(3, 28),
                     lump_sum_fen=0)
    declaration(field=1, kind=uni, province="北京市", grade="A", published=at(4, 2))
    licence(d1, active=at(3, 25), notice=at(3, 20), first_amount_fen=100_000, paid_fen=100_000,
            refunded_fen=10_000, recorded=date(2026, 5, 1))
    licence(d1, active=at(3, 28), notice=at(3, 27), first_amount_fen=100_000, paid_fen=100_000)
    licence(d1, active=at(5, 20), notice=at(5, 19), first_amount_fen=50_000, paid_fen=50_000)
    licence(d2, active=at(7, 1))
    licence(d4, active=at(3, 3), recorded=date(2026, 6, 10))


@pytest.fixture
def market():
    build_market()


def test_every_indicator_of_the_month_matches_the_hand_computed_value(market):
    figures = statistics.indicators(statistics.Frames.load(), MARCH, as_of=AS_OF, n_days=90)
    expected = {
        "period": "2026-03", "quick_licence_days": 90,
        "declarations_published": 3, "declarations_withdrawn": 1, "patents_under_open_licence": 3,
        "licences_concluded": 3, "licences_free": 1, "licences_paid": 2, "fee_volume_fen": 190_000,
        "quick_licence_deal_rate": 0.3333, "quick_licence_rate_mature": True, "overall_conversion": 0.6667,
        "median_days_to_first_licence": 66.5, "p90_days_to_first_licence": 103.7,
        "median_days_notice_to_payment": 3.0, "recording_compliance": 0.3333, "licences_per_licensed_patent": 1.5,
    }
    assert {k: figures[k] for k in expected} == expected


def test_a_longer_window_and_an_earlier_as_of_change_what_they_should(market):
    frames = statistics.Frames.load()
    # With N = 120 days D2's licence after 113 days is quick too.
    assert statistics.indicators(frames, MARCH, as_of=AS_OF, n_days=120)["quick_licence_deal_rate"] == 0.6667
    # As of 1 June: D2 not licensed yet, the cohort not mature, L4 and L1 due (06-03 not yet), L5 not yet due.
    early = statistics.indicators(frames, MARCH, as_of=datetime(2026, 6, 1, tzinfo=SH), n_days=90)
    assert early["overall_conversion"] == 0.3333 and early["quick_licence_rate_mature"] is False
    assert early["recording_compliance"] is None  # nothing due yet: 03-25 + 3 months = 06-25, 03-03 → 06-03


def test_breakdowns_split_the_same_figures_by_field_sector_and_holder_kind(market):
    frames = statistics.Frames.load()
    by_field = {r["value"]: r for r in statistics.breakdown(frames, MARCH, "technology_field", as_of=AS_OF, n_days=90)}
    assert by_field[1]["declarations_published"] == 2 and by_field[1]["quick_licence_deal_rate"] == 0.5
    assert by_field[1]["licences_concluded"] == 2 and by_field[1]["fee_volume_fen"] == 190_000
    assert by_field[6]["declarations_withdrawn"] == 1 and by_field[6]["licences_free"] == 1
    assert by_field[15]["quick_licence_deal_rate"] == 0.0
    by_sector = {r["value"]: r for r in statistics.breakdown(frames, MARCH, "sector", as_of=AS_OF, n_days=90)}
    assert by_sector["electrical_engineering"]["licences_concluded"] == 3
    assert by_sector["chemistry"]["declarations_published"] == 1
    by_kind = {r["value"]: r for r in statistics.breakdown(frames, MARCH, "holder_kind", as_of=AS_OF, n_days=90)}
    assert by_kind["university"]["licences_concluded"] == 3 and by_kind["enterprise"]["overall_conversion"] == 1.0
    by_region = {r["value"]: r for r in statistics.breakdown(frames, MARCH, "region", as_of=AS_OF, n_days=90)}
    assert by_region["北京市"]["declarations_published"] == 2 and by_region["江苏省"]["declarations_published"] == 1
    # The published counts of one dimension add up to the total.
    assert sum(r["declarations_published"] for r in by_field.values()) == 3
    with pytest.raises(ValueError):
        statistics.breakdown(frames, MARCH, "colour")


def test_a_month_with_nothing_says_none_rather_than_zero_percent(market):
    empty = statistics.indicators(statistics.Frames.load(), statistics.Period.month(2025, 1), as_of=AS_OF)
    assert empty["declarations_published"] == 0 and empty["quick_licence_deal_rate"] is None
    assert empty["median_days_to_first_licence"] is None and empty["fee_volume_fen"] == 0


def test_the_monthly_snapshot_is_computed_once_and_stays_as_published(market, settings):
    out = io.StringIO()
    call_command("compute_statistics", "--month", "2026-03", stdout=out)
    snapshot = StatisticsSnapshot.objects.get(month=date(2026, 3, 1), quick_licence_days=90)
    assert snapshot.indicators["declarations_published"] == 3 and "computed" in out.getvalue()
    assert {r["value"] for r in snapshot.breakdowns["grade"]} >= {"A", "B", "C"}
    # A late licence does not change what was published, unless recomputed on purpose.
    d = snapshot.indicators
    licence(type(Licence.objects.first().declaration).objects.first(), active=at(3, 30))
    call_command("compute_statistics", "--month", "2026-03", stdout=io.StringIO())
    snapshot.refresh_from_db()
    assert snapshot.indicators == d
    call_command("compute_statistics", "--month", "2026-03", "--force", stdout=io.StringIO())
    snapshot.refresh_from_db()
    assert snapshot.indicators["licences_concluded"] == 4
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("compute_statistics", "--month", "2026-13")
