"""Headless Chromium through Playwright, using Debian's /usr/bin/chromium (no browser downloads here).
A screenshot of every failing test is saved under test-output/screenshots/."""

import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by tests in the same
    # thread are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _new_page(chromium, request, locale):
    context = chromium.new_context(locale=locale, extra_http_headers={"Accept-Language": locale})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser tab whose browser asks for Chinese, like most of our users'."""
    yield from _new_page(chromium, request, "zh-CN")


@pytest.fixture
def page_en(chromium, request):
    yield from _new_page(chromium, request, "en-US")


@pytest.fixture
def site(live_server, transactional_db):
    """The live server with the demo pages (transactional tests start from an empty database)."""
    from marketplace.demo.seed import seed_pages

    seed_pages()
    return live_server


# Paying through the local Stripe stand-in (localstripe), with its signed webhooks sent to the live server.
WEBHOOK_ID = "browser-licensing"
WEBHOOK_SECRET = "whsec_browser"
NOWHERE = "http://127.0.0.1:9/stripe/webhook/"  # the discard port: nothing listens, localstripe logs and moves on


def _register_webhook(localstripe_url, url):
    """Point localstripe's one webhook of these tests at `url` (the same id overwrites the previous one)."""
    body = urllib.parse.urlencode({"url": url, "secret": WEBHOOK_SECRET}).encode()
    request = urllib.request.Request(  # noqa: S310 - a loopback test server
        f"{localstripe_url}/_config/webhooks/{WEBHOOK_ID}", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback test server
        assert response.status == 200


@pytest.fixture
def stripe_site(site, settings, localstripe_url):
    """The live server paying through localstripe, with localstripe's webhooks sent to it. Afterwards the
    webhook points nowhere, so a late event cannot reach the next test's database."""
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_browser"
    settings.STRIPE_SECRET_KEY = "sk_test_browser"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    _register_webhook(localstripe_url, f"{site.url}/stripe/webhook/")
    yield site
    _register_webhook(localstripe_url, NOWHERE)


@pytest.fixture
def declaration(stripe_site):
    """A published lump-sum declaration (RMB 50,000 for 3 years) of an eligible patent."""
    from licensing.declarations.services import declaration_file
    from tests.licensing.factories import DeclarationFactory, holder_admin

    draft = DeclarationFactory()
    return declaration_file(declaration=draft, by=holder_admin(draft.holder))
