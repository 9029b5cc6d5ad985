"""The IP office's pool builder: the list of pools, a new pool's criteria, the preview with its summary,
freezing, and the tape downloads (written in the background, with a status page while they run). Only the
IP office (and superusers) may see these pages; everyone else gets 404 so they do not show they exist."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from licensing.models import FeeForm
from marketplace.models.pools import Pool, PoolExport
from marketplace.office import charts
from marketplace.pools import services as pools
from marketplace.pools import tasks as pool_tasks
from marketplace.pools.exports import PoolTapeExporter, tape_filename
from patents.inventory import progress
from patents.inventory.fields import FIELDS
from patents.models import Grade

PREVIEW_ROWS = 50


def _require_ip_office(user) -> None:
    if not pools.user_may_build_pools(user=user):
        raise Http404


def _field_choices():
    english = (get_language() or "").startswith("en")
    return [(f.number, f"{f.number}. {f.name_en if english else f.name_zh}") for f in FIELDS]


class PoolCriteriaForm(forms.ModelForm):
    grades = forms.MultipleChoiceField(label=_("Grades"), choices=Grade.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: any grade."))
    technology_fields = forms.TypedMultipleChoiceField(
        label=_("Technology fields"), coerce=int, required=False, choices=_field_choices,
        help_text=_("None chosen: any field."), widget=forms.SelectMultiple(attrs={"size": 8}))

    class Meta:
        model = Pool
        fields = ["name", "cut_off_date", "grades", "technology_fields", "min_remaining_life_years",
                  "require_payment_history", "max_licensee_share", "max_holder_share", "discount_rate"]
        widgets = {"cut_off_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


def _save(request, form, pool=None):
    """Call the service with the form's data; its ValidationErrors land on the form's fields."""
    if not form.is_valid():
        return None
    try:
        if pool is None:
            return pools.pool_create(by=request.user, **form.cleaned_data)
        return pools.pool_update_criteria(pool=pool, by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None


@login_required
@require_GET
def pool_list(request):
    _require_ip_office(request.user)
    return render(request, "marketplace/pools/list.html", {"pools": pools.pools_list()})


@login_required
@require_http_methods(["GET", "POST"])
def pool_new(request):
    _require_ip_office(request.user)
    form = PoolCriteriaForm(request.POST or None, initial={"cut_off_date": timezone.localdate(), "discount_rate": 8,
                                                           "require_payment_history": True})
    if request.method == "POST":
        pool = _save(request, form)
        if pool is not None:
            return redirect("pool_detail", pool.pk)
    return render(request, "marketplace/pools/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def pool_detail(request, pk):
    _require_ip_office(request.user)
    pool = get_object_or_404(Pool, pk=pk)
    form = None
    if not pool.is_frozen:
        form = PoolCriteriaForm(request.POST or None, instance=pool)
        if request.method == "POST" and _save(request, form, pool) is not None:
            return redirect("pool_detail", pool.pk)
    elif request.method == "POST":
        raise Http404
    tape = pools.pool_preview(pool=pool)
    reasons = [(pools.EXCLUSION_REASONS[key], count) for key, count in tape.excluded_counts.items()]
    exports = {e.fmt: e for e in pool.exports.all()}
    summary = tape.summary()
    return render(request, "marketplace/pools/detail.html", {
        "pool": pool, "form": form, "tape": tape, "summary": summary, **_concentration_chart(summary),
        "rows": [{**row, "fee_form": FeeForm(row["fee_form"]).label} for row in tape.tape[:PREVIEW_ROWS]],
        "criteria": pools.criteria_labelled(tape.criteria),
        "more_rows": max(0, len(tape.tape) - PREVIEW_ROWS), "reasons": reasons,
        "formats": [(fmt, PoolTapeExporter.labels[fmt], exports.get(fmt)) for fmt in PoolTapeExporter.formats],
    }, status=400 if form is not None and form.errors else 200)


def _concentration_chart(summary: pools.Summary) -> dict:
    """The top exposures' scheduled receivables (the table of the top 10 beside it has the same figures)."""
    top = summary.top
    chart = charts.chart([f"{t['rank']}. {t['exposure_id']}" for t in top], charts.series(
        gettext("Scheduled receivables"), [charts.yuan(t["exposure_fen"]) for t in top], unit="money"),
        horizontal=True)
    share = sum((Decimal(str(t["share_percent"])) for t in top), Decimal(0))
    return {"concentration_chart": chart, "concentration_summary": gettext(
        "Scheduled receivables of the %(n)s largest exposures, %(share)s%% of the pool; HHI by licensee %(hhi)s.") % {
        "n": len(top), "share": share, "hhi": summary.hhi.get("licensee")}}


@login_required
@require_POST
def pool_freeze(request, pk):
    _require_ip_office(request.user)
    pool = get_object_or_404(Pool, pk=pk)
    try:
        pools.pool_freeze(pool=pool, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("pool_detail", pool.pk)


@login_required
@require_POST
def pool_export(request, pk, fmt):
    _require_ip_office(request.user)
    pool = get_object_or_404(Pool, pk=pk)
    if fmt not in PoolTapeExporter.formats:
        raise Http404
    try:
        export, start = pools.pool_export_request(pool=pool, fmt=fmt, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("pool_detail", pool.pk)
    if start:
        # robust: with the immediate backend a failed export is recorded on its row and shown on the status page.
        transaction.on_commit(lambda: pool_tasks.write_pool_export.enqueue(export.pk), robust=True)
    return redirect("pool_export_status", export.pk)


@login_required
@require_GET
def pool_export_status(request, pk):
    _require_ip_office(request.user)
    export = get_object_or_404(PoolExport.objects.select_related("pool"), pk=pk)
    live = progress.read("pool_export", export.pk) or {}
    percent = int(100 * live["done"] / live["total"]) if live.get("total") else (100 if export.state == "done" else 0)
    return render(request, "marketplace/pools/export.html", {
        "export": export, "pool": export.pool, "percent": percent, "live": live,
        "format_label": PoolTapeExporter.labels.get(export.fmt, export.fmt),
        "finished": export.state in (PoolExport.State.DONE, PoolExport.State.FAILED)})


@login_required
@require_GET
def pool_export_download(request, pk):
    _require_ip_office(request.user)
    export = get_object_or_404(PoolExport.objects.select_related("pool"), pk=pk, state=PoolExport.State.DONE)
    name = tape_filename(export.pool.code, export.pool.content_sha256, export.fmt)
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name,
                        content_type=PoolTapeExporter.content_types[export.fmt])
