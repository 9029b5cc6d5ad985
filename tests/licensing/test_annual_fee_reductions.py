"""The open-licence reduction as granted, read from the database (licensing/declarations/fee_selectors.py):
only statutory licences recorded with CNIPA count, a withdrawal ends the reduction from the next patent year, a
small-entity holder takes the better reduction, and the declaration page shows both. Hand-computed figures;
runs on SQLite and PostgreSQL."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from licensing.declarations import fees
from licensing.declarations.fee_selectors import (
    annual_fee_calculator,
    open_licence_fee_reduction_granted,
    patent_annual_fees,
)
from licensing.models import DeclarationState
from licensing.models.licences import LicenceBasis
from patents.models import PatentCoOwner
from tests.licensing.factories import DeclarationFactory, LicenceFactory, eligible_patent, holder_member
from tests.parties.factories import HolderFactory

pytestmark = pytest.mark.django_db

RMB = 100
TODAY = date(2026, 12, 7)


def recorded_licence(patent, *, recorded_on, ends_on, basis=LicenceBasis.STATUTORY, **declared):
    declared.setdefault("state", DeclarationState.ANNOUNCED)
    if declared["state"] != DeclarationState.FILED:  # announced by CNIPA before the licence
        declared.update(cnipa_number=f"KF{recorded_on:%Y}{patent.pk:07d}", announced_on=date(2021, 12, 1))
    if declared["state"] == DeclarationState.WITHDRAWN:
        declared.setdefault("withdrawal_reason", "专利权人决定不再开放许可")
    declaration = DeclarationFactory(patent=patent, **declared)
    return LicenceFactory(declaration=declaration, active=True, starts_on=recorded_on.replace(day=1), ends_on=ends_on,
                          recorded_on=recorded_on, recording_number=f"2022990{recorded_on:%m%d}{patent.pk:05d}",
                          basis=basis)


@pytest.fixture
def withdrawn_invention():
    """Filed 16 March 2015, granted 20 September 2018 (year 4); a statutory licence recorded 10 May 2022 to
    9 May 2027; the declaration's withdrawal announced 1 August 2025. Reduced: years 9-11 (RMB 300 + 600 +
    600)."""
    patent = eligible_patent(filing_date=date(2015, 3, 16), grant_date=date(2018, 9, 20))
    recorded_licence(patent, recorded_on=date(2022, 5, 10), ends_on=date(2027, 5, 9), state=DeclarationState.WITHDRAWN,
                     withdrawal_announced_on=date(2025, 8, 1))
    return patent


@pytest.fixture
def small_entity_invention():
    """A small-entity holder's invention filed 10 June 2012, granted 5 November 2016 (year 5; the reduction
    covers years 5-14), a statutory licence recorded 10 January 2023 to 9 January 2030. The open-licence
    reduction is the better one from year 15 (10 June 2026) to year 18 (10 June 2029): 900 + 3 × 1,200."""
    holder = HolderFactory(fee_reduction_qualified=True)
    patent = eligible_patent(holder=holder, filing_date=date(2012, 6, 10), grant_date=date(2016, 11, 5))
    recorded_licence(patent, recorded_on=date(2023, 1, 10), ends_on=date(2030, 1, 9))
    return patent


def test_the_reduction_granted_counts_recorded_statutory_licences_only(withdrawn_invention, small_entity_invention):
    platform_only = eligible_patent(filing_date=date(2015, 3, 16), grant_date=date(2018, 9, 20))
    recorded_licence(platform_only, recorded_on=date(2022, 5, 10), ends_on=date(2027, 5, 9),
                     basis=LicenceBasis.PLATFORM, state=DeclarationState.FILED)

    granted = open_licence_fee_reduction_granted(today=TODAY)
    assert (granted.total_fen, granted.patents, granted.years) == ((1500 + 900) * RMB, 2, 4)
    assert granted.by_patent_fen == {withdrawn_invention.pk: 1500 * RMB, small_entity_invention.pk: 900 * RMB}
    # Years 12-14 of the small-entity holder paid 15% instead of 85%: no open-licence reduction in them.
    later = open_licence_fee_reduction_granted(today=date(2029, 12, 31))
    assert later.by_patent_fen == {withdrawn_invention.pk: 1500 * RMB, small_entity_invention.pk: 4500 * RMB}
    assert later.total_fen == 6000 * RMB
    assert open_licence_fee_reduction_granted(today=TODAY, holder=small_entity_invention.holder).total_fen == 900 * RMB
    # Since 1 January 2024: years 10 and 11 of the first (600 + 600) and year 15 of the second (900).
    assert open_licence_fee_reduction_granted(today=TODAY, since=date(2024, 1, 1)).total_fen == 2100 * RMB


def test_the_schedule_of_a_co_owned_small_entity_patent_takes_seventy_percent(small_entity_invention):
    PatentCoOwner.objects.create(patent=small_entity_invention, name="某某大学")
    years = {r.patent_year: r for r in patent_annual_fees(patent=small_entity_invention)}
    assert (years[12].small_entity_fee_fen, years[12].open_licence_fee_fen, years[12].applied_fee_fen) == (
        1200 * RMB, 3400 * RMB, 1200 * RMB)  # 30% of 4,000 beats 85% of it
    assert years[12].rule == fees.FeeRule.SMALL_ENTITY


def test_the_calculator_projects_a_recording_today_when_none_is_recorded():
    patent = eligible_patent(filing_date=date(2021, 3, 15), grant_date=date(2023, 6, 20))
    declaration = DeclarationFactory(patent=patent, state=DeclarationState.FILED, duration_years=3)
    calc = annual_fee_calculator(declaration=declaration, today=date(2025, 1, 10))
    assert calc.projected and calc.granted_fen == 0
    # Year 4 fell due 15 March 2024 (before "today"); years 5-7 (due 2025-2027) fall in the assumed term
    # 10 January 2025 - 10 January 2028.
    assert [(r.patent_year, r.applied_fee_fen) for r in calc.rows[:5]] == [
        (4, 1200 * RMB), (5, 1020 * RMB), (6, 1020 * RMB), (7, 1700 * RMB), (8, 2000 * RMB)]


def page(client, declaration, query=""):
    with translation.override("en"):
        url = reverse("declaration_detail", args=[declaration.pk])
    html = client.get(url + query, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    return html.split('id="annual-fees"')[1].split("</section>")[0]


def test_the_declaration_page_shows_the_reduction_granted_and_each_years_rule(client, withdrawn_invention):
    client.force_login(holder_member(withdrawn_invention.holder))
    calculator = page(client, withdrawn_invention.declarations.get())
    assert "¥1,500.00" in calculator  # granted: years 9-11 (300 + 600 + 600)
    # The remaining years (from the current one, year 12 or later) pay the standard fee: the last, year 20
    # (due 16 March 2034), RMB 8,000, after the licence's term.
    assert 'data-year="20" data-rule="annual_fee_standard"' in calculator
    assert "¥8,000.00" in calculator and "after the recorded licence" in calculator


def test_the_small_entity_input_shows_and_hides_that_reduction(client, small_entity_invention):
    client.force_login(holder_member(small_entity_invention.holder))
    declaration = small_entity_invention.declarations.get()
    qualified, not_qualified = page(client, declaration), page(client, declaration, "?small_entity=0")
    assert 'value="1" checked' in qualified and 'value="1" checked' not in not_qualified
    assert 'data-rule="small_entity_fee_reduction"' not in not_qualified
    # Year 18 (due 10 June 2029) is past the ten small-entity years: the open-licence reduction, RMB 6,800.
    assert 'data-year="18" data-rule="annual_fee_reduction"' in qualified
    assert "¥6,800.00" in qualified
