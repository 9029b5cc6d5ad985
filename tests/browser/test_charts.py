"""Issue 20's charts in Chromium: the landscape's technology fields, the IP office's deal-rate trend, fee volume
and breakdown, and a pool's concentration are drawn by the vendored ECharts (a canvas in the chart container, no
console error, no policy violation), each container is an image with a summary for screen readers, and the table
beside each chart holds the figures the chart draws. On the securitization market of tests/marketplace/
test_pools.py (licences and payments from 2024-07 to 2025-07), quick to build; the demo's own two-year history
is tested in tests/marketplace/test_demo_history.py."""

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from marketplace.pools.services import pool_create
from tests.browser.flows import log_in
from tests.marketplace.factories_pools import build_pool_market
from tests.parties.factories import IPOfficeFactory, MembershipFactory

PERIOD = "first=2024-07&last=2025-06"  # the market's year
SLOW = 90_000  # ms: a dashboard's first view of a period computes it, which takes a while on a busy machine


@pytest.fixture
def market(site):
    build_pool_market()
    officer = MembershipFactory(organisation=IPOfficeFactory()).user
    pool = pool_create(by=officer, name="Chart pool", cut_off_date=date(2025, 7, 30), grades=[],
                       require_payment_history=False, discount_rate=Decimal("8"))
    return officer, pool


def _watch_console(page) -> list[str]:
    errors: list[str] = []
    # (the browser's own request for /favicon.ico, which the site does not serve, is not the page's error)
    page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return errors


def _drawn(page, chart_id: str) -> dict:
    """The chart's data once drawn: its container is an image with a label and holds ECharts' canvas."""
    container = page.locator(f"[data-chart={chart_id}]")
    page.wait_for_selector(f"[data-chart={chart_id}][data-chart-drawn=true] canvas")
    assert container.get_attribute("role") == "img"
    assert container.get_attribute("aria-label").strip()
    box = container.locator("canvas").first.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    return json.loads(page.locator(f"script#{chart_id}").text_content())


def _number(text: str):
    cleaned = re.sub(r"[^\d.\-]", "", text)
    return float(cleaned) if cleaned else None


def test_the_landscape_statistics_and_pool_charts_draw_the_figures_of_their_tables(site, market, page_en):
    page, (officer, pool) = page_en, market
    errors = _watch_console(page)

    page.goto(f"{site.url}/en/navigation/")
    fields = _drawn(page, "field-chart")
    rows = page.locator("#chart-technology_field tbody tr")
    assert len(fields["categories"]) == 2  # the market's patents: fields 1 and 6
    assert rows.locator("th").all_inner_texts() == fields["categories"]
    assert [int(t) for t in rows.locator("td.num").all_inner_texts()] == fields["series"][0]["values"]

    log_in(page, site, officer)
    page.goto(f"{site.url}/en/office/statistics/?first=2000-01&last=2000-01", timeout=SLOW)  # a valid, empty period still draws
    _drawn(page, "trend-chart")
    page.goto(f"{site.url}/en/office/statistics/?{PERIOD}", timeout=SLOW)
    trend = _drawn(page, "trend-chart")
    concluded, rate = trend["series"]
    assert [s["name"] for s in trend["series"]] == ["Licences concluded", "Quick-licence deal rate"]
    assert trend["categories"] == page.locator("#trend tbody th").all_inner_texts()
    cells = page.locator("#trend td[data-figure=licences_concluded]").all_inner_texts()
    assert [int(t) for t in cells] == concluded["values"]
    rates = page.locator("#trend td[data-figure=quick_licence_deal_rate]").all_inner_texts()
    assert [_number(t) for t in rates] == rate["values"]
    assert sum(concluded["values"]) == 5  # the market's five licences
    fees = _drawn(page, "fees-chart")
    assert fees["money"] == {"prefix": "¥", "suffix": ""}
    amounts = page.locator("#trend td[data-figure=fee_volume_fen]").all_inner_texts()
    assert [_number(t) for t in amounts] == fees["series"][0]["values"]
    breakdown = _drawn(page, "breakdown-chart")
    assert breakdown["categories"] == page.locator("#breakdown tbody th").all_inner_texts()
    published = page.locator("#breakdown td[data-figure=declarations_published]").all_inner_texts()
    assert [int(t) for t in published] == breakdown["series"][0]["values"]
    assert page.locator(".chart-row").count() == 0  # the text bar chart is gone

    page.goto(f"{site.url}/en/office/pools/{pool.pk}/")
    concentration = _drawn(page, "concentration-chart")
    top = page.locator("#top-exposures tbody tr")
    assert len(concentration["series"][0]["values"]) == top.count() >= 2
    assert [_number(t) for t in top.locator("td:nth-child(4)").all_inner_texts()] == concentration["series"][0]["values"]

    # In Chinese, the same charts speak Chinese: series names, the money format, the summary.
    page.goto(f"{site.url}/zh-hans/office/statistics/?{PERIOD}", timeout=SLOW)
    trend = _drawn(page, "trend-chart")
    assert trend["locale"] == "ZH" and trend["series"][0]["name"] == "达成的许可"
    assert _drawn(page, "fees-chart")["money"] == {"prefix": "", "suffix": " 元"}
    assert "许可" in page.locator("[data-chart=trend-chart]").get_attribute("aria-label")
    assert errors == []
