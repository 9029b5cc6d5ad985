"""Rebuild every listing's search document (marketplace.search.documents): after restoring a database from a
dump made without them, or to mend them at any time. Searches keep reading the old documents until it commits."""

from django.core.management.base import BaseCommand

from marketplace.management.progress import progress_bar
from marketplace.search.documents import listing_documents_rebuild


class Command(BaseCommand):
    help = "Rebuild the search documents of all live listings (facets, sort keys and full-text index)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args, **options):
        with progress_bar(self, unit="listings", disable=options["no_progress"]) as progress:
            written = listing_documents_rebuild(progress=progress)
        self.stdout.write(f"{written} listing(s) indexed for search")
