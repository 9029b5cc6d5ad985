"""Database queries per page (listing index, a listing, search, the IP office's dashboard, a holder's portfolio),
counted through Django's test client as a signed-in visitor of each page would load them. The counts must not
depend on how many patents, listings or licences there are; tests/bench/test_query_counts.py asserts that at two
sizes and `bench.run` records them at each size it measures."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

PAGES = ("listing index", "listing", "search", "dashboard", "portfolio")


def bench_people() -> dict:
    """An IP-office member and an admin of the largest holder, made once (bench-only accounts)."""
    from django.db.models import Count

    from marketplace.demo.seed import demo_uscc
    from marketplace.parties.models import Membership, MembershipRole, Organisation, OrganisationKind, User

    office, _ = Organisation.objects.get_or_create(
        slug="bench-ip-office", defaults={"kind": OrganisationKind.IP_OFFICE, "name_zh": "基准市知识产权局",
                                          "name_en": "Bench City IP Office", "province": "广东省",
                                          "uscc": demo_uscc("11440300999999990")})
    holder = (Organisation.objects.filter(is_holder=True).annotate(n=Count("patents")).order_by("-n", "pk").first())
    people = {}
    for key, org in (("office", office), ("holder", holder)):
        email = f"bench-{key}@bench.test"
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
        Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": MembershipRole.ADMIN})
        people[key] = user
    people["holder_slug"] = holder.slug
    return people


def page_urls(people: dict) -> dict[str, tuple[str, object]]:
    """page name -> (URL, the user who looks at it or None)."""
    from marketplace.models import PatentListingPage

    listing = (PatentListingPage.objects.live().filter(alias_of__isnull=True).order_by("pk").first())
    return {
        "listing index": ("/zh-hans/listings/", None),
        "listing": (listing.url if listing else "/zh-hans/listings/", None),
        "search": ("/zh-hans/search/?q=%E7%94%B5%E6%B1%A0&fee_form=lump_sum", None),
        "dashboard": ("/zh-hans/office/statistics/", people["office"]),
        "portfolio": (f"/zh-hans/portfolio/?holder={people['holder_slug']}", people["holder"]),
    }


def forget_stored_pages() -> None:
    """Make the next visit render: anonymous listing and search pages, and facet counts, are otherwise served
    from the cache (marketplace.listings.cache, marketplace.search)."""
    from marketplace.listings.cache import listing_cache_invalidate
    from marketplace.search.documents import search_counts_forget

    listing_cache_invalidate()
    search_counts_forget()


def page_query_counts() -> dict[str, dict]:
    """{page: {"url", "status", "queries", "queries_from_cache"}} for each page of PAGES, on the current
    database: the queries of a rendered second visit (the stored pages and counts forgotten first) and of a
    visit served from the cache."""
    people = bench_people()
    out = {}
    for name, (url, user) in page_urls(people).items():
        client = Client()
        if user is not None:
            client.force_login(user)
        client.get(url)  # first visit: sessions, caches and the funnel's once-a-day view
        forget_stored_pages()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        with CaptureQueriesContext(connection) as cached:
            client.get(url)
        out[name] = {"url": url, "status": response.status_code, "queries": len(captured),
                     "queries_from_cache": len(cached)}
    return out
