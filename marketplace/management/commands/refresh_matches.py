"""Refresh every stored match (open needs and published listings) and alert people of strong new ones; run
from a scheduler (e.g. nightly), because scores drift with time even when nothing is edited: remaining life
shrinks, deadlines pass and new words enter the market."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from licensing.models import Declaration
from marketplace.management.progress import progress_bar
from marketplace.matching.index import matching_index_rebuild
from marketplace.matching.services import listing_matches_refresh, needs_matches_refresh, stale_subjects


class Command(BaseCommand):
    help = "Recompute the stored matches of every open need and published listing; alert strong new matches."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args, **options):
        # The matching index is fitted once per refresh (listings whose text is unchanged are not segmented
        # again); the needs are then ranked in batches against it.
        with progress_bar(self, unit="listing", desc="matching index", disable=options["no_progress"]) as progress:
            matching_index_rebuild(progress=progress)
        need_ids, declaration_ids = stale_subjects()
        # Each side refreshes on its own (no cascade): this command goes over both sides anyway.
        with tqdm(total=len(need_ids) + len(declaration_ids), unit="item", desc="matches",
                  disable=options["no_progress"], file=self.stderr) as bar:
            stored, alerted = needs_matches_refresh(need_ids=need_ids, progress=bar.update)
            for pk in declaration_ids:
                result = listing_matches_refresh(declaration=Declaration.objects.get(pk=pk), cascade=False)
                stored, alerted, _ = stored + result.stored, alerted + result.alerted, bar.update()
        self.stdout.write(f"{len(need_ids)} needs, {len(declaration_ids)} listings, {stored} matches stored, "
                          f"{alerted} alerts sent")
