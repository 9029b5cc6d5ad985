"""The IP office's deal-rate dashboard (marketplace.office.selectors.dashboard: every indicator, the breakdown by
technology field and the month-by-month trend, as the page computes them) against one SQL aggregate of the
headline figure (declarations published in the last twelve months and how many were licensed within N days)."""

from __future__ import annotations

from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from bench.common import Figure, median, ratio, timed


def aggregate_sql() -> tuple[str, list]:
    """Quick-licence deal rate over the dashboard's default period (the last twelve calendar months) in one
    statement."""
    from marketplace.office.selectors import PeriodForm
    from marketplace.office.statistics import Period, quick_licence_days

    days = quick_licence_days()
    form = PeriodForm({})
    form.is_valid()
    period = Period.months(form.cleaned_data["first"], form.cleaned_data["last"])
    start, end = period.start, min(period.end, timezone.now())
    if connection.vendor == "postgresql":
        quick = "f.first_at <= d.published_at + make_interval(days => %s)"
    else:
        quick = "julianday(f.first_at) - julianday(d.published_at) <= %s"
    sql = ("SELECT COUNT(*), SUM(CASE WHEN f.first_at IS NOT NULL AND " + quick + " THEN 1 ELSE 0 END) "  # noqa: S608
           "FROM licensing_declaration d LEFT JOIN (SELECT declaration_id, MIN(activated_at) AS first_at "
           "FROM licensing_licence WHERE activated_at IS NOT NULL GROUP BY declaration_id) f "
           "ON f.declaration_id = d.id WHERE d.published_at >= %s AND d.published_at < %s")
    return sql, [days, start, end]


def run_aggregate():
    sql, params = aggregate_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def benchmark(*, repeats: int = 5) -> Figure:
    from licensing.models.licences import Licence
    from marketplace.office.selectors import dashboard

    params = QueryDict("")
    dashboard(params=params)  # warm up
    run_aggregate()
    real, base = [], []
    for _ in range(repeats):
        seconds, board = timed(lambda: dashboard(params=params))
        real.append(seconds * 1000)
        seconds, row = timed(run_aggregate)
        base.append(seconds * 1000)
    value, baseline = median(real), median(base)
    r = ratio(value, baseline)
    from bench.profiling import profile

    return Figure(
        name="deal-rate dashboard (all indicators, breakdown, trend)", unit="ms", value=round(value, 1),
        baseline=round(baseline, 1), baseline_label="one SQL aggregate (quick-licence deal rate, 12 months)",
        ratio=round(r, 1) if r is not None else None, goal="<= 300 ms", met=value <= 300, samples=repeats,
        details={"licences": Licence.objects.count(), "published_12m": row[0], "quick_12m": row[1],
                 "deal_rate_page": board.figures.get("quick_licence_deal_rate") if board.figures else None,
                 "profile": profile(lambda: dashboard(params=params)) if value > 300 else None})
