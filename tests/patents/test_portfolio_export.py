"""The portfolio export, tested through HTTP as a holder, another holder, the IP office and a stranger use it: the
holder's own patents (or, for the IP office, any holder's), with titles, abstracts and inventors that a
spreadsheet would run coming out inert in CSV and XLSX."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory
from tests.patents.factories import PatentFactory

pytestmark = pytest.mark.django_db

# Each character a spreadsheet treats as the start of a formula (OWASP), tab and carriage return included.
HOSTILE = ('=HYPERLINK("http://x.example","点我")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd",
           "\t=1+1 tabbed", "\r=1+1 returned")


@pytest.fixture
def holder_member():
    return MembershipFactory(organisation=HolderFactory())


@pytest.fixture
def hostile_portfolio(holder_member):
    holder = holder_member.organisation
    return [PatentFactory(holder=holder, title=text, abstract=text, inventors=[text, "王五"]) for text in HOSTILE]


def export(client, fmt, **params):
    return client.get(reverse("portfolio_export", kwargs={"fmt": fmt}), params)


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def xlsx_rows(response) -> tuple[list, list[dict]]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["portfolio"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    header = [c.value for c in sheet[1]]
    return cells, [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_the_holder_exports_its_portfolio_as_csv_with_formula_text_inert(client, holder_member, hostile_portfolio):
    client.force_login(holder_member.user)

    response = export(client, "csv", holder=holder_member.organisation.slug)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="portfolio-{holder_member.organisation.slug}')
    rows = csv_rows(response)
    assert sorted(r["number"] for r in rows) == sorted(p.number for p in hostile_portfolio)
    for row in rows:
        # Every hostile text keeps its characters behind the apostrophe that makes a spreadsheet show it as typed.
        assert row["title"] in {"'" + text for text in HOSTILE}
        assert row["abstract"] == row["title"]
        assert row["inventors"] == row["title"] + "; 王五"
    assert {r["title"] for r in rows} == {"'" + text for text in HOSTILE}
    first = rows[0]
    assert (first["kind"], first["legal_status"], first["main_ipc"], first["filing_date"]) == (
        "invention", "granted", "H01M 4/36", "2021-03-15")
    assert (first["declared_open_licence"], first["technology_field"], first["grade"]) == ("False", "1", "D")


def test_the_holder_exports_its_portfolio_as_xlsx_with_no_formula_and_the_text_preserved(
        client, holder_member, hostile_portfolio):
    client.force_login(holder_member.user)

    response = export(client, "xlsx", holder=holder_member.organisation.slug)

    assert response.status_code == 200
    cells, rows = xlsx_rows(response)
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no cell is a formula
    assert len(rows) == len(HOSTILE)
    # XML turns a carriage return in text into a line feed; everything else comes back exactly as stored.
    expected = {"'" + text.replace("\r", "\n") for text in HOSTILE}
    assert {r["title"] for r in rows} == expected
    assert {r["abstract"] for r in rows} == expected
    assert {r["inventors"] for r in rows} == {t + "; 王五" for t in expected}
    title_cells = [c for c in cells if c.column == 2 and c.row > 1]
    assert all(c.data_type == "s" for c in title_cells)
    assert rows[0]["filing_date"].date().isoformat() == "2021-03-15" and rows[0]["technology_field"] == 1


def test_the_export_lists_only_the_holders_own_patents_and_follows_the_page_filters(client, holder_member):
    mine = PatentFactory(holder=holder_member.organisation, title="本单位专利")
    PatentFactory(holder=holder_member.organisation, title="另一项", kind="utility_model")
    PatentFactory(holder=HolderFactory(), title="别人的专利")
    client.force_login(holder_member.user)

    everything = csv_rows(export(client, "csv"))  # no ?holder: the user's own holder organisation
    filtered = csv_rows(export(client, "csv", holder=holder_member.organisation.slug, kind="invention"))

    assert sorted(r["title"] for r in everything) == ["另一项", "本单位专利"]
    assert [r["number"] for r in filtered] == [mine.number]
    assert export(client, "csv", min_remaining_years="10000").status_code == 400  # a refused filter exports nothing


def test_another_holder_cannot_export_the_portfolio(client, holder_member, hostile_portfolio):
    stranger = MembershipFactory(organisation=HolderFactory())
    client.force_login(stranger.user)

    response = export(client, "csv", holder=holder_member.organisation.slug)

    assert response.status_code == 403
    assert hostile_portfolio[0].number.encode() not in response.content


def test_the_ip_office_exports_any_holders_portfolio(client, holder_member, hostile_portfolio):
    officer = MembershipFactory(organisation=IPOfficeFactory())
    client.force_login(officer.user)

    response = export(client, "xlsx", holder=holder_member.organisation.slug)

    assert response.status_code == 200
    assert len(xlsx_rows(response)[1]) == len(HOSTILE)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_anonymous_visitor_is_sent_to_log_in(client, holder_member, fmt):
    url = reverse("portfolio_export", kwargs={"fmt": fmt})

    response = client.get(url, {"holder": holder_member.organisation.slug})

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_portfolio_page_links_to_both_exports(client, holder_member):
    client.force_login(holder_member.user)

    page = client.get(reverse("portfolio"), {"holder": holder_member.organisation.slug}).content.decode()

    for fmt in ("csv", "xlsx"):
        assert f'{reverse("portfolio_export", kwargs={"fmt": fmt})}?holder={holder_member.organisation.slug}' in page
