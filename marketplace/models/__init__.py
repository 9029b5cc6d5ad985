"""The marketplace's models: the demand side (needs, proposals, saved searches, the funnel, stored matches,
statistics snapshots) in `demand`, the listing pages (Wagtail) in `listings`, and the IP office's
securitization pools in `pools`, the search document of each listing in `search`, the stored matching
index in `matching`, the IP office's statistics facts in `statistics`, and what the background work records to
act once (`background`). Everything is importable from `marketplace.models`."""

from marketplace.models.background import NeedNotice, ScheduledJob
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
from marketplace.models.listings import ListingIndexPage, PatentListingPage
from marketplace.models.matching import ListingTerms, MatchingIndex
from marketplace.models.pools import Pool, PoolColumns, PoolExport, PoolExposure
from marketplace.models.search import ListingDocument
from marketplace.models.statistics import (
    DeclarationFact,
    LicenceFact,
    PaymentFact,
    StatisticsFactsBuild,
    StatisticsMonthAggregate,
    StatisticsMonthSet,
)

__all__ = [
    "FunnelEvent", "MatchRefresh", "MatchSide", "Need", "Proposal", "SavedListing", "SavedSearch",
    "StatisticsSnapshot", "StoredMatch", "ListingIndexPage", "PatentListingPage", "Pool", "PoolColumns", "PoolExport",
    "PoolExposure", "ListingDocument", "ListingTerms", "MatchingIndex", "NeedNotice", "ScheduledJob",
    "DeclarationFact", "LicenceFact", "PaymentFact", "StatisticsFactsBuild", "StatisticsMonthAggregate",
    "StatisticsMonthSet",
]
