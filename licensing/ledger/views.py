"""Statement pages and exports, and the refund and termination actions on a licence. Thin views over
licensing.ledger.statements and licensing.payments.refunds."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from licensing.declarations.forms import MoneyField, yuan_to_fen
from licensing.exceptions import LicensingError, NotAllowed
from licensing.ledger import statements
from licensing.ledger.exports import StatementExporter
from licensing.models.licences import Licence, LicenceState, Payment
from licensing.payments import refunds
from marketplace.parties.models import Organisation


class RefundForm(forms.Form):
    payment = forms.IntegerField(widget=forms.HiddenInput)
    amount = MoneyField(label=gettext_lazy("Amount to refund (RMB)"), required=True, min_value=Decimal("0"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def _perspective(request, allowed: list[statements.Perspective]) -> statements.Perspective:
    value = request.GET.get("view") or allowed[0]
    if value not in allowed:
        raise Http404
    return statements.Perspective(value)


def _respond(request, statement: statements.Statement, *, filename: str, template_context: dict):
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in StatementExporter.formats:
            return HttpResponseBadRequest(_("Unknown format; use csv or xlsx."), content_type="text/plain; charset=utf-8")
        export = StatementExporter(statement).render(fmt)
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = (f'attachment; filename="{filename}-{statement.perspective}-'
                                           f'{timezone.localdate().isoformat()}.{export.extension}"')
        return response
    return render(request, "licensing/statement.html", {"statement": statement, **template_context})


@login_required
def statement_index(request):
    organisations = statements.statement_organisations_for_user(user=request.user)
    return render(request, "licensing/statement_index.html", {"organisations": organisations})


@login_required
def statement_organisation(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug)
    if not statements.user_can_view_organisation_statement(user=request.user, organisation=organisation):
        raise PermissionDenied(_("Statements are shown to the organisation's members and the IP office."))
    allowed = statements.perspectives_for_organisation(organisation=organisation)
    statement = statements.organisation_statement(organisation=organisation, perspective=_perspective(request, allowed))
    return _respond(request, statement, filename=f"statement-{organisation.slug}",
                    template_context={"perspectives": allowed})


def _licence_for(request, pk) -> tuple[Licence, list[statements.Perspective]]:
    licence = get_object_or_404(Licence.objects.select_related("patent", "licensor", "licensee"), pk=pk)
    allowed = statements.perspectives_for_licence(user=request.user, licence=licence)
    if not allowed:
        raise Http404  # another organisation's licence is not acknowledged to exist
    return licence, allowed


@login_required
def statement_licence(request, pk):
    licence, allowed = _licence_for(request, pk)
    statement = statements.licence_statement(licence=licence, perspective=_perspective(request, allowed))
    can_refund = refunds.user_can_refund(user=request.user, licence=licence)
    today = timezone.localdate()
    payments = list(licence.payments.order_by("created_at"))
    for payment in payments:
        payment.refundable_fen = payment.charge_fen - payment.refunded_fen
        payment.refundable_yuan = str((Decimal(payment.refundable_fen) / 100).quantize(Decimal("0.01")))
        payment.can_be_refunded = can_refund and payment.state in refunds.REFUNDABLE_STATES
    overdue = list(refunds.overdue_royalty_payments(licence=licence, today=today))
    return _respond(request, statement, filename=f"statement-licence-{licence.pk}", template_context={
        "perspectives": allowed, "payments": payments, "can_refund": can_refund,
        "can_terminate": (refunds.user_can_terminate(user=request.user, licence=licence)
                          and licence.state == LicenceState.ACTIVE and bool(overdue)),
        "overdue": overdue, "grace_days": refunds.GRACE_DAYS,
    })


@login_required
@require_POST
def licence_refund(request, pk):
    licence, _allowed = _licence_for(request, pk)
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Refund not made: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("statement_licence", pk=licence.pk)
    payment = get_object_or_404(Payment, pk=form.cleaned_data["payment"], licence=licence)
    try:
        payment = refunds.payment_refund(payment=payment, amount_fen=yuan_to_fen(form.cleaned_data["amount"]),
                                         by=request.user, reason=form.cleaned_data["reason"])
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except LicensingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Refund recorded; the payment is now %(state)s.") % {
            "state": payment.get_state_display()})
    return redirect("statement_licence", pk=licence.pk)


@login_required
@require_POST
def licence_terminate(request, pk):
    licence, _allowed = _licence_for(request, pk)
    try:
        licence = refunds.licence_terminate_for_non_payment(licence=licence, by=request.user,
                                                            today=timezone.localdate())
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except LicensingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The licence is terminated."))
    return redirect("statement_licence", pk=licence.pk)
