"""The IP office's view of the background work. Only the IP office (and superusers) may see it; everyone else
gets 404, as on the office's other pages."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketplace.parties.selectors import user_is_ip_office
from marketplace.scheduling import selectors


@login_required
@require_GET
def background_tasks(request):
    if not (request.user.is_superuser or user_is_ip_office(user=request.user)):
        raise Http404
    state = request.GET.get("state") or None
    counts = selectors.background_task_counts()
    return render(request, "marketplace/office/tasks.html", {
        "tasks": selectors.background_tasks(state=state), "state": state,
        "states": [(key, label, counts[key]) for key, label in selectors.STATES.values()]})
