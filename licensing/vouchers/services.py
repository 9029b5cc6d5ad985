"""Innovation vouchers (科技创新券): issuing them, and reading who holds and spends them.

Issuing is the IP office's act (or a superuser's). Spending a voucher is
`licence_services.payment_apply_voucher`, which locks the voucher row so a balance is never spent twice;
`licence_services.licence_cancel` and `refunds.payment_refund` give a balance back.

How the figures of an organisation relate (every one in integer fen):
  issued = used + reserved + remaining + lapsed
where *used* is voucher money spent on payments that went through, *reserved* is money set aside for a
payment not (yet) paid, *remaining* is the balance of vouchers still valid and *lapsed* the balance of
expired ones."""

import secrets
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.exceptions import LicensingError, NotAllowed
from licensing.legal.register import cite
from licensing.models.licences import Payment, Voucher, VoucherUse
from marketplace.parties import listeners
from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.selectors import user_is_ip_office

# No 0/O or 1/I: codes are read out on the phone and typed from paper forms.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CODE_ATTEMPTS = 20

# Payments whose voucher part has really been spent (a fully refunded payment gives its vouchers back).
SETTLED_PAYMENT_STATES = (Payment.State.SUCCEEDED, Payment.State.PARTIALLY_REFUNDED)

__all__ = ["OrganisationVoucherUse", "VoucherSplit", "user_can_issue_vouchers", "voucher_issue", "voucher_split",
           "voucher_organisations_for_user", "voucher_use_by_organisation", "voucher_uses_for_organisation",
           "vouchers_for_organisation"]


def user_can_issue_vouchers(*, user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user_is_ip_office(user=user))


def _new_code(today: date) -> str:
    return f"CX{today:%Y}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def voucher_issue(*, organisation: Organisation, amount_fen: int, expires_on: date, eligible_uses: list[str],
                  note: str = "", by: User) -> Voucher:
    """Issue a voucher worth `amount_fen` to `organisation`, spendable on `eligible_uses` until `expires_on`
    (inclusive), with a new unique code like ``CX2026-7KQ3MZ``.

    Raises NotAllowed unless `by` is IP-office staff or a superuser, and ValidationError for an amount
    below one fen, a date in the past, no or unknown uses, or the IP office as recipient."""
    if not user_can_issue_vouchers(user=by):
        raise NotAllowed(cite("voucher_issuer", _("Only the IP office issues innovation vouchers.")))
    if organisation.is_ip_office:
        raise ValidationError({"organisation": cite("voucher_issuer", _("The IP office cannot issue a voucher to itself."))})
    today = timezone.localdate()
    if expires_on < today:
        raise ValidationError({"expires_on": _("The expiry date is in the past.")})
    chosen = set(eligible_uses or [])
    unknown = chosen - set(Voucher.Use.values)
    if unknown or not chosen:
        raise ValidationError({"eligible_uses": _("Choose at least one eligible use.")})
    voucher = Voucher(organisation=organisation, amount_fen=amount_fen, balance_fen=amount_fen, expires_on=expires_on,
                      eligible_uses=[use for use in Voucher.Use.values if use in chosen], note=note.strip(),
                      issued_by=by)
    for _attempt in range(CODE_ATTEMPTS):
        voucher.code = _new_code(today)
        if Voucher.objects.filter(code=voucher.code).exists():
            continue
        voucher.full_clean()
        try:
            with transaction.atomic():
                voucher.save()
        except IntegrityError:  # the same code drawn concurrently: draw again
            voucher.pk = None
            continue
        listeners.changed(listeners.VOUCHER_CHANGE_LISTENERS, voucher_ids=[voucher.pk])  # the vouchers issued
        return voucher
    raise LicensingError(_("Could not find a free voucher code; please try again."))


@dataclass(frozen=True)
class VoucherSplit:
    """How a payment divides between a voucher and the card (fen); voucher_fen + card_fen is what was due."""

    voucher_fen: int
    card_fen: int


def voucher_split(*, payment: Payment, voucher: Voucher, today: date | None = None) -> VoucherSplit:
    """What `voucher` would cover of `payment` and what is left for the card. The one rule both the pay
    page's preview and `payment_apply_voucher` use, so the buyer is shown exactly what will be charged.

    Raises NotAllowed for another organisation's voucher and LicensingError for a payment already started,
    a voucher not eligible for the payment's purpose, an expired one or one with no balance left."""
    if payment.stripe_payment_intent_id or payment.state != Payment.State.CREATED:
        raise LicensingError(_("A voucher can only be applied before the card payment starts."))
    if voucher.organisation_id != payment.licence.licensee_id:
        raise NotAllowed(cite("voucher_holder", _("This voucher belongs to another organisation.")))
    use = Voucher.Use.ROYALTIES if payment.purpose == Payment.Purpose.ROYALTY else Voucher.Use.LICENCE_FEES
    if use not in voucher.eligible_uses:
        raise LicensingError(cite("voucher_use", _("This voucher cannot pay for %(use)s.") % {"use": Voucher.Use(use).label}))
    if voucher.expires_on < (today or timezone.localdate()):
        raise LicensingError(cite("voucher_expiry", _("This voucher expired on %(date)s.") % {"date": voucher.expires_on}))
    amount = min(voucher.balance_fen, payment.charge_fen)
    if amount <= 0:
        raise LicensingError(cite("voucher_balance", _("This voucher has no balance left.")))
    return VoucherSplit(voucher_fen=amount, card_fen=payment.charge_fen - amount)


def vouchers_for_organisation(*, organisation: Organisation) -> QuerySet[Voucher]:
    """An organisation's vouchers, newest first."""
    return Voucher.objects.filter(organisation=organisation).select_related("organisation").order_by("-issued_at")


def voucher_uses_for_organisation(*, organisation: Organisation) -> QuerySet[VoucherUse]:
    """Every use of the organisation's vouchers with the payment and licence it went to, newest first
    (released uses included: they show what was given back)."""
    return (VoucherUse.objects.filter(voucher__organisation=organisation)
            .select_related("voucher", "payment__licence__patent", "payment__licence__licensor")
            .order_by("-used_at", "-pk"))


def voucher_organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    """The licensee organisations whose vouchers the user sees as a member."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    ids = Membership.objects.filter(user=user, organisation__is_licensee=True).values("organisation_id")
    return Organisation.objects.filter(pk__in=ids).order_by("name_zh")


@dataclass(frozen=True)
class OrganisationVoucherUse:
    """One organisation's line of the IP office's voucher overview (fen)."""

    organisation: Organisation
    vouchers: int
    issued_fen: int
    used_fen: int
    reserved_fen: int
    remaining_fen: int
    lapsed_fen: int
    uses: int


def voucher_use_by_organisation(*, today: date | None = None) -> list[OrganisationVoucherUse]:
    """Voucher use per organisation for the IP office: issued, used (on payments that went through),
    reserved (on payments not yet paid), remaining (valid balance), lapsed (expired balance) and the count
    of uses. Two aggregate queries whatever the number of vouchers; organisations by amount issued."""
    today = today or timezone.localdate()
    issued = {
        row["organisation_id"]: row
        for row in Voucher.objects.order_by().values("organisation_id").annotate(
            n=Count("pk"), issued=Sum("amount_fen"),
            remaining=Sum("balance_fen", filter=Q(expires_on__gte=today), default=0),
            lapsed=Sum("balance_fen", filter=Q(expires_on__lt=today), default=0))
    }
    settled = Q(payment__state__in=SETTLED_PAYMENT_STATES)
    spent = {
        row["voucher__organisation_id"]: row
        for row in VoucherUse.objects.filter(released=False).order_by().values("voucher__organisation_id").annotate(
            used=Sum("amount_fen", filter=settled, default=0), reserved=Sum("amount_fen", filter=~settled, default=0),
            uses=Count("pk", filter=settled))
    }
    organisations = Organisation.objects.in_bulk(list(issued))
    rows = [
        OrganisationVoucherUse(
            organisation=organisations[org_id], vouchers=row["n"], issued_fen=row["issued"],
            used_fen=spent.get(org_id, {}).get("used", 0), reserved_fen=spent.get(org_id, {}).get("reserved", 0),
            remaining_fen=row["remaining"], lapsed_fen=row["lapsed"], uses=spent.get(org_id, {}).get("uses", 0))
        for org_id, row in issued.items()
    ]
    return sorted(rows, key=lambda r: (-r.issued_fen, r.organisation.name_zh))
