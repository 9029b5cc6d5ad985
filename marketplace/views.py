from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from licensing.selectors import licensing_next_steps
from marketplace.parties.selectors import dashboard_next_steps, memberships_for_user
from patents.selectors import inventory_next_steps


def healthz(request):
    """Liveness for load balancers and the tooling: the app answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def dashboard(request):
    """Each membership with what its member can do next; every capability contributes its own steps."""
    cards = [(m, inventory_next_steps(membership=m) + licensing_next_steps(membership=m) + dashboard_next_steps(membership=m))
             for m in memberships_for_user(user=request.user)]
    return render(request, "parties/dashboard.html", {"cards": cards})
