"""One language per page: every page of the demo users' journeys, fetched in zh-hans and in en, shows no text of
the other language apart from the users' own data (titles, names, numbers, e-mails, codes...).

The user data is read from the database after seeding, so the exclusion follows the demo rather than a list of
strings written here. Fields with choices are left out of it: their stored values ("royalty", "created") are
internal codes that must never reach a page untranslated.
"""

import json
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

LANGUAGES = ["zh-hans", "en"]

# Latin tokens that belong on a Chinese page: file formats, standards and names that have no Chinese form there.
LATIN_ON_CHINESE_PAGE = {
    "CSV", "XLSX", "PDF", "API", "IPC", "JSON", "URL", "RSS", "ZIP", "SHA", "Excel", "Parquet",  # file formats, hashes
    "Stripe", "OpenAPI", "Swagger",  # products named by their names
    "English",  # the language switcher names each language in that language
    "WIPO", "CNIPA", "USCC",  # the bodies and the code a Chinese form names by their acronym
    "HHI", "ABS",  # finance's own acronyms (Herfindahl index, asset-backed securities), explained beside them
}
# The language switcher names Chinese in Chinese on an English page.
CJK_ON_ENGLISH_PAGE = {"简体中文"}

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")  # grade ranges such as "A-D" are not words
URL = re.compile(r"https?://\S+")
# A title cut short ("wireless resource allo..."): the cut word is user data but no longer a whole word of it.
TRUNCATED_WORD = re.compile(r"[A-Za-z]+(\.\.\.|…)")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Text the platform writes (not the users): checked like any other text, so never counted as user data.
GENERATED_FIELDS = {("patents", "inventorybatch", "message"), ("parties", "notification", "kind")}
APPS_WITH_USER_DATA = {"parties", "marketplace", "patents", "licensing", "cms", "wagtailcore", "auth", "taggit"}


class _VisibleText(HTMLParser):
    """The text a reader sees: data outside script/style, plus the labels a screen reader or a tooltip shows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "alt", "placeholder", "aria-label") and value:
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.chunks


def user_data() -> tuple[str, set[str]]:
    """What the demo stored, as one blob to find CJK runs in (en pages) and as the set of Latin words in its
    free text (zh-hans pages). Choice codes are in neither. JSON values (inventors' names) and text the platform
    wrote once in the writer's language (a batch's message, the audit log's record names) count as data on an
    en page only: the demo writes them in zh-hans, so the zh-hans pages check them."""
    values, free_text = [], []
    for model in apps.get_models():
        if model._meta.app_label not in APPS_WITH_USER_DATA | {"auditlog"}:
            continue
        for f in model._meta.concrete_fields:
            if f.choices or not isinstance(f, models.CharField | models.TextField | models.JSONField):
                continue
            rows = [v for v in model.objects.values_list(f.attname, flat=True) if v]
            texts = [json.dumps(v, ensure_ascii=False) if isinstance(f, models.JSONField) else str(v) for v in rows]
            values.extend(texts)
            generated = (model._meta.app_label, model._meta.model_name, f.name) in GENERATED_FIELDS
            if not isinstance(f, models.JSONField) and not generated and model._meta.app_label != "auditlog":
                free_text.extend(texts)
    return "\n".join(values), {w.lower() for w in LATIN_WORD.findall("\n".join(free_text))}


def offending(chunks: list[str], language: str, blob: str, words: set[str]) -> list[str]:
    found = []
    for chunk in chunks:
        text = TRUNCATED_WORD.sub(" ", URL.sub(" ", EMAIL.sub(" ", chunk)))
        if language == "zh-hans":
            bad = [w for w in LATIN_WORD.findall(text)
                   if w not in LATIN_ON_CHINESE_PAGE and w.upper() not in LATIN_ON_CHINESE_PAGE
                   and w.lower() not in words]
        else:
            bad = [r for r in CJK_RUN.findall(text) if r not in CJK_ON_ENGLISH_PAGE and r not in blob]
        if bad:
            found.append(f"{bad} in {chunk[:160]!r}")
    return found


def journeys() -> dict[str | None, list[str]]:
    """URL paths (without the language prefix) each demo user walks, built from the seeded records."""
    from licensing.models import Declaration
    from licensing.models.licences import Licence
    from marketplace.models import Need, PatentListingPage
    from marketplace.models.pools import Pool
    from marketplace.parties.models import Organisation
    from patents.models import InventoryBatch, Patent, PatentChange

    university = Organisation.objects.get(slug="demo-university")
    company = Organisation.objects.get(slug="demo-company")
    declaration = Declaration.objects.filter(holder=university, state="filed").order_by("pk").first()
    listing = PatentListingPage.objects.live().filter(locale__language_code="zh-hans").first()
    need = Need.objects.filter(organisation=company).order_by("pk").first()
    licence = Licence.objects.filter(licensee=company).order_by("pk").first()
    changed = PatentChange.objects.filter(patent__holder=university).order_by("pk").first()
    patent = changed.patent if changed else Patent.objects.filter(holder=university).order_by("pk").first()
    batch_with_errors = (InventoryBatch.objects.filter(holder=university).exclude(errors_preview=[]).order_by("-pk").first()
                         or InventoryBatch.objects.filter(holder=university).order_by("-pk").first())
    pool = Pool.objects.order_by("pk").first()

    def url(name, *args):
        with translation.override("en"):
            return reverse(name, args=args).removeprefix("/en")

    search = url("listing_search")
    public = ["/", search, f"{search}?sort=price", f"{search}?sort=life", f"{search}?q=电池&sort=relevance",
              f"{search}?fee_form=royalty&grade=A", url("need_board"), url("need_detail", need.pk),
              url("gazette"), url("certificate_verify"), url("navigation_platform")]
    if listing is not None:
        public.append(listing.get_url(None).removeprefix("/zh-hans"))
    return {
        None: public,
        "holder@demo.test": [
            url("dashboard"), url("portfolio"), f"{url('portfolio')}?ordering=-filing_date",
            url("patent_detail", patent.pk), url("batch_list"), url("batch_detail", batch_with_errors.pk),
            url("declaration_list"), url("declaration_detail", declaration.pk),
            f"{url('declare')}?patent={patent.pk}", url("declaration_needs", declaration.pk), url("licence_list"),
            url("statement_index"), url("navigation_holder", university.slug), url("notification_list"),
        ],
        "licensee@demo.test": [
            url("dashboard"), search, url("need_mine"), url("need_detail", need.pk), url("need_matches", need.pk),
            url("licence_list"), url("licence_detail", licence.pk),
            url("licence_certificate", licence.pk), url("statement_index"), url("statement_licence", licence.pk),
            url("licence_take", declaration.pk), url("saved_search_list"), url("notification_list"),
        ],
        "ipoffice@demo.test": [
            url("dashboard"), url("office_statistics"), url("office_statistics_declarations"), url("pool_list"),
            url("pool_detail", pool.pk), url("audit_log"), url("voucher_list"), url("recording_list"),
            url("royalty_arrears"), url("navigation_platform"),
        ],
    }


def seed_a_batch_with_errors():
    """A holder's re-upload of its inventory: one patent's classification and grant date changed (its page then
    has a change history), one row without a number and one with a bad classification (the batch's errors)."""
    import io

    from marketplace.demo.synthetic import generate_inventory
    from marketplace.parties.models import Organisation, User
    from patents.inventory.services import inventory_batch_create, inventory_batch_run
    from patents.models import InventoryBatch

    frame = generate_inventory(3, seed=2026, start_serial=100_000)  # the demo university's first three patents
    frame.loc[0, "ipc"], frame.loc[0, "grant_date"] = "G06F 16/00", ""
    frame.loc[1, "patent_number"] = ""
    frame.loc[2, "ipc"] = "Z99X 1/00"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    batch = inventory_batch_create(holder=Organisation.objects.get(slug="demo-university"),
                                   run_by=User.objects.get(email="holder@demo.test"),
                                   source=InventoryBatch.Source.WEB, filename="re-upload.csv",
                                   content=buffer.getvalue().encode(), partial=True, language="zh-hans")
    inventory_batch_run(batch=batch)


def test_every_journey_page_shows_one_language(client):
    import time

    from marketplace.parties.models import User
    t0 = time.monotonic()
    call_command("seed_demo", verbosity=0)
    seed_a_batch_with_errors()
    print("seeded", time.monotonic() - t0)
    blob, words = user_data()
    failures, fetched = [], 0
    for email, paths in journeys().items():
        client.logout()
        if email:
            client.force_login(User.objects.get(email=email))
        for language in LANGUAGES:
            for path in paths:
                response = client.get(f"/{language}{path}")
                if response.status_code != 200:
                    failures.append(f"{language}{path} as {email or 'anonymous'}: status {response.status_code}")
                    continue
                fetched += 1
                for text in offending(visible_text(response.content.decode()), language, blob, words):
                    failures.append(f"{language}{path} as {email or 'anonymous'}: {text}")
    assert fetched >= 90
    failures = list(dict.fromkeys(failures))  # a table repeats a label on every row: each once
    assert not failures, "\n".join([f"{len(failures)} texts in the other language:", *failures])
