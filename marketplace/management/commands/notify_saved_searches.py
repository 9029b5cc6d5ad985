"""E-mail buyers about new listings matching their saved searches; run from a scheduler."""

from django.core.management.base import BaseCommand

from marketplace.saved_searches.services import saved_searches_notify


class Command(BaseCommand):
    help = "E-mail buyers about new listings matching their saved searches."

    def handle(self, *args, **options):
        sent = saved_searches_notify()
        self.stdout.write(str(sent))
