from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from licensing.declarations.selectors import licensing_next_steps
from marketplace.listings.editors import listing_next_steps
from marketplace.parties.selectors import NextStep, dashboard_next_steps, memberships_for_user
from patents.inventory.selectors import inventory_next_steps


def healthz(request):
    """Liveness for load balancers and the tooling: the app answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def marketplace_next_steps(*, membership) -> list[NextStep]:
    """Dashboard steps on the demand side: needs for licensees, needs to answer for holders."""
    org = membership.organisation
    steps = []
    if org.is_licensee:
        steps.append(NextStep(_("Post a technical need"), _("Tell holders what you want to license and your budget."),
                              reverse("need_new")))
        steps.append(NextStep(_("Your needs and proposals"), _("Proposals from holders, in one place."),
                              reverse("need_mine")))
    if org.is_ip_office:
        steps.append(NextStep(_("Build a securitization pool"),
                              _("Select licences by grade, field and remaining life, preview the concentration, freeze "
                                "the pool and download its tape."), reverse("pool_list")))
    if org.is_holder:
        steps.append(NextStep(_("Answer buyers' needs"), _("Propose your listings to companies that need them."),
                              reverse("need_board")))
    return steps


@login_required
def dashboard(request):
    """Each membership with what its member can do next; every capability contributes its own steps."""
    cards = [(m, inventory_next_steps(membership=m) + licensing_next_steps(membership=m) + marketplace_next_steps(membership=m)
              + listing_next_steps(membership=m) + dashboard_next_steps(membership=m))
             for m in memberships_for_user(user=request.user)]
    return render(request, "parties/dashboard.html", {"cards": cards})
