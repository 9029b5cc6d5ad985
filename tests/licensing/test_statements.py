"""Ledger statements: per holder, per licensee and per licence, with running balances and totals, on the
page and as CSV / XLSX with formula injection neutralised; each shown only to those entitled."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from licensing.ledger import services as ledger
from licensing.ledger import statements
from licensing.ledger.exports import StatementExporter
from licensing.ledger.statements import Perspective
from licensing.models.licences import LedgerEntry
from marketplace.parties.models import MembershipRole
from tests.licensing import ledger_builders as build
from tests.parties.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def five_percent_fee(settings):
    settings.PLATFORM_FEE_RATE_PROVIDER = build.FEE_RATE_PROVIDER


@pytest.fixture
def books():
    """One holder, two licensees: a card payment of ¥1,000.00 (refunded ¥100.00) and a payment of ¥500.00
    of which a voucher covers ¥200.00."""
    first = build.licence(first_amount_fen=100_000)
    holder = first.licensor
    second_licensee = OrganisationFactory(name_zh="=HYPERLINK(\"http://evil\")")
    second = build.licence(licensee=second_licensee, first_amount_fen=50_000)
    second.licensor = holder
    second.save(update_fields=["licensor"])
    card = build.paid_payment(first)
    ledger.post_refund(card, 10_000)
    voucher = build.voucher(second_licensee, amount_fen=20_000)
    build.paid_payment(second, voucher_=voucher, voucher_fen=20_000)
    return {"holder": holder, "first": first, "second": second, "licensee": first.licensee,
            "second_licensee": second_licensee}


def test_the_holder_statement_shows_what_is_owed_with_a_running_balance_and_totals(books):
    statement = statements.organisation_statement(organisation=books["holder"], perspective=Perspective.HOLDER)
    # 5% fee: 100,000 → holder 95,000; refund 10,000 → holder gives back 9,500; 50,000 → holder 47,500.
    assert [(line.kind, line.debit_fen, line.credit_fen, line.balance_fen) for line in statement.lines] == [
        ("payment_received", 0, 95_000, 95_000),
        ("refund", 9_500, 0, 85_500),
        ("payment_received", 0, 47_500, 133_000),
    ]
    assert (statement.total_debit_fen, statement.total_credit_fen, statement.balance_fen) == (9_500, 142_500, 133_000)
    assert {line.account for line in statement.lines} == {"holder_payable"}
    assert statement.lines[2].counterparty == books["second_licensee"].name_zh


def test_the_licensee_statement_shows_card_and_voucher_money_paid(books):
    statement = statements.organisation_statement(organisation=books["second_licensee"],
                                                  perspective=Perspective.LICENSEE)
    assert sorted((line.account, line.debit_fen) for line in statement.lines) == [
        ("card_clearing", 30_000), ("voucher_fund", 20_000)]
    assert statement.balance_fen == statement.total_debit_fen == 50_000

    first = statements.organisation_statement(organisation=books["licensee"], perspective=Perspective.LICENSEE)
    assert [(line.debit_fen, line.credit_fen, line.balance_fen) for line in first.lines] == [
        (100_000, 0, 100_000), (0, 10_000, 90_000)]
    assert first.lines[0].counterparty == books["holder"].name_zh


def test_a_licence_statement_holds_only_that_licences_lines(books):
    statement = statements.licence_statement(licence=books["second"], perspective=Perspective.HOLDER)
    assert [line.credit_fen for line in statement.lines] == [47_500]
    assert statement.lines[0].licence_ref == books["second"].certificate_number


def test_statement_totals_match_the_ledger_on_every_side(books):
    holder = statements.organisation_statement(organisation=books["holder"], perspective=Perspective.HOLDER)
    owed = sum(e.amount_fen for e in LedgerEntry.objects.filter(account="holder_payable"))
    assert holder.balance_fen == -owed
    assert holder.total_credit_fen - holder.total_debit_fen == holder.balance_fen


# Pages and exports -----------------------------------------------------------------------------------------

def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_holder_page_shows_lines_in_yuan_and_the_totals(client, books):
    client.force_login(build.member(books["holder"]))
    response = client.get(reverse("statement_organisation", args=[books["holder"].slug]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "¥950.00" in page and "¥95.00" in page and "¥1,330.00" in page and "¥1,425.00" in page


def test_the_csv_export_has_the_lines_a_totals_row_and_neutralised_cells(client, books):
    client.force_login(build.member(books["holder"]))
    response = client.get(reverse("statement_organisation", args=[books["holder"].slug]), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = _csv_rows(response)
    header, lines, total = rows[0], rows[1:-1], rows[-1]
    assert header == list(StatementExporter.header)
    assert [(r[7], r[8], r[9]) for r in lines] == [("0.00", "950.00", "950.00"), ("95.00", "0.00", "855.00"),
                                                  ("0.00", "475.00", "1330.00")]
    assert total[1] == "Total" and (total[7], total[8], total[9]) == ("95.00", "1425.00", "1330.00")
    assert lines[2][4] == "'=HYPERLINK(\"http://evil\")"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)"])
def test_every_formula_prefix_is_neutralised(text):
    lic = build.licence(licensee=OrganisationFactory(name_zh=text))
    build.paid_payment(lic)
    statement = statements.organisation_statement(organisation=lic.licensor, perspective=Perspective.HOLDER)
    content = StatementExporter(statement).render("csv").content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(content)) for cell in row]
    assert "'" + text in cells and text not in cells


def test_the_xlsx_export_has_number_cells_and_neutralised_text(client, books):
    client.force_login(build.member(books["holder"]))
    response = client.get(reverse("statement_organisation", args=[books["holder"].slug]), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][9] == pytest.approx(1330.00) and sheet.cell(row=len(rows), column=10).data_type == "n"
    assert rows[3][4] == "'=HYPERLINK(\"http://evil\")"


def test_an_unknown_format_is_refused(client, books):
    client.force_login(build.member(books["holder"]))
    response = client.get(reverse("statement_organisation", args=[books["holder"].slug]), {"format": "pdf"})
    assert response.status_code == 400


def test_an_organisation_statement_is_for_its_members_and_the_ip_office(client, books):
    url = reverse("statement_organisation", args=[books["holder"].slug])
    client.force_login(build.member(books["licensee"]))
    assert client.get(url).status_code == 403
    client.force_login(build.ip_officer())
    assert client.get(url).status_code == 200
    assert client.get(url, {"view": "licensee"}).status_code == 404  # the holder is no licensee
    client.logout()
    assert client.get(url).status_code == 302


def test_a_licence_statement_shows_each_party_its_own_side(client, books):
    url = reverse("statement_licence", args=[books["first"].pk])
    client.force_login(build.member(books["licensee"]))
    own = client.get(url)
    assert own.status_code == 200 and own.context["statement"].perspective == Perspective.LICENSEE
    assert client.get(url, {"view": "holder"}).status_code == 404

    client.force_login(build.member(books["holder"]))
    assert client.get(url).context["statement"].perspective == Perspective.HOLDER
    rows = _csv_rows(client.get(url, {"format": "csv"}))
    assert [r[1] for r in rows[1:-1]] == ["Payment received", "Refund"]

    client.force_login(build.ip_officer())
    assert client.get(url, {"view": "licensee"}).context["statement"].balance_fen == 90_000
    assert client.get(url, {"view": "holder"}).context["statement"].balance_fen == 85_500

    client.force_login(build.member(OrganisationFactory()))
    assert client.get(url).status_code == 404


def test_the_index_lists_the_users_organisations_or_all_for_the_ip_office(client, books):
    user = build.member(books["licensee"], MembershipRole.ADMIN)
    client.force_login(user)
    listed = list(client.get(reverse("statement_index")).context["organisations"])
    assert listed == [books["licensee"]]

    client.force_login(build.ip_officer())
    listed = set(client.get(reverse("statement_index")).context["organisations"])
    assert {books["holder"], books["licensee"], books["second_licensee"]} <= listed

    client.force_login(UserFactory())
    assert list(client.get(reverse("statement_index")).context["organisations"]) == []
