"""The listing index and listing pages come from the cache for anonymous visitors (marketplace.listings.cache):
the same page for everyone, counted in the funnel all the same, renewed when a listing is published or
withdrawn, per language, with ETag and Cache-Control; a logged-in visitor always gets a fresh private page of
their own, and no cached page carries anyone's CSRF token or session."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from licensing.models import FeeForm, RoyaltyBase
from marketplace.listings import funnel
from marketplace.listings import services as listings
from marketplace.listings.cache import listing_cache_invalidate
from marketplace.listings.selectors import fee_text
from marketplace.models import FunnelEvent, PatentListingPage
from tests.licensing.factories import DeclarationFactory, LicenceFactory, declaration_withdraw, holder_admin
from tests.parties.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
INDEX = "/zh-hans/listings/"


@pytest.fixture
def listing(demo_pages):
    declaration = DeclarationFactory()
    return listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))


def _url(declaration, language="zh-hans"):
    return PatentListingPage.objects.get(declaration=declaration, locale__language_code=language).url


def _get(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries)


def _buyer():
    organisation = OrganisationFactory(is_licensee=True, is_holder=False)
    return MembershipFactory(organisation=organisation).user


@pytest.mark.parametrize("which", ["index", "listing"])
def test_the_second_anonymous_visit_comes_from_the_cache_without_queries(client, listing, which):
    url = INDEX if which == "index" else _url(listing)
    first, first_queries = _get(client, url)
    second, second_queries = _get(Client(), url)
    assert first.status_code == second.status_code == 200
    assert first_queries > 3 and second_queries <= 1  # at most the funnel's row for a new visitor
    assert second.content == first.content
    assert listing.patent.number in second.content.decode()


def test_a_cached_listing_still_counts_each_visitor_once_a_day(listing):
    url = _url(listing)
    for agent in ("browser one", "browser two", "browser two"):
        assert Client(HTTP_USER_AGENT=agent).get(url).status_code == 200
    assert FunnelEvent.objects.filter(kind="view", declaration=listing).count() == 2


def test_publishing_and_withdrawing_renew_the_cached_pages(client, listing):
    url = _url(listing)
    assert listing.patent.number in client.get(INDEX).content.decode()
    client.get(url)
    other = DeclarationFactory()
    other = listings.declaration_file(declaration=other, by=holder_admin(other.holder))
    assert other.patent.number in Client().get(INDEX).content.decode()
    declaration_withdraw(listings, declaration=listing, by=holder_admin(listing.holder), reason="Assigned")
    assert listing.patent.number not in Client().get(INDEX).content.decode()
    assert Client().get(url).status_code == 404


def test_invalidating_one_declaration_renews_its_page(listing):
    url = _url(listing)
    assert '<span class="licence-count">0</span>' in Client().get(url).content.decode()
    LicenceFactory(declaration=listing, active=True)
    assert '<span class="licence-count">0</span>' in Client().get(url).content.decode()  # still the stored page
    listing_cache_invalidate(declaration_ids=[listing.pk])
    assert '<span class="licence-count">1</span>' in Client().get(url).content.decode()


def test_each_language_has_its_own_cached_page(client, listing):
    chinese = client.get(INDEX).content.decode()
    english = client.get("/en/listings/").content.decode()
    assert '<html lang="zh-hans">' in chinese and '<html lang="en">' in english
    with translation.override("en"):
        assert "Lump sum" in Client().get("/en/listings/").content.decode()
    assert '<html lang="en">' in Client().get(_url(listing, "en")).content.decode()
    assert '<html lang="zh-hans">' in Client().get(_url(listing)).content.decode()


@pytest.mark.parametrize("which", ["index", "listing"])
def test_anonymous_pages_are_public_for_a_short_while_with_an_etag_and_answer_304(listing, which):
    url = INDEX if which == "index" else _url(listing)
    for attempt in ("rendered", "from the cache"):
        response = Client().get(url)
        assert response.status_code == 200, attempt
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert cache_control == {"public", "max-age=60"}, attempt
        assert "Cookie" in response["Vary"] and response["ETag"].startswith('"')
        # The site's security headers are added around the cache, to stored pages as well.
        assert response.has_header("Content-Security-Policy") and response["X-Frame-Options"] == "DENY"
    not_modified = Client().get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == response["ETag"]
    assert Client().get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_cached_page_carries_no_csrf_token_and_sets_no_cookie(listing):
    url = _url(listing)
    someone = Client()
    someone.get("/zh-hans/accounts/login/")  # has a CSRF cookie of their own now
    assert "csrftoken" in someone.cookies
    for client in (someone, Client(), Client()):
        response = client.get(url)
        body = response.content.decode()
        assert "csrfmiddlewaretoken" not in body and someone.cookies["csrftoken"].value not in body
        assert not response.cookies
    # The language switch of a cached page is a pair of links to the same listing in each language.
    assert f'value="{_url(listing, "en")}"' in body


def test_a_logged_in_visitor_gets_a_fresh_private_page_of_their_own(listing):
    url = _url(listing)
    anonymous = Client().get(url).content.decode()  # now stored
    alice, bob = _buyer(), _buyer()
    funnel.listing_save(user=bob, declaration=listing)
    as_alice, as_bob = Client(), Client()
    as_alice.force_login(alice)
    as_bob.force_login(bob)
    for _ in range(2):
        bob_page = as_bob.get(url)
        alice_page = as_alice.get(url)
        for response, me, other in ((alice_page, alice, bob), (bob_page, bob, alice)):
            body = response.content.decode()
            assert me.email in body and other.email not in body
            assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
            assert "ETag" not in response and "Cookie" in response["Vary"]
        unsave = f"/listings/{listing.pk}/unsave/"  # Bob saved the listing, Alice did not
        assert unsave in bob_page.content.decode() and unsave not in alice_page.content.decode()
        assert bob_page.content.decode() != anonymous and alice_page.content.decode() != anonymous
    # ... and what the logged-in visitors saw was never stored for anyone else.
    again = Client().get(url).content.decode()
    assert again == anonymous and alice.email not in again and bob.email not in again


def test_the_cost_calculator_is_computed_for_the_visitor_and_not_stored(client, listing):
    url = _url(listing)
    response = client.get(url, {"annual_net_sales": "100000"})
    assert "cost-total" in response.content.decode() and "private" in response["Cache-Control"]
    assert "cost-total" not in Client().get(url).content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("offer", [
    {"fee_form": FeeForm.LUMP_SUM, "lump_sum_fen": 5_000_000},
    {"fee_form": FeeForm.ROYALTY, "royalty_rate": "3.50", "royalty_base": RoyaltyBase.NET_SALES},
    {"fee_form": FeeForm.ROYALTY, "royalty_rate": "5", "royalty_base": RoyaltyBase.PROFIT,
     "annual_minimum_fen": 1_000_000},
    {"fee_form": FeeForm.ENTRY_PLUS_ROYALTY, "entry_fee_fen": 2_000_000, "royalty_rate": "2.00",
     "royalty_base": RoyaltyBase.NET_SALES, "annual_minimum_fen": 500_000},
])
def test_the_index_writes_the_fee_as_the_fee_template_does(language, offer):
    from decimal import Decimal

    fields = {"lump_sum_fen": None, "entry_fee_fen": None, "royalty_rate": None, "royalty_base": "",
              "annual_minimum_fen": None, **offer}
    if fields["royalty_rate"] is not None:
        fields["royalty_rate"] = Decimal(fields["royalty_rate"]).quantize(Decimal("0.01"))
    declaration = DeclarationFactory.build(**fields)
    with translation.override(language):
        rendered = render_to_string("licensing/_fee.html", {"declaration": declaration})
        assert rendered.strip() == f'<span class="fee">{fee_text(**fields)}</span>'


def test_rendering_a_page_takes_as_many_queries_with_more_listings(listing):
    """The renders the cache stores stay constant in the data size too (one query per list, plain values)."""
    def rendered_queries():
        listing_cache_invalidate()
        return [_get(Client(), url)[1] for url in (INDEX, "/en/listings/", _url(listing), _url(listing, "en"))]

    rendered_queries()  # process-wide caches (content types, sites, locales) filled once
    few = rendered_queries()
    for _ in range(5):
        other = DeclarationFactory()
        listings.declaration_file(declaration=other, by=holder_admin(other.holder))
    assert rendered_queries() == few
    assert len(PatentListingPage.objects.live()) == 12


def test_a_visitor_with_a_message_waiting_gets_it_on_a_fresh_page_that_is_not_stored(listing):
    url = _url(listing)
    stored = Client().get(url).content.decode()
    visitor = Client()
    visitor.force_login(_buyer())
    visitor.post(reverse("listing_save", args=[listing.pk]), {"next": url})  # "Listing saved" waits to be shown
    visitor.post(reverse("logout"))  # anonymous again, the message still waiting in its cookie
    with_message = visitor.get(url)
    assert '<ul class="messages">' in with_message.content.decode()
    assert "private" in with_message["Cache-Control"]
    assert Client().get(url).content.decode() == stored
