"""Holder portfolio and inventory import pages. Thin: parse, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.parties.models import Organisation
from patents.inventory import progress, selectors, services, tasks
from patents.inventory.exports import PortfolioExporter
from patents.inventory.forms import (
    BulkTagForm,
    EnglishTextForm,
    GradeOverrideForm,
    InventoryUploadForm,
    StandingForm,
    TagsForm,
)
from patents.models import InventoryBatch, Patent


def _holder_for(request, *, manage: bool) -> Organisation:
    """The holder the page is about: ?holder=slug, else the user's first holder organisation."""
    slug = request.GET.get("holder") or request.POST.get("holder")
    if slug and "\x00" in slug:  # no slug holds one, and PostgreSQL refuses the query (a 500)
        raise Http404
    if slug:
        holder = get_object_or_404(Organisation, slug=slug, is_holder=True)
    else:
        holder = selectors.holder_organisations_for(user=request.user).first()
        if holder is None:
            raise PermissionDenied(_("You are not a member of a patent-holder organisation."))
    allowed = selectors.user_can_manage_inventory if manage else selectors.user_can_view_inventory
    if not allowed(user=request.user, holder=holder):
        raise PermissionDenied
    return holder


def _patent_for(request, pk: int, *, manage: bool) -> Patent:
    patent = get_object_or_404(Patent.objects.select_related("holder"), pk=pk)
    allowed = selectors.user_can_manage_inventory if manage else selectors.user_can_view_inventory
    if not allowed(user=request.user, holder=patent.holder):
        # Another holder's patent is not even acknowledged to exist.
        raise Http404
    return patent


@login_required
def portfolio(request):
    holder = _holder_for(request, manage=False)
    can_manage = selectors.user_can_manage_inventory(user=request.user, holder=holder)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = BulkTagForm(request.POST)
        ids = [int(v) for v in request.POST.getlist("selected") if v.isdigit()]
        if form.is_valid() and ids:
            count = services.patents_tag_add(holder=holder, patent_ids=ids, tag=form.cleaned_data["tag"], by=request.user)
            messages.success(request, _("Tagged %(n)d patent(s).") % {"n": count})
        else:
            messages.error(request, _("Select patents and enter a tag."))
        return redirect(f"{reverse('portfolio')}?holder={holder.slug}")
    filterset = selectors.portfolio_list(holder=holder, params=request.GET)
    valid = filterset.is_valid()
    # A refused filter lists nothing: the whole portfolio under it would look like the filtered view.
    page = Paginator(filterset.qs if valid else filterset.qs.none(), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "patents/portfolio.html", {
        "holder": holder, "filter": filterset, "page": page, "query": query.urlencode(), "can_manage": can_manage,
        "summary": selectors.portfolio_summary(holder=holder),
        "holders": selectors.holder_organisations_for(user=request.user), "tag_form": BulkTagForm(),
    }, status=200 if valid else 400)


@login_required
def portfolio_export(request, fmt):
    """The portfolio as the page lists it (same filters), as CSV or XLSX: the holder's own, or any holder's for
    the IP office (?holder=slug)."""
    if fmt not in PortfolioExporter.formats:
        raise Http404
    holder = _holder_for(request, manage=False)
    filterset = selectors.portfolio_list(holder=holder, params=request.GET)
    if not filterset.is_valid():
        # Exporting the whole portfolio under a mistyped filter would look like the filtered list; refuse.
        return HttpResponseBadRequest(_("Invalid filter: %(errors)s") % {"errors": filterset.errors.as_text()},
                                      content_type="text/plain; charset=utf-8")
    export = PortfolioExporter(filterset.qs).render(fmt)
    response = HttpResponse(export.content, content_type=export.content_type)
    filename = f"portfolio-{holder.slug}-{timezone.localdate().isoformat()}.{export.extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def portfolio_regrade(request):
    holder = _holder_for(request, manage=True)
    transaction.on_commit(lambda: tasks.regrade_portfolio.enqueue(holder.pk))
    messages.success(request, _("Regrading of the whole portfolio has started."))
    return redirect(f"{reverse('portfolio')}?holder={holder.slug}")


@login_required
def patent_detail(request, pk):
    patent = _patent_for(request, pk, manage=False)
    can_manage = selectors.user_can_manage_inventory(user=request.user, holder=patent.holder)
    return render(request, "patents/patent_detail.html", {
        "patent": patent, "can_manage": can_manage,
        "factors": selectors.grade_explanation(patent=patent),
        "history": selectors.patent_history(patent=patent)[:100],
        "co_owners": patent.co_owners.select_related("organisation"),
        "grade_form": GradeOverrideForm(initial={"grade": patent.grade_override, "reason": patent.grade_override_reason}),
        "tags_form": TagsForm(initial={"tags": ", ".join(sorted(patent.tags.names()))}),
        "standing_form": StandingForm(instance=patent) if can_manage else None,
        "english_form": EnglishTextForm(instance=patent) if can_manage else None,
    })


@login_required
@require_POST
def patent_standing(request, pk):
    patent = _patent_for(request, pk, manage=True)
    form = StandingForm(request.POST, instance=Patent.objects.get(pk=patent.pk))
    if form.is_valid():
        try:
            services.patent_standing_record(patent=patent, by=request.user,
                                            **{name: form.cleaned_data[name] for name in form.fields})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("patent_detail", pk=patent.pk)


@login_required
@require_POST
def patent_english(request, pk):
    patent = _patent_for(request, pk, manage=True)
    form = EnglishTextForm(request.POST, instance=Patent.objects.get(pk=patent.pk))
    if form.is_valid():
        services.patent_english_text_record(patent=patent, by=request.user, **form.cleaned_data)
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("patent_detail", pk=patent.pk)


@login_required
@require_POST
def patent_grade(request, pk):
    patent = _patent_for(request, pk, manage=True)
    form = GradeOverrideForm(request.POST)
    if form.is_valid():
        try:
            services.patent_grade_override(patent=patent, grade=form.cleaned_data["grade"],
                                           reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Grade saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("patent_detail", pk=patent.pk)


@login_required
@require_POST
def patent_tags(request, pk):
    patent = _patent_for(request, pk, manage=True)
    form = TagsForm(request.POST)
    if form.is_valid():
        services.patent_tags_set(patent=patent, tags=form.tag_list(), by=request.user)
        messages.success(request, _("Tags saved."))
    return redirect("patent_detail", pk=patent.pk)


@login_required
def inventory_upload(request):
    holder = _holder_for(request, manage=True)
    form = InventoryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = services.inventory_batch_create(
            holder=holder, run_by=request.user, source=InventoryBatch.Source.WEB, filename=upload.name,
            content=upload, partial=form.cleaned_data["partial"], language=get_language(),  # copied in chunks
        )
        # Enqueued after commit so a worker never looks for a batch that is not there yet.
        transaction.on_commit(lambda: tasks.run_inventory_batch.enqueue(batch.pk))
        return redirect("batch_detail", pk=batch.pk)
    return render(request, "patents/upload.html", {"holder": holder, "form": form,
                                                   "holders": selectors.holder_organisations_for(user=request.user)})


@login_required
def batch_list(request):
    holder = _holder_for(request, manage=False)
    page = Paginator(selectors.batches_for(holder=holder), 25).get_page(request.GET.get("page"))
    return render(request, "patents/batch_list.html", {"holder": holder, "page": page})


def _batch_for(request, pk) -> InventoryBatch:
    batch = get_object_or_404(InventoryBatch.objects.select_related("holder", "run_by"), pk=pk)
    if not selectors.user_can_view_inventory(user=request.user, holder=batch.holder):
        raise Http404
    return batch


def _status(batch: InventoryBatch) -> dict:
    live = None if batch.is_finished else progress.read("inventory", batch.pk)
    return {
        "status": batch.status, "status_label": batch.get_status_display(), "finished": batch.is_finished,
        "stage": (live or {}).get("stage", ""), "done": (live or {}).get("done", batch.processed_rows),
        "total": (live or {}).get("total", batch.total_rows),
        "percent": 100 if batch.is_finished else (
            int(100 * live["done"] / live["total"]) if live and live.get("total") else 0),
        "created": batch.created_count, "updated": batch.updated_count, "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count, "message": batch.message,
    }


@login_required
def batch_detail(request, pk):
    # A batch whose worker died says so here rather than "running" forever.
    batch = services.inventory_batch_recover(batch=_batch_for(request, pk))
    return render(request, "patents/batch_detail.html", {"batch": batch, "status": _status(batch),
                                                          "errors": selectors.batch_errors(batch=batch)})


@login_required
def batch_status(request, pk):
    return JsonResponse(_status(services.inventory_batch_recover(batch=_batch_for(request, pk))))


@login_required
def batch_error_report(request, pk):
    batch = _batch_for(request, pk)
    if not batch.error_report:
        raise Http404
    return FileResponse(batch.error_report.open("rb"), as_attachment=True,
                        filename=f"inventory-errors-batch-{batch.pk}.csv", content_type="text/csv; charset=utf-8")
