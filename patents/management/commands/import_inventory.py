"""`manage.py import_inventory PATH --holder ORG [--partial]`: the same import service as the web upload."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from marketplace.parties.models import User
from marketplace.parties.selectors import organisation_by_reference
from patents.inventory.services import inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch

STAGE_LABELS = {"reading": "reading", "validating": "validating", "comparing": "comparing", "writing": "writing",
                "grading": "grading"}


class Command(BaseCommand):
    help = "Import a holder's patent inventory from CSV (UTF-8, UTF-8 BOM, UTF-16 with BOM, GBK/GB18030) or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--holder", required=True, help="the holder organisation's slug or unified social credit code")
        parser.add_argument("--partial", action="store_true", help="import the valid rows even when some are rejected")
        parser.add_argument("--by", help="e-mail of the person running the import (for the audit trail)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in logs)")

    def handle(self, *args, path: Path, holder: str, partial: bool, by: str | None, no_progress: bool, **options):
        organisation = organisation_by_reference(holder)
        if organisation is None:
            raise CommandError(f"No organisation with slug or credit code {holder!r}.")
        run_by = User.objects.filter(email__iexact=by).first() if by else None
        if by and run_by is None:
            raise CommandError(f"No user with e-mail {by!r}.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            # The file is copied to storage in chunks, never held whole in memory (it may be 1 GiB).
            with path.open("rb") as source:
                batch = inventory_batch_create(holder=organisation, run_by=run_by, source=InventoryBatch.Source.CLI,
                                               filename=path.name, content=File(source), partial=partial)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        bar = tqdm(total=0, unit="row", disable=no_progress, file=self.stderr._out, dynamic_ncols=True)

        def on_progress(stage: str, done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.set_description(STAGE_LABELS.get(stage, stage))
            bar.n = min(done, total) if total else done
            bar.refresh()

        try:
            summary = inventory_batch_run(batch=batch, on_progress=on_progress)
        finally:
            bar.close()
        batch.refresh_from_db()
        self.stdout.write(
            f"batch {batch.pk}: {batch.get_status_display()} — rows {summary.total}, created {summary.created}, "
            f"updated {summary.updated}, unchanged {summary.unchanged}, rejected {summary.rejected}"
        )
        if batch.message:
            self.stdout.write(batch.message)
        for error in batch.errors_preview[:20]:
            self.stdout.write(f"  row {error['row']}, {error['column'] or '-'}: {error['reason']} ({error['value']!r})")
        if summary.error_report_path:
            self.stdout.write(f"error report: {summary.error_report_path}")
        if batch.status != InventoryBatch.Status.SUCCEEDED or summary.rejected:
            raise CommandError("some rows were rejected" if summary.rejected else batch.message or "import failed",
                               returncode=1)
