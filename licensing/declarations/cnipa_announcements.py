"""Reading CNIPA's published list of open-licence declarations (专利开放许可声明公告), a CSV (GBK or UTF-8, with
or without BOM, as CNIPA's site exports) or XLSX in CNIPA's column layout, into checked rows.

Only reading and checking here: every row is matched to a patent already in the inventory by its normalised
number (CN/ZL prefixes, spaces, the check digit's dot: patents.inventory.numbers) and to its patentee, and its
fee terms, duration, number and date are parsed. Each problem is reported by row (1 = the first row under the
header), column and reason, as the inventory import reports them. Writing is the marketplace's
(marketplace.listings.cnipa_import), all or nothing."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.declarations.services import cnipa_number_normalise, cnipa_number_valid
from licensing.models import FeeForm, RoyaltyBase
from patents.inventory import xlsx
from patents.inventory.numbers import PatentNumberError, normalize_patent_number
from patents.models import Patent

MAX_BYTES = 20 * 1024 * 1024

# CNIPA's headers and the spellings its exports have used; matched after removing spaces and brackets.
COLUMNS = {
    "patent_number": ("专利号", "专利申请号", "申请号"),
    "title": ("专利名称", "发明名称", "名称"),
    "patentee": ("专利权人", "权利人"),
    "fee": ("许可使用费", "许可使用费标准", "许可费"),
    "payment": ("许可使用费支付方式", "支付方式", "付费方式"),
    "duration": ("许可期限",),
    "cnipa_number": ("开放许可声明公告号", "公告号", "声明公告号"),
    "announced_on": ("公告日", "公告日期", "声明公告日"),
    "contact": ("联系人",),
    "phone": ("联系电话", "电话"),
    "email": ("电子邮箱", "邮箱", "联系邮箱"),
}
REQUIRED = ("patent_number", "patentee", "fee", "payment", "duration", "cnipa_number", "announced_on")


class AnnouncementFileError(Exception):
    """The file as a whole cannot be read (encoding, kind of file, missing columns)."""


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def __str__(self):
        return _("row %(row)d, %(column)s: %(reason)s") % {"row": self.row, "column": self.column or "-",
                                                           "reason": self.reason}


@dataclass
class AnnouncementRow:
    row: int
    patent: Patent
    cnipa_number: str
    announced_on: date
    offer: dict = field(default_factory=dict)


def _key(header) -> str:
    return re.sub(r"[\s_\-（）()/／]+", "", unicodedata.normalize("NFKC", str(header).replace("\ufeff", "")))


_LOOKUP = {_key(alias): column for column, aliases in COLUMNS.items() for alias in aliases}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_rows(raw: bytes) -> list[tuple[int, dict]]:
    """The file's data rows as (row number, {column: text}) with CNIPA's headers mapped to our column names.
    Raises AnnouncementFileError for a file that cannot be read or lacks a required column."""
    if not raw.strip():
        raise AnnouncementFileError(_("The file is empty."))
    if len(raw) > MAX_BYTES:
        raise AnnouncementFileError(_("The file is over %(mb)d MB.") % {"mb": MAX_BYTES // 1_048_576})
    if raw.startswith(b"PK\x03\x04"):
        table = _xlsx_table(raw)
    else:
        table = _csv_table(raw)
    if not table:
        raise AnnouncementFileError(_("The file is empty."))
    header, body = table[0], table[1:]
    names = [_LOOKUP.get(_key(h), "") for h in header]
    missing = [COLUMNS[c][0] for c in REQUIRED if c not in names]
    if missing:
        raise AnnouncementFileError(_("Columns missing from CNIPA's layout: %(columns)s.")
                                    % {"columns": "、".join(missing)})
    rows = []
    for n, cells in enumerate(body, start=1):
        values = {name: _text(cells[i]) if i < len(cells) else "" for i, name in enumerate(names) if name}
        if any(values.values()):
            rows.append((n, values))
    if not rows:
        raise AnnouncementFileError(_("The file has a header but no rows."))
    return rows


def _csv_table(raw: bytes) -> list[list]:
    # CNIPA's site exports GBK; Excel saves UTF-8 with a BOM. GB18030 is GBK's superset.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise AnnouncementFileError(_("The file is neither UTF-8 nor GBK text."))
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    return list(csv.reader(io.StringIO(text), dialect=dialect))


def _xlsx_table(raw: bytes) -> list[list]:
    try:
        workbook = xlsx.Workbook(zipfile.ZipFile(io.BytesIO(raw)))
    except (xlsx.XlsxError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise AnnouncementFileError(_("The XLSX file cannot be read: %(error)s") % {"error": exc}) from exc
    try:
        table = []
        for _number, cells in workbook.rows():
            table.append([cells.get(column) for column in range(1, max(cells, default=0) + 1)])
        while table and not any(_text(v) for v in table[0]):
            table.pop(0)
        return table
    except (xlsx.XlsxError, ValueError, KeyError) as exc:
        raise AnnouncementFileError(_("The XLSX file cannot be read: %(error)s") % {"error": exc}) from exc
    finally:
        workbook.close()


def name_key(name: str) -> str:
    """A patentee's name as compared: NFKC, no spaces, brackets folded (（）and () are the same)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))


_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(万元|万|元)")
_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def _fen(number: str, unit: str) -> int:
    value = Decimal(number.replace(",", ""))
    return int(value * (1_000_000 if unit.startswith("万") else 100))


def parse_fee(fee: str, payment: str) -> tuple[dict, str]:
    """The offer fields from CNIPA's 许可使用费 and 许可使用费支付方式 texts; ({}, reason) when unreadable."""
    both = f"{payment} {fee}"
    rates = _RATE.findall(fee)
    amounts = _AMOUNT.findall(fee)
    base = RoyaltyBase.PROFIT if "利润" in fee else RoyaltyBase.NET_SALES
    try:
        if "入门费" in both:
            if not rates or not amounts:
                return {}, _("an entry fee plus royalty names an amount and a percentage")
            return {"fee_form": FeeForm.ENTRY_PLUS_ROYALTY, "entry_fee_fen": _fen(*amounts[0]),
                    "royalty_rate": Decimal(rates[0]), "royalty_base": base}, ""
        if "提成" in both or rates:
            if not rates:
                return {}, _("a royalty names its percentage")
            offer = {"fee_form": FeeForm.ROYALTY, "royalty_rate": Decimal(rates[0]), "royalty_base": base}
            if amounts and ("不低于" in fee or "最低" in fee):
                offer["annual_minimum_fen"] = _fen(*amounts[0])
            return offer, ""
        if amounts:
            return {"fee_form": FeeForm.LUMP_SUM, "lump_sum_fen": _fen(*amounts[0])}, ""
    except InvalidOperation:
        pass
    return {}, _("no amount in yuan (元 or 万元) or percentage found")


def parse_date(text: str) -> date | None:
    text = text.strip()
    for pattern in (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{4})/(\d{1,2})/(\d{1,2})$", r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$",
                    r"^(\d{4})年(\d{1,2})月(\d{1,2})日$", r"^(\d{4})(\d{2})(\d{2})$"):
        m = re.match(pattern, text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def parse_duration(text: str, *, patent: Patent, announced_on: date) -> int | None:
    """Licence duration in whole years: "3年", or "至专利权期满" (the whole years left at the announcement)."""
    m = re.search(r"(\d+)\s*年", text)
    if m:
        return int(m.group(1))
    if "期满" in text or "届满" in text:
        years = (patent.expiry_date - announced_on).days // 365
        return max(1, min(years, 20))
    return None


def check_rows(rows: list[tuple[int, dict]]) -> tuple[list[AnnouncementRow], list[RowError]]:
    """Match and parse every row; every problem of every row is reported (not only the first)."""
    numbers = {}
    for n, values in rows:
        try:
            numbers[n] = normalize_patent_number(values.get("patent_number", "")).canonical
        except PatentNumberError:
            numbers[n] = None
    patents = {p.number: p for p in Patent.objects.filter(number__in=[v for v in numbers.values() if v])
               .select_related("holder").prefetch_related("co_owners")}
    good, errors = [], []
    seen_numbers: dict[str, int] = {}
    today = timezone.localdate()
    for n, values in rows:
        row_errors = []

        def error(column: str, reason: str, value: str = "", *, n=n, row_errors=row_errors, values=values) -> None:
            row_errors.append(RowError(n, COLUMNS[column][0], (value or values.get(column, ""))[:200], reason))

        raw_number = values.get("patent_number", "")
        patent = patents.get(numbers[n]) if numbers[n] else None
        if numbers[n] is None:
            error("patent_number", _("not a valid patent number") if raw_number else _("missing patent number"))
        elif patent is None:
            error("patent_number", _("the patent %(number)s is not in the inventory") % {"number": numbers[n]})
        if patent is not None:
            listed = {name_key(name) for name in re.split(r"[;；、,，]", values.get("patentee", "")) if name.strip()}
            if name_key(patent.holder.name_zh) not in listed:
                error("patentee", _("the inventory's patentee is %(holder)s") % {"holder": patent.holder.name_zh})
        number = cnipa_number_normalise(values.get("cnipa_number", ""))
        if not number:
            error("cnipa_number", _("missing announcement number"))
        elif not cnipa_number_valid(number):
            error("cnipa_number", _("not a CNIPA announcement number"))
        elif number in seen_numbers:
            error("cnipa_number", _("the same announcement number as row %(row)d") % {"row": seen_numbers[number]})
        else:
            seen_numbers[number] = n
        announced_on = parse_date(values.get("announced_on", ""))
        if announced_on is None:
            error("announced_on", _("not a date (e.g. 2025-03-18)"))
        elif announced_on > today:
            error("announced_on", _("in the future"))
        offer, reason = parse_fee(values.get("fee", ""), values.get("payment", ""))
        if reason:
            error("fee", reason)
        duration = None
        if patent is not None and announced_on is not None:
            duration = parse_duration(values.get("duration", ""), patent=patent, announced_on=announced_on)
            if duration is None or not 1 <= duration <= 20:
                error("duration", _("a whole number of years from 1 to 20, or 至专利权期满"))
        if row_errors:
            errors.extend(row_errors)
            continue
        offer.update(duration_years=duration, payment_method=values.get("payment", ""),
                     contact_name=values.get("contact", ""), contact_phone=values.get("phone", "")[:40],
                     contact_email=values.get("email", ""))
        good.append(AnnouncementRow(row=n, patent=patent, cnipa_number=number, announced_on=announced_on,
                                    offer=offer))
    return good, errors
