"""Ledger statements per licence, per licensee and per holder, on the page and as CSV / XLSX.

A statement is read from one side:
  holder    lines on the account of what is owed to the holder (holder_payable). A credit is money owed to
            the holder (its share of a payment after the platform fee); a debit takes some back (a refund).
            The running balance is what the holder is owed in total.
  licensee  lines on the accounts that received the licensee's money: card payments (card_clearing) and
            innovation vouchers (voucher_fund). A debit is money paid; a credit is money given back. The
            running balance is what the licensee has paid in total.
Keeping one side to its own accounts makes the debit and credit totals mean something. Amounts are
integer fen; they become yuan only on the page (the `fen` filter) and in the export (two decimals,
licensing.ledger.exports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licensing.models.licences import LedgerAccount, LedgerEntry, Licence
from marketplace.parties.models import Membership, Organisation, OrganisationKind, User
from marketplace.parties.selectors import user_can_view_organisation, user_is_ip_office


class Perspective(models.TextChoices):
    HOLDER = "holder", _("Holder: owed to the holder")
    LICENSEE = "licensee", _("Licensee: paid by the licensee")


PERSPECTIVE_ACCOUNTS = {
    Perspective.HOLDER: (LedgerAccount.HOLDER_PAYABLE,),
    Perspective.LICENSEE: (LedgerAccount.CARD_CLEARING, LedgerAccount.VOUCHER_FUND),
}
# Ledger lines are debits positive, credits negative. The holder's balance grows with credits (owed to it),
# the licensee's with debits (paid in).
BALANCE_SIGN = {Perspective.HOLDER: -1, Perspective.LICENSEE: 1}

KIND_LABELS = {
    "payment_received": _("Payment received"),
    "refund": _("Refund"),
    "voucher_released": _("Voucher released"),
    "refund_rounding": _("Refund rounding"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind.replace("_", " ").capitalize()))


@dataclass(frozen=True)
class StatementLine:
    date: date
    kind: str
    kind_label: str
    description: str
    account: str
    account_label: str
    licence_id: int | None
    licence_ref: str
    counterparty: str
    payment_id: int | None
    debit_fen: int
    credit_fen: int
    balance_fen: int


@dataclass(frozen=True)
class Statement:
    title: str
    perspective: Perspective
    organisation: Organisation | None
    licence: Licence | None
    lines: list[StatementLine]
    total_debit_fen: int
    total_credit_fen: int
    balance_fen: int
    currency: str = "CNY"

    @property
    def balance_label(self) -> str:
        return str(_("Owed to the holder") if self.perspective == Perspective.HOLDER else _("Paid"))


def _entries(perspective: Perspective, *, organisation: Organisation | None = None,
             licence: Licence | None = None) -> QuerySet[LedgerEntry]:
    qs = (LedgerEntry.objects.filter(account__in=PERSPECTIVE_ACCOUNTS[perspective])
          .select_related("licence__licensor", "licence__licensee").order_by("created_at", "pk"))
    if organisation is not None:
        side = "licence__licensor" if perspective == Perspective.HOLDER else "licence__licensee"
        qs = qs.filter(**{side: organisation})
    if licence is not None:
        qs = qs.filter(licence=licence)
    return qs


def _build(perspective: Perspective, entries, *, title: str, organisation=None, licence=None) -> Statement:
    sign = BALANCE_SIGN[perspective]
    lines, balance, debits, credits = [], 0, 0, 0
    for entry in entries.iterator(chunk_size=2000):
        balance += sign * entry.amount_fen
        debit, credit = max(entry.amount_fen, 0), max(-entry.amount_fen, 0)
        debits, credits = debits + debit, credits + credit
        lic = entry.licence
        other = (lic.licensee if perspective == Perspective.HOLDER else lic.licensor) if lic else None
        lines.append(StatementLine(
            date=timezone.localdate(entry.created_at), kind=entry.kind, kind_label=kind_label(entry.kind),
            description=entry.description, account=entry.account,
            account_label=str(LedgerAccount(entry.account).label) if entry.account in LedgerAccount.values
            else entry.account,
            licence_id=entry.licence_id, licence_ref=(lic.certificate_number or str(lic.pk)) if lic else "",
            counterparty=other.name_zh if other else "", payment_id=entry.payment_id,
            debit_fen=debit, credit_fen=credit, balance_fen=balance))
    return Statement(title=title, perspective=perspective, organisation=organisation, licence=licence, lines=lines,
                     total_debit_fen=debits, total_credit_fen=credits, balance_fen=balance)


def organisation_statement(*, organisation: Organisation, perspective: Perspective) -> Statement:
    """Every ledger line of the organisation's licences from one side: as holder (licences it granted) or
    as licensee (licences it took), oldest first, with a running balance and totals."""
    perspective = Perspective(perspective)
    return _build(perspective, _entries(perspective, organisation=organisation), organisation=organisation,
                  title=f"{organisation.name_zh} · {perspective.label}")


def licence_statement(*, licence: Licence, perspective: Perspective) -> Statement:
    """The ledger lines of one licence from one side (see the module docstring)."""
    perspective = Perspective(perspective)
    return _build(perspective, _entries(perspective, licence=licence), licence=licence,
                  title=f"{licence.certificate_number or licence.pk} · {perspective.label}")


# Who sees which statement ----------------------------------------------------------------------------------

def statement_organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    """The organisations whose statements the user may open: the IP office and superusers all holders and
    licensees; anyone else the organisations they are a member of."""
    qs = Organisation.objects.exclude(kind=OrganisationKind.IP_OFFICE).filter(Q(is_holder=True) | Q(is_licensee=True))
    if not user.is_authenticated:
        return qs.none()
    if not (user.is_superuser or user_is_ip_office(user=user)):
        qs = qs.filter(pk__in=Membership.objects.filter(user=user).values("organisation_id"))
    return qs.order_by("name_zh")


def user_can_view_organisation_statement(*, user: User, organisation: Organisation) -> bool:
    """Its members, the IP office and superusers (the same people who see its private profile)."""
    return user_can_view_organisation(user=user, organisation=organisation)


def perspectives_for_organisation(*, organisation: Organisation) -> list[Perspective]:
    found = [p for p, role in ((Perspective.HOLDER, organisation.is_holder), (Perspective.LICENSEE,
                                                                            organisation.is_licensee)) if role]
    return found or [Perspective.HOLDER, Perspective.LICENSEE]


def perspectives_for_licence(*, user: User, licence: Licence) -> list[Perspective]:
    """The sides of a licence a user may read: the licensor's members the holder side, the licensee's the
    licensee side, the IP office and superusers both. Empty: the user may not see this licence."""
    if not user.is_authenticated:
        return []
    if user.is_superuser or user_is_ip_office(user=user):
        return [Perspective.HOLDER, Perspective.LICENSEE]
    member_of = set(Membership.objects.filter(user=user, organisation_id__in=[licence.licensor_id, licence.licensee_id])
                    .values_list("organisation_id", flat=True))
    return [p for p, org_id in ((Perspective.HOLDER, licence.licensor_id), (Perspective.LICENSEE, licence.licensee_id))
            if org_id in member_of]
