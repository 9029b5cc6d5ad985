"""Contract recording (合同备案) of open licences with CNIPA.

A licence reached through an open-licence declaration is recorded with CNIPA on the strength of the
written documents that prove it, and the parties record a licence contract within three months of its taking
effect (专利实施许可合同备案办法, CNIPA Order No. 62 (2011), art. 5). The three months are counted as the Civil Code
counts periods (arts. 201-203, ``licensing.deadlines``): the corresponding day three months on, moved to the
next working day when it falls on a weekend or a statutory holiday. The platform does not file anything itself: it
works out each licence's deadline, lists the deadlines of the licences a user's organisations granted or
took (the IP office sees all), assembles the recording pack (the data CNIPA's recording form asks for) as a
page and as CSV/XLSX, and lets a party note the recording number and date once CNIPA has recorded it.

Reads (selectors) and the one write (``licence_mark_recorded``) live here together because they share the
deadline rule; the views in ``recording_views`` are thin.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import django_filters
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from licensing import deadlines
from licensing.exceptions import NotAllowed
from licensing.legal.register import cite
from licensing.models.licences import Licence, LicenceState
from marketplace.parties import listeners
from marketplace.parties.models import Membership, Organisation, User
from marketplace.parties.selectors import user_is_ip_office

RECORDING_PERIOD_MONTHS = 3
DUE_SOON_DAYS = 30
# Shown beside the deadline: the measures set the three months; the Civil Code how they are counted.
RECORDING_SOURCE = _("Patent licence contract recording measures (2011) art. 5; Civil Code arts. 202-203")


class RecordingStatus:
    """Where a licence stands with its recording: recorded, or not yet and how urgent."""

    RECORDED = "recorded"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    OPEN = "open"

    choices = [
        (OVERDUE, _("Overdue")),
        (DUE_SOON, _("Due soon")),
        (OPEN, _("Open")),
        (RECORDED, _("Recorded")),
    ]
    labels = dict(choices)


# The deadline rule ----------------------------------------------------------------------------------------

add_months = deadlines.add_months  # kept for callers of the former local helper


def licence_activation_day(licence: Licence) -> date | None:
    """The day the licence took effect, in the site's time zone (``starts_on`` when no time was kept)."""
    if licence.activated_at is not None:
        return timezone.localdate(licence.activated_at)
    return licence.starts_on


def recording_due_on(licence: Licence) -> date:
    """The last day on which the licence may be recorded on time: three months from the day it took effect
    (recording measures art. 5), ending on the corresponding day (Civil Code art. 202) and moved to the next
    working day when that is a weekend or statutory holiday (art. 203; see ``licensing.deadlines``).

    Raises ValueError for a licence that has not taken effect (no deadline runs yet)."""
    day = licence_activation_day(licence)
    if day is None:
        raise ValueError("A licence that has not taken effect has no recording deadline.")
    return deadlines.period_end_months(day, RECORDING_PERIOD_MONTHS)


def recording_status(licence: Licence, *, today: date) -> str:
    """recorded once a recording date is noted; otherwise overdue after the due date, due soon within
    ``DUE_SOON_DAYS`` days of it (the due day itself included), else open."""
    if licence.recorded_on is not None:
        return RecordingStatus.RECORDED
    due_on = recording_due_on(licence)
    if due_on < today:
        return RecordingStatus.OVERDUE
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return RecordingStatus.DUE_SOON
    return RecordingStatus.OPEN


def _first_activation_due_on_or_after(day: date) -> date:
    """The earliest activation day whose due date is ``day`` or later. The due date never decreases as the
    activation day advances (month arithmetic and the move to the next working day both keep the order), so
    "due before X" is "took effect before this day": the database can then bucket licences by status with
    plain date comparisons, without month arithmetic (which SQLite and PostgreSQL do differently). The search
    starts a month early: a holiday run (Spring Festival, National Day) moves a due date by up to ~10 days."""
    candidate = deadlines.add_months(day, -RECORDING_PERIOD_MONTHS) - timedelta(days=31)
    while deadlines.period_end_months(candidate, RECORDING_PERIOD_MONTHS) < day:
        candidate += timedelta(days=1)
    return candidate


def _with_recording_status(qs: QuerySet[Licence], *, today: date) -> QuerySet[Licence]:
    overdue_before = _first_activation_due_on_or_after(today)
    due_soon_before = _first_activation_due_on_or_after(today + timedelta(days=DUE_SOON_DAYS + 1))
    return qs.annotate(
        activation_day=Coalesce(TruncDate("activated_at"), F("starts_on")),
    ).annotate(
        recording_status=Case(
            When(recorded_on__isnull=False, then=Value(RecordingStatus.RECORDED)),
            When(activation_day__lt=overdue_before, then=Value(RecordingStatus.OVERDUE)),
            When(activation_day__lt=due_soon_before, then=Value(RecordingStatus.DUE_SOON)),
            default=Value(RecordingStatus.OPEN),
        ),
        recording_urgency=Case(
            When(recorded_on__isnull=False, then=Value(3)),
            When(activation_day__lt=overdue_before, then=Value(0)),
            When(activation_day__lt=due_soon_before, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    )


def licences_to_remind(*, today: date) -> QuerySet[Licence]:
    """Active licences not yet recorded whose recording deadline is near or past (due soon or overdue), each
    annotated with its ``recording_status``: those whose parties the daily reminder tells (``reminders``)."""
    return _with_recording_status(
        Licence.objects.filter(state=LicenceState.ACTIVE, recorded_on__isnull=True), today=today
    ).filter(recording_status__in=[RecordingStatus.DUE_SOON, RecordingStatus.OVERDUE])


# Who may see and record -----------------------------------------------------------------------------------

def user_is_party(*, user: User, licence: Licence) -> bool:
    """Members of the licensor or of the licensee: the parties, who may record the licence."""
    return user.is_authenticated and Membership.objects.filter(
        user=user, organisation_id__in=(licence.licensor_id, licence.licensee_id)
    ).exists()


def _sees_all(user: User) -> bool:
    return user.is_superuser or user_is_ip_office(user=user)


# The deadline list ----------------------------------------------------------------------------------------

class RecordingSide:
    GRANTED = "granted"
    TAKEN = "taken"
    choices = [(GRANTED, _("Licences we granted")), (TAKEN, _("Licences we took"))]


class RecordingFilter(django_filters.FilterSet):
    """The facets of the deadline list, shared by the page and its exports. ``user`` is whose side
    ("granted"/"taken") the side facet means."""

    status = django_filters.ChoiceFilter(label=_("Status"), field_name="recording_status",
                                         choices=RecordingStatus.choices, empty_label=_("Any"))
    side = django_filters.ChoiceFilter(label=_("Side"), choices=RecordingSide.choices, method="filter_side",
                                       empty_label=_("Either"))

    class Meta:
        model = Licence
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, user: User, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user

    def filter_side(self, queryset, name, value):
        orgs = Organisation.objects.filter(memberships__user=self.user)
        if value == RecordingSide.GRANTED:
            return queryset.filter(licensor__in=orgs)
        return queryset.filter(licensee__in=orgs)


@dataclass(frozen=True)
class RecordingRow:
    licence: Licence
    activation_day: date
    due_on: date
    status: str
    today: date

    @property
    def status_label(self) -> str:
        return str(RecordingStatus.labels[self.status])

    @property
    def days_left(self) -> int:
        """Days until the due date as of ``today``: 0 on the due day, negative once overdue."""
        return (self.due_on - self.today).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


@dataclass
class RecordingList:
    """The licences whose recording a user follows, filtered; ``counts`` are per status before the
    status facet narrows the list (for the summary line)."""

    queryset: QuerySet[Licence]
    filterset: RecordingFilter
    today: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return self.filterset.is_valid()

    @property
    def summary(self) -> list[tuple[str, str, int]]:
        """(status, label, count) for each status, most urgent first."""
        return [(key, str(label), self.counts.get(key, 0)) for key, label in RecordingStatus.choices]

    def row(self, licence: Licence) -> RecordingRow:
        return recording_row(licence, today=self.today)

    def rows(self, licences: Iterable[Licence] | None = None) -> list[RecordingRow]:
        return [self.row(licence) for licence in (self.queryset if licences is None else licences)]

    def __iter__(self) -> Iterator[RecordingRow]:
        return iter(self.rows())

    def __len__(self) -> int:
        return self.queryset.count()


def recording_row(licence: Licence, *, today: date) -> RecordingRow:
    """A licence with its activation day, due date and status as of ``today``."""
    return RecordingRow(licence=licence, activation_day=licence_activation_day(licence),
                        due_on=recording_due_on(licence), status=recording_status(licence, today=today),
                        today=today)


def visible_licences(*, user: User) -> QuerySet[Licence]:
    """Licences the user's organisations granted or took; all of them for the IP office and superusers."""
    qs = Licence.objects.all()
    if _sees_all(user):
        return qs
    if not user.is_authenticated:
        return qs.none()
    orgs = Organisation.objects.filter(memberships__user=user)
    return qs.filter(Q(licensor__in=orgs) | Q(licensee__in=orgs))


def recordings_for(user: User, *, today: date | None = None, params: Mapping | None = None) -> RecordingList:
    """Active licences the user's organisations granted or took (the IP office and superusers: all of
    them), each with its recording due date and status as of ``today`` (default: the local date), most
    urgent first: overdue, due soon, open, then recorded; within a status the earliest deadline first.

    ``params`` (e.g. request.GET) narrows the list by ``status`` and ``side`` (granted / taken); invalid
    values are ignored and reported through ``RecordingList.is_valid``. Iterating gives RecordingRows."""
    today = today or timezone.localdate()
    base = _with_recording_status(
        visible_licences(user=user).filter(state=LicenceState.ACTIVE), today=today
    ).filter(activation_day__isnull=False)
    counts = dict(base.order_by().values_list("recording_status").annotate(n=Count("pk")))
    filterset = RecordingFilter(params or {}, queryset=base, user=user)
    qs = (filterset.qs.select_related("patent", "licensor", "licensee", "declaration")
          .prefetch_related("patent__co_owners").order_by("recording_urgency", "activation_day", "pk"))
    return RecordingList(queryset=qs, filterset=filterset, today=today,
                         counts={key: counts.get(key, 0) for key, _label in RecordingStatus.choices})


# The recording pack ---------------------------------------------------------------------------------------

LICENCE_TYPE = _("Non-exclusive licence (open licence)")  # 普通许可（开放许可）
# A licence taken before CNIPA announced the declaration is an ordinary contract (Patent Law art. 50).
LICENCE_TYPE_PLATFORM = _("Non-exclusive licence")  # 普通许可

# (key, label) in the order of CNIPA's recording form; the keys are the export's column headers.
PACK_FIELDS: tuple[tuple[str, object], ...] = (
    ("patent_number", _("Patent number")),
    ("patent_title", _("Patent title")),
    ("patent_kind", _("Patent kind")),
    ("patentee_name", _("Patentee (licensor)")),
    ("patentee_uscc", _("Patentee's unified social credit code")),
    ("co_patentees", _("Co-patentees")),
    ("licensee_name", _("Licensee")),
    ("licensee_uscc", _("Licensee's unified social credit code")),
    ("licence_type", _("Licence type")),
    ("licence_starts_on", _("Licence term from")),
    ("licence_ends_on", _("Licence term until")),
    ("fee_form", _("Fee form")),
    ("currency", _("Currency")),
    ("lump_sum_yuan", _("Lump sum (yuan)")),
    ("entry_fee_yuan", _("Entry fee (yuan)")),
    ("royalty_rate_percent", _("Royalty rate (%)")),
    ("royalty_base", _("Royalty base")),
    ("annual_minimum_yuan", _("Annual minimum royalty (yuan)")),
    ("way_of_payment", _("Way of payment")),
    ("declaration_announcement_number", _("CNIPA announcement number of the open-licence declaration")),
    ("certificate_number", _("Licence certificate number")),
    ("contract_date", _("Contract date (written notice)")),
    ("effective_date", _("Date the licence took effect")),
)
PACK_LABELS = dict(PACK_FIELDS)


def fen_to_yuan(amount_fen: int | None) -> Decimal | None:
    """Integer fen as yuan with two decimals, exactly (no float)."""
    return None if amount_fen is None else (Decimal(amount_fen) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class RecordingPack:
    """What CNIPA's licence-contract recording form asks for, taken from the licence's snapshot (the
    names and codes of the written notice, the fee as accepted) so it matches the contract."""

    values: dict[str, object]

    def __getitem__(self, key: str):
        return self.values[key]

    @property
    def items(self) -> list[tuple[str, str, object]]:
        """(key, label in the active language, value), in the form's order: what the page shows."""
        return [(key, str(label), self.values[key]) for key, label in PACK_FIELDS]


def recording_pack(licence: Licence) -> RecordingPack:
    """The recording pack of one licence that has taken effect (``recordings_for`` loads what it reads in
    bulk)."""
    patent, licensor = licence.patent, licence.licensor
    co_owners = [c.name for c in patent.co_owners.all() if c.name not in (licensor.name_zh, licensor.name_en)]
    notice_date = timezone.localdate(licence.notice_submitted_at) if licence.notice_submitted_at else None
    return RecordingPack(values={
        "patent_number": patent.number,
        "patent_title": patent.title,
        "patent_kind": patent.get_kind_display(),
        "patentee_name": licensor.name_zh,
        "patentee_uscc": licensor.uscc or "",
        "co_patentees": "；".join(sorted(co_owners)),
        "licensee_name": licence.notice_legal_name or licence.licensee.name_zh,
        "licensee_uscc": licence.notice_uscc or licence.licensee.uscc or "",
        "licence_type": str(LICENCE_TYPE if licence.basis == "statutory" else LICENCE_TYPE_PLATFORM),
        "licence_starts_on": licence.starts_on,
        "licence_ends_on": licence.ends_on,
        "fee_form": licence.get_fee_form_display(),
        "currency": licence.currency,
        "lump_sum_yuan": fen_to_yuan(licence.lump_sum_fen),
        "entry_fee_yuan": fen_to_yuan(licence.entry_fee_fen),
        "royalty_rate_percent": licence.royalty_rate,
        "royalty_base": licence.get_royalty_base_display() if licence.royalty_base else "",
        "annual_minimum_yuan": fen_to_yuan(licence.annual_minimum_fen),
        "way_of_payment": licence.declaration.payment_method,
        "declaration_announcement_number": licence.declaration.cnipa_number or "",
        "certificate_number": licence.certificate_number or "",
        "contract_date": notice_date,
        "effective_date": licence_activation_day(licence),
    })


# Marking a licence recorded -------------------------------------------------------------------------------

@transaction.atomic
def licence_mark_recorded(*, licence: Licence, recording_number: str, recorded_on: date, by: User) -> Licence:
    """Note that CNIPA recorded the licence under ``recording_number`` on ``recorded_on``.

    Only members of the licensor or the licensee may (NotAllowed otherwise; the IP office only
    watches). The licence must have taken effect; the number is required; the date may be neither in the
    future nor before the licence took effect (ValidationError, by field). Repeating the same number and
    date changes nothing; a licence already recorded with other values is refused rather than silently
    overwritten."""
    licence = Licence.objects.select_for_update().get(pk=licence.pk)
    if not user_is_party(user=by, licence=licence):
        raise NotAllowed(gettext("Only members of the licensor or the licensee may record this licence."))
    number = (recording_number or "").strip()
    activation_day = licence_activation_day(licence)
    errors: dict[str, str] = {}
    if activation_day is None:
        raise ValidationError(cite("recording_details",
                                  gettext("This licence has not taken effect; there is nothing to record yet.")))
    if not number:
        errors["recording_number"] = cite("recording_details", gettext("Enter the recording number CNIPA gave."))
    if recorded_on is None:
        errors["recorded_on"] = cite("recording_details", gettext("Enter the date CNIPA recorded the licence."))
    elif recorded_on > timezone.localdate():
        errors["recorded_on"] = cite("recording_details", gettext("The recording date cannot be in the future."))
    elif recorded_on < activation_day:
        errors["recorded_on"] = cite("recording_details", gettext(
            "The recording date cannot be before the licence took effect (%(day)s).") % {"day": activation_day.isoformat()})
    if errors:
        raise ValidationError(errors)
    if licence.recorded_on is not None:
        if (licence.recording_number, licence.recorded_on) == (number, recorded_on):
            return licence
        raise ValidationError({"recording_number": cite("recording_once", gettext(
            "This licence is already recorded as %(number)s on %(day)s.") % {
            "number": licence.recording_number, "day": licence.recorded_on.isoformat()})})
    licence.recording_number, licence.recorded_on, licence.recorded_by = number, recorded_on, by
    others = [f.name for f in Licence._meta.concrete_fields if f.name not in ("recording_number", "recorded_on")]
    licence.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    licence.save(update_fields=["recording_number", "recorded_on", "recorded_by"])
    listeners.changed(listeners.LICENCE_CHANGE_LISTENERS, declaration_ids=[licence.declaration_id])
    return licence
