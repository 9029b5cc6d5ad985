"""The audit log from the outside (HTTP): the IP office reads and exports every entry, a holder's members read
only the entries about their holder's records, licensees and anonymous visitors are refused; the filters and
the pagination work; the export carries each field before and after and is safe to open in a spreadsheet."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from licensing.declarations import services as declarations
from marketplace.audit.views import PAGE_SIZE
from marketplace.parties.models import Organisation
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, eligible_patent, holder_admin
from tests.parties.factories import (
    HolderFactory,
    IPOfficeFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    """Holder A published and withdrew a declaration (its reason written as a spreadsheet formula); holder B
    has a draft. Each party's distinctive text: A's and B's patent numbers and contact e-mails."""
    holder_a, holder_b = HolderFactory(), HolderFactory()
    a_admin = holder_admin(holder_a)
    a_declaration = DeclarationFactory(patent=eligible_patent(holder=holder_a), contact_email="a-contact@example.cn")
    declarations.declaration_file(declaration=a_declaration, by=a_admin)
    declaration_withdraw(declarations, declaration=a_declaration, by=a_admin, reason='=HYPERLINK("http://x.test","A")')
    b_declaration = DeclarationFactory(patent=eligible_patent(holder=holder_b), contact_email="b-contact@example.cn")
    return {"a": holder_a, "b": holder_b, "a_admin": a_admin, "a_declaration": a_declaration,
            "b_declaration": b_declaration, "office": member(IPOfficeFactory()),
            "a_member": member(holder_a), "licensee": member(OrganisationFactory())}


def url(**params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("audit_log") + (f"?{query}" if query else "")


def page(client, user, **params):
    client.force_login(user)
    return client.get(url(**params))


def exported_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_ip_office_reads_every_entry(client, market):
    body = page(client, market["office"]).content.decode()
    assert "a-contact@example.cn" in body and "b-contact@example.cn" in body


def test_a_holder_reads_only_the_entries_about_its_own_records(client, market):
    response = page(client, market["a_member"])
    body = response.content.decode()
    assert response.status_code == 200
    # The state is shown by its label in the page's language (zh-hans), not its code.
    assert "a-contact@example.cn" in body and "已撤回" in body and ">withdrawn<" not in body
    assert "b-contact@example.cn" not in body and market["b_declaration"].patent.number not in body
    other = page(client, market["a_member"], model="declaration", object=market["b_declaration"].pk)
    assert other.status_code == 200 and "b-contact@example.cn" not in other.content.decode()


def test_a_licensee_is_refused_and_an_anonymous_visitor_is_sent_to_log_in(client, market):
    assert page(client, market["licensee"]).status_code == 403
    assert page(client, UserFactory()).status_code == 403
    client.logout()
    response = client.get(url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_navigation_links_the_log_for_the_ip_office_and_holders_only(client, market):
    link = f'href="{reverse("audit_log")}"'
    for user, shown in ((market["office"], True), (market["a_member"], True), (market["licensee"], False)):
        client.force_login(user)
        assert (link in client.get(reverse("dashboard")).content.decode()) is shown
    # A holder's member who is also in the IP office sees the link once (it was listed twice).
    MembershipFactory(user=market["a_member"], organisation=IPOfficeFactory())
    client.force_login(market["a_member"])
    assert client.get(reverse("dashboard")).content.decode().count(link) == 1


def test_filters_by_record_object_actor_change_and_dates(client, market):
    a_declaration = market["a_declaration"]
    office = market["office"]
    rows = exported_csv(page(client, office, model="declaration", object=a_declaration.pk, export="csv"))
    assert {r["record"] for r in rows} == {"declaration"} and {r["record_id"] for r in rows} == {str(a_declaration.pk)}
    assert {r["change"] for r in rows} == {"create", "update"}

    rows = exported_csv(page(client, office, actor=market["a_admin"].email.upper(), export="csv"))
    assert rows == []  # services called outside a request have no signed-in actor...
    client.force_login(market["a_admin"])
    client.post(reverse("organisation_edit", args=[market["a"].slug]), {
        "name_zh": market["a"].name_zh, "name_en": "", "province": "北京市", "city": "", "website": "",
        "contact_email": "", "contact_phone": "", "description": "edited", "is_holder": "on"})
    rows = exported_csv(page(client, office, actor=market["a_admin"].email.upper(), export="csv"))
    assert {(r["record"], r["by"]) for r in rows} == {("organisation", market["a_admin"].email)}  # ...a request has

    update_rows = exported_csv(page(client, office, action="update", model="declaration", export="csv"))
    assert update_rows and {r["change"] for r in update_rows} == {"update"}
    today = timezone.localdate()
    assert exported_csv(page(client, office, since=today.isoformat(), until=today.isoformat(), export="csv"))
    assert exported_csv(page(client, office, until=(today - timedelta(days=1)).isoformat(), export="csv")) == []
    assert exported_csv(page(client, office, since=(today + timedelta(days=1)).isoformat(), export="csv")) == []


def test_a_bad_filter_is_answered_400_and_exports_nothing(client, market):
    for params in ({"since": "yesterday"}, {"model": "patent"}, {"object": "0"}, {"action": "truncate"}):
        response = page(client, market["office"], **params, export="csv")
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html"), params


def test_the_log_is_paginated(client, market):
    holder = market["a"]
    for n in range(PAGE_SIZE):  # with its creation, one entry more than a page
        holder.description = f"version {n}"
        holder.save(update_fields=["description"])
    first = page(client, market["a_member"], model="organisation").content.decode()
    second = page(client, market["a_member"], model="organisation", page=2).content.decode()
    with translation.override("zh-hans"):  # the field by its verbose name, not its column
        label = str(Organisation._meta.get_field("name_zh").verbose_name)
    created = f"<td>{label}</td><td></td><td>{holder.name_zh}</td>"
    assert f"<td>version {PAGE_SIZE - 2}</td><td>version {PAGE_SIZE - 1}</td>" in first
    assert "<td></td><td>version 0</td>" in first and created not in first
    assert created in second and "version" not in second.split('id="audit-entries"')[1]


def test_the_export_carries_before_and_after_and_neutralises_formulas(client, market):
    rows = exported_csv(page(client, market["a_member"], model="declaration", export="csv"))
    state = [(r["before"], r["after"]) for r in rows if r["field"] == "state"]
    assert state == [("withdrawal_filed", "withdrawn"), ("filed", "withdrawal_filed"), ("draft", "filed"),
                     ("", "draft")]  # newest first
    reason = next(r for r in rows if r["field"] == "withdrawal_reason")
    assert reason["after"] == '\'=HYPERLINK("http://x.test","A")'

    response = page(client, market["office"], model="declaration", export="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    table = list(sheet.values)
    header = list(table[0])
    assert header[-3:] == ["field", "before", "after"]
    cells = {row[header.index("after")] for row in table[1:]}
    assert '\'=HYPERLINK("http://x.test","A")' in cells and "withdrawn" in cells
