"""The audit log page and its exports. The IP office (and superusers) read every entry; members of a patent
holder read the entries about its own records; anyone else gets 403 (the navigation shows the link only to those
who may follow it)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from marketplace.audit.exports import AuditLogExporter
from marketplace.audit.selectors import audit_reader, audit_rows, audit_search

PAGE_SIZE = 50


@login_required
@require_GET
def audit_log(request):
    reader = audit_reader(user=request.user)
    if reader is None:
        raise PermissionDenied
    search = audit_search(reader=reader, params=request.GET)
    fmt = request.GET.get("export")
    if search.is_valid() and fmt in AuditLogExporter.formats:
        exported = AuditLogExporter(search.qs).render(fmt)
        response = HttpResponse(exported.content, content_type=exported.content_type)
        response["Content-Disposition"] = (f'attachment; filename="audit-log-{timezone.localdate().isoformat()}.'
                                           f'{exported.extension}"')
        return response
    params = request.GET.copy()
    for key in ("export", "page"):
        params.pop(key, None)
    page = Paginator(search.qs if search.is_valid() else search.queryset.none(), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "marketplace/audit/log.html", {
        "search": search, "page": page, "rows": audit_rows(page.object_list), "everything": reader.everything,
        "querystring": params.urlencode()}, status=200 if search.is_valid() else 400)
