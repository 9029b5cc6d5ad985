"""Live progress of long work (imports, regrading), readable by the web page while the work runs.

Kept in a cache rather than in the batch row: the import writes inside one database transaction (all or
nothing), and rows written there are invisible to the status page until the end. The "progress" cache
is a file cache on one host by default; point PROGRESS_CACHE_URL at Redis when workers run elsewhere."""

from django.core.cache import caches

TTL_SECONDS = 24 * 3600


def _key(kind: str, ident: int) -> str:
    return f"progress:{kind}:{ident}"


def report(kind: str, ident: int, *, stage: str, done: int, total: int) -> None:
    caches["progress"].set(_key(kind, ident), {"stage": stage, "done": done, "total": total}, TTL_SECONDS)


def read(kind: str, ident: int) -> dict | None:
    return caches["progress"].get(_key(kind, ident))


def clear(kind: str, ident: int) -> None:
    caches["progress"].delete(_key(kind, ident))
