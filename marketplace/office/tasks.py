"""Background jobs of the IP office: thin wrappers that call one service."""

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django_tasks import task

from marketplace.office.services import closed_months_store
from marketplace.office.statistics import snapshot_month


@task()
def compute_last_months_statistics() -> str:
    """The scheduled monthly snapshot (last month, published), then the default board's other closed months
    that have no snapshot yet, so that the dashboard's first visitor of the month does not compute them."""
    last = timezone.localdate().replace(day=1) - relativedelta(months=1)
    snapshot, _created = snapshot_month(year=last.year, month=last.month)
    stored = closed_months_store()
    return f"{snapshot}; {len(stored)} closed month(s) stored" if stored else str(snapshot)
