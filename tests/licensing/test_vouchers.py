"""Innovation vouchers: only the IP office issues them, with unique codes; licensee members see their own;
the IP office sees use per organisation, and the figures add up."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from licensing.exceptions import NotAllowed
from licensing.models.licences import Payment, Voucher
from licensing.vouchers import services as vouchers
from marketplace.parties.models import MembershipRole
from tests.licensing import ledger_builders as build
from tests.parties.factories import HolderFactory, IPOfficeFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.localdate() + timedelta(days=365)


def issue(by, organisation, **kwargs):
    args = {"amount_fen": 5_000_000, "expires_on": NEXT_YEAR, "eligible_uses": ["royalties", "licence_fees"],
            "note": "2026 第一批", "by": by}
    return vouchers.voucher_issue(organisation=organisation, **{**args, **kwargs})


def test_ip_office_staff_issue_a_voucher_with_a_cx_code_and_its_full_balance():
    company = OrganisationFactory()
    voucher = issue(build.ip_officer(), company)
    assert re.fullmatch(rf"CX{timezone.localdate():%Y}-[A-HJ-NP-Z2-9]{{6}}", voucher.code)
    assert voucher.balance_fen == voucher.amount_fen == 5_000_000
    assert voucher.eligible_uses == ["licence_fees", "royalties"]  # in the order of Voucher.Use
    assert voucher.organisation == company and voucher.note == "2026 第一批"


@pytest.mark.parametrize("who", ["licensee_admin", "holder_admin", "nobody"])
def test_nobody_but_the_ip_office_may_issue_a_voucher(who):
    company = OrganisationFactory()
    user = {"licensee_admin": lambda: build.member(company, MembershipRole.ADMIN),
            "holder_admin": lambda: build.member(HolderFactory(), MembershipRole.ADMIN),
            "nobody": UserFactory}[who]()
    with pytest.raises(NotAllowed):
        issue(user, company)
    assert not Voucher.objects.exists()


def test_a_superuser_may_issue_a_voucher():
    assert issue(UserFactory(is_superuser=True), OrganisationFactory()).pk


@pytest.mark.parametrize("changes, field", [
    ({"expires_on": timezone.localdate() - timedelta(days=1)}, "expires_on"),
    ({"eligible_uses": []}, "eligible_uses"),
    ({"eligible_uses": ["holidays"]}, "eligible_uses"),
    ({"amount_fen": 0}, "amount_fen"),
])
def test_a_voucher_with_a_past_date_no_use_or_no_amount_is_refused(changes, field):
    with pytest.raises(ValidationError) as refused:
        issue(build.ip_officer(), OrganisationFactory(), **changes)
    assert field in refused.value.message_dict


def test_the_ip_office_cannot_issue_a_voucher_to_itself():
    officer = build.ip_officer()
    with pytest.raises(ValidationError):
        issue(officer, officer.memberships.get().organisation)


def test_a_code_already_taken_is_drawn_again(monkeypatch):
    officer, company = build.ip_officer(), OrganisationFactory()
    codes = iter(["CX2026-AAAAAA", "CX2026-AAAAAA", "CX2026-BBBBBB"])
    monkeypatch.setattr(vouchers, "_new_code", lambda today: next(codes))
    assert issue(officer, company).code == "CX2026-AAAAAA"
    assert issue(officer, company).code == "CX2026-BBBBBB"


def test_use_per_organisation_adds_up_issued_used_reserved_remaining_and_lapsed():
    company, other = OrganisationFactory(), OrganisationFactory()
    spent = build.voucher(company, amount_fen=50_000)
    lapsed = build.voucher(company, amount_fen=20_000, expires_in_days=-1)
    build.voucher(other, amount_fen=10_000)
    build.paid_payment(build.licence(licensee=company, first_amount_fen=100_000), voucher_=spent, voucher_fen=30_000)
    pending = build.licence(licensee=company, first_amount_fen=100_000, state="payment_pending")
    build.paid_payment(pending, voucher_=spent, voucher_fen=5_000, post=False)
    Payment.objects.filter(licence=pending).update(state=Payment.State.REQUIRES_PAYMENT)
    lapsed.refresh_from_db()

    rows = {row.organisation: row for row in vouchers.voucher_use_by_organisation()}
    mine = rows[company]
    assert (mine.vouchers, mine.issued_fen, mine.used_fen, mine.reserved_fen, mine.remaining_fen, mine.lapsed_fen,
            mine.uses) == (2, 70_000, 30_000, 5_000, 15_000, 20_000, 1)
    assert mine.issued_fen == mine.used_fen + mine.reserved_fen + mine.remaining_fen + mine.lapsed_fen
    assert (rows[other].issued_fen, rows[other].used_fen, rows[other].uses) == (10_000, 0, 0)
    assert list(rows) == [company, other]  # most issued first


# Pages ---------------------------------------------------------------------------------------------------

def test_the_ip_office_issues_a_voucher_from_the_page_and_sees_use_per_organisation(client):
    company = OrganisationFactory(name_zh="深圳电池有限公司")
    client.force_login(build.ip_officer())
    response = client.post(reverse("voucher_issue"), {
        "organisation": company.pk, "amount": "12345.67", "expires_on": NEXT_YEAR.isoformat(),
        "eligible_uses": ["licence_fees"], "note": "first"})
    assert response.status_code == 302 and response["Location"] == reverse("voucher_list")
    voucher = Voucher.objects.get()
    assert (voucher.organisation, voucher.amount_fen, voucher.eligible_uses) == (company, 1_234_567, ["licence_fees"])

    page = client.get(reverse("voucher_list")).content.decode()
    assert voucher.code in page and "深圳电池有限公司" in page and 'id="use-by-organisation"' in page
    assert "¥12,345.67" in page


def test_an_invalid_issue_form_comes_back_with_its_errors(client):
    client.force_login(build.ip_officer())
    response = client.post(reverse("voucher_issue"), {"organisation": OrganisationFactory().pk, "amount": "-1",
                                                      "expires_on": NEXT_YEAR.isoformat()})
    assert response.status_code == 400 and not Voucher.objects.exists()
    assert b"errorlist" in response.content


def test_a_licensee_member_cannot_issue_but_sees_its_own_vouchers_and_uses(client):
    company, other = OrganisationFactory(), OrganisationFactory()
    mine, theirs = build.voucher(company, code="CX2026-MINE22"), build.voucher(other, code="CX2026-THEIR2")
    build.paid_payment(build.licence(licensee=company), voucher_=mine, voucher_fen=10_000)
    user = build.member(company, MembershipRole.ADMIN)
    client.force_login(user)

    forbidden = client.post(reverse("voucher_issue"), {"organisation": company.pk, "amount": "100",
                                                      "expires_on": NEXT_YEAR.isoformat(),
                                                      "eligible_uses": ["licence_fees"]})
    assert forbidden.status_code == 403 and Voucher.objects.count() == 2

    page = client.get(reverse("voucher_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert mine.code in text and theirs.code not in text
    assert "voucher-issue-form" not in text and "use-by-organisation" not in text
    assert "¥100.00" in text  # the use of 10,000 fen
    assert "Licence fees" in text  # eligible uses as labels


def test_people_with_no_licensee_organisation_may_not_see_vouchers(client):
    client.force_login(build.member(HolderFactory()))
    assert client.get(reverse("voucher_list")).status_code == 403
    client.force_login(UserFactory())
    assert client.get(reverse("voucher_list")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(reverse("voucher_list")).status_code == 302
    assert client.post(reverse("voucher_issue")).status_code == 302


def test_the_issue_endpoint_only_takes_posts(client):
    client.force_login(build.member(IPOfficeFactory()))
    assert client.get(reverse("voucher_issue")).status_code == 405
