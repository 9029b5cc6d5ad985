"""Background jobs of the matching: thin wrappers that load ids and call one service."""

import logging
from io import StringIO

from django.core.management import call_command
from django_tasks import task

from licensing.models import Declaration
from marketplace.matching import services as match_refresh
from marketplace.models import Need
from marketplace.needs.notices import needs_tell_holders, strong_listings_of_need
from marketplace.parties import notifications

logger = logging.getLogger(__name__)


@task()
def refresh_need_matches(need_id: int, cascade: bool = True) -> int:
    need = Need.objects.filter(pk=need_id).first()
    if need is None:  # deleted meanwhile
        return 0
    try:
        stored = match_refresh.need_matches_refresh(need=need, cascade=False).stored
    except Exception as exc:
        match_refresh.refresh_failed(need_id=need_id, error=repr(exc))
        raise
    if cascade:  # the need itself was posted or edited (a listing's cascade refreshes it with cascade=False)
        # need_matches_refresh's cascade (the strong listings' own lists take the need in), run here in order
        # rather than as tasks of their own, so that the alert each listing's refresh would send its holder can
        # be held back: the holders hear of the need once each, below, not once per listing.
        with notifications.held_back("match.need_for_listing", need_id=need.pk):
            for declaration_id in strong_listings_of_need(need_id=need_id,
                                                          min_score=match_refresh.STRONG_MATCH_SCORE):
                try:
                    refresh_listing_matches.call(declaration_id, cascade=False)
                except Exception:  # recorded on the listing (refresh_failed); the holders are still told
                    logger.exception("refresh of listing %s after need %s failed", declaration_id, need_id)
        needs_tell_holders(need_ids=[need_id], min_score=match_refresh.STRONG_MATCH_SCORE)
    return stored


@task()
def refresh_listing_matches(declaration_id: int, cascade: bool = True) -> int:
    declaration = Declaration.objects.filter(pk=declaration_id).first()
    if declaration is None:
        return 0
    try:
        return match_refresh.listing_matches_refresh(declaration=declaration, cascade=cascade).stored
    except Exception as exc:
        match_refresh.refresh_failed(declaration_id=declaration_id, error=repr(exc))
        raise


@task()
def refresh_all_matches() -> str:
    """The scheduled refresh (marketplace/scheduling/schedule.py): every stored match, as `manage.py
    refresh_matches` does (the command is the one place that knows the order of a full refresh); strong new
    matches alert as any refresh does. Holders are told of a need when it is posted or edited, not here: the
    first scheduled run would otherwise tell every holder of every need at once."""
    out = StringIO()
    call_command("refresh_matches", no_progress=True, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@task()
def refit_matching_index() -> int:
    from marketplace.matching.index import matching_index_refit

    index = matching_index_refit()
    return index.fitted_listings if index is not None else 0
