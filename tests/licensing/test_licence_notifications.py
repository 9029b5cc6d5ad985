"""Both parties hear of a licence taken and paid, in the app and by e-mail, exactly once: through Stripe's signed
webhook (replayed as Stripe replays it) and the buyer's return page racing it, on the real localstripe. A failed
card and a refund tell the licensee."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from licensing.exceptions import LicensingError
from licensing.licences.services import payment_pay_with_card, payment_sync
from licensing.models.licences import LicenceState, Payment, WebhookDelivery
from licensing.payments import refunds
from marketplace.parties import notifications
from marketplace.parties.models import Notification
from marketplace.parties.notifications import notification_text
from tests.licensing import ledger_builders as build
from tests.licensing.factories import holder_admin
from tests.licensing.fixtures_payments import (
    CARD_DECLINED,
    card_token,
    event_payload,
    intent_at_stripe,
    notice,
    post_webhook,
    signature,
)
from tests.parties.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fee_rate(settings, on_localstripe):
    settings.PLATFORM_FEE_RATE_PROVIDER = build.FEE_RATE_PROVIDER


def _told(kind: str) -> list[tuple[str, dict]]:
    return [(n.user.email, n.params) for n in Notification.objects.filter(kind=kind).select_related("user")]


def _parties(licence):
    """The member who gave the notice (the licensee's only one) and an administrator of the holder."""
    return licence.licensee.memberships.get().user, holder_admin(licence.licensor)


def test_a_paid_licence_tells_the_licensee_and_the_holder_once_even_when_stripe_replays_the_event(
    client, django_capture_on_commit_callbacks, paid_at_stripe
):
    licence, payment, intent = paid_at_stripe
    buyer, holder = _parties(licence)
    colleague = MembershipFactory(organisation=licence.licensor).user  # every member of the holder hears of it
    payload = event_payload("payment_intent.succeeded", intent)
    header = signature(payload)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(payload, header).status_code == 200
    licence.refresh_from_db()
    assert licence.state == LicenceState.ACTIVE

    [(to_buyer, active)] = _told("licence.active")
    assert to_buyer == buyer.email and active["certificate"] == licence.certificate_number
    assert active["amount"]["en"] == "¥20,000.00" and active["amount"]["zh-hans"].endswith(" 元")
    holders = sorted(m.user.email for m in licence.licensor.memberships.select_related("user"))
    assert colleague.email in holders and holder.email in holders
    assert sorted(email for email, _params in _told("licence.new_licensee")) == holders
    assert sorted(m.to[0] for m in mail.outbox) == sorted([buyer.email, *holders])
    to_holder = next(m for m in mail.outbox if m.to == [holder.email])
    assert licence.certificate_number in to_holder.body and licence.licensee.name_zh in to_holder.body
    assert reverse("licence_detail", args=[licence.pk]) in to_holder.body

    # Stripe delivers the same signed event again, and the buyer's browser comes back to the return page.
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(payload, header).status_code == 200
        payment.refresh_from_db()
        assert payment_sync(payment=payment)["status"] == "succeeded"
    assert WebhookDelivery.objects.filter(result=WebhookDelivery.Result.DUPLICATE).count() == 1
    assert Notification.objects.count() == 1 + len(holders) and len(mail.outbox) == 1 + len(holders)

    # The holder reads it in the inbox, in the language of the page.
    client.force_login(holder)
    with translation.override("en"):
        page = client.get(reverse("notification_list")).content.decode()
    assert f"{licence.licensee.name_zh} took a licence of {licence.patent.number}" in page
    assert "¥20,000.00" in page and licence.certificate_number in page
    # The amount in the one money format of each language (it read '20000.00 元' in Chinese), in the inbox,
    # in the text of the notification and in the e-mail (both languages).
    page = client.get("/zh-hans/notifications/").content.decode()
    assert "20,000.00 元" in page and "20000.00" not in page
    note = Notification.objects.get(user=holder, kind="licence.new_licensee")
    for language, amount in (("zh-hans", "20,000.00 元"), ("en", "¥20,000.00")):
        with translation.override(language):
            assert f"{amount}" in notification_text(note.kind, note.params)[1]
    assert "20,000.00 元" in to_holder.body and "¥20,000.00" in to_holder.body


def test_the_return_page_alone_activates_and_tells_both_parties_and_the_late_webhook_tells_nobody_again(
    django_capture_on_commit_callbacks, paid_at_stripe
):
    licence, payment, intent = paid_at_stripe
    buyer, holder = _parties(licence)

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_sync(payment=payment)["status"] == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        payload = event_payload("payment_intent.succeeded", intent)
        assert post_webhook(payload, signature(payload)).status_code == 200

    assert [email for email, _ in _told("licence.active")] == [buyer.email]
    holders = sorted(m.user.email for m in licence.licensor.memberships.select_related("user"))
    assert holder.email in holders and sorted(email for email, _ in _told("licence.new_licensee")) == holders
    assert len(mail.outbox) == 1 + len(holders)


def test_a_declined_card_tells_the_licensee_once_and_the_holder_nothing(django_capture_on_commit_callbacks):
    licence, buyer = notice(lump_sum_fen=2_000_000)
    holder = holder_admin(licence.licensor)
    payment = licence.payments.get()

    with django_capture_on_commit_callbacks(execute=True):
        result = payment_pay_with_card(payment=payment, token_id=card_token(CARD_DECLINED))
    assert result["status"] == "failed"
    payment.refresh_from_db()
    # Stripe's payment_intent.payment_failed event for the same attempt arrives after the page said so.
    with django_capture_on_commit_callbacks(execute=True):
        payload = event_payload("payment_intent.payment_failed", intent_at_stripe(payment.stripe_payment_intent_id))
        assert post_webhook(payload, signature(payload)).status_code == 200

    [(to, params)] = _told("payment.failed")
    assert to == buyer.email and "declined" in params["reason"]["en"] and "拒" in params["reason"]["zh-hans"]
    assert [m.to for m in mail.outbox] == [[buyer.email]]
    assert not Notification.objects.filter(user=holder).exists()


def test_a_refund_tells_the_licensee_and_a_refused_one_tells_nobody(django_capture_on_commit_callbacks):
    licence = build.licence(first_amount_fen=100_000)
    buyer = MembershipFactory(organisation=licence.licensee).user
    payment = build.paid_payment(licence, intent_id=build.succeeded_intent(100_000))
    admin = holder_admin(licence.licensor)

    with django_capture_on_commit_callbacks(execute=True):
        refunds.payment_refund(payment=payment, amount_fen=30_000, by=admin, reason="Late delivery of know-how")
    [(to, params)] = _told("payment.refunded")
    assert to == buyer.email and params["reason"] == "Late delivery of know-how"
    assert params["amount"]["en"] == "¥300.00"
    assert [m.to for m in mail.outbox] == [[buyer.email]]

    payment.refresh_from_db()
    with pytest.raises(LicensingError):  # more than is left: refused before anything is recorded
        refunds.payment_refund(payment=payment, amount_fen=90_000, by=admin, reason="Too much")
    assert Notification.objects.filter(kind="payment.refunded").count() == 1
    assert Payment.objects.get(pk=payment.pk).refunded_fen == 30_000


def test_seeding_stores_notifications_without_emailing_them(django_capture_on_commit_callbacks):
    """seed_demo makes its history's notifications inside ``without_emails`` (the console printed one e-mail per
    notification while seeding); outside it, the same notice is e-mailed."""
    user = MembershipFactory().user
    params = {
        "patent": "ZL202010000001.X",
        "amount": notifications.money_text(30_000),
        "holder": "南山大学",
        "title": "一种电池",
        "reason": "Late delivery",
    }
    with django_capture_on_commit_callbacks(execute=True), notifications.without_emails():
        notifications.notify(users=[user], kind="payment.refunded", params=params)
    assert Notification.objects.filter(user=user).count() == 1 and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(users=[user], kind="payment.refunded", params=params)
    assert Notification.objects.filter(user=user).count() == 2 and [m.to for m in mail.outbox] == [[user.email]]
