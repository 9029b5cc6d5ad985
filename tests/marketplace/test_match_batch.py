"""The batch matching of a scheduled refresh: needs keep their words from the moment they are posted or edited,
the cost and budget rules run as numpy columns exactly as the licence calculator's scalar rule, and a refresh of
many needs stores what each need refreshed alone stores."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from licensing.models import DeclarationState, FeeForm
from marketplace.matching import engine
from marketplace.matching import services as match_refresh
from marketplace.matching.index import market_matrix, need_terms, need_token_counts
from marketplace.models import MatchRefresh, MatchSide, Need, StoredMatch
from marketplace.needs import services as needs
from tests.licensing.factories import DeclarationFactory, eligible_patent
from tests.marketplace.matching_reference import pick_over_dense_rows
from tests.marketplace.test_matching import market  # noqa: F401 (the labelled market fixture)
from tests.parties.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

FEES = [
    {"fee_form": FeeForm.LUMP_SUM, "lump_sum_fen": 5_000_000},
    {"fee_form": FeeForm.LUMP_SUM, "lump_sum_fen": 0},
    {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": "net_sales", "royalty_rate": Decimal("2.35"),
     "annual_minimum_fen": 0},
    {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": "", "royalty_rate": Decimal("0.05"),
     "annual_minimum_fen": 300_000},
    {"fee_form": FeeForm.ENTRY_PLUS_ROYALTY, "lump_sum_fen": None, "entry_fee_fen": 1_000_000,
     "royalty_base": "net_sales", "royalty_rate": Decimal("3.50"), "annual_minimum_fen": 50_000},
    {"fee_form": FeeForm.ROYALTY, "lump_sum_fen": None, "royalty_base": "profit", "royalty_rate": Decimal("10"),
     "annual_minimum_fen": 0},
]
# (budget, horizon, expected yearly net sales): no budget, none of it, a budget of 0, sales that round a half.
NEEDS = [(None, 3, None), (8_000_000, 1, 123_450_001), (8_000_000, 5, None), (0, 3, 1_000),
         (20_000_000, 4, 500_000_000), (1_500_000, 2, 21_277)]


def test_the_vectorised_budget_rules_give_what_the_licence_calculator_gives_for_every_fee_form():
    declarations = [DeclarationFactory(state=DeclarationState.FILED, **fees) for fees in FEES]
    buyer = OrganisationFactory(is_licensee=True)
    wants = [Need(organisation=buyer, title="t", description="d", budget_max_fen=b, horizon_years=h,
                  expected_annual_net_sales_fen=s) for b, h, s in NEEDS]
    matrix = market_matrix()
    rows = np.array([matrix.row_of[d.pk] for d in declarations for _ in wants], np.int64)
    pairs = [(need, d) for d in declarations for need in wants]
    facts = engine.ListingFacts()
    facts.load(matrix, rows)

    def column(values):
        return np.array([0 if v is None else v for v in values], np.int64)

    status, cost, costed, over, score, missing = engine.budget_columns(
        facts=facts, rows=rows, horizon=column(n.horizon_years for n, _ in pairs),
        sales=column(n.expected_annual_net_sales_fen for n, _ in pairs),
        has_sales=np.array([n.expected_annual_net_sales_fen is not None for n, _ in pairs]),
        budget=column(n.budget_max_fen for n, _ in pairs),
        has_budget=np.array([n.budget_max_fen is not None for n, _ in pairs]))

    got = [(engine._STATUSES[status[k]], int(cost[k]) if costed[k] else None, int(over[k]), float(score[k]),
            str(missing[k])) for k in range(len(pairs))]
    expected = [engine._budget(need, declaration) for need, declaration in pairs]
    assert got == expected
    assert {s for s, *_ in expected} == {"none", "within", "above", "unknown"}


def test_a_posted_need_keeps_its_words_and_an_edit_segments_it_again():
    buyer = OrganisationFactory(is_licensee=True)
    member = MembershipFactory(organisation=buyer).user
    need = needs.need_post(organisation=buyer, by=member, title="储能电池热管理技术",
                           description="需要锂离子电池组的温度控制方案。", horizon_years=3)
    stored = Need.objects.get(pk=need.pk).match_terms
    assert stored == need_terms(title=need.title, description=need.description)
    assert ["电池", 2] in stored["tokens"]

    needs.need_update(need=need, by=member, description="Looking for lidar obstacle detection.")
    edited = Need.objects.get(pk=need.pk).match_terms
    assert edited["text_hash"] != stored["text_hash"] and ["激光雷达", 1] in edited["tokens"]  # "lidar" as its concept


def test_needs_written_around_the_services_get_their_words_stored_in_bulk():
    buyer = OrganisationFactory(is_licensee=True)
    raw = Need.objects.create(organisation=buyer, title="Membrane", description="graphene desalination membrane")
    closed = Need.objects.create(organisation=buyer, title="x", description="y", state=Need.State.CLOSED)
    assert raw.match_terms is None

    assert match_refresh.needs_terms_store() == 1
    assert Need.objects.get(pk=raw.pk).match_terms == need_terms(title=raw.title, description=raw.description)
    assert Need.objects.get(pk=closed.pk).match_terms is None
    assert match_refresh.needs_terms_store() == 0  # stored words of an unchanged text are kept


def test_a_refresh_of_many_needs_stores_what_each_need_refreshed_alone_stores(market):  # noqa: F811
    _, labelled, _ = market
    ids = [need.pk for need, _ in labelled]

    match_refresh.needs_matches_refresh(need_ids=ids, batch=4)
    batch = list(StoredMatch.objects.filter(side=MatchSide.NEED).order_by("need_id", "rank").values_list(
        "need_id", "rank", "declaration_id", "score", "explanation"))
    assert MatchRefresh.objects.filter(need_id__in=ids, refreshed_at__isnull=False).count() == len(ids)

    StoredMatch.objects.all().delete()
    for need, _ in labelled:
        match_refresh.need_matches_refresh(need=need, cascade=False)
    alone = list(StoredMatch.objects.filter(side=MatchSide.NEED).order_by("need_id", "rank").values_list(
        "need_id", "rank", "declaration_id", "score", "explanation"))

    assert batch == alone and {row[0] for row in batch} == set(ids)


def _picks(wants: list[Need]):
    """(engine._pick from the sparse product, the dense reference's pick) for these needs as one batch."""
    matrix = market_matrix()
    facts = engine.ListingFacts()
    counted = [need_token_counts(n) for n in wants]
    queries = engine._subject_vectors(matrix, matrix.need_vectors(counted), counted).matrix
    products = matrix.products(queries)
    kwargs = {"market": matrix, "needs": wants, "cols": engine._Needs(wants), "today": timezone.localdate(),
              "excluded": engine._exclusions(matrix, wants, facts.licensed_by({n.organisation_id for n in wants})),
              "blocks": facts.blocks_for(matrix, timezone.localdate()), "worded": np.diff(queries.indptr) > 0}
    who, rows, sims = engine._pick(products=products, **kwargs)
    picked = sorted(zip(who.tolist(), rows.tolist(), sims.tolist(), strict=True))
    return picked, sorted(pick_over_dense_rows(sims=products.toarray(), **kwargs))


@pytest.mark.parametrize("head", [16, 1])
def test_candidates_from_the_sparse_product_are_those_of_a_dense_row_ties_to_the_lowest_declarations(
        market, monkeypatch, head):  # noqa: F811
    """Fewer candidates than listings (``SCORED`` lowered to 3 on this small market), so that the edge falls
    inside ties: seven identical listings (the market's sludge listing and six copies: same words, grade and
    life), and rows sharing no word with a need, which tie on grade and life alone. With a head of the base
    order as short as the candidates, needs also read the whole order."""
    declarations, labelled, buyer = market
    twins = []
    for _ in range(6):
        patent = eligible_patent(title="一种市政污泥干化焚烧装置", abstract="利用余热对市政污泥进行干化后焚烧处置。",
                                 main_ipc="F23G 7/00", ipc_codes=["F23G 7/00"], ipc_subclass="F23G",
                                 technology_field=24, grade_score=45, filing_date=date(2022, 5, 1))
        twins.append(DeclarationFactory(patent=patent, state=DeclarationState.FILED).pk)
    holder = declarations["bms"].holder
    wants = [need for need, _ in labelled] + [
        Need.objects.create(organisation=buyer, horizon_years=3, title="市政污泥干化", description="污泥焚烧处置"),
        # No word the listings have: the field's whole signal, then grade and life.
        Need.objects.create(organisation=buyer, horizon_years=3, title="量子纠缠", description="", technology_field=1),
        Need.objects.create(organisation=buyer, horizon_years=3, title="量子纠缠", description=""),
        # The holder's own listing (the best by its text) is left out.
        Need.objects.create(organisation=holder, horizon_years=3, title="储能电池热管理", description="电池组液冷",
                            technology_field=1, ipc_prefix="H01M")]
    monkeypatch.setattr(engine, "SCORED", 3)
    monkeypatch.setattr(engine, "_HEAD", head)

    sparse_pick, dense_pick = _picks(wants)

    assert sparse_pick == dense_pick
    sludge = len(labelled)
    twins = sorted([declarations["sludge"].pk, *twins])
    assert [row for j, row, _ in sparse_pick if j == sludge] == sorted(market_matrix().row_of[pk] for pk in twins[:3])
    assert market_matrix().row_of[declarations["bms"].pk] not in {row for j, row, _ in sparse_pick if j == sludge + 3}
    batch = engine.rank_listings_batch(needs=wants, limit=3)
    assert [r.declaration_id for r in batch[sludge]] == twins[:3]
    alone = [engine.rank_listings_batch(needs=[need], limit=3) for need in wants[sludge:]]  # online: one need
    assert [[(r.declaration_id, r.score, r.explanation_data) for r in ranked] for ranked in batch[sludge:]] == \
        [[(r.declaration_id, r.score, r.explanation_data) for r in ranked[0]] for ranked in alone]
