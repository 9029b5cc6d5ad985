"""Open-licence declarations: each eligibility rule with the provision it comes from, the
draft → filed → withdrawn state machine, frozen terms versions, bulk declaring, the one-standing-
declaration constraint and the fee arithmetic."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from licensing.declarations import fees, services
from licensing.declarations.services import (
    consent_record,
    declaration_create,
    declaration_discard,
    declaration_file,
    declaration_file_withdrawal,
    declarations_file_bulk,
    terms_version_current,
)
from licensing.exceptions import DeclarationRefused, InvalidTransition, NotAllowed
from licensing.legal.register import rule
from licensing.models import (
    Declaration,
    DeclarationConsent,
    DeclarationState,
    FeeForm,
    GazetteEntry,
    LicenceTerms,
    LicenceTermsVersion,
    RoyaltyBase,
)
from patents.models import LegalStatus, Patent, PatentCoOwner, PatentKind
from tests.licensing.factories import (
    DeclarationFactory,
    LicenceTermsFactory,
    declaration_withdraw,
    eligible_patent,
    holder_admin,
    holder_member,
)
from tests.parties.factories import HolderFactory

pytestmark = pytest.mark.django_db

OFFER = {
    "fee_form": FeeForm.LUMP_SUM,
    "lump_sum_fen": 5_000_000,
    "payment_method": "Paid in full online through the platform.",
    "duration_years": 3,
    "contact_name": "王老师",
    "contact_email": "tto@example.edu.cn",
    # Regulations art. 85 / Guidelines 3.3 (issue 19): the commitment and the fee-calculation basis.
    "conditions_commitment": True,
    "fee_basis_statement": "参照同领域已备案许可合同的许可费确定。",
}


def _today() -> date:
    return timezone.localdate()


def _years_ago(years: int) -> date:
    today = _today()
    return date(today.year - years, today.month, min(today.day, 28))


def source(code: str) -> str:
    """The registered rule's source (licensing/legal/register.py; its wording is checked in
    test_legal_register.py)."""
    return rule(code).citation()


def refusals(declaration: Declaration) -> set[tuple[str, str]]:
    """The (code, source) of every rule that refuses publishing this declaration."""
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    return {(f.code, f.source) for f in refused.value.failures}


def publishes(declaration: Declaration) -> Declaration:
    published = declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    assert published.state == DeclarationState.FILED
    return published


# Eligibility rules, one each, with the provision it comes from.

def test_an_eligible_lump_sum_declaration_publishes():
    publishes(DeclarationFactory())


def test_a_patent_not_granted_is_refused_under_patent_law_art_50():
    declaration = DeclarationFactory(patent=eligible_patent(legal_status=LegalStatus.LAPSED))
    assert refusals(declaration) == {("not_granted", source("not_granted"))}


def test_an_expired_patent_is_refused_under_patent_law_art_50():
    declaration = DeclarationFactory(patent=eligible_patent(filing_date=_years_ago(21), grant_date=_years_ago(19)))
    assert declaration.patent.expiry_date < _today()
    # A licence of any duration would also outlive it.
    assert refusals(declaration) == {("expired", source("expired")), ("duration_past_expiry", source("duration_past_expiry"))}


def test_unknown_annual_fee_payment_is_refused_under_regulations_art_85():
    declaration = DeclarationFactory(patent=eligible_patent(annual_fees_paid_through=None))
    assert refusals(declaration) == {("fees_unknown", source("fees_unknown"))}


def test_unpaid_annual_fees_are_refused_under_regulations_art_85():
    declaration = DeclarationFactory(patent=eligible_patent(annual_fees_paid_through=_today() - timedelta(days=1)))
    assert refusals(declaration) == {("fees_unpaid", source("fees_unpaid"))}


@pytest.mark.parametrize("kind", [PatentKind.UTILITY_MODEL, PatentKind.DESIGN])
def test_a_utility_model_or_design_without_evaluation_report_is_refused_under_patent_law_art_50(kind):
    declaration = DeclarationFactory(patent=eligible_patent(kind=kind))
    assert refusals(declaration) == {("evaluation_report", source("evaluation_report"))}


@pytest.mark.parametrize("kind", [PatentKind.UTILITY_MODEL, PatentKind.DESIGN])
def test_a_utility_model_or_design_with_evaluation_report_publishes(kind):
    publishes(DeclarationFactory(patent=eligible_patent(kind=kind, evaluation_report="positive")))


def test_an_exclusive_licence_in_force_is_refused_under_regulations_art_85():
    declaration = DeclarationFactory(patent=eligible_patent(exclusive_licence_in_force=True))
    assert refusals(declaration) == {("exclusive_licence", source("exclusive_licence"))}


def test_a_co_owner_without_consent_is_refused_under_the_guidelines():
    patent = eligible_patent()
    PatentCoOwner.objects.create(patent=patent, name="某某研究院", share_percent=Decimal("30"))
    assert refusals(DeclarationFactory(patent=patent)) == {("co_owner_consent", source("co_owner_consent"))}


def test_a_co_owner_with_recorded_consent_publishes():
    patent = eligible_patent()
    owner = PatentCoOwner.objects.create(patent=patent, name="某某研究院", share_percent=Decimal("30"))
    declaration = DeclarationFactory(patent=patent)
    admin = holder_admin(patent.holder)
    consent = consent_record(declaration=declaration, kind=DeclarationConsent.Kind.CO_OWNER, by=admin,
                             party_name="ignored", signatory="李院长", consented_on=_today(), co_owner_id=owner.pk)
    assert consent.party_name == "某某研究院"
    assert declaration_file(declaration=declaration, by=admin).state == DeclarationState.FILED


def test_the_holder_listed_among_co_owners_needs_no_consent_from_itself():
    patent = eligible_patent()
    PatentCoOwner.objects.create(patent=patent, name=patent.holder.name_zh, organisation=patent.holder)
    publishes(DeclarationFactory(patent=patent))


def test_a_pledged_patent_without_pledgee_consent_is_refused_under_regulations_art_85():
    declaration = DeclarationFactory(patent=eligible_patent(pledged=True))
    assert refusals(declaration) == {("pledgee_consent", source("pledgee_consent"))}


def test_a_pledged_patent_with_pledgee_consent_publishes():
    declaration = DeclarationFactory(patent=eligible_patent(pledged=True))
    admin = holder_admin(declaration.holder)
    consent_record(declaration=declaration, kind=DeclarationConsent.Kind.PLEDGEE, by=admin,
                   party_name="某某银行深圳分行", signatory="赵经理", consented_on=_today())
    assert declaration_file(declaration=declaration, by=admin).state == DeclarationState.FILED


def test_a_lump_sum_over_rmb_20_million_is_refused_under_the_cnipa_2024_notice():
    declaration = DeclarationFactory(lump_sum_fen=2_000_000_001)
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    [failure] = refused.value.failures
    assert (failure.code, failure.source) == ("fixed_fee_cap", source("fixed_fee_cap"))
    assert "lump sum" in failure.message


def test_a_lump_sum_of_exactly_rmb_20_million_publishes():
    publishes(DeclarationFactory(lump_sum_fen=2_000_000_000))


def test_an_entry_fee_over_rmb_20_million_is_refused_under_the_cnipa_2024_notice():
    declaration = DeclarationFactory(fee_form=FeeForm.ENTRY_PLUS_ROYALTY, lump_sum_fen=None, entry_fee_fen=2_000_000_001,
                                     royalty_base=RoyaltyBase.NET_SALES, royalty_rate=Decimal("5"))
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    [failure] = refused.value.failures
    assert (failure.code, failure.source) == ("fixed_fee_cap", source("fixed_fee_cap"))
    assert "entry fee" in failure.message


def _royalty(base: str, rate: str) -> Declaration:
    return DeclarationFactory(fee_form=FeeForm.ROYALTY, lump_sum_fen=None, royalty_base=base, royalty_rate=Decimal(rate))


def test_a_royalty_over_20_percent_of_net_sales_is_refused_under_the_cnipa_2024_notice():
    declaration = _royalty(RoyaltyBase.NET_SALES, "20.01")
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    [failure] = refused.value.failures
    assert (failure.code, failure.source) == ("royalty_cap", source("royalty_cap"))
    assert "20" in failure.message and "net sales" in failure.message


def test_a_royalty_over_40_percent_of_profit_is_refused_under_the_cnipa_2024_notice():
    declaration = _royalty(RoyaltyBase.PROFIT, "40.01")
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    [failure] = refused.value.failures
    assert (failure.code, failure.source) == ("royalty_cap", source("royalty_cap"))
    assert "40" in failure.message and "profit" in failure.message


@pytest.mark.parametrize(("base", "rate"), [(RoyaltyBase.NET_SALES, "20"), (RoyaltyBase.PROFIT, "40"),
                                            (RoyaltyBase.PROFIT, "25")])
def test_a_royalty_at_its_cap_publishes(base, rate):
    publishes(_royalty(base, rate))


def _patent_expiring_end_of_next_year() -> Patent:
    # An invention filed on 1 January 18 years ago expires on 31 December next year: between one and two
    # years from any day of this year.
    return eligible_patent(filing_date=date(_today().year - 18, 1, 1), grant_date=date(_today().year - 16, 1, 1))


def test_a_duration_running_past_expiry_is_refused_under_regulations_art_86():
    declaration = DeclarationFactory(patent=_patent_expiring_end_of_next_year(), duration_years=2)
    assert refusals(declaration) == {("duration_past_expiry", source("duration_past_expiry"))}


def test_a_duration_ending_before_expiry_publishes():
    publishes(DeclarationFactory(patent=_patent_expiring_end_of_next_year(), duration_years=1))


def test_a_licence_ending_on_the_last_day_of_protection_publishes():
    # Filed 22 November 2007, the invention is in force up to and including 21 November 2027; a one-year
    # licence taken on 22 November 2026 ends that same day.
    patent = eligible_patent(filing_date=date(2007, 11, 22), grant_date=date(2010, 1, 5),
                             annual_fees_paid_through=date(2027, 11, 21))
    assert patent.expiry_date == date(2027, 11, 21)
    declaration = DeclarationFactory(patent=patent, duration_years=1)
    admin = holder_admin(patent.holder)
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=admin, today=date(2026, 11, 23))
    assert {(f.code, f.source) for f in refused.value.failures} == {("duration_past_expiry", source("duration_past_expiry"))}
    published = declaration_file(declaration=declaration, by=admin, today=date(2026, 11, 22))
    assert published.state == DeclarationState.FILED


def test_a_second_declaration_of_a_published_patent_is_refused_under_patent_law_art_50():
    first = publishes(DeclarationFactory())
    second = DeclarationFactory(patent=first.patent)
    assert refusals(second) == {("already_declared", source("already_declared"))}


def test_a_declaration_by_someone_other_than_the_patentee_is_refused_under_patent_law_art_50():
    declaration = DeclarationFactory(holder=HolderFactory())
    assert refusals(declaration) == {("not_patentee", source("not_patentee"))}


def test_a_declaration_without_a_way_of_payment_is_refused_under_regulations_art_86():
    assert refusals(DeclarationFactory(payment_method="  ")) == {("payment_method", source("payment_method"))}


def test_publishing_reports_every_failing_rule_at_once():
    patent = eligible_patent(legal_status=LegalStatus.LAPSED, annual_fees_paid_through=_today() - timedelta(days=30),
                             exclusive_licence_in_force=True)
    declaration = DeclarationFactory(patent=patent)
    with pytest.raises(DeclarationRefused) as refused:
        declaration_file(declaration=declaration, by=holder_admin(patent.holder))
    assert [f.code for f in refused.value.failures] == ["not_granted", "fees_unpaid", "exclusive_licence"]
    assert Declaration.objects.get(pk=declaration.pk).state == DeclarationState.DRAFT


# The state machine.

def test_filing_a_draft_lists_it_without_announcing_it_and_puts_the_patent_under_open_licence():
    declaration = DeclarationFactory()
    admin = holder_admin(declaration.holder)
    filed = declaration_file(declaration=declaration, by=admin)

    filed.refresh_from_db()
    assert filed.state == DeclarationState.FILED
    assert filed.filed_by == admin and filed.filed_at is not None
    # Only CNIPA announces (Patent Law art. 50): filing invents no number and writes nothing in the gazette.
    assert filed.cnipa_number is None and filed.announced_on is None
    assert not GazetteEntry.objects.filter(declaration=filed).exists()
    assert Patent.objects.get(pk=filed.patent_id).under_open_licence is True


def test_filing_twice_is_a_harmless_no_op():
    declaration = DeclarationFactory()
    admin = holder_admin(declaration.holder)
    first = declaration_file(declaration=declaration, by=admin)
    again = declaration_file(declaration=declaration, by=admin)
    assert again.filed_at == first.filed_at and again.state == DeclarationState.FILED


def test_withdrawing_requires_a_reason():
    declaration = publishes(DeclarationFactory())
    with pytest.raises(ValidationError):
        declaration_file_withdrawal(declaration=declaration, by=holder_admin(declaration.holder), reason="   ")
    assert Declaration.objects.get(pk=declaration.pk).state == DeclarationState.FILED


def test_the_withdrawals_announcement_lifts_the_open_licence_flag():
    declaration = publishes(DeclarationFactory())
    admin = holder_admin(declaration.holder)
    withdrawn = declaration_withdraw(services, declaration=declaration, by=admin,
                                     reason="技术已转让 / technology assigned")

    withdrawn.refresh_from_db()
    assert withdrawn.state == DeclarationState.WITHDRAWN
    assert withdrawn.withdrawn_by == admin and withdrawn.withdrawal_reason == "技术已转让 / technology assigned"
    assert withdrawn.withdrawal_filed_by == admin and withdrawn.withdrawal_announced_on == timezone.localdate()
    assert Patent.objects.get(pk=withdrawn.patent_id).under_open_licence is False


def test_filing_the_withdrawal_twice_is_a_no_op():
    declaration = publishes(DeclarationFactory())
    admin = holder_admin(declaration.holder)
    first = declaration_file_withdrawal(declaration=declaration, by=admin, reason="first reason")
    again = declaration_file_withdrawal(declaration=declaration, by=admin, reason="second reason")
    assert again.withdrawal_reason == "first reason" and again.withdrawal_filed_at == first.withdrawal_filed_at


def test_a_draft_cannot_be_withdrawn():
    declaration = DeclarationFactory()
    with pytest.raises(InvalidTransition):
        declaration_file_withdrawal(declaration=declaration, by=holder_admin(declaration.holder), reason="no")


def test_a_withdrawn_declaration_cannot_be_filed_again():
    declaration = publishes(DeclarationFactory())
    admin = holder_admin(declaration.holder)
    declaration_withdraw(services, declaration=declaration, by=admin, reason="assigned")
    with pytest.raises(InvalidTransition):
        declaration_file(declaration=declaration, by=admin)


def test_a_withdrawn_patent_can_be_declared_afresh():
    first = publishes(DeclarationFactory())
    declaration_withdraw(services, declaration=first, by=holder_admin(first.holder), reason="new terms")
    publishes(DeclarationFactory(patent=first.patent))


def test_only_drafts_can_be_discarded():
    draft = DeclarationFactory()
    member = holder_member(draft.holder)
    declaration_discard(declaration=draft, by=member)
    assert not Declaration.objects.filter(pk=draft.pk).exists()

    published = publishes(DeclarationFactory())
    with pytest.raises(InvalidTransition):
        declaration_discard(declaration=published, by=holder_admin(published.holder))
    assert Declaration.objects.filter(pk=published.pk).exists()


def test_a_plain_member_can_create_a_draft_but_not_publish_it():
    patent = eligible_patent()
    member = holder_member(patent.holder)
    draft = declaration_create(patent=patent, terms=LicenceTermsFactory(), by=member, **OFFER)
    assert draft.state == DeclarationState.DRAFT and draft.holder == patent.holder and draft.created_by == member
    with pytest.raises(NotAllowed):
        declaration_file(declaration=draft, by=member)
    assert Declaration.objects.get(pk=draft.pk).state == DeclarationState.DRAFT


def test_a_member_of_another_holder_cannot_create_a_draft():
    patent = eligible_patent()
    outsider = holder_admin(HolderFactory())
    with pytest.raises(NotAllowed):
        declaration_create(patent=patent, terms=LicenceTermsFactory(), by=outsider, **OFFER)
    assert not Declaration.objects.filter(patent=patent).exists()


# Standard terms, frozen in versions.

def test_terms_edited_and_republished_freeze_a_new_version_and_old_declarations_keep_theirs():
    terms = LicenceTermsFactory()
    admin = holder_admin(HolderFactory())
    holder = admin.memberships.get().organisation
    first = declaration_create(patent=eligible_patent(holder=holder), terms=terms, by=admin, **OFFER)
    v1 = first.terms_version
    old_clauses, old_sha = v1.clauses_zh, v1.sha256
    assert v1.number == 1
    assert old_sha == LicenceTermsVersion.digest(terms.name_zh, terms.name_en, terms.clauses_zh, terms.clauses_en)

    terms.clauses_zh = old_clauses + "\n第三条 许可使用费按年结算。"
    terms.clauses_en = terms.clauses_en + "\n3. Royalties are settled yearly."
    terms.save_revision().publish()

    second = declaration_create(patent=eligible_patent(holder=holder), terms=terms, by=admin, **OFFER)
    assert second.terms_version.number == 2
    assert second.terms_version.clauses_zh.endswith("按年结算。")
    assert second.terms_version.sha256 != old_sha

    first.refresh_from_db()
    assert first.terms_version_id == v1.pk
    assert first.terms_version.number == 1
    assert first.terms_version.clauses_zh == old_clauses
    assert first.terms_version.sha256 == old_sha


def test_an_unpublished_edit_does_not_change_the_offered_version():
    terms = LicenceTermsFactory()
    v1 = terms_version_current(terms=terms)
    terms.clauses_en = "A draft change not yet published."
    terms.save_revision()
    assert terms_version_current(terms=LicenceTerms.objects.get(pk=terms.pk)) == v1


def test_the_same_text_reuses_its_version():
    terms = LicenceTermsFactory()
    assert terms_version_current(terms=terms) == terms_version_current(terms=terms)
    assert terms.versions.count() == 1


def test_a_licence_terms_version_cannot_be_saved_again():
    version = terms_version_current(terms=LicenceTermsFactory())
    version.clauses_zh = "改过的条款"
    with pytest.raises(ValidationError):
        version.save()
    assert LicenceTermsVersion.objects.get(pk=version.pk).clauses_zh != "改过的条款"


def test_draft_only_terms_cannot_be_offered():
    terms = LicenceTermsFactory(live=False)
    with pytest.raises(ValidationError):
        terms_version_current(terms=terms)
    patent = eligible_patent()
    with pytest.raises(ValidationError):
        declaration_create(patent=patent, terms=terms, by=holder_admin(patent.holder), **OFFER)
    assert not LicenceTermsVersion.objects.filter(terms=terms).exists()


# Declaring many patents at once.

def test_bulk_declaring_publishes_the_eligible_and_reports_the_expired_one():
    holder = HolderFactory()
    admin = holder_admin(holder)
    good = [eligible_patent(holder=holder), eligible_patent(holder=holder)]
    expired = eligible_patent(holder=holder, filing_date=_years_ago(21), grant_date=_years_ago(19))

    results = declarations_file_bulk(patents=[good[0], expired, good[1]], terms=LicenceTermsFactory(), by=admin,
                                        **OFFER)

    assert [r.patent for r in results] == [good[0], expired, good[1]]
    assert [r.filed for r in results] == [True, False, True]
    assert "expired" in {f.code for f in results[1].failures}
    assert results[1].declaration is None
    assert not Declaration.objects.filter(patent=expired).exists()
    assert Declaration.objects.filter(patent__in=good, state=DeclarationState.FILED).count() == 2
    assert results[0].declaration.terms_version == results[2].declaration.terms_version


def test_bulk_declaring_reports_a_patent_of_another_holder_and_carries_on():
    holder = HolderFactory()
    admin = holder_admin(holder)
    mine = [eligible_patent(holder=holder), eligible_patent(holder=holder)]
    foreign = eligible_patent()

    results = declarations_file_bulk(patents=[mine[0], foreign, mine[1]], terms=LicenceTermsFactory(), by=admin,
                                        **OFFER)

    assert [r.filed for r in results] == [True, False, True]
    assert [f.code for f in results[1].failures] == ["not_allowed"]
    assert not Declaration.objects.filter(patent=foreign).exists()


# The database keeps one standing offer per patent.

def test_two_published_declarations_of_one_patent_are_impossible_in_the_database():
    first = publishes(DeclarationFactory())
    second = DeclarationFactory(patent=first.patent)
    with pytest.raises(IntegrityError), transaction.atomic():
        Declaration.objects.filter(pk=second.pk).update(state=DeclarationState.FILED)
    assert Declaration.objects.get(pk=second.pk).state == DeclarationState.DRAFT


def test_a_withdrawal_without_reason_is_impossible_in_the_database():
    declaration = publishes(DeclarationFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Declaration.objects.filter(pk=declaration.pk).update(state=DeclarationState.WITHDRAWN)


# Fee arithmetic.

@pytest.mark.parametrize(("kind", "year", "fen"), [
    ("invention", 1, 90_000), ("invention", 3, 90_000), ("invention", 4, 120_000), ("invention", 9, 200_000),
    ("invention", 12, 400_000), ("invention", 15, 600_000), ("invention", 16, 800_000), ("invention", 20, 800_000),
    ("invention", 21, 0),
    ("utility_model", 1, 60_000), ("utility_model", 5, 90_000), ("utility_model", 8, 120_000),
    ("utility_model", 10, 200_000), ("utility_model", 11, 0),
    ("design", 1, 60_000), ("design", 10, 200_000), ("design", 11, 300_000), ("design", 15, 300_000),
    ("design", 16, 0),
])
def test_annual_fee_follows_the_official_schedule(kind, year, fen):
    assert fees.annual_fee_fen(kind, year) == fen


def test_patent_years_run_from_the_filing_date():
    filed = date(2021, 3, 15)
    assert fees.patent_year(filed, date(2021, 3, 15)) == 1
    assert fees.patent_year(filed, date(2022, 3, 14)) == 1
    assert fees.patent_year(filed, date(2022, 3, 15)) == 2
    assert fees.patent_year(filed, date(2041, 3, 14)) == 20


def test_licence_cost_of_a_lump_sum_is_paid_in_the_first_year():
    rows = fees.licence_cost_fen(fee_form="lump_sum", years=3, annual_net_sales_fen=100_000_000, lump_sum_fen=5_000_000)
    assert rows == [(1, 5_000_000), (2, 0), (3, 0)]


def test_licence_cost_of_a_royalty_never_falls_below_the_annual_minimum():
    rows = fees.licence_cost_fen(fee_form="royalty", years=2, annual_net_sales_fen=10_000_000,
                                 royalty_rate=Decimal("5"), annual_minimum_fen=600_000)
    assert rows == [(1, 600_000), (2, 600_000)]
    rows = fees.licence_cost_fen(fee_form="royalty", years=2, annual_net_sales_fen=100_000_000,
                                 royalty_rate=Decimal("5"), annual_minimum_fen=600_000)
    assert rows == [(1, 5_000_000), (2, 5_000_000)]


def test_licence_cost_of_a_royalty_on_profit_uses_the_profit_figure():
    rows = fees.licence_cost_fen(fee_form="royalty", years=1, annual_net_sales_fen=100_000_000,
                                 annual_profit_fen=12_345_678, royalty_base="profit", royalty_rate=Decimal("12.5"))
    assert rows == [(1, 1_543_210)]  # 1,543,209.75 rounded half up


def test_licence_cost_of_entry_fee_plus_royalty_adds_the_entry_fee_to_the_first_year():
    rows = fees.licence_cost_fen(fee_form="entry_plus_royalty", years=3, annual_net_sales_fen=20_000_000,
                                 entry_fee_fen=1_000_000, royalty_rate=Decimal("3"), annual_minimum_fen=0)
    assert rows == [(1, 1_600_000), (2, 600_000), (3, 600_000)]
