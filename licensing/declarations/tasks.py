"""Background jobs of the declarations: thin wrappers that call one service."""

from django_tasks import task

from licensing.declarations.situations import declared_patents_check


@task()
def check_declared_patents() -> dict:
    """The daily check (marketplace/scheduling/schedule.py, `manage.py check_declared_patents` by hand):
    Regulations art. 86 situations arising on declared patents, each told once."""
    return declared_patents_check()
