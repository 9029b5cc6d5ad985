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
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db

LANGUAGES = ["zh-hans", "en"]

# Latin tokens that belong on a Chinese page: file formats, standards and names that have no Chinese form there.
LATIN_ON_CHINESE_PAGE = {
    "CSV", "XLSX", "PDF", "API", "IPC", "JSON", "URL", "RSS", "ZIP", "SHA", "Excel", "Parquet",  # file formats, hashes
    "UTF", "GBK",  # text encodings
    "Stripe", "OpenAPI", "Swagger",  # products named by their names
    "English",  # the language switcher names each language in that language
    "WIPO", "CNIPA", "USCC",  # the bodies and the code a Chinese form names by their acronym
    "HHI", "ABS",  # finance's own acronyms (Herfindahl index, asset-backed securities), explained beside them
}
# The language switcher names Chinese in Chinese on an English page.
CJK_ON_ENGLISH_PAGE = {"简体中文"}

# What Django and django-filter write for a select's empty choice unless told otherwise: words in no language.
UNNAMED_CHOICE = "---------"
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


def _rule_code():
    """A rule's code of the legal register ("fees_unknown"): cited beside the rule's source in both languages, as
    a stable reference (like an article number), never as a word of either language."""
    from licensing.legal.register import RULES_BY_CODE

    codes = "|".join(map(re.escape, sorted(RULES_BY_CODE, key=len, reverse=True)))
    return re.compile(rf"\b({codes})\b")


def offending(chunks: list[str], language: str, blob: str, words: set[str]) -> list[str]:
    found, rule_code = [], _rule_code()
    for chunk in chunks:
        if UNNAMED_CHOICE in chunk:  # a select's empty choice says what it means in the page's language
            found.append(f"an unnamed empty choice {chunk[:160]!r}")
        text = rule_code.sub(" ", TRUNCATED_WORD.sub(" ", URL.sub(" ", EMAIL.sub(" ", chunk))))
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

    # The statistics over the demo's two years of history, where every chart has something to draw.
    today = timezone.localdate()
    history = f"?first={today.year - 2}-{today.month:02d}&last={today.year}-{today.month:02d}"
    search = url("listing_search")
    public = ["/", search, f"{search}?sort=price", f"{search}?sort=life", f"{search}?q=电池&sort=relevance",
              f"{search}?fee_form=royalty&grade=A", url("need_board"), url("need_detail", need.pk),
              url("gazette"), url("certificate_verify"), url("navigation_platform"), url("login"), url("signup"),
              url("password_reset")]
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
            url("inventory_upload"), url("need_board"), url("need_detail", need.pk),  # where a need notice leads
        ],
        "licensee@demo.test": [
            url("dashboard"), search, url("need_mine"), url("need_detail", need.pk), url("need_matches", need.pk),
            url("licence_list"), url("licence_detail", licence.pk),
            url("licence_certificate", licence.pk), url("statement_index"), url("statement_licence", licence.pk),
            url("licence_take", declaration.pk), url("saved_search_list"), url("notification_list"), url("need_new"),
        ],
        "ipoffice@demo.test": [
            url("dashboard"), url("office_statistics"), url("office_statistics_declarations"), url("pool_list"),
            url("pool_detail", pool.pk), url("audit_log"), url("voucher_list"), url("recording_list"),
            url("royalty_arrears"), url("navigation_platform"), url("office_statistics") + history,
            url("office_statistics_declarations") + history, url("pool_new"),
            url("organisation_list"), url("notification_list"),
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


def error_pages(client, blob, words) -> list[str]:
    """The pages of a wrong address, a page one may not see, and a server error (rendered by Django's handler
    with no request context, as when the error broke it)."""
    from marketplace.parties.models import User

    found = []
    for language in LANGUAGES:
        client.logout()
        pages = {"404": client.get(f"/{language}/no-such-page/")}
        client.force_login(User.objects.get(email="licensee@demo.test"))
        pages["403"] = client.get(f"/{language}/organisations/demo-university/edit/")
        with translation.override(language):
            pages["500"] = server_error(RequestFactory().get(f"/{language}/"))
        for status, response in pages.items():
            if str(response.status_code) != status:
                found.append(f"{language} error page {status}: status {response.status_code}")
            for text in offending(visible_text(response.content.decode()), language, blob, words):
                found.append(f"{language} error page {status}: {text}")
    return found


def refused_declaration(client, blob, words) -> list[str]:
    """The declare form refused for a patent imported without its annual fees: the results ask for the
    paid-through date there and then (issue 20, defect 2)."""
    from licensing.declarations.selectors import live_terms
    from marketplace.parties.models import User
    from patents.models import Patent

    holder = User.objects.get(email="holder@demo.test")
    patent = Patent.objects.filter(holder__slug="demo-university", declarations__isnull=True).order_by("pk").first()
    Patent.objects.filter(pk=patent.pk).update(annual_fees_paid_through=None)
    client.force_login(holder)
    typed = {"contact_name": "张三", "payment_method": "平台在线支付", "fee_basis_statement": "参照同领域已备案许可合同。"}
    blob = "\n".join([blob, *typed.values()])  # what the holder typed is user data too, shown again on the form
    found = []
    for language in LANGUAGES:
        response = client.post(f"/{language}/declarations/new/", {
            "holder": "demo-university", "patent": [patent.pk], "terms": live_terms().first().pk,
            "fee_form": "lump_sum", "lump_sum": "48000", "duration_years": "3", "contact_email": "holder@demo.test",
            "conditions_commitment": "on", "action": "file", **typed})
        html = response.content.decode()
        if response.status_code != 200 or f"fees-{patent.pk}-annual_fees_paid_through" not in html:
            found.append(f"{language} refused declaration: status {response.status_code}, no paid-through field")
        found += [f"{language} refused declaration: {t}" for t in offending(visible_text(html), language, blob, words)]
    return found


# The words on a page do not depend on the engine (the PostgreSQL run serves these pages in the browser
# walks), and the crawl of ~110 pages in two languages is among the slowest tests: SQLite runs it.
@pytest.mark.one_backend
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
    failures += error_pages(client, blob, words)
    failures += refused_declaration(client, blob, words)
    assert fetched >= 110
    failures = list(dict.fromkeys(failures))  # a table repeats a label on every row: each once
    assert not failures, "\n".join([f"{len(failures)} texts in the other language:", *failures])
