"""The IP office's dashboard through HTTP: who may see it, the figures of the hand-computed market of
test_statistics.py, filters and breakdowns, trends from published snapshots, the drill-down list and the
exports (CSV cells neutralised)."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.marketplace.test_statistics import build_market
from tests.parties.factories import IPOfficeFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
MARCH = {"first": "2026-03", "last": "2026-03"}


@pytest.fixture
def market():
    build_market()


@pytest.fixture
def officer(client):
    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    return client


def _get(client, name="office_statistics", **params):
    with translation.override("en"):
        return client.get(reverse(name), params)


def test_only_the_ip_office_sees_the_statistics(client, market):
    assert _get(client).status_code == 302  # to the login page
    client.force_login(MembershipFactory().user)
    assert _get(client).status_code == 404
    assert _get(client, "office_statistics_declarations").status_code == 404
    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    response = _get(client)
    assert response.status_code == 200 and "Quick-licence deal rate" in response.content.decode()
    client.force_login(UserFactory(is_superuser=True))
    assert _get(client).status_code == 200


def test_the_page_shows_the_hand_computed_figures_and_defines_the_deal_rate(officer, market):
    body = _get(officer, **MARCH).content.decode()
    assert '<span class="headline" data-figure="quick_licence_deal_rate">33.3%</span>' in body
    assert "within 90 days of publication" in body
    for key, shown in [("declarations_published", "3"), ("licences_concluded", "3"), ("fee_volume_fen", "¥1,900.00"),
                       ("overall_conversion", "66.7%"), ("median_days_to_first_licence", "66.5"),
                       ("recording_compliance", "33.3%"), ("licences_per_licensed_patent", "1.5")]:
        assert f"<td data-figure=\"{key}\">{shown}</td>" in body, key


def test_filters_and_breakdowns_narrow_the_same_figures(officer, market):
    body = _get(officer, **MARCH, fee_form="royalty").content.decode()
    assert '<td data-figure="declarations_published">1</td>' in body
    body = _get(officer, **MARCH, by="holder_kind").content.decode()
    assert 'data-value="university"' in body and 'data-value="enterprise"' in body
    assert _get(officer, first="2026-05", last="2026-03").status_code == 400
    assert _get(officer, first="2020-01", last="2026-03").status_code == 400  # more than 36 months


def test_the_trend_reads_published_snapshots_and_computes_the_other_months(officer, market):
    call_command("compute_statistics", "--month", "2026-03", stdout=io.StringIO())
    body = _get(officer, first="2026-02", last="2026-04").content.decode()
    march = body.split('data-month="2026-03"')[1].split("</tr>")[0]
    april = body.split('data-month="2026-04"')[1].split("</tr>")[0]
    assert "published snapshot" in march and "live" in april


def test_the_drill_down_lists_the_declarations_of_the_cohort(officer, market):
    response = _get(officer, "office_statistics_declarations", **MARCH, technology_field="1")
    rows = response.content.decode().split('<table class="data" id="declarations">')[1].count("<tr>") - 1
    assert response.status_code == 200 and rows == 2
    csv_body = _get(officer, "office_statistics_declarations", **MARCH, export="csv").content.decode("utf-8-sig")
    assert csv_body.splitlines()[0].startswith("announcement_number,patent_number,title")
    assert len(csv_body.strip().splitlines()) == 4  # header + D1, D2, D3
    assert csv_body.count(",True,") == 1  # only D1 was licensed quickly


def test_every_table_exports_and_formula_cells_are_neutralised(officer, market):
    from licensing.models import Declaration

    holder = Declaration.objects.get(filed_at__date=date(2026, 3, 10)).holder
    type(holder).objects.filter(pk=holder.pk).update(province="=HYPERLINK(\"http://x\")")
    for table in ("figures", "breakdown", "trend"):
        response = _get(officer, **MARCH, by="region", export="csv", table=table)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    breakdown = _get(officer, **MARCH, by="region", export="csv", table="breakdown").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in breakdown and "\n=HYPERLINK" not in breakdown
    workbook = openpyxl.load_workbook(io.BytesIO(_get(officer, **MARCH, export="xlsx").content))
    assert workbook.sheetnames == ["figures", "breakdown", "trend", "league", "flows", "funnel", "withdrawals"]
    values = {row[0]: row[2] for row in workbook["figures"].iter_rows(min_row=2, values_only=True)}
    # Issue 19: money is exported in yuan under a name that says so (it was "1900.00" under fee_volume_fen).
    assert values["fee_volume_yuan"] == 1900 and values["quick_licence_deal_rate"] == 0.3333
    assert "fee_volume_fen" not in values


def test_the_filter_form_sent_untouched_narrows_nothing(officer, market):
    page = _get(officer, **MARCH).content.decode()
    assert '<option value="" selected>Any</option>' in page.split('name="technology_field"')[1][:200]
    untouched = _get(officer, **MARCH, technology_field="", sector="", holder_kind="", fee_form="", grade="", region="")
    assert '<td data-figure="declarations_published">3</td>' in untouched.content.decode()


def _yuan(shown: str) -> Decimal:
    return Decimal(shown.removeprefix("¥").replace(",", ""))


def _figures(client, **params):
    body = _get(client, **params).content.decode()
    return {key: body.split(f'<td data-figure="{key}">')[1].split("</td>")[0]
            for key in ("declarations_published", "licences_concluded", "fee_volume_fen")}


def test_a_declaration_a_licence_and_a_payment_are_seen_by_the_next_request(officer, market):
    from licensing.declarations import services as declarations
    from licensing.licences import services as licences
    from licensing.models.licences import Payment
    from tests.licensing.factories import DeclarationFactory, holder_admin
    from tests.parties.factories import OrganisationFactory

    before = _figures(officer)  # the default period: the last twelve months, today's included
    assert before == _figures(officer)
    draft = DeclarationFactory()
    declaration = declarations.declaration_file(declaration=draft, by=holder_admin(draft.holder))
    published = _figures(officer)
    assert int(published["declarations_published"]) == int(before["declarations_published"]) + 1
    licensee = OrganisationFactory(is_licensee=True, is_holder=False)
    user = MembershipFactory(organisation=licensee).user
    licence = licences.licence_notice_submit(
        declaration=declaration, licensee=licensee, by=user, legal_name=licensee.name_zh, uscc=licensee.uscc,
        contact_name="王经理", contact_email=user.email, contact_phone="", field_of_use="储能",
        accepted_terms_sha256=declaration.terms_version.sha256)
    licence = licences.licence_activate(licence=licence)
    licensed = _figures(officer)
    assert int(licensed["licences_concluded"]) == int(published["licences_concluded"]) + 1
    # A royalty invoice paid in full by voucher: no card charge, so no payment service is involved.
    invoice = Payment.objects.create(licence=licence, purpose=Payment.Purpose.ROYALTY, amount_fen=12_300,
                                     voucher_fen=12_300, charge_fen=0, state=Payment.State.REQUIRES_PAYMENT)
    licences.payment_mark_succeeded(payment_id=invoice.pk, intent=None)
    paid = _figures(officer)
    assert _yuan(paid["fee_volume_fen"]) == _yuan(licensed["fee_volume_fen"]) + Decimal("123.00")


def test_the_board_is_cached_until_the_facts_change_through_the_services(officer, market):
    from licensing.models import Declaration
    from marketplace.office.cache import statistics_changed

    assert _figures(officer, **MARCH)["declarations_published"] == "3"
    # Behind the services' back (no listener hears it) the cached board stays as it was...
    Declaration.objects.filter(filed_at__month=3).update(filed_at=None)
    assert _figures(officer, **MARCH)["declarations_published"] == "3"
    # ...other filter sets are computed afresh, and any change heard by the listeners renews them all.
    assert _figures(officer, **MARCH, fee_form="royalty")["declarations_published"] == "0"
    statistics_changed(declaration_ids=[])
    assert _figures(officer, **MARCH)["declarations_published"] == "0"


def test_closed_months_are_stored_once_and_publishing_one_replaces_what_the_dashboard_stored(officer, market):
    from marketplace.models import StatisticsSnapshot

    _get(officer, first="2026-02", last="2026-04")
    stored = {s.month: s for s in StatisticsSnapshot.objects.all()}
    assert sorted(stored) == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert all(s.indicators["stored_by"] == "dashboard" for s in stored.values())
    assert stored[date(2026, 3, 1)].indicators["declarations_published"] == 3
    # A narrowed board reads no snapshot and stores none.
    _get(officer, first="2026-01", last="2026-01", fee_form="royalty")
    assert StatisticsSnapshot.objects.count() == 3
    out = io.StringIO()
    call_command("compute_statistics", "--month", "2026-03", stdout=out)  # no --force needed over a stored one
    assert "computed" in out.getvalue()
    march = StatisticsSnapshot.objects.get(month=date(2026, 3, 1))
    assert "stored_by" not in march.indicators and march.computed_at > stored[date(2026, 3, 1)].computed_at
    body = _get(officer, first="2026-02", last="2026-04").content.decode()
    assert "published snapshot" in body.split('data-month="2026-03"')[1].split("</tr>")[0]


def test_the_filter_selects_name_their_empty_choice_in_the_page_language(client):
    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    for language, empty in (("zh-hans", "不限"), ("en", "Any")):
        with translation.override(language):
            body = client.get(reverse("office_statistics")).content.decode()
        assert "---------" not in body, language
        form = body.split('id="statistics-filters"')[1].split("</form>")[0]
        for name in ("technology_field", "sector", "holder_kind", "patent_kind", "fee_form", "grade"):
            select = form.split(f'name="{name}"')[1].split("</select>")[0]
            assert f'<option value="" selected>{empty}</option>' in select, (language, name)


def test_the_monthly_job_stores_the_closed_months_so_that_the_first_visitor_does_not(officer, market):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from marketplace.models import StatisticsSnapshot
    from marketplace.office.services import closed_months_store

    may = datetime(2026, 5, 15, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert closed_months_store(as_of=may, months=3) == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    march = StatisticsSnapshot.objects.get(month=date(2026, 3, 1))
    assert march.indicators["stored_by"] == "dashboard" and march.indicators["declarations_published"] == 3
    assert closed_months_store(as_of=may, months=3) == []  # once
    assert _get(officer, first="2026-02", last="2026-04").status_code == 200
    assert StatisticsSnapshot.objects.count() == 3  # the page found them stored
