"""What bounds an import's memory and time, and the encodings it reads: the header is checked before any data row,
the XLSX reader streams (shared strings read only as far as needed) and refuses what Excel cannot hold, the error
report stops at MAX_REPORTED_ERRORS, and a UTF-16 CSV (Excel's "Unicode text") is read by its byte order mark.
The hostile 500 MB workbooks themselves are measured in tests/reliability/test_import_memory.py."""

import codecs
import csv
import io
import zipfile
from datetime import date

import pytest

from patents.inventory.services import MAX_REPORTED_ERRORS, inventory_batch_create, inventory_batch_run
from patents.models import InventoryBatch, Patent
from tests.parties.factories import HolderFactory
from tests.patents.factories import cn_application_number, inventory_csv

pytestmark = pytest.mark.django_db

TODAY = date(2025, 1, 1)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.fixture
def holder():
    return HolderFactory()


def import_file(content: bytes, *, holder, filename="inventory.csv", partial=False):
    batch = inventory_batch_create(holder=holder, run_by=None, source=InventoryBatch.Source.WEB, filename=filename,
                                   content=content, partial=partial, language="en")
    summary = inventory_batch_run(batch=batch, today=TODAY)
    batch.refresh_from_db()
    return batch, summary


def row(serial: int, **values) -> dict:
    return {"number": cn_application_number(serial), "title": f"一种储能电池 {serial}", "kind": "invention",
            "filing_date": "2021-03-15", **values}


def workbook(sheet_rows: str, *, strings: str = "", styles: str = "", workbook_pr: str = "") -> bytes:
    """An XLSX written by hand, part by part, so that a test can put in it what Excel would not."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{workbook_pr}'
            '<sheets><sheet name="专利" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/></Relationships>'))
        archive.writestr("xl/worksheets/sheet1.xml",
                         f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_rows}</sheetData></worksheet>')
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{strings}</sst>')
        archive.writestr("xl/styles.xml", f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>')
    return buffer.getvalue()


def shared(*texts: str) -> str:
    return "".join(f"<si><t>{t}</t></si>" for t in texts)


def cells(*indexes: int, r: int | None = None) -> str:
    number = f' r="{r}"' if r else ""
    return f"<row{number}>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in indexes) + "</row>"


HEADER = ("patent_number", "title", "kind", "filing_date")


# Encodings ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("encoding", "separator"), [("utf-16-le", "\t"), ("utf-16-be", ",")])
def test_a_utf16_csv_with_its_byte_order_mark_is_read(holder, encoding, separator):
    # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated; other tools write big-endian or commas.
    text = inventory_csv([row(1, title="一种锂电池"), row(2)], headers="zh").decode("utf-8")
    text = text.replace(",", separator) if separator != "," else text
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF16_BE

    batch, summary = import_file(bom + text.encode(encoding), holder=holder)

    assert batch.status == InventoryBatch.Status.SUCCEEDED, batch.message
    assert (summary.total, summary.created) == (2, 2)
    assert Patent.objects.get(number=cn_application_number(1)).title == "一种锂电池"


def test_utf16_without_a_byte_order_mark_is_refused_naming_the_encodings_accepted(holder):
    content = inventory_csv([row(1)]).decode("utf-8").encode("utf-16-le")  # no BOM: zero bytes in ASCII text

    batch, _summary = import_file(content, holder=holder)

    assert batch.status == InventoryBatch.Status.REJECTED
    assert "binary data" in batch.message
    assert "UTF-8" in batch.message and "UTF-16 with its BOM" in batch.message and "GBK/GB18030" in batch.message


def test_a_utf16_file_with_a_broken_character_is_refused_as_utf16(holder):
    content = codecs.BOM_UTF16_LE + inventory_csv([row(1)]).decode("utf-8").encode("utf-16-le") + b"\x00\xd8A\x00"

    batch, _summary = import_file(content, holder=holder)

    assert batch.status == InventoryBatch.Status.REJECTED
    assert "starts as UTF-16 text but has undecodable bytes" in batch.message


# The header first -----------------------------------------------------------------------------------------

def test_a_csv_missing_required_columns_is_refused_before_its_body_is_decoded(holder):
    # The body is in no encoding at all: had it been read, the refusal would be about the encoding.
    content = b"patent_number,title\n" + b"\xff\xfe\xff not text\n" * 1000

    batch, _summary = import_file(content, holder=holder)

    assert batch.status == InventoryBatch.Status.REJECTED
    assert batch.message.startswith("Required column(s) missing: kind")
    assert batch.total_rows == 0


def test_an_xlsx_missing_required_columns_is_refused_before_any_data_row_or_later_string_is_parsed(holder):
    # Rows and shared strings after the header's are broken XML: reading either would fail differently.
    content = workbook(cells(0, 1) + "<row><c t='s'><v>2</v></c><broken", strings=shared("专利号", "名称") + "<si><t>x")

    batch, _summary = import_file(content, holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.REJECTED
    assert batch.message.startswith("Required column(s) missing: kind")


# The XLSX reader --------------------------------------------------------------------------------------------

def test_the_xlsx_reader_reads_rich_text_inline_strings_numbers_and_date_cells(holder):
    number = cn_application_number(7)
    strings = shared(*HEADER, "claims_count", "pledged", number) + (
        "<si><r><t>一种</t></r><r><t>储能电池</t></r><rPh sb='0' eb='2'><t>イッシュ</t></rPh></si>")
    data = ('<row><c t="s"><v>6</v></c><c t="s"><v>7</v></c><c t="inlineStr"><is><t>发明</t></is></c>'
            '<c s="1"><v>44270</v></c><c><v>12</v></c><c t="b"><v>1</v></c></row>')
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'

    batch, summary = import_file(workbook(cells(0, 1, 2, 3, 4, 5) + data, strings=strings, styles=styles),
                                 holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.SUCCEEDED, batch.errors_preview
    patent = Patent.objects.get(number=number)
    assert (patent.title, patent.kind, patent.filing_date) == ("一种储能电池", "invention", date(2021, 3, 15))
    assert (patent.claims_count, patent.pledged) == (12, True)


def test_the_xlsx_reader_follows_the_1904_date_system(holder):
    strings = shared(*HEADER, cn_application_number(8), "一种电池", "invention")
    data = '<row><c t="s"><v>4</v></c><c t="s"><v>5</v></c><c t="s"><v>6</v></c><c s="1"><v>42808</v></c></row>'
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'

    batch, _summary = import_file(workbook(cells(0, 1, 2, 3) + data, strings=strings, styles=styles,
                                           workbook_pr='<workbookPr date1904="1"/>'),
                                  holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.SUCCEEDED, batch.errors_preview
    assert Patent.objects.get().filing_date == date(2021, 3, 15)


def test_an_xlsx_cell_longer_than_excel_allows_is_refused(holder):
    strings = shared(*HEADER, cn_application_number(9), "A" * 40_000)

    batch, _summary = import_file(workbook(cells(0, 1, 2, 3) + cells(4, 5, 5, 5), strings=strings),
                                  holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.REJECTED
    assert "shared string 6 holds more than 32,767 characters" in batch.message


def test_an_xlsx_sheet_with_more_rows_than_excel_allows_is_refused(holder):
    strings = shared(*HEADER, cn_application_number(10), "一种电池", "invention", "2021-03-15")

    batch, _summary = import_file(workbook(cells(0, 1, 2, 3) + cells(4, 5, 6, 7, r=1_048_577), strings=strings),
                                  holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.REJECTED
    assert "more than 1,048,576 rows" in batch.message


def test_a_cell_referring_to_a_shared_string_the_workbook_lacks_is_refused(holder):
    batch, _summary = import_file(workbook(cells(0, 1, 2, 3) + cells(4, 99, 5, 6), strings=shared(*HEADER, "x")),
                                  holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.REJECTED
    assert "refers to shared string 100, which the workbook does not have" in batch.message


# The error cap -------------------------------------------------------------------------------------------------

def many_bad_rows(n: int) -> list[dict]:
    # Two errors a row: an unknown kind and a date that is no date.
    return [row(i, kind="gadget", filing_date="soon") for i in range(1, n + 1)]


def report_rows(batch) -> list[dict]:
    with batch.error_report.open("rb") as f:
        return list(csv.DictReader(io.StringIO(f.read().decode("utf-8-sig"), newline="")))


def test_all_or_nothing_stops_checking_once_the_report_is_full(holder):
    bad = MAX_REPORTED_ERRORS // 2 + 1

    batch, summary = import_file(inventory_csv(many_bad_rows(bad)), holder=holder)

    assert batch.status == InventoryBatch.Status.REJECTED and Patent.objects.count() == 0
    assert summary.rejected == bad
    assert batch.message == (f"{bad} row(s) have errors; nothing was imported. Checking stopped after "
                             f"{MAX_REPORTED_ERRORS} errors (rows up to {bad}); fix these and import again.")
    report = report_rows(batch)
    assert len(report) == MAX_REPORTED_ERRORS
    assert report[0] == {"row": "2", "column": "filing_date", "value": "soon",
                         "reason": "not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD)"}


def test_a_partial_import_goes_on_past_a_full_report_and_counts_every_rejected_row(holder):
    bad = MAX_REPORTED_ERRORS // 2 + 10
    rows = many_bad_rows(bad) + [row(bad + i) for i in range(1, 4)]

    batch, summary = import_file(inventory_csv(rows), holder=holder, partial=True)

    assert batch.status == InventoryBatch.Status.SUCCEEDED
    assert (summary.created, summary.rejected) == (3, bad)
    assert len(report_rows(batch)) == MAX_REPORTED_ERRORS
    assert batch.message == (f"{bad} row(s) rejected; the valid rows were imported. The error report lists the "
                             f"first {MAX_REPORTED_ERRORS} errors.")


def test_an_xlsx_whose_first_sheet_has_no_filled_row_is_refused_as_empty(holder):
    batch, _summary = import_file(workbook('<row r="1"/><row r="2"><c t="s"><v>0</v></c></row>', strings=shared("")),
                                  holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.REJECTED
    assert batch.message == "The file is empty."


def test_an_xlsx_whose_rows_are_out_of_order_is_refused(holder):
    strings = shared(*HEADER, cn_application_number(11), "一种电池", "invention", "2021-03-15")

    batch, _summary = import_file(workbook(cells(0, 1, 2, 3, r=1) + cells(4, 5, 6, 7, r=3) + cells(4, 5, 6, 7, r=2),
                                           strings=strings), holder=holder, filename="inventory.xlsx")

    assert batch.status == InventoryBatch.Status.REJECTED
    assert "row 2 comes after row 3: the rows are out of order" in batch.message
