"""Thin views: parse input, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, get_language_from_path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.parties import notifications, selectors, services
from marketplace.parties.forms import MemberAddForm, OrganisationProfileForm, SignUpForm
from marketplace.parties.models import Membership, Organisation
from marketplace.parties.notifications import notification_text, notifications_for, notifications_mark_read


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = services.organisation_register(
                email=data["email"], password=data["password1"], first_name=data["first_name"],
                last_name=data["last_name"], kind=data["kind"], name_zh=data["name_zh"], name_en=data["name_en"],
                uscc=data["uscc"], province=data["province"], city=data["city"],
                is_holder=data["is_holder"], is_licensee=data["is_licensee"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your organisation %(name)s is registered.") % {
                "name": membership.organisation.name_zh})
            return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def organisation_list(request):
    organisations = selectors.organisation_list(user=request.user)
    return render(request, "parties/organisation_list.html", {"organisations": organisations})


def organisation_detail(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug)
    can_view_private = selectors.user_can_view_organisation(user=request.user, organisation=organisation)
    is_admin = selectors.user_is_org_admin(user=request.user, organisation=organisation)
    add_form = MemberAddForm(request.POST or None) if is_admin else None
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if add_form.is_valid():
            membership, created = services.membership_add(
                organisation=organisation, email=add_form.cleaned_data["email"],
                role=add_form.cleaned_data["role"], by=request.user,
            )
            if created:
                notifications.send_member_invitation(membership=membership, request=request)
            messages.success(request, _("%(email)s is now a member.") % {"email": membership.user.email})
            return redirect("organisation_detail", slug=slug)
    members = organisation.memberships.select_related("user").order_by("role", "user__email") \
        if can_view_private else None
    return render(request, "parties/organisation_detail.html", {
        "organisation": organisation, "members": members, "is_admin": is_admin, "add_form": add_form,
    })


@login_required
def organisation_edit(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug)
    if not selectors.user_is_org_admin(user=request.user, organisation=organisation):
        raise PermissionDenied
    form = OrganisationProfileForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(organisation=organisation, by=request.user, **{
                name: form.cleaned_data[name] for name in form.Meta.fields})
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("organisation_detail", slug=slug)
    return render(request, "parties/organisation_edit.html", {"organisation": organisation, "form": form})


@login_required
@require_POST
def membership_remove(request, slug, pk):
    membership = get_object_or_404(Membership, pk=pk, organisation__slug=slug)
    try:
        services.membership_remove(membership=membership, by=request.user)
    except services.PartiesPermissionDenied as exc:
        raise PermissionDenied from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Member removed."))
    return redirect("organisation_detail", slug=slug)


@login_required
def notification_list(request):
    page = Paginator(notifications_for(user=request.user), 30).get_page(request.GET.get("page"))
    items = [{"n": n, "text": notification_text(n.kind, n.params)} for n in page.object_list]
    return render(request, "parties/notifications.html", {"page": page, "items": items})


@login_required
def notification_open(request, pk):
    """Open one notification: marks it read and goes to what it is about. Only its recipient may (404)."""
    notification = get_object_or_404(notifications_for(user=request.user), pk=pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect("notification_list")
    # Stored in the language that was active when it was made; the reader goes on in the language of the page
    # it is reading (translate_url resolves the path in the language it is written in).
    reader = get_language()
    with translation.override(get_language_from_path(target) or reader):
        return redirect(translate_url(target, reader))


@login_required
@require_POST
def notifications_read_all(request):
    notifications_mark_read(user=request.user)
    return redirect("notification_list")
