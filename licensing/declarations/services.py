"""Writes on declarations: one service per state transition (draft → published → withdrawn), each locking
the row and checking the state it leaves. Publishing and withdrawing also keep the patent's
under-open-licence flag and the gazette."""

import uuid
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.declarations.rules import PATENT_LAW_50, RuleFailure, declaration_eligibility
from licensing.exceptions import DeclarationRefused, InvalidTransition, NotAllowed
from licensing.models import Declaration, DeclarationConsent, DeclarationState, GazetteEntry, LicenceTerms, LicenceTermsVersion
from marketplace.parties import listeners
from marketplace.parties.models import Membership, MembershipRole, User
from patents.models import Patent

OFFER_FIELDS = ("fee_form", "lump_sum_fen", "entry_fee_fen", "royalty_base", "royalty_rate", "annual_minimum_fen",
                "payment_method", "duration_years", "field_of_use_note", "contact_name", "contact_email",
                "contact_phone")


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


def _announce(declaration: Declaration, kind: str, at, note: str = "") -> GazetteEntry:
    entry = GazetteEntry.objects.create(declaration=declaration, kind=kind, announced_at=at, note=note,
                                        announcement_number=f"TMP-{uuid.uuid4().hex[:16]}")
    prefix = "KF" if kind == GazetteEntry.Kind.PUBLICATION else "CH"  # 开放 / 撤回
    entry.announcement_number = f"{prefix}{at:%Y}{entry.pk:08d}"
    entry.save(update_fields=["announcement_number"])
    return entry


@transaction.atomic
def declaration_publish(*, declaration: Declaration, by: User, today: date | None = None) -> Declaration:
    """Publish a draft: checks every eligibility rule (raising DeclarationRefused naming each failure),
    announces it in the gazette and marks the patent as under open licence. Publishing an already
    published declaration is a no-op."""
    declaration = Declaration.objects.select_for_update().select_related("patent").get(pk=declaration.pk)
    _require_member(user=by, declaration=declaration, admin=True)
    if declaration.state == DeclarationState.PUBLISHED:
        return declaration
    if declaration.state != DeclarationState.DRAFT:
        raise InvalidTransition(_("Only a draft can be published; this declaration is %(state)s.")
                                % {"state": declaration.get_state_display()})
    Patent.objects.select_for_update().filter(pk=declaration.patent_id).first()  # serialise per patent
    failures = declaration_eligibility(declaration=declaration, today=today or timezone.localdate())
    if failures:
        raise DeclarationRefused(failures)
    now = timezone.now()
    declaration.state, declaration.published_at, declaration.published_by = DeclarationState.PUBLISHED, now, by
    try:
        with transaction.atomic():
            declaration.save(update_fields=["state", "published_at", "published_by"])
    except IntegrityError as exc:  # a concurrent publication of the same patent won
        raise DeclarationRefused([RuleFailure("already_declared", _("The patent already has a published declaration."),
                                              PATENT_LAW_50)]) from exc
    entry = _announce(declaration, GazetteEntry.Kind.PUBLICATION, now)
    declaration.announcement_number = entry.announcement_number
    declaration.save(update_fields=["announcement_number"])
    Patent.objects.filter(pk=declaration.patent_id).update(under_open_licence=True)
    listeners.changed(listeners.DECLARATION_CHANGE_LISTENERS, declaration_ids=[declaration.pk])
    return declaration


@transaction.atomic
def declaration_withdraw(*, declaration: Declaration, by: User, reason: str) -> Declaration:
    """Withdraw a published declaration in writing with a reason, announced in the gazette (Patent Law
    art. 50). Licences already granted stay active on their terms: nothing here touches them."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    _require_member(user=by, declaration=declaration, admin=True)
    if declaration.state == DeclarationState.WITHDRAWN:
        return declaration
    if declaration.state != DeclarationState.PUBLISHED:
        raise InvalidTransition(_("Only a published declaration can be withdrawn."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"withdrawal_reason": _("A withdrawal states its reason.")})
    now = timezone.now()
    declaration.state, declaration.withdrawn_at, declaration.withdrawn_by = DeclarationState.WITHDRAWN, now, by
    declaration.withdrawal_reason = reason
    declaration.save(update_fields=["state", "withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    _announce(declaration, GazetteEntry.Kind.WITHDRAWAL, now, note=reason)
    Patent.objects.filter(pk=declaration.patent_id).update(under_open_licence=False)
    listeners.changed(listeners.DECLARATION_CHANGE_LISTENERS, declaration_ids=[declaration.pk])
    return declaration


@transaction.atomic
def declaration_discard(*, declaration: Declaration, by: User) -> None:
    """Delete a draft that was never published (published ones are public record and stay)."""
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
        raise InvalidTransition(_("Consents are recorded before publishing."))
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
    def published(self) -> bool:
        return self.declaration is not None and self.declaration.state == DeclarationState.PUBLISHED


def declarations_publish_bulk(*, patents: list[Patent], terms: LicenceTerms, by: User, today: date | None = None,
                              publish=None, **offer) -> list[BulkResult]:
    """Declare many patents on the same terms: each patent succeeds or fails on its own (its own
    transaction), and the result lists every patent with its declaration or its failures. `publish` is the
    publishing step (default: this module's); the marketplace passes one that also lists the patent."""
    publish = publish or declaration_publish
    results = []
    for patent in patents:
        result = BulkResult(patent=patent)
        try:
            with transaction.atomic():
                draft = declaration_create(patent=patent, terms=terms, by=by, **offer)
                result.declaration = publish(declaration=draft, by=by, today=today)
        except DeclarationRefused as exc:
            result.failures = exc.failures
        except NotAllowed as exc:  # e.g. a patent of another holder: report it and carry on with the rest
            result.failures = [RuleFailure("not_allowed", str(exc), "")]
        except ValidationError as exc:
            result.failures = [RuleFailure("invalid", m, "") for m in exc.messages]
        results.append(result)
    return results
