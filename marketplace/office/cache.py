"""The dashboard's figures cached per filter set, and forgotten when the facts behind them change.

Every cached board is stored under a key that holds the current *data version*, a token kept in the cache.
Licensing and the parties call the listeners in settings (DECLARATION_, LICENCE_, PAYMENT_, PATENT_ and
ORGANISATION_CHANGE_LISTENERS, see marketplace/parties/listeners.py) when declarations, licences, payments,
grades or holders change; ``statistics_changed`` then draws a new token, so the next request computes afresh.
It draws one at once and another when the change commits: a request that read the database while the change
was still uncommitted may store its board under the first new token, never under the second."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "office:statistics:version"
# A day at most: the figures of a day are "as of" the moment they were computed (the key holds the date).
TIMEOUT_SECONDS = 24 * 3600


def _new_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def data_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def statistics_changed(**facts) -> None:
    """Listener: declarations, licences, payments, patents' grades or fields, or holders changed (``facts``
    name which; any change makes every cached board stale)."""
    _new_version()
    transaction.on_commit(_new_version)


def cached(key: dict, compute: Callable[[], Any]) -> Any:
    """``compute()``'s result for ``key`` (a JSON-able description of the normalised filter set) under the
    current data version: computed once, then read from the cache until the data change."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32]
    name = f"office:statistics:board:{data_version()}:{digest}"
    value = cache.get(name)
    if value is None:
        value = compute()
        cache.set(name, value, TIMEOUT_SECONDS)
    return value
