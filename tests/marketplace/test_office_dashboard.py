"""The IP office's dashboard through HTTP: who may see it, the figures of the hand-computed market of
test_statistics.py, filters and breakdowns, trends from published snapshots, the drill-down list and the
exports (CSV cells neutralised)."""

import io
from datetime import date

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

    holder = Declaration.objects.get(published_at__date=date(2026, 3, 10)).holder
    type(holder).objects.filter(pk=holder.pk).update(province="=HYPERLINK(\"http://x\")")
    for table in ("figures", "breakdown", "trend"):
        response = _get(officer, **MARCH, by="region", export="csv", table=table)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    breakdown = _get(officer, **MARCH, by="region", export="csv", table="breakdown").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in breakdown and "\n=HYPERLINK" not in breakdown
    workbook = openpyxl.load_workbook(io.BytesIO(_get(officer, **MARCH, export="xlsx").content))
    assert workbook.sheetnames == ["figures", "breakdown", "trend"]
    values = {row[0]: row[2] for row in workbook["figures"].iter_rows(min_row=2, values_only=True)}
    assert values["fee_volume_fen"] == "1900.00" and values["quick_licence_deal_rate"] == 0.3333


def test_the_filter_form_sent_untouched_narrows_nothing(officer, market):
    page = _get(officer, **MARCH).content.decode()
    assert '<option value="" selected>---------</option>' in page.split('name="technology_field"')[1][:200]
    untouched = _get(officer, **MARCH, technology_field="", sector="", holder_kind="", fee_form="", grade="", region="")
    assert '<td data-figure="declarations_published">3</td>' in untouched.content.decode()
