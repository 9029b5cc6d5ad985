"""Every benchmark run at a tiny scale, so the bench scripts keep working as the code they measure changes.
They check that each figure is measured against a real baseline, not how fast it is."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection

from bench import dashboard_bench, import_bench, load_bench, match_bench, report, search_bench
from bench.generate import generate
from bench.run import _run_one

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (DATABASE_URL)")


def test_the_generator_writes_a_whole_market_that_the_real_pages_can_show(tiny_market, client):
    from licensing.models import Declaration
    from licensing.models.licences import Licence, Payment, RoyaltyReport
    from marketplace.models import Need, PatentListingPage
    from patents.models import Patent

    assert Patent.objects.count() == 300
    assert set(Patent.objects.values_list("kind", flat=True)) == {"invention", "utility_model", "design"}
    assert set(Declaration.objects.values_list("fee_form", flat=True)) == {"lump_sum", "royalty",
                                                                          "entry_plus_royalty"}
    listing = PatentListingPage.objects.live().filter(alias_of__isnull=True).first()
    assert PatentListingPage.objects.count() == tiny_market["listings"] > 50
    assert Licence.objects.filter(state="active").exists() and Payment.objects.filter(purpose="royalty").exists()
    assert RoyaltyReport.objects.exists() and Need.objects.count() == 12
    assert client.get(listing.url).status_code == 200
    assert client.get("/zh-hans/listings/").status_code == 200


def test_the_generator_is_deterministic_and_appends_without_collisions(db):
    from patents.models import Patent

    generate(patents=120, licences=40, needs=3, seed=5)
    first = list(Patent.objects.order_by("pk").values_list("number", "title", "grade_score"))
    generate(patents=80, licences=20, needs=2, seed=5)
    assert Patent.objects.count() == 200
    assert list(Patent.objects.order_by("pk").values_list("number", "title", "grade_score"))[:120] == first


def test_listings_are_found_by_the_real_search_and_by_the_hand_written_statement(tiny_market):
    from marketplace.search.selectors import listing_search

    queries = search_bench.query_mix(seed=1)
    assert len(queries) == 50
    text = {**next(q for q in queries if set(q) == {"q"}), "sort": "newest"}
    page = listing_search(data=text)
    assert page.total > 0
    assert [row[1] for row in search_bench.run_hand_sql(text)] == [hit.number for hit in page.hits][:20]


def test_search_benchmark_reports_a_p95_and_its_baseline(tiny_market):
    figure = search_bench.benchmark(repeats=1, queries=12)
    assert figure.samples == 12 and figure.value > 0 and figure.baseline > 0
    # value and baseline are reported rounded to 0.1 ms, the ratio from the unrounded ones (then to 0.1).
    low, high = (figure.value - 0.05) / (figure.baseline + 0.05), (figure.value + 0.05) / max(figure.baseline - 0.05, 1e-9)
    assert low - 0.05 <= figure.ratio <= high + 0.05


def test_import_benchmark_imports_through_the_service_against_the_same_rows_written_raw_and_cleans_up(tiny_market):
    from marketplace.parties.models import Organisation
    from patents.models import InventoryBatch, Patent, PatentChange

    counts = (PatentChange.objects.count(), InventoryBatch.objects.count(), Organisation.objects.count())
    figure = import_bench.benchmark(rows=200, repeats=1)
    assert figure.details["outcome"] == {"status": "succeeded", "created": 200, "rejected": 0}
    # judged against the rows written raw into the real tables; the bare-table write is a second figure
    assert figure.value > 0 and figure.baseline > 0 and len(figure.details["baseline_s"]) == 1
    assert figure.ratio == pytest.approx(figure.value / figure.baseline, abs=0.01)
    assert figure.details["bare_table_rows_per_s"] > 0 and "against the CSV written into a bare table" in figure.note
    # everything the imports and the raw writes wrote was removed again
    assert Patent.objects.count() == 300
    assert (PatentChange.objects.count(), InventoryBatch.objects.count(), Organisation.objects.count()) == counts


def test_matching_benchmark_times_the_batch_and_one_need_online_against_the_bare_product(tiny_market, monkeypatch):
    from marketplace.matching.index import matching_index_rebuild
    from marketplace.models import ListingTerms, MatchingIndex

    def stored_words():
        terms = MatchingIndex.objects.get().terms
        return {pk: [(terms[t], n) for t, n in zip(np.frombuffer(bytes(ids), "<i4").tolist(),
                                                    np.frombuffer(bytes(counts), "<u2").tolist(), strict=True)]
                for pk, ids, counts in ListingTerms.objects.values_list("pk", "term_ids", "term_counts")}

    # The generator built the index with the words it cut while writing the search documents: the same
    # index the product builds from scratch (which the benchmark then reuses).
    generated = stored_words()
    assert len(generated) == tiny_market["matching_listings"] == tiny_market["listings"]
    ListingTerms.objects.all().delete()
    MatchingIndex.objects.all().delete()
    matching_index_rebuild()
    assert stored_words() == generated

    # At a tiny scale, like every benchmark here: 2,000 needs (the bare product's too) in four batches still take
    # the batched path to the goal and its sum (10,000 in ten batches made this the slowest test of the suite).
    monkeypatch.setattr(match_bench, "NEEDS_GOAL", 2_000)
    monkeypatch.setattr(match_bench, "BATCH", 500)
    monkeypatch.setitem(match_bench.baseline.__kwdefaults__, "needs_total", 2_000)
    batch, online = match_bench.benchmark(sample=3)
    assert batch.details["needs_timed"] == match_bench.NEEDS_GOAL
    assert len(batch.details["seconds_per_need"]) == match_bench.NEEDS_GOAL // match_bench.BATCH
    assert batch.details["needs"] == match_bench.NEEDS_GOAL and batch.baseline > 0 and batch.value > 0
    assert batch.details["index_listings"] == MatchingIndex.objects.get().fitted_listings > 0
    assert len(online.details["ms_per_need"]) == 3 and online.value > 0 and online.unit == "ms"
    judged = batch.details["precision_on_generated_subjects"]
    assert judged["all"]["needs"] == judged["zh"]["needs"] + judged["en"]["needs"] > 0
    assert 0 <= judged["all"]["p@10"] <= judged["all"]["field_p@10"] <= 1


def test_bench_precision_counts_a_listing_of_the_needs_generated_subject_in_either_language(tiny_market):
    from licensing.models import Declaration
    from marketplace.demo.synthetic import subjects_named
    from marketplace.matching.engine import RankedListing

    rows = Declaration.objects.values_list("pk", "patent__title", "patent__title_en")
    subject = {pk: named[0] for pk, t, t_en in rows if (named := subjects_named(f"{t} {t_en}"))}
    assert len(subject) == len(rows)  # every generated title names its subject
    # An English listing; the need, written in Chinese, names its subject by the subject's Chinese name.
    pk = next(r[0] for r in rows if r[1].isascii())
    need = SimpleNamespace(pk=1, title=f"寻求{subject[pk][1]}相关技术许可", description="")
    same_domain = [p for p, s in subject.items() if s[0] == subject[pk][0] and s != subject[pk]][:2]
    others = [p for p, s in subject.items() if s[0] != subject[pk][0]][:7]
    ranking = [RankedListing(declaration_id=p, score=1.0, explanation_data={}) for p in [*same_domain, pk, *others]]
    figures = match_bench.subject_precision([need, need], [ranking, ranking])  # judged once
    assert figures["zh"] == {"needs": 1, "p@5": 0.2, "p@10": 0.1, "field_p@5": round((len(same_domain) + 1) / 5, 3),
                             "field_p@10": round((len(same_domain) + 1) / 10, 3)}
    assert figures["en"] == {"needs": 0} and figures["all"] == figures["zh"]


def test_dashboard_benchmark_agrees_with_the_page_on_the_deal_rate(tiny_market, monkeypatch):
    # Three of the eighteen filter sets (the default board, a breakdown, a filter): each set is the same timed path
    # through the page's selector, and computing all eighteen was the costliest test of the module.
    every_set = dashboard_bench.filter_sets
    monkeypatch.setattr(dashboard_bench, "filter_sets", lambda: [s for s in every_set()
                                                                 if s in ({}, {"by": "sector"}, {"fee_form": "royalty"})])
    figure = dashboard_bench.benchmark(repeats=1)
    published, quick = figure.details["published_12m"], figure.details["quick_12m"]
    assert figure.value > 0 and published > 0
    assert figure.details["deal_rate_page"] == pytest.approx(quick / published, abs=0.01)


def test_the_runner_times_the_pool_tape_through_its_benchmark(db, monkeypatch):
    # At a tiny scale (the runner's default is 100k licences, three times): what is checked is that the
    # runner finds bench/pool_tape.py and gets measured figures from it, not its placeholder.
    monkeypatch.setenv("BENCH_POOL_LICENCES", "300")
    monkeypatch.setenv("BENCH_REPEATS", "1")
    figures = _run_one("pool_tape", "test")
    assert [figure.name for figure in figures] == [
        "export_pool of a frozen pool of 300 licences to Parquet",
        "export_pool of a frozen pool of 300 licences to CSV (ZIP of three files)"]
    for figure in figures:
        assert figure.value > 0 and figure.baseline > 0 and figure.ratio is not None and figure.samples == 1
        assert figure.details["exposures"] > 0
    assert figures[0].goal == "<= 10 s for 100k licences" and figures[1].goal == "<= 20 s for 100k licences"
    assert "the tape alone as one CSV file" in figures[1].note and figures[1].details["tape_csv_bytes"] > 0


@pytest.fixture(scope="module")
def bench_server(tmp_path_factory):
    """The bench's own gunicorn (as `make bench` runs it), not pytest-django's live server: that would make the
    tests transactional and its flush would disturb the serialized-rollback payment-race tests. One for the
    module: starting it is most of what these tests cost."""
    with load_bench.Server(log=tmp_path_factory.mktemp("bench") / "gunicorn.log", workers=1) as server:
        yield server


def test_load_generator_counts_requests_and_errors(bench_server):
    bare = load_bench._threads(bench_server.port, "/bench/bare/", 1)
    missing = load_bench._threads(bench_server.port, "/bench/does-not-exist/", 1)
    assert bare["requests"] > 0 and bare["errors"] == 0
    assert missing["errors"] > 0


def test_gunicorn_serves_the_bare_baseline_view_under_load(bench_server):
    status, size = load_bench.get(bench_server.port, "/bench/bare/")
    measured = load_bench.load(bench_server.port, "/bench/bare/", 1)
    assert status == 200 and size > 2000
    assert measured["requests"] > 0 and measured["errors"] == 0


def test_report_lists_every_figure_with_its_baseline_and_ratio(tiny_market, tmp_path):
    from bench.common import Figure
    from bench.query_counts import page_query_counts

    figure = Figure(name="x figure", unit="ms", value=50.0, baseline=5.0, baseline_label="one statement", ratio=10.0,
                    goal="<= 100 ms", met=True, samples=3)
    counts = {"scale": {"patents": 300}, "pages": page_query_counts()}
    text = report.markdown([{"label": "sqlite", "machine": {"cores": 2}, "scale": {"patents": 300},
                             "database": {"vendor": "sqlite"}, "figures": [figure.as_dict()],
                             "query_counts": {"small": counts, "full": counts}}])
    assert "| x figure | 50 ms | 5 ms (one statement) | 10 | <= 100 ms | met | 3 |" in text
    assert "| search |" in text and "**no**" not in text
    json.dumps(counts)


@on_postgresql
def test_bulk_loading_uses_copy_on_postgresql(db):
    from bench.loading import load_rows, next_id, reset_sequences
    from marketplace.parties.models import Organisation

    pk = next_id(Organisation)
    with connection.execute_wrapper(lambda execute, sql, *a: pytest.fail(f"not COPY: {sql}")
                                    if sql.lstrip().upper().startswith("INSERT") else execute(sql, *a)):
        load_rows(Organisation, ["id", "kind", "slug", "name_zh", "name_en", "province", "city", "is_holder",
                                 "is_licensee", "website", "contact_email", "contact_phone", "description",
                                 "created_at"],
                  [(pk, "individual", "copy-test", "复制测试", "", "北京市", "", True, False, "", "", "", "",
                    "2026-01-01T00:00:00Z")])
    reset_sequences(Organisation)
    assert Organisation.objects.create(kind="individual", slug="after-copy", name_zh="后", province="北京市").pk > pk


def test_pool_tape_benchmark_exports_a_frozen_pool_and_times_its_baseline(db):
    from bench import pool_tape
    from marketplace.models.pools import Pool

    parquet, zipped_csv = pool_tape.benchmark(repeats=1, licences=300)
    assert parquet.value > 0 and parquet.baseline > 0 and parquet.details["exposures"] > 0
    assert parquet.details["cash_flow_rows"] >= parquet.details["exposures"]
    assert parquet.details["exposures"] == zipped_csv.details["exposures"]
    assert not Pool.objects.exists()  # the stored pool's exposures point at synthetic licences: it is deleted


def test_the_query_mix_covers_both_languages_facets_alone_and_combined_and_every_sort_order(tiny_market):
    import re

    queries = search_bench.query_mix(seed=0)
    assert len(queries) == 50
    words = [q["q"] for q in queries if "q" in q]
    assert any(re.search(r"[\u4e00-\u9fff]", w) for w in words) and any(re.fullmatch(r"[a-z ]+", w) for w in words)
    facets = [set(q) - {"q", "sort"} for q in queries]
    assert any(len(f) == 1 and "q" not in q for f, q in zip(facets, queries, strict=True))
    assert any(len(f) >= 2 and "q" not in q for f, q in zip(facets, queries, strict=True))
    assert {q.get("sort") for q in queries} >= {None, "newest", "price", "life"}
    assert any("q" in q and "sort" not in q for q in queries)  # relevance, the default with words


@pytest.mark.parametrize("sort", ["newest", "price", "life"])
def test_the_hand_written_statement_orders_hits_like_the_selector(tiny_market, sort):
    from marketplace.search.selectors import listing_search

    query = {"fee_form": "lump_sum", "sort": sort}
    assert [row[1] for row in search_bench.run_hand_sql(query)] == \
        [hit.number for hit in listing_search(data=query).hits][:20]


def test_search_benchmark_reports_cold_and_warm_apart_and_emits_every_pass(tiny_market):
    emitted = []
    figure = search_bench.benchmark(repeats=2, queries=6, emit=emitted.append)
    assert figure.samples == 12 and not figure.note
    assert figure.details["cold_samples"] == 6 and figure.details["warm_samples"] == 6
    assert figure.details["cold_p95_ms"] > 0 and figure.details["warm_p95_ms"] > 0
    assert emitted[0].note == "provisional: 1 of 2 passes" and emitted[0].samples == 6


def test_search_benchmark_stops_at_its_budget_with_what_it_measured(tiny_market):
    figure = search_bench.benchmark(repeats=3, queries=10, budget_seconds=0)
    assert figure.samples == 1 and figure.value > 0
    assert figure.note == "stopped at the budget (0 s): 1 of 30 timed searches"


def test_dashboard_and_matching_stop_at_their_budgets(tiny_market):
    board = dashboard_bench.benchmark(repeats=5, budget_seconds=0)
    assert board.samples == 1 and board.value > 0 and "within the budget" in board.note
    batch, online = match_bench.benchmark(sample=3, budget_seconds=0)
    assert batch.samples == 1 and f"{match_bench.BATCH:,} of 10,000 needs" in batch.note and batch.baseline > 0
    assert online.samples == 1 and "1 of 3 needs" in online.note


def test_import_benchmark_measures_a_smaller_file_when_the_asked_one_does_not_fit(tiny_market, monkeypatch):
    from patents.models import Patent

    monkeypatch.setattr(import_bench, "PILOT_ROWS", 50)
    figure = import_bench.benchmark(rows=100_000_000, repeats=2, budget_seconds=5)
    assert figure.details["rows_wanted"] == 100_000_000 and figure.details["rows"] < 100_000_000
    assert figure.note.startswith(f"measured on {figure.details['rows']:,} rows, not 100,000,000")
    assert figure.value > 0 and Patent.objects.count() == 300
