"""Fit the matching index once (marketplace.matching.index): every published listing's words, re-segmenting
only the listings whose text changed since they were stored, and the document frequencies over them. Run it
before a scheduled ``refresh_matches`` (and after deploying a new tokenizer); between runs, publishing,
editing and withdrawing listings fold them in."""

from django.core.management.base import BaseCommand

from marketplace.management.progress import progress_bar
from marketplace.matching.index import matching_index_rebuild


class Command(BaseCommand):
    help = "Fit the stored matching index over every published listing."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args, **options):
        with progress_bar(self, unit="listing", desc="matching index", disable=options["no_progress"]) as progress:
            index = matching_index_rebuild(progress=progress)
        self.stdout.write(f"{index.fitted_listings} listings, {len(index.terms)} words, fit {index.content_hash[:12]}")
