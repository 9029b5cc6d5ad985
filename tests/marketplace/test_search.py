"""Search over listings: Chinese and English full text, facets whose counts add up, sorting, the API agreeing
with the page, withdrawn listings gone, and a query count that does not grow with the number of listings."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from licensing.models import Declaration, FeeForm
from marketplace.listings import services as listings
from marketplace.listings.text import segment
from marketplace.search.documents import search_counts_forget
from marketplace.search.selectors import FACETS, listing_search
from tests.licensing.factories import DeclarationFactory, declaration_withdraw, eligible_patent, holder_admin
from tests.parties.factories import HolderFactory
from tests.worlds import module_world

pytestmark = pytest.mark.django_db


def publish(*, declaration_kwargs=None, holder_kwargs=None, **patent_kwargs):
    holder = HolderFactory(**(holder_kwargs or {}))
    patent = eligible_patent(holder=holder, **patent_kwargs)
    declaration = DeclarationFactory(patent=patent, holder=holder, **(declaration_kwargs or {}))
    return listings.declaration_file(declaration=declaration, by=holder_admin(holder))


@pytest.fixture(scope="module")
def _search_world(django_db_setup, django_db_blocker):
    # Built once for the module (tests.worlds), not for each test: the tests read the three listings, or change
    # the market inside their own savepoint.
    from marketplace.demo.seed import seed_pages

    with module_world(django_db_blocker):
        seed_pages()  # the site tree the listing pages hang under (the demo_pages fixture)
        yield build_market()


@pytest.fixture
def search_market(_search_world, db):
    """Three published listings: a battery method (Guangdong, lump sum), an engine valve (Shanghai, expensive,
    old) and a drug (Beijing, royalty)."""
    return _search_world


def build_market():
    return {
        "battery": publish(title="一种锂电池管理方法", abstract="通过监测电芯电压均衡锂电池组。",
                           holder_kwargs={"name_en": "Battery Institute of Technology", "province": "广东省"},
                           declaration_kwargs={"lump_sum_fen": 2_000_000}),  # ¥20,000
        "engine": publish(title="Exhaust gas recirculation valve for an engine", abstract="A valve.",
                          main_ipc="F02M 26/52", technology_field=27, filing_date=date(2012, 5, 1),
                          holder_kwargs={"province": "上海市"}, declaration_kwargs={"lump_sum_fen": 50_000_000}),
        "drug": publish(title="一种抗肿瘤药物组合物", abstract="本发明涉及药物。", main_ipc="A61K 31/00",
                        technology_field=16, holder_kwargs={"province": "北京市"},
                        declaration_kwargs={"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None,
                                            "royalty_base": "net_sales", "royalty_rate": "3.00"}),
    }


def numbers(result):
    return [hit.number for hit in result.hits]


def test_jieba_segments_chinese_so_a_short_word_is_found_inside_a_long_one():
    assert "电池" in segment("一种锂电池管理方法").split()


def test_a_chinese_query_finds_the_chinese_title(search_market):
    result = listing_search(data={"q": "电池"})
    assert numbers(result) == [search_market["battery"].patent.number]


def test_an_english_query_finds_the_listing_by_its_holder_and_title(search_market):
    assert numbers(listing_search(data={"q": "battery"}, language="en")) == [search_market["battery"].patent.number]
    assert numbers(listing_search(data={"q": "exhaust valve"})) == [search_market["engine"].patent.number]
    assert numbers(listing_search(data={"q": "F02M"})) == [search_market["engine"].patent.number]


def test_nothing_matches_a_word_no_listing_contains(search_market):
    assert listing_search(data={"q": "石墨烯"}).total == 0


def test_hits_link_to_the_page_in_the_visitors_language(search_market):
    hit = listing_search(data={"q": "电池"}, language="en").hits[0]
    assert hit.url.startswith("/en/")
    assert listing_search(data={"q": "电池"}).hits[0].url.startswith("/zh-hans/")


def test_facets_narrow_the_results_and_their_counts_add_up(search_market):
    everything = listing_search(data={})
    assert everything.total == 3
    for name in ("technology_field", "sector", "ipc", "grade", "kind", "fee_form", "price", "life", "holder_kind",
                 "region", "licensed"):
        assert sum(v.count for v in everything.facets[name]) == 3, name

    narrowed = listing_search(data={"fee_form": "lump_sum", "region": "上海市", "sector": "mechanical"})
    assert numbers(narrowed) == [search_market["engine"].patent.number]
    # Each facet counts the results without itself: the region facet still offers the other lump-sum listing.
    regions = {v.value: v.count for v in listing_search(data={"fee_form": "lump_sum"}).facets["region"]}
    assert regions == {"广东省": 1, "上海市": 1}
    fee_forms = {v.value: v.count for v in listing_search(data={"fee_form": "lump_sum"}).facets["fee_form"]}
    assert fee_forms == {"lump_sum": 2, "royalty": 1}


def test_range_facets_and_the_ipc_prefix(search_market):
    assert numbers(listing_search(data={"price": "0"})) == [search_market["drug"].patent.number]
    assert numbers(listing_search(data={"price": "10k-100k"})) == [search_market["battery"].patent.number]
    assert numbers(listing_search(data={"life": "5-10"})) == [search_market["engine"].patent.number]
    assert numbers(listing_search(data={"ipc": "a61k"})) == [search_market["drug"].patent.number]
    assert numbers(listing_search(data={"ipc": "H01M4"})) == [search_market["battery"].patent.number]
    assert listing_search(data={"licensed": "yes"}).total == 0
    assert listing_search(data={"licensed": "no"}).total == 3


def test_invalid_facet_values_are_ignored(search_market):
    assert listing_search(data={"grade": "Z", "sort": "nonsense"}).total == 3


def test_sorting_by_price_and_remaining_life(search_market):
    by_price = numbers(listing_search(data={"sort": "price"}))
    assert by_price == [search_market[k].patent.number for k in ("drug", "battery", "engine")]
    by_life = numbers(listing_search(data={"sort": "life"}))
    assert by_life[-1] == search_market["engine"].patent.number
    newest = numbers(listing_search(data={}))
    assert newest[0] == search_market["drug"].patent.number


def test_relevance_is_the_default_order_when_there_is_a_query(search_market):
    result = listing_search(data={"q": "电池"})
    assert result.sort == "relevance"
    assert listing_search(data={}).sort == "newest"


def test_relevance_puts_the_listing_whose_title_has_the_words_first_and_pages_in_that_order(search_market):
    weak = publish(title="一种电池外壳", abstract="外壳用于保护电芯。" * 20 + "便于管理。",
                   holder_kwargs={"province": "广东省"})
    strong = publish(title="一种电池管理系统", abstract="电池管理系统监测电芯。", holder_kwargs={"province": "广东省"})

    ranked = numbers(listing_search(data={"q": "电池 管理"}))
    assert ranked.index(strong.patent.number) < ranked.index(weak.patent.number)
    assert ranked.index(search_market["battery"].patent.number) < ranked.index(weak.patent.number)
    assert weak.patent.number in ranked and search_market["engine"].patent.number not in ranked
    # Facets narrow the ranked list without changing its order; paging follows the same order.
    narrowed = numbers(listing_search(data={"q": "电池 管理", "region": "广东省"}))
    assert narrowed == [n for n in ranked if n in narrowed] and len(narrowed) == 3
    pages = [numbers(listing_search(data={"q": "电池 管理"}, page=p, per_page=1)) for p in (1, 2, 3)]
    assert sum(pages, []) == ranked


def test_the_api_returns_what_the_page_shows_for_the_same_query_string(client, search_market):
    query = "?q=%E7%94%B5%E6%B1%A0&fee_form=lump_sum"
    page = client.get(reverse("listing_search") + query)
    api = client.get(reverse("api_listings") + query).json()
    assert page.status_code == 200
    body = page.content.decode()
    assert api["count"] == 1 and [r["number"] for r in api["results"]] == [search_market["battery"].patent.number]
    assert search_market["battery"].patent.number in body and search_market["engine"].patent.number not in body
    assert set(api["results"][0]) >= {"number", "title", "holder", "fee", "grade", "url"}
    assert set(api["facets"]) == set(FACETS)


def test_the_search_page_offers_facets_with_counts_and_pagination(client, search_market):
    body = client.get(reverse("listing_search")).content.decode()
    assert 'data-facet="fee_form"' in body and "(2)" in body


def test_withdrawn_listings_are_not_found(search_market):
    battery = Declaration.objects.get(pk=search_market["battery"].pk)  # the module's object stays as it was
    declaration_withdraw(listings, declaration=battery, by=holder_admin(battery.holder), reason="Assigned")
    assert listing_search(data={"q": "电池"}).total == 0
    assert listing_search(data={}).total == 2


@pytest.mark.parametrize("with_query", [False, True])
def test_the_number_of_queries_does_not_grow_with_the_number_of_listings(demo_pages, client, with_query):
    def count_queries():
        search_counts_forget()  # the uncached path: facet counts are computed, not read from the cache
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("api_listings"), {"q": "电池"} if with_query else {})
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["count"]

    for _ in range(3):
        publish(title="一种锂电池管理方法")
    count_queries()  # warm the per-process caches (site root paths, locales) so both runs start alike
    few, n_few = count_queries()
    for _ in range(9):
        publish(title="一种锂电池管理方法")
    many, n_many = count_queries()
    assert (n_few, n_many) == (3, 12)
    assert many == few


def test_the_english_page_finds_english_words_and_links_to_english_listings(client, search_market):
    body = client.get("/en/search/", {"q": "battery"}).content.decode()
    assert search_market["battery"].patent.number in body and 'href="/en/' in body


@pytest.mark.parametrize("text", [
    "一种锂电池管理方法，通过监测电芯电压均衡锂电池组。", "Lithium-ion batteries (3.7 V ±0.1) for H01M 10/44",
    "本发明公开了一种α-粒子探测器；C++ & C# 50% 方法.", "Ⅱ型糖尿病药物 \t\n ＡＢＣ全角１２３", "", "，。！"])
def test_segmenting_run_by_run_gives_exactly_the_words_jieba_gives_for_the_whole_text(text):
    import re

    import jieba

    whole = " ".join(w for w in jieba.cut_for_search(text) if re.search(r"\w", w))
    assert segment(text) == whole
    assert segment(text) == whole  # and again from the cache


def test_a_search_with_every_facet_in_use_still_counts(search_market):
    battery = search_market["battery"]
    query = {"technology_field": battery.patent.technology_field, "sector": "", "ipc": battery.patent.ipc_subclass,
             "grade": battery.patent.grade_computed, "kind": battery.patent.kind, "fee_form": "lump_sum",
             "price": "10k-100k", "life": "10+", "holder_kind": battery.holder.kind, "region": "广东省",
             "licensed": "no"}
    from patents.inventory.fields import FIELDS_BY_NUMBER

    query["sector"] = FIELDS_BY_NUMBER[battery.patent.technology_field].sector.key
    result = listing_search(data=query)
    assert numbers(result) == [battery.patent.number] and result.total == 1
    assert all(any(v.selected for v in result.facets[name]) for name in FACETS)
