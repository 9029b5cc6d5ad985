"""Background jobs of the matching: thin wrappers that load ids and call one service."""

from django_tasks import task

from licensing.models import Declaration
from marketplace.matching import services as match_refresh
from marketplace.models import Need


@task()
def refresh_need_matches(need_id: int, cascade: bool = True) -> int:
    need = Need.objects.filter(pk=need_id).first()
    if need is None:  # deleted meanwhile
        return 0
    try:
        return match_refresh.need_matches_refresh(need=need, cascade=cascade).stored
    except Exception as exc:
        match_refresh.refresh_failed(need_id=need_id, error=repr(exc))
        raise


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
def refit_matching_index() -> int:
    from marketplace.matching.index import matching_index_refit

    index = matching_index_refit()
    return index.fitted_listings if index is not None else 0
