"""Issue 20's design in headless Chromium: the search's facets in a side panel beside the results (folded above
them on a phone), no page of the journey wider than a phone but for its tables' own scroll regions, and tables
that fit at 1280 px. Money in the one format of each language is checked on the same pages (listing, search,
licence, statistics) through the Django client in tests/marketplace/test_money_format.py: it is server-rendered
text, so a browser adds nothing there."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.listings import services as listings
from marketplace.models import PatentListingPage
from marketplace.parties.models import MembershipRole
from patents.models import LegalStatus
from tests.browser.flows import log_in
from tests.licensing.factories import DeclarationFactory, LicenceFactory, PaymentFactory, eligible_patent
from tests.parties.factories import HolderFactory, IPOfficeFactory, OrganisationFactory, member
from tests.patents.factories import PatentFactory

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCROLLS_SIDEWAYS = "document.scrollingElement.scrollWidth > window.innerWidth"


@pytest.fixture
def market(site):
    """A holder with a listing, a lapsed patent and a paid licence; an IP office to read the statistics."""
    holder = HolderFactory(name_en="Demo University")
    holder_user = member(holder, MembershipRole.ADMIN)
    for n in range(3):
        PatentFactory(holder=holder, title=f"一种储能电池热管理方法{n}")
    PatentFactory(holder=holder, legal_status=LegalStatus.LAPSED, title="一种已失效的专利")
    declaration = DeclarationFactory(patent=eligible_patent(holder=holder, title="一种锂电池管理方法"), holder=holder)
    declaration = listings.declaration_file(declaration=declaration, by=holder_user)
    licence = LicenceFactory(declaration=declaration, active=True, licensee=OrganisationFactory())
    PaymentFactory(licence=licence, paid=True, due_on=timezone.localdate() - timedelta(days=1))
    office_user = member(IPOfficeFactory(), MembershipRole.ADMIN)
    return {"holder": holder_user, "office": office_user, "declaration": declaration, "licence": licence}


def _listing_url(site, declaration, lang):
    return site.url + PatentListingPage.objects.get(declaration=declaration, locale__language_code=lang).url


def test_the_search_shows_its_facets_beside_the_results_and_folds_them_above_on_a_phone(site, market, page):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{site.url}/zh-hans/search/")
    panel, results = page.locator(".facet-panel"), page.locator(".results")
    expect(panel).to_have_attribute("open", "")
    panel_box, results_box = panel.bounding_box(), results.bounding_box()
    assert results_box["y"] < 400  # the results start near the top, not under eleven facet blocks
    assert panel_box["x"] + panel_box["width"] <= results_box["x"]  # beside them, on the left
    assert abs(panel_box["y"] - results_box["y"]) < 50
    expect(page.locator(".listing-hit")).to_have_count(1)

    page.set_viewport_size(PHONE)
    page.reload()
    expect(panel).not_to_have_attribute("open", "")  # folded by default on a phone
    assert panel.bounding_box()["y"] + panel.bounding_box()["height"] <= results.bounding_box()["y"]
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    page.click(".facet-panel > summary")
    expect(page.locator(".facet[data-facet=grade] a").first).to_be_visible()


def test_on_a_phone_no_page_of_the_journey_scrolls_sideways(site, market, page):
    page.set_viewport_size(PHONE)
    listing = _listing_url(site, market["declaration"], "zh-hans")
    for url in (f"{site.url}/zh-hans/", f"{site.url}/zh-hans/search/", listing):
        page.goto(url)
        assert not page.evaluate(SCROLLS_SIDEWAYS), url

    log_in(page, site, market["holder"], lang="zh-hans")
    licence = f"{site.url}{reverse('licence_detail', args=[market['licence'].pk])}"
    page.goto(f"{site.url}/zh-hans/portfolio/")
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    # Declaring is not offered while a lapsed patent is selected (tagging it still is).
    declare = page.locator("[data-declare-selected]")
    expect(declare).to_be_enabled()
    page.check("input[name=selected][data-not-declarable]")
    expect(declare).to_be_disabled()
    expect(page.locator("[data-declare-hint]")).to_be_visible()
    for url in (f"{site.url}/zh-hans/navigation/", licence):
        page.goto(url)
        assert not page.evaluate(SCROLLS_SIDEWAYS), url
    # The menu folds the navigation on a phone.
    expect(page.locator("#nav-menu")).to_be_hidden()
    page.click(".nav-toggle")
    expect(page.get_by_role("link", name="专利组合")).to_be_visible()

    page.context.clear_cookies()
    log_in(page, site, market["office"], lang="zh-hans")
    page.goto(f"{site.url}/zh-hans/office/statistics/", timeout=60_000)  # the heaviest page
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    # The wide tables scroll in their own regions, which the keyboard can reach.
    breakdown = page.locator(".table-scroll:has(#breakdown)")
    expect(breakdown).to_have_attribute("tabindex", "0")
    assert page.evaluate("document.querySelector('.table-scroll:has(#breakdown)').scrollWidth > 390")


def test_in_english_the_licence_and_the_statistics_tables_fit_the_page(site, market, page_en):
    page = page_en
    page.set_viewport_size(DESKTOP)
    log_in(page, site, market["holder"])
    page.goto(f"{site.url}/en/licences/{market['licence'].pk}/")
    assert not page.evaluate(SCROLLS_SIDEWAYS)

    page.context.clear_cookies()
    log_in(page, site, market["office"])
    page.goto(f"{site.url}/en/office/statistics/", timeout=60_000)
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    # Headers keep a readable width: none is narrower than a few characters (they wrapped one per line).
    narrowest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('#breakdown thead th')].map(th => th.getBoundingClientRect().width))"
    )
    assert narrowest >= 70
    # Figures are right-aligned.
    assert page.evaluate("getComputedStyle(document.querySelector('#breakdown td[data-figure]')).textAlign") == "right"
