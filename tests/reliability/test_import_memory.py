"""Memory and time of hostile inventory files under the upload's limits, measured in a process of their own.

The outside check's file: an XLSX of ~4.5 MB that expands to ~500 MB (under the 50 MB upload limit and under the
200x zip-bomb ratio, because an incompressible member pads the archive) took 6.5 minutes and 3.3 GiB before it
was refused for missing required columns that its header row already showed. Here the real import service
(inventory_batch_create + inventory_batch_run, as the web upload's task runs it) reads such files in a child
process on a copy of the demo database; the child's peak resident memory comes from the kernel (wait4's
ru_maxrss). Figures go to test-output/reliability-imports.json; the ceiling (1 GiB) is asserted, time is not.
"""

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.reliability.harness import ROOT, project_env

GIB = 1024**3
MB = 1024 * 1024
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}


def _repeat(stream, unit: bytes, megabytes: int) -> None:
    block = unit * (MB // len(unit))
    for _ in range(megabytes):
        stream.write(block)


def hostile_xlsx(path: Path, *, strings: list[str], filler: str, strings_mb: int, header: list[int],
                 row: str, rows_mb: int, padding_mb: int) -> dict:
    """Write an XLSX as an attacker would, streaming (nothing big is held in memory): a shared-string table of
    `strings` then `filler` repeated to `strings_mb`, a sheet whose first row is the shared strings `header` and
    then `row` repeated to `rows_mb`, and `padding_mb` of random bytes that keep the expansion ratio under the
    zip-bomb check. Deflate level 1: repetitive XML still shrinks ~1000x, and it is the fastest."""
    started = time.perf_counter()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as stream:
            stream.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">'.encode())
            stream.write("".join(f"<si><t>{s}</t></si>" for s in strings).encode())
            _repeat(stream, f"<si><t>{filler}</t></si>".encode(), strings_mb)
            stream.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode())
            stream.write(("<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in header) + "</row>").encode())
            _repeat(stream, row.encode(), rows_mb)
            stream.write(b"</sheetData></worksheet>")
        with archive.open("xl/media/image1.bin", "w") as stream:
            stream.write(os.urandom(padding_mb * MB))
    with zipfile.ZipFile(path) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
    return {"compressed_bytes": path.stat().st_size, "expanded_bytes": expanded,
            "ratio": round(expanded / path.stat().st_size, 1), "build_s": round(time.perf_counter() - started, 1)}


def _cells(*indexes: int) -> str:
    return "<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in indexes) + "</row>"


@pytest.fixture(scope="session")
def hostile_files(reliability_root) -> dict[str, tuple[Path, dict]]:
    """The two hostile workbooks, built once per session (~2 s each)."""
    folder = reliability_root / "hostile-xlsx"
    folder.mkdir()
    files = {}
    # 1. The outside check's file: 400 MB of one-character shared strings (tens of millions of entries) and
    #    100 MB of rows referring to them, under a header without number, kind or filing date.
    path = folder / "header-missing-columns.xlsx"
    files["header_missing_columns"] = path, hostile_xlsx(
        path, strings=["Foo", "Bar", "Title"], filler="x", strings_mb=400, header=[0, 1, 2],
        row=_cells(3, 4, 5), rows_mb=100, padding_mb=1)
    # 2. A complete header, and rows that each refer to one 32,000-character shared string twice (title and
    #    abstract): 500 MB of XML whose rows expand to ~64 kB of text each, ~300 GB in all if held at once.
    path = folder / "rows-expanding.xlsx"
    files["rows_expanding"] = path, hostile_xlsx(
        path, strings=["patent_number", "title", "kind", "filing_date", "abstract", "A" * 32_000, "invention",
                       "2021-03-15", "CN-not-a-number"],
        filler="y", strings_mb=1, header=[0, 1, 2, 3, 4], row=_cells(8, 5, 6, 7, 5), rows_mb=500, padding_mb=1)
    return files


# The child: the real service as the web upload's task runs it; prints the batch's outcome as JSON.
CHILD = """
import json, sys, time
import django
django.setup()
from django.core.files import File
from marketplace.parties.models import Organisation
from patents.inventory.services import inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch
path = sys.argv[1]
holder = Organisation.objects.get(slug="demo-university")
started = time.perf_counter()
with open(path, "rb") as f:
    batch = inventory_batch_create(holder=holder, run_by=None, source=InventoryBatch.Source.WEB,
                                   filename=path.rsplit("/", 1)[-1], content=File(f), language="en")
summary = inventory_batch_run(batch=batch)
batch.refresh_from_db()
print(json.dumps({"status": summary.status, "message": batch.message, "rows": summary.total,
                  "rejected": summary.rejected, "created": summary.created,
                  "seconds": round(time.perf_counter() - started, 1)}))
"""


def run_import(env: dict, path: Path) -> dict:
    """Run CHILD on `path`; its outcome plus its peak resident memory as the kernel measured it."""
    with open(path.with_suffix(".out"), "w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
        try:
            _pid, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            raise
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        output = out.read()
    assert child.returncode == 0, output[-3000:]
    outcome = json.loads(output.strip().splitlines()[-1])
    return {**outcome, "peak_rss_mib": round(usage.ru_maxrss / 1024), "process_s": round(elapsed, 1)}


@pytest.fixture(scope="module")
def import_env(cluster, seeded_database, stripe_stand_in, reliability_root) -> dict:
    url = cluster.clone(seeded_database, "imports_memory")
    return project_env(url, stripe_stand_in.url, reliability_root / "imports-memory")


FIGURES: dict[str, dict] = {}


def record(name: str, figures: dict) -> None:
    FIGURES[name] = figures
    print(name, figures)
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "reliability-imports.json").write_text(json.dumps(FIGURES, indent=2))


def assert_accepted_by_the_upload(facts: dict) -> None:
    # The file is one the upload accepts: under 50 MB and under the zip-bomb checks (ratio 200, 1 GiB expanded).
    assert facts["compressed_bytes"] < 50 * MB
    assert facts["expanded_bytes"] < GIB and facts["ratio"] < 200


def test_an_xlsx_expanding_to_500_mb_is_refused_by_its_header_within_the_memory_ceiling(import_env, hostile_files):
    path, facts = hostile_files["header_missing_columns"]
    assert facts["expanded_bytes"] > 500 * MB
    assert_accepted_by_the_upload(facts)

    outcome = run_import(import_env, path)
    record("header_missing_columns", {**facts, **outcome})

    assert outcome["status"] == "rejected"
    assert outcome["message"].startswith("Required column(s) missing: number")
    assert "kind" in outcome["message"] and "filing_date" in outcome["message"]
    assert outcome["rows"] == 0 and outcome["created"] == 0
    assert outcome["peak_rss_mib"] * 1024 * 1024 < GIB


def test_an_xlsx_whose_rows_expand_hugely_is_refused_at_the_error_cap_within_the_memory_ceiling(
        import_env, hostile_files):
    path, facts = hostile_files["rows_expanding"]
    assert facts["expanded_bytes"] > 500 * MB
    assert_accepted_by_the_upload(facts)

    outcome = run_import(import_env, path)
    record("rows_expanding", {**facts, **outcome})

    # Every row is invalid (a malformed number, a 32,000-character title): all or nothing imports none, and
    # checking stops once the report holds 10,000 errors instead of reading millions more rows.
    assert outcome["status"] == "rejected"
    assert "nothing was imported" in outcome["message"] and "Checking stopped after 10000 errors" in outcome["message"]
    assert outcome["rejected"] == outcome["rows"] >= 5000 and outcome["created"] == 0
    assert outcome["peak_rss_mib"] * 1024 * 1024 < GIB
