"""The IP office's writes that no request should wait for: the closed months' snapshots the dashboard's trend
reads, stored by the monthly job (marketplace.scheduling) rather than by the first visitor of the month."""

from __future__ import annotations

import functools
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from marketplace.office import aggregates, facts, statistics

# The closed months of the dashboard's default period (the twelve months up to this one).
DEFAULT_CLOSED_MONTHS = 11


def _read_window():
    """As the dashboard computes a closed month it stores: from the statistics facts when they are built (the
    same figures, a fraction of the reads), from the licensing tables otherwise."""
    return functools.partial(aggregates.Window.read, aggregates.Facts(None)) if facts.facts_built() else None


def closed_months_store(*, as_of: datetime | None = None, months: int = DEFAULT_CLOSED_MONTHS) -> list[date]:
    """Store the snapshot of each of the ``months`` closed months before ``as_of``'s month (default now) that
    has none, as the dashboard stores a closed month it needs (not published; a publication replaces it), so
    that the dashboard's first visitor finds them stored. Returns the months stored."""
    as_of = as_of or timezone.now()
    this_month = timezone.localdate(as_of).replace(day=1)
    read_window = _read_window()
    stored = []
    for back in range(months, 0, -1):
        month = this_month - relativedelta(months=back)
        _snapshot, created = statistics.snapshot_month(year=month.year, month=month.month, as_of=as_of,
                                                       publish=False, read_window=read_window)
        if created:
            stored.append(month)
    return stored
