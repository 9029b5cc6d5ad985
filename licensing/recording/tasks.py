"""Background jobs of contract recording: thin wrappers that call one service."""

from django_tasks import task

from licensing.recording.reminders import recording_reminders_send


@task()
def remind_recording_deadlines() -> dict:
    """The daily reminder (marketplace/scheduling/schedule.py): the parties of licences whose recording deadline
    is near or past, each told once per stage."""
    return recording_reminders_send()
