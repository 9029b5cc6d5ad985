"""The restore drill of docs/backup-restore.md, with its own scripts: back up a served site that has licences and
certificates (the demo's, and one more taken through the site), restore into a fresh database and fresh media
folders, serve the restored copy, and compare it with the original: the row count of every table, every licence's
terms hash, every file of the media, and every certificate as a third party verifies it on the public page."""

import hashlib
import re
import subprocess
import time
from pathlib import Path

import requests

from tests.reliability.harness import ROOT, Served, pg_bin, project_env
from tests.reliability.traffic import Client, Recorder, declarations_to_license, query, write_report

VERIFY_RESULT = re.compile(r'<section class="card verify-result[^"]*" id="verify-result">.*?</section>', re.S)


def script(name: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", str(ROOT / "scripts" / name), *args], env={**env, "PGBIN": str(pg_bin())},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def row_counts(site_like, database: str) -> dict[str, int]:
    tables = [name for (name,) in site_like.cluster.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database)]
    union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)  # noqa: S608 - catalogue names
    return dict(site_like.cluster.execute(union, database))


def licence_terms(site_like, database: str) -> list[tuple]:
    # The stored hash, and the hash of the stored text computed by PostgreSQL: both must come back unchanged.
    return site_like.cluster.execute(
        "SELECT id, certificate_number, terms_sha256, encode(sha256(convert_to(terms_text, 'UTF8')), 'hex') "
        "FROM licensing_licence ORDER BY id", database)


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def verification(base: str, number: str) -> tuple[int, str]:
    """What a third party sees on the public verification page: its status and the result section."""
    response = requests.get(f"{base}/zh-hans/verify/{number}/", timeout=30)
    found = VERIFY_RESULT.search(response.text)
    return response.status_code, found.group(0) if found else ""


def wait_until_quiet(site, seconds: float = 1.5, limit: float = 20) -> None:
    """Until the Stripe stand-in's late events (about a second after each change) have all been received."""
    deadline, last = time.monotonic() + limit, None
    while time.monotonic() < deadline:
        count = query(site, "SELECT count(*) FROM licensing_webhookdelivery")[0][0]
        if count == last:
            return
        last = count
        time.sleep(seconds)


def test_a_backup_restored_into_a_fresh_database_serves_the_same_licences_and_certificates(shared_site, tmp_path):
    site = shared_site
    stripe_url = site.env["STRIPE_API_BASE"]
    timings, clock = {}, time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()

    # One more licence through the site (notice, card, 3-D Secure, webhook), on top of the demo's.
    declaration = declarations_to_license(site, {"startup@demo.test": 1})["startup@demo.test"][0]
    licensee = Client("licensee", site.server.url, Recorder(), stripe_url=stripe_url)
    licensee.log_in("startup@demo.test")
    taken = licensee.take_licence(declaration)
    wait_until_quiet(site)
    lap("licence")
    original_counts = row_counts(site, site.database)
    original_terms = licence_terms(site, site.database)
    original_files = {folder: files(site.workdir / folder) for folder in ("media", "private-media")}
    assert taken.certificate_number in {row[1] for row in original_terms}
    assert all(stored == computed for _id, _number, stored, computed in original_terms), original_terms
    assert original_files["private-media"], "the demo's uploaded inventories should be in the private media"

    # Back up with the site's own environment, as docs/backup-restore.md does.
    backup = tmp_path / "backup"
    lap("compare_original")
    script("backup.sh", str(backup), env=site.env)
    lap("backup")
    recorded = dict(line.split("\t") for line in (backup / "row-counts.tsv").read_text().splitlines())
    assert {table: int(n) for table, n in recorded.items()} == original_counts

    # Restore into a fresh database and fresh media folders, and serve that copy.
    restored_db = f"{site.database}_restored"
    site.cluster.execute(f'DROP DATABASE IF EXISTS "{restored_db}"')
    site.cluster.execute(f'CREATE DATABASE "{restored_db}" TEMPLATE template0')
    workdir = site.workdir.parent / restored_db
    env = project_env(site.cluster.url(restored_db), stripe_url, workdir)
    lap("create_database")
    restored_output = script("restore.sh", str(backup), env=env).stdout
    lap("restore")
    # The restore refuses to write over what it just restored (a live site, for all it knows).
    again = subprocess.run(["bash", str(ROOT / "scripts" / "restore.sh"), str(backup)], capture_output=True,
                           text=True, timeout=120, env={**env, "PGBIN": str(pg_bin())})
    assert again.returncode == 2 and "new, empty database" in again.stderr

    assert row_counts(site, restored_db) == original_counts
    assert licence_terms(site, restored_db) == original_terms
    assert {folder: files(workdir / folder) for folder in ("media", "private-media")} == original_files
    # The schema is the code's: no migration the restored copy would still need.
    # The schema is the one the code under test migrated the original to: the same migrations recorded (the
    # documented `manage.py migrate --check` would say the same, at the cost of another Django start here).
    migrations = "SELECT app, name FROM django_migrations ORDER BY app, name"
    assert site.cluster.execute(migrations, restored_db) == site.cluster.execute(migrations, site.database)
    lap("compare_restored")

    restored = Served(env, workdir, workers=1).start()
    lap("serve_restored")
    try:
        numbers = [row[1] for row in original_terms if row[1]]
        results = {n: (verification(site.server.url, n), verification(restored.url, n)) for n in numbers}
        unknown = "OL209900000001"  # a number never issued: refused alike by both
        results[unknown] = (verification(site.server.url, unknown), verification(restored.url, unknown))
    finally:
        restored.stop()
    lap("verify_certificates")
    assert all(original == copy for original, copy in results.values()), {
        n: r for n, r in results.items() if r[0] != r[1]}
    assert all(original[0] == 200 and number in original[1] for number, (original, _copy) in results.items()
               if number != unknown)
    assert results[unknown][0][0] == 404

    report = {"tables_compared": len(original_counts), "rows": sum(original_counts.values()),
              "licences_compared": len(original_terms), "certificates_verified": len(numbers),
              "media_files_compared": sum(len(f) for f in original_files.values()),
              "backup_seconds": timings["backup"], "restore_seconds": timings["restore"], "timings": timings,
              "backup_bytes": sum(p.stat().st_size for p in backup.iterdir()), "restore_output": restored_output.strip()}
    print(f"\nbackup and restore: {report}")
    write_report("backup-restore", report)
