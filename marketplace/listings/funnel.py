"""The buyer's funnel, per listing and per need, for holders and the IP office.

Per listing: views → saves → notices started → licences taken. Per need: proposals → licences. Views and saves
leave no other trace, so they are ``FunnelEvent`` rows; notices, licences and proposals are counted from their
own tables (licensing.Licence, Proposal), so each step has one source of truth and cannot drift from it.

A view is counted once per visitor, listing and day: the key is the session (or, for visitors without one, a
hash of address and browser), kept in the cache for a day. Counting every page load would let one refreshing
visitor inflate the figure; this is the usual "unique daily views"."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
from licensing.models.licences import Licence
from marketplace.models import FunnelEvent, MatchSide, Need, Proposal, SavedListing, StoredMatch
from marketplace.parties.models import Membership, User

VIEW_DEDUP_SECONDS = 24 * 3600


def _visitor_key(request) -> str:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        return "s:" + session_key
    raw = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    return "a:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _organisation_id(user) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user).order_by("pk").values_list("organisation_id", flat=True).first()


def listing_viewed(*, declaration: Declaration, request) -> bool:
    """Count a view of a published listing, once per visitor and day; True when it was counted. Members of
    the holder looking at their own listing are not buyers and are not counted."""
    if declaration.state not in LICENSABLE_DECLARATION_STATES:
        return False
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False) and Membership.objects.filter(
            user=user, organisation_id=declaration.holder_id).exists():
        return False
    key = f"funnel:view:{declaration.pk}:{timezone.localdate().isoformat()}:{_visitor_key(request)}"
    if not cache.add(key, 1, VIEW_DEDUP_SECONDS):
        return False
    FunnelEvent.objects.create(kind=FunnelEvent.Kind.VIEW, declaration=declaration,
                               organisation_id=_organisation_id(user))
    return True


@transaction.atomic
def listing_save(*, user: User, declaration: Declaration) -> SavedListing:
    """Keep a published listing in the user's saved listings (saving twice keeps one); counted in the funnel
    the first time."""
    if not user.is_authenticated:
        raise ValidationError(_("Log in to save listings."))
    declaration = Declaration.objects.get(pk=declaration.pk)
    existing = SavedListing.objects.filter(user=user, declaration=declaration).first()
    if existing:
        return existing
    if declaration.state not in LICENSABLE_DECLARATION_STATES:
        raise ValidationError(_("Only a published listing can be saved."))
    try:
        with transaction.atomic():
            saved = SavedListing.objects.create(user=user, declaration=declaration)
    except IntegrityError:  # a double click got there first
        return SavedListing.objects.get(user=user, declaration=declaration)
    FunnelEvent.objects.create(kind=FunnelEvent.Kind.SAVE, declaration=declaration,
                               organisation_id=_organisation_id(user))
    return saved


def listing_unsave(*, user: User, declaration: Declaration) -> None:
    """Remove a listing from the user's saved listings (the funnel keeps that it was saved once)."""
    SavedListing.objects.filter(user=user, declaration=declaration).delete()


# --------------------------------------------------------------------------------------------- selectors


@dataclass
class ListingFunnel:
    views: int = 0
    saves: int = 0
    notices: int = 0
    licences: int = 0


@dataclass
class NeedFunnel:
    proposals: int = 0
    licences: int = 0


def _period(qs, field: str, since: datetime | None, until: datetime | None):
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


def listing_funnels(*, declaration_ids, since: datetime | None = None,
                    until: datetime | None = None) -> dict[int, ListingFunnel]:
    """Per listing: unique daily views, saves, notices started (every licence begins with a written notice)
    and licences taken (paid or free, activated), within the period when given. Three grouped queries."""
    ids = list(declaration_ids)
    result = {pk: ListingFunnel() for pk in ids}
    events = _period(FunnelEvent.objects.filter(declaration_id__in=ids), "at", since, until)
    for row in events.values("declaration_id", "kind").annotate(n=Count("pk")).order_by():
        setattr(result[row["declaration_id"]], "views" if row["kind"] == FunnelEvent.Kind.VIEW else "saves", row["n"])
    notices = _period(Licence.objects.filter(declaration_id__in=ids), "notice_submitted_at", since, until)
    for row in notices.values("declaration_id").annotate(n=Count("pk")).order_by():
        result[row["declaration_id"]].notices = row["n"]
    taken = _period(Licence.objects.filter(declaration_id__in=ids, activated_at__isnull=False), "activated_at",
                    since, until)
    for row in taken.values("declaration_id").annotate(n=Count("pk")).order_by():
        result[row["declaration_id"]].licences = row["n"]
    return result


def need_funnels(*, need_ids) -> dict[int, NeedFunnel]:
    """Per need: proposals received, and licences its organisation took after posting it on a listing that
    was proposed for it or recommended to it. Four queries whatever the number of needs."""
    ids = list(need_ids)
    result = {pk: NeedFunnel() for pk in ids}
    for row in Proposal.objects.filter(need_id__in=ids).values("need_id").annotate(n=Count("pk")).order_by():
        result[row["need_id"]].proposals = row["n"]
    needs = {n.pk: n for n in Need.objects.filter(pk__in=ids).only("pk", "organisation_id", "created_at")}
    linked: dict[int, set[int]] = {}  # declaration → needs it answered
    for need_id, declaration_id in [
            *Proposal.objects.filter(need_id__in=ids).values_list("need_id", "declaration_id"),
            *StoredMatch.objects.filter(side=MatchSide.NEED, need_id__in=ids).values_list("need_id", "declaration_id")]:
        linked.setdefault(declaration_id, set()).add(need_id)
    licences = Licence.objects.filter(activated_at__isnull=False, declaration_id__in=list(linked),
                                      licensee_id__in={n.organisation_id for n in needs.values()})
    for licensee_id, declaration_id, activated_at in licences.values_list("licensee_id", "declaration_id",
                                                                          "activated_at"):
        for need_id in linked[declaration_id]:
            need = needs[need_id]
            if need.organisation_id == licensee_id and activated_at >= need.created_at:
                result[need_id].licences += 1
    return result
