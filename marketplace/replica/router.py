"""The database router: reads go to the replica only inside `replica_reads()` (the search, the listing pages,
the dashboard mark themselves), and only while the request is not pinned to the primary.

Why reads are opted in rather than sent to the replica by default: a replica lags the primary by a little, and
most pages read what the user is about to change (their licences, imports, needs: pages that read and then
write). The pages marked here only show the market as it is, where a fraction of a second of lag is harmless
and where the read load is (django-multidb-router sends every read to the replica and pins after writes; we
need less than it does, and its cookie pinning is what middleware.py does, in ten lines).

Pinned to the primary, so a user reads their own writes:
- a request that wrote anything (db_for_write pins the rest of it);
- a request inside a transaction on the primary (the replica cannot see what the transaction wrote);
- for REPLICA_STICKY_SECONDS after the user's last POST (a cookie set by the middleware), so the listing they
  just published, the licence they just bought, show in the search they open next, whatever the lag."""

import contextlib
import contextvars
import functools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_allowed", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("pinned_to_primary", default=False)
# Whether this request wrote (any method: a GET that settles a payment on the buyer's return writes too), and
# whether it read from the replica (a page rendered from the replica may lag: cached only briefly).
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("wrote", default=False)
_read_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("read_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads():
    """Inside this block, reads may go to the replica (unless the request is pinned to the primary)."""
    token = _replica_allowed.set(True)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


@contextlib.contextmanager
def primary_reads():
    """Inside a marked view, reads that must be current go to the primary: who the user is and what they may see
    (a membership revoked a moment ago must not still open the page on a lagging replica)."""
    token = _replica_allowed.set(False)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


@contextlib.contextmanager
def request_scope(*, pinned: bool):
    """One request's pinning: starts pinned (a recent write by this user) or not, and ends with the request."""
    tokens = _pinned.set(pinned), _wrote.set(False), _read_replica.set(False)
    try:
        yield
    finally:
        _pinned.reset(tokens[0])
        _wrote.reset(tokens[1])
        _read_replica.reset(tokens[2])


def pin_to_primary() -> None:
    _pinned.set(True)


def pinned_to_primary() -> bool:
    return _pinned.get()


def request_wrote() -> bool:
    return _wrote.get()


def request_read_replica() -> bool:
    return _read_replica.get()


class ReplicaRouter:
    """Sends marked reads to the replica; writes, migrations and everything else to the primary."""

    def db_for_read(self, model, **hints):
        if (_replica_allowed.get() and not _pinned.get() and replica_configured()
                and not connections[DEFAULT_DB_ALIAS].in_atomic_block):
            _read_replica.set(True)
            return REPLICA
        return None  # the primary

    def db_for_write(self, model, **hints):
        pin_to_primary()  # what follows in this request reads what it wrote
        _wrote.set(True)  # and the browser's next requests (middleware.py)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def reads_from_replica(view):
    """A view whose reads may go to the replica: search, listing pages, the dashboard. A template response is
    rendered inside, so that the template's queries go there too."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            response = view(*args, **kwargs)
            if callable(getattr(response, "render", None)) and not getattr(response, "is_rendered", True):
                response.render()
            return response

    return wrapped
