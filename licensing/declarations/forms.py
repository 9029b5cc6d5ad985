from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from licensing.models import DeclarationConsent, FeeForm, LicenceTerms, RoyaltyBase


def yuan_to_fen(value: Decimal | None) -> int | None:
    """Forms take RMB with two decimals; the domain stores integer fen."""
    return None if value is None else int((value * 100).to_integral_value())


class MoneyField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class DeclarationForm(forms.Form):
    terms = forms.ModelChoiceField(label=_("Standard licence terms"), queryset=LicenceTerms.objects.none(),
                                   empty_label=None)
    fee_form = forms.ChoiceField(label=_("Fee form"), choices=FeeForm.choices, widget=forms.RadioSelect)
    lump_sum = MoneyField(label=_("Lump sum (RMB)"))
    entry_fee = MoneyField(label=_("Entry fee (RMB)"))
    royalty_base = forms.ChoiceField(label=_("Royalty base"), choices=[("", "—")] + RoyaltyBase.choices, required=False)
    royalty_rate = forms.DecimalField(label=_("Royalty rate (%)"), max_digits=5, decimal_places=2, required=False,
                                      min_value=Decimal("0.01"), max_value=Decimal("100"))
    annual_minimum = MoneyField(label=_("Annual minimum royalty (RMB, optional)"))
    duration_years = forms.IntegerField(label=_("Licence duration (years)"), min_value=1, max_value=20, initial=3)
    payment_method = forms.CharField(
        label=_("Way of payment"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
        initial=_("Paid online through the platform when the licence is taken; royalties are reported and paid "
                  "within 30 days after each licence year."))
    field_of_use_note = forms.CharField(label=_("Field of use note (optional)"), widget=forms.Textarea(attrs={"rows": 2}),
                                        required=False, max_length=2000)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    # Regulations art. 85, Guidelines section 3.3 (the register's rules refuse filing without them, naming the rule).
    fee_basis_statement = forms.CharField(
        label=_("How the fee was calculated"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
        max_length=2000, help_text=_("The basis of the fee standard, e.g. comparable recorded licences or the "
                                     "expected profit share; at most 2,000 characters, no promotional wording."))
    conditions_commitment = forms.BooleanField(
        label=_("I commit that the conditions for open licensing are met"), required=False,
        help_text=_("The patent is in force, its annual fees are paid, no exclusive or sole licence is in force, "
                    "its procedures are not suspended, and a pledgee has consented."))

    def __init__(self, *args, terms_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if terms_queryset is not None:
            self.fields["terms"].queryset = terms_queryset

    def clean(self):
        data = super().clean()
        form = data.get("fee_form")
        if form == FeeForm.LUMP_SUM and data.get("lump_sum") is None:
            self.add_error("lump_sum", _("State the lump sum."))
        if form in (FeeForm.ROYALTY, FeeForm.ENTRY_PLUS_ROYALTY):
            if data.get("royalty_rate") is None:
                self.add_error("royalty_rate", _("State the royalty rate."))
            if not data.get("royalty_base"):
                self.add_error("royalty_base", _("Say whether the royalty is a share of net sales or of profit."))
        if form == FeeForm.ENTRY_PLUS_ROYALTY and data.get("entry_fee") is None:
            self.add_error("entry_fee", _("State the entry fee."))
        return data

    def offer(self) -> dict:
        """The declaration's offer fields in domain units (fen), only those the fee form uses."""
        d = self.cleaned_data
        form = d["fee_form"]
        royalty = form != FeeForm.LUMP_SUM
        return {
            "fee_form": form,
            "lump_sum_fen": yuan_to_fen(d.get("lump_sum")) if form == FeeForm.LUMP_SUM else None,
            "entry_fee_fen": yuan_to_fen(d.get("entry_fee")) if form == FeeForm.ENTRY_PLUS_ROYALTY else None,
            "royalty_base": d.get("royalty_base") if royalty else "",
            "royalty_rate": d.get("royalty_rate") if royalty else None,
            "annual_minimum_fen": yuan_to_fen(d.get("annual_minimum")) if royalty else None,
            "duration_years": d["duration_years"], "payment_method": d["payment_method"],
            "field_of_use_note": d.get("field_of_use_note", ""), "contact_name": d["contact_name"],
            "contact_email": d["contact_email"], "contact_phone": d.get("contact_phone", ""),
            "fee_basis_statement": d.get("fee_basis_statement", ""),
            "conditions_commitment": bool(d.get("conditions_commitment")),
        }


class AnnualFeesForm(forms.Form):
    """The date a patent's annual fees are paid through, asked where publishing refuses for lack of it.
    One per patent (prefixed with its id) when several are declared at once."""
    annual_fees_paid_through = forms.DateField(label=_("Annual fees paid through"), required=False,
                                               widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def prefix_for(patent) -> str:
        return f"fees-{patent.pk}"


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=DeclarationConsent.Kind.choices, widget=forms.HiddenInput)
    co_owner = forms.IntegerField(required=False, widget=forms.HiddenInput)
    party_name = forms.CharField(label=_("Consenting party"), max_length=200, required=False)
    signatory = forms.CharField(label=_("Signed by"), max_length=100)
    consented_on = forms.DateField(label=_("Date of the written consent"), widget=forms.DateInput(attrs={"type": "date"}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason for withdrawal"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class AnnouncementForm(forms.Form):
    """CNIPA's announcement of a declaration as the holder copies it from the gazette: number and date. The
    service checks the number's shape and the date (not in the future, not before filing)."""

    cnipa_number = forms.CharField(label=_("CNIPA announcement number"), max_length=40)
    announced_on = forms.DateField(label=_("Announced on"), widget=forms.DateInput(attrs={"type": "date"}))


class WithdrawalAnnouncementForm(forms.Form):
    cnipa_number = forms.CharField(label=_("CNIPA announcement number of the withdrawal"), max_length=40,
                                   required=False)
    announced_on = forms.DateField(label=_("Withdrawal announced on"), widget=forms.DateInput(attrs={"type": "date"}))


class CostForm(forms.Form):
    annual_net_sales = MoneyField(label=_("Expected yearly net sales (RMB)"))
    annual_profit = MoneyField(label=_("Expected yearly profit (RMB)"))


class CnipaAnnouncementsUploadForm(forms.Form):
    file = forms.FileField(label=_("CNIPA's list of announced open-licence declarations (CSV or XLSX)"),
                           help_text=_("As exported from CNIPA: CSV in GBK or UTF-8, or XLSX, with CNIPA's Chinese "
                                       "column headers."))
