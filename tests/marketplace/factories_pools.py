"""Builders for the pool tests: active licences with their payments and royalty reports written directly
(as the licensing services would have left them), and the hand-computed market of test_pools.py."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from licensing.models import DeclarationState, FeeForm, RoyaltyBase
from licensing.models.licences import LicenceState, Payment
from tests.licensing.factories import (
    DeclarationFactory,
    LicenceFactory,
    PaymentFactory,
    RoyaltyReportFactory,
    eligible_patent,
)
from tests.parties.factories import HolderFactory, OrganisationFactory

SH = ZoneInfo("Asia/Shanghai")


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=SH)


def paid(licence, *, amount_fen, on, purpose=Payment.Purpose.FIRST_AMOUNT, due_on=None):
    return PaymentFactory(licence=licence, paid=True, platform_fee_rate=None, purpose=purpose, amount_fen=amount_fen,
                          succeeded_at=noon(on), due_on=due_on)


def report(licence, *, start, end, base_fen, royalty_fen, due_fen, due_on, paid_on=None):
    """A royalty report and its invoice: paid on ``paid_on``, or still awaiting the card."""
    payment = None
    if due_fen:
        settled = {"paid": True, "platform_fee_rate": None, "succeeded_at": noon(paid_on)} if paid_on else {}
        payment = PaymentFactory(licence=licence, purpose=Payment.Purpose.ROYALTY, amount_fen=due_fen, due_on=due_on,
                                 **settled)
    return RoyaltyReportFactory(licence=licence, period_start=start, period_end=end, base_amount_fen=base_fen,
                                royalty_fen=royalty_fen, amount_due_fen=due_fen, due_on=due_on, payment=payment)


def active_licence(*, holder, licensee, starts_on, ends_on, fee_form=FeeForm.ROYALTY, royalty_rate=None,
                   annual_minimum_fen=None, entry_fee_fen=None, lump_sum_fen=None, field=1, grade="B",
                   filing_date=date(2015, 3, 1), recorded_on=None, pledged=False, first_amount_fen=0):
    """An active licence of a new published declaration of a new patent of the holder."""
    patent = eligible_patent(holder=holder, technology_field=field, grade_computed=grade, filing_date=filing_date,
                             grant_date=filing_date.replace(year=filing_date.year + 2), pledged=pledged)
    offer = {"fee_form": fee_form, "lump_sum_fen": lump_sum_fen, "entry_fee_fen": entry_fee_fen,
             "royalty_base": RoyaltyBase.NET_SALES if royalty_rate is not None else "",
             "royalty_rate": royalty_rate, "annual_minimum_fen": annual_minimum_fen}
    declaration = DeclarationFactory(patent=patent, holder=holder, state=DeclarationState.FILED, **offer)
    type(declaration).objects.filter(pk=declaration.pk).update(filed_at=noon(starts_on))
    return LicenceFactory(
        declaration=declaration, licensee=licensee, state=LicenceState.ACTIVE, notice_field_of_use="储能设备制造",
        notice_submitted_at=noon(starts_on), duration_years=ends_on.year - starts_on.year,
        first_amount_fen=first_amount_fen, starts_on=starts_on, ends_on=ends_on, activated_at=noon(starts_on),
        certificate_number=f"OL{licensee.pk:04d}{patent.pk:06d}", recorded_on=recorded_on,
        recording_number="2025110000123" if recorded_on else "", **offer)


def build_pool_market():
    """The market of test_pools.py's docstring. Returns the licences by letter and the parties."""
    h1, h2 = HolderFactory(name_zh="甲大学"), HolderFactory(name_zh="乙研究院")
    l1, l2, l3 = OrganisationFactory(province="江苏省"), OrganisationFactory(), OrganisationFactory()
    a = active_licence(holder=h1, licensee=l1, starts_on=date(2024, 7, 1), ends_on=date(2027, 6, 30),
                       royalty_rate=Decimal("5.00"), field=1, grade="A", recorded_on=date(2024, 8, 1))
    report(a, start=date(2024, 7, 1), end=date(2024, 12, 31), base_fen=18_400_000, royalty_fen=920_000,
           due_fen=920_000, due_on=date(2025, 1, 30), paid_on=date(2025, 1, 20))
    report(a, start=date(2025, 1, 1), end=date(2025, 6, 30), base_fen=18_100_000, royalty_fen=905_000,
           due_fen=905_000, due_on=date(2025, 7, 30), paid_on=date(2025, 7, 15))
    b = active_licence(holder=h1, licensee=l3, starts_on=date(2024, 9, 1), ends_on=date(2026, 8, 31),
                       fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee_fen=1_000_000, royalty_rate=Decimal("2.00"),
                       annual_minimum_fen=500_000, field=1, grade="B", filing_date=date(2006, 3, 1),
                       first_amount_fen=1_000_000, pledged=True)
    paid(b, amount_fen=1_000_000, on=date(2024, 9, 1))
    c = active_licence(holder=h2, licensee=l2, starts_on=date(2025, 1, 1), ends_on=date(2027, 12, 31),
                       fee_form=FeeForm.LUMP_SUM, lump_sum_fen=3_000_000, field=6, grade="A",
                       first_amount_fen=3_000_000)
    paid(c, amount_fen=3_000_000, on=date(2025, 1, 1))
    d = active_licence(holder=h2, licensee=l2, starts_on=date(2025, 1, 1), ends_on=date(2026, 12, 31),
                       royalty_rate=Decimal("4.00"), annual_minimum_fen=200_000, field=6, grade="C",
                       first_amount_fen=200_000)
    paid(d, amount_fen=200_000, on=date(2025, 1, 1))
    report(d, start=date(2025, 1, 1), end=date(2025, 3, 31), base_fen=9_000_000, royalty_fen=360_000,
           due_fen=160_000, due_on=date(2025, 4, 30))
    e = active_licence(holder=h2, licensee=l1, starts_on=date(2025, 1, 1), ends_on=date(2026, 12, 31),
                       royalty_rate=Decimal("5.00"), field=6, grade="B")
    report(e, start=date(2025, 1, 1), end=date(2025, 6, 30), base_fen=3_620_000, royalty_fen=181_000,
           due_fen=181_000, due_on=date(2025, 7, 30), paid_on=date(2025, 7, 20))
    return {"A": a, "B": b, "C": c, "D": d, "E": e}, {"H1": h1, "H2": h2, "L1": l1, "L2": l2, "L3": l3}
