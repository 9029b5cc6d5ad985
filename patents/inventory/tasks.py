"""Background jobs: thin wrappers that load ids and call one service (pretix's lesson: no logic here)."""

from django_tasks import task

from marketplace.parties.models import Organisation
from patents.inventory.services import inventory_batch_run, inventory_batches_recover, patents_regrade
from patents.models import InventoryBatch


@task()
def run_inventory_batch(batch_id: int) -> str:
    batch = InventoryBatch.objects.select_related("holder").get(pk=batch_id)
    return inventory_batch_run(batch=batch).status


@task()
def regrade_portfolio(holder_id: int) -> int:
    return patents_regrade(holder=Organisation.objects.get(pk=holder_id))


@task()
def recover_inventory_batches() -> list[int]:
    """The scheduler's sweep (marketplace/scheduling/schedule.py): imports whose worker died run again, or after
    their last attempt are marked failed."""
    return inventory_batches_recover()
