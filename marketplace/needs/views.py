"""Pages of the needs board: parse the request, call one service or selector from marketplace.needs.services, render.
Who may do what is decided in the services (marketplace.exceptions.NotAllowed → 403)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from licensing.declarations.forms import MoneyField, yuan_to_fen
from licensing.models import Declaration, FeeForm
from marketplace.exceptions import NotAllowed
from marketplace.models import Need
from marketplace.needs import services as needs
from patents.inventory.selectors import field_choices


class NeedForm(forms.Form):
    """A need as the buyer types it: money in yuan, turned into fen for the service."""

    # Starts at the buyer's (first) organisation: there is no "none" to offer.
    organisation = forms.ModelChoiceField(label=gettext_lazy("For organisation"), queryset=None, empty_label=None)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(label=gettext_lazy("What technology do you need, and for what?"),
                                  widget=forms.Textarea(attrs={"rows": 5}))
    technology_field = forms.TypedChoiceField(label=gettext_lazy("Technology field"), coerce=int, required=False,
                                              empty_value=None)
    ipc_prefix = forms.CharField(label=gettext_lazy("IPC (prefix)"), max_length=20, required=False)
    budget_min = MoneyField(label=gettext_lazy("Budget from (RMB)"))
    budget_max = MoneyField(label=gettext_lazy("Budget up to (RMB)"))
    horizon_years = forms.IntegerField(label=gettext_lazy("Planning horizon (years)"), min_value=1, max_value=20,
                                       initial=3)
    expected_annual_net_sales = MoneyField(label=gettext_lazy("Expected yearly net sales (RMB)"))
    preferred_fee_form = forms.ChoiceField(label=gettext_lazy("Preferred fee form"), required=False,
                                           choices=[("", "—"), *FeeForm.choices])
    region = forms.CharField(label=gettext_lazy("Region"), max_length=40, required=False)
    deadline = forms.DateField(label=gettext_lazy("Deadline"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    anonymous = forms.BooleanField(label=gettext_lazy("Hide our name on the public board"), required=False)
    public = forms.BooleanField(label=gettext_lazy("Show on the public needs board"), required=False, initial=True)

    # Service field name → form field name, so the service's errors land next to the right input.
    FIELD_MAP = {"budget_min_fen": "budget_min", "budget_max_fen": "budget_max",
                 "expected_annual_net_sales_fen": "expected_annual_net_sales"}

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].initial = organisations.first()
        self.fields["technology_field"].choices = [("", "—"), *field_choices()]

    def clean(self):
        data = super().clean()
        low, high = data.get("budget_min"), data.get("budget_max")
        if low is not None and high is not None and high < low:
            self.add_error("budget_max", _("The upper end of the budget is below its lower end."))
        return data

    def need_fields(self) -> dict:
        d = self.cleaned_data
        return {"title": d["title"], "description": d["description"], "technology_field": d["technology_field"],
                "ipc_prefix": d["ipc_prefix"].strip().upper(), "budget_min_fen": yuan_to_fen(d["budget_min"]),
                "budget_max_fen": yuan_to_fen(d["budget_max"]), "horizon_years": d["horizon_years"],
                "expected_annual_net_sales_fen": yuan_to_fen(d["expected_annual_net_sales"]),
                "preferred_fee_form": d["preferred_fee_form"], "region": d["region"].strip(),
                "deadline": d["deadline"], "anonymous": d["anonymous"], "public": d["public"]}

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                name = self.FIELD_MAP.get(name, name)
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)


class ProposalForm(forms.Form):
    declaration = forms.ModelChoiceField(label=gettext_lazy("Your listing"), queryset=None,
                                         empty_label=gettext_lazy("Choose…"))
    message = forms.CharField(label=gettext_lazy("Message to the buyer"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, declarations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["declaration"].queryset = declarations
        self.fields["declaration"].label_from_instance = lambda d: f"{d.patent.number} · {d.patent.shown_title}"


def need_board(request):
    board = needs.need_board(params=request.GET)
    page = Paginator(board.needs, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "marketplace/need_board.html", {
        "filter": board.filterset, "facets": board.facets, "page": page, "total": board.needs.count(),
        "query": query.urlencode()})


@login_required
def need_new(request):
    organisations = needs.user_licensee_organisations(user=request.user)
    if not organisations.exists():
        raise PermissionDenied(_("Only members of a licensee organisation may post a need."))
    form = NeedForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            need = needs.need_post(organisation=form.cleaned_data["organisation"], by=request.user,
                                   **form.need_fields())
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your need is posted. Holders can now propose their listings."))
            return redirect("need_detail", pk=need.pk)
    return render(request, "marketplace/need_new.html", {"form": form}, status=400 if form.errors else 200)


def need_detail(request, pk):
    need = needs.need_visible(need_id=pk, user=request.user)
    if need is None:
        raise Http404
    own = needs.need_is_own(need=need, user=request.user)
    context = {"need": need, "own": own, "proposals": None, "proposal_form": None}
    if own:
        language = get_language()
        proposals = list(needs.proposals_of_need(need=need))
        for proposal in proposals:
            proposal.listing_url = needs.listing_url(declaration=proposal.declaration, language=language)
        context["proposals"] = proposals
    elif need.state == Need.State.OPEN and request.user.is_authenticated:
        declarations = needs.declarations_proposable(user=request.user, need=need)
        if declarations.exists():
            context["proposal_form"] = ProposalForm(declarations=declarations)
    return render(request, "marketplace/need_detail.html", context)


@login_required
@require_POST
def need_propose(request, pk):
    need = get_object_or_404(Need, pk=pk)
    # Any declaration the user could name; the service decides whether this user may propose it.
    form = ProposalForm(request.POST, declarations=Declaration.objects.select_related("patent"))
    if not form.is_valid():
        messages.error(request, _("Choose one of your published listings."))
        return redirect("need_detail", pk=pk)
    try:
        needs.proposal_make(need=need, declaration=form.cleaned_data["declaration"], by=request.user,
                            message=form.cleaned_data["message"])
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Your listing was proposed to the buyer."))
    return redirect("need_detail", pk=pk)


@login_required
def need_mine(request):
    organisations = needs.user_licensee_organisations(user=request.user)
    if not organisations.exists():
        raise PermissionDenied(_("Only members of a licensee organisation have needs."))
    own_needs = list(needs.needs_of_organisations(organisations=organisations))
    language = get_language()
    for need in own_needs:
        for proposal in need.proposals.all():
            proposal.listing_url = needs.listing_url(declaration=proposal.declaration, language=language)
    return render(request, "marketplace/need_mine.html", {"needs": own_needs})


@login_required
@require_POST
def need_close(request, pk):
    need = get_object_or_404(Need, pk=pk)
    try:
        needs.need_close(need=need, by=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("The need is closed and no longer on the board."))
    return redirect("need_mine")
