from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from patents.models import Grade, Patent


class InventoryUploadForm(forms.Form):
    file = forms.FileField(label=_("Inventory file (CSV or XLSX)"),
                           help_text=_("CSV in UTF-8 or GBK, or XLSX; English or Chinese column headers."))
    partial = forms.BooleanField(label=_("Import the valid rows even if some rows have errors"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.INVENTORY_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size).1f MB, over the upload limit of %(limit)d MB; split it or use the command line.")
                % {"size": upload.size / 1_048_576, "limit": settings.INVENTORY_MAX_UPLOAD_MB})
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload


class GradeOverrideForm(forms.Form):
    grade = forms.ChoiceField(label=_("Your grade"), choices=[("", _("— use the computed grade —"))] + Grade.choices,
                              required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("grade") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why you set a different grade."))
        return data


class TagsForm(forms.Form):
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000,
                           help_text=_("Separate tags with commas."))

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "").replace("，", ",")
        return [t for t in (p.strip() for p in raw.split(",")) if t]


class BulkTagForm(forms.Form):
    patents = forms.CharField(widget=forms.MultipleHiddenInput, required=False)
    tag = forms.CharField(label=_("Tag to add to the selected patents"), max_length=100)


class EnglishTextForm(forms.ModelForm):
    """The holder's English title and abstract (shown on English pages, searched in both languages)."""

    class Meta:
        model = Patent
        fields = ["title_en", "abstract_en"]
        widgets = {"abstract_en": forms.Textarea(attrs={"rows": 4})}


class StandingForm(forms.ModelForm):
    """What the holder records about the patent's standing for open licensing (grounds for refusal)."""

    class Meta:
        model = Patent
        fields = ["evaluation_report_conclusion", "procedure_suspension", "procedure_suspended_on",
                  "co_owners_agreement_allows_declaring", "pledged", "exclusive_licence_in_force"]
        widgets = {"procedure_suspended_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.needs_evaluation_report:  # inventions have no evaluation report
            del self.fields["evaluation_report_conclusion"]
