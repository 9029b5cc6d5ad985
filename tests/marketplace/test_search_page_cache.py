"""The search page is stored for anonymous visitors per address (its query string is the search): a repeated
search comes from the cache, a listing published or withdrawn shows at once, each language and each query has
its own copy, and a logged-in visitor or a visitor with a message waiting always gets a fresh private page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.listings import services as listings
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, eligible_patent, holder_admin
from tests.parties.factories import HolderFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
SEARCH = "/zh-hans/search/"


def publish(title):
    holder = HolderFactory()
    declaration = DeclarationFactory(patent=eligible_patent(holder=holder, title=title), holder=holder)
    return listings.declaration_file(declaration=declaration, by=holder_admin(holder))


def get(url, data=None, client=None):
    with CaptureQueriesContext(connection) as queries:
        response = (client or Client()).get(url, data or {})
    return response, len(queries)


def test_a_repeated_anonymous_search_comes_from_the_cache(demo_pages):
    battery = publish("一种锂电池管理方法")
    first, first_queries = get(SEARCH, {"q": "电池"})
    second, second_queries = get(SEARCH, {"q": "电池"})
    assert first.status_code == second.status_code == 200
    assert battery.patent.number in second.content.decode()
    assert second.content == first.content and second_queries == 0 < first_queries
    assert second["Cache-Control"] == first["Cache-Control"] and "public" in second["Cache-Control"]
    assert 'name="csrfmiddlewaretoken"' not in second.content.decode()
    # Another query, another language: other pages.
    other, other_queries = get(SEARCH, {"q": "发动机"})
    assert other_queries > 0 and battery.patent.number not in other.content.decode()
    english, english_queries = get("/en/search/", {"q": "电池"})
    assert english_queries > 0 and 'href="/en/' in english.content.decode()


def test_a_listing_published_or_withdrawn_shows_in_the_stored_search_at_once(demo_pages):
    first = publish("一种锂电池管理方法")
    get(SEARCH, {"q": "电池"})
    second = publish("一种固态电池电解质")
    response, queries = get(SEARCH, {"q": "电池"})
    assert queries > 0 and second.patent.number in response.content.decode()
    declaration_withdraw(listings, declaration=first, by=holder_admin(first.holder), reason="Assigned")
    response, _queries = get(SEARCH, {"q": "电池"})
    assert first.patent.number not in response.content.decode()
    assert second.patent.number in response.content.decode()


def test_a_logged_in_visitor_always_gets_a_fresh_private_search(demo_pages):
    publish("一种锂电池管理方法")
    get(SEARCH, {"q": "电池"})  # stored for anonymous visitors
    buyer = Client()
    buyer.force_login(MembershipFactory(organisation=OrganisationFactory(is_licensee=True)).user)
    response, queries = get(SEARCH, {"q": "电池"}, client=buyer)
    assert queries > 0 and "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()  # the "save this search" form is theirs
    again, _ = get(SEARCH, {"q": "电池"})
    assert 'name="csrfmiddlewaretoken"' not in again.content.decode()
