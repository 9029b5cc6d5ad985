"""Holder actions that file a declaration at CNIPA, record CNIPA's announcements or withdraw it. They live in
the marketplace layer because each one also puts the listing page on the marketplace or takes it off
(marketplace.listings.services); the forms, templates and reads are licensing's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from licensing.declarations import selectors as licensing_selectors
from licensing.declarations import services as licensing_services
from licensing.declarations.forms import AnnualFeesForm, DeclarationForm, WithdrawForm
from licensing.declarations.rules import ANNUAL_FEES_CODES
from licensing.exceptions import DeclarationRefused, InvalidTransition, NotAllowed
from marketplace.listings import services as listings
from patents.inventory import services as inventory


@login_required
def declare(request):
    """Declare one or many of the holder's patents for open licence on the same terms."""
    holder = licensing_selectors.holder_managed_by(user=request.user,
                                                   slug=request.GET.get("holder") or request.POST.get("holder"))
    raw_ids = request.POST.getlist("selected") or request.GET.getlist("patent") or request.POST.getlist("patent")
    patents = licensing_selectors.patents_to_declare(holder=holder, patent_ids=raw_ids)
    if not patents:
        messages.error(request, _("Select at least one patent in your portfolio to declare."))
        return redirect(f"{reverse('portfolio')}?holder={holder.slug}")
    submitted = request.method == "POST" and "fee_form" in request.POST
    form = DeclarationForm(request.POST if submitted else None, terms_queryset=licensing_selectors.live_terms(),
                           initial={"contact_email": holder.contact_email or request.user.email,
                                    "contact_name": request.user.get_full_name(), "contact_phone": holder.contact_phone})
    if submitted and form.is_valid():
        terms = form.cleaned_data["terms"]
        if request.POST.get("action") == "draft":
            for patent in patents:
                licensing_services.declaration_create(patent=patent, terms=terms, by=request.user, **form.offer())
            messages.success(request, _("%(n)d draft declaration(s) saved.") % {"n": len(patents)})
            return redirect(f"{reverse('declaration_list')}?holder={holder.slug}")
        if request.POST.get("action") != "edit":
            fee_forms = _annual_fees_record(request, patents)
            try:
                results = listings.declarations_file_bulk(patents=patents, terms=terms, by=request.user, **form.offer())
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            rows = [(r, fee_forms[r.patent.pk] if ANNUAL_FEES_CODES & {f.code for f in r.failures} else None)
                    for r in results]
            return render(request, "licensing/declare_results.html", {
                "holder": holder, "rows": rows, "form": form, "refused": [r.patent for r in results if not r.filed]})
        # "edit" (change the offer after a refusal) shows the form again as it was filled in.
    fields = sorted({p.technology_field for p in patents if p.technology_field})
    benchmarks = [licensing_selectors.price_benchmark(technology_field=f) for f in fields[:5]]
    return render(request, "licensing/declare.html", {"holder": holder, "patents": patents, "form": form,
                                                      "benchmarks": benchmarks})


def _annual_fees_record(request, patents) -> dict:
    """Record each annual-fees date given on a refusal page (through the audited inventory service); returns
    every patent's form, bound to what was typed and carrying the error when the date was refused."""
    forms = {}
    for patent in patents:
        prefix = AnnualFeesForm.prefix_for(patent)
        given = f"{prefix}-annual_fees_paid_through" in request.POST
        fees = AnnualFeesForm(request.POST if given else None, prefix=prefix,
                              initial={"annual_fees_paid_through": patent.annual_fees_paid_through})
        if given and fees.is_valid() and fees.cleaned_data["annual_fees_paid_through"]:
            try:
                inventory.patent_annual_fees_record(
                    patent=patent, paid_through=fees.cleaned_data["annual_fees_paid_through"], by=request.user)
            except ValidationError as exc:
                fees.add_error(None, exc)
        forms[patent.pk] = fees
    return forms


@login_required
@require_POST
def declaration_file(request, pk):
    declaration = licensing_selectors.declaration_managed_by(user=request.user, declaration_id=pk)
    fees = AnnualFeesForm(request.POST)
    if "annual_fees_paid_through" in request.POST and fees.is_valid() \
            and fees.cleaned_data["annual_fees_paid_through"]:
        try:
            inventory.patent_annual_fees_record(patent=declaration.patent,
                                                paid_through=fees.cleaned_data["annual_fees_paid_through"],
                                                by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("declaration_detail", pk=pk)
    elif fees.errors:
        messages.error(request, _("Annual fees paid through: enter a valid date."))
        return redirect("declaration_detail", pk=pk)
    try:
        listings.declaration_file(declaration=declaration, by=request.user)
    except DeclarationRefused as exc:
        for failure in exc.failures:
            messages.error(request, str(failure))
    except (InvalidTransition, NotAllowed) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Filed at CNIPA and listed. Until CNIPA announces it, a licence taken under it is an "
                                    "ordinary licence contract."))
    return redirect("declaration_detail", pk=pk)


@login_required
@require_POST
def declaration_file_withdrawal(request, pk):
    declaration = licensing_selectors.declaration_managed_by(user=request.user, declaration_id=pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A withdrawal states its reason."))
        return redirect("declaration_detail", pk=pk)
    try:
        listings.declaration_file_withdrawal(declaration=declaration, by=request.user,
                                             reason=form.cleaned_data["reason"])
    except (InvalidTransition, NotAllowed, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Withdrawal filed. The declaration stays in force until CNIPA announces the "
                                    "withdrawal; licences already granted stay in force on their terms."))
    return redirect("declaration_detail", pk=pk)


