"""Reads the API needs that no HTML page had a selector for yet; everything else the views take from the
apps' own selectors."""

from __future__ import annotations

from django.db.models import QuerySet

from licensing.models import Declaration, DeclarationState


def public_declarations() -> QuerySet[Declaration]:
    """Declarations filed at CNIPA, announced, being withdrawn or withdrawn (an open-licence offer is public;
    drafts are not), newest filing first."""
    return (Declaration.objects.exclude(state=DeclarationState.DRAFT)
            .select_related("patent", "holder", "terms_version").order_by("-filed_at", "-pk"))

