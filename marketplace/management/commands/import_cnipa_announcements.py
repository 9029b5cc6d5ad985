"""`manage.py import_cnipa_announcements PATH [--terms ID]`: CNIPA's published open-licence declarations (CSV or
XLSX in CNIPA's column layout) as announced declarations and listings of patents already in the inventory. All
or nothing: any bad row is reported by row and nothing is written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from licensing.models import LicenceTerms
from marketplace.listings.cnipa_import import AnnouncementFileError, CnipaImportRefused, cnipa_announcements_import


class Command(BaseCommand):
    help = "Import CNIPA's announcements of open-licence declarations (CSV in GBK or UTF-8, or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--terms", type=int, help="id of the standard licence terms new listings are offered on "
                                                      "(default: the newest live terms)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in logs)")

    def handle(self, *args, path: Path, terms: int | None, no_progress: bool, **options):
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        chosen = None
        if terms is not None:
            chosen = LicenceTerms.objects.filter(pk=terms, live=True).first()
            if chosen is None:
                raise CommandError(f"No live licence terms with id {terms}.")
        bar = tqdm(total=0, unit="row", disable=no_progress, file=self.stderr._out, dynamic_ncols=True,
                   desc="recording")

        def on_progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.n = done
            bar.refresh()

        try:
            result = cnipa_announcements_import(raw=path.read_bytes(), terms=chosen, on_progress=on_progress)
        except AnnouncementFileError as exc:
            raise CommandError(str(exc)) from exc
        except CnipaImportRefused as exc:
            for error in exc.errors:
                self.stdout.write(f"  row {error.row}, {error.column or '-'}: {error.reason} ({error.value!r})")
            raise CommandError(f"nothing imported: {len(exc.errors)} problem(s) in the file", returncode=1) from exc
        finally:
            bar.close()
        self.stdout.write(f"rows {result.rows}: {result.created} new announced declarations listed, "
                          f"{result.announced} filed declarations announced, {result.unchanged} already recorded")
