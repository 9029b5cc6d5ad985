"""`manage.py import_inventory`: the same import service as the web upload, from the command line."""

import contextlib
import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from patents.models import InventoryBatch, Patent, PatentChange
from tests.parties.factories import HolderFactory, OrganisationFactory, UserFactory
from tests.patents.factories import cn_application_number, inventory_csv

ROOT = Path(__file__).resolve().parents[2]


def row(serial: int, **values) -> dict:
    return {"number": cn_application_number(serial), "title": f"一种传感器 {serial}", "kind": "invention",
            "filing_date": "2021-03-15", **values}


def write(tmp_path: Path, rows: list[dict], name: str = "inventory.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(inventory_csv(rows))
    return path


def run_command(path, **options) -> str:
    """Run the command in English (the batch takes the active language) and return what it printed."""
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_inventory", str(path), no_progress=True, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def run_rejected(path, **options) -> tuple[CommandError, str]:
    out = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as exc:
        call_command("import_inventory", str(path), no_progress=True, stdout=out, stderr=io.StringIO(), **options)
    return exc.value, out.getvalue()


@pytest.mark.django_db
class TestImportInventoryCommand:
    def test_a_clean_file_prints_its_summary(self, tmp_path):
        holder = HolderFactory()

        out = run_command(write(tmp_path, [row(1), row(2)]), holder=holder.slug)

        assert "created 2, updated 0, unchanged 0, rejected 0" in out
        assert "rows 2" in out
        assert "error report" not in out
        assert Patent.objects.filter(holder=holder).count() == 2
        assert InventoryBatch.objects.get().source == InventoryBatch.Source.CLI

    def test_a_second_run_reports_updated_and_unchanged_rows(self, tmp_path):
        holder = HolderFactory()
        run_command(write(tmp_path, [row(1), row(2)]), holder=holder.slug)

        out = run_command(write(tmp_path, [row(1), row(2, title="新标题"), row(3)]), holder=holder.slug)

        assert "created 1, updated 1, unchanged 1, rejected 0" in out

    def test_the_holder_can_be_named_by_its_unified_social_credit_code(self, tmp_path):
        holder = HolderFactory()

        out = run_command(write(tmp_path, [row(1)]), holder=holder.uscc.lower())

        assert "created 1" in out
        assert Patent.objects.get().holder == holder

    def test_rejected_rows_exit_non_zero_and_print_the_error_report_path(self, tmp_path):
        holder = HolderFactory()

        error, out = run_rejected(write(tmp_path, [row(1), row(2, filing_date="2021-02-30")]), holder=holder.slug)

        assert error.returncode == 1
        assert "rejected 1" in out
        assert "nothing was imported" in out
        assert "row 3, filing_date: not a date" in out
        report = re.search(r"^error report: (.+)$", out, re.MULTILINE)
        assert report and Path(report[1]).is_file()
        assert "2021-02-30" in Path(report[1]).read_text(encoding="utf-8-sig")
        assert Patent.objects.count() == 0

    def test_partial_imports_the_valid_rows_but_still_exits_non_zero(self, tmp_path):
        holder = HolderFactory()

        error, out = run_rejected(write(tmp_path, [row(1), row(2, kind="plant")]), holder=holder.slug, partial=True)

        assert error.returncode == 1
        assert "created 1, updated 0, unchanged 0, rejected 1" in out
        assert "error report: " in out
        assert Patent.objects.count() == 1

    def test_a_rejected_file_exits_non_zero_with_its_reason(self, tmp_path):
        holder = HolderFactory()
        path = tmp_path / "empty.csv"
        path.write_bytes(b"")

        error, out = run_rejected(path, holder=holder.slug)

        assert error.returncode == 1
        assert "The file is empty." in str(error)
        assert "error report: " in out

    def test_an_unknown_holder_is_a_clear_error(self, tmp_path):
        with pytest.raises(CommandError, match="No organisation with slug or credit code 'no-such-university'"):
            run_command(write(tmp_path, [row(1)]), holder="no-such-university")
        assert InventoryBatch.objects.count() == 0

    def test_an_organisation_that_holds_no_patents_is_refused(self, tmp_path):
        licensee = OrganisationFactory()

        with pytest.raises(CommandError, match="does not act as a patent holder"):
            run_command(write(tmp_path, [row(1)]), holder=licensee.slug)

    def test_a_missing_file_is_a_clear_error(self, tmp_path):
        holder = HolderFactory()

        with pytest.raises(CommandError, match="is not a file"):
            run_command(tmp_path / "nowhere.csv", holder=holder.slug)

    def test_the_person_given_with_by_is_recorded_in_the_audit_trail(self, tmp_path):
        holder, user = HolderFactory(), UserFactory(email="ip-office@example.cn")

        run_command(write(tmp_path, [row(1)]), holder=holder.slug, by="IP-Office@example.cn")

        assert InventoryBatch.objects.get().run_by == user
        assert PatentChange.objects.get().by == user

    def test_an_unknown_person_given_with_by_is_a_clear_error(self, tmp_path):
        holder = HolderFactory()

        with pytest.raises(CommandError, match="No user with e-mail"):
            run_command(write(tmp_path, [row(1)]), holder=holder.slug, by="nobody@example.cn")

    def test_the_progress_bar_goes_to_stderr(self, tmp_path):
        holder, out, err = HolderFactory(), io.StringIO(), io.StringIO()

        with translation.override("en"):
            call_command("import_inventory", str(write(tmp_path, [row(1)])), holder=holder.slug, stdout=out, stderr=err)

        assert "created 1" in out.getvalue()
        assert "%" not in out.getvalue()
        assert "grading: 100%" in err.getvalue()


# The separate process's database is a file copy of this run's migrated SQLite test database with the holder
# already in it (migrating a fresh file and making the holder in two more processes took ~40 of its ~50 s). What
# it checks is the command as its own process (its output and exit status), which the engine does not change:
# SQLite runs it (one_backend); run on PostgreSQL directly, it migrates its own SQLite file as before.
# Transactional: SQLite's backup cannot read the in-memory database while a transaction holds it (it waits
# forever); serialized_rollback gives the copy the migrations' rows whatever ran before.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.one_backend
def test_the_command_runs_as_a_separate_process_with_its_exit_status(tmp_path):
    """manage.py in a subprocess against its own migrated SQLite file: exit 0 for a clean file, 1 otherwise."""
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    if connection.vendor == "sqlite":
        uscc = HolderFactory(slug="cli-university").uscc
        connection.ensure_connection()
        with contextlib.closing(sqlite3.connect(database)) as copy:
            connection.connection.backup(copy)
    else:
        assert manage("migrate", "--noinput", "-v0").returncode == 0
        made = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); from tests.parties.factories import HolderFactory; "
                                   "print(HolderFactory(slug='cli-university').uscc)"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert made.returncode == 0, made.stderr
        uscc = made.stdout.strip()
    good, bad = write(tmp_path, [row(1), row(2)], "good.csv"), write(tmp_path, [row(3, kind="plant")], "bad.csv")

    # Two processes, one per exit status (each spends seconds importing the project). A second run's counts, the
    # holder named by its credit code and an unknown holder's error are the same code in this process
    # (TestImportInventoryCommand); every refusal leaves through CommandError, as the rejected file does here.
    first = manage("import_inventory", str(good), "--holder", uscc, "--no-progress")
    rejected = manage("import_inventory", str(bad), "--holder", "cli-university", "--no-progress")

    assert first.returncode == 0, first.stderr
    assert "created 2, updated 0, unchanged 0, rejected 0" in first.stdout
    assert rejected.returncode == 1
    assert "rejected 1" in rejected.stdout
    assert f"error report: {tmp_path / 'private-media'}" in rejected.stdout
    assert "CommandError: some rows were rejected" in rejected.stderr
