"""Background jobs of the saved searches: thin wrappers that call one service."""

from django_tasks import task

from marketplace.saved_searches.services import saved_searches_notify


@task()
def notify_saved_searches() -> int:
    """The scheduled alert (marketplace/scheduling/schedule.py): e-mail new listings matching saved searches."""
    return saved_searches_notify()
