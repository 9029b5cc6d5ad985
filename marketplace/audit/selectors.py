"""Reading the audit log: who may read which entries, and the one search (model, object, actor, action, date
range) that the page and its exports share."""

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import django_filters
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import BooleanField, ForeignObjectRel, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licensing.models.licences import Voucher
from marketplace.audit.recording import AUDITED
from marketplace.parties.models import Membership, User
from marketplace.parties.selectors import user_is_ip_office

MODEL_LABELS = {
    "declaration": _("Declaration"), "licence": _("Licence"), "payment": _("Payment"), "voucher": _("Voucher"),
    "voucher_use": _("Voucher use"), "royalty_report": _("Royalty report"), "pool": _("Pool"),
    "organisation": _("Organisation"), "membership": _("Membership"),
}
ACTION_NAMES = {LogEntry.Action.CREATE: "create", LogEntry.Action.UPDATE: "update", LogEntry.Action.DELETE: "delete"}
ACTION_LABELS = {"create": _("created"), "update": _("changed"), "delete": _("deleted")}


@dataclass(frozen=True)
class AuditReader:
    """What a user may read: every entry (the IP office, superusers) or those about its holders' records."""

    everything: bool
    holder_ids: tuple[int, ...] = ()


def audit_reader(*, user: User) -> AuditReader | None:
    """The IP office and superusers read the whole log; a member of a patent holder reads the entries about its
    holders' declarations, the licences on them, their payments and royalty reports, and its organisation and
    memberships; anyone else nothing (None)."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or user_is_ip_office(user=user):
        return AuditReader(everything=True)
    holders = tuple(Membership.objects.filter(user=user, organisation__is_holder=True)
                    .values_list("organisation_id", flat=True).order_by("organisation_id"))
    return AuditReader(everything=False, holder_ids=holders) if holders else None


def content_types() -> dict[str, ContentType]:
    """The audited models' content types, by the name the filters use."""
    by_model = ContentType.objects.get_for_models(*(model for model, _exclude in AUDITED.values()))
    return {name: by_model[model] for name, (model, _exclude) in AUDITED.items()}


def visible_entries(*, reader: AuditReader) -> QuerySet[LogEntry]:
    """The entries ``reader`` may read, newest first."""
    entries = LogEntry.objects.filter(content_type__in=list(content_types().values()))
    if not reader.everything:
        entries = entries.filter(additional_data__holder__in=list(reader.holder_ids))
    return entries.select_related("content_type", "actor").order_by("-timestamp", "-pk")


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditEntryFilter(django_filters.FilterSet):
    """The log's search. Dates are whole days in the site's time zone, both ends included."""

    model = django_filters.ChoiceFilter(label=_("Record"), choices=list(MODEL_LABELS.items()), method="filter_model")
    object = django_filters.NumberFilter(label=_("Record number"), field_name="object_id", min_value=1)
    actor = django_filters.CharFilter(label=_("By (e-mail)"), method="filter_actor", max_length=254)
    action = django_filters.ChoiceFilter(label=_("Change"), choices=list(ACTION_LABELS.items()),
                                         method="filter_action")
    since = django_filters.DateFilter(label=_("From"), method="filter_since")
    until = django_filters.DateFilter(label=_("Until"), method="filter_until")

    class Meta:
        model = LogEntry
        fields: list[str] = []

    def filter_model(self, queryset, name, value):
        return queryset.filter(content_type=content_types()[value])

    def filter_actor(self, queryset, name, value):
        return queryset.filter(actor_email__iexact=value.strip())

    def filter_action(self, queryset, name, value):
        return queryset.filter(action={v: k for k, v in ACTION_NAMES.items()}[value])

    def filter_since(self, queryset, name, value):
        return queryset.filter(timestamp__gte=_day_start(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(timestamp__lt=_day_start(value + timedelta(days=1)))


def audit_search(*, reader: AuditReader, params) -> AuditEntryFilter:
    """The entries ``reader`` may read, filtered by ``params`` (``.is_valid()``, ``.errors``, ``.qs``)."""
    return AuditEntryFilter(params, queryset=visible_entries(reader=reader))


@dataclass(frozen=True)
class Change:
    field: str  # the column's name (the exports keep it: a machine reads them)
    before: str
    after: str
    # What the page shows, in the reader's language: the field's verbose name, choices' labels for codes.
    label: str = ""
    before_shown: str = ""
    after_shown: str = ""


@dataclass(frozen=True)
class AuditRow:
    """One entry as the page and the exports show it."""

    pk: int
    timestamp: datetime
    model: str
    object_id: str
    object_repr: str
    action: str
    actor: str
    source: str
    changes: list[Change]

    @property
    def model_label(self) -> str:
        return str(MODEL_LABELS.get(self.model, self.model))

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))


# How auditlog writes an empty related manager ("licensing.Licence.None"): nothing a reader should see.
_EMPTY_MANAGER = re.compile(r"\w+\.\w+\.None")


def _text(value) -> str:
    return "" if value is None or value == "None" or _EMPTY_MANAGER.fullmatch(str(value)) else str(value)


# Audited columns whose model gives no verbose name (Django would show "created at", untranslated): every column
# of every audited model has a label in the reader's language (tests/marketplace/test_audit_labels.py).
_FIELD_LABELS = {
    "created_at": _("created at"), "created_by": _("created by"), "updated_at": _("updated at"),
    "filed_by": _("filed by"), "withdrawal_filed_by": _("withdrawal filed by"), "withdrawn_at": _("withdrawn at"),
    "announcement_recorded_by": _("announcement recorded by"),
    "withdrawn_by": _("withdrawn by"), "frozen_at": _("frozen at"), "frozen_by": _("frozen by"),
    "issued_at": _("issued at"), "issued_by": _("issued by"), "activated_at": _("activated at"),
    "starts_on": _("starts on"), "ends_on": _("ends on"), "notice_submitted_at": _("notice submitted at"),
    "notice_submitted_by": _("notice submitted by"), "terminated_at": _("terminated at"),
    "termination_reason": _("termination reason"), "recorded_by": _("recorded by"), "note": _("note"),
    "currency": _("currency"), "fee_form": _("fee form"), "first_amount_fen": _("first amount (fen)"),
    "licensor": _("licensor"), "state": _("state"),
    # Foreign keys and the licence terms a licence copies from its declaration.
    "patent": _("patent"), "declaration": _("declaration"), "licence": _("licence"), "licensee": _("licensee"),
    "organisation": _("organisation"), "user": _("user"), "voucher": _("voucher"), "payment": _("payment"),
    "terms_version": _("terms version"), "terms_sha256": _("terms SHA-256"), "content_sha256": _("content SHA-256"),
    "lump_sum_fen": _("lump sum (fen)"), "entry_fee_fen": _("entry fee (fen)"), "royalty_base": _("royalty base"),
    "royalty_rate": _("royalty rate (%)"), "annual_minimum_fen": _("annual minimum (fen)"),
    "duration_years": _("duration (years)"),
    # Payments, voucher uses and royalty reports.
    "purpose": _("purpose"), "amount_fen": _("amount (fen)"), "voucher_fen": _("paid by voucher (fen)"),
    "charge_fen": _("charged by card (fen)"), "refunded_fen": _("refunded (fen)"),
    "stripe_payment_intent_id": _("Stripe payment intent"), "failure_message": _("failure message"),
    "due_on": _("due on"), "succeeded_at": _("paid at"), "used_at": _("used at"), "released": _("released"),
    "period_start": _("period start"), "period_end": _("period end"), "royalty_fen": _("royalty (fen)"),
    "minimum_topup_fen": _("minimum top-up (fen)"), "amount_due_fen": _("amount due (fen)"),
    "submitted_by": _("submitted by"), "submitted_at": _("submitted at"),
}


def _field(model, name: str):
    try:
        return model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:
        return None


def _field_label(field, name: str) -> str:
    """The field's verbose name when its model gives one, else ours, else the column's name."""
    if name in _FIELD_LABELS and (field is None or str(field.verbose_name) == name.replace("_", " ")):
        return str(_FIELD_LABELS[name])
    return str(field.verbose_name) if field is not None else name


# JSON lists of codes, and the choices that name them.
_LIST_CHOICES = {"eligible_uses": Voucher.Use}


def _value(field, value) -> str:
    """A stored value as the reader reads it: a choice's label rather than its code."""
    text = _text(value)
    if field is not None and field.choices and text:
        return str(dict(field.flatchoices).get(text, text))
    if isinstance(field, BooleanField) and text in ("True", "False"):
        return str(_("yes") if text == "True" else _("no"))
    if field is not None and field.name in _LIST_CHOICES and text.startswith("["):
        try:
            codes = json.loads(text)
        except ValueError:
            return text
        labels = dict(_LIST_CHOICES[field.name].choices)
        return ", ".join(str(labels.get(code, code)) for code in codes)
    return text


def _changes(entry: LogEntry) -> list[Change]:
    changes = []
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class() if entry.content_type_id else None
    for name, values in sorted((entry.changes_dict or {}).items()):
        field = _field(model, name)
        if isinstance(field, ForeignObjectRel):
            continue  # a reverse relation: auditlog records only its empty manager ("licensing.Licence.None")
        label = _field_label(field, name)
        if isinstance(values, list | tuple) and len(values) == 2:
            before, after = _text(values[0]), _text(values[1])
            changes.append(Change(name, before, after, label, _value(field, before), _value(field, after)))
        else:  # a many-to-many change: {"type": "m2m", "operation": ..., "objects": [...]}
            changes.append(Change(name, "", _text(values), label, "", _text(values)))
    return changes


def audit_row(entry: LogEntry, *, names: dict[int, str]) -> AuditRow:
    """``names``: the audited content types' ids and names (``content_types()`` turned round)."""
    data = entry.additional_data or {}
    actor = entry.actor_email or (entry.actor.email if entry.actor_id and entry.actor else "")
    return AuditRow(pk=entry.pk, timestamp=timezone.localtime(entry.timestamp), model=names.get(entry.content_type_id, ""),
                    object_id=entry.object_pk, object_repr=entry.object_repr,
                    action=ACTION_NAMES.get(entry.action, str(entry.action)), actor=actor,
                    source=str(data.get("source", "")), changes=_changes(entry))


def audit_rows(entries) -> list[AuditRow]:
    names = {ct.pk: name for name, ct in content_types().items()}
    return [audit_row(entry, names=names) for entry in entries]
