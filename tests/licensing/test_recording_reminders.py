"""The daily recording reminder (recording measures (2011) art. 5: a licence is recorded with CNIPA within three
months of taking effect): the parties of an active licence not yet recorded hear when its deadline is near and
again when it has passed, once per stage, in the app and by e-mail; a recorded, a young or a not yet active
licence tells nobody."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from licensing.models.licences import Licence
from licensing.recording.reminders import recording_reminders_send
from licensing.recording.services import recording_due_on
from marketplace.parties.models import Notification
from marketplace.parties.notifications import notification_text
from tests.licensing.factories import LicenceFactory, holder_admin
from tests.parties.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def _licence(took_effect: date | None, **fields) -> Licence:
    """A licence that took effect on that day (None: a notice not yet paid), with a member on each side."""
    if took_effect is None:
        licence = LicenceFactory(**fields)
    else:
        at = timezone.make_aware(datetime.combine(took_effect, time(12)))
        licence = LicenceFactory(active=True, starts_on=took_effect, activated_at=at, **fields)
    holder_admin(licence.licensor)
    MembershipFactory(organisation=licence.licensee)
    return licence


def _told(licence: Licence) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(params__licence=licence.pk).values_list("kind", "user__email"))


def _parties(licence: Licence) -> list[str]:
    return sorted(m.user.email for m in [*licence.licensor.memberships.all(), *licence.licensee.memberships.all()])


def test_the_parties_hear_once_when_the_deadline_is_near_and_once_when_it_has_passed(
    django_capture_on_commit_callbacks,
):
    due_soon = _licence(TODAY - timedelta(days=80))
    overdue = _licence(TODAY - timedelta(days=120))
    recorded = _licence(TODAY - timedelta(days=120), recorded_on=TODAY - timedelta(days=60), recording_number="2026990000123")
    young = _licence(TODAY - timedelta(days=10))
    unpaid = _licence(None)
    assert TODAY <= recording_due_on(due_soon) <= TODAY + timedelta(days=30) and recording_due_on(overdue) < TODAY

    with django_capture_on_commit_callbacks(execute=True):
        assert recording_reminders_send(today=TODAY) == {"due_soon": 1, "overdue": 1}
    assert _told(due_soon) == [("licence.recording_due_soon", email) for email in _parties(due_soon)]
    assert _told(overdue) == [("licence.recording_overdue", email) for email in _parties(overdue)]
    assert _told(recorded) == _told(young) == _told(unpaid) == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(_parties(due_soon) + _parties(overdue))

    # What the holder reads: the deadline, the rule, and the way to the recording page.
    note = Notification.objects.filter(kind="licence.recording_due_soon").first()
    due = recording_due_on(due_soon).isoformat()
    with translation.override("zh-hans"):  # the site's default language, as the other notifications' links
        assert note.url == reverse("licence_recording", args=[due_soon.pk])
    title, body = notification_text(note.kind, note.params)
    assert title == f"Record the licence of {due_soon.patent.number} with CNIPA by {due}"
    assert "recording measures (2011) art. 5" in body and due_soon.certificate_number in body
    with translation.override("zh-hans"):
        title, body = notification_text(note.kind, note.params)
    assert due in title and "备案" in title and "Record" not in title

    # The next day's run (or a scheduler catching up) tells nobody again...
    assert recording_reminders_send(today=TODAY + timedelta(days=1)) == {"due_soon": 0, "overdue": 0}
    # ...until the near deadline passes unrecorded: its parties hear that it is overdue, once.
    later = TODAY + timedelta(days=45)
    assert recording_reminders_send(today=later) == {"due_soon": 0, "overdue": 1}
    assert recording_reminders_send(today=later) == {"due_soon": 0, "overdue": 0}
    assert [kind for kind, _email in _told(due_soon)] == (["licence.recording_due_soon"] * 2 + ["licence.recording_overdue"] * 2)
    assert len(_told(overdue)) == 2
