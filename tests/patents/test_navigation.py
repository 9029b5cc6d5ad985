"""Patent navigation (专利导航), tested through HTTP: the public platform landscape, a holder's private one,
facet filters and drill-down, constant query cost, and the CSV/XLSX exports."""

import csv
import io
import itertools
from datetime import date

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from marketplace.parties.models import MembershipRole, OrganisationKind
from patents.models import LegalStatus, Patent, PatentKind
from patents.navigation.selectors import years_after
from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


_serial = itertools.count(1)


def make_patent(holder, *, kind=PatentKind.INVENTION, field=6, ipc="G06F", grade="B", override="",
                filing_date=date(2020, 5, 1), legal_status=LegalStatus.GRANTED, title="一种数据处理方法"):
    n = next(_serial)
    return Patent.objects.create(
        holder=holder, number=f"CN2021101{n:05d}.X", number_original=f"2021101{n:05d}.X", kind=kind, title=title,
        filing_date=filing_date, legal_status=legal_status, technology_field=field, ipc_subclass=ipc,
        main_ipc=f"{ipc} 1/00" if ipc else "", grade_computed=grade, grade_override=override,
        grade_override_reason="Licensed twice already." if override else "",
    )


def counts(breakdown):
    return {bucket.key: bucket.count for bucket in breakdown.buckets}


@pytest.fixture
def portfolio():
    """Two holders: a university strong in computing, a Shanghai enterprise in batteries and medicine."""
    uni = HolderFactory(slug="tsinghua-test", province="北京市")
    firm = HolderFactory(slug="battery-co", kind=OrganisationKind.ENTERPRISE, province="上海市")
    make_patent(uni, field=6, ipc="G06F", grade="A", filing_date=date(2019, 3, 1))
    make_patent(uni, field=6, ipc="G06F", grade="C", override="A", filing_date=date(2020, 3, 1))
    make_patent(uni, field=6, ipc="G06N", grade="B", kind=PatentKind.UTILITY_MODEL, filing_date=date(2020, 6, 1))
    make_patent(uni, field=13, ipc="A61B", grade="D", legal_status=LegalStatus.PENDING, filing_date=date(2022, 1, 1))
    make_patent(firm, field=1, ipc="H01M", grade="B", filing_date=date(2021, 2, 1))
    make_patent(firm, field=1, ipc="H01M", grade="B", kind=PatentKind.DESIGN, filing_date=date(2021, 2, 1))
    make_patent(firm, field=None, ipc="", grade="D", filing_date=date(2005, 1, 1))  # long expired, unclassified
    return uni, firm


def get_landscape(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response, response.context["landscape"]


def test_anyone_sees_the_platform_landscape_counted_by_field_grade_and_kind(client, portfolio):
    response, landscape = get_landscape(client, reverse("navigation_platform"))
    assert landscape.total == 7
    assert counts(landscape.by_field) == {"6": 3, "13": 1, "1": 2, "": 1}
    assert counts(landscape.by_sector) == {"electrical_engineering": 5, "instruments": 1, "chemistry": 0,
                                           "mechanical_engineering": 0, "other_fields": 0}
    # The holder's override wins over the computed grade.
    assert counts(landscape.by_grade) == {"A": 2, "B": 3, "C": 0, "D": 2}
    assert counts(landscape.by_kind) == {"invention": 5, "utility_model": 1, "design": 1}
    assert counts(landscape.by_legal_status)["pending"] == 1
    assert counts(landscape.by_filing_year) == {"2005": 1, "2019": 1, "2020": 2, "2021": 2, "2022": 1}
    assert counts(landscape.top_ipc_subclasses) == {"G06F": 2, "G06N": 1, "A61B": 1, "H01M": 2}
    assert counts(landscape.top_holders) == {"tsinghua-test": 4, "battery-co": 3}
    life = counts(landscape.by_remaining_life)
    assert life["expired"] == 1 and sum(life.values()) == 7
    body = response.content.decode()
    assert "Computer technology" in body and "Medical technology" in body


def test_field_names_follow_the_language_of_the_page(client, portfolio):
    with translation.override("zh-hans"):
        body = client.get(reverse("navigation_platform")).content.decode()
    assert "计算机技术" in body and "Computer technology" not in body


def test_each_field_bar_drills_down_to_that_field(client, portfolio):
    response, _ = get_landscape(client, reverse("navigation_platform"), kind="invention")
    body = response.content.decode()
    assert 'href="?kind=invention&amp;technology_field=6"' in body
    assert reverse("navigation_platform_export", kwargs={"fmt": "csv"}) + "?kind=invention" in body


def test_a_facet_filter_narrows_every_chart(client, portfolio):
    _, landscape = get_landscape(client, reverse("navigation_platform"), technology_field=6)
    assert landscape.total == 3
    for breakdown in landscape.breakdowns:
        if breakdown.id != "sector":
            assert sum(counts(breakdown).values()) == 3, breakdown.id
    assert counts(landscape.by_field) == {"6": 3}
    assert counts(landscape.by_kind) == {"invention": 2, "utility_model": 1, "design": 0}
    assert counts(landscape.top_holders) == {"tsinghua-test": 3}  # top holders of this field only
    assert counts(landscape.top_ipc_subclasses) == {"G06F": 2, "G06N": 1}


@pytest.mark.parametrize(("params", "expected"), [
    ({"grade": "A"}, 2),  # one computed A, one overridden to A
    ({"grade": "C"}, 0),  # overridden away from C
    ({"sector": "instruments"}, 1),
    ({"kind": "design"}, 1),
    ({"legal_status": "pending"}, 1),
    ({"filing_year_min": 2020, "filing_year_max": 2021}, 4),
    ({"holder_kind": "enterprise"}, 3),
    ({"region": "北京市"}, 4),
    ({"min_remaining_years": 15}, 2),  # inventions filed in 2020-2022; the 2019 one has under 15 years left
    ({"sector": "electrical_engineering", "grade": "B"}, 3),
])
def test_each_facet_filters_the_landscape(client, portfolio, params, expected):
    if "min_remaining_years" in params:
        today = timezone.localdate()
        expected = Patent.objects.filter(expiry_date__gte=years_after(today, 15)).count()
    _, landscape = get_landscape(client, reverse("navigation_platform"), **params)
    assert landscape.total == expected


def test_remaining_life_counts_the_expiry_day_as_still_in_force(client):
    holder = HolderFactory()
    today = timezone.localdate()
    ends = {"yesterday": date.fromordinal(today.toordinal() - 1), "today": today,
            "in_two_years": years_after(today, 2), "in_fifteen_years": years_after(today, 15)}
    for expiry in ends.values():
        Patent.objects.filter(pk=make_patent(holder).pk).update(expiry_date=expiry)
    _, landscape = get_landscape(client, reverse("navigation_platform"))
    assert counts(landscape.by_remaining_life) == {"expired": 1, "lt2": 1, "2-5": 1, "5-10": 0, "10-15": 0, "15+": 1}
    _, landscape = get_landscape(client, reverse("navigation_platform"), min_remaining_years=2)
    assert landscape.total == 2


def test_an_invalid_filter_is_reported_and_refused_for_export(client, portfolio):
    response, landscape = get_landscape(client, reverse("navigation_platform"), grade="Z")
    assert not landscape.is_valid and "grade" in landscape.filterset.errors
    export = client.get(reverse("navigation_platform_export", kwargs={"fmt": "csv"}), {"grade": "Z"})
    assert export.status_code == 400


def test_a_holder_sees_only_its_own_patents_and_no_ranking_of_holders(client, portfolio):
    uni, _ = portfolio
    member = MembershipFactory(organisation=uni)
    client.force_login(member.user)
    response, landscape = get_landscape(client, reverse("navigation_holder", args=[uni.slug]))
    assert landscape.total == 4
    assert landscape.top_holders is None
    assert "region" not in landscape.filterset.form.fields


def test_another_holders_member_is_refused_a_holders_landscape(client, portfolio):
    uni, firm = portfolio
    client.force_login(MembershipFactory(organisation=firm, role=MembershipRole.ADMIN).user)
    assert client.get(reverse("navigation_holder", args=[uni.slug])).status_code == 403
    assert client.get(reverse("navigation_holder_export", kwargs={"slug": uni.slug, "fmt": "csv"})).status_code == 403


def test_anonymous_visitors_are_refused_a_holders_landscape(client, portfolio):
    uni, _ = portfolio
    assert client.get(reverse("navigation_holder", args=[uni.slug])).status_code == 403


def test_ip_office_staff_and_superusers_see_any_holders_landscape(client, portfolio):
    uni, _ = portfolio
    client.force_login(MembershipFactory(organisation=IPOfficeFactory()).user)
    assert client.get(reverse("navigation_holder", args=[uni.slug])).status_code == 200
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse("navigation_holder", args=[uni.slug])).status_code == 200


def test_an_unknown_holder_is_not_found(client):
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse("navigation_holder", args=["no-such-holder"])).status_code == 404


def test_the_number_of_queries_does_not_grow_with_the_data(client):
    holders = [HolderFactory() for _ in range(3)]
    url = reverse("navigation_platform")
    params = {"sector": "electrical_engineering", "grade": "B", "min_remaining_years": 1}

    client.get(url)  # first request of the process: site and settings rows get created and cached

    def queries_for(n_patents):
        for i in range(n_patents - Patent.objects.count()):
            make_patent(holders[i % 3], field=1 + i % 8, ipc=f"H0{i % 5}L", grade="ABCD"[i % 4],
                        filing_date=date(2010 + i % 12, 1 + i % 12, 1))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(captured)

    assert queries_for(5) == queries_for(50)


def read_csv(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_export_stacks_every_breakdown_of_the_filtered_view(client, portfolio):
    response = client.get(reverse("navigation_platform_export", kwargs={"fmt": "csv"}), {"kind": "invention"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    today = timezone.localdate().isoformat()
    assert f'filename="landscape-platform-{today}.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == ["section", "key", "label", "name_en", "name_zh", "count", "percent"]
    by_section = {}
    for row in rows:
        by_section.setdefault(row["section"], {})[row["key"]] = row
    assert by_section["summary"]["total"]["count"] == "5"
    assert by_section["summary"]["filter:kind"]["label"] == "invention"
    field6 = by_section["technology_field"]["6"]
    assert (field6["count"], field6["name_en"], field6["name_zh"]) == ("2", "Computer technology", "计算机技术")
    assert by_section["kind"]["utility_model"]["count"] == "0"
    assert {"technology_field", "sector", "grade", "kind", "legal_status", "filing_year", "remaining_life",
            "ipc_subclass", "holders"} <= set(by_section)


def test_exports_neutralise_cells_that_a_spreadsheet_would_run_as_formulas(client):
    evil = HolderFactory(slug="evil", name_zh='=HYPERLINK("http://x.example","点我")', name_en="+cmd|' /C calc'!A0")
    make_patent(evil, ipc="@A01", title="=1+2")
    make_patent(evil, ipc="-B01")
    with translation.override("zh-hans"):
        rows = read_csv(client.get(reverse("navigation_platform_export", kwargs={"fmt": "csv"})))
    holder = next(r for r in rows if r["section"] == "holders")
    assert holder["label"] == "'" + evil.name_zh and holder["name_en"] == "'" + evil.name_en
    assert {r["key"] for r in rows if r["section"] == "ipc_subclass"} == {"'@A01", "'-B01"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    xlsx = client.get(reverse("navigation_platform_export", kwargs={"fmt": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["holders"]
    assert sheet["D2"].value == "'" + evil.name_zh and sheet["D2"].data_type == "s"  # "s": text, not a formula
    assert sheet["B2"].value == sheet["C2"].value == "'" + evil.name_en


def test_the_xlsx_export_has_one_sheet_per_breakdown(client, portfolio):
    uni, _ = portfolio
    client.force_login(MembershipFactory(organisation=uni).user)
    response = client.get(reverse("navigation_holder_export", kwargs={"slug": uni.slug, "fmt": "xlsx"}),
                          {"technology_field": 6})
    assert response.status_code == 200
    assert f"landscape-{uni.slug}-" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["summary", "technology_field", "sector", "grade", "kind", "legal_status",
                               "filing_year", "remaining_life", "ipc_subclass"]  # no ranking of holders
    grades = {row[0]: row[4] for row in book["grade"].iter_rows(min_row=2, values_only=True)}
    assert grades == {"A": 2, "B": 1, "C": 0, "D": 0}
    assert book["summary"]["E2"].value == 3


def test_an_unknown_export_format_is_not_found(client):
    assert client.get(reverse("navigation_platform") + "export.pdf").status_code == 404
