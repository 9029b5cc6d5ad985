"""The API's docs pages in headless Chromium: Swagger UI and Redoc render every endpoint from our own
static files (no request leaves 127.0.0.1), and a token made on the dashboard page is accepted by the API."""

import json
import re
from urllib.parse import urlparse

from tests.parties.factories import MembershipFactory, OrganisationFactory, UserFactory

ENDPOINTS = ["/api/listings/", "/api/declarations/", "/api/gazette/", "/api/patents/", "/api/licences/",
             "/api/needs/", "/api/statements/", "/api/statistics/"]


LOCAL = {"localhost", "127.0.0.1"}


def _watch_outside(page) -> dict[str, str]:
    """Every request the page tries to send outside the site → why it did not get out ("" if it did). A
    request the page's Content-Security-Policy refuses fails with "csp" before leaving the browser; anything
    else would have gone to the network (and fails here only because this machine has none)."""
    outside: dict[str, str] = {}

    def sent(request):
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL:
            outside.setdefault(request.url, "")

    def failed(request):
        if request.url in outside:
            outside[request.url] = request.failure or "failed"

    page.on("request", sent)
    page.on("requestfailed", failed)
    return outside


def test_swagger_ui_lists_every_endpoint_from_local_assets(site, page_en):
    outside = _watch_outside(page_en)
    page_en.goto(site.url + "/api/docs/")
    page_en.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = set(page_en.locator(".opblock-summary-path").all_inner_texts())
    assert {p.replace("\u200b", "") for p in paths} >= set(ENDPOINTS)
    assert "Open Patent Licensing Marketplace API" in page_en.locator(".info .title").inner_text()
    assert all(why == "csp" for why in outside.values()), outside


def test_redoc_renders_the_same_endpoints_offline(site, page_en):
    outside = _watch_outside(page_en)
    page_en.goto(site.url + "/api/redoc/")
    page_en.wait_for_selector("h2:has-text('Search listings')", timeout=20_000)
    body = page_en.locator("body").inner_text()
    assert "Every indicator for a period, and the monthly trend" in body
    assert all(why == "csp" for why in outside.values()), outside


def test_a_token_made_on_the_dashboard_page_opens_the_api(site, page_en):
    user = UserFactory(email="api-user@browser-test.cn")
    MembershipFactory(user=user, organisation=OrganisationFactory(slug="browser-licensee"))
    page = page_en
    page.goto(site.url + "/en/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", "correct-horse-battery-9")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/en/dashboard/$"))
    page.click("text=API access")
    page.click("button:has-text('Create a token')")
    key = page.locator("#api-token-key").inner_text().strip()
    answer = page.request.get(site.url + "/api/statements/", headers={"Authorization": f"Token {key}"})
    assert answer.status == 200
    assert [o["slug"] for o in json.loads(answer.text())["results"]] == ["browser-licensee"]
    page.click("button:has-text('Revoke the token')")
    refused = page.request.get(site.url + "/api/statements/", headers={"Authorization": f"Token {key}"})
    assert refused.status == 401
