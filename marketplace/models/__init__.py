"""The marketplace's models: the demand side (needs, proposals, saved searches, the funnel, stored matches,
statistics snapshots) in `demand`, and the IP office's securitization pools in `pools`. Everything is
importable from `marketplace.models`."""

from marketplace.models.demand import (
    FunnelEvent,
    MatchRefresh,
    MatchSide,
    Need,
    Proposal,
    SavedListing,
    SavedSearch,
    StatisticsSnapshot,
    StoredMatch,
)
from marketplace.models.pools import Pool, PoolExport, PoolExposure

__all__ = [
    "FunnelEvent", "MatchRefresh", "MatchSide", "Need", "Proposal", "SavedListing", "SavedSearch",
    "StatisticsSnapshot", "StoredMatch", "Pool", "PoolExport", "PoolExposure",
]
