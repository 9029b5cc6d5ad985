"""Royalty pages: a licence's reports with the form to file the next one, the invoice each report becomes
(paid by card with Stripe.js, the same #payment box and pay.js as the licence page), and the arrears list.
Thin views over licensing.royalties.services and licensing.licences.services."""


from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from licensing.declarations.forms import MoneyField, yuan_to_fen
from licensing.exceptions import LicensingError, NotAllowed
from licensing.licences.views import pay_json, settle_on_return, voucher_preview
from licensing.models.licences import Licence, LicenceState, Payment, RoyaltyReport, Voucher
from licensing.royalties import services as royalties
from marketplace.parties.models import Membership
from marketplace.parties.selectors import user_is_ip_office


class RoyaltyReportForm(forms.Form):
    period_start = forms.DateField(label=gettext_lazy("Period from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=gettext_lazy("Period to"), widget=forms.DateInput(attrs={"type": "date"}))
    base_amount = MoneyField(label=gettext_lazy("Net sales or profit in the period (RMB)"), required=True)


STATUS_LABELS = {
    "settled": gettext_lazy("Settled (nothing due)"), "paid": gettext_lazy("Paid"), "due": gettext_lazy("Due"),
    "overdue": gettext_lazy("Overdue"), Payment.State.CANCELLED: Payment.State.CANCELLED.label,
    Payment.State.REFUNDED: Payment.State.REFUNDED.label,
}

FORM_FIELD = {"period_start": "period_start", "period_end": "period_end", "base_amount_fen": "base_amount"}


def _roles(user, licence: Licence) -> tuple[bool, bool]:
    orgs = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    return licence.licensee_id in orgs, licence.licensor_id in orgs


def _check_access(request, licence: Licence, *, licensee_only: bool = False) -> bool:
    """Licensee, licensor and IP office see a licence's royalties; others get 404 (another organisation's
    licence is not acknowledged to exist). Returns whether the user is a member of the licensee."""
    is_licensee, is_licensor = _roles(request.user, licence)
    allowed = is_licensee if licensee_only else (is_licensee or is_licensor or user_is_ip_office(user=request.user))
    if not (allowed or request.user.is_superuser):
        raise Http404
    return is_licensee


def _report_for(request, pk, *, licensee_only: bool = False) -> tuple[RoyaltyReport, bool]:
    report = get_object_or_404(RoyaltyReport.objects.select_related(
        "licence__patent", "licence__licensor", "licence__licensee", "payment"), pk=pk)
    return report, _check_access(request, report.licence, licensee_only=licensee_only)


@login_required
def royalty_reports(request, pk):
    licence = get_object_or_404(Licence.objects.select_related("patent", "licensor", "licensee"), pk=pk)
    is_licensee = _check_access(request, licence)
    if not royalties.licence_has_royalties(licence):
        raise Http404
    today = timezone.localdate()
    next_start = royalties.royalty_next_period_start(licence)
    can_file = is_licensee and licence.state == LicenceState.ACTIVE and next_start is not None
    year = royalties.licence_year_of(licence, next_start) if next_start else None
    form = RoyaltyReportForm(request.POST or None, initial={
        "period_start": next_start, "period_end": min(year.end, today) if year else None})
    if request.method == "POST":
        if not is_licensee:
            raise PermissionDenied(_("Only members of the licensee may file its royalty reports."))
        if form.is_valid():
            d = form.cleaned_data
            try:
                report = royalties.royalty_report_file(
                    licence=licence, period_start=d["period_start"], period_end=d["period_end"],
                    base_amount_fen=yuan_to_fen(d["base_amount"]), by=request.user)
            except NotAllowed as exc:
                raise PermissionDenied(str(exc)) from exc
            except LicensingError as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(FORM_FIELD.get(field), errors)
            else:
                if report.payment_id:
                    messages.success(request, _("Report filed. The royalty invoice is due on %(date)s.")
                                     % {"date": report.due_on.isoformat()})
                    return redirect("royalty_invoice", pk=report.pk)
                messages.success(request, _("Report filed. Nothing is due for this period."))
                return redirect("royalty_reports", pk=licence.pk)
    reports = list(royalties.royalty_reports_for_licence(licence=licence))
    rows = [{"report": r, "status": (status := royalties.royalty_report_status(r, today=today)),
             "status_label": STATUS_LABELS.get(status, status), "credit_used_fen": royalties.credit_used_fen(r),
             "year": royalties.licence_year_of(licence, r.period_start)} for r in reports]
    return render(request, "licensing/royalty_reports.html", {
        "licence": licence, "rows": rows, "form": form, "can_file": can_file, "is_licensee": is_licensee,
        "years": royalties.licence_years(licence), "next_start": next_start,
        "notice_credit_fen": royalties.notice_credit_fen(licence),
    })


def _payable(payment: Payment | None) -> bool:
    return payment is not None and payment.state in royalties.UNPAID_STATES


@login_required
def royalty_invoice(request, pk):
    report, is_licensee = _report_for(request, pk)
    payment = report.payment
    can_pay = is_licensee and _payable(payment)
    vouchers = []
    if can_pay:
        vouchers = [v for v in Voucher.objects.filter(organisation_id=report.licence.licensee_id, balance_fen__gt=0,
                                                      expires_on__gte=timezone.localdate())
                    if Voucher.Use.ROYALTIES in v.eligible_uses]
    chosen, split, split_error = voucher_preview(request, payment=payment, vouchers=vouchers)
    status = royalties.royalty_report_status(report)
    return render(request, "licensing/royalty_invoice.html", {
        "report": report, "licence": report.licence, "payment": payment, "is_licensee": is_licensee,
        "can_pay": can_pay, "vouchers": vouchers, "chosen_voucher": chosen, "split": split, "split_error": split_error,
        "status": status, "status_label": STATUS_LABELS.get(status, status),
        "credit_used_fen": royalties.credit_used_fen(report),
        "year": royalties.licence_year_of(report.licence, report.period_start),
        "stripe_js_url": settings.STRIPE_JS_URL, "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    })


@login_required
@require_POST
def royalty_invoice_pay(request, pk):
    """JSON, as licence_pay: apply an optional voucher, then confirm the card Stripe.js tokenised (or none
    when a voucher covers everything). Answers what the page does next."""
    report, _is_licensee = _report_for(request, pk, licensee_only=True)
    payment = report.payment
    if not _payable(payment):
        return JsonResponse({"status": "error", "message": _("Nothing to pay on this invoice.")}, status=409)
    return pay_json(request, payment=payment, licensee_id=report.licence.licensee_id)


@login_required
def royalty_invoice_return(request, pk):
    """Where the page goes after Stripe.js: settle the payment from Stripe's answer (the webhook may
    already have done it) and show the invoice."""
    report, _is_licensee = _report_for(request, pk, licensee_only=True)
    settle_on_return(request, payment=report.payment, success=_("Payment received. Thank you."))
    return redirect("royalty_invoice", pk=report.pk)


@login_required
def royalty_arrears(request):
    """Unpaid royalty invoices past due: the user's organisations' as licensee or licensor; all for the IP
    office."""
    rows = royalties.royalty_arrears(user=request.user)
    return render(request, "licensing/royalty_arrears.html", {
        "rows": rows, "total_fen": sum(r.amount_fen for r in rows),
        "sees_all": request.user.is_superuser or user_is_ip_office(user=request.user),
    })
