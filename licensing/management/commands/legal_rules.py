"""`manage.py legal_rules`: print the register of rules (licensing/legal/register.py) with each rule's source.

--format table|csv|json|markdown (table by default), --language zh-hans|en for table and CSV (JSON and Markdown
carry both), --write regenerates docs/legal-rules.md."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from licensing.legal import register


class Command(BaseCommand):
    help = "Print every rule the platform enforces, with its code, statement, severity and source."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=register.FORMATS, default="table")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES], default="en")
        parser.add_argument("--write", action="store_true",
                            help=f"Write the Markdown rendering to {register.DOCS_PATH} instead of printing.")

    def handle(self, *args, **options):
        if options["write"]:
            path = Path(settings.BASE_DIR) / register.DOCS_PATH
            path.write_text(register.render("markdown"), encoding="utf-8")
            self.stdout.write(f"wrote {len(register.RULES)} rules to {register.DOCS_PATH}")
            return
        self.stdout.write(register.render(options["format"], language=options["language"]), ending="")
