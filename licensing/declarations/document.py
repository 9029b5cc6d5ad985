"""The declaration document a holder files at CNIPA: every item CNIPA requires of an open-licence declaration
(Patent Law art. 50; Implementing Regulations art. 85; Patent Examination Guidelines Part V ch. 11 3.3),
in Chinese, as structured data (JSON) and as a PDF. Both are built from one dict, so they cannot disagree.

The platform prepares the document; the holder files it. Nothing here announces anything: only CNIPA does.
The PDF uses reportlab's built-in CID font STSong-Light as the certificates do (no font file shipped)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from licensing.certificates.services import CJK_FONT, LATIN_FONT, wrap
from licensing.models import Declaration, FeeForm, RoyaltyBase

DOCUMENT_VERSION = 1

_FEE_FORM_ZH = {FeeForm.LUMP_SUM: "一次性付费", FeeForm.ROYALTY: "提成支付", FeeForm.ENTRY_PLUS_ROYALTY: "入门费加提成"}
_ROYALTY_BASE_ZH = {RoyaltyBase.NET_SALES: "产品净销售额", RoyaltyBase.PROFIT: "利润"}
_KIND_ZH = {"invention": "发明专利", "utility_model": "实用新型专利", "design": "外观设计专利"}
COMMITMENT_ZH = "专利权人承诺：本专利符合实行开放许可的条件，不存在《专利法实施细则》第八十六条规定的不得实行开放许可的情形。"


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else f"{Decimal(fen) / 100:,.2f}"


def fee_standard_zh(declaration: Declaration) -> str:
    """The fee standard in the words of a Chinese declaration."""
    if declaration.fee_form == FeeForm.LUMP_SUM:
        return f"一次性付费：人民币 {_yuan(declaration.lump_sum_fen)} 元"
    royalty = (f"按{_ROYALTY_BASE_ZH.get(declaration.royalty_base, declaration.royalty_base)}的 "
               f"{declaration.royalty_rate}% 提成")
    if declaration.annual_minimum_fen:
        royalty += f"，每年不低于人民币 {_yuan(declaration.annual_minimum_fen)} 元"
    if declaration.fee_form == FeeForm.ENTRY_PLUS_ROYALTY:
        return f"入门费人民币 {_yuan(declaration.entry_fee_fen)} 元，另{royalty}"
    return royalty


def declaration_document_data(declaration: Declaration, *, on: date | None = None) -> dict:
    """The declaration as structured data, item by item as CNIPA asks for it. Amounts in yuan as text (two
    decimals) and in fen as integers; the rate as text, never a float."""
    patent, holder = declaration.patent, declaration.holder
    return {
        "document": "专利开放许可声明", "version": DOCUMENT_VERSION,
        "patent": {"number": patent.number, "title": patent.title, "kind": _KIND_ZH.get(patent.kind, patent.kind),
                   "grant_date": patent.grant_date.isoformat() if patent.grant_date else None},
        "patentee": {"name": holder.name_zh, "uscc": holder.uscc or "",
                     "co_owners": [o.name for o in patent.co_owners.all() if o.organisation_id != holder.pk]},
        "conditions_commitment": {"given": bool(declaration.conditions_commitment), "text": COMMITMENT_ZH},
        "fee": {
            "form": declaration.fee_form, "form_zh": _FEE_FORM_ZH.get(declaration.fee_form, declaration.fee_form),
            "standard_zh": fee_standard_zh(declaration), "currency": declaration.currency,
            "lump_sum_fen": declaration.lump_sum_fen, "entry_fee_fen": declaration.entry_fee_fen,
            "royalty_base": declaration.royalty_base or None,
            "royalty_rate_percent": str(declaration.royalty_rate) if declaration.royalty_rate is not None else None,
            "annual_minimum_fen": declaration.annual_minimum_fen,
            "calculation_basis": declaration.fee_basis_statement,
        },
        "payment_method": declaration.payment_method,
        "licence_duration_years": declaration.duration_years,
        "licence_type": "普通许可（非独占）",
        "field_of_use_note": declaration.field_of_use_note,
        "contact": {"name": declaration.contact_name, "email": declaration.contact_email,
                    "phone": declaration.contact_phone},
        "standard_terms": {"name": declaration.terms_version.name_zh, "version": declaration.terms_version.number,
                           "sha256": declaration.terms_version.sha256},
        "date": (on or timezone.localdate()).isoformat(),
        "signature": {"signatory": "", "seal": ""},
    }


def declaration_document_json(declaration: Declaration, *, on: date | None = None) -> bytes:
    return json.dumps(declaration_document_data(declaration, on=on), ensure_ascii=False, indent=2).encode("utf-8")


def _register() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def render_declaration_pdf(declaration: Declaration, *, on: date | None = None, compress: bool = True) -> bytes:
    """The declaration document as an A4 PDF in Chinese, every item of declaration_document_data, ending with
    the date and the signature line. ``compress=False`` leaves the page stream readable for tests."""
    _register()
    data = declaration_document_data(declaration, on=on)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1 if compress else 0)
    c.setTitle(f"专利开放许可声明 {data['patent']['number']}")
    c.setAuthor(data["patentee"]["name"])
    c.setCreator("licensing.declarations.document")
    width, height = A4
    left, label_width, right = 22 * mm, 42 * mm, width - 22 * mm
    y = height - 30 * mm
    c.setFont(CJK_FONT, 20)
    c.drawCentredString(width / 2, y, "专利开放许可声明")
    y -= 16 * mm

    def row(label: str, text: str) -> None:
        nonlocal y, c
        text = text or "—"
        font = LATIN_FONT if text.isascii() else CJK_FONT  # numbers and e-mails stay searchable text
        lines = wrap(text, font, 10.5, right - left - label_width)
        if y - 15 * len(lines) < 30 * mm:
            c.showPage()
            y = height - 25 * mm
        c.setFont(CJK_FONT, 10.5)
        c.drawString(left, y, label)
        c.setFont(font, 10.5)
        for line in lines:
            c.drawString(left + label_width, y, line)
            y -= 15
        y -= 6

    fee = data["fee"]
    contact = data["contact"]
    row("专利号", data["patent"]["number"])
    row("专利名称", data["patent"]["title"])
    row("专利类型", data["patent"]["kind"])
    patentee = data["patentee"]["name"] + (f"（统一社会信用代码 {data['patentee']['uscc']}）" if data["patentee"]["uscc"] else "")
    row("专利权人", patentee)
    if data["patentee"]["co_owners"]:
        row("共有专利权人", "、".join(data["patentee"]["co_owners"]))
    row("条件承诺", data["conditions_commitment"]["text"] if data["conditions_commitment"]["given"] else "（未作承诺）")
    row("许可使用费标准", fee["standard_zh"])
    row("计算依据说明", fee["calculation_basis"])
    row("支付方式", data["payment_method"])
    row("许可期限", f"{data['licence_duration_years']} 年")
    row("许可类型", data["licence_type"])
    if data["field_of_use_note"]:
        row("实施范围说明", data["field_of_use_note"])
    row("标准许可条款", f"{data['standard_terms']['name']} 第 {data['standard_terms']['version']} 版")
    row("联系人", contact["name"])
    row("联系方式", "  ".join(v for v in (contact["email"], contact["phone"]) if v))
    row("声明日期", data["date"])
    y -= 10 * mm
    c.setFont(CJK_FONT, 10.5)
    c.drawString(left, y, "专利权人（签章）：______________________")
    c.drawString(left + 95 * mm, y, "日期：______年____月____日")
    c.showPage()
    c.save()
    return buf.getvalue()
