from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from marketplace.parties.models import MembershipRole, Organisation, OrganisationKind, User
from marketplace.parties.validators import normalize_uscc, validate_uscc

SELF_REGISTERED_KINDS = [(k, label) for k, label in OrganisationKind.choices if k != OrganisationKind.IP_OFFICE]


class SignUpForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)
    kind = forms.ChoiceField(label=_("Organisation kind"), choices=SELF_REGISTERED_KINDS)
    name_zh = forms.CharField(label=_("Legal name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Legal name (English)"), max_length=200, required=False)
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=40, required=False,
                           help_text=_("18 characters; not needed for individuals."))
    province = forms.CharField(label=_("Province"), max_length=40)
    city = forms.CharField(label=_("City"), max_length=40, required=False)
    is_holder = forms.BooleanField(label=_("We hold patents and want to license them"), required=False)
    is_licensee = forms.BooleanField(label=_("We want to license patents"), required=False)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail already exists. Sign in instead."))
        return email

    def clean_uscc(self):
        code = normalize_uscc(self.cleaned_data.get("uscc", ""))
        if code:
            validate_uscc(code)
            if Organisation.objects.filter(uscc=code).exists():
                raise forms.ValidationError(
                    _("This organisation is already registered. Ask its administrator to add you as a member.")
                )
        return code or None

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        elif data.get("password1"):
            try:
                validate_password(data["password1"], User(email=data.get("email", "")))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        if data.get("kind") and data["kind"] != OrganisationKind.INDIVIDUAL and not data.get("uscc") \
                and "uscc" not in self.errors:
            self.add_error("uscc", _("Organisations other than individuals need a unified social credit code."))
        if not (data.get("is_holder") or data.get("is_licensee")):
            self.add_error(None, _("Choose at least one role: patent holder, licensee, or both."))
        return data


class OrganisationProfileForm(forms.ModelForm):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = ["name_zh", "name_en", "province", "city", "size", "website", "contact_email", "contact_phone",
                  "description", "is_holder", "is_licensee", "fee_reduction_qualified"]


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=MembershipRole.choices, initial=MembershipRole.MEMBER)
