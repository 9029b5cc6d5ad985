"""Reads on parties: who may act for which organisation, and what a user should do next."""

from dataclasses import dataclass

from django.db.models import QuerySet

from marketplace.parties.models import Membership, MembershipRole, Organisation, OrganisationKind, User


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name_zh")


def user_is_ip_office(*, user: User) -> bool:
    """IP-office staff see everything read-only (plus their own tools)."""
    return user.is_authenticated and Membership.objects.filter(
        user=user, organisation__kind=OrganisationKind.IP_OFFICE
    ).exists()


def user_is_org_admin(*, user: User, organisation: Organisation) -> bool:
    return user.is_authenticated and (
        user.is_superuser
        or Membership.objects.filter(user=user, organisation=organisation, role=MembershipRole.ADMIN).exists()
    )


def user_can_view_organisation(*, user: User, organisation: Organisation) -> bool:
    """Members see their own organisation's private profile; the IP office and superusers see all."""
    if not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or user_is_ip_office(user=user)
        or Membership.objects.filter(user=user, organisation=organisation).exists()
    )


def organisation_list(*, user: User) -> QuerySet[Organisation]:
    """The organisations a user may browse: all of them for the IP office, else their own."""
    qs = Organisation.objects.all().order_by("kind", "name_zh")
    if user.is_superuser or user_is_ip_office(user=user):
        return qs
    return qs.filter(memberships__user=user).distinct()


@dataclass(frozen=True)
class NextStep:
    title: str
    description: str
    url: str


def dashboard_next_steps(*, membership: Membership) -> list[NextStep]:
    """What this member can do next, by the organisation's roles and the member's role.

    Later capabilities (inventory, declarations, licences, pools) add their steps here."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    org = membership.organisation
    steps: list[NextStep] = []
    if org.is_ip_office:
        steps.append(NextStep(_("Browse organisations"), _("See every holder and licensee on the platform (read-only)."),
                              reverse("organisation_list")))
    if membership.is_admin:
        steps.append(NextStep(_("Complete your profile"),
                              _("Add a description, website and contact details that buyers and holders see."),
                              reverse("organisation_edit", args=[org.slug])))
        steps.append(NextStep(_("Invite colleagues"), _("Add members who act for your organisation."),
                              reverse("organisation_detail", args=[org.slug]) + "#members"))
    return steps


def organisation_by_reference(reference: str) -> Organisation | None:
    """An organisation by slug or by unified social credit code (how commands and APIs name one)."""
    from marketplace.parties.validators import normalize_uscc

    reference = (reference or "").strip()
    return (Organisation.objects.filter(slug=reference).first()
            or Organisation.objects.filter(uscc=normalize_uscc(reference)).first())
