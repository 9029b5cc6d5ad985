"""The grounds for refusal of Regulations art. 86 and the Guidelines (Part V ch. 11 section 3.1), each asserted with
its rule code and source: the evaluation report's conclusion (fails refuses, partly warns), a suspension of the
procedures (Regulations arts. 103-104), co-owners' consent unless their agreement allows declaring alone; and the
duration minimum that no source sets, now a warning."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from licensing.declarations.rules import declaration_eligibility, declaration_warnings
from licensing.declarations.services import consent_record, declaration_file, declaration_file_withdrawal
from licensing.exceptions import DeclarationRefused, InvalidTransition
from licensing.models import DeclarationConsent, DeclarationState
from patents.models import PatentCoOwner, PatentKind
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_admin

pytestmark = pytest.mark.django_db

GUIDELINES_3_1 = "Patent Examination Guidelines (2023) Part V ch. 11 section 3.1"
REGS_86 = "Implementing Regulations (2023) art. 86"


def refusals(declaration) -> set[tuple[str, str]]:
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    return {(f.code, f.source) for f in refused.value.failures}


def files(declaration):
    published = declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    assert published.state == DeclarationState.FILED
    return published


@pytest.mark.parametrize("kind", [PatentKind.UTILITY_MODEL, PatentKind.DESIGN])
def test_an_evaluation_report_concluding_the_patent_fails_the_grant_conditions_is_refused(kind):
    declaration = DeclarationFactory(patent=eligible_patent(kind=kind, evaluation_report_conclusion="fails"))
    assert refusals(declaration) == {("evaluation_report_fails", f"{GUIDELINES_3_1}; {REGS_86} item (5)")}


def test_a_negative_report_recorded_in_the_inventory_column_is_refused_too():
    # Before the issue a negative report passed: it is a report, and only its presence was checked.
    declaration = DeclarationFactory(patent=eligible_patent(kind=PatentKind.UTILITY_MODEL, evaluation_report="negative"))
    assert {code for code, _source in refusals(declaration)} == {"evaluation_report_fails"}


def test_a_partial_conclusion_warns_and_files():
    declaration = DeclarationFactory(patent=eligible_patent(kind=PatentKind.DESIGN, evaluation_report_conclusion="partly"))
    [warning] = declaration_warnings(declaration=declaration)
    assert (warning.code, warning.source, warning.severity) == ("evaluation_report_partial", GUIDELINES_3_1, "warning")
    assert str(warning) == ("The patent evaluation report concludes that only some claims meet the grant conditions. "
                            f"(rule evaluation_report_partial: {GUIDELINES_3_1})")
    files(declaration)


def test_a_recorded_conclusion_overrides_the_inventory_column():
    patent = eligible_patent(kind=PatentKind.UTILITY_MODEL, evaluation_report="negative",
                             evaluation_report_conclusion="meets")
    assert declaration_warnings(declaration=DeclarationFactory(patent=patent)) == []
    files(DeclarationFactory(patent=patent))


@pytest.mark.parametrize("suspension, label", [("ownership_dispute", "Ownership dispute (Regulations art. 103)"),
                                               ("preservation_order", "Court preservation order (Regulations art. 104)")])
def test_a_patent_whose_procedures_are_suspended_is_refused(suspension, label):
    patent = eligible_patent(procedure_suspension=suspension, procedure_suspended_on=date(2026, 3, 2))
    declaration = DeclarationFactory(patent=patent)
    assert refusals(declaration) == {("procedure_suspended", f"{REGS_86} item (2); Implementing Regulations (2023) "
                                                             "art. 103; Implementing Regulations (2023) art. 104")}
    [failure] = declaration_eligibility(declaration=declaration, today=timezone.localdate())
    assert failure.message == f"The patent's procedures are suspended ({label}) since 2026-03-02."


def test_co_owners_consent_is_required_under_the_guidelines_not_art_14():
    patent = eligible_patent()
    PatentCoOwner.objects.create(patent=patent, name="某某研究院", share_percent=Decimal("30"))
    assert refusals(DeclarationFactory(patent=patent)) == {("co_owner_consent", GUIDELINES_3_1)}


def test_co_owners_whose_agreement_allows_declaring_alone_need_not_consent():
    patent = eligible_patent(co_owners_agreement_allows_declaring=True)
    PatentCoOwner.objects.create(patent=patent, name="某某研究院", share_percent=Decimal("30"))
    files(DeclarationFactory(patent=patent))


def test_a_duration_under_one_year_is_a_warning_citing_no_source():
    declaration = DeclarationFactory.build(patent=eligible_patent(), duration_years=0)
    [warning] = declaration_warnings(declaration=declaration)
    assert (warning.code, warning.source, warning.severity) == (
        "duration_min", "Platform rule (no statutory source)", "warning")
    assert "duration_min" not in {f.code for f in declaration_eligibility(declaration=declaration,
                                                                           today=timezone.localdate())}


def test_a_refusal_names_its_rule_in_the_pages_language():
    declaration = DeclarationFactory(patent=eligible_patent(pledged=True))
    with translation.override("zh-hans"):
        [failure] = declaration_eligibility(declaration=declaration, today=timezone.localdate())
        assert str(failure) == ("该专利已质押：请记录质权人的同意。（规则 pledgee_consent："
                                "《专利法实施细则》（2023年修订）第八十六条第（四）项）")
    [failure] = declaration_eligibility(declaration=declaration, today=timezone.localdate())
    assert str(failure) == ("The patent is pledged: record the pledgee's consent. "
                            "(rule pledgee_consent: Implementing Regulations (2023) art. 86 item (4))")


def test_fees_unpaid_cites_art_86_item_3():
    declaration = DeclarationFactory(patent=eligible_patent(annual_fees_paid_through=timezone.localdate()
                                                            - timedelta(days=1)))
    assert refusals(declaration) == {("fees_unpaid", f"{REGS_86} item (3)")}


def test_the_draft_page_shows_the_warnings_to_the_holder_before_filing(client, demo_pages):
    from django.urls import reverse

    declaration = DeclarationFactory(patent=eligible_patent(kind=PatentKind.UTILITY_MODEL,
                                                            evaluation_report_conclusion="partly"))
    client.force_login(holder_admin(declaration.holder))
    body = client.get(reverse("declaration_detail", args=[declaration.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-rule="evaluation_report_partial"' in body
    assert f"(rule evaluation_report_partial: {GUIDELINES_3_1})" in body


def _co_owned_filed_declaration(**patent):
    patent = eligible_patent(**patent)
    owner = PatentCoOwner.objects.create(patent=patent, name="某某研究院", share_percent=Decimal("30"))
    declaration = DeclarationFactory(patent=patent)
    admin = holder_admin(patent.holder)
    if not patent.co_owners_agreement_allows_declaring:
        consent_record(declaration=declaration, kind=DeclarationConsent.Kind.CO_OWNER, by=admin, party_name="",
                       signatory="李院长", consented_on=timezone.localdate(), co_owner_id=owner.pk)
    return files(declaration), owner, admin


def test_withdrawing_needs_every_co_owners_consent_under_the_guidelines():
    declaration, owner, admin = _co_owned_filed_declaration()
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file_withdrawal(declaration=declaration, by=admin, reason="Transferred to a spin-off.")
    assert [(f.code, f.source, f.message) for f in refused.value.failures] == [
        ("withdrawal_co_owner_consent", GUIDELINES_3_1, "Co-owner 某某研究院 has not consented to the withdrawal.")]
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.FILED

    # The consent to declare is not a consent to withdraw: a second one is recorded, per co-owner.
    consent_record(declaration=declaration, kind=DeclarationConsent.Kind.WITHDRAWAL, by=admin, party_name="",
                   signatory="李院长", consented_on=timezone.localdate(), co_owner_id=owner.pk)
    withdrawn = declaration_file_withdrawal(declaration=declaration, by=admin, reason="Transferred to a spin-off.")
    assert withdrawn.state == DeclarationState.WITHDRAWAL_FILED


def test_co_owners_whose_agreement_allows_it_need_not_consent_to_the_withdrawal():
    declaration, _owner, admin = _co_owned_filed_declaration(co_owners_agreement_allows_declaring=True)
    assert declaration_file_withdrawal(declaration=declaration, by=admin, reason="No demand.").state == \
        DeclarationState.WITHDRAWAL_FILED


def test_a_consent_to_withdraw_is_recorded_only_while_the_declaration_stands():
    patent = eligible_patent()
    owner = PatentCoOwner.objects.create(patent=patent, name="某某研究院")
    draft = DeclarationFactory(patent=patent)
    with pytest.raises(InvalidTransition):
        consent_record(declaration=draft, kind=DeclarationConsent.Kind.WITHDRAWAL, by=holder_admin(patent.holder),
                       party_name="", signatory="李院长", consented_on=timezone.localdate(), co_owner_id=owner.pk)


def test_the_withdrawal_page_names_the_missing_consent_and_records_it(client, demo_pages):
    from django.urls import reverse

    declaration, owner, admin = _co_owned_filed_declaration()
    client.force_login(admin)
    page = client.get(reverse("declaration_detail", args=[declaration.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="data withdrawal-consents"' in page and 'value="withdrawal"' in page
    response = client.post(reverse("declaration_file_withdrawal", args=[declaration.pk]), {"reason": "No demand."},
                           follow=True)
    assert (f"Co-owner 某某研究院 has not consented to the withdrawal. (rule withdrawal_co_owner_consent: "
            f"{GUIDELINES_3_1})") in response.content.decode()
    client.post(reverse("consent_add", args=[declaration.pk]), {"kind": "withdrawal", "co_owner": owner.pk,
                                                                 "signatory": "李院长", "consented_on": "2026-12-01"})
    client.post(reverse("declaration_file_withdrawal", args=[declaration.pk]), {"reason": "No demand."})
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.WITHDRAWAL_FILED
