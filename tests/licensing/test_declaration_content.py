"""What a declaration says (Implementing Regulations art. 85, Guidelines Part V ch. 11 section 3.3): the commitment
that the conditions are met, the fee-calculation basis (at most 2,000 characters), contact details, and no
commercial promotional wording, each refusal naming the words found."""

import pytest
from django.utils import timezone

from licensing.declarations.rules import declaration_eligibility
from licensing.legal.wording import WORD_LIST, promotional_terms, promotional_words_in
from tests.licensing.factories import DeclarationFactory

pytestmark = pytest.mark.django_db

PROMOTIONAL_SOURCE = ("Implementing Regulations (2023) art. 85 para. 3; "
                      "Patent Examination Guidelines (2023) Part V ch. 11 section 3.3")


def failures(declaration):
    return declaration_eligibility(declaration=declaration, today=timezone.localdate())


def test_promotional_wording_in_the_way_of_payment_is_refused_naming_the_words():
    declaration = DeclarationFactory(payment_method="国家级最佳技术，稳赚不赔。一次性付清。")
    [failure] = failures(declaration)
    assert (failure.code, failure.source) == ("promotional_wording", PROMOTIONAL_SOURCE)
    assert failure.message == ("The way of payment contains promotional wording: “最佳”、“国家级”、“稳赚不赔”. "
                               "Describe the offer plainly.")


def test_english_promotional_wording_in_the_field_of_use_note_is_refused():
    declaration = DeclarationFactory(field_of_use_note="The best battery chemistry, No. 1 in China, guaranteed returns.")
    [failure] = failures(declaration)
    assert failure.code == "promotional_wording"
    assert "“best”、“No. 1”、“guaranteed returns”" in failure.message and "field of use note" in failure.message


@pytest.mark.parametrize("text", [
    "第一年支付入门费，第一期提成于次年3月31日前支付。",  # first year, first instalment: ordinary terms
    "本许可为非独家、非独占的普通许可。",  # non-exclusive contains 独家
    "按净销售额的3%计算，首付100%。",
    "Paid within 30 days of each licence year; for asbestos-free processes only.",
])
def test_plain_licensing_language_passes(text):
    assert promotional_words_in(text) == []


def test_the_word_list_is_documented_data_citing_its_sources():
    text = WORD_LIST.read_text(encoding="utf-8")
    assert "Advertising Law" in text and "art. 85 para. 3" in text and "Guidelines" in text
    terms = promotional_terms()
    for term in ("最佳", "国家级", "顶级", "独家", "保证收益", "稳赚", "best", "No. 1", "guaranteed returns"):
        assert term in terms


GUIDELINES_3_3 = "Patent Examination Guidelines (2023) Part V ch. 11 section 3.3"


def test_a_declaration_without_the_commitment_that_the_conditions_are_met_is_refused():
    [failure] = failures(DeclarationFactory(conditions_commitment=False))
    assert (failure.code, failure.source) == (
        "conditions_commitment", f"{GUIDELINES_3_3}; Implementing Regulations (2023) art. 85 para. 2 item (5)")


def test_a_declaration_without_a_fee_basis_statement_is_refused():
    [failure] = failures(DeclarationFactory(fee_basis_statement="   "))
    assert (failure.code, failure.source, failure.message) == (
        "fee_basis_statement", GUIDELINES_3_3, "State how the licence fee was calculated.")


def test_a_fee_basis_statement_over_2000_characters_is_refused_and_2000_pass():
    assert failures(DeclarationFactory(fee_basis_statement="按" * 2000)) == []
    [failure] = failures(DeclarationFactory.build(patent=DeclarationFactory().patent, fee_basis_statement="按" * 2001))
    assert (failure.code, failure.message) == (
        "fee_basis_statement",
        "The statement of how the fee was calculated has 2001 characters; at most 2000 are allowed.")


def test_promotional_wording_in_the_fee_basis_statement_is_refused():
    [failure] = failures(DeclarationFactory(fee_basis_statement="按行业第一的顶级标准定价，保证收益。"))
    assert failure.message == ("The fee-calculation basis contains promotional wording: “顶级”、“行业第一”、“保证收益”. "
                               "Describe the offer plainly.")


def test_contact_details_need_a_person_and_an_address_or_phone():
    declaration = DeclarationFactory.build(patent=DeclarationFactory().patent, contact_name=" ", contact_email="",
                                           contact_phone="")
    [failure] = failures(declaration)
    assert (failure.code, failure.source) == (
        "contact_details", f"{GUIDELINES_3_3}; Implementing Regulations (2023) art. 85 para. 2 item (5)")
    declaration.contact_name, declaration.contact_phone = "王老师", "0755-12345678"
    assert failures(declaration) == []


def test_the_declare_form_asks_for_the_basis_and_the_commitment(client, demo_pages):
    from django.urls import reverse

    from tests.licensing.factories import holder_admin

    declaration = DeclarationFactory()
    client.force_login(holder_admin(declaration.holder))
    body = client.get(reverse("declare") + f"?holder={declaration.holder.slug}&patent={declaration.patent.pk}",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="fee_basis_statement"' in body and 'name="conditions_commitment"' in body
