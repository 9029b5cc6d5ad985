"""Contract recording (备案) pages: the deadline list, one licence's recording pack with the form that notes
its recording, and their CSV/XLSX exports. Thin views over licensing.recording.services."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.exceptions import NotAllowed
from licensing.licences.selectors import licence_visible_to
from licensing.models.licences import Licence
from licensing.recording import services as recording
from licensing.recording.exports import RecordingPackExporter


class MarkRecordedForm(forms.Form):
    recording_number = forms.CharField(label=gettext_lazy("Recording number"), max_length=60)
    recorded_on = forms.DateField(label=gettext_lazy("Recorded on"), widget=forms.DateInput(attrs={"type": "date"}))


def _attachment(export, filename: str) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export.extension}"'
    return response


def _effective_licence(request, pk) -> Licence:
    licence = licence_visible_to(user=request.user, licence_id=pk)  # 404 for anyone but the parties, the IP office and superusers
    if recording.licence_activation_day(licence) is None:
        raise Http404  # nothing to record before the licence takes effect
    return licence


@login_required
def recording_list(request):
    recordings = recording.recordings_for(request.user, params=request.GET)
    page = Paginator(recordings.queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "licensing/recording_list.html", {
        "recordings": recordings, "page": page, "rows": recordings.rows(page.object_list),
        "query": query.urlencode(), "period_months": recording.RECORDING_PERIOD_MONTHS,
        "due_soon_days": recording.DUE_SOON_DAYS, "source": recording.RECORDING_SOURCE,
    })


@login_required
def recording_export(request, fmt):
    if fmt not in RecordingPackExporter.formats:
        raise Http404
    recordings = recording.recordings_for(request.user, params=request.GET)
    if not recordings.is_valid:
        # Exporting everything when a filter was mistyped would look like the filtered list; refuse instead.
        return HttpResponseBadRequest(_("Invalid filter: %(errors)s") % {"errors": recordings.filterset.errors.as_text()},
                                      content_type="text/plain; charset=utf-8")
    export = RecordingPackExporter(recordings.rows()).render(fmt)
    return _attachment(export, f"recordings-{recordings.today.isoformat()}")


@login_required
def licence_recording(request, pk):
    licence = _effective_licence(request, pk)
    form = MarkRecordedForm(request.POST or None, initial={"recorded_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            recording.licence_mark_recorded(licence=licence, recording_number=form.cleaned_data["recording_number"],
                                            recorded_on=form.cleaned_data["recorded_on"], by=request.user)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The licence is marked as recorded."))
            return redirect("licence_recording", pk=licence.pk)
    return render(request, "licensing/recording_detail.html", {
        "licence": licence, "row": recording.recording_row(licence, today=timezone.localdate()),
        "pack": recording.recording_pack(licence), "form": form,
        "can_record": recording.user_is_party(user=request.user, licence=licence),
        "period_months": recording.RECORDING_PERIOD_MONTHS, "source": recording.RECORDING_SOURCE,
    })


@login_required
def licence_recording_export(request, pk, fmt):
    if fmt not in RecordingPackExporter.formats:
        raise Http404
    licence = _effective_licence(request, pk)
    row = recording.recording_row(licence, today=timezone.localdate())
    export = RecordingPackExporter([row]).render(fmt)
    return _attachment(export, f"recording-{licence.certificate_number or licence.pk}")
