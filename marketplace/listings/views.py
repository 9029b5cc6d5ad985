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
from licensing.declarations.forms import (
    AnnouncementForm,
    AnnualFeesForm,
    CnipaAnnouncementsUploadForm,
    DeclarationForm,
    WithdrawalAnnouncementForm,
    WithdrawForm,
)
from licensing.declarations.rules import ANNUAL_FEES_CODES
from licensing.declarations.views import declaration_detail_render
from licensing.exceptions import DeclarationRefused, InvalidTransition, NotAllowed
from marketplace.listings import cnipa_import
from marketplace.listings import services as listings
from marketplace.parties.selectors import user_is_ip_office
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


def _form_errors(form, exc: ValidationError, fields: dict) -> None:
    """Put a service's refusal beside the form's fields (the service names model fields; `fields` maps them)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(fields.get(name), errors)
    else:
        form.add_error(None, exc.messages)


def _declaration_step(request, pk, *, form_class, form_name: str, perform, fields: dict, done: str):
    """One holder step on a declaration (record an announcement, file a withdrawal…): the form is checked, the
    service runs, and a refusal redisplays the declaration page (400) with the typed input and the reason beside
    its field; a member who may not act gets 403."""
    declaration = licensing_selectors.declaration_managed_by(user=request.user, declaration_id=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            perform(declaration=declaration, by=request.user, **form.cleaned_data)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except DeclarationRefused as exc:  # e.g. a co-owner has not consented to the withdrawal
            for failure in exc.failures:
                form.add_error(None, str(failure))
        except InvalidTransition as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _form_errors(form, exc, fields)
        else:
            messages.success(request, done)
            return redirect("declaration_detail", pk=pk)
    return declaration_detail_render(request, declaration, status=400, **{form_name: form})


@login_required
@require_POST
def declaration_record_announcement(request, pk):
    """The holder enters CNIPA's announcement (number and date): from then on a statutory open licence."""
    return _declaration_step(
        request, pk, form_class=AnnouncementForm, form_name="announcement_form",
        perform=listings.declaration_record_announcement,
        fields={"cnipa_number": "cnipa_number", "announced_on": "announced_on"},
        done=_("CNIPA's announcement is recorded: licences taken from now on are statutory open licences."))


@login_required
@require_POST
def declaration_file_withdrawal(request, pk):
    return _declaration_step(
        request, pk, form_class=WithdrawForm, form_name="withdraw_form",
        perform=listings.declaration_file_withdrawal, fields={"withdrawal_reason": "reason"},
        done=_("Withdrawal filed. The declaration stays in force until CNIPA announces the withdrawal; licences "
               "already granted stay in force on their terms."))


@login_required
@require_POST
def declaration_record_withdrawal_announcement(request, pk):
    """The holder enters CNIPA's announcement of the withdrawal: the listing closes."""
    return _declaration_step(
        request, pk, form_class=WithdrawalAnnouncementForm, form_name="withdrawal_announcement_form",
        perform=listings.declaration_record_withdrawal_announcement,
        fields={"cnipa_withdrawal_number": "cnipa_number", "announced_on": "announced_on"},
        done=_("CNIPA's announcement of the withdrawal is recorded. Licences already granted stay in force on "
               "their terms."))


@login_required
def cnipa_announcements_import(request):
    """The IP office uploads CNIPA's published list of announced declarations: all rows are recorded, or none
    and every bad row is shown with its reason. Synchronous: CNIPA's lists are small (capped at 20 MB)."""
    if not (request.user.is_superuser or user_is_ip_office(user=request.user)):
        raise PermissionDenied(_("Only the IP office imports CNIPA's announcements."))
    form = CnipaAnnouncementsUploadForm(request.POST or None, request.FILES or None)
    result, errors, status = None, [], 200
    if request.method == "POST" and form.is_valid():
        try:
            result = cnipa_import.cnipa_announcements_import(raw=form.cleaned_data["file"].read())
        except cnipa_import.AnnouncementFileError as exc:
            form.add_error("file", str(exc))
            status = 400
        except cnipa_import.CnipaImportRefused as exc:
            errors, status = exc.errors, 400
    elif request.method == "POST":
        status = 400
    return render(request, "marketplace/listings/cnipa_import.html",
                  {"form": form, "result": result, "errors": errors}, status=status)
