"""Innovation voucher pages: the IP office issues vouchers and sees their use per organisation; licensee
members see their own vouchers and what they paid for. Thin views over licensing.vouchers.services."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from licensing.declarations.forms import MoneyField, yuan_to_fen
from licensing.exceptions import LicensingError, NotAllowed
from licensing.models.licences import Voucher
from licensing.vouchers import services as vouchers
from marketplace.parties.models import Organisation, OrganisationKind


class VoucherIssueForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), empty_label=gettext_lazy("Choose…"),
        queryset=Organisation.objects.exclude(kind=OrganisationKind.IP_OFFICE).order_by("name_zh"))
    amount = MoneyField(label=gettext_lazy("Amount (RMB)"), required=True, min_value=Decimal("0.01"))
    expires_on = forms.DateField(label=gettext_lazy("Expires on"), widget=forms.DateInput(attrs={"type": "date"}))
    eligible_uses = forms.MultipleChoiceField(label=gettext_lazy("Eligible uses"), choices=Voucher.Use.choices,
                                              widget=forms.CheckboxSelectMultiple,
                                              initial=[Voucher.Use.LICENCE_FEES, Voucher.Use.ROYALTIES])
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


def _labelled(qs) -> list[Voucher]:
    """The vouchers with their eligible uses as readable labels (``use_labels``) for the page."""
    items = list(qs)
    for voucher in items:
        voucher.use_labels = [str(Voucher.Use(use).label) for use in voucher.eligible_uses if use in Voucher.Use.values]
    return items


def _render(request, *, form=None, status=200):
    user = request.user
    if vouchers.user_can_issue_vouchers(user=user):
        context = {
            "is_issuer": True,
            "form": form or VoucherIssueForm(initial={"expires_on": timezone.localdate() + timedelta(days=365)}),
            "use_by_organisation": vouchers.voucher_use_by_organisation(),
            "vouchers": _labelled(Voucher.objects.select_related("organisation").order_by("-issued_at")[:500]),
        }
    else:
        organisations = list(vouchers.voucher_organisations_for_user(user=user))
        if not organisations:
            raise PermissionDenied(_("Vouchers are shown to the IP office and to members of licensee organisations."))
        context = {
            "is_issuer": False,
            "own": [{"organisation": org,
                     "vouchers": _labelled(vouchers.vouchers_for_organisation(organisation=org)),
                     "uses": vouchers.voucher_uses_for_organisation(organisation=org)[:500]}
                    for org in organisations],
        }
    context["today"] = timezone.localdate()
    return render(request, "licensing/vouchers.html", context, status=status)


@login_required
def voucher_list(request):
    return _render(request)


@login_required
@require_POST
def voucher_issue(request):
    if not vouchers.user_can_issue_vouchers(user=request.user):
        raise PermissionDenied(_("Only the IP office issues innovation vouchers."))
    form = VoucherIssueForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            voucher = vouchers.voucher_issue(organisation=d["organisation"], amount_fen=yuan_to_fen(d["amount"]),
                                             expires_on=d["expires_on"], eligible_uses=d["eligible_uses"],
                                             note=d["note"], by=request.user)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except LicensingError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Voucher %(code)s issued to %(org)s.") % {
                "code": voucher.code, "org": voucher.organisation.name_zh})
            return redirect("voucher_list")
    return _render(request, form=form, status=400)
