"""Patent factories and in-memory inventory files (CSV in several encodings, XLSX) for the import tests."""

import csv
import io
from datetime import date, datetime

import factory
from factory.django import DjangoModelFactory
from openpyxl import Workbook

from patents.inventory.numbers import cn_check_char
from patents.models import LegalStatus, Patent, PatentKind
from tests.parties.factories import HolderFactory

# The 5th digit of a 12-digit CNIPA application number says what kind of patent it is.
TYPE_DIGIT = {PatentKind.INVENTION: "1", PatentKind.UTILITY_MODEL: "2", PatentKind.DESIGN: "3"}


def cn_application_number(serial: int, *, year: int = 2021, kind: str = PatentKind.INVENTION) -> str:
    """A valid canonical CN application number, e.g. CN202110000001.X, distinct for each serial."""
    body = f"{year:04d}{TYPE_DIGIT[kind]}{serial:07d}"
    return f"CN{body}.{cn_check_char(body)}"


class PatentFactory(DjangoModelFactory):
    """A granted Chinese invention with a valid, unique application number."""

    class Meta:
        model = Patent

    holder = factory.SubFactory(HolderFactory)
    kind = PatentKind.INVENTION
    number = factory.LazyAttributeSequence(lambda o, n: cn_application_number(n + 1, kind=o.kind))
    number_original = factory.SelfAttribute("number")
    country = "CN"
    title = factory.Sequence(lambda n: f"一种锂离子电池正极材料及其制备方法 {n}")
    abstract = "本发明公开了一种正极材料。"
    filing_date = date(2021, 3, 15)
    grant_date = date(2023, 6, 20)
    legal_status = LegalStatus.GRANTED
    claims_count = 10
    main_ipc = "H01M 4/36"
    ipc_codes = factory.LazyAttribute(lambda o: [o.main_ipc] if o.main_ipc else [])
    ipc_subclass = factory.LazyAttribute(lambda o: o.main_ipc[:4])
    technology_field = 1  # electrical machinery, apparatus, energy (WIPO field of H01M)
    inventors = factory.LazyFunction(lambda: ["张三", "李四"])


# Canonical column -> the header written for it.
EN_HEADERS = {
    "number": "patent_number", "title": "title", "kind": "kind", "filing_date": "filing_date",
    "grant_date": "grant_date", "ipc": "ipc", "abstract": "abstract", "claims_count": "claims_count",
    "title_en": "title_en", "abstract_en": "abstract_en",
    "legal_status": "legal_status", "inventors": "inventors", "co_owners": "co_owners",
    "annual_fees_paid_through": "annual_fees_paid_through", "family_size": "family_size",
    "forward_citations": "forward_citations", "evaluation_report": "evaluation_report", "pledged": "pledged",
    "exclusive_licence_in_force": "exclusive_licence_in_force", "term_extension_days": "term_extension_days",
    "procedure_suspension": "procedure_suspension", "procedure_suspended_on": "procedure_suspended_on",
    "co_owners_agreement_allows_declaring": "co_owners_agreement_allows_declaring",
}
ZH_HEADERS = {
    "number": "专利号", "title": "专利名称", "kind": "专利类型", "filing_date": "申请日", "grant_date": "授权公告日",
    "ipc": "IPC分类号", "abstract": "摘要", "claims_count": "权利要求数", "legal_status": "法律状态",
    "title_en": "英文名称", "abstract_en": "英文摘要",
    "inventors": "发明人", "co_owners": "共同专利权人", "annual_fees_paid_through": "年费缴至", "family_size": "同族数",
    "forward_citations": "被引次数", "evaluation_report": "专利权评价报告", "pledged": "是否质押",
    "exclusive_licence_in_force": "独占许可", "term_extension_days": "专利权期限补偿天数",
    "procedure_suspension": "中止程序", "procedure_suspended_on": "中止日期",
    "co_owners_agreement_allows_declaring": "共有人约定可单独声明",
}


def _columns(rows: list[dict]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    return columns


def _header_row(columns: list[str], headers: str | dict[str, str]) -> list[str]:
    """Canonical names become English or Chinese headers; any other key is written as it is."""
    mapping = headers if isinstance(headers, dict) else {"en": EN_HEADERS, "zh": ZH_HEADERS}[headers]
    return [mapping.get(column, column) for column in columns]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def inventory_csv(rows: list[dict], *, headers: str | dict[str, str] = "en", encoding: str = "utf-8",
                  columns: list[str] | None = None) -> bytes:
    """An inventory CSV: one row per dict, keyed by canonical column name (or by a literal header).

    `headers` is "en", "zh" or an explicit {column: header} mapping; `columns` fixes the columns (e.g. for a
    header-only file). `encoding` is "utf-8", "utf-8-sig" (with BOM), "gbk" or "gb18030"."""
    columns = columns or _columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_header_row(columns, headers))
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in columns])
    return buffer.getvalue().encode(encoding)


def inventory_xlsx(rows: list[dict], *, headers: str | dict[str, str] = "en",
                   columns: list[str] | None = None) -> bytes:
    """The same as `inventory_csv` as an XLSX workbook. Dates are written as real Excel date cells."""
    columns = columns or _columns(rows)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "专利清单"
    sheet.append(_header_row(columns, headers))
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, date | datetime):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
