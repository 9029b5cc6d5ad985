"""Reminding the parties of a licence's recording deadline (专利实施许可合同备案办法 (2011) art. 5: the parties
record a licence contract with CNIPA within three months of its taking effect).

A daily job (marketplace/scheduling/schedule.py) finds the active licences not yet recorded whose deadline is
near (``DUE_SOON_DAYS``) or past, and tells the members of the holder and of the licensee: once per licence and
stage (due soon, then overdue), in the app and by e-mail. The notifications themselves are the record of who was
told: a second run the same day, or a scheduler catching up on missed days, tells nobody again; a licence first
seen overdue (e.g. taken before this job existed) gets the overdue notice only."""

from datetime import date

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from licensing.models.licences import Licence
from licensing.recording.services import RecordingStatus, licences_to_remind, recording_due_on
from marketplace.parties import notifications
from marketplace.parties.models import Notification

# Recording status -> notification kind (texts in marketplace/parties/notifications.py).
REMINDER_KINDS = {RecordingStatus.DUE_SOON: "licence.recording_due_soon", RecordingStatus.OVERDUE: "licence.recording_overdue"}


def _told(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("params__licence", flat=True))


def recording_reminders_send(*, today: date | None = None) -> dict[str, int]:
    """Tell the parties of each active, unrecorded licence whose recording deadline is near or past, once per
    licence and stage. Returns the number of licences told per stage."""
    today = today or timezone.localdate()
    told = {kind: _told(kind) for kind in REMINDER_KINDS.values()}
    counts = dict.fromkeys(REMINDER_KINDS, 0)
    for licence in licences_to_remind(today=today).select_related("patent", "licensor", "licensee").order_by("pk"):
        kind = REMINDER_KINDS[licence.recording_status]
        if licence.pk in told[kind]:
            continue
        with transaction.atomic():
            # One teller per licence at a time; re-read under the lock (another run may have told it meanwhile).
            Licence.objects.select_for_update().filter(pk=licence.pk).first()
            if Notification.objects.filter(kind=kind, params__licence=licence.pk).exists():
                continue
            with translation.override(settings.LANGUAGE_CODE):
                url = reverse("licence_recording", args=[licence.pk])
            params = {
                "licence": licence.pk,
                "patent": licence.patent.number,
                "title": licence.patent.title,
                "holder": licence.licensor.name_zh,
                "licensee": licence.licensee.name_zh,
                "certificate": licence.certificate_number,
                "due_on": recording_due_on(licence).isoformat(),
            }
            notifications.notify(
                users=notifications.members_of([licence.licensor_id, licence.licensee_id]), kind=kind, params=params, url=url
            )
        counts[licence.recording_status] += 1
    return counts
