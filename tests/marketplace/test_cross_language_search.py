"""Search crosses Chinese and English (issue #20, defect 5): 电池 and "battery" find the same listings (one
Chinese only, one English-original, one with the holder's English title), a listing holding the query's own
words ranks above one met through a counterpart, facet counts agree with the hits, and English pages show the
holder's English title where there is one."""

import csv
from pathlib import Path

import pytest

from marketplace.listings import services as listings
from marketplace.search.selectors import listing_search
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_admin
from tests.parties.factories import HolderFactory

pytestmark = pytest.mark.django_db

REAL_US = Path(__file__).resolve().parents[1] / "data" / "real_us_patents_sample.csv"


def publish(**patent_kwargs):
    holder = HolderFactory()
    patent = eligible_patent(holder=holder, **patent_kwargs)
    return listings.declaration_file(declaration=DeclarationFactory(patent=patent, holder=holder), by=holder_admin(holder))


@pytest.fixture
def market(demo_pages):
    sensor = next(row for row in csv.DictReader(REAL_US.open(encoding="utf-8")) if "sensor" in row["title"])
    return {
        "zh": publish(title="一种动力电池热失控预警方法", abstract="采集电池的电压和温度数据。"),
        "en": publish(
            title="Thermal runaway early warning for a power battery",
            abstract="Collecting voltage and temperature data of the battery.",
        ),
        "both": publish(
            title="一种电池包散热结构",
            abstract="包括箱体和液冷板。",
            title_en="Heat dissipation structure for a battery pack",
            abstract_en="Comprising a case and a liquid cooling plate.",
        ),
        "us": publish(
            title=sensor["title"], abstract=sensor["abstract"], country="US", main_ipc="A61B 5/00", technology_field=13
        ),
        "drug": publish(title="一种抗肿瘤药物组合物", abstract="本发明涉及药物。", main_ipc="A61K 31/00", technology_field=16),
    }


def numbers(result) -> list[str]:
    return [hit.number for hit in result.hits]


def test_battery_and_dianchi_find_the_same_listings_own_words_first(market):
    chinese = listing_search(data={"q": "电池"})
    english = listing_search(data={"q": "battery"}, language="en")
    battery = {market[k].patent.number for k in ("zh", "en", "both")}
    assert set(numbers(chinese)) == set(numbers(english)) == battery
    # Own words first: the English-original listing holds "battery", not 电池, and the Chinese-only one the reverse.
    assert numbers(chinese)[-1] == market["en"].patent.number
    assert numbers(english)[-1] == market["zh"].patent.number
    for result in (chinese, english):
        assert result.total == 3
        assert sum(v.count for v in result.facets["kind"]) == 3
        assert sum(v.count for v in result.facets["technology_field"]) == 3
    # A word without a counterpart in the other language is still searched as written, and nothing else.
    assert numbers(listing_search(data={"q": "传感器"})) == [market["us"].patent.number]
    assert listing_search(data={"q": "电池", "technology_field": "16"}).total == 0
    assert numbers(listing_search(data={"q": "电池"}, across_languages=False)) != numbers(chinese)


def test_english_pages_show_the_english_title_and_chinese_pages_the_chinese_one(client, market):
    english = client.get("/en/search/", {"q": "电池"}).content.decode()
    chinese = client.get("/zh-hans/search/", {"q": "battery"}).content.decode()
    assert "Heat dissipation structure for a battery pack" in english and "一种电池包散热结构" not in english
    assert "一种电池包散热结构" in chinese and "Heat dissipation structure for a battery pack" not in chinese
    # Both show the English-original patent by its own (English) title.
    assert "Thermal runaway early warning for a power battery" in english
    assert "Thermal runaway early warning for a power battery" in chinese

    hit = listing_search(data={"q": "散热"}, language="en").hits[0]
    shown = client.get(hit.url).content.decode()
    assert hit.url.startswith("/en/") and "<h1>Heat dissipation structure for a battery pack</h1>" in shown
    assert "Comprising a case and a liquid cooling plate." in shown
    shown = client.get(listing_search(data={"q": "散热"}).hits[0].url).content.decode()
    assert "<h1>一种电池包散热结构</h1>" in shown and "包括箱体和液冷板。" in shown
