"""Listing pages follow their declarations: published → live page in both languages, withdrawn → off the
marketplace; the page shows the offer, the patent and the way to take a licence."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from licensing.models import DeclarationState
from marketplace.listings import services as listings
from marketplace.models import ListingIndexPage, PatentListingPage
from tests.licensing.factories import DeclarationFactory, LicenceTermsFactory, declaration_withdraw, eligible_patent, holder_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(demo_pages):
    declaration = DeclarationFactory()
    return listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))


def test_publishing_a_declaration_puts_a_live_listing_in_both_languages(published):
    pages = PatentListingPage.objects.filter(declaration=published)
    assert pages.count() == 2 and all(p.live for p in pages)
    assert {p.locale.language_code for p in pages} == {"zh-hans", "en"}
    assert published.state == DeclarationState.FILED


def test_the_listing_index_is_a_page_of_its_own_in_each_language_titled_in_it(client, published):
    indexes = {p.locale.language_code: p for p in ListingIndexPage.objects.select_related("locale")}
    assert set(indexes) == {"zh-hans", "en"}
    # Not an alias: an alias shares its original's title, so the English index was titled in Chinese.
    assert indexes["en"].alias_of_id is None and indexes["en"].translation_key == indexes["zh-hans"].translation_key
    assert (indexes["zh-hans"].title, indexes["en"].title) == ("专利许可清单", "Patent listings")
    for language, title in (("zh-hans", "专利许可清单"), ("en", "Patent listings")):
        assert f"<h1>{title}</h1>" in client.get(f"/{language}/listings/").content.decode()
    # Each listing still has its page under each language's index.
    for language, index in indexes.items():
        assert PatentListingPage.objects.child_of(index).live().filter(declaration=published).exists(), language


def test_the_listing_page_shows_the_offer_the_patent_and_the_licence_action(client, published):
    page = PatentListingPage.objects.get(declaration=published, locale__language_code="en")
    body = client.get(page.url).content.decode()
    assert published.patent.number in body and published.holder.name_en in body  # the English page: its English name
    assert reverse("licence_take", args=[published.pk]) in body
    response = client.get(page.url, {"annual_net_sales": "100000"})
    assert "cost-total" in response.content.decode()


def test_withdrawing_takes_the_listing_off_the_marketplace_in_both_languages(client, published):
    url = PatentListingPage.objects.get(declaration=published, locale__language_code="zh-hans").url
    declaration_withdraw(listings, declaration=published, by=holder_admin(published.holder), reason="Assigned")
    assert not PatentListingPage.objects.filter(declaration=published, live=True).exists()
    assert client.get(url).status_code == 404


def test_republishing_keeps_what_editors_wrote(published):
    page = PatentListingPage.objects.get(declaration=published, alias_of__isnull=True)
    page.summary = "适用于储能电站的电池管理"
    page.save_revision().publish()
    listings.listing_sync(declaration=published)
    page.refresh_from_db()
    assert page.summary == "适用于储能电站的电池管理" and page.live


def test_a_refused_declaration_gets_no_listing(demo_pages):
    expired = eligible_patent(legal_status="expired")
    declaration = DeclarationFactory(patent=expired, holder=expired.holder)
    results = listings.declarations_file_bulk(
        patents=[expired], terms=LicenceTermsFactory(), by=holder_admin(declaration.holder), fee_form="lump_sum",
        lump_sum_fen=100_000, duration_years=1, payment_method="online", contact_name="A", contact_email="a@b.cn")
    assert not results[0].filed and {f.code for f in results[0].failures} >= {"not_granted"}
    assert not PatentListingPage.objects.exists() or not PatentListingPage.objects.filter(
        declaration__patent=expired).exists()


def test_publishing_from_the_holders_page_lists_the_patent(client, demo_pages):
    declaration = DeclarationFactory()
    client.force_login(holder_admin(declaration.holder))
    client.post(reverse("declaration_file", args=[declaration.pk]))
    assert PatentListingPage.objects.filter(declaration=declaration, live=True).count() == 2


def test_similar_listings_name_each_other_listing_once_in_the_visitors_language(client, published):
    others = [DeclarationFactory() for _ in range(2)]
    for declaration in others:
        listings.declaration_file(declaration=declaration, by=holder_admin(declaration.holder))
    for language in ("zh-hans", "en"):
        page = PatentListingPage.objects.get(declaration=published, locale__language_code=language)
        similar = list(client.get(page.url).context["similar"])
        assert sorted(s.declaration_id for s in similar) == sorted(d.pk for d in others)
        # Rows are plain values (marketplace.listings.selectors): the language shows in each address.
        assert all(s.url.startswith(f"/{language}/") for s in similar)


def test_pages_name_a_patent_in_their_language_where_the_holder_gave_an_english_title(client, demo_pages):
    from tests.licensing.factories import LicenceFactory
    from tests.parties.factories import OrganisationFactory

    patent = eligible_patent(title="一种锂电池热管理方法", title_en="Battery cooling method")
    declaration = listings.declaration_file(declaration=DeclarationFactory(patent=patent, holder=patent.holder),
                                            by=holder_admin(patent.holder))
    declaration = listings.declaration_record_announcement(  # the gazette lists announced declarations
        declaration=declaration, cnipa_number="KFXK2026000101", announced_on=timezone.localdate(),
        by=holder_admin(patent.holder))
    licence = LicenceFactory(declaration=declaration, active=True, licensee=OrganisationFactory())
    client.force_login(holder_admin(patent.holder))
    for language, shown, other in (("zh-hans", patent.title, patent.title_en), ("en", patent.title_en, patent.title)):
        for name, args in (("gazette", []), ("portfolio", []), ("declaration_list", []),
                           ("licence_detail", [licence.pk]), ("licence_list", [])):
            with translation.override(language):
                body = client.get(reverse(name, args=args)).content.decode()
            assert shown in body and other not in body, (language, name)
