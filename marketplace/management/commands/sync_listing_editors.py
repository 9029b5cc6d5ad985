"""Backfill holders' rights on their listings: run once after upgrading, or to mend them at any time."""

from django.core.management.base import BaseCommand

from marketplace.listings.editors import listing_editors_sync


class Command(BaseCommand):
    help = ("Give each holder's members the right to edit their live listings through review, take it back "
            "on listings off the marketplace, and put the listing index under the Listing review workflow.")

    def handle(self, *args, **options):
        granted = listing_editors_sync()
        self.stdout.write(f"{granted} listing(s) editable by their holders")
