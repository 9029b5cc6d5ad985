"""Explainable matching between buyer needs (需求清单) and published listings (declarations).

Reads only. For a need, the ranked listings (``rank_listings_for_need``); for a listing, the ranked open public
needs (``rank_needs_for_declaration``). Each ``Match`` carries its score (0–1) and an ``Explanation``: the shared
terms, the shared IPC, whether the technology field matches, the budget verdict and the grade.

Text similarity is TF-IDF over title + abstract (need: title + description) with cosine similarity. Tokens:
Chinese runs cut by jieba's search mode (so "锂电池" also yields "电池"), other text as lowercase words; English
stop words and boilerplate patent words are dropped.

Listings → need: the listings' vectors come from the stored matching index (marketplace.matching.index), fitted
once and folded as listings change; a need is segmented alone and compared with every listing in one sparse
product (a batch of needs in one product per chunk). The similarities equal those of scikit-learn's
``TfidfVectorizer`` fitted on the need and the market, as this module computed them per need before (see the
index's docstring for what differs by construction). Need → listings (``rank_needs_for_declaration``) still fits
over the open needs per listing: they are few.

Blocking keeps the expensive per-candidate work (the licensee cost calculator) small: candidates are those in
the same technology field or sharing the IPC subclass, topped up with the best text matches among the rest when
there are fewer than ``limit``; of those, the best ``SCORED`` by the rest of the score get the cost and budget
rules and are read from the database.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
from django.db.models import Case, CharField, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from licensing.declarations.selectors import licensee_cost
from licensing.licences.selectors import declarations_licensed_by
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, FeeForm, RoyaltyBase
from marketplace.matching.index import market_matrix, tokenize
from marketplace.models import Need

# How the score (0–1) is made; the weights sum to 1 and each component is itself 0–1.
WEIGHTS: dict[str, float] = {
    # cosine similarity of the TF-IDF vectors of the need's and the listing's text: the main signal.
    "text": 0.50,
    # technology field (WIPO) equal: half; IPC: the other half (a code under the need's IPC prefix 1.0, only
    # the same subclass 0.7).
    "field_ipc": 0.25,
    # 1 within the budget over the need's horizon, falling linearly to 0 at twice the budget; 0.5 when the
    # buyer gave no budget (neutral).
    "budget": 0.10,
    # the patent's grade score / 100.
    "grade": 0.10,
    # remaining life, full at 10 years and more.
    "life": 0.05,
}
IPC_SUBCLASS_ONLY = 0.7
NO_BUDGET_SCORE = 0.5
FULL_LIFE_YEARS = 10
SHARED_TERMS_SHOWN = 5
# The listings of a need's candidates that get the cost and budget rules (and are read from the database): the
# best by the rest of the score. A listing further down could gain at most WEIGHTS["budget"] from its budget.
SCORED = 50

@dataclass
class Explanation:
    shared_terms: list[str] = field(default_factory=list)
    shared_ipc: list[str] = field(default_factory=list)
    field_match: bool = False
    budget_status: str = "none"  # "within", "above", "unknown" or "none"
    cost_fen: int | None = None  # what the licensee pays over the need's horizon; None when it cannot be told
    # "unknown" only: the royalty base the need gives no figure for ("profit" or "net_sales")
    unknown_base: str = ""
    over_budget_fen: int = 0
    grade: str = ""
    grade_score: int = 0
    remaining_life_years: Decimal = Decimal("0")
    components: dict[str, float] = field(default_factory=dict)

    @property
    def budget_verdict(self) -> str:
        """"within budget" / "above budget by X" / "cannot be judged, because…" / "no budget given", in the
        active language."""
        if self.budget_status == "unknown":
            if self.unknown_base == "profit":
                return _("cannot be judged: the royalty is computed on profit, and the need gives no profit figure")
            return _("cannot be judged: the royalty is computed on net sales, and the need gives no expected "
                     "sales figure")
        if self.budget_status == "within":
            return _("within budget")
        if self.budget_status == "above":
            from marketplace.templatetags.market_format import fen
            return _("above budget by %(amount)s") % {"amount": fen(self.over_budget_fen)}
        return _("no budget given")


@dataclass
class Match:
    declaration: Declaration
    need: Need
    score: float
    explanation: Explanation


# ---------------------------------------------------------------------------------------------- parts


def _declaration_text(d: Declaration) -> str:
    return f"{d.patent.title} {d.patent.abstract}"


def _need_text(n: Need) -> str:
    return f"{n.title} {n.description}"


def _norm_ipc(code: str) -> str:
    return re.sub(r"\s+", "", code or "").upper()


def _shared_ipc(need: Need, declaration: Declaration) -> tuple[list[str], float]:
    """The listing's IPC codes the need's prefix covers (score 1), else its subclass when only that is shared
    (score 0.7), else nothing (0)."""
    prefix = _norm_ipc(need.ipc_prefix)
    if not prefix:
        return [], 0.0
    patent = declaration.patent
    codes = [c for c in (patent.ipc_codes or []) if c]
    if len(prefix) > 4:
        exact = [c for c in codes if _norm_ipc(c).startswith(prefix)]
        if exact:
            return exact, 1.0
    elif any(_norm_ipc(c).startswith(prefix) for c in codes) or patent.ipc_subclass.upper() == prefix:
        return [prefix], 1.0
    subclass = prefix[:4]
    if patent.ipc_subclass.upper() == subclass or any(_norm_ipc(c)[:4] == subclass for c in codes):
        return [subclass], IPC_SUBCLASS_ONLY
    return [], 0.0


def _missing_royalty_base(need: Need, declaration: Declaration) -> str:
    """The royalty base ("profit" or "net_sales") the listing's fee is computed on and the need gives no figure
    for, or "" when the cost can be told. A need states expected sales only, never profit."""
    if declaration.fee_form == FeeForm.LUMP_SUM:
        return ""
    if (declaration.royalty_base or RoyaltyBase.NET_SALES) == RoyaltyBase.PROFIT:
        return RoyaltyBase.PROFIT.value
    return "" if need.expected_annual_net_sales_fen is not None else RoyaltyBase.NET_SALES.value


def _cost(need: Need, declaration: Declaration) -> int:
    over_horizon = copy.copy(declaration)
    over_horizon.duration_years = need.horizon_years or 1
    _, cost = licensee_cost(declaration=over_horizon, annual_net_sales_fen=need.expected_annual_net_sales_fen or 0)
    return cost


def _budget(need: Need, declaration: Declaration, memo: dict | None = None) -> tuple[str, int | None, int, float, str]:
    """(status, cost over the need's horizon, amount above budget, score, missing royalty base). The cost is the
    licence calculator's with the licence running for the need's horizon and the buyer's expected sales. A
    royalty on a figure the need does not give is not costed (a cost of 0 would read as "within budget"): the
    status is then "unknown" (or "none" without a budget) and the score neutral. ``memo`` keeps costs by
    listing, horizon and sales (needs in a batch share them)."""
    missing = _missing_royalty_base(need, declaration)
    if missing:
        status = "unknown" if need.budget_max_fen is not None else "none"
        return status, None, 0, NO_BUDGET_SCORE, missing
    if memo is None:
        cost = _cost(need, declaration)
    else:
        key = ("cost", declaration.pk, need.horizon_years or 1, need.expected_annual_net_sales_fen or 0)
        cost = memo.get(key)
        if cost is None:
            cost = memo[key] = _cost(need, declaration)
    if need.budget_max_fen is None:
        return "none", cost, 0, NO_BUDGET_SCORE, ""
    if cost <= need.budget_max_fen:
        return "within", cost, 0, 1.0, ""
    over = cost - need.budget_max_fen
    score = max(0.0, 1.0 - over / need.budget_max_fen) if need.budget_max_fen else 0.0
    return "above", cost, over, score, ""


def _shared_terms(need_vec, decl_vec, terms) -> list[str]:
    both = need_vec.multiply(decl_vec).tocoo()
    order = np.argsort(-both.data)[:SHARED_TERMS_SHOWN]
    return [str(terms[both.col[i]]) for i in order]


def _listing_facts(declaration: Declaration, memo: dict | None) -> tuple[Decimal, float, float]:
    """(remaining life in years, life component, grade component): the same for every need."""
    facts = memo.get(declaration.pk) if memo is not None else None
    if facts is None:
        patent = declaration.patent
        life = patent.remaining_life_years
        facts = (life, min(float(life) / FULL_LIFE_YEARS, 1.0), min(patent.grade_score, 100) / 100)
        if memo is not None:
            memo[declaration.pk] = facts
    return facts


def _components(*, need: Need, declaration: Declaration, similarity: float, memo: dict | None = None):
    """The score and what explains it. ``memo`` keeps what does not depend on the need (or depends only on its
    IPC prefix, horizon and sales) between the needs of a batch."""
    patent = declaration.patent
    if memo is None:
        shared_ipc, ipc_score = _shared_ipc(need, declaration)
    else:
        key = ("ipc", declaration.pk, need.ipc_prefix)
        if key not in memo:
            memo[key] = _shared_ipc(need, declaration)
        shared_ipc, ipc_score = memo[key]
        shared_ipc = list(shared_ipc)
    field_match = need.technology_field is not None and need.technology_field == patent.technology_field
    budget = _budget(need, declaration, memo)
    life, life_score, grade_score = _listing_facts(declaration, memo)
    components = {
        "text": float(similarity),
        "field_ipc": 0.5 * float(field_match) + 0.5 * ipc_score,
        "budget": budget[3],
        "grade": grade_score,
        "life": life_score,
    }
    score = round(min(max(sum(WEIGHTS[k] * v for k, v in components.items()), 0.0), 1.0), 4)
    return score, components, shared_ipc, field_match, budget, life


def _match(*, need: Need, declaration: Declaration, scored, shared_terms: list[str]) -> Match:
    score, components, shared_ipc, field_match, (status, cost, over, _, missing), life = scored
    patent = declaration.patent
    explanation = Explanation(
        shared_terms=shared_terms, shared_ipc=shared_ipc, field_match=field_match, budget_status=status,
        cost_fen=cost, over_budget_fen=over, unknown_base=missing, grade=patent.grade,
        grade_score=patent.grade_score, remaining_life_years=life, components=components)
    return Match(declaration=declaration, need=need, score=score, explanation=explanation)


def _score(*, need: Need, declaration: Declaration, similarity: float, need_vec, decl_vec, terms) -> Match:
    return _match(need=need, declaration=declaration,
                  scored=_components(need=need, declaration=declaration, similarity=similarity),
                  shared_terms=_shared_terms(need_vec, decl_vec, terms))


def _similarities(query_text: str, texts: list[str]):
    """TF-IDF fitted on the candidates and the query; returns (query vector, candidate matrix, similarities,
    vocabulary)."""
    vectorizer = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([query_text, *texts])
    except ValueError:  # empty vocabulary: nothing to compare
        return None, None, np.zeros(len(texts)), np.array([])
    query, rest = matrix[0], matrix[1:]
    return query, rest, cosine_similarity(query, rest).ravel(), vectorizer.get_feature_names_out()


def _blocked(in_block: list[bool], sims, limit: int) -> list[int]:
    """Indexes of the candidates to score: the block, plus the best text matches outside it up to ``limit``."""
    chosen = [i for i, b in enumerate(in_block) if b]
    if len(chosen) < limit:
        rest = [i for i in np.argsort(-sims, kind="stable") if not in_block[i] and sims[i] > 0]
        chosen += rest[:limit - len(chosen)]
    return chosen


# ---------------------------------------------------------------------------------------------- selectors


def published_declarations():
    return Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES).select_related("patent", "holder")


def rank_listings_for_need(*, need: Need, limit: int = 20) -> list[Match]:
    """The published listings that best answer a need, best first, each explained. The buyer's own listings
    and those it already holds a live licence under are left out. Reads the stored index (one product over the
    need's words) and loads only the listings it scores."""
    return rank_listings_for_needs(needs=[need], limit=limit)[0]


def _licensed_by(organisation_ids: set[int]) -> dict[int, set[int]]:
    licensed: dict[int, set[int]] = {}
    for org in organisation_ids:
        licensed[org] = set(declarations_licensed_by(organisation_id=org).values_list("declaration_id", flat=True))
    return licensed


def _candidates(*, market, need: Need, sims: np.ndarray, excluded: np.ndarray, limit: int,
                today: date) -> np.ndarray:
    """Rows to score, best first by the score without its budget part, at most ``SCORED``: the field/IPC block
    (plus the best text matches outside it when the block is smaller than ``limit``), as before; ``excluded``
    are the rows of the buyer's own and licensed listings. The IPC part is bounded by the subclass here (the
    exact IPC score needs the codes, read with the declaration)."""
    parts = []
    if need.technology_field is not None:
        parts.append(market.rows_where("fields", need.technology_field))
    prefix = _norm_ipc(need.ipc_prefix)
    if prefix:
        sub_id = market.subclass_ids.get(prefix[:4])
        if sub_id is not None:
            parts.append(market.rows_where("main_subclass", sub_id))
    chosen = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    chosen = chosen[market.alive[chosen] & ~np.isin(chosen, excluded)]
    if len(chosen) < limit:
        outside = np.ones(market.size, bool)
        outside[chosen] = False
        outside[excluded] = False
        rest = np.flatnonzero(market.alive & outside & (sims > 0))
        rest = rest[np.lexsort((market.declaration_ids[rest], -sims[rest]))][:limit - len(chosen)]
        chosen = np.concatenate([chosen, rest])
    if len(chosen) <= SCORED:
        return chosen
    field_eq = (market.fields[chosen] == need.technology_field) if need.technology_field is not None else 0.0
    ipc_bound = market.subclass_match(prefix)[chosen] if prefix else 0.0
    budget = NO_BUDGET_SCORE if need.budget_max_fen is None else 1.0
    partial = (WEIGHTS["text"] * sims[chosen] + WEIGHTS["field_ipc"] * (0.5 * field_eq + 0.5 * ipc_bound)
               + WEIGHTS["grade"] * market.grade[chosen]
               + WEIGHTS["life"] * np.minimum(market.remaining_life(today, chosen) / FULL_LIFE_YEARS, 1)
               + WEIGHTS["budget"] * budget)
    top = np.argpartition(-partial, SCORED - 1)[:SCORED]
    top = top[np.lexsort((market.declaration_ids[chosen][top], -partial[top]))]
    return chosen[top]


def rank_listings_for_needs(*, needs: list[Need], limit: int = 20, chunk: int | None = None,
                            loaded: dict[int, Declaration] | None = None, memo: dict | None = None) -> list[list[Match]]:
    """``rank_listings_for_need`` for a batch of needs (one list per need, in order): one sparse product per
    chunk of needs, then the cost and budget rules on each need's best ``SCORED`` candidates only. ``loaded``
    keeps the declarations read between calls (a refresh of many needs reads each listing once), ``memo`` their
    costs and facts (pass a fresh one when listings may have changed)."""
    market = market_matrix()
    results: list[list[Match]] = [[] for _ in needs]
    if not needs or market.size == 0:
        return results
    loaded = {} if loaded is None else loaded
    memo = {} if memo is None else memo
    licensed = _licensed_by({n.organisation_id for n in needs})
    vectors = market.need_vectors([_need_text(n) for n in needs])
    today = timezone.localdate()
    # Chunks keep the dense similarities under ~20M cells.
    chunk = chunk or max(1, 20_000_000 // max(market.size, 1))
    for lo in range(0, len(needs), chunk):
        sims = market.similarities(vectors.matrix[lo:lo + chunk])
        picked = []
        for i in range(lo, min(lo + chunk, len(needs))):
            need = needs[i]
            excluded = market.rows_where("holder_ids", need.organisation_id)
            gone = licensed[need.organisation_id]
            if gone:
                excluded = np.concatenate([excluded, [market.row_of[pk] for pk in gone if pk in market.row_of]])
            excluded = excluded.astype(np.int64)
            picked.append(_candidates(market=market, need=need, sims=sims[i - lo], excluded=excluded, limit=limit,
                                      today=today))
        missing = {int(market.declaration_ids[r]) for rows in picked for r in rows} - loaded.keys()
        if missing:
            loaded.update(published_declarations().in_bulk(sorted(missing)))
        for i, rows in zip(range(lo, lo + len(picked)), picked, strict=True):
            need, scored = needs[i], []
            values = market.term_weights(vectors.rows[i], rows)
            exact = market.exact_similarities(vectors.rows[i], rows, sims[i - lo][rows], values)
            for k, row in enumerate(rows):
                declaration = loaded.get(int(market.declaration_ids[row]))
                if declaration is not None:  # withdrawn since the index was read
                    scored.append((k, declaration,
                                   _components(need=need, declaration=declaration, similarity=exact[k], memo=memo)))
            scored.sort(key=lambda item: (-item[2][0], item[1].pk))
            results[i] = [_match(need=need, declaration=declaration, scored=parts,
                                 shared_terms=market.shared_terms(vectors.rows[i], values[k], SHARED_TERMS_SHOWN))
                          for k, declaration, parts in scored[:limit]]
    return results


def rank_needs_for_declaration(*, declaration: Declaration, limit: int = 20) -> list[Match]:
    """The open, public needs a published listing best answers, best first, each explained; each need has
    `shown_name` (empty for anonymous needs). The holder's own needs are left out."""
    patent = declaration.patent
    candidates = list(
        Need.objects.filter(state=Need.State.OPEN, public=True).exclude(organisation_id=declaration.holder_id)
        .select_related("organisation")
        .annotate(shown_name=Case(When(anonymous=True, then=Value("")), default=F("organisation__name_zh"),
                                  output_field=CharField()))
        .order_by("pk"))
    if not candidates:
        return []
    query, matrix, sims, terms = _similarities(_declaration_text(declaration), [_need_text(n) for n in candidates])
    subclass = patent.ipc_subclass.upper()
    in_block = [(n.technology_field is not None and n.technology_field == patent.technology_field)
                or (bool(subclass) and _norm_ipc(n.ipc_prefix)[:4] == subclass) for n in candidates]
    matches = [_score(need=candidates[i], declaration=declaration, similarity=sims[i],
                      need_vec=matrix[i], decl_vec=query, terms=terms)
               if matrix is not None else
               _score_without_text(need=candidates[i], declaration=declaration)
               for i in _blocked(in_block, sims, limit)]
    matches.sort(key=lambda m: (-m.score, m.need.pk))
    return matches[:limit]


def _score_without_text(*, need: Need, declaration: Declaration) -> Match:
    """Scoring when neither side has a usable word (empty vocabulary)."""
    from scipy.sparse import csr_matrix

    empty = csr_matrix((1, 1))
    return _score(need=need, declaration=declaration, similarity=0.0, need_vec=empty, decl_vec=empty,
                  terms=np.array([""]))


__all__ = ["WEIGHTS", "Explanation", "Match", "rank_listings_for_need", "rank_listings_for_needs",
           "rank_needs_for_declaration", "tokenize"]
