"""The facet columns held in memory (marketplace.search.facets) answer what the same filters answer in SQL: for
every value of every facet, the number of results and the order of each sort equal ListingFilter's queryset over
the search documents; and a copy read before a change is never used after it."""

import pytest
from django.db import connection
from django.http import QueryDict

from bench import search_bench
from bench.generate import generate
from marketplace.models import ListingDocument
from marketplace.search.documents import search_version
from marketplace.search.facets import facet_columns
from marketplace.search.selectors import FACETS, bound_listing_filter, listing_search
from tests.worlds import module_world

pytestmark = pytest.mark.django_db

SORTS = ("newest", "price", "life")


@pytest.fixture(scope="module")
def _generated_world(django_db_setup, django_db_blocker):
    # Generated once for the module (tests.worlds), not for each test: every test reads it or writes inside its
    # own savepoint. The tests that need a transaction holding uncommitted document changes still run in one
    # (the module's, which generated the documents).
    with module_world(django_db_blocker):
        yield generate(patents=300, licences=150, needs=0, seed=11)


@pytest.fixture
def generated(_generated_world, db):
    """A generated market (bench.generate): 300 patents, 150 licences, no needs."""
    return _generated_world


def sql(query: dict, sort: str) -> list[int]:
    data = QueryDict(mutable=True)
    data.update({**query, "sort": sort})
    return list(bound_listing_filter(data).qs.values_list("page_id", flat=True))


def test_every_facet_value_alone_and_with_another_counts_and_orders_as_sql_does(generated):
    everything = listing_search(data={})
    assert everything.total == ListingDocument.objects.count() > 50
    queries = []
    for name in FACETS:
        for value in everything.facets[name]:
            queries.append({name: value.value})
    queries += [{"ipc": "H01"}, {"ipc": "G06F"}, {"kind": "design", "licensed": "no"},
                {"price": "100k-1m", "life": "10+", "fee_form": "lump_sum"}]
    assert len(queries) > 40
    for number, query in enumerate(queries):
        for sort in SORTS:
            expected = sql(query, sort)
            # every result for a few queries (each hit costs its page's address), the first page for the rest
            per_page = 1000 if number % 10 == 0 else 10
            result = listing_search(data={**query, "sort": sort}, per_page=per_page)
            assert result.total == len(expected), (query, sort)
            assert [hit.pk for hit in result.hits] == expected[:per_page], (query, sort)
        # a facet's own counts are over the results without it: its value's count is the total with it
        name, value = next(iter(query.items()))
        counts = {v.value: v.count for v in listing_search(data=query).facets[name]}
        if name in everything.facets and value in counts:
            assert counts[value] == listing_search(data=query).total


def test_a_words_query_narrows_the_columns_as_the_full_text_index_does(generated):
    words = [q["q"] for q in search_bench.query_mix(seed=1) if set(q) == {"q"}]
    found = 0
    for word in words:
        for facet in ({}, {"licensed": "no"}):
            expected = sql({"q": word, **facet}, "price")
            result = listing_search(data={"q": word, "sort": "price", **facet}, per_page=1000)
            assert [hit.pk for hit in result.hits] == expected, word
            found += len(expected)
    assert found


def same_columns(a, b) -> None:
    assert list(a.page_id) == list(b.page_id)
    for name in a.coded:
        assert [a.coded[name].values[c] for c in a.coded[name].codes] == \
            [b.coded[name].values[c] for c in b.coded[name].codes], name
    for name in ("fen", "days", "declaration_id"):
        assert list(a.numbers[name]) == list(b.numbers[name]), name
    for sort in a.orders:
        assert list(a.orders[sort]) == list(b.orders[sort]), sort


def test_after_changes_the_copy_is_brought_up_to_date_from_the_changed_documents_alone(generated):
    from marketplace.search.documents import listing_documents_licences_changed, search_changes
    from marketplace.search.facets import FacetColumns

    before = FacetColumns(search_version())
    first, second = ListingDocument.objects.order_by("page_id")[:2]
    first.page.unpublish()  # Wagtail's signal brings its document in step: gone
    # a document changed behind the search's back, then a listener that records its declaration
    ListingDocument.objects.filter(pk=second.pk).update(first_due_fen=12_345_678_900, region="新疆维吾尔自治区")
    listing_documents_licences_changed(declaration_ids=[second.declaration_id])
    changed = search_changes(before.version, search_version())
    assert changed == {first.declaration_id, second.declaration_id}
    after = before.updated(search_version(), changed)
    same_columns(after, FacetColumns(search_version()))  # exactly what reading everything again gives
    assert first.page_id not in set(after.page_id)
    assert listing_search(data={"region": "新疆维吾尔自治区", "sort": "price"}).hits[-1].pk == second.pk


def test_a_transaction_that_changed_documents_never_keeps_what_it_read_of_them(generated):
    # The test runs in a transaction that changed documents (generating the market): what it reads would
    # vanish on rollback, so each search reads a copy of its own instead of keeping one for the others.
    assert facet_columns(search_version()) is not facet_columns(search_version())


def test_a_change_is_counted_by_the_next_search_never_from_the_copy_read_before_it(generated):
    before = listing_search(data={"licensed": "no"}).total
    copy = facet_columns(search_version())
    document = ListingDocument.objects.filter(licensed=False).first()
    from marketplace.search.documents import listing_documents_sync

    document.page.unpublish()
    listing_documents_sync(declaration_ids=[document.declaration_id])
    assert facet_columns(search_version()) is not copy
    assert listing_search(data={"licensed": "no"}).total == before - 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL ranks a bounded set")
def test_postgresql_ranks_the_newest_matches_and_lists_the_rest_after_them_newest_first(generated, monkeypatch):
    from marketplace.search import selectors

    word = next(w for w in (q["q"] for q in search_bench.query_mix(seed=1) if set(q) == {"q"})
                if len(sql({"q": w}, "newest")) >= 5)
    newest = sql({"q": word}, "newest")
    monkeypatch.setattr(selectors, "RANK_CANDIDATES", 3)
    every = listing_search(data={"q": word}, per_page=1000)
    ids = [hit.pk for hit in every.hits]
    assert every.sort == "relevance" and sorted(ids) == sorted(newest) and every.total == len(newest)
    assert set(ids[:3]) == set(newest[:3]) and ids[3:] == newest[3:]
    paged = [hit.pk for n in (1, 2, 3) for hit in listing_search(data={"q": word}, per_page=2, page=n).hits]
    assert paged == ids[:6]
