"""The marketplace's errors, in one hierarchy. Its views answer NotAllowed with 403.

Two errors of other layers are not here: licensing.exceptions holds licensing's own (a view that calls a
licensing service catches those), and marketplace.parties.services keeps PartiesPermissionDenied because the
parties are the ground floor that licensing and patents import too, so they cannot depend on this module."""


class MarketplaceError(Exception):
    """A request the marketplace cannot do; the message is for the person unless a subclass says otherwise."""


class NotAllowed(MarketplaceError, PermissionError):
    """The user may not act for this organisation or on this need or saved search (views answer 403)."""


class TamperedPool(MarketplaceError):
    """The stored rows of a frozen pool no longer match its content hash (a fault to investigate, not a
    message for the person)."""


class AuditLogIsAppendOnly(MarketplaceError):
    """Something tried to change or delete an audit log entry (a fault, not a message for the person): entries
    are only ever added (marketplace/audit; on PostgreSQL a trigger refuses the SQL as well)."""
