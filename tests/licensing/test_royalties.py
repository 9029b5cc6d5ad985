"""Royalties: the computation and its rounding, licence years and report periods, the annual-minimum
top-up with and without the notice credit, invoices and due dates, arrears, permissions, and one invoice
paid by card through the real localstripe."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import stripe
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from licensing.exceptions import LicensingError, NotAllowed
from licensing.licences import services as licence_services
from licensing.models import FeeForm, RoyaltyBase
from licensing.models.licences import LedgerAccount, LedgerEntry, Licence, LicenceState, Payment, RoyaltyReport
from licensing.royalties.services import (
    add_years,
    licence_years,
    royalty_amount_fen,
    royalty_arrears,
    royalty_report_file,
    royalty_report_status,
)
from tests.licensing.factories import DeclarationFactory, LicenceFactory, PaymentFactory
from tests.parties.factories import IPOfficeFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db

MINIMUM = 1_000_000  # RMB 10,000 a year
START = date(2024, 1, 1)
AFTER_TERM = date(2027, 6, 1)  # "today" for service calls, when every period of the term is over


def royalty_licence(*, fee_form=FeeForm.ROYALTY, rate=Decimal("5.00"), minimum=MINIMUM, entry_fee=None,
                    starts_on=START, years=3, state=LicenceState.ACTIVE, first_paid=True) -> Licence:
    """An active royalty licence built with the ORM as licence_notice_submit + payment would leave it,
    with its first amount (the year-1 minimum or the entry fee) paid at notice."""
    declaration = DeclarationFactory(fee_form=fee_form, lump_sum_fen=None, royalty_base=RoyaltyBase.NET_SALES,
                                     royalty_rate=rate, annual_minimum_fen=minimum, entry_fee_fen=entry_fee,
                                     duration_years=years)
    licence = LicenceFactory(declaration=declaration, state=state, notice_contact_name="李四",
                             notice_field_of_use="电池管理系统", starts_on=starts_on,
                             ends_on=add_years(starts_on, years) - timedelta(days=1), activated_at=timezone.now())
    licence.certificate_number = f"OL{starts_on:%Y}{licence.pk:08d}"
    licence.save(update_fields=["certificate_number"])
    if first_paid and licence.first_amount_fen:
        # Without a stored fee rate, as this builder has always made it.
        PaymentFactory(licence=licence, paid=True, platform_fee_rate=None, due_on=starts_on)
    return licence


def member_of(organisation):
    return member(organisation)


def file(licence, start, end, base, *, by=None, today=AFTER_TERM):
    return royalty_report_file(licence=licence, period_start=start, period_end=end, base_amount_fen=base,
                               by=by or member_of(licence.licensee), today=today)


def quarters(year_start: date) -> list[tuple[date, date]]:
    y = year_start.year
    return [(date(y, 1, 1), date(y, 3, 31)), (date(y, 4, 1), date(y, 6, 30)), (date(y, 7, 1), date(y, 9, 30)),
            (date(y, 10, 1), date(y, 12, 31))]


# --- the computation --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base", "rate", "royalty"), [
    (1_000_001, "3.33", 33_300),  # 33,300.03333 → down
    (1_000_015, "3.33", 33_300),  # 33,300.4995 → down
    (1_000_016, "3.33", 33_301),  # 33,300.5328 → up
    (150, "1", 2),  # exactly half → up (ROUND_HALF_UP, not banker's rounding)
    (250, "1", 3),  # banker's rounding would give 2
    (149, "1", 1),
    (0, "20", 0),
    (10**15 + 1, "0.01", 100_000_000_000),  # no float: 1e15 fen stays exact
    (123_456_789, "100", 123_456_789),
])
def test_royalty_is_base_times_rate_rounded_half_up_to_the_fen(base, rate, royalty):
    assert royalty_amount_fen(base, Decimal(rate)) == royalty


def test_licence_years_run_from_the_start_and_stop_at_the_end_of_the_term():
    licence = royalty_licence(starts_on=date(2024, 2, 29), years=2)
    licence.ends_on = date(2025, 12, 31)  # the patent expires first
    years = licence_years(licence)
    assert [(y.number, y.start, y.end) for y in years] == [
        (1, date(2024, 2, 29), date(2025, 2, 27)),
        (2, date(2025, 2, 28), date(2025, 12, 31)),
    ]


def test_a_report_computes_the_royalty_and_becomes_an_invoice_due_30_days_after_the_period():
    licence = royalty_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, rate=Decimal("3.33"), entry_fee=500_000, minimum=None)
    report = file(licence, date(2024, 1, 1), date(2024, 3, 31), 1_000_001)
    assert (report.royalty_fen, report.minimum_topup_fen, report.amount_due_fen) == (33_300, 0, 33_300)
    assert report.due_on == date(2024, 4, 30)
    payment = report.payment
    assert payment.purpose == Payment.Purpose.ROYALTY and payment.state == Payment.State.CREATED
    assert (payment.amount_fen, payment.charge_fen, payment.voucher_fen) == (33_300, 33_300, 0)
    assert payment.due_on == date(2024, 4, 30) and payment.licence == licence


def test_a_royalty_due_date_on_a_holiday_moves_to_the_next_working_day():
    # Civil Code arts. 201 and 203: 8 September 2025 + 30 days = 8 October, the last day of the National Day
    # holiday (1-8 October 2025), so the invoice is due on Thursday 9 October. 11 September + 30 days is
    # Saturday 11 October, a working day in the 2025 holiday arrangement: it stays.
    licence = royalty_licence(rate=Decimal("5.00"), minimum=None, starts_on=date(2025, 7, 1), years=1)
    first = file(licence, date(2025, 7, 1), date(2025, 9, 8), 100_000, today=date(2025, 12, 1))
    assert (first.due_on, first.payment.due_on) == (date(2025, 10, 9), date(2025, 10, 9))
    second = file(licence, date(2025, 9, 9), date(2025, 9, 11), 100_000, today=date(2025, 12, 1))
    assert second.due_on == date(2025, 10, 11)


# --- the annual minimum -------------------------------------------------------------------------------------

def test_the_report_closing_a_year_tops_up_to_the_annual_minimum():
    # Entry fee plus royalty: the entry fee is not a prepayment of royalties, so no credit.
    licence = royalty_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    reports = [file(licence, start, end, 2_000_000) for start, end in quarters(START)]
    assert [r.royalty_fen for r in reports] == [100_000] * 4
    assert [r.minimum_topup_fen for r in reports] == [0, 0, 0, 600_000]
    assert [r.amount_due_fen for r in reports] == [100_000, 100_000, 100_000, 700_000]
    assert sum(r.amount_due_fen for r in reports) == MINIMUM
    assert reports[3].payment.amount_fen == 700_000


def test_no_top_up_when_the_royalties_exceed_the_minimum():
    licence = royalty_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    report = file(licence, date(2024, 1, 1), date(2024, 12, 31), 30_000_000)
    assert (report.royalty_fen, report.minimum_topup_fen, report.amount_due_fen) == (1_500_000, 0, 1_500_000)


def test_year_one_of_a_pure_royalty_licence_credits_the_minimum_paid_at_notice():
    licence = royalty_licence()  # the notice payment (RMB 10,000) was year 1's minimum
    q1 = file(licence, date(2024, 1, 1), date(2024, 3, 31), 6_000_000)  # royalty 300,000: covered by the credit
    assert (q1.royalty_fen, q1.minimum_topup_fen, q1.amount_due_fen, q1.payment) == (300_000, 0, 0, None)
    assert royalty_report_status(q1) == "settled"
    rest = file(licence, date(2024, 4, 1), date(2024, 12, 31), 18_000_000)  # royalty 900,000; 700,000 credit left
    assert (rest.royalty_fen, rest.minimum_topup_fen, rest.amount_due_fen) == (900_000, 0, 200_000)
    # Over the year: max(minimum, royalties) = 1,200,000, of which 1,000,000 was paid at notice.
    assert MINIMUM + q1.amount_due_fen + rest.amount_due_fen == 1_200_000


def test_year_one_below_the_minimum_owes_nothing_more_but_year_two_is_topped_up():
    licence = royalty_licence()
    year1 = [file(licence, start, end, 2_000_000) for start, end in quarters(START)]
    assert [(r.royalty_fen, r.minimum_topup_fen, r.amount_due_fen) for r in year1] == [(100_000, 0, 0)] * 4
    assert RoyaltyReport.objects.filter(licence=licence, payment__isnull=False).count() == 0
    year2 = file(licence, date(2025, 1, 1), date(2025, 12, 31), 8_000_000)  # royalty 400,000, no credit in year 2
    assert (year2.royalty_fen, year2.minimum_topup_fen, year2.amount_due_fen) == (400_000, 600_000, 1_000_000)
    assert year2.payment.amount_fen == 1_000_000 and year2.due_on == date(2026, 1, 30)


def test_without_a_paid_notice_amount_there_is_no_credit():
    licence = royalty_licence(first_paid=False)
    report = file(licence, date(2024, 1, 1), date(2024, 12, 31), 8_000_000)
    assert (report.royalty_fen, report.minimum_topup_fen, report.amount_due_fen) == (400_000, 600_000, 1_000_000)


def test_a_licence_without_a_minimum_owes_only_its_royalties():
    licence = royalty_licence(minimum=None)
    report = file(licence, date(2024, 1, 1), date(2024, 12, 31), 0)
    assert (report.royalty_fen, report.minimum_topup_fen, report.amount_due_fen, report.payment) == (0, 0, 0, None)


# --- periods ----------------------------------------------------------------------------------------------

def _errors(licence, start, end, base=1_000, **kwargs) -> dict:
    with pytest.raises(ValidationError) as exc:
        file(licence, start, end, base, **kwargs)
    return exc.value.message_dict


def test_period_validation_names_the_field():
    licence = royalty_licence()
    assert "period_start" in _errors(licence, date(2023, 12, 1), date(2024, 3, 31))  # before the licence
    assert "period_start" in _errors(licence, date(2024, 2, 1), date(2024, 3, 31))  # leaves a gap
    assert "period_end" in _errors(licence, date(2024, 1, 1), date(2023, 12, 31))  # ends before it begins
    assert "period_end" in _errors(licence, date(2024, 1, 1), date(2025, 3, 31))  # crosses into year 2
    assert "period_end" in _errors(licence, date(2024, 1, 1), date(2024, 3, 31), today=date(2024, 3, 30))  # not over
    assert "base_amount_fen" in _errors(licence, date(2024, 1, 1), date(2024, 3, 31), base=-1)
    assert "2024-01-01" in _errors(licence, date(2024, 2, 1), date(2024, 3, 31))["period_start"][0]

    file(licence, date(2024, 1, 1), date(2024, 3, 31), 1_000)
    overlap = _errors(licence, date(2024, 3, 1), date(2024, 6, 30))
    assert "period_start" in overlap and "2024-04-01" in overlap["period_start"][0]
    assert "period_start" in _errors(licence, date(2024, 1, 1), date(2024, 3, 31))  # the same period again
    assert RoyaltyReport.objects.filter(licence=licence).count() == 1


def test_a_year_is_reported_in_at_most_four_reports():
    licence = royalty_licence()
    for start, end in [(date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 2, 1), date(2024, 2, 29)),
                       (date(2024, 3, 1), date(2024, 3, 31))]:
        file(licence, start, end, 1_000)
    assert "period_end" in _errors(licence, date(2024, 4, 1), date(2024, 6, 30))  # a 4th that does not close
    closing = file(licence, date(2024, 4, 1), date(2024, 12, 31), 1_000)
    assert closing.minimum_topup_fen == 0  # the credit paid year 1's minimum


def test_periods_lie_inside_the_licence_term():
    licence = royalty_licence(years=1)
    file(licence, date(2024, 1, 1), date(2024, 12, 31), 1_000)
    assert "period_end" in _errors(licence, date(2025, 1, 1), date(2025, 3, 31))


# --- who may file ----------------------------------------------------------------------------------------

def test_only_members_of_the_licensee_file_reports():
    licence = royalty_licence()
    with pytest.raises(NotAllowed):
        file(licence, date(2024, 1, 1), date(2024, 3, 31), 1_000, by=member_of(licence.licensor))
    with pytest.raises(NotAllowed):
        file(licence, date(2024, 1, 1), date(2024, 3, 31), 1_000, by=member_of(OrganisationFactory()))
    assert not RoyaltyReport.objects.exists() and not Payment.objects.filter(purpose=Payment.Purpose.ROYALTY).exists()


def test_only_active_royalty_licences_take_reports():
    terminated = royalty_licence(state=LicenceState.TERMINATED)
    with pytest.raises(LicensingError):
        file(terminated, date(2024, 1, 1), date(2024, 3, 31), 1_000)
    lump = royalty_licence()
    Licence.objects.filter(pk=lump.pk).update(fee_form=FeeForm.LUMP_SUM, royalty_rate=None, lump_sum_fen=100)
    lump.refresh_from_db()
    with pytest.raises(LicensingError):
        file(lump, date(2024, 1, 1), date(2024, 3, 31), 1_000)


# --- arrears ---------------------------------------------------------------------------------------------

def test_arrears_list_unpaid_invoices_past_due_with_days_past_due():
    licence = royalty_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    q1, q2, q3 = [file(licence, start, end, 2_000_000) for start, end in quarters(START)[:3]]
    Payment.objects.filter(pk=q2.payment_id).update(state=Payment.State.SUCCEEDED)  # paid: never in arrears
    today = date(2024, 11, 15)  # q1 due 2024-04-30, q3 due 2024-10-30
    licensee_user = member_of(licence.licensee)
    rows = royalty_arrears(user=licensee_user, today=today)
    assert [(r.report.pk, r.days_past_due, r.amount_fen) for r in rows] == [(q1.pk, 199, 100_000), (q3.pk, 16, 100_000)]
    assert [r.report.pk for r in royalty_arrears(user=licensee_user, today=date(2024, 10, 30))] == [q1.pk]  # due today
    assert [r.report.pk for r in royalty_arrears(user=member_of(licence.licensor), today=today)] == [q1.pk, q3.pk]
    assert royalty_arrears(user=member_of(OrganisationFactory()), today=today) == []
    other = royalty_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    other_report = file(other, date(2024, 1, 1), date(2024, 3, 31), 1_000_000)
    ip_office = member_of(IPOfficeFactory())
    assert {r.report.pk for r in royalty_arrears(user=ip_office, today=today)} == {q1.pk, q3.pk, other_report.pk}
    assert royalty_report_status(q1, today=today) == "overdue"
    assert royalty_report_status(RoyaltyReport.objects.get(pk=q2.pk), today=today) == "paid"


# --- pages -----------------------------------------------------------------------------------------------

def _recent_licence(**kwargs) -> Licence:
    """A licence that started about 400 days ago, so its first quarter is over by the real clock."""
    return royalty_licence(starts_on=timezone.localdate() - timedelta(days=400), **kwargs)


def test_licensee_files_a_report_on_the_page_and_sees_its_invoice(client):
    licence = _recent_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    user = member_of(licence.licensee)
    client.force_login(user)
    url = reverse("royalty_reports", args=[licence.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"royalty-report-form" in page.content
    start = licence.starts_on
    response = client.post(url, {"period_start": start.isoformat(),
                                 "period_end": (start + timedelta(days=89)).isoformat(), "base_amount": "10000.01"})
    report = RoyaltyReport.objects.get(licence=licence)
    assert response.status_code == 302 and response["Location"] == reverse("royalty_invoice", args=[report.pk])
    assert report.base_amount_fen == 1_000_001 and report.royalty_fen == 50_000
    invoice = client.get(reverse("royalty_invoice", args=[report.pk]))
    content = invoice.content.decode()
    assert 'id="payment"' in content and reverse("royalty_invoice_pay", args=[report.pk]) in content
    assert reverse("royalty_invoice_return", args=[report.pk]) in content and "pay.js" in content
    bad = client.post(url, {"period_start": (start + timedelta(days=200)).isoformat(),
                            "period_end": (start + timedelta(days=300)).isoformat(), "base_amount": "1"})
    assert bad.status_code == 200 and bad.context["form"].errors["period_start"]


def test_licensor_sees_but_cannot_file_and_other_organisations_get_404(client):
    licence = _recent_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    report = royalty_report_file(licence=licence, period_start=licence.starts_on,
                                 period_end=licence.starts_on + timedelta(days=89), base_amount_fen=1_000_000,
                                 by=member_of(licence.licensee))
    url = reverse("royalty_reports", args=[licence.pk])
    client.force_login(member_of(licence.licensor))
    assert client.get(url).status_code == 200
    invoice = client.get(reverse("royalty_invoice", args=[report.pk]))
    assert invoice.status_code == 200 and b'id="payment"' not in invoice.content
    start = licence.starts_on + timedelta(days=90)
    posted = client.post(url, {"period_start": start.isoformat(), "period_end": (start + timedelta(days=30)).isoformat(),
                               "base_amount": "1"})
    assert posted.status_code == 403 and RoyaltyReport.objects.filter(licence=licence).count() == 1
    assert client.post(reverse("royalty_invoice_pay", args=[report.pk]), "{}",
                       content_type="application/json").status_code == 404
    client.force_login(member_of(OrganisationFactory()))
    assert client.get(url).status_code == 404
    assert client.get(reverse("royalty_invoice", args=[report.pk])).status_code == 404
    assert client.post(reverse("royalty_invoice_pay", args=[report.pk]), "{}",
                       content_type="application/json").status_code == 404
    client.force_login(member_of(IPOfficeFactory()))
    assert client.get(url).status_code == 200


def test_arrears_page_shows_days_past_due(client):
    licence = _recent_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    report = royalty_report_file(licence=licence, period_start=licence.starts_on,
                                 period_end=licence.starts_on + timedelta(days=89), base_amount_fen=1_000_000,
                                 by=member_of(licence.licensee))
    client.force_login(member_of(IPOfficeFactory()))
    page = client.get(reverse("royalty_arrears"))
    days = (timezone.localdate() - report.due_on).days
    assert page.status_code == 200 and f'<td class="days-past-due">{days}</td>' in page.content.decode()
    client.force_login(member_of(OrganisationFactory()))
    assert b"days-past-due" not in client.get(reverse("royalty_arrears")).content


# --- paying through Stripe (localstripe) --------------------------------------------------------------------

def test_a_royalty_invoice_is_paid_by_card_through_localstripe(settings, localstripe_url, client):
    settings.STRIPE_API_BASE = localstripe_url
    licence = royalty_licence(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, entry_fee=500_000)
    report = file(licence, date(2024, 1, 1), date(2024, 3, 31), 1_000_001)
    token = stripe.Token.create(card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                                api_key="sk_test_x")

    result = licence_services.payment_pay_with_card(payment=report.payment, token_id=token.id)

    assert result["status"] == "succeeded"
    payment = Payment.objects.get(pk=report.payment_id)
    assert payment.state == Payment.State.SUCCEEDED and payment.stripe_payment_intent_id
    entries = LedgerEntry.objects.filter(payment=payment)
    assert entries.aggregate(total=Sum("amount_fen"))["total"] == 0
    assert entries.get(account=LedgerAccount.CARD_CLEARING).amount_fen == report.amount_due_fen == 50_000
    assert Licence.objects.get(pk=licence.pk).state == LicenceState.ACTIVE
    assert royalty_arrears(user=member_of(licence.licensee), today=date(2025, 1, 1)) == []
    client.force_login(member_of(licence.licensee))
    again = client.post(reverse("royalty_invoice_pay", args=[report.pk]), json.dumps({"token": token.id}),
                        content_type="application/json")
    assert again.status_code == 409  # nothing left to pay
