"""The pool tape's files read back as a program would read them: the Parquet schema column by column, the tape alone
as one CSV file, and a frozen pool read from the database in bulk (Arrow) giving exactly the stored rows. The
market and its hand-computed figures are test_pools.py's (its docstring)."""

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from licensing.models.licences import Licence
from marketplace.exceptions import TamperedPool
from marketplace.models.pools import PoolColumns
from marketplace.pools import services as pools
from marketplace.pools import tables
from marketplace.pools.exports import PoolTapeExporter
from patents.exports import neutralise
from tests.marketplace.factories_pools import build_pool_market
from tests.parties.factories import IPOfficeFactory, MembershipFactory

pytestmark = pytest.mark.django_db
CUT_OFF = date(2025, 7, 30)

# Every column of the three Parquet files and its type, as docs/pools.md lists them.
TAPE_TYPES = {
    "exposure_id": "string",
    "original_exposure_id": "string",
    "licence_id": "int64",
    "pool_id": "string",
    "licensee_id": "int64",
    "licensee_uscc": "string",
    "licensor_id": "int64",
    "licensor_uscc": "string",
    "data_cut_off_date": "date32[day]",
    "pool_addition_date": "date32[day]",
    "patent_number": "string",
    "patent_kind": "string",
    "main_ipc": "string",
    "technology_field": "int64",
    "grade": "string",
    "grant_date": "date32[day]",
    "expiry_date": "date32[day]",
    "remaining_months": "int64",
    "open_licence_declared": "bool",
    "recorded": "bool",
    "pledged": "bool",
    "licence_type": "string",
    "licence_start_date": "date32[day]",
    "licence_end_date": "date32[day]",
    "term_end_date": "date32[day]",
    "remaining_term_months": "int64",
    "fee_form": "string",
    "royalty_base": "string",
    "royalty_rate_percent": "decimal128(5, 2)",
    "lump_sum_fen": "int64",
    "entry_fee_fen": "int64",
    "annual_minimum_fen": "int64",
    "recording_number": "string",
    "scheduled_receivables_fen": "int64",
    "scheduled_periods": "int64",
    "projected_daily_base_fen": "decimal128(20, 2)",
    "collected_to_date_fen": "int64",
    "arrears_fen": "int64",
    "days_past_due": "int64",
    "licensee_industry": "string",
    "licensee_region": "string",
    "licensee_size": "string",
    "licensee_kind": "string",
    "discount_rate_percent": "decimal128(5, 2)",
    "dcf_value_fen": "int64",
}
CASH_FLOW_TYPES = {
    "exposure_id": "string",
    "licence_id": "int64",
    "period_number": "int64",
    "period_start": "date32[day]",
    "period_end": "date32[day]",
    "payment_date": "date32[day]",
    "projected_days": "int64",
    "scheduled_fen": "int64",
    "days_from_cut_off": "int64",
    "discount_factor": "decimal128(11, 10)",
    "present_value_fen": "int64",
}
SUMMARY_TYPES = {
    "section": "string",
    "item": "string",
    "value": "string",
    "amount_fen": "int64",
    "share_percent": "decimal128(5, 2)",
}


@pytest.fixture
def market():
    return build_pool_market()


@pytest.fixture
def frozen(market):
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    pool = pools.pool_create(by=officer, name="2025 试点池", cut_off_date=CUT_OFF, discount_rate=Decimal("10"))
    return pools.pool_freeze(pool=pool, by=officer)


def _parquet_parts(pool):
    content = PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("parquet").content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name.removesuffix(".parquet"): pq.read_table(io.BytesIO(archive.read(name))) for name in archive.namelist()}


def test_every_parquet_column_is_typed_money_int64_dates_date32_rates_and_factors_decimal(market, frozen):
    licences, _parties = market
    parts = _parquet_parts(frozen)
    for part, expected in (("tape", TAPE_TYPES), ("cash_flows", CASH_FLOW_TYPES), ("summary", SUMMARY_TYPES)):
        assert {field.name: str(field.type) for field in parts[part].schema} == expected, part
        assert list(parts[part].schema.names) == list(expected), part
    tape = parts["tape"].to_pylist()
    a = next(row for row in tape if row["licence_id"] == licences["A"].pk)
    assert (a["royalty_rate_percent"], a["projected_daily_base_fen"], a["discount_rate_percent"]) == (
        Decimal("5.00"),
        Decimal("100000.00"),
        Decimal("10.00"),
    )
    assert (a["expiry_date"], a["term_end_date"], a["data_cut_off_date"]) == (date(2035, 2, 28), date(2027, 6, 30), CUT_OFF)
    assert (a["scheduled_receivables_fen"], a["dcf_value_fen"], a["lump_sum_fen"]) == (3_650_000, 3_167_355, None)
    b = next(row for row in tape if row["licence_id"] == licences["B"].pk)
    assert (b["entry_fee_fen"], b["annual_minimum_fen"], b["pledged"]) == (1_000_000, 500_000, True)
    flows = [row for row in parts["cash_flows"].to_pylist() if row["licence_id"] == licences["A"].pk]
    # 1 / 1.1 and 1 / 1.21 to 10 places; 1,825,000 × each, rounded half up to the fen.
    assert [(f["payment_date"], f["discount_factor"], f["present_value_fen"]) for f in flows] == [
        (date(2026, 7, 30), Decimal("0.9090909091"), 1_659_091),
        (date(2027, 7, 30), Decimal("0.8264462810"), 1_508_264),
    ]


def _csv_cell(value) -> str:
    """A typed Parquet value as the CSV writes it (blank for null, true/false, ISO dates, exact decimals, the formula
    guard on text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(neutralise(value)) if isinstance(value, str) else str(value)


def test_the_parquet_files_and_the_csv_zip_hold_the_same_figures_cell_for_cell(market, frozen):
    licences, _parties = market
    Licence.objects.filter(pk=licences["A"].pk).update(notice_field_of_use="=SUM(A1:A9)")
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    pool = pools.pool_freeze(pool=pools.pool_create(by=officer, name="x", cut_off_date=CUT_OFF), by=officer)
    parquet = _parquet_parts(pool)
    content = PoolTapeExporter(pools.pool_frozen_tape(pool=pool)).render("csv").content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert {info.filename: info.compress_type for info in archive.infolist()} == dict.fromkeys(
            ("tape.csv", "cash_flows.csv", "summary.csv"), zipfile.ZIP_DEFLATED)
        read = {part: list(csv.DictReader(io.StringIO(archive.read(f"{part}.csv").decode("utf-8-sig"))))
                for part in ("tape", "cash_flows", "summary")}
    for part, rows in read.items():
        typed = [{name: _csv_cell(value) for name, value in row.items()} for row in parquet[part].to_pylist()]
        assert rows == typed and len(rows) == parquet[part].num_rows > 0, part
    # Parquet keeps the text as typed; the CSV guards it.
    a = next(row for row in parquet["tape"].to_pylist() if row["licence_id"] == licences["A"].pk)
    assert a["licensee_industry"] == "=SUM(A1:A9)"
    assert next(row for row in read["tape"] if row["licence_id"] == str(licences["A"].pk))["licensee_industry"] == (
        "'=SUM(A1:A9)")


def test_the_tape_alone_as_one_csv_file_has_the_documented_header_and_a_hand_computed_row(market, frozen):
    licences, parties = market
    content = PoolTapeExporter(pools.pool_frozen_tape(pool=frozen)).render("tape_csv").content
    assert content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    header = next(reader)
    assert header == list(TAPE_TYPES)
    rows = [dict(zip(header, values, strict=True)) for values in reader]
    assert len(rows) == 4  # A, B, D, E: C is a lump sum with nothing left to receive
    a = licences["A"]
    assert rows[0] == {
        "exposure_id": f"{frozen.code}-000001",
        "original_exposure_id": a.certificate_number,
        "licence_id": str(a.pk),
        "pool_id": frozen.code,
        "licensee_id": str(parties["L1"].pk),
        "licensee_uscc": parties["L1"].uscc,
        "licensor_id": str(parties["H1"].pk),
        "licensor_uscc": parties["H1"].uscc,
        "data_cut_off_date": "2025-07-30",
        "pool_addition_date": timezone.localdate().isoformat(),
        "patent_number": a.patent.number,
        "patent_kind": a.patent.kind,
        "main_ipc": a.patent.main_ipc,
        "technology_field": "1",
        "grade": "A",
        "grant_date": "2017-03-01",
        "expiry_date": "2035-02-28",
        "remaining_months": "115",  # 2025-07-30 → 2035-02-28: the 30th's anniversary in February is the 28th
        "open_licence_declared": "true",
        "recorded": "true",
        "pledged": "false",
        "licence_type": "open_licence_non_exclusive",
        "licence_start_date": "2024-07-01",
        "licence_end_date": "2027-06-30",
        "term_end_date": "2027-06-30",
        "remaining_term_months": "23",
        "fee_form": "royalty",
        "royalty_base": "net_sales",
        "royalty_rate_percent": "5.00",
        "lump_sum_fen": "",
        "entry_fee_fen": "",
        "annual_minimum_fen": "",
        "recording_number": "2025110000123",
        "scheduled_receivables_fen": "3650000",
        "scheduled_periods": "2",
        "projected_daily_base_fen": "100000.00",
        "collected_to_date_fen": "1825000",
        "arrears_fen": "0",
        "days_past_due": "0",
        "licensee_industry": "储能设备制造",
        "licensee_region": "江苏省",
        "licensee_size": "ND1",
        "licensee_kind": parties["L1"].kind,
        "discount_rate_percent": "10.00",
        "dcf_value_fen": "3167355",
    }
    assert [int(r["scheduled_receivables_fen"]) for r in rows] == [3_650_000, 1_000_000, 2_560_000, 549_000]


def test_a_frozen_pool_read_in_bulk_gives_exactly_the_stored_rows_and_the_hand_computed_summary(frozen):
    tape = pools.pool_frozen_tape(pool=frozen)
    stored = list(frozen.exposures.order_by("position"))
    assert len(tape.tape) == 4 and list(tape.tape) == [e.tape for e in stored]
    assert tape.tape[1:3] == [e.tape for e in stored[1:3]] and tape.tape[-1] == stored[-1].tape
    assert list(tape.schedule) == [flow for e in stored for flow in e.schedule] and len(tape.schedule) == 8
    summary = tape.summary()
    assert (summary.exposures, summary.licensees, summary.holders, summary.scheduled_fen) == (4, 3, 2, 7_759_000)
    assert summary.hhi == {"licensee": Decimal("4183.44"), "holder": Decimal("5197.23"), "technology_field": Decimal("5197.23")}
    assert (summary.wal_years, summary.arrears_fen, summary.dcf_value_fen) == (
        Decimal("1.54"),
        160_000,
        sum(e.dcf_value_fen for e in stored),
    )
    assert [t["exposure_fen"] for t in summary.top] == [3_650_000, 2_560_000, 1_000_000, 549_000]
    assert summary.top[0]["share_percent"] == Decimal("47.04")


HOSTILE = 'say "hi" \\ back\\slash\n\tnew line\r\x01\x1f\x7f 储能 😀 \u2028 =1+2'


def test_the_columnar_hash_equals_the_row_hash_for_text_that_json_escapes(market):
    licences, _parties = market
    Licence.objects.filter(pk=licences["A"].pk).update(notice_field_of_use=HOSTILE)
    Licence.objects.filter(pk=licences["D"].pk).update(notice_field_of_use="", certificate_number="")
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    pool = pools.pool_freeze(pool=pools.pool_create(by=officer, name="x", cut_off_date=CUT_OFF), by=officer)
    tape_json, flow_json = pools.frozen_json(pool=pool)
    tape = tables.read_rows(tape_json, pools.TAPE_COLUMNS)
    flows = tables.read_rows(flow_json, pools.SCHEDULE_COLUMNS, nested="flows")
    criteria = pools.Criteria.of(pool).as_json()
    digest = tables.canonical_digest(criteria, [("T", tape, pools.TAPE_COLUMNS), ("S", flows, pools.SCHEDULE_COLUMNS)])
    assert digest == pool.content_sha256
    assert digest == pools.content_hash(criteria, tape.to_pylist(), flows.to_pylist())
    assert tape.column("licensee_industry").to_pylist()[0] == HOSTILE.strip()
    assert pools.pool_frozen_tape(pool=pool).tape[0]["licensee_industry"] == HOSTILE.strip()


@pytest.mark.parametrize(
    "change",
    [
        lambda row: {"licence_id": str(row["licence_id"])},  # the same number stored as text
        lambda row: {"licensee_industry": "医疗器械"},
        lambda row: {"expiry_date": "2099-12-31"},
        lambda row: {"pledged": 1},
        lambda row: {"extra": 1},  # a key the tape does not have
    ],
    ids=["number-as-text", "text", "date", "bool-as-number", "extra-key"],
)
def test_any_change_to_a_stored_row_is_caught_by_the_seal(frozen, change):
    exposure = frozen.exposures.order_by("position").last()
    exposure.tape = {**exposure.tape, **change(exposure.tape)}
    exposure.save()
    with pytest.raises(TamperedPool):
        pools.pool_frozen_tape(pool=frozen)


def test_a_changed_cash_flow_is_caught_by_the_seal(frozen):
    exposure = frozen.exposures.order_by("position").first()
    exposure.schedule = [{**exposure.schedule[0], "discount_factor": "0.9090909092"}, *exposure.schedule[1:]]
    exposure.save()
    with pytest.raises(TamperedPool):
        pools.pool_frozen_tape(pool=frozen)


def _exports(pool):
    exporter = PoolTapeExporter(pools.pool_frozen_tape(pool=pool))
    return {fmt: exporter.render(fmt).content for fmt in exporter.formats}


def test_a_frozen_pool_exports_from_its_stored_columns_the_same_bytes_as_from_its_rows(frozen):
    columns = PoolColumns.objects.get(pool=frozen)
    assert columns.rows_sha256 == pools.stored_rows_digest(pool=frozen)
    tape, flows = pools.sealed_columns(pool=frozen)
    stored = list(frozen.exposures.order_by("position"))
    assert tape.to_pylist() == [e.tape for e in stored] and flows.to_pylist() == [f for e in stored for f in e.schedule]
    from_columns = _exports(frozen)
    columns.delete()  # as a pool frozen before the columns existed: read from the rows
    assert pools.sealed_columns(pool=frozen) is None
    assert _exports(frozen) == from_columns


def test_stored_columns_are_not_used_once_the_rows_or_the_columns_differ_from_the_seal(frozen):
    columns = PoolColumns.objects.get(pool=frozen)
    expected = _exports(frozen)
    tape = tables.from_ipc(columns.tape, pools.TAPE_COLUMNS)
    changed = tape.set_column(tape.schema.get_field_index("arrears_fen"), "arrears_fen",
                              pa.array([1] * tape.num_rows, pa.int64()))
    for value in (tables.to_ipc(changed), b"not arrow"):
        PoolColumns.objects.filter(pool=frozen).update(tape=value)
        assert pools.sealed_columns(pool=frozen) is None
        assert _exports(frozen) == expected  # the rows, which still match the seal
    PoolColumns.objects.filter(pool=frozen).update(tape=columns.tape)
    assert pools.sealed_columns(pool=frozen) is not None
    exposure = frozen.exposures.order_by("position").first()
    exposure.schedule = [{**exposure.schedule[0], "scheduled_fen": 1}, *exposure.schedule[1:]]
    exposure.save()
    assert pools.sealed_columns(pool=frozen) is None
    with pytest.raises(TamperedPool):
        pools.pool_frozen_tape(pool=frozen)


def test_rows_arrow_cannot_type_store_no_columns_and_the_exports_read_the_rows(frozen):
    expected = _exports(frozen)
    PoolColumns.objects.filter(pool=frozen).delete()
    stored = list(frozen.exposures.order_by("position"))
    tape = [e.tape for e in stored]
    flows = [f for e in stored for f in e.schedule]
    beyond_int64 = [{**tape[0], "arrears_fen": 2**70}, *tape[1:]]
    not_a_date = [{**tape[0], "grant_date": "someday"}, *tape[1:]]
    for rows in (beyond_int64, not_a_date):
        assert pools.frozen_columns_store(pool=frozen, tape=rows, flows=flows) is None
    assert not PoolColumns.objects.filter(pool=frozen).exists()
    assert pools.frozen_columns_store(pool=frozen, tape=tape, flows=flows) is not None  # the rows as stored
    assert _exports(frozen) == expected
