"""Writes on declarations: one service per state transition (draft → filed at CNIPA → announced by CNIPA →
withdrawal filed → withdrawn), each locking the row and checking the state it leaves. Filing and the
withdrawal's announcement keep the patent's under-open-licence flag; CNIPA's announcements are mirrored in
the platform's gazette (Patent Law art. 50: only CNIPA announces)."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.declarations.rules import PATENT_LAW_50, RuleFailure, declaration_eligibility
from licensing.exceptions import DeclarationRefused, InvalidTransition, NotAllowed
from licensing.models import (
    LICENSABLE_DECLARATION_STATES,
    AnnouncementSource,
    Declaration,
    DeclarationConsent,
    DeclarationState,
    GazetteEntry,
    LicenceTerms,
    LicenceTermsVersion,
)
from marketplace.parties import listeners
from marketplace.parties.models import Membership, MembershipRole, User
from patents.models import Patent

OFFER_FIELDS = ("fee_form", "lump_sum_fen", "entry_fee_fen", "royalty_base", "royalty_rate", "annual_minimum_fen",
                "payment_method", "duration_years", "field_of_use_note", "contact_name", "contact_email",
                "contact_phone", "conditions_commitment", "fee_basis_statement")


def _require_member(*, user: User, declaration: Declaration, admin: bool) -> None:
    if user.is_superuser:
        return
    qs = Membership.objects.filter(user=user, organisation_id=declaration.holder_id)
    if admin:
        qs = qs.filter(role=MembershipRole.ADMIN)
    if not qs.exists():
        raise NotAllowed(_("Only an administrator of the patentee may do this.") if admin
                         else _("Only members of the patentee may do this."))


@transaction.atomic
def terms_version_current(*, terms: LicenceTerms) -> LicenceTermsVersion:
    """The frozen version matching the terms' live text, frozen now if the text is new. Draft-only terms
    (never published by an editor) cannot be offered."""
    if not terms.live:
        raise ValidationError({"terms": _("These licence terms are not published yet.")})
    terms = LicenceTerms.objects.select_for_update().get(pk=terms.pk)
    digest = LicenceTermsVersion.digest(terms.name_zh, terms.name_en, terms.clauses_zh, terms.clauses_en)
    version = terms.versions.filter(sha256=digest).first()
    if version is None:
        latest = terms.versions.order_by("-number").first()
        version = LicenceTermsVersion.objects.create(
            terms=terms, number=(latest.number + 1) if latest else 1, name_zh=terms.name_zh, name_en=terms.name_en,
            clauses_zh=terms.clauses_zh, clauses_en=terms.clauses_en, sha256=digest)
    return version


@transaction.atomic
def declaration_create(*, patent: Patent, terms: LicenceTerms, by: User, **offer) -> Declaration:
    """A draft declaration of one patent on the given standard terms and fee offer."""
    unknown = set(offer) - set(OFFER_FIELDS)
    if unknown:
        raise TypeError(f"unknown offer fields: {sorted(unknown)}")
    declaration = Declaration(patent=patent, holder_id=patent.holder_id, terms_version=terms_version_current(terms=terms),
                              created_by=by, **offer)
    _require_member(user=by, declaration=declaration, admin=False)
    declaration.full_clean()
    declaration.save()
    return declaration


def _mirror(declaration: Declaration, kind: str, announced_on: date, number: str, note: str = "") -> GazetteEntry:
    """Copy one of CNIPA's announcements into the platform's gazette. The gazette only mirrors CNIPA: the
    number is CNIPA's own (we never invent one), the date CNIPA's announcement date."""
    at = timezone.make_aware(datetime.combine(announced_on, time.min))
    entry = GazetteEntry.objects.filter(announcement_number=number).first()
    if entry is not None:
        return entry
    return GazetteEntry.objects.create(declaration=declaration, kind=kind, announced_at=at, announcement_number=number,
                                       note=note)


# The shape of a CNIPA announcement number as printed in the gazette: letters, digits and the separators
# CNIPA uses, with at least four digits. We check the shape only; CNIPA's register is the authority.
CNIPA_NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-./]{5,39}$")


def cnipa_number_normalise(value: str) -> str:
    """CNIPA's announcement number as we store it: stripped, upper case, full-width characters folded."""
    return unicodedata.normalize("NFKC", value or "").strip().upper().replace(" ", "")


def cnipa_number_valid(value: str) -> bool:
    return bool(CNIPA_NUMBER_RE.match(value)) and sum(ch.isdigit() for ch in value) >= 4


def _check_announcement(*, field: str, number: str, announced_on: date | None, not_before: date | None,
                        required: bool = True) -> str:
    number = cnipa_number_normalise(number)
    errors = {}
    if not number:
        if required:
            errors[field] = _("Enter CNIPA's announcement number.")
    elif not cnipa_number_valid(number):
        errors[field] = _("%(number)s is not a CNIPA announcement number (letters and digits, 6 to 40 characters, "
                          "at least four digits).") % {"number": number}
    if announced_on is None:
        errors["announced_on"] = _("Enter the date of CNIPA's announcement.")
    elif announced_on > timezone.localdate():
        errors["announced_on"] = _("The announcement date %(date)s is in the future.") % {"date": announced_on}
    elif not_before is not None and announced_on < not_before:
        errors["announced_on"] = _("CNIPA cannot have announced it on %(date)s, before it was filed on %(filed)s.") \
            % {"date": announced_on, "filed": not_before}
    if errors:
        raise ValidationError(errors)
    return number


@transaction.atomic
def declaration_file(*, declaration: Declaration, by: User, today: date | None = None) -> Declaration:
    """Mark a draft as filed at CNIPA: checks every eligibility rule (raising DeclarationRefused naming each
    failure) and marks the patent as under open licence (the marketplace lists it). Filing is not an
    announcement: until CNIPA announces it (Patent Law art. 50) a licence taken under it is an ordinary
    licence contract. Filing an already filed declaration is a no-op."""
    declaration = Declaration.objects.select_for_update().select_related("patent").get(pk=declaration.pk)
    _require_member(user=by, declaration=declaration, admin=True)
    if declaration.state == DeclarationState.FILED:
        return declaration
    if declaration.state != DeclarationState.DRAFT:
        raise InvalidTransition(_("Only a draft can be filed; this declaration is %(state)s.")
                                % {"state": declaration.get_state_display()})
    Patent.objects.select_for_update().filter(pk=declaration.patent_id).first()  # serialise per patent
    failures = declaration_eligibility(declaration=declaration, today=today or timezone.localdate())
    if failures:
        raise DeclarationRefused(failures)
    declaration.state, declaration.filed_at, declaration.filed_by = DeclarationState.FILED, timezone.now(), by
    try:
        with transaction.atomic():
            declaration.save(update_fields=["state", "filed_at", "filed_by"])
    except IntegrityError as exc:  # a concurrent filing for the same patent won
        raise DeclarationRefused([RuleFailure("already_declared", _("The patent already has a standing declaration."),
                                              PATENT_LAW_50)]) from exc
    Patent.objects.filter(pk=declaration.patent_id).update(under_open_licence=True)
    listeners.changed(listeners.DECLARATION_CHANGE_LISTENERS, declaration_ids=[declaration.pk])
    return declaration


@transaction.atomic
def declaration_record_announcement(*, declaration: Declaration, cnipa_number: str, announced_on: date, by: User | None,
                                    source: str = AnnouncementSource.HOLDER) -> Declaration:
    """Record CNIPA's announcement of a filed declaration (its number and date): from `announced_on` it is a
    statutory open licence (Patent Law art. 50), and the gazette mirrors the announcement. `by` None is
    the CNIPA import. Recording the same announcement again is a no-op; another number is refused."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    if by is not None:
        _require_member(user=by, declaration=declaration, admin=True)
    number = _check_announcement(field="cnipa_number", number=cnipa_number, announced_on=announced_on,
                                 not_before=timezone.localtime(declaration.filed_at).date() if declaration.filed_at else None)
    if declaration.state == DeclarationState.ANNOUNCED and declaration.cnipa_number == number:
        return declaration
    if declaration.state != DeclarationState.FILED:
        raise InvalidTransition(_("Only a declaration filed at CNIPA can be announced; this declaration is %(state)s.")
                                % {"state": declaration.get_state_display()})
    if Declaration.objects.filter(cnipa_number=number).exclude(pk=declaration.pk).exists():
        raise ValidationError({"cnipa_number": _("CNIPA announcement %(number)s is already recorded for another "
                                                 "declaration.") % {"number": number}})
    declaration.state, declaration.cnipa_number, declaration.announced_on = DeclarationState.ANNOUNCED, number, announced_on
    declaration.announcement_source, declaration.announcement_recorded_by = source, by
    declaration.save(update_fields=["state", "cnipa_number", "announced_on", "announcement_source",
                                    "announcement_recorded_by"])
    _mirror(declaration, GazetteEntry.Kind.PUBLICATION, announced_on, number)
    listeners.changed(listeners.DECLARATION_CHANGE_LISTENERS, declaration_ids=[declaration.pk])
    return declaration


@transaction.atomic
def declaration_file_withdrawal(*, declaration: Declaration, by: User, reason: str) -> Declaration:
    """Record that the holder filed a written withdrawal at CNIPA, with its reason (Patent Law art. 50). The
    declaration stays in force, and listed, until CNIPA announces the withdrawal. Licences already granted
    are untouched."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    _require_member(user=by, declaration=declaration, admin=True)
    if declaration.state in (DeclarationState.WITHDRAWAL_FILED, DeclarationState.WITHDRAWN):
        return declaration
    if declaration.state not in (DeclarationState.FILED, DeclarationState.ANNOUNCED):
        raise InvalidTransition(_("Only a filed or announced declaration can be withdrawn."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"withdrawal_reason": _("A withdrawal states its reason.")})
    declaration.state, declaration.withdrawal_filed_at = DeclarationState.WITHDRAWAL_FILED, timezone.now()
    declaration.withdrawal_filed_by, declaration.withdrawal_reason = by, reason
    declaration.save(update_fields=["state", "withdrawal_filed_at", "withdrawal_filed_by", "withdrawal_reason"])
    listeners.changed(listeners.DECLARATION_CHANGE_LISTENERS, declaration_ids=[declaration.pk])
    return declaration


@transaction.atomic
def declaration_record_withdrawal_announcement(*, declaration: Declaration, announced_on: date, cnipa_number: str,
                                               by: User | None) -> Declaration:
    """Record CNIPA's announcement of the withdrawal: the declaration ends (licences granted before stay,
    art. 50) and the patent is no longer under open licence. A declaration CNIPA never announced has no
    withdrawal announcement number: the date CNIPA confirmed the withdrawal is enough."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    if by is not None:
        _require_member(user=by, declaration=declaration, admin=True)
    if declaration.state == DeclarationState.WITHDRAWN:
        return declaration
    if declaration.state != DeclarationState.WITHDRAWAL_FILED:
        raise InvalidTransition(_("Record the withdrawal's announcement after filing the withdrawal."))
    filed = timezone.localtime(declaration.withdrawal_filed_at).date() if declaration.withdrawal_filed_at else None
    number = _check_announcement(field="cnipa_withdrawal_number", number=cnipa_number, announced_on=announced_on,
                                 not_before=filed, required=declaration.cnipa_number is not None)
    if number and Declaration.objects.filter(cnipa_withdrawal_number=number).exclude(pk=declaration.pk).exists():
        raise ValidationError({"cnipa_withdrawal_number": _("CNIPA announcement %(number)s is already recorded for "
                                                            "another declaration.") % {"number": number}})
    declaration.state, declaration.withdrawal_announced_on = DeclarationState.WITHDRAWN, announced_on
    declaration.cnipa_withdrawal_number = number or None
    declaration.withdrawn_at, declaration.withdrawn_by = timezone.now(), by
    declaration.save(update_fields=["state", "withdrawal_announced_on", "cnipa_withdrawal_number", "withdrawn_at",
                                    "withdrawn_by"])
    if number:
        _mirror(declaration, GazetteEntry.Kind.WITHDRAWAL, announced_on, number, note=declaration.withdrawal_reason)
    Patent.objects.filter(pk=declaration.patent_id).update(under_open_licence=False)
    listeners.changed(listeners.DECLARATION_CHANGE_LISTENERS, declaration_ids=[declaration.pk])
    return declaration


@transaction.atomic
def declaration_discard(*, declaration: Declaration, by: User) -> None:
    """Delete a draft that was never filed (filed ones are on record at CNIPA and stay)."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    _require_member(user=by, declaration=declaration, admin=False)
    if declaration.state != DeclarationState.DRAFT:
        raise InvalidTransition(_("Only a draft can be discarded."))
    declaration.consents.all().delete()
    declaration.delete()


@transaction.atomic
def consent_record(*, declaration: Declaration, kind: str, by: User, party_name: str, signatory: str,
                   consented_on: date, co_owner_id: int | None = None) -> DeclarationConsent:
    """Record a co-owner's or the pledgee's written consent (who, signed by whom, when)."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    _require_member(user=by, declaration=declaration, admin=False)
    if declaration.state != DeclarationState.DRAFT:
        raise InvalidTransition(_("Consents are recorded before filing."))
    if kind == DeclarationConsent.Kind.CO_OWNER:
        owner = declaration.patent.co_owners.filter(pk=co_owner_id).first()
        if owner is None:
            raise ValidationError({"co_owner": _("Choose one of the patent's co-owners.")})
        party_name = owner.name
    consent = DeclarationConsent(declaration=declaration, kind=kind, co_owner_id=co_owner_id if kind == "co_owner" else None,
                                 party_name=party_name, signatory=signatory, consented_on=consented_on, recorded_by=by)
    consent.full_clean()
    consent.save()
    return consent


@dataclass
class BulkResult:
    patent: Patent
    declaration: Declaration | None = None
    failures: list[RuleFailure] = field(default_factory=list)

    @property
    def filed(self) -> bool:
        return self.declaration is not None and self.declaration.state in LICENSABLE_DECLARATION_STATES


def declarations_file_bulk(*, patents: list[Patent], terms: LicenceTerms, by: User, today: date | None = None,
                           file=None, **offer) -> list[BulkResult]:
    """Declare many patents on the same terms: each patent succeeds or fails on its own (its own
    transaction), and the result lists every patent with its declaration or its failures. `file` is the
    filing step (default: this module's); the marketplace passes one that also lists the patent."""
    file = file or declaration_file
    results = []
    for patent in patents:
        result = BulkResult(patent=patent)
        try:
            with transaction.atomic():
                draft = declaration_create(patent=patent, terms=terms, by=by, **offer)
                result.declaration = file(declaration=draft, by=by, today=today)
        except DeclarationRefused as exc:
            result.failures = exc.failures
        except NotAllowed as exc:  # e.g. a patent of another holder: report it and carry on with the rest
            result.failures = [RuleFailure("not_allowed", str(exc), "")]
        except ValidationError as exc:
            result.failures = [RuleFailure("invalid", m, "") for m in exc.messages]
        results.append(result)
    return results
