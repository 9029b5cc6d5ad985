"""Issue 19: every refusal a user sees names the rule in the page's language. Taking a licence, recording it
and reporting royalties: the refusal text ends with "(rule CODE: SOURCE)" (Chinese: "（规则 CODE：SOURCE）"),
seen through the pages and the services."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from licensing.exceptions import LicensingError
from licensing.licences.services import licence_cancel
from licensing.models.licences import Licence, LicenceState
from licensing.recording.services import licence_mark_recorded
from tests.licensing.factories import DeclarationFactory
from tests.licensing.fixtures_payments import give_notice, licensee_with_member, published_declaration, use_localstripe
from tests.licensing.test_recording import make_licence
from tests.licensing.test_royalties import AFTER_TERM, START, file, royalty_licence
from tests.parties.factories import HolderFactory, MembershipFactory, member

pytestmark = pytest.mark.django_db

PLATFORM_EN = "Platform rule (no statutory source)"
PLATFORM_ZH = "平台规则（无法定依据）"


@pytest.fixture(autouse=True)
def _localstripe(settings, localstripe_url):
    use_localstripe(settings, localstripe_url)


def _url(language, name, pk):
    """The page's address in its language (the site prefixes its paths with the language)."""
    with translation.override(language):
        return reverse(name, args=[pk])


def _take_page(client, declaration, user, language, **overrides):
    licensee = user.memberships.first().organisation
    data = {"licensee": licensee.pk, "legal_name": licensee.name_zh, "uscc": licensee.uscc or "",
            "contact_name": "张三", "contact_email": "buyer@example.cn", "contact_phone": "0755-12345678",
            "field_of_use": "动力电池正极材料的生产", "terms_sha256": declaration.terms_version.sha256, "accept": "on"}
    data.update(overrides)
    client.force_login(user)
    response = client.post(_url(language, "licence_take", declaration.pk), data)
    assert response.status_code == 200  # the page again, with the refusal
    return response.context["form"]


# Taking a licence -------------------------------------------------------------------------------------------

def test_the_licence_page_refuses_a_patentee_its_own_patent_naming_the_platform_rule(client):
    declaration = published_declaration()
    holder = declaration.holder
    holder.is_licensee = True
    holder.save()
    user = MembershipFactory(organisation=holder).user
    form = _take_page(client, declaration, user, "en")
    assert form.non_field_errors() == [
        f"A patentee cannot license its own patent. (rule licence_own_patent: {PLATFORM_EN})"]
    form = _take_page(client, declaration, user, "zh-hans")
    assert form.non_field_errors() == [f"专利权人不能对自己的专利取得许可。（规则 licence_own_patent：{PLATFORM_ZH}）"]
    assert not Licence.objects.exists()


def test_the_licence_page_refuses_terms_not_of_the_declaration_citing_patent_law_art_51(client):
    declaration = published_declaration()
    _licensee, user = licensee_with_member(is_licensee=True)
    form = _take_page(client, declaration, user, "en", terms_sha256="0" * 64)
    assert form.non_field_errors() == [
        "The terms you accepted are not the terms of this declaration; reload the page. "
        "(rule licence_terms_accepted: Patent Law (2020) art. 51 para. 1)"]
    form = _take_page(client, declaration, user, "zh-hans", terms_sha256="0" * 64)
    assert form.non_field_errors()[0].endswith("（规则 licence_terms_accepted：《专利法》（2020年修正）第五十一条第一款）")


def test_a_credit_code_not_the_licensees_is_refused_on_its_field_naming_the_rule(client):
    declaration = published_declaration()
    _licensee, user = licensee_with_member(is_licensee=True, uscc="91440300MA5FXXXX1X")
    form = _take_page(client, declaration, user, "en", uscc="91110000100000000A")
    errors = form.errors.get("uscc") or form.non_field_errors()
    assert any(e.endswith("(rule licence_notice_identity: Patent Law (2020) art. 51 para. 1)") for e in errors), errors


def test_a_notice_on_a_draft_and_a_second_active_licence_are_refused_naming_their_rules():
    licensee, user = licensee_with_member(is_licensee=True)
    with translation.override("en"), pytest.raises(LicensingError) as refused:
        give_notice(DeclarationFactory(), licensee, user)
    assert str(refused.value) == ("This declaration is not open for licensing. "
                                  "(rule licence_not_open: Patent Law (2020) art. 51 para. 1)")
    free = published_declaration(fee_form="royalty", lump_sum_fen=None, royalty_base="net_sales",
                                 royalty_rate="3.00", annual_minimum_fen=None)
    assert give_notice(free, licensee, user).state == LicenceState.ACTIVE  # nothing up front: active at once
    with translation.override("zh-hans"), pytest.raises(LicensingError) as refused:
        give_notice(free, licensee, user)
    assert str(refused.value).endswith(f"（规则 licence_one_active：{PLATFORM_ZH}）")


def test_cancelling_an_active_licence_is_refused_naming_the_rule():
    licensee, user = licensee_with_member(is_licensee=True)
    free = published_declaration(fee_form="royalty", lump_sum_fen=None, royalty_base="net_sales",
                                 royalty_rate="3.00", annual_minimum_fen=None)
    licence = give_notice(free, licensee, user)
    with translation.override("en"), pytest.raises(LicensingError) as refused:
        licence_cancel(licence=licence, by=user)
    assert str(refused.value) == f"Only an unpaid notice can be cancelled. (rule licence_cancel_unpaid: {PLATFORM_EN})"


# Recording ------------------------------------------------------------------------------------------------

def test_recording_refusals_name_the_rule_on_the_page_in_both_languages(client):
    holder = HolderFactory()
    user = member(holder)
    licence = make_licence(licensor=holder, activated_on=timezone.localdate() - timedelta(days=5))
    client.force_login(user)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(_url("zh-hans", "licence_recording", licence.pk),
                           {"recording_number": "2025990000001", "recorded_on": tomorrow.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].errors["recorded_on"] == [f"备案日期不能晚于今天。（规则 recording_details：{PLATFORM_ZH}）"]
    yesterday = timezone.localdate() - timedelta(days=1)
    licence_mark_recorded(licence=licence, recording_number="2025990000001", recorded_on=yesterday, by=user)
    response = client.post(_url("en", "licence_recording", licence.pk),
                           {"recording_number": "2025990000002", "recorded_on": yesterday.isoformat()})
    assert response.context["form"].errors["recording_number"] == [
        f"This licence is already recorded as 2025990000001 on {yesterday.isoformat()}. "
        f"(rule recording_once: {PLATFORM_EN})"]


def test_recording_a_licence_not_yet_in_effect_is_refused_naming_the_rule():
    holder = HolderFactory()
    licence = make_licence(licensor=holder, state=LicenceState.PAYMENT_PENDING)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        licence_mark_recorded(licence=licence, recording_number="1", recorded_on=date(2025, 2, 1), by=member(holder))
    assert refused.value.messages == [
        f"This licence has not taken effect; there is nothing to record yet. (rule recording_details: {PLATFORM_EN})"]


# Royalties ------------------------------------------------------------------------------------------------

def test_royalty_refusals_name_their_rules():
    licence = royalty_licence()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        file(licence, START + timedelta(days=1), date(2024, 3, 31), -5)
    errors = refused.value.message_dict
    assert errors["base_amount_fen"] == [
        f"Report net sales or profit as a whole number of fen, zero or more. (rule royalty_base: {PLATFORM_EN})"]
    assert errors["period_start"] == [
        "Periods follow each other without gaps; the next report starts on 2024-01-01. "
        f"(rule royalty_period: {PLATFORM_EN})"]
    other = royalty_licence(state=LicenceState.EXPIRED)
    with translation.override("zh-hans"), pytest.raises(LicensingError) as refused:
        file(other, START, date(2024, 3, 31), 100, today=AFTER_TERM)
    assert str(refused.value) == "只能就有效的许可报告提成费。（规则 royalty_licence：《专利法》（2020年修正）第五十一条第一款）"


def test_the_royalty_page_shows_the_refusal_with_its_rule(client):
    licence = royalty_licence()
    user = member(licence.licensee)
    client.force_login(user)
    response = client.post(_url("en", "royalty_reports", licence.pk),
                           {"period_start": "2024-02-01", "period_end": "2024-03-31", "base_amount": "1.00"})
    assert response.context["form"].errors["period_start"] == [
        "Periods follow each other without gaps; the next report starts on 2024-01-01. "
        f"(rule royalty_period: {PLATFORM_EN})"]



# Refunds and termination for non-payment ------------------------------------------------------------------

def test_refund_refusals_name_the_rule():
    from licensing.payments import refunds
    from tests.licensing import ledger_builders as build
    from tests.licensing.test_refunds import card_payment, holder_admin

    payment = card_payment(100_000)
    with translation.override("en"), pytest.raises(LicensingError) as refused:
        refunds.payment_refund(payment=payment, amount_fen=100_001, by=holder_admin(payment.licence), reason="x")
    assert str(refused.value) == ("The amount to refund must be more than 0 and at most 100000 fen. "
                                  f"(rule refund_terms: {PLATFORM_EN})")
    licence = build.licence()
    with translation.override("zh-hans"), pytest.raises(LicensingError) as refused:
        refunds.licence_terminate_for_non_payment(licence=licence, by=holder_admin(licence),
                                                  today=timezone.localdate())
    # The register's statement says 60 days: the grace period the service applies.
    assert refunds.GRACE_DAYS == 60
    assert str(refused.value).endswith(f"（规则 termination_non_payment：{PLATFORM_ZH}）")


def test_a_notice_without_accepting_the_terms_is_refused_naming_patent_law_art_51(client):
    declaration = published_declaration()
    _licensee, user = licensee_with_member(is_licensee=True)
    form = _take_page(client, declaration, user, "en", accept="")
    assert form.errors["accept"] == [
        "Accept the declaration's terms to give written notice. "
        "(rule licence_terms_accepted: Patent Law (2020) art. 51 para. 1)"]
    form = _take_page(client, declaration, user, "zh-hans", accept="")
    assert form.errors["accept"] == [
        "请接受声明的许可条件，方可提交书面通知。（规则 licence_terms_accepted：《专利法》（2020年修正）第五十一条第一款）"]
    assert not Licence.objects.exists()
