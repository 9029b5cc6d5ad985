"""Importing CNIPA's published announcements of open-licence declarations as announced declarations and listings,
for patents already in the inventory. All or nothing: a file with any bad row writes nothing and every bad row
is reported (licensing.declarations.cnipa_announcements reads and checks; this module writes, because each
announced declaration also gets its listing page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.declarations import cnipa_announcements as cnipa
from licensing.declarations.cnipa_announcements import AnnouncementFileError, RowError
from licensing.declarations.services import terms_version_current
from licensing.models import (
    STANDING_DECLARATION_STATES,
    AnnouncementSource,
    Declaration,
    DeclarationState,
    LicenceTerms,
)
from marketplace.listings import services as listings
from patents.models import Patent

__all__ = ["AnnouncementFileError", "CnipaImportRefused", "CnipaImportResult", "cnipa_announcements_import"]


class CnipaImportRefused(Exception):
    """Nothing was imported; `errors` names each bad row, column and reason."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


@dataclass
class CnipaImportResult:
    rows: int = 0
    created: int = 0  # new declarations, announced, listed
    announced: int = 0  # declarations filed through the platform, now announced
    unchanged: int = 0  # already recorded with this announcement number
    declarations: list[Declaration] = field(default_factory=list)


def _default_terms() -> LicenceTerms | None:
    return LicenceTerms.objects.filter(live=True).order_by("-pk").first()


@transaction.atomic
def cnipa_announcements_import(*, raw: bytes, terms: LicenceTerms | None = None,
                               on_progress: Callable[[int, int], None] | None = None) -> CnipaImportResult:
    """Read CNIPA's list (CSV or XLSX in its column layout) and record each row's announcement: on the
    patent's declaration filed through the platform, or on a new declaration on `terms` (default: the newest
    live standard terms) created announced, its listing put on the marketplace. Raises AnnouncementFileError
    for an unreadable file and CnipaImportRefused (nothing written) when any row is bad."""
    rows = cnipa.read_rows(raw)
    good, errors = cnipa.check_rows(rows)
    plan = []
    for row in good:
        standing = Declaration.objects.filter(patent=row.patent, state__in=STANDING_DECLARATION_STATES).first()
        elsewhere = Declaration.objects.filter(cnipa_number=row.cnipa_number).exclude(patent=row.patent).first()
        if elsewhere is not None:
            errors.append(RowError(row.row, "开放许可声明公告号", row.cnipa_number,
                                   _("already recorded for patent %(number)s") % {"number": elsewhere.patent.number}))
        elif standing is not None and standing.cnipa_number not in (None, row.cnipa_number):
            errors.append(RowError(row.row, "开放许可声明公告号", row.cnipa_number,
                                   _("the patent's declaration was announced under %(number)s")
                                   % {"number": standing.cnipa_number}))
        elif standing is not None and standing.state != DeclarationState.FILED and standing.cnipa_number is None:
            errors.append(RowError(row.row, "专利号", row.patent.number,
                                   _("the patent's declaration is %(state)s") % {"state": standing.get_state_display()}))
        elif standing is None and not (row.offer["contact_email"] or row.patent.holder.contact_email):
            errors.append(RowError(row.row, "电子邮箱", "", _("no e-mail in the row and none recorded for the holder")))
        else:
            plan.append((row, standing))
    terms = terms or _default_terms()
    if terms is None and any(standing is None for _row, standing in plan):
        errors.append(RowError(0, "", "", _("no live standard licence terms to list the declarations on")))
    if errors:
        raise CnipaImportRefused(sorted(errors, key=lambda e: (e.row, e.column)))

    result = CnipaImportResult(rows=len(rows))
    version = terms_version_current(terms=terms) if terms is not None else None
    for done, (row, standing) in enumerate(plan, start=1):
        try:
            with transaction.atomic():
                result.declarations.append(_record(row, standing, version, result))
        except ValidationError as exc:  # a rule the reader did not foresee: still reported by row, nothing kept
            raise CnipaImportRefused([RowError(row.row, "", "", " ".join(exc.messages))]) from exc
        if on_progress:
            on_progress(done, len(plan))
    return result


def _record(row: cnipa.AnnouncementRow, standing: Declaration | None, version, result: CnipaImportResult) -> Declaration:
    if standing is not None and standing.cnipa_number == row.cnipa_number:
        result.unchanged += 1
        return standing
    if standing is None:
        holder = row.patent.holder
        offer = dict(row.offer)
        offer["contact_email"] = offer["contact_email"] or holder.contact_email
        offer["contact_name"] = offer["contact_name"] or holder.name_zh
        offer["contact_phone"] = offer["contact_phone"] or holder.contact_phone or ""
        # CNIPA announced it, so it was filed (at the latest that day) with the commitment art. 85 asks for.
        standing = Declaration(patent=row.patent, holder=holder, terms_version=version, state=DeclarationState.FILED,
                               filed_at=timezone.make_aware(datetime.combine(row.announced_on, time.min)),
                               conditions_commitment=True, **offer)
        standing.full_clean(exclude=["created_by"])  # nobody here created it: CNIPA's list did
        standing.save()
        Patent.objects.filter(pk=row.patent.pk).update(under_open_licence=True)
        result.created += 1
    else:
        result.announced += 1
    return listings.declaration_record_announcement(
        declaration=standing, cnipa_number=row.cnipa_number, announced_on=row.announced_on, by=None,
        source=AnnouncementSource.CNIPA_IMPORT)
