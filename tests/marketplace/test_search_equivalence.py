"""The search over listing documents answers exactly what the search over the joined tables answered: the same
results, the same facet counts and, for the newest, price and life sorts, the same order, on the demo data and on
generated bench data, for the 50-query mix the benchmark uses and every sort, and still after licences are
granted and ended, patents regraded and holders renamed (the documents follow through the change listeners).
Relevance order is the one thing allowed to differ (bm25 / ts_rank over one column instead of the search
backend's weighting), so for it the set of results is compared."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.search.backends import get_search_backend

from bench import search_bench
from licensing.licences import services as licence_services
from licensing.models.licences import LicenceState, Payment
from licensing.payments import refunds
from marketplace.models import ListingDocument, PatentListingPage
from marketplace.parties import services as parties_services
from marketplace.search.selectors import FACETS, listing_search
from patents.inventory import services as inventory_services
from tests.licensing.factories import LicenceFactory, PaymentFactory, holder_admin
from tests.marketplace.search_reference import reference_search
from tests.parties.factories import OrganisationFactory
from tests.worlds import module_world

pytestmark = pytest.mark.django_db

SORTS = ("newest", "price", "life")


def facet_counts(result) -> dict:
    return {name: {v.value: v.count for v in result.facets[name] if v.count} for name in FACETS}


def assert_same(query: dict) -> None:
    expected = reference_search(query)
    if query.get("q") and query.get("sort") is None:  # relevance: compare the set of every match
        result = listing_search(data=query, per_page=max(expected["total"], 1), across_languages=False)
        assert {hit.pk for hit in result.hits} == expected["id_set"], query
    else:
        result = listing_search(data=query, across_languages=False)
        assert [hit.pk for hit in result.hits] == expected["ids"][:20], query
        if expected["total"] > 20:
            second = listing_search(data=query, page=2, across_languages=False)
            assert [hit.pk for hit in second.hits] == expected["ids"][20:40], query
    assert result.total == expected["total"], query
    assert facet_counts(result) == expected["counts"], query


def queries(*, every: int = 5) -> list[dict]:
    """The benchmark's 50-query mix, every ``every``-th of them under each sort, and the sorts alone."""
    mix = search_bench.query_mix(seed=1)
    sorted_variants = [{**q, "sort": sort} for q in mix[::every] for sort in SORTS]
    return [{}, *mix, *sorted_variants, *({"sort": sort} for sort in SORTS)]


def test_the_demo_market_is_searched_exactly_as_before():
    call_command("seed_demo", verbosity=0)
    assert ListingDocument.objects.count() == PatentListingPage.objects.live().filter(alias_of__isnull=True).count()
    for query in queries(every=25):  # the demo has a dozen listings: the sorts are compared on the bench data
        assert_same(query)
    assert listing_search(data={}).total > 0


@pytest.fixture(scope="module")
def _generated_world(django_db_setup, django_db_blocker):
    # Generated once for the module (tests.worlds), not for each of its three tests: they read it, or change it
    # inside their own savepoint.
    from bench.generate import generate

    with module_world(django_db_blocker):
        counts = generate(patents=400, licences=200, needs=4, seed=5)
        # The old search read Wagtail's index, which the generator no longer fills: index the pages for the oracle.
        pages = list(PatentListingPage.objects.filter(alias_of__isnull=True)
                     .select_related("declaration__patent", "declaration__holder"))
        get_search_backend().add_bulk(PatentListingPage, pages)
        yield counts


@pytest.fixture
def generated_market(_generated_world, db):
    """Generated bench data (400 patents, 200 licences, 4 needs), its pages in Wagtail's index for the oracle."""
    return _generated_world


def test_generated_bench_data_is_searched_exactly_as_before(generated_market):
    assert ListingDocument.objects.count() > 100
    for query in queries():
        assert_same(query)


def test_the_documents_follow_licences_grades_and_holders(generated_market):
    document = ListingDocument.objects.filter(licensed=False).order_by("page_id").first()
    declaration = document.declaration
    holder = declaration.holder

    # A licence granted: the listing becomes licensed.
    licence = LicenceFactory(declaration=declaration, licensee=OrganisationFactory(), state=LicenceState.PAYMENT_PENDING)
    licence_services.licence_activate(licence=licence)
    document.refresh_from_db()
    assert document.licensed
    assert_same({"licensed": "yes"})

    # Ended (a royalty unpaid past the grace period): no longer licensed.
    PaymentFactory(licence=licence, purpose=Payment.Purpose.ROYALTY, amount_fen=12_345,
                   due_on=timezone.localdate() - timedelta(days=refunds.GRACE_DAYS + 1))
    refunds.licence_terminate_for_non_payment(licence=licence, by=holder_admin(holder), today=timezone.localdate())
    document.refresh_from_db()
    assert not document.licensed
    assert_same({"licensed": "no"})

    # A grade set by the holder, and a holder renamed and moved.
    new_grade = "A" if document.grade != "A" else "D"
    inventory_services.patent_grade_override(patent=declaration.patent, grade=new_grade, reason="market study",
                                             by=holder_admin(holder))
    assert ListingDocument.objects.get(pk=document.pk).grade == new_grade
    parties_services.organisation_update(organisation=holder, by=holder_admin(holder), name_zh="量子电池研究院",
                                         province="海南省")
    assert set(ListingDocument.objects.filter(declaration__holder=holder).values_list("region", flat=True)) == {"海南省"}
    for query in ({"grade": new_grade}, {"region": "海南省"}, {"region": "海南省", "sort": "price"}):
        assert_same(query)
    # Found by its new name at once (the old search's index kept the old name until the page was saved again).
    holders_listings = set(ListingDocument.objects.filter(declaration__holder=holder).values_list("page_id", flat=True))
    found = listing_search(data={"q": "量子电池研究院"}, per_page=100)
    assert {hit.pk for hit in found.hits} == holders_listings and found.total == len(holders_listings)


def test_search_reindex_rebuilds_lost_documents_with_the_same_answers(generated_market):
    expected = reference_search({"q": search_bench.query_mix(seed=1)[0]["q"]})
    ListingDocument.objects.all().delete()
    out = io.StringIO()
    call_command("search_reindex", "--no-progress", stdout=out)
    assert f"{PatentListingPage.objects.live().filter(alias_of__isnull=True).count()} listing(s)" in out.getvalue()
    assert_same({"q": search_bench.query_mix(seed=1)[0]["q"]})
    assert expected["total"] > 0
