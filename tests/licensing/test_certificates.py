"""Licence certificates: the page and PDF for the parties only, and the public verification page, which
tells active, expired, terminated and unknown numbers apart and never shows a money figure."""

import base64
import re
import zlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from licensing.certificates import services as certificates
from licensing.models.licences import Licence, LicenceState
from marketplace.parties.models import MembershipRole
from tests.licensing.factories import DeclarationFactory, LicenceFactory, holder_member
from tests.parties.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

LUMP_SUM_FEN = 12_345_678  # ¥123,456.78: digits that cannot turn up by chance


def make_licence(*, state=LicenceState.ACTIVE, number="OL202600000042", starts_days_ago=10, **kwargs) -> Licence:
    """An activated licence written straight to the database (no Stripe): the declaration's frozen terms
    version, a licensee organisation and a certificate number."""
    declaration = DeclarationFactory(lump_sum_fen=LUMP_SUM_FEN)
    terms = declaration.terms_version
    starts = timezone.localdate() - timedelta(days=starts_days_ago)
    defaults = dict(
        declaration=declaration, state=state, notice_contact_name="李四", notice_field_of_use="电池管理系统",
        terms_text=f"{terms.name_zh}\n{terms.clauses_zh}", starts_on=starts, ends_on=starts + timedelta(days=3 * 365),
        activated_at=timezone.now(), certificate_number=number,
    )
    defaults.update(kwargs)
    return LicenceFactory(**defaults)


def member_of(organisation):
    return member(organisation, MembershipRole.MEMBER)


def pdf_text_streams(pdf: bytes) -> bytes:
    """Every stream of a reportlab PDF, decoded (ASCII85, then Flate) where it is compressed."""
    out = []
    for header, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            if b"ASCII85Decode" in header:
                body = base64.a85decode(body.strip().removesuffix(b"~>"))
            if b"FlateDecode" in header:
                body = zlib.decompress(body)
        except (ValueError, zlib.error):
            continue
        out.append(body)
    return b"\n".join(out)


def money_strings(amount_fen: int) -> list[str]:
    yuan, fen = divmod(amount_fen, 100)
    return [str(amount_fen), f"{yuan:,}.{fen:02d}", f"{yuan}.{fen:02d}", f"{yuan:,}", str(yuan)]


# The certificate page and PDF ------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["licensee", "licensor"])
def test_parties_see_the_certificate_page_and_pdf(client, party):
    licence = make_licence()
    client.force_login(member_of(licence.licensee if party == "licensee" else licence.licensor))

    page = client.get(reverse("licence_certificate", args=[licence.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert licence.certificate_number in html
    assert licence.patent.number in html and licence.terms_sha256 in html
    assert licence.licensor.name_zh in html and licence.notice_legal_name in html
    assert reverse("licence_certificate_pdf", args=[licence.pk]) in html
    assert reverse("certificate_verify_number", args=[licence.certificate_number]) in html

    pdf = client.get(reverse("licence_certificate_pdf", args=[licence.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"({licence.certificate_number})".encode() in pdf_text_streams(pdf.content)


def test_the_pdf_prints_the_number_hash_and_verification_url_and_is_deterministic():
    licence = make_licence()
    url = "https://market.example.cn/en/verify/OL202600000042/"
    pdf = certificates.render_certificate_pdf(licence, verify_url=url, compress=False)
    assert pdf.startswith(b"%PDF")
    assert b"(OL202600000042) Tj" in pdf
    assert f"({licence.terms_sha256}) Tj".encode() in pdf
    assert f"({licence.patent.number}) Tj".encode() in pdf
    assert url.encode() in pdf
    assert b"/STSong-Light" in pdf  # the Chinese labels use the built-in CID font
    assert certificates.render_certificate_pdf(licence, verify_url=url) == \
        certificates.render_certificate_pdf(licence, verify_url=url)
    for text in money_strings(LUMP_SUM_FEN)[:3]:
        assert text.encode() not in pdf


def test_another_organisations_member_gets_404(client):
    licence = make_licence()
    client.force_login(member_of(OrganisationFactory()))
    assert client.get(reverse("licence_certificate", args=[licence.pk])).status_code == 404
    assert client.get(reverse("licence_certificate_pdf", args=[licence.pk])).status_code == 404


def test_anonymous_is_sent_to_log_in_for_the_certificate(client):
    licence = make_licence()
    response = client.get(reverse("licence_certificate_pdf", args=[licence.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_licence_without_a_certificate_number_has_no_certificate(client):
    licence = make_licence(state=LicenceState.PAYMENT_PENDING, number=None, activated_at=None, starts_on=None,
                           ends_on=None)
    client.force_login(holder_member(licence.licensor))
    assert client.get(reverse("licence_certificate", args=[licence.pk])).status_code == 404
    assert client.get(reverse("licence_certificate_pdf", args=[licence.pk])).status_code == 404


# Public verification ---------------------------------------------------------------------------------


def test_anonymous_verification_of_an_active_certificate(client):
    licence = make_licence()
    response = client.get(reverse("certificate_verify_number", args=[licence.certificate_number]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "status-active" in html and "Valid" in html
    for shown in (licence.certificate_number, licence.licensor.name_zh, licence.notice_legal_name,
                  licence.patent.number, licence.patent.title, licence.terms_sha256,
                  licence.starts_on.isoformat(), licence.ends_on.isoformat()):
        assert shown in html
    assert f"version {licence.terms_version.number}" in html


def test_the_verification_form_finds_the_number_however_it_is_typed(client):
    licence = make_licence()
    response = client.get(reverse("certificate_verify"), {"number": " ol202600000042 "}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith(reverse("certificate_verify_number", args=["OL202600000042"]))
    assert "status-active" in response.content.decode()
    assert licence.patent.number in response.content.decode()


def test_the_empty_verification_form(client):
    response = client.get(reverse("certificate_verify"))
    assert response.status_code == 200
    assert 'name="number"' in response.content.decode()
    assert "verify-result" not in response.content.decode()


@pytest.mark.parametrize(("kwargs", "status", "word"), [
    ({"state": LicenceState.EXPIRED}, "expired", "Expired"),
    ({"starts_days_ago": 4 * 365}, "expired", "Expired"),  # still marked active but past its end date
    ({"state": LicenceState.TERMINATED}, "terminated", "Terminated"),
])
def test_verification_shows_expired_and_terminated(client, kwargs, status, word):
    licence = make_licence(**kwargs)
    response = client.get(reverse("certificate_verify_number", args=[licence.certificate_number]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"status-{status}" in html and word in html
    assert "status-active" not in html
    assert licence.patent.number in html


@pytest.mark.parametrize("number", ["OL209900000001", "not a number/../x"])
def test_an_unknown_number_is_not_found(client, number):
    make_licence()
    response = client.get(reverse("certificate_verify"), {"number": number}, follow=True)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html and "status-unknown" in html
    assert "OL202600000042" not in html


def test_verification_never_shows_money(client):
    licence = make_licence(entry_fee_fen=7_654_321, annual_minimum_fen=3_141_592)
    response = client.get(reverse("certificate_verify_number", args=[licence.certificate_number]))
    html = response.content.decode()
    assert response.status_code == 200
    for amount in (LUMP_SUM_FEN, 7_654_321, 3_141_592):
        for text in money_strings(amount):
            assert text not in html, text
    assert "¥" not in html and "元" not in html
