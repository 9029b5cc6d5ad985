"""Pages of the matching: "Recommended for you" (a need's ranked listings, for the buyer) and "Companies that
need this" (a listing's ranked needs, for the holder). Both also for the IP office; everyone else gets 404 so
that hidden needs and listings do not show they exist."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language

from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration
from marketplace.listings import funnel
from marketplace.matching import services as match_refresh
from marketplace.models import Need
from marketplace.needs import services as needs
from marketplace.parties.models import Membership
from marketplace.parties.selectors import user_is_ip_office


def _is_ip_office(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user_is_ip_office(user=user))


def need_matches(request, pk):
    need = Need.objects.select_related("organisation").filter(pk=pk).first()
    if need is None or not (needs.need_is_own(need=need, user=request.user) or _is_ip_office(request.user)):
        raise Http404
    stored = match_refresh.matches_for_need(need=need)
    language = get_language()
    for match in stored.matches:
        match.listing_url = needs.listing_url(declaration=match.declaration, language=language)
    return render(request, "marketplace/need_matches.html", {
        "need": need, "matches": stored.matches, "status": stored,
        "funnel": funnel.need_funnels(need_ids=[need.pk])[need.pk]})


def declaration_needs(request, pk):
    declaration = (Declaration.objects.select_related("patent", "holder")
                   .filter(pk=pk, state__in=LICENSABLE_DECLARATION_STATES).first())
    if declaration is None:
        raise Http404
    member = request.user.is_authenticated and Membership.objects.filter(
        user=request.user, organisation_id=declaration.holder_id).exists()
    if not (member or _is_ip_office(request.user)):
        raise Http404
    stored = match_refresh.matches_for_declaration(declaration=declaration)
    return render(request, "marketplace/declaration_needs.html", {
        "declaration": declaration, "matches": stored.matches, "status": stored,
        "funnel": funnel.listing_funnels(declaration_ids=[declaration.pk])[declaration.pk]})
