"""Reads the API needs that no HTML page had a selector for yet; everything else the views take from the
apps' own selectors."""

from __future__ import annotations

from django.db.models import QuerySet

from licensing.models import Declaration, DeclarationState


def public_declarations() -> QuerySet[Declaration]:
    """Published and withdrawn declarations (an open-licence offer is public by law; drafts are not),
    newest publication first."""
    return (Declaration.objects.filter(state__in=[DeclarationState.PUBLISHED, DeclarationState.WITHDRAWN])
            .select_related("patent", "holder", "terms_version").order_by("-published_at", "-pk"))

