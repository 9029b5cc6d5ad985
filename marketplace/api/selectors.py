"""Reads the API needs that no HTML page had a selector for yet; everything else the views take from the
apps' own selectors."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from licensing.models import Declaration, DeclarationState
from licensing.models.licences import Licence
from marketplace.parties.models import Organisation, User
from marketplace.parties.selectors import user_is_ip_office


def public_declarations() -> QuerySet[Declaration]:
    """Published and withdrawn declarations (an open-licence offer is public by law; drafts are not),
    newest publication first."""
    return (Declaration.objects.filter(state__in=[DeclarationState.PUBLISHED, DeclarationState.WITHDRAWN])
            .select_related("patent", "holder", "terms_version").order_by("-published_at", "-pk"))


def licences_visible_to(*, user: User) -> QuerySet[Licence]:
    """The licences the licence list page shows this user: those its organisations took or granted; every
    licence for the IP office and superusers. Never another licensee's licence."""
    qs = Licence.objects.select_related("patent", "licensor", "licensee", "declaration").order_by("-created_at", "-pk")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or user_is_ip_office(user=user):
        return qs
    orgs = Organisation.objects.filter(memberships__user=user)
    return qs.filter(Q(licensee__in=orgs) | Q(licensor__in=orgs))
