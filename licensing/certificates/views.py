"""Licence certificates: the certificate page and PDF (for the parties, the IP office and superusers, as
the licence page) and the public verification page, which never shows a money figure."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from licensing.certificates import services as certificates
from licensing.licences.selectors import licence_visible_to
from licensing.models.licences import Licence


def _certified_licence(request, pk) -> Licence:
    licence = licence_visible_to(user=request.user, licence_id=pk)  # 404 for anyone who may not see the licence
    if not licence.certificate_number:
        raise Http404  # not activated yet: no certificate
    return licence


def _verify_url(request, licence: Licence) -> str:
    return request.build_absolute_uri(reverse("certificate_verify_number", args=[licence.certificate_number]))


@login_required
@require_GET
def licence_certificate(request, pk):
    licence = _certified_licence(request, pk)
    status = certificates.certificate_status(licence)
    return render(request, "licensing/certificate.html", {
        "licence": licence, "terms": licence.terms_version, "status": status,
        "status_label": certificates.STATUS_LABELS[status], "verify_url": _verify_url(request, licence),
    })


@login_required
@require_GET
def licence_certificate_pdf(request, pk):
    licence = _certified_licence(request, pk)
    pdf = certificates.render_certificate_pdf(licence, verify_url=_verify_url(request, licence))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{licence.certificate_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def certificate_verify(request):
    """Public: a form asking for a certificate number; with ?number= it goes to that number's page."""
    raw = request.GET.get("number", "")
    if raw.strip():
        number = certificates.normalize_certificate_number(raw)
        if number:
            return redirect("certificate_verify_number", number=number)
        return _verify_result(request, number=raw.strip()[:40], licence=None)
    return render(request, "licensing/certificate_verify.html", {"number": "", "searched": False})


@require_GET
def certificate_verify_number(request, number):
    """Public: whether a certificate number is valid, with the parties, patent, terms and term — no money."""
    licence = certificates.licence_by_certificate_number(number)
    return _verify_result(request, number=number, licence=licence)


def _verify_result(request, *, number: str, licence: Licence | None):
    status = certificates.certificate_status(licence)
    if status == certificates.STATUS_UNKNOWN:
        licence = None
    # Only what the certificate states goes to the template: never the licence row with its fee fields.
    context = {"number": number, "searched": True, "status": status,
               "status_label": certificates.STATUS_LABELS[status]}
    if licence is not None:
        context["certificate"] = {
            "number": licence.certificate_number,
            "licensor_zh": licence.licensor.name_zh, "licensor_en": licence.licensor.name_en,
            "licensee": licence.notice_legal_name, "licensee_en": licence.licensee.name_en,
            "patent_number": licence.patent.number, "patent_title": licence.patent.title,
            "terms_name": licence.terms_version.name_zh, "terms_name_en": licence.terms_version.name_en,
            "terms_version": licence.terms_version.number, "terms_sha256": licence.terms_sha256,
            "starts_on": licence.starts_on, "ends_on": licence.ends_on,
        }
    response = render(request, "licensing/certificate_verify.html", context)
    if licence is None:
        response.status_code = 404
    response["Cache-Control"] = "no-cache"
    return response
