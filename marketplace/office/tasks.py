"""Background jobs of the IP office: thin wrappers that call one service."""

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django_tasks import task

from marketplace.office.statistics import snapshot_month


@task()
def compute_last_months_statistics() -> str:
    """The scheduled monthly snapshot (last month), for a worker's periodic schedule."""
    last = timezone.localdate().replace(day=1) - relativedelta(months=1)
    snapshot, _created = snapshot_month(year=last.year, month=last.month)
    return str(snapshot)
