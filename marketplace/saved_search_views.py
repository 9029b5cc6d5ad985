"""Saved-search pages: parse the request, call marketplace.saved_searches, render or redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketplace import saved_searches
from marketplace.models import SavedSearch


@login_required
@require_GET
def saved_search_list(request):
    items = [{"saved_search": s, "url": saved_searches.saved_search_url(s)}
             for s in SavedSearch.objects.filter(user=request.user)]
    return render(request, "marketplace/saved_searches.html", {
        "items": items, "limit": saved_searches.MAX_SAVED_SEARCHES_PER_USER,
    })


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
