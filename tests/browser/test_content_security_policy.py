"""The Content-Security-Policy seen by a real browser: the pages people use, the payment page with Stripe.js
(the local stand-in's) and the listing editor in the Wagtail admin load without a single policy violation, and
an injected inline script is refused."""

import re

import pytest
from playwright.sync_api import expect

from marketplace.listings import services as listings
from tests.browser.flows import log_in
from tests.browser.test_licensing import give_notice, licensee_admin
from tests.licensing.factories import DeclarationFactory, holder_admin


def _watch(page) -> list[str]:
    """Collect the policy violations the page reports (the DOM event and the console message)."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));")
    return violations


@pytest.fixture
def listing(site):
    draft = DeclarationFactory()
    return listings.declaration_file(declaration=draft, by=holder_admin(draft.holder))


def test_the_public_pages_load_without_policy_violations(site, page, listing):
    violations = _watch(page)
    for path in ("/zh-hans/", "/zh-hans/search/?q=%E7%94%B5%E6%B1%A0", "/zh-hans/gazette/", "/zh-hans/needs/",
                 "/en/navigation/", "/en/accounts/login/"):
        response = page.goto(site.url + path)
        assert response.status == 200, path
    page.goto(site.url + "/zh-hans/search/")
    page.click("aside.facets section[data-facet=fee_form] a")
    # The language switch (links, so the page can be stored for every anonymous visitor) navigates through our
    # static script (inline handlers are refused), keeping the search.
    page.select_option("#language-select", label="English")
    page.wait_for_url(re.compile(r"/en/search/\?fee_form=lump_sum"))
    assert violations == []


def test_the_payment_page_runs_stripe_js_from_its_origin_without_violations(stripe_site, page_en, declaration):
    violations = _watch(page_en)
    log_in(page_en, stripe_site, licensee_admin())
    give_notice(page_en, stripe_site, declaration)  # waits until Stripe.js mounted its card element
    assert violations == []


def test_an_injected_inline_script_is_refused(site, page):
    violations = _watch(page)
    page.goto(site.url + "/zh-hans/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
                  " document.body.appendChild(s); }")
    assert page.evaluate("() => window.pwned") is None
    expect(page.locator("body")).to_be_visible()
    assert any("script-src" in v for v in violations)
