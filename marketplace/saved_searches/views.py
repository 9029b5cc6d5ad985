"""Saved-search pages: parse the request, call marketplace.saved_searches.services, render or redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from licensing.models import Declaration
from marketplace.listings import funnel
from marketplace.models import SavedListing, SavedSearch
from marketplace.needs.services import listing_url
from marketplace.saved_searches import services as saved_searches


@login_required
@require_GET
def saved_search_list(request):
    items = [{"saved_search": s, "url": saved_searches.saved_search_url(s)}
             for s in SavedSearch.objects.filter(user=request.user)]
    listings = list(SavedListing.objects.filter(user=request.user)
                    .select_related("declaration__patent", "declaration__holder"))
    for saved in listings:
        saved.url = listing_url(declaration=saved.declaration, language=request.LANGUAGE_CODE)
    return render(request, "marketplace/saved_searches.html", {
        "items": items, "limit": saved_searches.MAX_SAVED_SEARCHES_PER_USER, "saved_listings": listings,
    })


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    from django.utils.http import url_has_allowed_host_and_scheme

    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def listing_save(request, pk: int):
    declaration = get_object_or_404(Declaration, pk=pk)
    try:
        funnel.listing_save(user=request.user, declaration=declaration)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Listing saved. Find it under “Saved searches and listings”."))
    return _back(request, "saved_search_list")


@login_required
@require_POST
def listing_unsave(request, pk: int):
    declaration = get_object_or_404(Declaration, pk=pk)
    funnel.listing_unsave(user=request.user, declaration=declaration)
    messages.success(request, _("Listing removed from your saved listings."))
    return _back(request, "saved_search_list")


@login_required
@require_POST
def saved_search_new(request):
    try:
        saved_searches.saved_search_create(user=request.user, name=request.POST.get("name", ""),
                                           query_string=request.POST.get("query_string", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Search saved. We will e-mail you when new listings match it."))
    return redirect("saved_search_list")


@login_required
@require_POST
def saved_search_delete(request, pk: int):
    saved_search = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    saved_searches.saved_search_delete(saved_search=saved_search, by=request.user)
    messages.success(request, _("Saved search deleted."))
    return redirect("saved_search_list")
