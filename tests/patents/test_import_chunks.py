"""The import reads, checks and writes a file in chunks inside one transaction: what a file spanning several
chunks must still guarantee (all or nothing, duplicates and upserts across chunks, audit entries), and that
PostgreSQL gets its rows through COPY."""

from datetime import date

import pytest
from django.db import connection

from patents.inventory.services import inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch, Patent, PatentChange, PatentCoOwner
from tests.parties.factories import HolderFactory, OrganisationFactory, UserFactory
from tests.patents.factories import cn_application_number, inventory_csv, inventory_xlsx

pytestmark = pytest.mark.django_db

TODAY = date(2025, 1, 1)
CHUNK = 2  # rows per chunk in these tests: every file below spans several chunks
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL)")


@pytest.fixture
def holder():
    return HolderFactory()


def row(serial: int, **values) -> dict:
    return {"number": cn_application_number(serial), "title": f"一种储能装置 {serial}", "kind": "invention",
            "filing_date": "2021-03-15", "co_owners": "", **values}


def import_file(content: bytes, *, holder, filename: str = "inventory.csv", partial: bool = False, by=None,
                on_progress=None):
    batch = inventory_batch_create(holder=holder, run_by=by, source=InventoryBatch.Source.WEB, filename=filename,
                                   content=content, partial=partial, language="en")
    summary = inventory_batch_run(batch=batch, today=TODAY, chunk_rows=CHUNK, on_progress=on_progress)
    batch.refresh_from_db()
    return batch, summary


def test_a_bad_row_in_a_later_chunk_writes_nothing_of_the_earlier_chunks(holder):
    rows = [row(1), row(2), row(3), row(4, filing_date="2021-02-30"), row(5)]

    batch, summary = import_file(inventory_csv(rows), holder=holder)

    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.REJECTED, 0, 1)
    assert batch.errors_preview == [{"row": 5, "column": "filing_date", "value": "2021-02-30",
                                     "reason": "not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"}]
    assert Patent.objects.count() == PatentChange.objects.count() == PatentCoOwner.objects.count() == 0


def test_bad_rows_in_several_chunks_are_all_reported(holder):
    rows = [row(1, kind="plant"), row(2), row(3), row(4), row(5), row(6, title="")]

    batch, summary = import_file(inventory_csv(rows), holder=holder)

    assert [(e["row"], e["column"]) for e in batch.errors_preview] == [(2, "kind"), (7, "title")]
    assert (summary.status, summary.rejected, summary.total) == (InventoryBatch.Status.REJECTED, 2, 6)
    assert Patent.objects.count() == 0


def test_a_number_repeated_in_a_later_chunk_is_a_duplicate_of_its_first_row(holder):
    rows = [row(1), row(2), row(3), row(4), row(2, title="again")]

    batch, _summary = import_file(inventory_csv(rows), holder=holder)

    assert [(e["row"], e["column"], e["reason"]) for e in batch.errors_preview] == [
        (6, "number", "duplicate of row 3")]
    assert Patent.objects.count() == 0


def test_partial_writes_the_valid_rows_of_every_chunk(holder):
    rows = [row(1), row(2, kind="plant"), row(3), row(4), row(5, filing_date="x")]

    batch, summary = import_file(inventory_csv(rows), holder=holder, partial=True)

    assert (summary.status, summary.created, summary.rejected) == (InventoryBatch.Status.SUCCEEDED, 3, 2)
    assert set(Patent.objects.values_list("number", flat=True)) == {cn_application_number(s) for s in (1, 3, 4)}
    assert batch.total_rows == 5


def test_a_reimport_across_chunks_creates_updates_and_leaves_alone_row_by_row(holder):
    import_file(inventory_csv([row(1), row(2), row(3), row(4)]), holder=holder)

    batch, summary = import_file(inventory_csv([row(1), row(2), row(3, title="新名称"), row(4), row(5), row(6)]),
                                 holder=holder)

    assert (summary.created, summary.updated, summary.unchanged) == (2, 1, 3)
    assert Patent.objects.count() == 6
    update = PatentChange.objects.get(action=PatentChange.Action.IMPORT_UPDATE)
    assert (update.patent.number, update.batch, update.changes) == (
        cn_application_number(3), batch, {"title": ["一种储能装置 3", "新名称"]})
    assert set(Patent.objects.filter(last_batch=batch).values_list("number", flat=True)) == {
        cn_application_number(s) for s in (3, 5, 6)}


def test_every_created_patent_gets_its_own_audit_entry_naming_the_batch_and_the_person(holder):
    person = UserFactory()
    batch, _summary = import_file(inventory_csv([row(s) for s in range(1, 6)]), holder=holder, by=person)

    entries = PatentChange.objects.filter(action=PatentChange.Action.IMPORT_CREATE)
    assert sorted(entries.values_list("patent_id", flat=True)) == sorted(Patent.objects.values_list("id", flat=True))
    assert {(e.batch_id, e.by_id, e.at is not None, e.changes == {}) for e in entries} == {
        (batch.pk, person.pk, True, True)}


def test_co_owners_of_every_chunk_are_stored_and_linked(holder):
    partner = OrganisationFactory(name_zh="深圳乙科技有限公司")
    rows = [row(1, co_owners="甲大学:60;深圳乙科技有限公司:40"), row(2), row(3, co_owners="深圳乙科技有限公司")]

    import_file(inventory_csv(rows), holder=holder)

    owners = {(o.patent.number, o.name): (o.share_percent, o.organisation) for o in PatentCoOwner.objects.all()}
    assert owners == {(cn_application_number(1), "甲大学"): (60, None),
                      (cn_application_number(1), "深圳乙科技有限公司"): (40, partner),
                      (cn_application_number(3), "深圳乙科技有限公司"): (None, partner)}


def test_an_xlsx_spanning_several_chunks_is_imported_whole(holder):
    rows = [row(s, filing_date=date(2021, 3, s)) for s in range(1, 6)]

    _batch, summary = import_file(inventory_xlsx(rows), holder=holder, filename="inventory.xlsx")

    assert (summary.status, summary.created) == (InventoryBatch.Status.SUCCEEDED, 5)
    assert Patent.objects.get(number=cn_application_number(4)).filing_date == date(2021, 3, 4)


def test_progress_counts_the_rows_of_each_chunk_up_to_the_whole_file(holder):
    ticks = []

    import_file(inventory_csv([row(s) for s in range(1, 6)]), holder=holder,
                on_progress=lambda stage, done, total: ticks.append((stage, done, total)))

    assert ticks == [("reading", 0, 0), ("validating", 0, 5),
                     ("validating", 2, 5), ("grading", 2, 5), ("writing", 2, 5),
                     ("validating", 4, 5), ("grading", 4, 5), ("writing", 4, 5),
                     ("validating", 5, 5), ("grading", 5, 5), ("writing", 5, 5)]


def test_written_rows_read_back_as_the_model_stores_them(holder):
    rows = [row(1, grant_date="2023-06-20", ipc="H01M 10/0525; G06F 3/01", claims_count="12", inventors="张三;李四",
                annual_fees_paid_through="2025-03-14", pledged="yes", family_size="", legal_status="granted")]

    import_file(inventory_csv(rows), holder=holder)

    patent = Patent.objects.get()
    assert (patent.grant_date, patent.annual_fees_paid_through, patent.expiry_date) == (
        date(2023, 6, 20), date(2025, 3, 14), date(2041, 3, 14))
    assert (patent.ipc_codes, patent.inventors, patent.claims_count, patent.family_size) == (
        ["H01M 10/0525", "G06F 3/01"], ["张三", "李四"], 12, None)
    assert (patent.pledged, patent.technology_field, patent.ipc_subclass) == (True, 1, "H01M")
    assert patent.grade_factors["claims"] == {"value": 0.6, "points": 10.0, "weight": 16.7}


@on_postgresql
def test_postgresql_receives_patents_audit_entries_and_co_owners_through_copy(holder):
    batch = inventory_batch_create(holder=holder, run_by=None, source=InventoryBatch.Source.WEB,
                                   filename="inventory.csv", language="en",
                                   content=inventory_csv([row(s, co_owners="甲大学:50") for s in range(1, 6)]))
    inserts = []

    def record(execute, sql, *args):
        if sql.lstrip().upper().startswith("INSERT"):
            inserts.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        summary = inventory_batch_run(batch=batch, today=TODAY, chunk_rows=CHUNK)

    assert (summary.status, summary.created) == (InventoryBatch.Status.SUCCEEDED, 5)
    assert inserts == []
    assert (PatentChange.objects.count(), PatentCoOwner.objects.count()) == (5, 5)
    # Keys were drawn from the sequence: the next patent created the ordinary way follows them.
    later = Patent.objects.create(holder=holder, number=cn_application_number(99), number_original="x",
                                  kind="invention", title="t", filing_date=date(2021, 1, 1), legal_status="pending")
    assert later.pk > max(Patent.objects.exclude(pk=later.pk).values_list("pk", flat=True))


def test_backslashes_tabs_and_line_breaks_in_the_text_are_stored_as_written(holder):
    # On PostgreSQL the rows travel as COPY text, where these characters are escapes of their own.
    abstract = "第一段\\n不是换行 C:\\temp\\N\n第二段\t制表\r\n第三段"
    title = "一种\\N装置 \\\\ 反斜杠"
    batch, summary = import_file(inventory_csv([row(1, title=title, abstract=abstract, co_owners="甲\\大学:50")]),
                                 holder=holder)

    assert (summary.status, summary.created) == (InventoryBatch.Status.SUCCEEDED, 1)
    patent = Patent.objects.get()
    assert (patent.title, patent.abstract) == (title, abstract)
    assert list(patent.co_owners.values_list("name", flat=True)) == ["甲\\大学"]
    assert patent.grade_factors["claims"]["weight"] > 0  # JSON text, not a string holding it


@on_postgresql
def test_a_column_copy_text_does_not_know_still_writes_every_row_with_its_constants(holder):
    # A column of mixed types (here datetimes and pandas Timestamps) is left to psycopg's own adaptation; the
    # constant columns beside it must still give every row its value, the last one included.
    import pandas as pd
    from django.utils import timezone

    from patents.inventory import bulk

    patents = [Patent.objects.create(holder=holder, number=cn_application_number(s), number_original="x",
                                     kind="invention", title="t", filing_date=date(2021, 1, 1),
                                     legal_status="pending") for s in (1, 2, 3)]
    now = timezone.now()
    written = bulk.write_columns(PatentChange, {
        "patent": [p.pk for p in patents], "batch": None, "action": PatentChange.Action.IMPORT_CREATE.value,
        "changes": "{}", "by": None, "at": [now, pd.Timestamp(now), now]}, rows=3)

    assert written == 3
    assert sorted(PatentChange.objects.values_list("patent_id", "action")) == [
        (p.pk, PatentChange.Action.IMPORT_CREATE.value) for p in patents]
