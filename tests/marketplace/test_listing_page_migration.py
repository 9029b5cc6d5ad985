"""The listing pages moved from cms to the marketplace (marketplace migration 0005, cms 0004) without copying
a row. This test takes the code from before the move, migrates and seeds the demo with it into a SQLite file of
its own, then migrates that file with today's code, and checks that every page, listing, licence and
certificate is still there, that the pages' content types were relabelled in place, and that the pages render
and are found by search."""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# main just before the move: the feature-package reorganisation, with the listing pages still in cms.
BEFORE_THE_MOVE = "88a548a338c1d784718b2bf81b9f57a2c76b2b63"

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="builds its own SQLite database, so it runs once, in the SQLite pass",
)

# Run with today's code on the migrated file; prints what a visitor, an editor and search see.
AFTER_CHECKS = """
import json
from django.test import Client
from django.test.utils import setup_test_environment
from wagtail.models import Page
from marketplace.models import ListingIndexPage, PatentListingPage
from marketplace.parties.models import User
from marketplace.search.selectors import listing_search

setup_test_environment()
client = Client()
listing = PatentListingPage.objects.live().filter(alias_of__isnull=True).order_by("pk").first()
english = PatentListingPage.objects.get(alias_of=listing)
index = ListingIndexPage.objects.filter(alias_of__isnull=True).order_by("pk").first()
result = {
    "unresolved_pages": [p.pk for p in Page.objects.filter(depth__gt=1) if p.specific_class is None],
    "listing_types": sorted({type(p.specific).__name__ for p in Page.objects.filter(pk__in=PatentListingPage.objects.all())}),
    "status": {
        "listing": client.get(listing.url).status_code,
        "english alias": client.get(english.url).status_code,
        "index": client.get(index.url).status_code,
    },
    "found_by_search": listing.pk in {hit.pk for hit in listing_search(
        data={"q": listing.declaration.patent.title, "kind": listing.declaration.patent.kind}, per_page=100).hits},
}
client.force_login(User.objects.filter(is_superuser=True).first())
result["status"]["admin edit"] = client.get(f"/admin/pages/{listing.pk}/edit/").status_code
result["status"]["admin explorer"] = client.get(f"/admin/pages/{index.pk}/").status_code
print(json.dumps(result))
"""

BEFORE_STEPS = """
from django.core.management import call_command
call_command("migrate", interactive=False)
call_command("seed_demo")
"""
# Migrates with today's code, prints the facts (read with plain SQL, tests/.../_facts), then the checks above.
AFTER_STEPS = """
import json
from django.conf import settings
from django.core.management import call_command
from tests.marketplace.test_listing_page_migration import _facts
call_command("migrate", interactive=False)
print("facts:", json.dumps(_facts(settings.DATABASES["default"]["NAME"])))
""" + AFTER_CHECKS


def _as_read(facts: dict) -> dict:
    """Facts as AFTER_STEPS prints them (JSON): rows as lists, so that both sides compare alike."""
    return json.loads(json.dumps(facts))


def _run(args: list[str], *, cwd: Path, env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"manage.py {' '.join(args)} in {cwd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _facts(database: Path) -> dict:
    """What must survive the move, read with plain SQL so that neither version of the code is involved."""
    with sqlite3.connect(database) as db:
        def rows(sql: str) -> list:
            return sorted(db.execute(sql).fetchall())

        return {
            "content_types": rows("SELECT app_label, model, id FROM django_content_type "
                                  "WHERE model IN ('listingindexpage', 'patentlistingpage')"),
            "pages": rows("SELECT id, content_type_id, url_path, live, alias_of_id, locale_id FROM wagtailcore_page"),
            "listings": rows("SELECT page_ptr_id, declaration_id, summary, body FROM cms_patentlistingpage"),
            "indexes": rows("SELECT page_ptr_id, introduction FROM cms_listingindexpage"),
            "index_titles": rows("SELECT l.language_code, p.title, p.alias_of_id FROM cms_listingindexpage i "
                                 "JOIN wagtailcore_page p ON p.id = i.page_ptr_id "
                                 "JOIN wagtailcore_locale l ON l.id = p.locale_id"),
            "revisions": rows("SELECT id, content_type_id, base_content_type_id, object_id FROM wagtailcore_revision"),
            "search_entries": rows("SELECT content_type_id, object_id FROM wagtailsearch_indexentry"),
            "workflow_pages": rows("SELECT page_id, workflow_id FROM wagtailcore_workflowpage"),
            "permissions": rows("SELECT content_type_id, codename FROM auth_permission"),
            "licences": rows("SELECT id, state, certificate_number FROM licensing_licence"),
            "declarations": rows("SELECT id, state FROM licensing_declaration"),
        }


def _checkout_before_the_move(into: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed, so the code from before the move cannot be checked out")
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{BEFORE_THE_MOVE}^{{commit}}"],
                           capture_output=True)
    if known.returncode != 0:
        pytest.skip(f"commit {BEFORE_THE_MOVE[:10]} is not in this clone's history (a shallow clone? "
                    "`git fetch --unshallow` brings it)")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", BEFORE_THE_MOVE],
                             capture_output=True, check=True, timeout=120)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def test_a_database_seeded_before_the_listing_pages_moved_keeps_every_page_when_migrated(tmp_path):
    before_the_move = tmp_path / "before"
    _checkout_before_the_move(before_the_move)
    database = tmp_path / "db.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    env.update(DJANGO_SETTINGS_MODULE="marketplace.settings.test", DATABASE_URL=f"sqlite:///{database}",
               MEDIA_ROOT=str(tmp_path / "media"), PRIVATE_MEDIA_ROOT=str(tmp_path / "private-media"))

    # Each manage.py process spends seconds importing the project before it starts: the migrations and the seeding
    # share one process with each version of the code (call_command, as manage.py would run them).
    _run(["shell", "-c", BEFORE_STEPS], cwd=before_the_move, env=env)
    before = _as_read(_facts(database))
    cms_types = {model: pk for app, model, pk in before["content_types"] if app == "cms"}
    assert set(cms_types) == {"listingindexpage", "patentlistingpage"}, before["content_types"]
    assert before["listings"] and before["indexes"] and before["licences"]

    # Today's code migrates, the facts are read (plain SQL, before any page is served), then the checks run.
    printed = _run(["shell", "-c", AFTER_STEPS], cwd=ROOT, env=env).strip().splitlines()
    after = json.loads(next(line for line in printed if line.startswith("facts: ")).removeprefix("facts: "))
    seen = json.loads(printed[-1])

    # The same content type rows, relabelled: every page, revision, search entry and permission keeps its id.
    assert after["content_types"] == sorted(["marketplace", model, pk] for model, pk in cms_types.items())
    for fact in ("listings", "indexes", "revisions", "search_entries", "workflow_pages", "licences"):
        assert after[fact] == before[fact], fact
    # Marketplace 0017: the English listing index is no longer an alias of the Chinese one, and each is titled
    # in its own language; every other page is as it was.
    indexes = {page_id for page_id, _introduction in before["indexes"]}
    assert after["pages"] == [[pk, ct, path, live, None if pk in indexes else alias, locale]
                              for pk, ct, path, live, alias, locale in before["pages"]]
    assert before["index_titles"] == [["en", "专利许可清单 Patent listings", min(indexes)],
                                      ["zh-hans", "专利许可清单 Patent listings", None]]
    assert after["index_titles"] == [["en", "Patent listings", None], ["zh-hans", "专利许可清单", None]]
    # Issue 19: a declaration "published" in the platform's own gazette was never announced by CNIPA: now "filed".
    assert after["declarations"] == [[pk, "filed" if state == "published" else state]
                                     for pk, state in before["declarations"]]
    # Models added since (e.g. licensing's CertificateSerial) bring permissions of their own.
    assert set(map(tuple, before["permissions"])) <= set(map(tuple, after["permissions"]))
    assert any(number for _pk, _state, number in after["licences"])  # the seeded certificates

    assert seen["unresolved_pages"] == []
    assert seen["listing_types"] == ["PatentListingPage"]
    assert seen["status"] == {"listing": 200, "english alias": 200, "index": 200, "admin edit": 200,
                              "admin explorer": 200}
    assert seen["found_by_search"]
