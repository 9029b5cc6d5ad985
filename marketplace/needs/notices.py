"""Telling holders of a need their listings answer: one notification per need and holder, not one per listing.

A buyer posts or edits a need; its matching runs in the background (marketplace/matching/tasks.py) and stores
the need's best listings. The holders of those that match it well are then told here, once per holder and
revision of the need: a repeated or scheduled refresh tells nobody again, an edited need is told again. (The
refresh of each matching listing, run by the same task, would alert its holder once per listing: the task holds
those alerts back, this one message replaces them.)

Kept apart from ``marketplace.needs.services`` (which requests the refresh) so that the matching task may call
it without an import cycle; the threshold comes from the caller for the same reason."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from licensing.models import LICENSABLE_DECLARATION_STATES
from marketplace.models import MatchSide, Need, NeedNotice, StoredMatch
from marketplace.parties import notifications


@dataclass
class _Answer:
    """What one holder's listings make of one need: how many match it well, and the best of them."""

    count: int
    patent: str
    score: float


def _answers(*, min_score: float, need_ids: list[int] | None) -> dict[tuple[int, int], _Answer]:
    strong = StoredMatch.objects.filter(
        side=MatchSide.NEED,
        score__gte=min_score,
        need__state=Need.State.OPEN,
        need__public=True,
        declaration__state__in=LICENSABLE_DECLARATION_STATES,
    ).exclude(declaration__holder_id=F("need__organisation_id"))
    if need_ids is not None:
        strong = strong.filter(need_id__in=need_ids)
    answers: dict[tuple[int, int], _Answer] = {}
    rows = strong.order_by("need_id", "-score", "rank").values_list(
        "need_id", "declaration__holder_id", "declaration__patent__number", "score"
    )
    for need_id, holder_id, patent, score in rows:
        answer = answers.get((need_id, holder_id))
        if answer is None:
            answers[(need_id, holder_id)] = _Answer(count=1, patent=patent, score=score)
        else:
            answer.count += 1
    return answers


def strong_listings_of_need(*, need_id: int, min_score: float) -> list[int]:
    """The published listings (declaration ids, best first) that an open public need's stored matches rank at or
    above ``min_score``: those whose own lists the need should join. None for a closed or private need."""
    return list(
        StoredMatch.objects.filter(
            side=MatchSide.NEED,
            need_id=need_id,
            score__gte=min_score,
            need__state=Need.State.OPEN,
            need__public=True,
            declaration__state__in=LICENSABLE_DECLARATION_STATES,
        )
        .order_by("rank")
        .values_list("declaration_id", flat=True)
    )


def _claim(*, need: Need, holder_id: int, told: datetime | None, now: datetime) -> bool:
    """Record that this holder is told of this revision of the need; False when another refresh (a second
    worker) recorded it first. A unique key for the first notice, a conditional UPDATE for a later revision:
    both hold on SQLite and PostgreSQL without a lock held across the notification."""
    if told is None:
        try:
            with transaction.atomic():
                NeedNotice.objects.create(need=need, holder_id=holder_id, need_revision=need.updated_at, told_at=now)
        except IntegrityError:
            return False
        return True
    return (
        NeedNotice.objects.filter(need=need, holder_id=holder_id, need_revision__lt=need.updated_at).update(
            need_revision=need.updated_at, told_at=now
        )
        == 1
    )


def needs_tell_holders(*, min_score: float, need_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Tell the members of each holder whose published listings match an open public need at or above
    ``min_score`` (in the need's stored matches, as its last refresh ranked them) that the need exists: one
    in-app notification and e-mail per holder and need, naming how many of its listings match and the best one,
    linking to the need. Holders already told of the need's current revision are skipped; the need's own
    organisation is never told. ``need_ids``: only these needs (None: every open public need). Returns the
    number of holders told."""
    now = now or timezone.now()
    answers = _answers(min_score=min_score, need_ids=None if need_ids is None else list(need_ids))
    if not answers:
        return 0
    ids = {need_id for need_id, _holder in answers}
    needs = Need.objects.select_related("organisation").in_bulk(ids)
    told = {(n.need_id, n.holder_id): n.need_revision for n in NeedNotice.objects.filter(need_id__in=ids)}
    count = 0
    for (need_id, holder_id), answer in answers.items():
        need = needs[need_id]
        revision = told.get((need_id, holder_id))
        if revision is not None and revision >= need.updated_at:
            continue
        with transaction.atomic():
            if not _claim(need=need, holder_id=holder_id, told=revision, now=now):
                continue
            with translation.override(settings.LANGUAGE_CODE):
                url = reverse("need_detail", args=[need.pk])
            buyer = (
                notifications.translated_text(gettext_noop("a company that keeps its name hidden"))
                if need.anonymous
                else need.organisation.name_zh
            )
            notifications.notify(
                users=notifications.members_of([holder_id]),
                kind="need.matches_listings",
                url=url,
                params={
                    "need": need.title,
                    "buyer": buyer,
                    "count": answer.count,
                    "patent": answer.patent,
                    "score": round(answer.score * 100),
                },
            )
        count += 1
    return count
