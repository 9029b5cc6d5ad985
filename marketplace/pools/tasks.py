"""Background jobs of the pool builder: thin wrappers that load ids and call one service."""

from django_tasks import task

from marketplace.models.pools import PoolExport
from marketplace.pools.services import pool_export_run


@task()
def write_pool_export(export_id: int) -> str:
    export = PoolExport.objects.select_related("pool").get(pk=export_id)
    return pool_export_run(export=export).state
