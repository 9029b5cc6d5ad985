"""Licensing's errors, in one hierarchy. A LicensingError is a request that cannot be done and its message is
for the person; views catch NotAllowed (403) before LicensingError (shown as a message)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from licensing.declarations.rules import RuleFailure


class LicensingError(Exception):
    """A request that cannot be done; the message is for the person."""


class NotAllowed(LicensingError, PermissionError):
    """The user may not act for this organisation or on this licence (views answer 403)."""


class DeclarationRefused(LicensingError):
    """Publishing was refused; `failures` names every rule that failed."""

    def __init__(self, failures: list[RuleFailure]):
        super().__init__("; ".join(str(f) for f in failures))
        self.failures = failures


class InvalidTransition(LicensingError):
    """The declaration is not in a state this transition leaves from."""


# Not a LicensingError: an unbalanced posting is a fault in our code, never a message for the person, and views
# that show a LicensingError as a message must not swallow it.
class UnbalancedPosting(ValueError):
    """A posting's lines do not add up to zero fen; nothing was written."""
