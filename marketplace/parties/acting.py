"""Who acts when no signed-in person does: a system source (a Stripe webhook, a management command), named for
the audit log (marketplace/audit). It sits on the ground floor so that licensing, below the marketplace, can
name the webhook event that changes a payment without importing the audit feature."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_source: ContextVar[str] = ContextVar("acting_source", default="")

SOURCE_MAX_LENGTH = 200


@contextmanager
def acting_as(source: str) -> Iterator[None]:
    """Every change made inside the block is recorded as done by ``source`` (e.g. ``stripe webhook evt_1``);
    an inner block names its own source and the outer one comes back after it."""
    token = _source.set(source[:SOURCE_MAX_LENGTH])
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    """The source named by the innermost ``acting_as``; outside any, the management command this process runs
    (``manage.py seed_demo``), so every command is named without each one having to say so; else ''."""
    source = _source.get()
    if source:
        return source
    if len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py":
        return f"manage.py {sys.argv[1]}"[:SOURCE_MAX_LENGTH]
    return ""
