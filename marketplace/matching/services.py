"""Stored matches, refreshed in the background, and alerts for strong new ones.

``marketplace.matching.engine`` ranks live; this module stores its rankings (``StoredMatch``, one list per need and
one per listing) so the pages read a few rows instead of ranking the whole market on every view. A refresh is
requested when a need or a listing changes (``matches_refresh_request``, which enqueues a task after the
transaction commits) and by ``manage.py refresh_matches`` on a schedule (scores drift with time: remaining
life, new words in the market).

Alerts: a match at or above ``STRONG_MATCH_SCORE`` that was not in that side's previous list tells the people
on that side (in-app and e-mail): the buyer's members of a new listing for their need, the holder's members of
a new company needing their listing. The first ranking of a need or listing alerts nobody on its own side (the
person who just posted is looking at it), but it does refresh the other side of its strong matches, so the
holders hear of a new need and the buyers of a new listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, CharField, F, Value, When
from django.urls import reverse
from django.utils import timezone, translation

from licensing.licences.selectors import declarations_licensed_by
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
from marketplace.matching.engine import (
    ListingFacts,
    Match,
    RankedListing,
    explanation_from_json,
    explanation_json,
    published_declarations,
    rank_listings_batch,
    rank_listings_for_need,
    rank_needs_for_declaration,
)
from marketplace.matching.index import (
    matching_index_fold,
    matching_index_refit_due,
    need_terms,
    need_token_counts,
)
from marketplace.models import ListingTerms, MatchRefresh, MatchSide, Need, StoredMatch
from marketplace.parties.models import Membership
from marketplace.parties.notifications import notify

# A match this good is worth interrupting someone for: on the labelled set of tests/marketplace/test_matching.py
# the right answers score 0.62-0.76 and the best distractor (same field, other technology) 0.57.
STRONG_MATCH_SCORE = 0.6
# Alerts per refresh and side, so that a big new portfolio does not flood a buyer's inbox.
MAX_ALERTS_PER_REFRESH = 5
LIMIT = 20


@dataclass
class RefreshResult:
    side: str
    stored: int
    new_strong: int
    alerted: int


# ------------------------------------------------------------------------------------------ explanation json


# ----------------------------------------------------------------------------------------------- requests


def matches_refresh_request(*, need: Need | None = None, declaration: Declaration | None = None,
                            cascade: bool = True) -> None:
    """Mark the need's or listing's matches as pending and enqueue their refresh once the current transaction
    commits (with the immediate backend of dev and tests it then runs at once). A refresh requested by another
    refresh does not cascade again, so the two sides never ping-pong."""
    # The one import cycle we keep (tests/test_architecture.py): the task's thin wrapper calls back into this
    # module's refresh, and a refresh cascades by enqueueing the other side's task. Imported here, not at the
    # top, so either module can be imported first.
    from marketplace.matching import tasks

    now = timezone.now()
    if need is not None:
        MatchRefresh.objects.update_or_create(need=need, defaults={"side": MatchSide.NEED, "requested_at": now})
        transaction.on_commit(lambda: tasks.refresh_need_matches.enqueue(need.pk, cascade))
    if declaration is not None:
        MatchRefresh.objects.update_or_create(declaration=declaration,
                                              defaults={"side": MatchSide.LISTING, "requested_at": now})
        transaction.on_commit(lambda: tasks.refresh_listing_matches.enqueue(declaration.pk, cascade))


def matches_forget_need(*, need: Need) -> None:
    """A closed need leaves the listings' lists at once (no background step needed). Its own list stays as
    the record of what it was recommended (the funnel links later licences to it); pages show only open needs
    and published listings anyway."""
    StoredMatch.objects.filter(side=MatchSide.LISTING, need=need).delete()


def matches_forget_declaration(*, declaration: Declaration) -> None:
    """A withdrawn listing's own list of needs goes; needs keep the record that it was recommended to them
    (pages show published listings only)."""
    StoredMatch.objects.filter(side=MatchSide.LISTING, declaration=declaration).delete()


# ------------------------------------------------------------------------------------------- matching index


def need_terms_set(*, need: Need) -> None:
    """Segment the need's title and description into the words the matching counts and keep them on the need
    (saved with it by the caller), unless its stored words already belong to this text: the online refresh of a
    posted or edited need segments once, a batch refresh never."""
    if need.match_terms and need_token_counts(need) is need.match_terms["tokens"]:
        return
    need.match_terms = need_terms(title=need.title, description=need.description)


def needs_terms_store(*, need_ids: Iterable[int] | None = None, batch: int = 500) -> int:
    """Store the words of these needs (every open need by default) where they are missing or stale, in bulk:
    needs written around the services (bulk loads, old rows) then refresh without segmenting. Returns how many
    were stored."""
    needs = Need.objects.filter(state=Need.State.OPEN) if need_ids is None else Need.objects.filter(pk__in=need_ids)
    ids = list(needs.order_by("pk").values_list("pk", flat=True))
    stored = 0
    for lo in range(0, len(ids), batch):
        changed = []
        for need in Need.objects.filter(pk__in=ids[lo:lo + batch]).only("pk", "title", "description", "match_terms"):
            before = need.match_terms
            need_terms_set(need=need)
            if need.match_terms is not before:
                changed.append(need)
        Need.objects.bulk_update(changed, ["match_terms"])
        stored += len(changed)
    return stored


def matching_index_sync(*, declaration_ids: Iterable[int]) -> int:
    """Fold these listings into the stored matching index in the caller's transaction (called by the listing
    sync: publish, edit, withdraw) and, when the refit rule says so, enqueue a refit once it commits."""
    from marketplace.matching import tasks  # the justified cycle, as in matches_refresh_request

    written = matching_index_fold(declaration_ids=declaration_ids)
    if written and matching_index_refit_due():
        transaction.on_commit(lambda: tasks.refit_matching_index.enqueue())
    return written


def matching_index_patents_changed(*, patent_ids: Iterable[int], fields: Iterable[str] = ()) -> None:
    """Listener (settings.PATENT_CHANGE_LISTENERS): a listed patent's text, IPC, field, grade or term changed."""
    ids = list(patent_ids)
    for lo in range(0, len(ids), 500):
        declaration_ids = list(ListingTerms.objects.filter(declaration__patent_id__in=ids[lo:lo + 500])
                               .values_list("declaration_id", flat=True))
        if declaration_ids:
            matching_index_sync(declaration_ids=declaration_ids)


# ----------------------------------------------------------------------------------------------- refreshes


def _store(*, side: str, matches: list[Match], previous: dict, now: datetime, **subject) -> None:
    StoredMatch.objects.filter(side=side, **subject).delete()
    rows = []
    for rank, match in enumerate(matches, start=1):
        key = match.declaration.pk if side == MatchSide.NEED else match.need.pk
        before = previous.get(key)
        rows.append(StoredMatch(
            side=side, need=match.need, declaration=match.declaration, rank=rank, score=match.score,
            explanation=explanation_json(match.explanation), computed_at=now,
            first_seen_at=before.first_seen_at if before else now,
            notified_at=before.notified_at if before else None))
    StoredMatch.objects.bulk_create(rows)


def _reasons(match: Match) -> str:
    return "、".join(match.explanation.subject_labels[:3] + match.explanation.shared_ipc[:1]) or "—"


def _members(organisation_id: int):
    return [m.user for m in Membership.objects.filter(organisation_id=organisation_id).select_related("user")]


def _alert_buyer(match: Match) -> None:
    need, declaration = match.need, match.declaration
    with translation.override("zh-hans"):
        url = reverse("need_matches", args=[need.pk])
    notify(users=_members(need.organisation_id), kind="match.listing_for_need", url=url, params={
        "need": need.title, "patent": declaration.patent.title, "number": declaration.patent.number,
        "holder": declaration.holder.name_zh, "score": round(match.score * 100), "reasons": _reasons(match)})


def _alert_holder(match: Match) -> None:
    need, declaration = match.need, match.declaration
    with translation.override("zh-hans"):
        url = reverse("declaration_needs", args=[declaration.pk])
    buyer = getattr(need, "shown_name", None)
    if buyer is None:
        buyer = "" if need.anonymous else need.organisation.name_zh
    notify(users=_members(declaration.holder_id), kind="match.need_for_listing", url=url, params={
        "need_id": need.pk, "need": need.title, "patent": declaration.patent.title,
        "buyer": buyer or "匿名买方 / anonymous buyer",
        "score": round(match.score * 100), "reasons": _reasons(match)})


def _refresh_state(**subject) -> tuple[MatchRefresh, bool]:
    side = MatchSide.NEED if "need" in subject else MatchSide.LISTING
    state, _ = MatchRefresh.objects.select_for_update().get_or_create(
        **subject, defaults={"side": side, "requested_at": timezone.now()})
    return state, state.refreshed_at is None


def _alert_new(*, side: str, matches: list[Match], previous: dict, first: bool, now: datetime) -> tuple[int, int]:
    key = (lambda m: m.declaration.pk) if side == MatchSide.NEED else (lambda m: m.need.pk)
    new_strong = [m for m in matches if m.score >= STRONG_MATCH_SCORE and key(m) not in previous]
    if first:
        return len(new_strong), 0
    alerted = new_strong[:MAX_ALERTS_PER_REFRESH]
    for match in alerted:
        (_alert_buyer if side == MatchSide.NEED else _alert_holder)(match)
    if alerted:
        subject = {"need": alerted[0].need} if side == MatchSide.NEED else {"declaration": alerted[0].declaration}
        ids = [key(m) for m in alerted]
        other = "declaration_id__in" if side == MatchSide.NEED else "need_id__in"
        StoredMatch.objects.filter(side=side, **subject, **{other: ids}).update(notified_at=now)
    return len(new_strong), len(alerted)


@transaction.atomic
def need_matches_refresh(*, need: Need, cascade: bool = True, now: datetime | None = None,
                         ranked: list[Match] | None = None) -> RefreshResult:
    """Rank the listings for a need and store them; alert the buyer of strong new ones. With ``cascade``, also
    refresh the listing side of its strong matches so their holders hear of the need. ``ranked``: the ranking
    already made for it in a batch (``needs_matches_refresh``)."""
    now = now or timezone.now()
    need = Need.objects.select_related("organisation").get(pk=need.pk)
    state, first = _refresh_state(need=need)
    previous = {m.declaration_id: m for m in StoredMatch.objects.filter(side=MatchSide.NEED, need=need)}
    if need.state != Need.State.OPEN:
        matches = []
    else:
        matches = ranked if ranked is not None else rank_listings_for_need(need=need, limit=LIMIT)
    _store(side=MatchSide.NEED, matches=matches, previous=previous, now=now, need=need)
    new_strong, alerted = _alert_new(side=MatchSide.NEED, matches=matches, previous=previous, first=first, now=now)
    state.refreshed_at, state.error = now, ""
    state.save(update_fields=["refreshed_at", "error"])
    if cascade and need.public and need.state == Need.State.OPEN:
        for match in matches:
            if match.score >= STRONG_MATCH_SCORE:
                matches_refresh_request(declaration=match.declaration, cascade=False)
    return RefreshResult(side=MatchSide.NEED, stored=len(matches), new_strong=new_strong, alerted=alerted)


@transaction.atomic
def listing_matches_refresh(*, declaration: Declaration, cascade: bool = True,
                            now: datetime | None = None) -> RefreshResult:
    """Rank the open public needs for a listing and store them; alert the holder of strong new ones. With
    ``cascade``, also refresh the need side of its strong matches so their buyers hear of the listing."""
    now = now or timezone.now()
    declaration = Declaration.objects.select_related("patent", "holder").get(pk=declaration.pk)
    state, first = _refresh_state(declaration=declaration)
    previous = {m.need_id: m for m in StoredMatch.objects.filter(side=MatchSide.LISTING, declaration=declaration)}
    published = declaration.state in LICENSABLE_DECLARATION_STATES
    matches = rank_needs_for_declaration(declaration=declaration, limit=LIMIT) if published else []
    _store(side=MatchSide.LISTING, matches=matches, previous=previous, now=now, declaration=declaration)
    new_strong, alerted = _alert_new(side=MatchSide.LISTING, matches=matches, previous=previous, first=first,
                                     now=now)
    state.refreshed_at, state.error = now, ""
    state.save(update_fields=["refreshed_at", "error"])
    if cascade:
        for match in matches:
            if match.score >= STRONG_MATCH_SCORE:
                matches_refresh_request(need=match.need, cascade=False)
    return RefreshResult(side=MatchSide.LISTING, stored=len(matches), new_strong=new_strong, alerted=alerted)


def needs_matches_refresh(*, need_ids: list[int], batch: int = 500,
                          progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Refresh many needs without cascading (a scheduled refresh goes over both sides anyway), ``batch`` needs at
    a time: their rankings made together (``rank_listings_batch``: one sparse product, no segmentation for needs
    whose words are stored, each listing's fee terms read once for the whole refresh), then stored in one
    transaction per batch with bulk writes, alerting buyers of strong new listings as ``need_matches_refresh``
    does. Returns (matches stored, alerts sent); ``progress(n)`` after each batch with its needs."""
    needs_terms_store(need_ids=need_ids, batch=batch)
    stored = alerted = 0
    facts = ListingFacts()
    for lo in range(0, len(need_ids), batch):
        needs = list(Need.objects.filter(pk__in=need_ids[lo:lo + batch]).select_related("organisation").order_by("pk"))
        open_needs = [n for n in needs if n.state == Need.State.OPEN]
        ranked = dict(zip([n.pk for n in open_needs], rank_listings_batch(needs=open_needs, limit=LIMIT, facts=facts),
                          strict=True))
        done = _store_batch(needs=needs, ranked=ranked, now=timezone.now())
        stored, alerted = stored + done[0], alerted + done[1]
        if progress:
            progress(len(needs))
    return stored, alerted


@transaction.atomic
def _store_batch(*, needs: list[Need], ranked: dict[int, list[RankedListing]], now: datetime) -> tuple[int, int]:
    """Store the rankings of a batch of needs: their old lists deleted and the new ones inserted in bulk, the
    first-seen and notified times carried over, strong new listings alerted (but not on a need's first
    ranking), the refresh states marked done."""
    ids = [n.pk for n in needs]
    states = {s.need_id: s for s in MatchRefresh.objects.select_for_update().filter(need_id__in=ids)}
    MatchRefresh.objects.bulk_create([MatchRefresh(need=n, side=MatchSide.NEED, requested_at=now)
                                      for n in needs if n.pk not in states])
    previous: dict[int, dict[int, tuple]] = {}
    for need_id, declaration_id, first_seen, notified in StoredMatch.objects.filter(
            side=MatchSide.NEED, need_id__in=ids).values_list("need_id", "declaration_id", "first_seen_at",
                                                              "notified_at"):
        previous.setdefault(need_id, {})[declaration_id] = (first_seen, notified)
    StoredMatch.objects.filter(side=MatchSide.NEED, need_id__in=ids).delete()
    rows, alerts = [], []
    for need in needs:
        before = previous.get(need.pk, {})
        first = need.pk not in states or states[need.pk].refreshed_at is None
        strong_new = [r for r in ranked.get(need.pk, []) if r.score >= STRONG_MATCH_SCORE
                      and r.declaration_id not in before]
        alerted_ids = set() if first else {r.declaration_id for r in strong_new[:MAX_ALERTS_PER_REFRESH]}
        for rank, r in enumerate(ranked.get(need.pk, []), start=1):
            seen = before.get(r.declaration_id)
            rows.append(StoredMatch(
                side=MatchSide.NEED, need=need, declaration_id=r.declaration_id, rank=rank, score=r.score,
                explanation=r.explanation_data, computed_at=now,
                first_seen_at=seen[0] if seen else now,
                notified_at=now if r.declaration_id in alerted_ids else (seen[1] if seen else None)))
            if r.declaration_id in alerted_ids:
                alerts.append((need, r))
    StoredMatch.objects.bulk_create(rows, batch_size=2000)
    if alerts:
        declarations = published_declarations().in_bulk({r.declaration_id for _, r in alerts})
        for need, r in alerts:
            _alert_buyer(Match(declaration=declarations[r.declaration_id], need=need, score=r.score,
                               explanation=r.explanation))
    MatchRefresh.objects.filter(need_id__in=ids).update(refreshed_at=now, error="")
    return len(rows), len(alerts)


def refresh_failed(*, need_id: int | None = None, declaration_id: int | None = None, error: str) -> None:
    """Record why a background refresh failed, so the page can say so instead of "in progress" forever."""
    subject = {"need_id": need_id} if need_id is not None else {"declaration_id": declaration_id}
    MatchRefresh.objects.filter(**subject).update(error=error[:2000])


# ----------------------------------------------------------------------------------------------- selectors


@dataclass
class StoredMatches:
    matches: list[Match]
    refreshed_at: datetime | None
    pending: bool
    error: str


def _status(state: MatchRefresh | None) -> tuple[datetime | None, bool, str]:
    if state is None:
        return None, True, ""
    return state.refreshed_at, state.pending, state.error


def matches_for_need(*, need: Need) -> StoredMatches:
    """A need's stored recommendations (still published listings only, and none the buyer has taken a licence
    under since the last refresh), best first, with the refresh status."""
    rows = (StoredMatch.objects.filter(side=MatchSide.NEED, need=need, declaration__state__in=LICENSABLE_DECLARATION_STATES)
            .exclude(declaration_id__in=declarations_licensed_by(organisation_id=need.organisation_id))
            .select_related("declaration__patent", "declaration__holder").order_by("rank"))
    matches = [Match(declaration=r.declaration, need=need, score=r.score,
                     explanation=explanation_from_json(r.explanation)) for r in rows]
    return StoredMatches(matches, *_status(MatchRefresh.objects.filter(need=need).first()))


def matches_for_declaration(*, declaration: Declaration) -> StoredMatches:
    """A listing's stored needs (still open and public only; anonymous ones without a name), best first."""
    rows = (StoredMatch.objects.filter(side=MatchSide.LISTING, declaration=declaration, need__state=Need.State.OPEN,
                                       need__public=True)
            .select_related("need__organisation").order_by("rank")
            .annotate(shown_name=Case(When(need__anonymous=True, then=Value("")),
                                      default=F("need__organisation__name_zh"), output_field=CharField())))
    matches = []
    for r in rows:
        r.need.shown_name = r.shown_name
        matches.append(Match(declaration=declaration, need=r.need, score=r.score,
                             explanation=explanation_from_json(r.explanation)))
    return StoredMatches(matches, *_status(MatchRefresh.objects.filter(declaration=declaration).first()))


def stale_subjects() -> tuple[list[int], list[int]]:
    """(need ids, declaration ids) that are open/published: what a scheduled full refresh goes over."""
    needs = list(Need.objects.filter(state=Need.State.OPEN).order_by("pk").values_list("pk", flat=True))
    declarations = list(Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES).order_by("pk")
                        .values_list("pk", flat=True))
    return needs, declarations
