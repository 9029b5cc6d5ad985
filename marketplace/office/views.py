"""The IP office's pages: the deal-rate dashboard, its drill-down list and their exports. Only the IP
office (and superusers) may see them; everyone else gets 404 so the pages do not show they exist."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from marketplace.office import charts
from marketplace.office import selectors as office
from marketplace.office.exports import STATISTICS_TABLES, DeclarationsExporter, StatisticsExporter
from marketplace.office.statistics import LICENSEE_DIMENSIONS, home_region
from marketplace.parties.selectors import user_is_ip_office
from marketplace.replica.router import primary_reads, reads_from_replica
from patents.exports import Exporter


def _require_ip_office(user) -> None:
    with primary_reads():  # who may see the board is read where it is current, not on a lagging replica
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
@reads_from_replica
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
    return render(request, "marketplace/office/statistics.html", {
        "board": board, "labels": office.INDICATOR_LABELS, "shares": office.SHARES, "querystring": params.urlencode(),
        "breakdown_labels": {k: v for k, v in office.INDICATOR_LABELS.items() if k not in office.MARKET_WIDE},
        "dimension_label": office.DIMENSION_LABELS.get(board.by), **(_charts(board) if board.valid else {}),
        "licensee_dimension": board.by in LICENSEE_DIMENSIONS, "league_labels": office.LEAGUE_LABELS,
        "funnel_labels": office.FUNNEL_LABELS, "page_rows": office.PAGE_ROWS, "home_region": home_region(),
        "flows": [{**row, "locality_label": office.locality_label(row["licensee_locality"])}
                  for row in board.flows[:office.PAGE_ROWS]],
        "english": (get_language() or "").startswith("en"),
        "status": 200}, status=200 if board.valid else 400)


def _charts(board: office.Dashboard) -> dict:
    """The dashboard's charts (each beside its table, which holds the same figures) and their summaries."""
    months = [row.month for row in board.trend]
    concluded = [row.figures.get("licences_concluded") or 0 for row in board.trend]
    trend = charts.chart(
        months, charts.series(office.INDICATOR_LABELS["licences_concluded"], concluded),
        charts.series(office.INDICATOR_LABELS["quick_licence_deal_rate"],
                      [charts.percent(row.figures.get("quick_licence_deal_rate")) for row in board.trend],
                      unit="percent", kind="line"))
    fees = charts.chart(months, charts.series(office.INDICATOR_LABELS["fee_volume_fen"], [
        charts.yuan(row.figures.get("fee_volume_fen") or 0) for row in board.trend], unit="money"))
    rows = board.breakdown
    breakdown = charts.chart(
        [row["label"] for row in rows],
        charts.series(office.INDICATOR_LABELS["declarations_published"],
                      [row.get("declarations_published") or 0 for row in rows]),
        charts.series(office.INDICATOR_LABELS["licences_concluded"], [row.get("licences_concluded") or 0 for row in rows]),
        horizontal=True)
    busiest = max(range(len(months)), key=lambda i: concluded[i], default=None)
    return {
        "trend_chart": trend, "fees_chart": fees, "breakdown_chart": breakdown,
        "trend_summary": _("Licences concluded per month from %(first)s to %(last)s: %(total)s in all, at most "
                           "%(peak)s in %(month)s; the line is the quick-licence deal rate.") % {
            "first": months[0], "last": months[-1], "total": sum(concluded),
            "peak": concluded[busiest], "month": months[busiest]} if months else "",
        "fees_summary": _("Fee volume per month from %(first)s to %(last)s.") % {
            "first": months[0], "last": months[-1]} if months else "",
        "breakdown_summary": _("Declarations filed and licences concluded by %(dimension)s, %(n)s rows.") % {
            "dimension": office.DIMENSION_LABELS.get(board.by), "n": len(rows)},
    }


@login_required
@require_GET
@reads_from_replica
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
