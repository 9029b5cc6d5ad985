"""The IP office's deal-rate dashboard (marketplace.office.selectors.dashboard: every indicator, the breakdown and
the month-by-month trend, as the page computes them) over its filter sets, against one SQL aggregate of the
headline figure (declarations published in the last twelve months and how many were licensed within N days).
The figure is the p95 of boards computed with an empty cache; the note gives the p95 of the same boards served
from the per-filter-set cache, which is what a second visitor gets until licences, declarations or payments
change."""

from __future__ import annotations

from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from bench.common import Figure, median, percentile, ratio, timed


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
        quick = "f.first_at <= d.filed_at + make_interval(days => %s)"
    else:
        quick = "julianday(f.first_at) - julianday(d.filed_at) <= %s"
    sql = ("SELECT COUNT(*), SUM(CASE WHEN f.first_at IS NOT NULL AND " + quick + " THEN 1 ELSE 0 END) "  # noqa: S608
           "FROM licensing_declaration d LEFT JOIN (SELECT declaration_id, MIN(activated_at) AS first_at "
           "FROM licensing_licence WHERE activated_at IS NOT NULL GROUP BY declaration_id) f "
           "ON f.declaration_id = d.id WHERE d.filed_at >= %s AND d.filed_at < %s")
    return sql, [days, start, end]


def run_aggregate():
    sql, params = aggregate_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def filter_sets() -> list[dict]:
    """The filter combinations the p95 is taken over: the default board, a breakdown by every other dimension,
    each filter alone (with a value the data has), two combined, a shorter and an older period, another N."""
    from django.db.models import Count

    from licensing.models import Declaration

    published = Declaration.objects.filter(filed_at__isnull=False)
    top_field = (published.values("patent__technology_field").annotate(n=Count("pk")).order_by("-n")
                 .values_list("patent__technology_field", flat=True).first())
    top_region = (published.values("holder__province").annotate(n=Count("pk")).order_by("-n")
                  .values_list("holder__province", flat=True).first())
    today = timezone.localdate()
    three_ago = (today.replace(day=1) - relativedelta(months=2)).strftime("%Y-%m")
    year_ago = today.replace(day=1) - relativedelta(months=12)
    return [
        {}, {"by": "sector"}, {"by": "holder_kind"}, {"by": "fee_form"}, {"by": "grade"}, {"by": "region"},
        {"technology_field": str(top_field or 1)}, {"sector": "electrical_engineering"},
        {"holder_kind": "university"}, {"fee_form": "royalty"}, {"grade": "B"}, {"region": top_region or "北京市"},
        {"fee_form": "royalty", "grade": "A", "by": "region"}, {"sector": "chemistry", "holder_kind": "enterprise"},
        {"first": three_ago}, {"first": (year_ago - relativedelta(months=5)).strftime("%Y-%m"),
                               "last": year_ago.strftime("%Y-%m")},
        {"days": "120"}, {"days": "120", "by": "grade"},
    ]


def _query(params: dict) -> QueryDict:
    query = QueryDict("", mutable=True)
    query.update(params)
    return query


def _figure(*, computed: list, served: list, base: list, board, row, note: str, sets: int) -> Figure:
    from licensing.models.licences import Licence

    value = percentile(computed, 95) if computed else None
    baseline = median(base) if base else None
    r = ratio(value, baseline)
    served_p95 = round(percentile(served, 95), 1) if served else None
    return Figure(
        name="deal-rate dashboard, computed (cache empty): p95 over its filter sets", unit="ms",
        value=round(value, 1) if value is not None else None, baseline=round(baseline, 1) if baseline else None,
        baseline_label="one SQL aggregate (quick-licence deal rate, 12 months)",
        ratio=round(r, 1) if r is not None else None, goal="p95 <= 300 ms",
        met=value <= 300 if value is not None else None, samples=len(computed),
        note="; ".join(filter(None, [note, f"served from the per-filter-set cache: p95 {served_p95} ms over "
                                           f"{len(served)}" if served else ""])),
        details={"licences": Licence.objects.count(), "published_12m": row[0] if row else None,
                 "quick_12m": row[1] if row else None,
                 "deal_rate_page": board.figures.get("quick_licence_deal_rate") if board and board.figures else None,
                 "filter_sets": sets, "computed_p50_ms": round(median(computed), 1) if computed else None,
                 "computed_max_ms": round(max(computed), 1) if computed else None,
                 "served_p95_ms": served_p95, "served_samples": len(served),
                 "first_call_ms": None, "profile": None})


def benchmark(*, repeats: int = 5, budget_seconds: float | None = None,
              emit: Callable[[Figure], None] | None = None) -> Figure:
    """The dashboard over every filter set of `filter_sets()`, `repeats` passes: each pass first renews the
    data version (marketplace.office.cache), so every set is computed (timed: the figure), then asks for each
    set again (served from the cache: the note). Before the passes, the monthly job's storing of the closed
    months' snapshots (details closed_months_job_ms), then a first call (details first_call_ms). The baseline is the one-statement
    aggregate, timed once per pass. Within `budget_seconds`: fewer sets when they do not fit (the note says how
    many), the profile only when one more call fits. `emit` receives the figure after every pass."""
    import time

    from marketplace.office.cache import statistics_changed
    from marketplace.office.selectors import dashboard
    from marketplace.office.services import closed_months_store

    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else float("inf")
    # The monthly job's part (marketplace.office.tasks): the default board's closed months stored before any
    # visitor, so that the first call below is a board like the others.
    job_s, _stored = timed(closed_months_store)
    first_s, board = timed(lambda: dashboard(params=QueryDict("")))
    row = run_aggregate()
    sets = filter_sets()
    computed, served, base = [], [], []
    note = ""
    for i in range(repeats):
        statistics_changed()
        seconds, row = timed(run_aggregate)
        base.append(seconds * 1000)
        for params in sets:
            expected = max(computed) / 1000 if computed else first_s
            if time.monotonic() + expected > deadline:
                note = (f"{len(computed)} of {repeats * len(sets)} computed boards within the budget "
                        f"({budget_seconds:.0f} s, BENCH_DASHBOARD_BUDGET)")
                break
            seconds, result = timed(lambda params=params: dashboard(params=_query(params)))
            computed.append(seconds * 1000)
            board = result if not params else board
            served.append(timed(lambda params=params: dashboard(params=_query(params)))[0] * 1000)
        if note:
            break
        if emit is not None and i < repeats - 1:
            emit(_figure(computed=computed, served=served, base=base, board=board, row=row, sets=len(sets),
                         note=f"provisional: {i + 1} of {repeats} passes"))
    if not computed:  # not even one set fits: the first call is what was measured
        computed, note = [first_s * 1000], f"only the first call within the budget ({budget_seconds:.0f} s)"
    figure = _figure(computed=computed, served=served, base=base, board=board, row=row, note=note, sets=len(sets))
    figure.details["first_call_ms"] = round(first_s * 1000, 1)
    figure.details["closed_months_job_ms"] = round(job_s * 1000, 1)
    if figure.value > 300 and time.monotonic() + figure.value / 1000 < deadline:
        if emit is not None:
            emit(figure)
        from bench.profiling import profile

        statistics_changed()
        figure.details["profile"] = profile(lambda: dashboard(params=QueryDict("")))
    return figure
