"""Declarations tied to CNIPA (issue 19): draft → filed at CNIPA → announced (CNIPA's number and date) →
withdrawal filed → withdrawn, each transition and its refusals; the basis a licence rests on, frozen at notice
(Patent Law art. 50: a declaration takes effect from CNIPA's announcement); the declaration document (PDF and
data) and who may act on the holder's pages."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from licensing.certificates.services import render_certificate_pdf
from licensing.declarations import document
from licensing.declarations import services as declarations
from licensing.exceptions import InvalidTransition, NotAllowed
from licensing.models import DeclarationState, GazetteEntry, LicenceBasis
from patents.models import Patent
from tests.licensing.factories import DeclarationFactory, holder_admin, holder_member
from tests.licensing.fixtures_payments import give_notice, licensee_with_member, royalty_offer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Refusals are read in English here (a request's language would otherwise stay active in the thread)."""
    with translation.override("en"):
        yield


def filed(**offer):
    declaration = DeclarationFactory(**offer)
    return declarations.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))


def announce(declaration, number="KFXK2026000001", days_ago=0):
    return declarations.declaration_record_announcement(
        declaration=declaration, by=holder_admin(declaration.holder), cnipa_number=number,
        announced_on=timezone.localdate() - timedelta(days=days_ago))


# --- announcement --------------------------------------------------------------------------------------------

def test_recording_cnipas_announcement_makes_it_statutory_and_mirrors_it_in_the_gazette():
    declaration = filed()
    day = timezone.localdate()
    announced = declarations.declaration_record_announcement(
        declaration=declaration, by=holder_admin(declaration.holder), cnipa_number=" kfxk2026000007 ", announced_on=day)
    announced.refresh_from_db()
    assert (announced.state, announced.cnipa_number, announced.announced_on) == ("announced", "KFXK2026000007", day)
    assert announced.announcement_source == "holder" and announced.is_statutory
    [entry] = GazetteEntry.objects.filter(declaration=announced)
    assert (entry.announcement_number, entry.kind, timezone.localtime(entry.announced_at).date()) == (
        "KFXK2026000007", "publication", day)


def test_recording_the_same_announcement_twice_is_harmless():
    declaration = announce(filed())
    again = announce(declaration)
    assert again.state == DeclarationState.ANNOUNCED
    assert GazetteEntry.objects.filter(declaration=declaration).count() == 1


@pytest.mark.parametrize(("number", "days_ago", "field", "words"), [
    ("", 1, "cnipa_number", "Enter CNIPA's announcement number"),
    ("12", 1, "cnipa_number", "is not a CNIPA announcement number"),
    ("KF-ABCDEF", 1, "cnipa_number", "is not a CNIPA announcement number"),  # fewer than four digits
    ("KFXK2026000001", -1, "announced_on", "is in the future"),
    ("KFXK2026000001", 3, "announced_on", "before it was filed"),
])
def test_a_bad_number_or_date_is_refused_and_nothing_changes(number, days_ago, field, words):
    declaration = filed()
    # Filed two days ago: an announcement three days ago would come before the filing.
    type(declaration).objects.filter(pk=declaration.pk).update(filed_at=timezone.now() - timedelta(days=2))
    with pytest.raises(ValidationError) as refused:
        announce(declaration, number=number, days_ago=days_ago)
    assert words in " ".join(refused.value.message_dict[field])
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.FILED and declaration.cnipa_number is None


def test_a_draft_cannot_be_announced_and_a_number_cannot_serve_two_declarations():
    draft = DeclarationFactory()
    with pytest.raises(InvalidTransition):
        announce(draft)
    announce(filed(), number="KFXK2026000009")
    with pytest.raises(ValidationError) as refused:
        announce(filed(), number="KFXK2026000009")
    assert "already recorded" in " ".join(refused.value.message_dict["cnipa_number"])


def test_only_the_patentees_admins_record_an_announcement():
    declaration = filed()
    with pytest.raises(NotAllowed):
        declarations.declaration_record_announcement(
            declaration=declaration, by=holder_member(declaration.holder), cnipa_number="KFXK2026000003",
            announced_on=timezone.localdate())
    with pytest.raises(NotAllowed):
        declarations.declaration_record_announcement(
            declaration=declaration, by=holder_admin(filed().holder), cnipa_number="KFXK2026000003",
            announced_on=timezone.localdate())


# --- withdrawal ----------------------------------------------------------------------------------------------

def test_a_filed_withdrawal_leaves_the_declaration_in_force_until_cnipa_announces_it():
    declaration = announce(filed())
    admin = holder_admin(declaration.holder)
    pending = declarations.declaration_file_withdrawal(declaration=declaration, by=admin, reason="专利权转让")
    assert pending.state == DeclarationState.WITHDRAWAL_FILED and pending.is_licensable and pending.is_statutory
    assert Patent.objects.get(pk=declaration.patent_id).under_open_licence is True
    with pytest.raises(ValidationError) as refused:  # announced before: CNIPA's withdrawal number is needed
        declarations.declaration_record_withdrawal_announcement(
            declaration=pending, by=admin, announced_on=timezone.localdate(), cnipa_number="")
    assert "cnipa_withdrawal_number" in refused.value.message_dict
    withdrawn = declarations.declaration_record_withdrawal_announcement(
        declaration=pending, by=admin, announced_on=timezone.localdate(), cnipa_number="CHXK2026000001")
    assert (withdrawn.state, withdrawn.cnipa_withdrawal_number) == ("withdrawn", "CHXK2026000001")
    assert not withdrawn.is_licensable
    assert Patent.objects.get(pk=declaration.patent_id).under_open_licence is False
    assert list(GazetteEntry.objects.filter(declaration=declaration).values_list("kind", "announcement_number")
                .order_by("pk")) == [("publication", "KFXK2026000001"), ("withdrawal", "CHXK2026000001")]


def test_the_withdrawal_announcement_comes_after_the_withdrawal_is_filed():
    declaration = filed()
    with pytest.raises(InvalidTransition):
        declarations.declaration_record_withdrawal_announcement(
            declaration=declaration, by=holder_admin(declaration.holder), announced_on=timezone.localdate(),
            cnipa_number="")


# --- the basis, frozen at notice -------------------------------------------------------------------------------

def test_a_licence_taken_while_filed_stays_platform_after_the_announcement():
    declaration = filed(**royalty_offer())
    licensee, member = licensee_with_member()
    early = give_notice(declaration, licensee, member)
    assert early.basis == LicenceBasis.PLATFORM and early.state == "active"
    announce(declaration, days_ago=0)
    early.refresh_from_db()
    assert early.basis == LicenceBasis.PLATFORM
    other, other_member = licensee_with_member()
    assert give_notice(declaration, other, other_member).basis == LicenceBasis.STATUTORY


def test_a_licence_taken_while_the_withdrawal_is_pending_is_still_statutory():
    declaration = announce(filed(**royalty_offer()))
    declarations.declaration_file_withdrawal(declaration=declaration, by=holder_admin(declaration.holder),
                                             reason="转让")
    licensee, member = licensee_with_member()
    assert give_notice(declaration, licensee, member).basis == LicenceBasis.STATUTORY


def test_the_certificate_says_which_basis_the_licence_rests_on(client):
    declaration = filed(**royalty_offer())
    licensee, member = licensee_with_member()
    platform = give_notice(declaration, licensee, member)
    announce(declaration, number="KFXK2026000042")
    other, other_member = licensee_with_member()
    statutory = give_notice(declaration, other, other_member)
    platform_pdf = render_certificate_pdf(platform, verify_url="https://x.test/v", compress=False)
    statutory_pdf = render_certificate_pdf(statutory, verify_url="https://x.test/v", compress=False)
    assert b"(Non-exclusive ordinary licence contract" in platform_pdf and b"KFXK2026000042" not in platform_pdf
    assert b"(Non-exclusive statutory open licence under Patent Law arts. 50-51" in statutory_pdf
    assert b"KFXK2026000042" in statutory_pdf
    client.force_login(member)
    page = client.get(reverse("licence_detail", args=[platform.pk])).content.decode()
    assert 'data-basis="platform"' in page


# --- pages ---------------------------------------------------------------------------------------------------

def test_the_holder_records_the_announcement_on_the_page_and_a_refusal_keeps_the_input(client):
    declaration = filed()
    admin = holder_admin(declaration.holder)
    client.force_login(admin)
    url = reverse("declaration_record_announcement", args=[declaration.pk])
    tomorrow = timezone.localdate() + timedelta(days=1)
    refused = client.post(url, {"cnipa_number": "KFXK2026000077", "announced_on": tomorrow.isoformat()})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert 'value="KFXK2026000077"' in body and "is in the future" in body
    done = client.post(url, {"cnipa_number": "KFXK2026000077", "announced_on": timezone.localdate().isoformat()})
    assert done.status_code == 302
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.ANNOUNCED
    page = client.get(reverse("declaration_detail", args=[declaration.pk])).content.decode()
    assert 'data-basis="statutory"' in page and "KFXK2026000077" in page


def test_withdrawal_pages_file_and_then_record_cnipas_announcement(client):
    declaration = filed()
    client.force_login(holder_admin(declaration.holder))
    empty = client.post(reverse("declaration_file_withdrawal", args=[declaration.pk]), {"reason": ""})
    assert empty.status_code == 400
    client.post(reverse("declaration_file_withdrawal", args=[declaration.pk]), {"reason": "转让"})
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.WITHDRAWAL_FILED
    response = client.post(reverse("declaration_record_withdrawal_announcement", args=[declaration.pk]),
                           {"cnipa_number": "", "announced_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.WITHDRAWN


@pytest.mark.parametrize("who", ["member", "other_admin", "anonymous"])
def test_others_cannot_record_or_withdraw_from_the_server(client, who):
    declaration = filed()
    if who == "member":
        client.force_login(holder_member(declaration.holder))
    elif who == "other_admin":
        client.force_login(holder_admin(filed().holder))
    expected = {"member": 403, "other_admin": 404, "anonymous": 302}[who]
    for name, data in (("declaration_record_announcement", {"cnipa_number": "KFXK2026000005",
                                                             "announced_on": timezone.localdate().isoformat()}),
                       ("declaration_file_withdrawal", {"reason": "x"})):
        assert client.post(reverse(name, args=[declaration.pk]), data).status_code == expected, name
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.FILED
    for fmt in ("pdf", "json"):
        status = client.get(reverse("declaration_document", args=[declaration.pk, fmt])).status_code
        assert status == {"member": 200, "other_admin": 404, "anonymous": 302}[who]


# --- the declaration document --------------------------------------------------------------------------------

def test_the_declaration_document_holds_every_item_cnipa_requires(client):
    declaration = filed(fee_basis_statement="参照同领域备案合同许可费确定。", contact_phone="010-12345678")
    client.force_login(holder_admin(declaration.holder))
    data = json.loads(client.get(reverse("declaration_document", args=[declaration.pk, "json"])).content)
    assert data["patent"]["number"] == declaration.patent.number and data["patent"]["title"] == declaration.patent.title
    assert data["patentee"]["name"] == declaration.holder.name_zh
    assert data["conditions_commitment"]["given"] is True
    assert data["fee"]["standard_zh"] == "一次性付费：人民币 50,000.00 元" and data["fee"]["lump_sum_fen"] == 5_000_000
    assert data["fee"]["calculation_basis"] == "参照同领域备案合同许可费确定。"
    assert data["payment_method"] == declaration.payment_method and data["licence_duration_years"] == 3
    assert data["contact"] == {"name": "王老师", "email": declaration.contact_email, "phone": "010-12345678"}
    assert data["date"] == timezone.localdate().isoformat() and "signature" in data
    response = client.get(reverse("declaration_document", args=[declaration.pk, "pdf"]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    pdf = document.render_declaration_pdf(declaration, compress=False)
    assert declaration.patent.number.encode() in pdf


def test_the_royalty_fee_standard_reads_as_a_chinese_declaration_says_it():
    declaration = DeclarationFactory(fee_form="entry_plus_royalty", lump_sum_fen=None, entry_fee_fen=2_000_000,
                                     royalty_base="net_sales", royalty_rate="2.50", annual_minimum_fen=1_000_000)
    assert document.fee_standard_zh(declaration) == \
        "入门费人民币 20,000.00 元，另按产品净销售额的 2.50% 提成，每年不低于人民币 10,000.00 元"
