"""Declaration pages for holders, the public gazette and the fee calculators. Thin views."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from licensing.declarations import document, fee_selectors, selectors, services
from licensing.declarations.forms import (
    AnnouncementForm,
    AnnualFeesForm,
    ConsentForm,
    CostForm,
    WithdrawalAnnouncementForm,
    WithdrawForm,
    yuan_to_fen,
)
from licensing.exceptions import InvalidTransition
from licensing.models import Declaration, DeclarationConsent, DeclarationState
from patents.inventory.selectors import user_can_manage_inventory, user_can_view_inventory


@login_required
def declaration_list(request):
    holder = selectors.holder_managed_by(user=request.user, slug=request.GET.get("holder") or request.POST.get("holder"))
    page = Paginator(selectors.declarations_for_holder(holder=holder), 50).get_page(request.GET.get("page"))
    return render(request, "licensing/declaration_list.html", {"holder": holder, "page": page})


def declaration_detail(request, pk):
    """Public for a declaration filed at CNIPA or beyond (the offer is public); drafts only for the holder's
    members and the IP office."""
    declaration = get_object_or_404(Declaration.objects.select_related("patent", "holder", "terms_version"), pk=pk)
    if declaration.state == DeclarationState.DRAFT and not user_can_view_inventory(user=request.user,
                                                                                   holder=declaration.holder):
        raise Http404
    return declaration_detail_render(request, declaration)


def declaration_detail_render(request, declaration: Declaration, *, status: int = 200, **forms):
    """The declaration page, with any of its forms bound to what the holder typed (a refused step shows the
    page again with the input kept and the reasons beside the fields)."""
    is_member = user_can_manage_inventory(user=request.user, holder=declaration.holder)
    cost_form = CostForm(request.GET or None)
    cost = None
    if cost_form.is_valid() and cost_form.cleaned_data.get("annual_net_sales") is not None:
        cost = selectors.licensee_cost(
            declaration=declaration, annual_net_sales_fen=yuan_to_fen(cost_form.cleaned_data["annual_net_sales"]),
            annual_profit_fen=yuan_to_fen(cost_form.cleaned_data.get("annual_profit")))
    patent = declaration.patent
    consent_rows = []
    if is_member and declaration.state == DeclarationState.DRAFT:
        recorded = {c.co_owner_id: c for c in declaration.consents.filter(kind=DeclarationConsent.Kind.CO_OWNER)}
        for owner in patent.co_owners.all():
            if owner.organisation_id != patent.holder_id:
                consent_rows.append((owner, recorded.get(owner.pk)))
    return render(request, "licensing/declaration_detail.html", {
        "declaration": declaration, "patent": patent, "is_member": is_member,
        "consent_rows": consent_rows, "consent_form": ConsentForm(),
        "pledgee_consent": declaration.consents.filter(kind=DeclarationConsent.Kind.PLEDGEE).first(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "announcement_form": forms.get("announcement_form") or AnnouncementForm(),
        "withdrawal_announcement_form": forms.get("withdrawal_announcement_form") or WithdrawalAnnouncementForm(),
        "cost_form": cost_form, "cost": cost,
        "fees_form": AnnualFeesForm(initial={"annual_fees_paid_through": patent.annual_fees_paid_through})
        if is_member and declaration.state == DeclarationState.DRAFT and not selectors.annual_fees_paid(patent=patent)
        else None,
        "annual_fees": fee_selectors.annual_fee_calculator(
            declaration=declaration, small_entity={"1": True, "0": False}.get(request.GET.get("small_entity")))
        if is_member else None,
        "gazette": declaration.gazette_entries.order_by("announced_at"),
        "licence_count": declaration.licences.filter(state__in=["active", "expired"]).count(),
    }, status=status)


@login_required
@require_GET
def declaration_document(request, pk, fmt):
    """The declaration document to file at CNIPA, for the holder's members: the Chinese PDF or its data."""
    declaration = selectors.declaration_managed_by(user=request.user, declaration_id=pk)
    if fmt not in ("pdf", "json"):
        raise Http404
    if fmt == "pdf":
        response = HttpResponse(document.render_declaration_pdf(declaration), content_type="application/pdf")
    else:
        response = HttpResponse(document.declaration_document_json(declaration),
                                content_type="application/json; charset=utf-8")
    name = declaration.patent.number.replace(".", "_")
    response["Content-Disposition"] = f'attachment; filename="open-licence-declaration-{name}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def declaration_discard(request, pk):
    declaration = selectors.declaration_managed_by(user=request.user, declaration_id=pk)
    holder = declaration.holder
    try:
        services.declaration_discard(declaration=declaration, by=request.user)
    except InvalidTransition as exc:
        messages.error(request, str(exc))
        return redirect("declaration_detail", pk=pk)
    messages.success(request, _("Draft discarded."))
    return redirect(f"{reverse('declaration_list')}?holder={holder.slug}")


@login_required
@require_POST
def consent_add(request, pk):
    declaration = selectors.declaration_managed_by(user=request.user, declaration_id=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(declaration=declaration, kind=form.cleaned_data["kind"], by=request.user,
                                    party_name=form.cleaned_data.get("party_name") or "",
                                    signatory=form.cleaned_data["signatory"],
                                    consented_on=form.cleaned_data["consented_on"],
                                    co_owner_id=form.cleaned_data.get("co_owner"))
        except (ValidationError, InvalidTransition) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("Fill in who signed the consent and when."))
    return redirect("declaration_detail", pk=pk)


def gazette(request):
    filterset = selectors.gazette(params=request.GET)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "licensing/gazette.html", {"filter": filterset, "page": page, "query": query.urlencode()})
