"""The funnel per listing (views → saves → notices → licences) and per need (proposals → licences), counted
from what people do through the pages, and shown to the listing's holder."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from licensing.licences import services as licence_services
from marketplace.listings import services as listings
from marketplace.listings.funnel import listing_funnels, need_funnels
from marketplace.matching import services as match_refresh
from marketplace.models import FunnelEvent, Need, PatentListingPage, SavedListing
from tests.licensing.factories import DeclarationFactory, holder_admin, holder_member
from tests.parties.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def listing(demo_pages):
    declaration = DeclarationFactory()
    return listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))


def _page_url(declaration, language="zh-hans"):
    return PatentListingPage.objects.get(declaration=declaration, locale__language_code=language).url


def _licensee():
    organisation = OrganisationFactory(is_licensee=True, is_holder=False)
    return organisation, MembershipFactory(organisation=organisation).user


def client_class_instance():
    """A second browser, next to the ``client`` fixture."""
    from django.test import Client

    return Client()


def _take_licence(declaration, organisation, user):
    licence = licence_services.licence_notice_submit(
        declaration=declaration, licensee=organisation, by=user, legal_name=organisation.name_zh,
        uscc=organisation.uscc, contact_name="王经理", contact_email=user.email, contact_phone="",
        field_of_use="储能", accepted_terms_sha256=declaration.terms_version.sha256)
    return licence


def test_views_are_counted_once_per_visitor_and_day_and_not_for_the_holder(client, listing):
    url = _page_url(listing)
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert FunnelEvent.objects.filter(kind="view", declaration=listing).count() == 1
    other = client_class_instance()
    other.get(_page_url(listing, "en"), HTTP_USER_AGENT="another browser")
    assert FunnelEvent.objects.filter(kind="view", declaration=listing).count() == 2
    holder = client_class_instance()
    holder.force_login(holder_member(listing.holder))
    holder.get(url)
    assert listing_funnels(declaration_ids=[listing.pk])[listing.pk].views == 2



def test_a_buyer_saves_and_unsaves_a_listing_and_the_save_is_counted_once(client, listing):
    _organisation, user = _licensee()
    url = _page_url(listing, "en")
    assert "Save listing" not in client.get(url).content.decode()  # anonymous: nothing to save with
    assert client.post(reverse("listing_save", args=[listing.pk])).status_code == 302
    assert not SavedListing.objects.exists()  # the login redirect, not a save
    client.force_login(user)
    with translation.override("en"):
        assert "Save listing" in client.get(url).content.decode()
        response = client.post(reverse("listing_save", args=[listing.pk]), {"next": url})
        assert response.status_code == 302 and response["Location"] == url
        client.post(reverse("listing_save", args=[listing.pk]), {"next": "https://evil.example/"})
        assert "Saved ✓" in client.get(url).content.decode()
        saved_page = client.get(reverse("saved_search_list")).content.decode()
    assert listing.patent.title in saved_page
    assert SavedListing.objects.filter(user=user).count() == 1
    client.post(reverse("listing_unsave", args=[listing.pk]))
    assert not SavedListing.objects.exists()
    assert listing_funnels(declaration_ids=[listing.pk])[listing.pk].saves == 1


def test_notices_and_licences_come_from_the_licences_themselves(listing):
    first, first_user = _licensee()
    second, second_user = _licensee()
    _take_licence(listing, first, first_user)
    licence = _take_licence(listing, second, second_user)
    licence_services.licence_activate(licence=licence)
    funnel = listing_funnels(declaration_ids=[listing.pk])[listing.pk]
    assert (funnel.notices, funnel.licences) == (2, 1)
    # A period before any of it counts nothing.
    earlier = listing_funnels(declaration_ids=[listing.pk], until=timezone.now() - timezone.timedelta(days=1))
    assert earlier[listing.pk].notices == 0


def test_a_need_counts_its_proposals_and_the_licences_its_buyer_took_through_them(client, listing):
    buyer, buyer_user = _licensee()
    need = Need.objects.create(organisation=buyer, title="储能电池热管理", description="需要电池热管理方案")
    unrelated = DeclarationFactory()
    unrelated = listings.declaration_file(declaration=unrelated, by=holder_admin(unrelated.holder))
    client.force_login(holder_member(listing.holder))
    client.post(reverse("need_propose", args=[need.pk]), {"declaration": listing.pk, "message": "正合适"})
    # A licence on the proposed listing counts; one on a listing never proposed nor recommended does not.
    licence_services.licence_activate(licence=_take_licence(listing, buyer, buyer_user))
    licence_services.licence_activate(licence=_take_licence(unrelated, buyer, buyer_user))
    funnel = need_funnels(need_ids=[need.pk])[need.pk]
    assert (funnel.proposals, funnel.licences) == (1, 1)


def test_the_holder_sees_its_listings_funnel_on_companies_that_need_this(client, listing):
    other = client_class_instance()
    other.get(_page_url(listing))
    _organisation, user = _licensee()
    other.force_login(user)
    other.post(reverse("listing_save", args=[listing.pk]))
    match_refresh.listing_matches_refresh(declaration=listing)
    client.force_login(holder_member(listing.holder))
    with translation.override("en"):
        body = client.get(reverse("declaration_needs", args=[listing.pk])).content.decode()
    assert "Your listing&#x27;s funnel" in body or "Your listing's funnel" in body
    assert '<td class="funnel-views">1</td>' in body and '<td class="funnel-saves">1</td>' in body
