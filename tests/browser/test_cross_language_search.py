"""Search across languages in Chromium (issue #20, defect 5): 电池 on the Chinese site and "battery" on the
English site find the same listings (Chinese only, English-original, and one with the holder's English title),
and the English pages show the English title where the holder gave one."""

import re

import pytest

from marketplace.listings import services as listings
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_admin
from tests.parties.factories import HolderFactory


def _publish(**patent_kwargs):
    holder = HolderFactory()
    patent = eligible_patent(holder=holder, **patent_kwargs)
    return listings.declaration_file(declaration=DeclarationFactory(patent=patent, holder=holder), by=holder_admin(holder))


@pytest.fixture
def market(site):
    return {
        "zh": _publish(title="一种动力电池热失控预警方法", abstract="采集电池的电压和温度数据。"),
        "en": _publish(title="Fast charger for a traction battery", abstract="A charger for batteries."),
        "both": _publish(
            title="一种电池包散热结构", abstract="包括箱体和液冷板。", title_en="Heat dissipation structure for a battery pack"
        ),
        "drug": _publish(title="一种抗肿瘤药物组合物", abstract="本发明涉及药物。", main_ipc="A61K 31/00", technology_field=16),
    }


def _hits(page) -> list[tuple[str, str]]:
    """(patent number, title) of each hit shown."""
    return [
        (item.locator(".muted").first.inner_text().split(" · ")[0], item.locator("a").first.inner_text())
        for item in page.locator("ol.listing-results li.listing-hit").all()
    ]


def test_dianchi_on_the_chinese_site_and_battery_on_the_english_site_find_the_same_listings(site, market, page, page_en):
    page.goto(f"{site.url}/zh-hans/search/")
    page.fill("#id_q", "电池")
    page.click("form.search-form button[type=submit]")
    page.wait_for_url(re.compile(r"/zh-hans/search/\?.*q=%E7%94%B5%E6%B1%A0"))
    chinese = _hits(page)

    page_en.goto(f"{site.url}/en/search/")
    page_en.fill("#id_q", "battery")
    page_en.click("form.search-form button[type=submit]")
    page_en.wait_for_url(re.compile(r"/en/search/\?.*q=battery"))
    english = _hits(page_en)

    battery = {market[k].patent.number for k in ("zh", "en", "both")}
    assert {number for number, _title in chinese} == {number for number, _title in english} == battery
    titles_en = dict(english)
    assert titles_en[market["both"].patent.number] == "Heat dissipation structure for a battery pack"
    assert dict(chinese)[market["both"].patent.number] == "一种电池包散热结构"

    page_en.locator("ol.listing-results li.listing-hit a").filter(has_text="Heat dissipation structure").click()
    page_en.wait_for_url(re.compile(r"/en/"))
    assert page_en.locator("h1").inner_text() == "Heat dissipation structure for a battery pack"
