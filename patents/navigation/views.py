"""Patent navigation pages and their exports. Thin: parse the request, call the selector, render."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from marketplace.parties.models import Organisation
from patents.navigation import selectors as navigation
from patents.navigation.exports import LandscapeExporter


def _visible_holder(request, slug: str) -> Organisation:
    holder = get_object_or_404(Organisation, slug=slug)
    if not navigation.user_can_view_holder_landscape(user=request.user, holder=holder):
        raise PermissionDenied
    return holder


def _page(request, *, holder: Organisation | None):
    today = timezone.localdate()
    patents = navigation.holder_patents(holder=holder) if holder else navigation.platform_patents()
    landscape = navigation.landscape(patents_qs=patents, params=request.GET, today=today, per_holder=holder is not None)
    return render(request, "patents/navigation.html", {"landscape": landscape, "holder": holder, "today": today,
                                                       **_field_chart(landscape)})


def _field_chart(landscape: navigation.Landscape) -> dict:
    """The technology fields drawn as bars (charts.js); the table of the same breakdown stays beside it."""
    buckets = landscape.by_field.buckets
    chart = {"categories": [b.label for b in buckets], "horizontal": True,
             "locale": "EN" if (get_language() or "").startswith("en") else "ZH",
             "series": [{"name": _("Patents"), "type": "bar", "unit": "count", "values": [b.count for b in buckets]}]}
    top = buckets[0] if buckets else None
    summary = _("Patents by technology field: %(n)s fields, the largest %(field)s with %(count)s of %(total)s "
                "patents.") % {"n": len(buckets), "field": top.label, "count": top.count,
                               "total": landscape.total} if top else ""
    return {"field_chart": chart, "field_chart_summary": summary}


def _export(request, *, holder: Organisation | None, fmt: str):
    if fmt not in LandscapeExporter.formats:
        raise Http404
    today = timezone.localdate()
    patents = navigation.holder_patents(holder=holder) if holder else navigation.platform_patents()
    landscape = navigation.landscape(patents_qs=patents, params=request.GET, today=today, per_holder=holder is not None)
    if not landscape.is_valid:
        # Exporting everything when a filter was mistyped would look like the filtered view; refuse instead.
        return HttpResponseBadRequest(_("Invalid filter: %(errors)s") % {"errors": landscape.filterset.errors.as_text()},
                                      content_type="text/plain; charset=utf-8")
    export = LandscapeExporter(landscape).render(fmt)
    response = HttpResponse(export.content, content_type=export.content_type)
    filename = f"landscape-{holder.slug if holder else 'platform'}-{today.isoformat()}.{export.extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def navigation_platform(request):
    return _page(request, holder=None)


def navigation_holder(request, slug):
    return _page(request, holder=_visible_holder(request, slug))


def navigation_platform_export(request, fmt):
    return _export(request, holder=None, fmt=fmt)


def navigation_holder_export(request, slug, fmt):
    return _export(request, holder=_visible_holder(request, slug), fmt=fmt)
