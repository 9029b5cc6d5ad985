"""`manage.py recover_inventory_batches`: every inventory batch that says running but whose worker is gone
(killed, out of memory, machine lost) is queued to run again while its task has attempts left, else marked
failed so that its holder is told to upload the file again (the failed ones are listed). Safe at any time and
from any host (a batch still being run is left alone); run it from the scheduler, e.g. every few minutes. The
batch page also does this for the batch it shows. See docs/inventory-import.md."""

from django.core.management.base import BaseCommand

from patents.inventory.services import inventory_batches_recover


class Command(BaseCommand):
    help = ("Queue again (or, after their last attempt, mark failed) the inventory batches whose worker stopped "
            "while running them.")

    def handle(self, *args, **options):
        recovered = inventory_batches_recover()
        for batch_id in recovered:
            self.stdout.write(f"batch {batch_id}: its worker was lost; marked failed")
        self.stdout.write(f"{len(recovered)} interrupted batch(es) marked failed")
