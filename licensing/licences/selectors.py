"""Reads on licences: which licences a user may see. The licence pages, the certificate and recording pages and
the API all take the rule from here."""

from django.db.models import Q, QuerySet
from django.http import Http404

from licensing.models.licences import LIVE_LICENCE_STATES, Licence
from marketplace.parties.models import Organisation, User
from marketplace.parties.selectors import user_is_ip_office


def _licences() -> QuerySet[Licence]:
    return Licence.objects.select_related("patent", "licensor", "licensee", "declaration").order_by("-created_at", "-pk")


def licences_visible_to(*, user: User) -> QuerySet[Licence]:
    """The licences this user may see, newest first: those its organisations took or granted; every licence for
    the IP office and superusers; none for an anonymous visitor. Never another organisation's licence."""
    qs = _licences()
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or user_is_ip_office(user=user):
        return qs
    orgs = Organisation.objects.filter(memberships__user=user)
    return qs.filter(Q(licensee__in=orgs) | Q(licensor__in=orgs))


def licence_visible_to(*, user: User, licence_id: int, licensee_only: bool = False) -> Licence:
    """One licence this user may see (as licences_visible_to); with `licensee_only`, one its organisations took
    (superusers too; the licensor and the IP office not), for the licensee's own actions such as paying.

    Raises Http404 when there is no such licence or the user may not see it: another organisation's licence is
    not acknowledged to exist."""
    if not licensee_only:
        qs = licences_visible_to(user=user)
    elif not user.is_authenticated:
        qs = _licences().none()
    elif user.is_superuser:
        qs = _licences()
    else:
        qs = _licences().filter(licensee__in=Organisation.objects.filter(memberships__user=user))
    licence = qs.filter(pk=licence_id).first()
    if licence is None:
        raise Http404
    return licence


def declarations_licensed_by(*, organisation_id: int) -> QuerySet:
    """Ids of the declarations under which the organisation holds a live licence (notice given, being paid or
    active): it cannot take another there, so recommending them again is noise."""
    return (Licence.objects.filter(licensee_id=organisation_id, state__in=LIVE_LICENCE_STATES)
            .values("declaration_id"))
