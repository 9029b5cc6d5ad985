"""Taking a licence against the real localstripe: the written notice and its terms snapshot, card payments
with Stripe.js tokens (accepted, declined, 3-D Secure), the licence it activates, the balanced ledger with
the platform fee, and innovation vouchers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from licensing.declarations import services as declarations
from licensing.exceptions import LicensingError, NotAllowed
from licensing.licences.services import (
    licence_cancel,
    payment_apply_voucher,
    payment_pay_with_card,
    payment_start,
    payment_sync,
)
from licensing.models.licences import LedgerAccount, LedgerEntry, Licence, LicenceState, Payment, Voucher, VoucherUse
from licensing.payments.gateway import confirm_with_card_token
from licensing.vouchers.services import voucher_split
from patents.models import Patent
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, holder_admin
from tests.licensing.fixtures_payments import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    authenticate_3ds,
    card_token,
    give_notice,
    intent_at_stripe,
    licensee_with_member,
    notice,
    postings,
    published_declaration,
    royalty_offer,
    set_platform_fee_rate,
    use_localstripe,
    voucher_for,
)
from tests.parties.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _localstripe(settings, localstripe_url):
    use_localstripe(settings, localstripe_url)


def _anniversary_eve(start: date, years: int) -> date:
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + years, day=28)
    return anniversary - timedelta(days=1)


def _notice(**offer):
    return notice(**offer)


def _first_payment(licence: Licence) -> Payment:
    return licence.payments.get(purpose=Payment.Purpose.FIRST_AMOUNT)


# --- the written notice ---------------------------------------------------------------------------------


def test_notice_snapshots_the_declared_terms_version_text_and_its_sha256():
    declaration = published_declaration()
    version = declaration.terms_version
    licensee, member = licensee_with_member()

    licence = give_notice(declaration, licensee, member)

    assert licence.terms_version == version
    assert licence.terms_sha256 == version.sha256
    for text in (version.name_zh, version.clauses_zh, version.name_en, version.clauses_en):
        assert text in licence.terms_text
    assert licence.state == LicenceState.PAYMENT_PENDING
    payment = _first_payment(licence)
    assert (payment.amount_fen, payment.charge_fen, payment.state) == (5_000_000, 5_000_000, Payment.State.CREATED)

    # An editor changing the standard terms later changes nothing the licensee accepted.
    terms = version.terms
    terms.clauses_en = "1. Rewritten."
    terms.save_revision().publish()
    licence.refresh_from_db()
    assert licence.terms_sha256 == version.sha256 and "Rewritten" not in licence.terms_text


def test_notice_accepting_another_terms_hash_is_refused():
    declaration = published_declaration()
    licensee, member = licensee_with_member()
    with pytest.raises(LicensingError, match="not the terms of this declaration"):
        give_notice(declaration, licensee, member, accepted_terms_sha256="0" * 64)
    assert not Licence.objects.exists()


def test_notice_on_a_draft_declaration_is_refused():
    draft = DeclarationFactory()
    licensee, member = licensee_with_member()
    with pytest.raises(LicensingError, match="not open for licensing"):
        give_notice(draft, licensee, member)
    assert not Licence.objects.exists()


def test_notice_on_a_withdrawn_declaration_is_refused():
    declaration = published_declaration()
    declaration_withdraw(declarations, declaration=declaration, by=holder_admin(declaration.holder),
                         reason="Assigned the patent.")
    licensee, member = licensee_with_member()
    with pytest.raises(LicensingError, match="not open for licensing"):
        give_notice(declaration, licensee, member)
    assert not Licence.objects.exists()


def test_a_licensor_cannot_license_its_own_patent():
    declaration = published_declaration()
    holder = declaration.holder
    holder.is_licensee = True  # even a holder that also takes licences elsewhere
    holder.save()
    member = MembershipFactory(organisation=holder).user
    with pytest.raises(LicensingError, match="cannot license its own"):
        give_notice(declaration, holder, member)
    assert not Licence.objects.exists()


def test_someone_outside_the_licensee_cannot_give_notice_for_it():
    declaration = published_declaration()
    licensee, _member = licensee_with_member()
    with pytest.raises(NotAllowed):
        give_notice(declaration, licensee, UserFactory())
    assert not Licence.objects.exists()


def test_a_second_notice_by_the_same_licensee_returns_its_live_licence():
    declaration = published_declaration()
    licensee, member = licensee_with_member()
    first = give_notice(declaration, licensee, member)
    second = give_notice(declaration, licensee, member)
    assert second.pk == first.pk
    assert Licence.objects.count() == 1 and Payment.objects.count() == 1


def test_a_second_notice_once_the_licence_is_active_is_refused():
    licence, member = _notice()
    payment_pay_with_card(payment=_first_payment(licence), token_id=card_token(CARD_OK))
    with pytest.raises(LicensingError, match="already holds an active licence"):
        give_notice(licence.declaration, licence.licensee, member)
    assert Licence.objects.count() == 1


def test_a_royalty_declaration_without_minimum_activates_at_notice_with_nothing_to_pay():
    licence, _ = _notice(**royalty_offer(annual_minimum_fen=None))
    assert licence.first_amount_fen == 0
    assert licence.state == LicenceState.ACTIVE
    assert licence.certificate_number and licence.starts_on == timezone.localdate()
    assert not Payment.objects.exists() and not LedgerEntry.objects.exists()


# --- card payments ----------------------------------------------------------------------------------------


def test_card_4242_pays_activates_the_licence_and_posts_a_balanced_ledger_with_the_platform_fee():
    set_platform_fee_rate(Decimal("2.50"))
    licence, _ = _notice(lump_sum_fen=1_000_020)  # 2.5 % = 25,000.5 fen: rounded half up to 25,001
    payment = _first_payment(licence)

    result = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))

    assert result["status"] == "succeeded"
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED and payment.succeeded_at is not None
    intent = intent_at_stripe(payment.stripe_payment_intent_id)
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 1_000_020, "cny")
    assert intent["metadata"]["payment_id"] == str(payment.pk)

    today = timezone.localdate()
    assert licence.state == LicenceState.ACTIVE
    assert licence.certificate_number.startswith(f"OL{today:%Y}")
    assert licence.starts_on == today
    assert licence.ends_on == _anniversary_eve(today, 3)

    [lines] = postings(licence).values()
    assert sum(lines.values()) == 0
    assert lines == {LedgerAccount.CARD_CLEARING: 1_000_020, LedgerAccount.PLATFORM_FEES: -25_001,
                     LedgerAccount.HOLDER_PAYABLE: -(1_000_020 - 25_001)}
    holder_line = LedgerEntry.objects.get(licence=licence, account=LedgerAccount.HOLDER_PAYABLE)
    assert holder_line.organisation_id == licence.licensor_id and holder_line.payment_id == payment.pk


def test_a_licence_never_runs_past_the_patent_expiry():
    declaration = published_declaration(duration_years=5)
    expiry = timezone.localdate() + timedelta(days=400)  # e.g. the patent's term ran short since publishing
    Patent.objects.filter(pk=declaration.patent_id).update(expiry_date=expiry)
    licensee, member = licensee_with_member()
    licence = give_notice(declaration, licensee, member)

    payment_pay_with_card(payment=_first_payment(licence), token_id=card_token(CARD_OK))

    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE and licence.ends_on == expiry


def test_paying_again_after_success_charges_nothing_more():
    licence, _ = _notice()
    payment = _first_payment(licence)
    payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))
    again = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))
    assert again["status"] == "succeeded"
    assert len(postings(licence)) == 1


def test_a_declined_card_says_so_leaves_no_licence_and_no_ledger_then_a_good_card_succeeds():
    licence, _ = _notice()
    payment = _first_payment(licence)

    result = payment_pay_with_card(payment=payment, token_id=card_token(CARD_DECLINED))

    assert result["status"] == "failed"
    assert "declined" in result["message"].lower()
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.FAILED and "declined" in payment.failure_message.lower()
    assert licence.state == LicenceState.PAYMENT_FAILED and not licence.certificate_number
    assert not LedgerEntry.objects.exists()
    declined_intent = payment.stripe_payment_intent_id

    retry = payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))

    assert retry["status"] == "succeeded", retry
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED and payment.failure_message == ""
    assert licence.state == LicenceState.ACTIVE and licence.certificate_number
    # The retry ran on a fresh intent; the declined one was cancelled, so it can never be charged later.
    assert payment.stripe_payment_intent_id != declined_intent
    assert intent_at_stripe(declined_intent)["status"] == "canceled"
    assert len(postings(licence)) == 1


def test_a_3d_secure_card_waits_for_authentication_then_the_return_page_activates_the_licence():
    licence, _ = _notice()
    payment = _first_payment(licence)

    result = payment_pay_with_card(payment=payment, token_id=card_token(CARD_3DS))

    assert result["status"] == "requires_action" and result["client_secret"]
    assert result["message"]
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.REQUIRES_ACTION
    assert licence.state == LicenceState.PAYMENT_PENDING and not licence.certificate_number
    assert not LedgerEntry.objects.exists()

    authenticate_3ds(payment.stripe_payment_intent_id, result["client_secret"], success=True)
    synced = payment_sync(payment=payment)

    assert synced["status"] == "succeeded"
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    payment.refresh_from_db()
    assert payment_sync(payment=payment)["status"] == Payment.State.SUCCEEDED  # a reload changes nothing
    assert len(postings(licence)) == 1


def test_a_failed_3d_secure_authentication_fails_the_payment_and_activates_nothing():
    licence, _ = _notice()
    payment = _first_payment(licence)
    result = payment_pay_with_card(payment=payment, token_id=card_token(CARD_3DS))
    payment.refresh_from_db()

    authenticate_3ds(payment.stripe_payment_intent_id, result["client_secret"], success=False)
    synced = payment_sync(payment=payment)

    assert synced["status"] == "failed" and "authentication" in synced["message"]
    payment.refresh_from_db()
    licence.refresh_from_db()
    assert payment.state == Payment.State.FAILED
    assert licence.state == LicenceState.PAYMENT_FAILED and not licence.certificate_number
    assert not LedgerEntry.objects.exists()


# --- innovation vouchers ----------------------------------------------------------------------------------


def test_a_voucher_covers_part_and_the_card_is_charged_the_rest():
    licence, member = _notice(lump_sum_fen=1_000_000)
    voucher = voucher_for(licence.licensee, amount_fen=300_000)
    payment = _first_payment(licence)

    payment = payment_apply_voucher(payment=payment, voucher=voucher, by=member)

    assert (payment.voucher_fen, payment.charge_fen) == (300_000, 700_000)
    voucher.refresh_from_db()
    assert voucher.balance_fen == 0
    assert VoucherUse.objects.get(voucher=voucher, payment=payment).amount_fen == 300_000

    assert payment_pay_with_card(payment=payment, token_id=card_token(CARD_OK))["status"] == "succeeded"
    payment.refresh_from_db()
    assert intent_at_stripe(payment.stripe_payment_intent_id)["amount"] == 700_000
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    [lines] = postings(licence).values()
    assert sum(lines.values()) == 0
    assert lines[LedgerAccount.CARD_CLEARING] == 700_000 and lines[LedgerAccount.VOUCHER_FUND] == 300_000
    assert lines[LedgerAccount.HOLDER_PAYABLE] == -1_000_000  # no platform fee set


def test_a_voucher_covering_everything_pays_without_a_card():
    licence, member = _notice(lump_sum_fen=1_000_000)
    voucher = voucher_for(licence.licensee, amount_fen=2_500_000)
    payment = payment_apply_voucher(payment=_first_payment(licence), voucher=voucher, by=member)

    payment, client_secret = payment_start(payment=payment)

    assert client_secret == "" and payment.state == Payment.State.SUCCEEDED
    assert payment.stripe_payment_intent_id is None
    voucher.refresh_from_db()
    assert voucher.balance_fen == 1_500_000
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE
    [lines] = postings(licence).values()
    assert LedgerAccount.CARD_CLEARING not in lines and lines[LedgerAccount.VOUCHER_FUND] == 1_000_000
    assert sum(lines.values()) == 0


@pytest.mark.parametrize(("how", "error"), [
    ("expired", LicensingError),
    ("not for licence fees", LicensingError),
    ("another organisation's", NotAllowed),
])
def test_a_voucher_that_cannot_pay_this_is_refused_and_keeps_its_balance(how, error):
    licence, member = _notice(lump_sum_fen=1_000_000)
    if how == "expired":
        voucher = voucher_for(licence.licensee, amount_fen=300_000, expires_in_days=-1)
    elif how == "not for licence fees":
        voucher = voucher_for(licence.licensee, amount_fen=300_000, uses=(Voucher.Use.PATENT_AGENCY,))
    else:
        other, _ = licensee_with_member()
        voucher = voucher_for(other, amount_fen=300_000)

    with pytest.raises(error):
        payment_apply_voucher(payment=_first_payment(licence), voucher=voucher, by=member)

    voucher.refresh_from_db()
    assert voucher.balance_fen == 300_000 and not VoucherUse.objects.exists()
    payment = _first_payment(licence)
    assert (payment.voucher_fen, payment.charge_fen) == (0, 1_000_000)


def test_the_pay_page_shows_the_voucher_card_split_before_paying_and_charges_exactly_that(client):
    licence, member = _notice(lump_sum_fen=12_000_000)
    voucher = voucher_for(licence.licensee, amount_fen=5_000_000)
    client.force_login(member)
    url = reverse("licence_detail", args=[licence.pk])

    with translation.override("en"):
        before = client.get(url).content.decode()
        preview = client.get(url, {"voucher": voucher.pk}).content.decode()

    assert '<span class="amount-due">¥120,000.00</span>' in before and "Charged to the card" not in before
    assert '<span class="amount-due">¥70,000.00</span>' in preview
    assert '<dd class="split-voucher">¥50,000.00</dd>' in preview and '<dd class="split-card">¥70,000.00</dd>' in preview
    assert f'data-voucher="{voucher.pk}"' in preview and 'data-card-fen="7000000"' in preview
    voucher.refresh_from_db()  # a preview spends nothing
    assert voucher.balance_fen == 5_000_000 and not VoucherUse.objects.exists()

    response = client.post(reverse("licence_pay", args=[licence.pk]), content_type="application/json",
                           data={"voucher": voucher.pk, "token": card_token(CARD_OK)})

    assert response.json()["status"] == "succeeded"
    payment = _first_payment(licence)
    assert (payment.voucher_fen, payment.charge_fen) == (5_000_000, 7_000_000)
    assert intent_at_stripe(payment.stripe_payment_intent_id)["amount"] == 7_000_000


def test_a_voucher_covering_everything_is_previewed_as_nothing_for_the_card(client):
    licence, member = _notice(lump_sum_fen=1_000_000)
    voucher = voucher_for(licence.licensee, amount_fen=2_500_000)
    client.force_login(member)
    with translation.override("en"):
        page = client.get(reverse("licence_detail", args=[licence.pk]), {"voucher": voucher.pk}).content.decode()
    assert '<dd class="split-voucher">¥10,000.00</dd>' in page and '<dd class="split-card">¥0.00</dd>' in page
    assert 'data-card-fen="0"' in page


def test_the_preview_ignores_a_voucher_that_is_not_the_licensees():
    licence, member = _notice(lump_sum_fen=1_000_000)
    other, _ = licensee_with_member()
    voucher = voucher_for(other, amount_fen=300_000)
    client = Client()
    client.force_login(member)
    with translation.override("en"):
        page = client.get(reverse("licence_detail", args=[licence.pk]), {"voucher": voucher.pk}).content.decode()
    assert "split-card" not in page and voucher.code not in page and 'data-voucher=""' in page


def test_voucher_split_is_the_rule_applying_the_voucher_uses():
    licence, member = _notice(lump_sum_fen=1_000_000)
    voucher = voucher_for(licence.licensee, amount_fen=300_000)
    payment = _first_payment(licence)
    split = voucher_split(payment=payment, voucher=voucher)
    applied = payment_apply_voucher(payment=payment, voucher=voucher, by=member)
    assert (split.voucher_fen, split.card_fen) == (applied.voucher_fen, applied.charge_fen) == (300_000, 700_000)
    with pytest.raises(LicensingError):
        voucher_split(payment=payment, voucher=voucher_for(licence.licensee, amount_fen=1, expires_in_days=-1))


def test_cancelling_an_unpaid_notice_gives_the_voucher_balance_back_and_cancels_the_intent():
    licence, member = _notice(lump_sum_fen=1_000_000)
    voucher = voucher_for(licence.licensee, amount_fen=300_000)
    payment = payment_apply_voucher(payment=_first_payment(licence), voucher=voucher, by=member)
    payment, _secret = payment_start(payment=payment)

    licence = licence_cancel(licence=licence, by=member)

    assert licence.state == LicenceState.CANCELLED
    voucher.refresh_from_db()
    assert voucher.balance_fen == 300_000
    assert VoucherUse.objects.get(voucher=voucher).released
    payment.refresh_from_db()
    assert (payment.state, payment.voucher_fen, payment.charge_fen) == (Payment.State.CANCELLED, 0, 1_000_000)
    assert intent_at_stripe(payment.stripe_payment_intent_id)["status"] == "canceled"
    assert not LedgerEntry.objects.exists()


def test_a_notice_whose_card_was_already_charged_cannot_be_cancelled():
    licence, member = _notice()
    payment, _secret = payment_start(payment=_first_payment(licence))
    # Stripe.js confirmed the card in the browser; neither the webhook nor the return page has arrived yet.
    confirm_with_card_token(intent_id=payment.stripe_payment_intent_id, token_id=card_token(CARD_OK))

    with pytest.raises(LicensingError, match="cannot be cancelled"):
        licence_cancel(licence=licence, by=member)

    licence.refresh_from_db()
    assert licence.state == LicenceState.PAYMENT_PENDING
    assert payment_sync(payment=payment)["status"] == "succeeded"
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE


def test_the_terms_copy_on_a_licence_hashes_to_its_printed_sha256():
    import hashlib

    from licensing.models import LicenceTermsVersion

    version = LicenceTermsVersion(name_zh="条款", name_en="Terms", clauses_zh="第一条", clauses_en="1.")
    digest = LicenceTermsVersion.digest(version.name_zh, version.name_en, version.clauses_zh, version.clauses_en)
    assert hashlib.sha256(version.text.encode("utf-8")).hexdigest() == digest
