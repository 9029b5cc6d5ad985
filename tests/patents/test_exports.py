"""The exporter registry and its one formula-injection rule: every export is registered, and in every export
that carries free text a cell a spreadsheet would run (= + - @, tab, CR) comes out inert in CSV and XLSX,
while negative numbers stay numbers."""

import csv
import io
import sys
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from django.apps import apps
from django.utils import timezone

from licensing.ledger.exports import StatementExporter
from licensing.ledger.statements import Perspective, Statement, StatementLine
from licensing.recording.exports import RecordingPackExporter
from licensing.recording.services import recording_row
from marketplace.office.exports import DeclarationsExporter, StatisticsExporter
from marketplace.office.selectors import INDICATOR_LABELS, DrillRow
from marketplace.pools import services as pools
from marketplace.pools.exports import PoolTapeExporter
from patents import exports
from patents.exports import Exporter, neutralise, neutralise_frame
from patents.inventory.exports import InventoryErrorsExporter, PortfolioExporter
from patents.inventory.selectors import portfolio_list
from patents.navigation.exports import LandscapeExporter
from patents.navigation.selectors import landscape, platform_patents
from tests.licensing import ledger_builders as build
from tests.marketplace.factories_pools import build_pool_market
from tests.parties.factories import HolderFactory, IPOfficeFactory, MembershipFactory
from tests.patents.factories import PatentFactory

ROOT = Path(__file__).resolve().parents[2]
# One value per character a spreadsheet treats as the start of a formula.
HOSTILE = ('=HYPERLINK("http://x.example","点我")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd")


def csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


def xlsx_cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_inert_in_csv(content: bytes, values) -> None:
    cells = csv_cells(content)
    for value in values:
        assert "'" + value in cells, value
        assert value not in cells, value


def assert_inert_in_xlsx(content: bytes, values) -> None:
    cells = xlsx_cells(content)
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    by_value = {c.value: c for c in cells}
    for value in values:
        assert by_value["'" + value].data_type == "s", value
        assert value not in by_value, value


# The registry ---------------------------------------------------------------------------------------------

def test_the_registry_lists_every_exporter():
    assert [e.identifier for e in exports.exporters()] == [
        "audit_log", "inventory_errors", "landscape", "office_declarations", "office_statistics", "pool_tape",
        "portfolio", "recording_packs", "statement"]
    assert exports.exporter("pool_tape") is PoolTapeExporter
    assert all(issubclass(e, Exporter) and e.verbose_name and e.formats for e in exports.exporters())


def test_every_feature_exports_module_is_imported_at_start_up_and_registers_an_exporter():
    """A new ``<app>/<feature>/exports.py`` must be named in its app's ``exporter_modules``, or the registry
    would not list it."""
    found = {".".join(path.relative_to(ROOT).with_suffix("").parts)
             for app in ("patents", "licensing", "marketplace") for path in (ROOT / app).glob("*/exports.py")}
    declared = {m for config in apps.get_app_configs() for m in getattr(config, "exporter_modules", ())}
    assert found == declared
    assert found <= set(sys.modules)
    assert {e.__module__ for e in exports.exporters()} == found


def test_an_unknown_identifier_is_refused_and_an_identifier_cannot_be_taken_twice():
    with pytest.raises(exports.UnknownExporter):
        exports.exporter("nonsense")

    class Impostor(Exporter):
        identifier = "statement"
        verbose_name = "impostor"

    with pytest.raises(ValueError, match="taken"):
        exports.register(Impostor)
    assert exports.register(StatementExporter) is StatementExporter  # the same class again: harmless
    assert exports.exporter("statement") is StatementExporter


# The rule -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "-A1", "@SUM(A1)", "\t=1+1", "\r=1+1", "-", "=-1"])
def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -1.5, Decimal("-1.50"), "-1.50", "-42", "-1.2E-7", None, "", "plain",
                                   "'=already", date(2026, 1, 1), " =1"])
def test_numbers_blanks_dates_and_plain_text_pass_unchanged(value):
    assert neutralise(value) == value


def test_a_frame_is_neutralised_by_value_and_keeps_its_numeric_columns():
    frame = pd.DataFrame({"name": ["=1+1", "-3", None, "ok"], "fen": [-100, 0, 5, 7],
                          "yuan": [Decimal("-1.00"), Decimal("2.00"), None, Decimal("0.50")],
                          "count": pd.array([-1, None, 3, 4], dtype="Int64")})
    neutral = neutralise_frame(frame)
    assert neutral["name"].tolist()[:2] == ["'=1+1", "-3"] and neutral["name"].tolist()[3] == "ok"
    assert neutral["fen"].dtype == "int64" and neutral["fen"].tolist() == [-100, 0, 5, 7]
    assert neutral["yuan"].tolist()[0] == Decimal("-1.00") and str(neutral["count"].dtype) == "Int64"
    assert frame["name"].tolist()[0] == "=1+1"  # the caller's frame is left alone


class Ledger(Exporter):
    identifier = "test_ledger"  # not registered
    verbose_name = "test"
    header = ("who", "fen", "yuan")

    def rows(self):
        yield (HOSTILE[2], -100, Decimal("-1.00"))
        yield ("-5", 3, Decimal("0.03"))


def test_the_writers_keep_negative_numbers_as_numbers():
    assert csv_cells(Ledger().render("csv").content) == ["who", "fen", "yuan", "'" + HOSTILE[2], "-100", "-1.00",
                                                         "-5", "3", "0.03"]
    sheet = openpyxl.load_workbook(io.BytesIO(Ledger().render("xlsx").content))["test_ledger"]
    assert (sheet["B2"].value, sheet["B2"].data_type) == (-100, "n")
    assert (sheet["C2"].value, sheet["C2"].data_type) == (-1, "n")
    assert (sheet["A2"].value, sheet["A3"].value) == ("'" + HOSTILE[2], "-5")
    with pytest.raises(ValueError, match="parquet"):
        Ledger().render("parquet")


# Each exporter that carries free text -------------------------------------------------------------------

@pytest.mark.django_db
def test_the_landscape_neutralises_holder_names():
    for name in HOSTILE:
        PatentFactory(holder=HolderFactory(name_zh=name, name_en=name))
    exporter = LandscapeExporter(landscape(patents_qs=platform_patents(), params={}, today=date(2026, 1, 1)))
    assert_inert_in_csv(exporter.render("csv").content, HOSTILE)
    assert_inert_in_xlsx(exporter.render("xlsx").content, HOSTILE)
    holders = openpyxl.load_workbook(io.BytesIO(exporter.render("xlsx").content))["holders"]
    assert (holders["E2"].value, holders["E2"].data_type) == (1, "n")


@pytest.mark.django_db
def test_the_portfolio_neutralises_titles_abstracts_and_inventors_and_keeps_numbers_numbers():
    holder = HolderFactory()
    for text in HOSTILE:
        PatentFactory(holder=holder, title=text, abstract=text, inventors=[text], claims_count=12)
    exporter = PortfolioExporter(portfolio_list(holder=holder, params={}).qs)
    assert_inert_in_csv(exporter.render("csv").content, HOSTILE)
    assert_inert_in_xlsx(exporter.render("xlsx").content, HOSTILE)
    sheet = openpyxl.load_workbook(io.BytesIO(exporter.render("xlsx").content))["portfolio"]
    header = [c.value for c in sheet[1]]
    claims = sheet.cell(row=2, column=header.index("claims_count") + 1)
    assert (claims.value, claims.data_type) == (12, "n")


def test_a_carriage_return_inside_a_cell_is_quoted_so_it_cannot_start_a_row_of_its_own():
    class Titles(Exporter):
        identifier = "test_titles"  # not registered
        verbose_name = "test"
        header = ("title", "n")

        def rows(self):
            yield ("\r=1+1", 1)
            yield ("a\rb\nc", 2)

    content = Titles().render("csv").content
    assert content.decode("utf-8-sig") == 'title,n\r\n"\'\r=1+1",1\r\n"a\rb\nc",2\r\n'
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))) == [
        ["title", "n"], ["'\r=1+1", "1"], ["a\rb\nc", "2"]]


def test_the_inventory_error_report_neutralises_the_values_as_typed():
    errors = pd.DataFrame([{"row": n, "column": "kind", "value": value, "reason": "unknown kind"}
                           for n, value in enumerate(HOSTILE, start=2)])
    assert InventoryErrorsExporter.formats == ("csv",)
    assert_inert_in_csv(InventoryErrorsExporter(errors).render("csv").content, HOSTILE)


def test_a_statement_neutralises_counterparties_and_keeps_negative_amounts_numbers():
    lines = [StatementLine(date=date(2026, 3, 1), kind="refund", kind_label="Refund", description=name,
                           account="holder_payable", account_label="Owed to the patent holder", licence_id=1,
                           licence_ref="OL1", counterparty=name, payment_id=7, debit_fen=1_000, credit_fen=0,
                           balance_fen=-1_000 * (n + 1)) for n, name in enumerate(HOSTILE)]
    statement = Statement(title="t", perspective=Perspective.HOLDER, organisation=None, licence=None, lines=lines,
                          total_debit_fen=4_000, total_credit_fen=0, balance_fen=-4_000)
    exporter = StatementExporter(statement)
    csv_content = exporter.render("csv").content
    assert_inert_in_csv(csv_content, HOSTILE)
    rows = list(csv.reader(io.StringIO(csv_content.decode("utf-8-sig"))))
    assert [r[9] for r in rows[1:]] == ["-10.00", "-20.00", "-30.00", "-40.00", "-40.00"]
    xlsx_content = exporter.render("xlsx").content
    assert_inert_in_xlsx(xlsx_content, HOSTILE)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_content))["statement"]
    assert (sheet["J2"].value, sheet["J2"].data_type) == (-10, "n") and sheet["G2"].value == 7


@pytest.mark.django_db
def test_recording_packs_neutralise_licensee_names_and_keep_negative_amounts_numbers():
    licences = [build.licence(notice_legal_name=name) for name in HOSTILE]
    licences[0].lump_sum_fen = -150
    rows = [recording_row(lic, today=timezone.localdate()) for lic in licences]
    exporter = RecordingPackExporter(rows)
    column = RecordingPackExporter.header.index("lump_sum_yuan")
    csv_content = exporter.render("csv").content
    assert_inert_in_csv(csv_content, HOSTILE)
    assert list(csv.reader(io.StringIO(csv_content.decode("utf-8-sig"))))[1][column] == "-1.50"
    xlsx_content = exporter.render("xlsx").content
    assert_inert_in_xlsx(xlsx_content, HOSTILE)
    cell = openpyxl.load_workbook(io.BytesIO(xlsx_content))["recordings"].cell(row=2, column=column + 1)
    assert (cell.value, cell.data_type) == (-1.5, "n")


def _board(by="region"):
    figures = dict.fromkeys(INDICATOR_LABELS) | {"fee_volume_fen": -190_000, "licences_concluded": -1}
    # Holder names, regions and withdrawal reasons are typed by users: every new table of issue 19 carries them.
    return SimpleNamespace(
        by=by, figures=figures, trend=[], breakdown=[{"value": name, "label": name, **figures} for name in HOSTILE],
        league=[{"holder_id": 1, "name_zh": name, "name_en": name, "holder_kind": "university",
                 "declarations_published": 1, "licensed_patents": 1, "licences_concluded": 1, "fee_volume_fen": -100,
                 "deal_rate": 1.0} for name in HOSTILE],
        flows=[{"licensor_region": name, "licensee_region": name, "licensee_locality": "out_of_province",
                "licences_concluded": 1, "fee_volume_fen": 100} for name in HOSTILE],
        funnel=[{"holder_id": 1, "name_zh": name, "name_en": name, "inventoried": 1, "good_prospects": 1, "declared": 1,
                 "announced": 0, "licensed": 0, "recorded": 0} for name in HOSTILE],
        withdrawals=[{"reason": name, "withdrawals": 1} for name in HOSTILE])


def test_office_statistics_neutralise_region_names_and_keep_negative_figures_numbers():
    board = _board()
    for table in ("breakdown", "league", "flows", "funnel", "withdrawals"):
        assert_inert_in_csv(StatisticsExporter(board, table).render("csv").content, HOSTILE)
    figures = {row[0]: row[2] for row in csv.reader(
        io.StringIO(StatisticsExporter(board, "figures").render("csv").content.decode("utf-8-sig")))}
    # Issue 19: money is exported in yuan and named so (fee_volume_fen held yuan before).
    assert figures["fee_volume_yuan"] == "-1900.00" and figures["licences_concluded"] == "-1"
    workbook = StatisticsExporter(board).render("xlsx").content
    assert_inert_in_xlsx(workbook, HOSTILE)
    assert openpyxl.load_workbook(io.BytesIO(workbook)).sheetnames == ["figures", "breakdown", "trend", "league",
                                                                       "flows", "funnel", "withdrawals"]
    with pytest.raises(ValueError):
        StatisticsExporter(board, "nonsense")


def test_the_office_drill_down_neutralises_titles_and_holder_names():
    published = timezone.make_aware(datetime(2026, 3, 10, 10))
    rows = [DrillRow(SimpleNamespace(cnipa_number="", patent=SimpleNamespace(number=f"CN{n}", title=name),
                                     holder=SimpleNamespace(name_zh=name), fee_form="royalty", filed_at=published),
                     None, None, False, 0) for n, name in enumerate(HOSTILE)]
    exporter = DeclarationsExporter(rows)
    assert_inert_in_csv(exporter.render("csv").content, HOSTILE)
    assert_inert_in_xlsx(exporter.render("xlsx").content, HOSTILE)


@pytest.mark.django_db
def test_the_pool_tape_neutralises_fields_of_use_and_keeps_negative_numbers_numbers():
    build_pool_market()
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    pool = pools.pool_create(by=officer, name="池", cut_off_date=date(2025, 7, 30), discount_rate=Decimal("10"))
    tape = pools.pool_preview(pool=pool)
    for row, name in zip(tape.tape, HOSTILE, strict=True):
        row["licensee_industry"] = name
    tape.tape[0]["arrears_fen"], tape.tape[0]["royalty_rate_percent"] = -160_000, "-5.00"
    exporter = PoolTapeExporter(tape)

    with zipfile.ZipFile(io.BytesIO(exporter.render("csv").content)) as archive:
        tape_csv = archive.read("tape.csv")
    assert_inert_in_csv(tape_csv, HOSTILE)
    first = next(csv.DictReader(io.StringIO(tape_csv.decode("utf-8-sig"))))
    assert (first["arrears_fen"], first["royalty_rate_percent"]) == ("-160000", "-5.00")

    workbook = exporter.render("xlsx").content
    assert_inert_in_xlsx(workbook, HOSTILE)
    sheet = openpyxl.load_workbook(io.BytesIO(workbook))["tape"]
    header = [c.value for c in sheet[1]]
    arrears = sheet.cell(row=2, column=header.index("arrears_fen") + 1)
    assert (arrears.value, arrears.data_type) == (-160_000, "n")
    assert sheet.cell(row=2, column=header.index("royalty_rate_percent") + 1).value == "-5.00"
    assert exporter.render("xlsx").content == workbook  # the same rows, the same bytes
