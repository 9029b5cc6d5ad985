"""Writing the audit log.

Why django-auditlog (jazzband, MIT, Django 4.2-5.2): it logs through model signals, so an entry is written on the
same database connection and inside the same transaction as the change (a rolled-back change leaves no entry),
on SQLite (the embedded demo) and PostgreSQL alike, with the signed-in user from its middleware and each changed
field as [before, after]. django-pghistory logs through PostgreSQL triggers only, and the marketplace must also
run on SQLite. What signals cannot see (``QuerySet.update()``, ``bulk_update``, raw SQL) is not used on the
audited models: their transitions save the row (tests/marketplace/test_audit_log.py checks each one).

On top of the library this module adds two things to each entry's ``additional_data``: ``holder``, the
organisation whose records the change is about (a declaration's patentee, a licence's licensor, for payments and
royalty reports the licensor of their licence, an organisation itself, a membership's organisation), fixed when
the entry is written so that a holder keeps seeing entries about records later deleted (a discarded draft, a
removed member); and ``source``, what acted (the request, the Stripe event, the management command: see
marketplace.parties.acting). Entries are append-only: saving an existing entry or deleting one raises, and on
PostgreSQL a trigger refuses UPDATE and DELETE (migration marketplace 0010)."""

from contextvars import ContextVar

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.db.models.signals import pre_delete, pre_save

from licensing.models import Declaration
from licensing.models.licences import Licence, Payment, RoyaltyReport, Voucher, VoucherUse
from marketplace.exceptions import AuditLogIsAppendOnly
from marketplace.models.pools import Pool
from marketplace.parties.acting import current_source
from marketplace.parties.models import Membership, Organisation

# The audited models by the name the log's filters and exports use, with the fields left out of the entries.
AUDITED = {
    "declaration": (Declaration, []),
    # The terms text (several kB) is identified by its SHA-256, which is logged.
    "licence": (Licence, ["terms_text"]),
    "payment": (Payment, []),
    "voucher": (Voucher, []),
    "voucher_use": (VoucherUse, []),
    "royalty_report": (RoyaltyReport, []),
    "pool": (Pool, []),
    "organisation": (Organisation, []),
    "membership": (Membership, []),
}


def _licensor_of(licence_id: int) -> int | None:
    return Licence.objects.filter(pk=licence_id).values_list("licensor_id", flat=True).first()


def _licence_holder(obj) -> int | None:
    cached = obj._state.fields_cache.get("licence")
    return cached.licensor_id if cached is not None else _licensor_of(obj.licence_id)


# The holder whose records a change is about; vouchers, voucher uses and pools are the IP office's alone.
HOLDER_OF = {
    Declaration: lambda d: d.holder_id,
    Licence: lambda licence: licence.licensor_id,
    Payment: _licence_holder,
    RoyaltyReport: _licence_holder,
    Organisation: lambda o: o.pk,
    Membership: lambda m: m.organisation_id,
}

# The holder of the entry django-auditlog is about to write: pre_log is sent just before each entry.
_pending_holder: ContextVar[int | None] = ContextVar("audit_pending_holder", default=None)


def holder_of(instance) -> int | None:
    """The organisation whose records a change of ``instance`` is about, if a holder may read it."""
    find = HOLDER_OF.get(type(instance))
    return find(instance) if find else None


def _remember_holder(sender, instance, action, **kwargs):
    _pending_holder.set(holder_of(instance))


def _stamp_entry(sender, instance: LogEntry, **kwargs):
    """A new entry gets its holder and source; saving an existing one is refused."""
    if not instance._state.adding:
        raise AuditLogIsAppendOnly(f"audit log entry {instance.pk} cannot be changed")
    data = dict(instance.additional_data or {})
    holder = _pending_holder.get()
    _pending_holder.set(None)
    if holder is not None:
        data.setdefault("holder", holder)
    source = current_source()
    if source:
        data.setdefault("source", source)
    instance.additional_data = data or None


def _refuse_delete(sender, instance: LogEntry, **kwargs):
    raise AuditLogIsAppendOnly(f"audit log entry {instance.pk} cannot be deleted")


def connect() -> None:
    """Register the audited models with django-auditlog and guard the log (called once, from the app's ready())."""
    for model, exclude in AUDITED.values():
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=list(exclude))
    pre_log.connect(_remember_holder, dispatch_uid="audit_remember_holder")
    pre_save.connect(_stamp_entry, sender=LogEntry, dispatch_uid="audit_stamp_entry")
    pre_delete.connect(_refuse_delete, sender=LogEntry, dispatch_uid="audit_refuse_delete")
