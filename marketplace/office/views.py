"""The IP office's pages: the deal-rate dashboard, its drill-down list and their exports. Only the IP
office (and superusers) may see them; everyone else gets 404 so the pages do not show they exist."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from marketplace.office import selectors as office
from marketplace.office.exports import STATISTICS_TABLES, DeclarationsExporter, StatisticsExporter
from marketplace.office.statistics import LICENSEE_DIMENSIONS, home_region
from marketplace.parties.selectors import user_is_ip_office
from patents.exports import Exporter


def _require_ip_office(user) -> None:
    if not (user.is_superuser or user_is_ip_office(user=user)):
        raise Http404


def _export(exporter: Exporter, fmt: str, name: str) -> HttpResponse:
    exported = exporter.render(fmt)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{exported.extension}"'
    return response


@login_required
@require_GET
def statistics_dashboard(request):
    _require_ip_office(request.user)
    board = office.dashboard(params=request.GET)
    fmt, table = request.GET.get("export"), request.GET.get("table", "figures")
    if board.valid and fmt in StatisticsExporter.formats:
        if table not in STATISTICS_TABLES:
            raise Http404
        return _export(StatisticsExporter(board, table), fmt,
                       f"open-licensing-{table}" if fmt == "csv" else "open-licensing-statistics")
    params = request.GET.copy()
    for key in ("export", "table"):
        params.pop(key, None)
    peak = max([r.figures.get("licences_concluded") or 0 for r in board.trend] + [1])
    return render(request, "marketplace/office/statistics.html", {
        "board": board, "labels": office.INDICATOR_LABELS, "shares": office.SHARES, "querystring": params.urlencode(),
        "breakdown_labels": {k: v for k, v in office.INDICATOR_LABELS.items() if k not in office.MARKET_WIDE},
        "dimension_label": office.DIMENSION_LABELS.get(board.by), "peak": peak,
        "licensee_dimension": board.by in LICENSEE_DIMENSIONS, "league_labels": office.LEAGUE_LABELS,
        "funnel_labels": office.FUNNEL_LABELS, "page_rows": office.PAGE_ROWS, "home_region": home_region(),
        "flows": [{**row, "locality_label": office.locality_label(row["licensee_locality"])}
                  for row in board.flows[:office.PAGE_ROWS]],
        "english": (get_language() or "").startswith("en"),
        "status": 200}, status=200 if board.valid else 400)


@login_required
@require_GET
def statistics_declarations(request):
    _require_ip_office(request.user)
    board, rows = office.drill_down(params=request.GET)
    fmt = request.GET.get("export")
    if board.valid and fmt in DeclarationsExporter.formats:
        return _export(DeclarationsExporter(rows), fmt, "open-licensing-declarations")
    params = request.GET.copy()
    params.pop("export", None)
    return render(request, "marketplace/office/declarations.html", {
        "board": board, "rows": rows, "querystring": params.urlencode()}, status=200 if board.valid else 400)
