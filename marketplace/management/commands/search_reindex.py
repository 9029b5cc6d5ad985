"""Rebuild every listing's search document (marketplace.search.documents): after restoring a database from a
dump made without them, or to mend them at any time. Searches keep reading the old documents until it commits."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from marketplace.search.documents import listing_documents_rebuild


class Command(BaseCommand):
    help = "Rebuild the search documents of all live listings (facets, sort keys and full-text index)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args, **options):
        bar = tqdm(unit="listings", disable=options["no_progress"], file=self.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        written = listing_documents_rebuild(progress=progress)
        bar.close()
        self.stdout.write(f"{written} listing(s) indexed for search")
