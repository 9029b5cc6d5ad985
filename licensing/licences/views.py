"""Licensee pages: the written notice, paying by card (Stripe.js), the licence. Thin views over
licensing.licences.services."""

import json

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

from licensing.exceptions import LicensingError, NotAllowed
from licensing.legal.register import cite
from licensing.licences import services as licence_services
from licensing.licences.selectors import licence_visible_to, licences_visible_to
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
from licensing.models.licences import LicenceState, Payment, Voucher
from licensing.vouchers.services import voucher_split
from marketplace.parties.models import Membership, Organisation


class NoticeForm(forms.Form):
    licensee = forms.ModelChoiceField(label=gettext_lazy("Licensee"), queryset=Organisation.objects.none(),
                                      empty_label=None)
    legal_name = forms.CharField(label=gettext_lazy("Legal name"), max_length=200)
    uscc = forms.CharField(label=gettext_lazy("Unified social credit code"), max_length=40, required=False)
    contact_name = forms.CharField(label=gettext_lazy("Contact person"), max_length=100)
    contact_email = forms.EmailField(label=gettext_lazy("Contact e-mail"))
    contact_phone = forms.CharField(label=gettext_lazy("Contact phone"), max_length=40, required=False)
    field_of_use = forms.CharField(label=gettext_lazy("Intended field of use"), widget=forms.Textarea(attrs={"rows": 2}),
                                   max_length=2000)
    terms_sha256 = forms.CharField(widget=forms.HiddenInput)
    accept = forms.BooleanField(label=gettext_lazy("We accept the standard terms shown above, this exact version, and "
                                                   "give written notice that we take a licence on the declared terms."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not ticking the box is a refusal under Patent Law art. 51: say so, in the page's language.
        self.fields["accept"].error_messages["required"] = cite(
            "licence_terms_accepted", _("Accept the declaration's terms to give written notice."))


def _licensee_orgs(user):
    return Organisation.objects.filter(is_licensee=True, memberships__user=user).distinct().order_by("name_zh")


@login_required
def licence_take(request, pk):
    declaration = get_object_or_404(Declaration.objects.select_related("patent", "holder", "terms_version"), pk=pk)
    if declaration.state not in LICENSABLE_DECLARATION_STATES:
        raise Http404
    orgs = _licensee_orgs(request.user)
    if not orgs.exists():
        raise PermissionDenied(_("Only members of a licensee organisation can take a licence."))
    first = orgs.first()
    form = NoticeForm(request.POST or None, initial={
        "licensee": first, "legal_name": first.name_zh, "uscc": first.uscc or "",
        "contact_name": request.user.get_full_name(), "contact_email": request.user.email,
        "contact_phone": first.contact_phone, "terms_sha256": declaration.terms_version.sha256})
    form.fields["licensee"].queryset = orgs
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            licence = licence_services.licence_notice_submit(
                declaration=declaration, licensee=d["licensee"], by=request.user, legal_name=d["legal_name"],
                uscc=d["uscc"], contact_name=d["contact_name"], contact_email=d["contact_email"],
                contact_phone=d["contact_phone"], field_of_use=d["field_of_use"], accepted_terms_sha256=d["terms_sha256"])
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except LicensingError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("licence_detail", pk=licence.pk)
    return render(request, "licensing/licence_take.html", {"declaration": declaration, "form": form})


@login_required
def licence_detail(request, pk):
    """The licence; for its licensee while unpaid, the pay step. Choosing a voucher (``?voucher=<id>``) shows
    the split between voucher and card before anything is confirmed."""
    licence = licence_visible_to(user=request.user, licence_id=pk)
    is_licensee = Membership.objects.filter(user=request.user, organisation_id=licence.licensee_id).exists()
    payment = licence.payments.filter(purpose=Payment.Purpose.FIRST_AMOUNT).first()
    can_pay = is_licensee and licence.state in (LicenceState.PAYMENT_PENDING, LicenceState.PAYMENT_FAILED)
    vouchers = Voucher.objects.filter(organisation_id=licence.licensee_id, balance_fen__gt=0,
                                      expires_on__gte=timezone.localdate()) if is_licensee else Voucher.objects.none()
    vouchers = [v for v in vouchers if Voucher.Use.LICENCE_FEES in v.eligible_uses]
    chosen, split, split_error = voucher_preview(request, payment=payment, vouchers=vouchers if can_pay else [])
    return render(request, "licensing/licence_detail.html", {
        "licence": licence, "payment": payment, "is_licensee": is_licensee, "can_pay": can_pay,
        "vouchers": vouchers, "chosen_voucher": chosen, "split": split, "split_error": split_error,
        "stripe_js_url": settings.STRIPE_JS_URL, "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "payments": licence.payments.all(),
    })


def voucher_preview(request, *, payment: Payment | None, vouchers: list[Voucher]):
    """The pay page's preview, shared by licence fees and royalty invoices: the voucher chosen in
    ``?voucher=<id>`` (one of `vouchers`) and how it would split the payment, computed by the same rule that
    applies it (vouchers.services.voucher_split). Returns (voucher, split, error message)."""
    chosen = next((v for v in vouchers if str(v.pk) == request.GET.get("voucher", "")), None)
    if chosen is None or payment is None:
        return None, None, ""
    try:
        return chosen, voucher_split(payment=payment, voucher=chosen), ""
    except (LicensingError, NotAllowed) as exc:
        return chosen, None, str(exc)


@login_required
@require_POST
def licence_pay(request, pk):
    """JSON: apply an optional voucher, then confirm the card Stripe.js tokenised (or none when a voucher
    covers everything). Answers what the page does next."""
    licence = licence_visible_to(user=request.user, licence_id=pk, licensee_only=True)
    payment = licence.payments.filter(purpose=Payment.Purpose.FIRST_AMOUNT).first()
    if payment is None or licence.state not in (LicenceState.PAYMENT_PENDING, LicenceState.PAYMENT_FAILED):
        return JsonResponse({"status": "error", "message": _("Nothing to pay on this licence.")}, status=409)
    return pay_json(request, payment=payment, licensee_id=licence.licensee_id)


def pay_json(request, *, payment: Payment, licensee_id: int) -> JsonResponse:
    """The pay step shared by licence fees and royalty invoices: apply an optional voucher of the licensee,
    then confirm the card token from Stripe.js (none needed when a voucher covers everything)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"status": "error", "message": _("Bad request.")}, status=400)
    try:
        voucher_id = body.get("voucher")
        if voucher_id and payment.state == Payment.State.CREATED and not payment.voucher_fen:
            voucher = get_object_or_404(Voucher, pk=int(voucher_id), organisation_id=licensee_id)
            payment = licence_services.payment_apply_voucher(payment=payment, voucher=voucher, by=request.user)
        if payment.charge_fen == 0:
            licence_services.payment_start(payment=payment)
            return JsonResponse({"status": "succeeded", "client_secret": "", "message": ""})
        token = str(body.get("token") or "")
        if not token.startswith("tok_"):
            return JsonResponse({"status": "error", "message": _("The card was not read; please try again.")}, status=400)
        result = licence_services.payment_pay_with_card(payment=payment, token_id=token)
    except (LicensingError, NotAllowed, ValueError) as exc:
        return JsonResponse({"status": "error", "message": str(exc)}, status=409)
    return JsonResponse(result)


@login_required
def licence_return(request, pk):
    """Where the page goes after Stripe.js: settle the payment from Stripe's answer (the webhook may
    already have done it) and show the licence."""
    licence = licence_visible_to(user=request.user, licence_id=pk, licensee_only=True)
    payment = licence.payments.filter(purpose=Payment.Purpose.FIRST_AMOUNT).first()
    settle_on_return(request, payment=payment, success=_("Payment received. Your licence is active."))
    return redirect("licence_detail", pk=licence.pk)


def settle_on_return(request, *, payment: Payment | None, success: str) -> None:
    """The return step shared by licence fees and royalty invoices: ask Stripe where the payment stands
    (the webhook may have settled it already) and tell the person."""
    if payment is None:
        return
    try:
        result = licence_services.payment_sync(payment=payment)
    except Exception:  # noqa: BLE001 - the page must still load; the webhook or a later visit settles it
        result = {"status": "error", "message": _("We could not reach the payment service; we will update this "
                                                   "page when the payment is confirmed.")}
    if result.get("status") == "succeeded":
        messages.success(request, success)
    elif result.get("message"):
        messages.error(request, result["message"])


@login_required
@require_POST
def licence_cancel(request, pk):
    licence = licence_visible_to(user=request.user, licence_id=pk, licensee_only=True)
    try:
        licence_services.licence_cancel(licence=licence, by=request.user)
    except NotAllowed as exc:  # a NotAllowed is also a LicensingError: refuse it, do not show it as a message
        raise PermissionDenied(str(exc)) from exc
    except LicensingError as exc:
        messages.error(request, str(exc))
    return redirect("licence_detail", pk=licence.pk)


@login_required
def licence_list(request):
    """Licences the user's organisations took or granted (the IP office sees all)."""
    licences = licences_visible_to(user=request.user)[:500]
    return render(request, "licensing/licence_list.html", {"licences": licences})
