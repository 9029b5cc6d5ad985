"""Helpers for the licence, payment and webhook tests: a published declaration, a licensee with a member,
a notice, Stripe card tokens made on the real localstripe, 3-D Secure answered as its Stripe.js stand-in
answers it, vouchers, and Stripe events signed with Stripe's own scheme.

Each test module wires the session's localstripe into Django's settings with its own small fixture
(`use_localstripe`), so nothing here is a fixture that would have to be imported by name."""

import itertools
import json
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal

import stripe
from django.conf import settings as django_settings
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licensing.declarations.services import declaration_file
from licensing.licences.services import licence_notice_submit
from licensing.models import Declaration, DeclarationState, FeeForm
from licensing.models.licences import LedgerEntry, Licence, Voucher
from marketplace.parties.models import Organisation, User
from tests.licensing.factories import DeclarationFactory, holder_admin
from tests.parties.factories import MembershipFactory, OrganisationFactory

WEBHOOK_SECRET = "whsec_payments_tests"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"

_event_numbers = itertools.count(1)
_voucher_numbers = itertools.count(1)


def use_localstripe(settings, localstripe_url: str) -> None:
    """Point the app (which reads settings, not the stripe module) at the session's localstripe."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_SECRET_KEY = "sk_test_payments"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def set_platform_fee_rate(rate: Decimal) -> None:
    """The editor's site setting a payment takes its platform fee rate from when it succeeds: the default
    site's platform fee in percent."""
    from wagtail.models import Site

    from cms.models import PlatformSettings

    site = Site.objects.get(is_default_site=True)
    platform = PlatformSettings.for_site(site)
    platform.platform_fee_rate = rate
    platform.save()


def published_declaration(**offer) -> Declaration:
    """A declaration published through the real service (eligibility rules and all)."""
    declaration = DeclarationFactory(**offer)
    declaration = declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    assert declaration.state == DeclarationState.FILED
    return declaration


def royalty_offer(*, annual_minimum_fen: int | None = None) -> dict:
    return {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": "net_sales",
            "royalty_rate": Decimal("3.00"), "annual_minimum_fen": annual_minimum_fen}


def licensee_with_member(**org) -> tuple[Organisation, User]:
    membership = MembershipFactory(organisation=OrganisationFactory(**org))
    return membership.organisation, membership.user


def give_notice(declaration: Declaration, licensee: Organisation, by: User, **overrides) -> Licence:
    """The written notice as the licence page sends it, accepting the version shown."""
    fields = {"legal_name": licensee.name_zh, "uscc": licensee.uscc or "", "contact_name": "张三",
              "contact_email": "buyer@example.cn", "contact_phone": "0755-12345678",
              "field_of_use": "动力电池正极材料的生产 / producing cathode material for traction batteries",
              "accepted_terms_sha256": declaration.terms_version.sha256}
    fields.update(overrides)
    return licence_notice_submit(declaration=declaration, licensee=licensee, by=by, **fields)


def notice(**offer) -> tuple[Licence, User]:
    """A licensee's notice on a newly published declaration (`offer`: the declaration's fields), the licence
    waiting for its first payment. Returns the licence and the member who gave the notice."""
    licensee, member = licensee_with_member()
    return give_notice(published_declaration(**offer), licensee, member), member


def card_token(number: str) -> str:
    """What Stripe.js hands the page: a token for the card, made by localstripe's /v1/tokens."""
    token = stripe.Token.create(card={"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                                api_key="sk_test_x")
    return token.id


def authenticate_3ds(intent_id: str, client_secret: str, *, success: bool) -> dict:
    """The buyer answers the bank's 3-D Secure challenge, as localstripe's Stripe.js does it."""
    url = (f"{django_settings.STRIPE_API_BASE}/v1/payment_intents/{intent_id}/_authenticate"
           f"?success={'true' if success else 'false'}")
    body = json.dumps({"key": "pk_test_payments", "client_secret": client_secret}).encode()
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - our own loopback localstripe
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own loopback localstripe
        return json.loads(response.read())


def intent_at_stripe(intent_id: str) -> dict:
    """The PaymentIntent as Stripe holds it, as a plain dict (what an event's data.object carries)."""
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": django_settings.STRIPE_API_BASE})
    return client.v1.payment_intents.retrieve(intent_id).to_dict()


def new_event_id() -> str:
    return f"evt_test_{time.time_ns()}_{next(_event_numbers)}"


def event_payload(event_type: str, obj: dict, *, event_id: str | None = None) -> str:
    return json.dumps({"id": event_id or new_event_id(), "object": "event", "api_version": "2024-06-20",
                       "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
                       "type": event_type, "data": {"object": obj}})


def signature(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's header: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">, made by the stripe library itself."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def post_webhook(payload: str, header: str | None, client: Client | None = None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return (client or Client()).post(reverse("stripe_webhook"), data=payload, content_type="application/json",
                                     headers=headers)


def voucher_for(organisation: Organisation, *, amount_fen: int, uses=(Voucher.Use.LICENCE_FEES,),
                expires_in_days: int = 180) -> Voucher:
    return Voucher.objects.create(
        code=f"KJCXQ-{next(_voucher_numbers):06d}-{time.time_ns() % 10_000_000}", organisation=organisation,
        amount_fen=amount_fen, balance_fen=amount_fen, eligible_uses=list(uses),
        expires_on=timezone.localdate() + timedelta(days=expires_in_days))


def postings(licence: Licence) -> dict:
    """The licence's ledger postings: {posting uuid: {account: fen}}."""
    result: dict = {}
    for entry in LedgerEntry.objects.filter(licence=licence):
        result.setdefault(entry.posting, {})
        result[entry.posting][entry.account] = result[entry.posting].get(entry.account, 0) + entry.amount_fen
    return result


def ledger_total(**filters) -> int:
    return LedgerEntry.objects.filter(**filters).aggregate(s=Sum("amount_fen"))["s"] or 0
