"""Export a pool's tape: ``manage.py export_pool POOL --format csv|xlsx|parquet|tape_csv --out PATH``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.exceptions import TamperedPool
from marketplace.management.progress import progress_bar
from marketplace.models.pools import Pool
from marketplace.pools.exports import PoolTapeExporter
from marketplace.pools.services import pool_preview


class Command(BaseCommand):
    help = ("Write a pool's tape, cash-flow schedule and summary: CSV or Parquet as a ZIP of three files, XLSX as "
            "one workbook of three sheets; tape_csv writes the tape alone as one CSV file. A frozen pool always "
            "gives the same bytes; a draft is computed live.")

    def add_arguments(self, parser):
        parser.add_argument("pool", help="pool id (e.g. 3) or code (e.g. POOL00003)")
        parser.add_argument("--format", required=True, choices=PoolTapeExporter.formats)
        parser.add_argument("--out", required=True, help="file to write (its folder must exist)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        ident = options["pool"].upper().removeprefix("POOL")
        if not ident.isdigit():
            raise CommandError(f"POOL: {options['pool']!r} is neither a pool id nor a code like POOL00003")
        pool = Pool.objects.filter(pk=int(ident)).first()
        if pool is None:
            raise CommandError(f"POOL: there is no pool {options['pool']!r}")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"--out: the folder {out.parent} does not exist")
        try:
            exporter = PoolTapeExporter(pool_preview(pool=pool))
        except TamperedPool as exc:
            raise CommandError(f"POOL: {exc}") from exc
        if not pool.is_frozen:
            self.stderr.write(f"{pool.code} is a draft: the tape is computed from today's data and is not sealed.")
        with (progress_bar(self, unit="rows", total=exporter.total_rows, disable=options["no_progress"]) as progress,
              out.open("wb") as handle):
            exporter.write(options["format"], handle, progress=progress)
        self.stdout.write(f"{pool.code}: {len(exporter.tape.tape)} exposures, "
                          f"{len(exporter.tape.schedule)} cash-flow rows → {out} ({out.stat().st_size} bytes)")
