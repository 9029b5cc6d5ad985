"""Licence certificates: the status a certificate number verifies to, and the bilingual A4 PDF.

The PDF is drawn with reportlab's built-in CID font STSong-Light (UnicodeCIDFont), so Chinese renders
without shipping a font file; plain-ASCII values (numbers, hashes, the verification URL) use the
standard Helvetica/Courier fonts. The canvas is built with ``invariant=1`` and fixed metadata, so the
same licence and verification URL always give the same bytes. No money figure is ever printed: a
certificate proves the licence, not its price.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from licensing.models.licences import CertificateSerial, Licence, LicenceBasis, LicenceState

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
MONO_FONT = "Courier"

# What a certificate number verifies to.
STATUS_ACTIVE = "active"
STATUS_EXPIRED = "expired"
STATUS_TERMINATED = "terminated"
STATUS_UNKNOWN = "unknown"

STATUS_LABELS = {
    STATUS_ACTIVE: _("Valid: the licence is in force"),
    STATUS_EXPIRED: _("Expired: the licence term has ended"),
    STATUS_TERMINATED: _("Terminated: the licence is no longer in force"),
    STATUS_UNKNOWN: _("Not found: no certificate has this number"),
}
_STATUS_PDF = {
    STATUS_ACTIVE: ("有效", "Valid (in force)"),
    STATUS_EXPIRED: ("已到期", "Expired"),
    STATUS_TERMINATED: ("已终止", "Terminated"),
    STATUS_UNKNOWN: ("未知", "Unknown"),
}

# Certificate numbers are "OL" + year + 8 digits today; accept any short code of letters, digits and dashes.
CERTIFICATE_NUMBER_RE = re.compile(r"^[A-Z0-9-]{1,24}$")


CERTIFICATE_SERIAL = "licence"
# What the service issues: "OL" + the activation year + an 8-digit serial that runs on across years.
ISSUED_NUMBER_REGEX = r"^OL[0-9]{12}$"


def _format_certificate_number(year: int, serial: int) -> str:
    return f"OL{year:04d}{serial:08d}"


@transaction.atomic
def certificate_number_allocate(*, on: date) -> str:
    """The next certificate number, for a licence activating now (call it inside the activation's
    transaction, so a rollback gives the number back). The serial row is locked, so two activations never
    share a number and none is skipped. The first call starts after the highest serial already issued (the
    older numbers were the licence's id), so no existing certificate is renumbered or repeated."""
    serial, created = CertificateSerial.objects.select_for_update().get_or_create(name=CERTIFICATE_SERIAL)
    if created:
        highest = (Licence.objects.filter(certificate_number__regex=ISSUED_NUMBER_REGEX)
                   .annotate(serial=Substr("certificate_number", 7)).order_by("-serial")
                   .values_list("serial", flat=True).first())
        serial.last_serial = int(highest or 0)
    number = serial.last_serial + 1
    # A number set outside this service (an import, a fixture) is stepped over rather than repeated.
    while Licence.objects.filter(certificate_number=_format_certificate_number(on.year, number)).exists():
        number += 1
    serial.last_serial = number
    serial.save(update_fields=["last_serial"])
    return _format_certificate_number(on.year, number)


def normalize_certificate_number(raw: str | None) -> str:
    """Upper-case and strip the spaces people paste; '' if it cannot be a certificate number."""
    number = re.sub(r"\s+", "", raw or "").upper()
    return number if CERTIFICATE_NUMBER_RE.match(number) else ""


def certificate_status(licence: Licence | None, *, today: date | None = None) -> str:
    """active / expired / terminated / unknown. An active licence whose end date has passed is expired
    even before the state is swept; a cancelled one (e.g. after a full refund) is no longer in force."""
    if licence is None or not licence.certificate_number:
        return STATUS_UNKNOWN
    today = today or timezone.localdate()
    if licence.state == LicenceState.ACTIVE:
        if licence.ends_on and licence.ends_on < today:
            return STATUS_EXPIRED
        return STATUS_ACTIVE
    if licence.state == LicenceState.EXPIRED:
        return STATUS_EXPIRED
    if licence.state in (LicenceState.TERMINATED, LicenceState.CANCELLED):
        return STATUS_TERMINATED
    return STATUS_UNKNOWN  # never activated: no certificate to speak of


def licence_by_certificate_number(number: str) -> Licence | None:
    number = normalize_certificate_number(number)
    if not number:
        return None
    return (Licence.objects.select_related("patent", "licensor", "licensee", "terms_version")
            .filter(certificate_number=number).first())


_fonts_registered = False


def _register_fonts() -> None:
    global _fonts_registered
    if not _fonts_registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _fonts_registered = True


# A CJK character (or full-width punctuation) may break anywhere; Latin words break at spaces.
_TOKEN = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\u3000-\u303f"
                    r"\uf900-\ufaff\uff00-\uffef]+|\s+")


def _font_for(text: str) -> str:
    return LATIN_FONT if text.isascii() else CJK_FONT


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking that works for Chinese (no spaces) and Latin text alike."""
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        line = ""
        for token in _TOKEN.findall(paragraph):
            candidate = line + token
            if pdfmetrics.stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = "" if token.isspace() else token
            while line and pdfmetrics.stringWidth(line, font, size) > width:  # one over-long word
                cut = len(line)
                while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


@dataclass
class _Cursor:
    c: canvas.Canvas
    y: float
    left: float = 25 * mm
    label_width: float = 40 * mm
    right: float = A4[0] - 25 * mm

    @property
    def value_x(self) -> float:
        return self.left + self.label_width

    def row(self, label_zh: str, label_en: str, values: list[tuple], size: float = 10.5) -> None:
        """One labelled row: the Chinese label over the English one, then each value (text, font[, size])
        wrapped in the value column; font None picks Helvetica for ASCII text and STSong-Light otherwise."""
        c, top = self.c, self.y
        c.setFillGray(0)
        c.setFont(CJK_FONT, 10.5)
        c.drawString(self.left, top, label_zh)
        c.setFillGray(0.35)
        c.setFont(LATIN_FONT, 8)
        c.drawString(self.left, top - 11, label_en)
        c.setFillGray(0)
        y = top
        for text, font, *rest in values:
            font, value_size = font or _font_for(text), (rest[0] if rest else size)
            for line in wrap(text, font, value_size, self.right - self.value_x):
                c.setFont(font, value_size)
                c.drawString(self.value_x, y, line)
                y -= max(value_size, 8) * 1.45
        self.y = min(y, top - 22) - 9


def render_certificate_pdf(licence: Licence, *, verify_url: str, compress: bool = True) -> bytes:
    """The A4 certificate of an activated licence as PDF bytes. ``compress=False`` leaves the page stream
    readable (tests look for the certificate number in it)."""
    if not licence.certificate_number:
        raise ValueError("Only an activated licence has a certificate.")
    _register_fonts()
    number = licence.certificate_number
    patent, terms = licence.patent, licence.terms_version
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1 if compress else 0)
    c.setTitle(f"专利开放许可证书 / Open Patent Licence Certificate {number}")
    c.setAuthor("Open Patent Licensing Marketplace")
    c.setSubject(f"{patent.number} {licence.licensor.name_zh} -> {licence.notice_legal_name}")
    c.setCreator("licensing.certificates.services")
    c.setKeywords(number)

    width, height = A4
    # Border.
    c.setStrokeColorRGB(0.55, 0.1, 0.1)
    c.setLineWidth(2)
    c.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    c.setLineWidth(0.6)
    c.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)

    # Title.
    c.setFillColorRGB(0.55, 0.1, 0.1)
    c.setFont(CJK_FONT, 24)
    c.drawCentredString(width / 2, height - 42 * mm, "专利开放许可证书")
    c.setFont(LATIN_BOLD, 14)
    c.drawCentredString(width / 2, height - 51 * mm, "Open Patent Licence Certificate")
    c.setFillGray(0)

    status_zh, status_en = _STATUS_PDF[certificate_status(licence)]
    cur = _Cursor(c, height - 70 * mm)
    cur.row("证书编号", "Certificate No.", [(number, LATIN_BOLD)], size=13)
    cur.row("状态", "Status", [(status_zh, CJK_FONT), (status_en, LATIN_FONT)])
    licensor = [(licence.licensor.name_zh, None)]
    if licence.licensor.name_en:
        licensor.append((licence.licensor.name_en, None))
    if licence.licensor.uscc:
        licensor.append((f"USCC {licence.licensor.uscc}", MONO_FONT))
    cur.row("许可人", "Licensor", licensor)
    licensee = [(licence.notice_legal_name, None)]
    if licence.licensee.name_en and licence.licensee.name_en != licence.notice_legal_name:
        licensee.append((licence.licensee.name_en, None))
    if licence.notice_uscc:
        licensee.append((f"USCC {licence.notice_uscc}", MONO_FONT))
    cur.row("被许可人", "Licensee", licensee)
    cur.row("专利", "Patent", [(patent.number, LATIN_BOLD), (patent.title, None)])
    cur.row("许可条款", "Terms", [
        (f"{terms.name_zh}  v{terms.number}", None),
        *([(f"{terms.name_en}  version {terms.number}", None)] if terms.name_en else []),
        ("SHA-256:", LATIN_FONT),
        (licence.terms_sha256, MONO_FONT, 8.5),
    ])
    starts = licence.starts_on.isoformat() if licence.starts_on else "-"
    ends = licence.ends_on.isoformat() if licence.ends_on else "-"
    cur.row("许可期限", "Term", [(f"{starts} - {ends}", LATIN_FONT)])
    if licence.basis == LicenceBasis.STATUTORY:
        declaration = licence.declaration
        announced = (f"国家知识产权局公告号 {declaration.cnipa_number}，公告日 {declaration.announced_on:%Y-%m-%d}。"
                     if declaration.cnipa_number and declaration.announced_on else "")
        cur.row("许可性质", "Nature of licence", [
            ("普通许可（非独占），依《专利法》第五十条、第五十一条实施的开放许可。" + announced, CJK_FONT),
            ("Non-exclusive statutory open licence under Patent Law arts. 50-51"
             + (f"; CNIPA announcement {declaration.cnipa_number} of {declaration.announced_on:%Y-%m-%d}."
                if announced else "."), LATIN_FONT),
        ])
    else:
        # Taken while the declaration was only filed at CNIPA (Patent Law art. 50: it takes effect from CNIPA's
        # announcement): an ordinary contract, and the certificate must not claim more.
        cur.row("许可性质", "Nature of licence", [
            ("普通许可（非独占）合同，按平台标准条款订立。许可时开放许可声明已向国家知识产权局提交但尚未公告，"
             "不适用《专利法》第五十一条的规定，亦不享受年费减缴。", CJK_FONT),
            ("Non-exclusive ordinary licence contract on the platform's standard terms, taken before CNIPA announced "
             "the declaration: without the Patent Law art. 51 protections or the annual-fee reduction.", LATIN_FONT),
        ])
    if licence.activated_at:
        issued = timezone.localtime(licence.activated_at).date().isoformat()
        cur.row("签发日期", "Issued on", [(issued, LATIN_FONT)])

    # Verification.
    y = max(cur.y - 6 * mm, 40 * mm)
    c.setStrokeGray(0.7)
    c.setLineWidth(0.5)
    c.line(cur.left, y + 6 * mm, cur.right, y + 6 * mm)
    c.setFont(CJK_FONT, 10)
    c.drawString(cur.left, y, "验证本证书的真实性与有效性：")
    c.setFont(LATIN_FONT, 9)
    c.drawString(cur.left, y - 12, "Verify that this certificate is genuine and in force at:")
    c.setFont(MONO_FONT, 9)
    vy = y - 26
    for line in wrap(verify_url, MONO_FONT, 9, cur.right - cur.left):
        c.drawString(cur.left, vy, line)
        vy -= 12
    c.linkURL(verify_url, (cur.left, vy + 6, cur.right, y - 18), relative=0)

    c.setFont(CJK_FONT, 8)
    c.setFillGray(0.4)
    c.drawCentredString(width / 2, 20 * mm, "本证书依据被许可人的书面通知及许可使用费的支付出具，不载明任何金额。")
    c.setFont(LATIN_FONT, 7.5)
    c.drawCentredString(width / 2, 16 * mm, "Issued on the licensee's written notice and payment of the licence fee; "
                                            "it states no amounts.")
    c.showPage()
    c.save()
    return buf.getvalue()
