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

Candidates by similarity first (#23): every live listing is a candidate by its text; the need's technology field
and IPC prefix raise a listing's score in proportion to its text's evidence of the subject (``signal_share``;
the explanation says so) but exclude none, and a subclass related
to the need's (same IPC class, or often filed together on the platform: ``related_subclasses``) counts for part
of the IPC signal. Of the whole market, the best ``SCORED`` by the score without its budget part (one partition
per need over its entries of the sparse product and the best rows by grade and life, ``_pick``) get the cost
and budget rules.
Subject over setting: the need's words that name where a technology is used (setting_terms.py) weigh
``SETTING_WEIGHT`` of a subject word in its vector; the explanation lists the shared setting words apart.

A need's listings, online or in a batch (``rank_listings_batch``), are scored as numpy columns: the needs' stored
words (no segmentation), one product per chunk of needs, and the cost and budget rules (``budget_columns``),
exact similarities, IPC and shared words over every need's best ``SCORED`` at once, from the listings' fee terms
read as columns once per refresh (``ListingFacts``). The scalar rules (``_components``, ``_budget`` through the
licence calculator) score a listing's needs and are the oracle the tests hold the columns to.
"""

from __future__ import annotations

import copy
import functools
import gc
import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db import connections
from django.db.models import Case, CharField, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from licensing.declarations.selectors import licensee_cost
from licensing.models import LICENSABLE_DECLARATION_STATES, Declaration, FeeForm, RoyaltyBase
from licensing.models.licences import LIVE_LICENCE_STATES, Licence
from marketplace.matching.index import (
    NeedVectors,
    listing_text,
    market_matrix,
    need_token_counts,
    term_label,
    tokenize,
)
from marketplace.matching.setting_terms import SETTING_PHRASES_EN, SETTING_PHRASES_ZH, SETTING_WEIGHT
from marketplace.models import Need

# How the score (0–1) is made; the weights sum to 1 and each component is itself 0–1. Why these weights: the text
# names the subject and is the only evidence of it, so it weighs most; the field and IPC are a prior (a listing
# in the buyer's field and subclass is more likely on the subject, but near-misses share both), worth half the
# text and counted in proportion to the text's evidence (``signal_share``): a listing that shares no word with
# a need that has words gets none of it, and a near-miss of the same subclass beats a listing on the subject only
# if its text is nearly as close. Budget, grade and life order listings that are otherwise alike.
WEIGHTS: dict[str, float] = {
    # cosine similarity of the TF-IDF vectors of the need's and the listing's text: the main signal.
    "text": 0.50,
    # technology field (WIPO) equal: half; IPC: the other half (a code under the need's IPC prefix 1.0, only
    # the same subclass 0.7, a related subclass 0.5: ``IPC_RELATED``), times ``signal_share`` of the text
    # similarity. A signal, never a filter (#23): every listing is a candidate by its text, and the field and IPC
    # only add to its score.
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
# The field and IPC are a prior on the subject, so they count in proportion to the text's evidence of it: in
# full from this text similarity up, linearly less below it, nothing for a listing that shares no word. Listings
# on a need's subject share several of its words (0.2-0.7 on the labelled set); one that shares a single common
# word (检测, 汽车) scores 0.03-0.1 and, with the whole signal, came before listings on the subject filed
# elsewhere (a PTC heater of the need's subclass above heat pumps of another). Measured on the labelled set
# (tests/data/matching, 81 needs; zh | en p@5/p@10/r@20): no share 0.955/0.933/0.884 | 0.975/0.972/0.915; from 0.1
# 0.959/0.945/0.916 | 0.975/0.972/0.938; from 0.2 (chosen) 0.963/0.947/0.926 | 0.975/0.975/0.943; crossing alike.
# Still a signal, never a filter: every listing stays a candidate by its text (#23).
TEXT_FOR_SIGNAL = 0.2


def signal_share(text):
    """The share of its field/IPC signal a listing gets at this text similarity (a float or an array)."""
    return np.minimum(np.asarray(text, dtype=np.float64) / TEXT_FOR_SIGNAL, 1.0)
# A listing filed under a subclass related to the need's (``related_subclasses``): patents on one technology are
# spread over neighbouring subclasses (a PV inverter's power control under H02M or H02J), so a related subclass
# is evidence of the same technology, weaker than the need's own subclass (0.7) and well above none.
IPC_RELATED = 0.5
# Co-classified: the two subclasses share at least this share of the smaller one's listings (and two listings at
# least, ``MatchingIndex.coclassified``). One listing in twenty is well above chance for two of ~650 subclasses
# and low enough that a subclass pairs with its few real neighbours, not only its twin.
COCLASSIFIED_SHARE = 0.05
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
    # The shared terms that name where the technology is used (setting_terms.py), weighted below the subject.
    setting_terms: list[str] = field(default_factory=list)
    # The listing's subclasses related to the need's IPC (no code under the need's prefix or subclass), and why:
    # "class" (same IPC class) or "coclassified" (often filed together on the platform).
    related_ipc: list[str] = field(default_factory=list)
    related_by: str = ""

    @property
    def subject_terms(self) -> list[str]:
        return [t for t in self.shared_terms if t not in self.setting_terms]

    @property
    def subject_labels(self) -> list[str]:
        """The shared subject words as shown: a concept both languages share with its counterpart, once
        ("电池 / battery", ``term_label``)."""
        return [term_label(t) for t in self.subject_terms]

    @property
    def setting_labels(self) -> list[str]:
        return [term_label(t) for t in self.setting_terms]

    @property
    def related_ipc_reason(self) -> str:
        """Why a related subclass raised the score, in the active language ("" without one)."""
        if not self.related_ipc:
            return ""
        codes = ", ".join(self.related_ipc)
        if self.related_by == "class":
            return _("neighbouring subclass %(codes)s (same IPC class)") % {"codes": codes}
        return _("neighbouring subclass %(codes)s (often classified together on the platform)") % {"codes": codes}

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


def explanation_json(explanation: Explanation) -> dict:
    """What a stored match keeps (``dataclasses.asdict``, spelt out: it deep-copies every value)."""
    e = explanation
    return {"shared_terms": list(e.shared_terms), "shared_ipc": list(e.shared_ipc), "field_match": e.field_match,
            "budget_status": e.budget_status, "cost_fen": e.cost_fen, "unknown_base": e.unknown_base,
            "over_budget_fen": e.over_budget_fen, "grade": e.grade, "grade_score": e.grade_score,
            "remaining_life_years": str(e.remaining_life_years), "components": dict(e.components),
            "setting_terms": list(e.setting_terms), "related_ipc": list(e.related_ipc), "related_by": e.related_by}


def explanation_from_json(data: dict) -> Explanation:
    fields = {k: v for k, v in data.items() if k in Explanation.__dataclass_fields__}
    fields["remaining_life_years"] = Decimal(fields.get("remaining_life_years") or "0")
    return Explanation(**fields)


@dataclass
class Match:
    declaration: Declaration
    need: Need
    score: float
    explanation: Explanation


# ---------------------------------------------------------------------------------------------- parts


def _declaration_text(d: Declaration) -> str:
    return listing_text(d.patent.title, d.patent.abstract)


def _need_text(n: Need) -> str:
    return f"{n.title} {n.description}"


def _norm_ipc(code: str) -> str:
    return re.sub(r"\s+", "", code or "").upper()


def shared_ipc_of(prefix: str, codes: list[str], main_subclass: str) -> tuple[list[str], float]:
    """The listing's IPC codes the need's (normalised) prefix covers (score 1), else its subclass when only that
    is shared (score 0.7), else nothing (0). ``main_subclass``: the patent's own subclass, upper case."""
    if not prefix:
        return [], 0.0
    if len(prefix) > 4:
        exact = [c for c in codes if _norm_ipc(c).startswith(prefix)]
        if exact:
            return exact, 1.0
    elif any(_norm_ipc(c).startswith(prefix) for c in codes) or main_subclass == prefix:
        return [prefix], 1.0
    subclass = prefix[:4]
    if main_subclass == subclass or any(_norm_ipc(c)[:4] == subclass for c in codes):
        return [subclass], IPC_SUBCLASS_ONLY
    return [], 0.0


def _shared_ipc(need: Need, declaration: Declaration,
                related: dict[str, str] | None = None) -> tuple[list[str], float, list[str], str]:
    """(shared codes, IPC score, related subclasses, why related) of a pair; ``related``: the subclasses
    related to the need's (``related_subclasses``)."""
    patent = declaration.patent
    codes = [c for c in (patent.ipc_codes or []) if c]
    shared, score = shared_ipc_of(_norm_ipc(need.ipc_prefix), codes, patent.ipc_subclass.upper())
    if score or not related:
        return shared, score, [], ""
    subclasses = {_norm_ipc(c)[:4] for c in codes} | {patent.ipc_subclass.upper()}
    near = sorted(s for s in subclasses if s in related)
    if not near:
        return shared, score, [], ""
    return shared, IPC_RELATED, near, _relation(related, near)


def _relation(related: dict[str, str], near: list[str]) -> str:
    """"class" when one of the related subclasses is of the need's class, else "coclassified"."""
    return "class" if any(related[s] == "class" for s in near) else "coclassified"


def related_subclasses(market, prefix: str) -> dict[str, str]:
    """The subclasses related to the need's IPC prefix (its first four characters): those of the same IPC class
    ("class": H02J for H02M) and those often filed together with it on the platform ("coclassified", from the
    fit's statistics: the pair shares ``COCLASSIFIED_SHARE`` of the smaller subclass's listings). Only
    subclasses present in the market; the need's own subclass is not among them."""
    subclass = _norm_ipc(prefix)[:4]
    if len(subclass) < 4:
        return {}
    key = (market.key, subclass)
    hit = _RELATED.get(key)
    if hit is None:
        stats = market.coclassified or {}
        counts, pairs = stats.get("listings", {}), stats.get("pairs", {})
        hit = {}
        for other, together in pairs.get(subclass, {}).items():
            smaller = min(counts.get(subclass, 0), counts.get(other, 0)) or 1
            if together / smaller >= COCLASSIFIED_SHARE:
                hit[other] = "coclassified"
        hit.update({s: "class" for s in market.subclass_ids if s[:3] == subclass[:3] and s != subclass})
        if len(_RELATED) > 4096:
            _RELATED.clear()
        _RELATED[key] = hit
    return hit


_RELATED: dict[tuple[str, str], dict[str, str]] = {}


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


def _budget(need: Need, declaration: Declaration) -> tuple[str, int | None, int, float, str]:
    """(status, cost over the need's horizon, amount above budget, score, missing royalty base). The cost is the
    licence calculator's with the licence running for the need's horizon and the buyer's expected sales. A
    royalty on a figure the need does not give is not costed (a cost of 0 would read as "within budget"): the
    status is then "unknown" (or "none" without a budget) and the score neutral. The scalar rule: a need's
    listings online and in a batch go through ``budget_columns``, which the tests hold to this."""
    missing = _missing_royalty_base(need, declaration)
    if missing:
        status = "unknown" if need.budget_max_fen is not None else "none"
        return status, None, 0, NO_BUDGET_SCORE, missing
    cost = _cost(need, declaration)
    if need.budget_max_fen is None:
        return "none", cost, 0, NO_BUDGET_SCORE, ""
    if cost <= need.budget_max_fen:
        return "within", cost, 0, 1.0, ""
    over = cost - need.budget_max_fen
    score = max(0.0, 1.0 - over / need.budget_max_fen) if need.budget_max_fen else 0.0
    return "above", cost, over, score, ""


def _shared_terms(need_vec, decl_vec, terms, *, settings_only: bool = False) -> list[str]:
    """The heaviest shared words (need weight times listing weight); ``settings_only``: of the setting words."""
    both = need_vec.multiply(decl_vec).tocoo()
    if settings_only:
        settings = setting_tokens()
        keep = np.array([str(terms[c]) in settings for c in both.col], bool)
        both = sparse.coo_matrix((both.data[keep], (both.row[keep], both.col[keep])), shape=both.shape)
    order = np.argsort(-both.data)[:SHARED_TERMS_SHOWN]
    return [str(terms[both.col[i]]) for i in order]


def _listing_facts(declaration: Declaration) -> tuple[Decimal, float, float]:
    """(remaining life in years, life component, grade component): the same for every need."""
    patent = declaration.patent
    life = patent.remaining_life_years
    return life, min(float(life) / FULL_LIFE_YEARS, 1.0), min(patent.grade_score, 100) / 100


def _components(*, need: Need, declaration: Declaration, similarity: float, related: dict[str, str] | None = None,
                worded: bool = True):
    """The score and what explains it, one listing at a time (a listing's needs, and the tests' reference; a
    need's listings are scored as columns by ``_rank_chunks`` with the same weights). ``related``: the
    subclasses related to the need's (``related_subclasses``). ``worded``: the texts have usable words (else
    there is no text to weigh the field/IPC signal by, and it counts in full)."""
    patent = declaration.patent
    shared_ipc, ipc_score, near, related_by = _shared_ipc(need, declaration, related)
    field_match = need.technology_field is not None and need.technology_field == patent.technology_field
    budget = _budget(need, declaration)
    life, life_score, grade_score = _listing_facts(declaration)
    components = {
        "text": float(similarity),
        "field_ipc": (0.5 * float(field_match) + 0.5 * ipc_score) * (float(signal_share(similarity)) if worded else 1.0),
        "budget": budget[3],
        "grade": grade_score,
        "life": life_score,
    }
    score = round(min(max(sum(WEIGHTS[k] * v for k, v in components.items()), 0.0), 1.0), 4)
    return score, components, shared_ipc, field_match, budget, life, near, related_by


def _match(*, need: Need, declaration: Declaration, scored, shared_terms: list[str],
           setting_terms: list[str]) -> Match:
    score, components, shared_ipc, field_match, (status, cost, over, _, missing), life, near, related_by = scored
    patent = declaration.patent
    explanation = Explanation(
        shared_terms=shared_terms, shared_ipc=shared_ipc, field_match=field_match, budget_status=status,
        cost_fen=cost, over_budget_fen=over, unknown_base=missing, grade=patent.grade,
        grade_score=patent.grade_score, remaining_life_years=life, components=components,
        setting_terms=setting_terms, related_ipc=near, related_by=related_by)
    return Match(declaration=declaration, need=need, score=score, explanation=explanation)


def _score(*, need: Need, declaration: Declaration, similarity: float, need_vec, decl_vec, terms,
           related: dict[str, str] | None = None, worded: bool = True) -> Match:
    return _match(need=need, declaration=declaration,
                  scored=_components(need=need, declaration=declaration, similarity=similarity, related=related,
                                     worded=worded),
                  shared_terms=_shared_terms(need_vec, decl_vec, terms),
                  setting_terms=_shared_terms(need_vec, decl_vec, terms, settings_only=True))


@functools.cache
def setting_tokens() -> frozenset[str]:
    """The tokens of the setting phrases (setting_terms.py), cut as the matching cuts every text."""
    return frozenset(t for phrase in (*SETTING_PHRASES_ZH, *SETTING_PHRASES_EN) for t in tokenize(phrase))


def subject_weights(terms) -> np.ndarray:
    """Per word of ``terms``: ``SETTING_WEIGHT`` for a setting word, 1 for the rest (the subject)."""
    settings = setting_tokens()
    return np.array([SETTING_WEIGHT if t in settings else 1.0 for t in terms], np.float64)


def weight_subject(vector: sparse.csr_matrix, factors: np.ndarray) -> sparse.csr_matrix:
    """Rows of L2-normalised TF-IDF vectors (every word of the text in the vocabulary) with each word's weight
    multiplied by its factor and the row normalised again: a cosine with the setting words weighted down.
    ``_subject_vectors`` does the same for the stored index's need vectors."""
    vector = vector.tocsr(copy=True)
    owner = np.repeat(np.arange(vector.shape[0]), np.diff(vector.indptr))
    f = factors[vector.indices]
    lost = np.bincount(owner, weights=(1.0 - f * f) * vector.data**2, minlength=vector.shape[0])
    vector.data = vector.data * f / np.sqrt(np.maximum(1.0 - lost, 1e-12))[owner]
    return vector


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


# ---------------------------------------------------------------------------------------------- selectors


def published_declarations():
    return Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES).select_related("patent", "holder")


def rank_listings_for_need(*, need: Need, limit: int = 20) -> list[Match]:
    """The published listings that best answer a need, best first, each explained. The buyer's own listings
    and those it already holds a live licence under are left out. Reads the stored index (one product over the
    need's words) and loads only the listings it scores."""
    return rank_listings_for_needs(needs=[need], limit=limit)[0]


def _licensed_by(organisation_ids: set[int]) -> dict[int, set[int]]:
    """Per buyer, the declarations it holds a live licence under (``declarations_licensed_by``'s rule) in one
    query for a whole batch."""
    licensed: dict[int, set[int]] = {org: set() for org in organisation_ids}
    ids = sorted(organisation_ids)
    for lo in range(0, len(ids), 500):
        rows = Licence.objects.filter(licensee_id__in=ids[lo:lo + 500], state__in=LIVE_LICENCE_STATES)
        for org, declaration_id in rows.values_list("licensee_id", "declaration_id"):
            licensed[org].add(declaration_id)
    return licensed


# ---------------------------------------------------------------------------------------------- the batch

# Fee forms as the listing facts hold them (``ListingFacts.form``): any other form is costed as a royalty, as
# licensing.declarations.fees.licence_cost_fen does.
_LUMP, _ROYALTY, _ENTRY = 0, 1, 2
_STATUSES = ("none", "within", "above", "unknown")
_NONE, _WITHIN, _ABOVE, _UNKNOWN = range(4)
_FACT_FIELDS = ("pk", "fee_form", "lump_sum_fen", "entry_fee_fen", "royalty_base", "royalty_rate",
                "annual_minimum_fen", "patent__technology_field", "patent__ipc_subclass", "patent__grade_score",
                "patent__grade_override", "patent__grade_computed", "patent__expiry_date")


class ListingFacts:
    """The fee terms and patent facts the score reads, as columns by row of the market matrix: read from the
    database only for the rows a batch scores (in one query per few hundred rows), and kept for the rest of the
    refresh (pass one object to every batch of a refresh; a new one when listings may have changed)."""

    def __init__(self) -> None:
        self.size = 0
        self.loaded = np.zeros(0, bool)
        self.found = np.zeros(0, bool)  # still published when read
        self.form = np.zeros(0, np.int8)
        self.lump = np.zeros(0, np.int64)
        self.entry = np.zeros(0, np.int64)
        self.profit = np.zeros(0, bool)  # the royalty is computed on profit
        self.rate = np.zeros(0, np.int64)  # royalty rate in hundredths of a per cent
        self.minimum = np.zeros(0, np.int64)
        self.field = np.zeros(0, np.int16)
        self.grade_score = np.zeros(0, np.int64)
        self.expiry = np.zeros(0, np.int64)  # date ordinal, 0 without one
        self.grade = np.zeros(0, object)
        self.codes = np.zeros(0, object)
        self.main_subclass = np.zeros(0, object)
        self._blocks_key: tuple | None = None
        self._blocks: dict = {}
        self._licensed: dict[int, set[int]] = {}

    def _grow(self, size: int) -> None:
        if size <= self.size:
            return
        extra = size - self.size
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                setattr(self, name, np.concatenate([value, np.zeros(extra, value.dtype)]))
        self.size = size

    def load(self, market, rows: np.ndarray) -> None:
        """Read the facts of these rows unless already read: one query per 2,000 declarations (or one over the
        whole market when they are a good part of it), the values taken as the driver returns them (no model
        fields' converters: this is a column load)."""
        self._grow(market.size)
        missing = np.unique(rows[~self.loaded[rows]])
        if not len(missing):
            return
        # Most of the market at once (a scheduled refresh): one pass over every listing beats lists of ids.
        whole = len(missing) > market.size // 4
        if whole:
            missing = np.flatnonzero(~self.loaded)
        missing = missing[np.argsort(market.declaration_ids[missing], kind="stable")]
        ids = market.declaration_ids[missing]
        unique_ids = np.unique(ids).tolist()
        published = Declaration.objects.filter(state__in=LICENSABLE_DECLARATION_STATES)
        found_ids, columns = [], [[] for _ in _FACT_FIELDS[1:]]
        for lo in range(0, 1 if whole else len(unique_ids), 2000):
            query = (published if whole else published.filter(pk__in=unique_ids[lo:lo + 2000])).values_list(
                *_FACT_FIELDS)
            sql, params = query.query.get_compiler(query.db).as_sql()
            with connections[query.db].cursor() as cursor:
                cursor.execute(sql, params)
                for values in cursor.fetchall():
                    found_ids.append(values[0])
                    for column, value in zip(columns, values[1:], strict=True):
                        column.append(value)
        self.loaded[missing] = True
        if not found_ids:
            return
        order = np.argsort(np.array(found_ids, np.int64), kind="stable")
        found_sorted = np.array(found_ids, np.int64)[order]
        at = np.searchsorted(found_sorted, ids)
        inside = at < len(found_sorted)
        hit = np.zeros(len(ids), bool)
        hit[inside] = found_sorted[at[inside]] == ids[inside]
        target, source = missing[hit], order[at[hit]]
        fee_form, lump, entry, base, rate, minimum, tech_field, main, grade_score, override, computed, expiry = columns
        form = np.array([_LUMP if f == FeeForm.LUMP_SUM else _ENTRY if f == FeeForm.ENTRY_PLUS_ROYALTY else _ROYALTY
                         for f in fee_form], np.int8)
        self.found[target] = True
        self.form[target] = form[source]
        self.lump[target] = np.array([v or 0 for v in lump], np.int64)[source]
        self.entry[target] = np.array([v or 0 for v in entry], np.int64)[source]
        self.minimum[target] = np.array([v or 0 for v in minimum], np.int64)[source]
        self.profit[target] = np.array([(b or RoyaltyBase.NET_SALES) == RoyaltyBase.PROFIT for b in base])[source]
        # A rate has two decimals (max_digits 5): SQLite hands it back as a float, PostgreSQL as a Decimal.
        self.rate[target] = np.array([int((Decimal(str(r)) * 100).to_integral_value()) if r is not None else 0
                                      for r in rate], np.int64)[source]
        self.field[target] = np.array([-2 if f is None else f for f in tech_field], np.int16)[source]
        self.main_subclass[target] = np.array([(m or "").upper() for m in main], object)[source]
        self.grade_score[target] = np.array([g or 0 for g in grade_score], np.int64)[source]
        grade = [o or c for o, c in zip(override, computed, strict=True)]
        self.grade[target] = np.array(grade, object)[source]
        self.expiry[target] = np.array([_ordinal(e) for e in expiry], np.int64)[source]
        self.codes[target] = None  # read when a need's IPC prefix is not a subclass (``codes_of``)

    def licensed_by(self, organisation_ids: set[int]) -> dict[int, set[int]]:
        """``_licensed_by``, each buyer read once per refresh."""
        unread = organisation_ids - self._licensed.keys()
        if unread:
            self._licensed.update(_licensed_by(unread))
        return self._licensed

    def blocks_for(self, market, today: date) -> dict:
        """The field/IPC blocks (``_block``) of this market and day, kept between the batches of a refresh."""
        key = (market.key, market.version, market.size, today)
        if self._blocks_key != key:
            self._blocks_key, self._blocks = key, {}
        return self._blocks

    def codes_of(self, market, row: int) -> list[str]:
        """The patent's IPC codes (non-empty), read on first use."""
        codes = self.codes[row]
        if codes is None:
            raw = (Declaration.objects.filter(pk=int(market.declaration_ids[row]))
                   .values_list("patent__ipc_codes", flat=True).first())
            codes = self.codes[row] = [c for c in (raw or []) if c]
        return codes


@functools.lru_cache(maxsize=1024)
def _years(tenths: int) -> str:
    return str(Decimal(tenths).scaleb(-1))  # as str(Patent.remaining_life_years): one decimal, "0.0" included


def _ordinal(value) -> int:
    if not value:
        return 0
    return (date.fromisoformat(value) if isinstance(value, str) else value).toordinal()


def budget_columns(*, facts: ListingFacts, rows: np.ndarray, horizon: np.ndarray, sales: np.ndarray,
                   has_sales: np.ndarray, budget: np.ndarray, has_budget: np.ndarray):
    """``_budget`` for many (need, listing) pairs at once, from the listings' fee columns and the needs' horizon
    (years), expected yearly net sales and budget (fen; ``has_*`` says which are given): (status codes, cost,
    cost known, amount above budget, budget score, missing royalty base ("", "profit", "net_sales")). The cost
    is licensing.declarations.fees.licence_cost_fen's over the horizon, in integer fen; ``_budget`` (the scalar
    rule, through the licence calculator) is the oracle the tests compare it with."""
    form = facts.form[rows]
    royalty = form != _LUMP
    on_profit = royalty & facts.profit[rows]
    no_sales = royalty & ~on_profit & ~has_sales
    missing = on_profit | no_sales
    rate = facts.rate[rows]
    base = np.where(has_sales, sales, 0)
    # Half up on the exact quotient base · rate / 10,000; the int64 range holds it below ~4.6e14 fen of sales.
    safe = base < (2**62) // np.maximum(rate, 1) // 2
    yearly = np.where(safe, (2 * np.where(safe, base, 0) * rate + 10_000) // 20_000, 0)
    for k in np.flatnonzero(~safe):
        yearly[k] = int((Decimal(int(base[k])) * Decimal(int(rate[k])) / 10_000).quantize(Decimal("1"), ROUND_HALF_UP))
    yearly = np.maximum(yearly, facts.minimum[rows])
    cost = np.where(royalty, horizon * yearly + np.where(form == _ENTRY, facts.entry[rows], 0), facts.lump[rows])
    within = cost <= budget
    status = np.where(missing, np.where(has_budget, _UNKNOWN, _NONE),
                      np.where(has_budget, np.where(within, _WITHIN, _ABOVE), _NONE))
    over = np.where(status == _ABOVE, cost - budget, 0)
    safe_budget = np.where(budget > 0, budget, 1).astype(np.float64)
    above_score = np.where(budget > 0, np.maximum(0.0, 1.0 - over.astype(np.float64) / safe_budget), 0.0)
    score = np.where(missing | ~has_budget, NO_BUDGET_SCORE, np.where(within, 1.0, above_score))
    missing_base = np.where(on_profit, RoyaltyBase.PROFIT.value, np.where(no_sales, RoyaltyBase.NET_SALES.value, ""))
    return status, cost, ~missing, over, score, missing_base


def _round(values: np.ndarray, digits: int) -> np.ndarray:
    """Python's ``round(x, digits)`` for an array: numpy's rounding, redone by Python where x sits within a hair
    of a half (where the two may differ)."""
    scaled = values * 10.0**digits
    rounded = np.round(values, digits)
    close = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for k in close:
        rounded[k] = round(float(values[k]), digits)
    return rounded


@dataclass
class RankedListing:
    """One listing in a need's ranking as a batch makes it: what the stored match keeps, its explanation in the
    stored form (``explanation_json``)."""

    declaration_id: int
    score: float
    explanation_data: dict

    @property
    def explanation(self) -> Explanation:
        return explanation_from_json(self.explanation_data)


class _Needs:
    """The chunk's needs as columns."""

    def __init__(self, needs: list[Need]) -> None:
        self.field = np.array([-1 if n.technology_field is None else n.technology_field for n in needs], np.int64)
        self.prefix = [_norm_ipc(n.ipc_prefix) for n in needs]
        self.horizon = np.array([n.horizon_years or 1 for n in needs], np.int64)
        self.has_sales = np.array([n.expected_annual_net_sales_fen is not None for n in needs])
        self.sales = np.array([n.expected_annual_net_sales_fen or 0 for n in needs], np.int64)
        self.has_budget = np.array([n.budget_max_fen is not None for n in needs])
        self.budget = np.array([n.budget_max_fen or 0 for n in needs], np.int64)


def _base(market, cache: dict, today: date) -> np.ndarray:
    """Per row of the market, the part of the score every need gives it alike (grade and remaining life), and
    -inf for dead rows: once per market and day."""
    hit = cache.get("base")
    if hit is None:
        life = np.minimum(market.remaining_life(today, np.arange(market.size)) / FULL_LIFE_YEARS, 1)
        hit = WEIGHTS["grade"] * market.grade + WEIGHTS["life"] * life
        hit[~market.alive] = -np.inf
        cache["base"] = hit
    return hit


def _signal(market, cache: dict, tech_field: int, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows the need's field and IPC raise, and by how much (the field/IPC part of the score, its IPC part
    bounded by the subclass: the exact score needs the codes, read with the declaration). Every other row
    keeps its text, grade and life: the signal adds, it never excludes."""
    key = (tech_field, prefix)
    hit = cache.get(key)
    if hit is None:
        rows, values = [np.zeros(0, np.int64)], [np.zeros(0)]
        if tech_field >= 0:
            same = market.rows_where("fields", tech_field)
            rows.append(same)
            values.append(np.full(len(same), 0.5))
        if prefix:
            ipc_rows, ipc_values = _ipc_bound(market, prefix)
            rows.append(ipc_rows)
            values.append(0.5 * ipc_values)
        rows, at = np.unique(np.concatenate(rows), return_inverse=True)
        values = WEIGHTS["field_ipc"] * np.bincount(at.ravel(), weights=np.concatenate(values), minlength=len(rows))
        hit = cache[key] = (rows, values)
    return hit


def _ipc_bound(market, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows, IPC part bound): 1 for rows with a code in the need's subclass (or under a shorter prefix),
    ``IPC_RELATED`` for rows in a related subclass only."""
    def make():
        own = np.flatnonzero(market.subclass_match(prefix))
        near = _related_rows(market, prefix) if len(prefix) >= 4 else np.zeros(0, np.int64)
        return np.concatenate([own, near]), np.concatenate([np.ones(len(own)), np.full(len(near), IPC_RELATED)])
    return _market_cache(market, "ipc_bound", prefix, make)


class _BaseOrder:
    """The part of the score every need gives a row alike (``_base``, in single precision as ``_pick`` adds it)
    and the rows in its order, best first, ties by declaration: a need's best candidates among the rows it
    shares no word with are the first of this order. Only its ``head`` is made at once (one partition of the
    market, not a sort: a fold makes it again, and a need online waits for it); ``at_head`` is each row's
    place in the head (-1 beyond), and the whole order is sorted on first use (``rows``)."""

    def __init__(self, market, base: np.ndarray, length: int) -> None:
        self.base, self.declaration_ids = base, market.declaration_ids
        self._rows: np.ndarray | None = None
        if length >= len(base):
            self.head = self.rows()
        else:
            # Every row at least as good as the length-th best by the base (its ties included), then sorted.
            last = np.partition(-base, length - 1)[length - 1]
            near = np.flatnonzero(-base <= last)
            self.head = near[np.lexsort((self.declaration_ids[near], -base[near]))][:length]
        self.head_values = base[self.head]
        self.at_head = np.full(len(base), -1, np.int64)
        self.at_head[self.head] = np.arange(len(self.head))

    def rows(self) -> np.ndarray:
        if self._rows is None:
            self._rows = np.lexsort((self.declaration_ids, -self.base))
        return self._rows

    def value(self, place: int) -> float:
        """The base of the row at this place of the order (the last row's beyond it)."""
        place = min(place, len(self.base) - 1)
        return self.head_values[place] if place < len(self.head) else self.base[self.rows()[place]]


def _base_order(market, cache: dict, today: date) -> _BaseOrder:
    # Once per market, version (rows folded or withdrawn) and day, in the process: a need online reuses it.
    key = (id(market), market.key, market.version, market.size, today, SCORED, _HEAD)
    hit = _BASE_ORDER.get(key)
    if hit is None:
        base = _base(market, cache, today).astype(np.float32)
        _BASE_ORDER.clear()
        hit = _BASE_ORDER[key] = _BaseOrder(market, base, _HEAD * (SCORED + 1))
    return hit


_BASE_ORDER: dict = {}
# The head of the base order holds SCORED + 1 rows a need shares no word with unless its words reach more than
# 15 in 16 of the best rows by grade and life; such a need reads the whole order.
_HEAD = 16


def _pick(*, market, needs: list[Need], cols: _Needs, products: sparse.csr_matrix, excluded: list[np.ndarray],
          today: date, blocks: dict, worded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(need index, row, text similarity) of every need's candidates: its best ``SCORED`` live listings over the
    whole market by the score without its budget part (text, field/IPC signal, grade, life), the buyer's own
    and licensed listings (``excluded``: rows) left out. Similarity first: no listing is out of reach because
    of its field or IPC (#23). Ties at the edge go to the lowest declarations, so the choice does not depend on
    the batch.

    Taken from the sparse product (needs x rows), never from a dense row of the market (densifying a batch's
    product cost more than the product): a row a need shares no word with scores its base (grade and life; the
    field/IPC signal counts in proportion to a similarity of 0, i.e. not at all, unless the need has no word
    the listings have), so a need's candidates are among its product's entries, the signal rows of a need
    without words and its best ``SCORED`` + 1 other rows by the base (``_base_order``). Each partial score is
    computed as over a dense row (single precision, the same operations in the same order), so the choice, its
    ties and its edge are the same. No part of the score is negative, so no row scores below its base, and an
    entry below the need's ``floor`` (the (SCORED + 1 + rows left out)-th best base of the market) can neither
    be chosen nor tie at the edge: only the few entries above it are partitioned."""
    # Single precision: the partial scores only choose which listings get scored exactly (in double).
    order = _base_order(market, blocks, today)
    base, size, head = order.base, market.size, order.head
    want = SCORED + 1  # one more than the candidates: a tie across the edge shows without another pass
    indptr, rows, sims = products.indptr, products.indices, products.data
    values = np.empty(len(sims), np.float32)
    np.multiply(sims, WEIGHTS["text"], out=values, casting="same_kind")
    values += base[rows]
    boost = np.zeros(size)  # scratch: a group's field/IPC signal by row
    picked_needs, picked_rows, picked_sims = [], [], []
    groups: dict[tuple[int, str], list[int]] = {}
    for j in range(len(needs)):
        groups.setdefault((int(cols.field[j]), cols.prefix[j]), []).append(j)
    for (tech_field, prefix), members in groups.items():
        signal_rows, bonus = _signal(market, blocks, tech_field, prefix)
        boost[signal_rows] = bonus
        for j in members:
            lo, hi = indptr[j], indptr[j + 1]
            need_rows, need_values, need_sims = rows[lo:hi], values[lo:hi], sims[lo:hi]
            if len(signal_rows) and worded[j]:
                # An upper bound of the exact share: these similarities are at least the exact ones.
                part = boost[need_rows]
                hit = np.flatnonzero(part)
                need_values[hit] += (part[hit] * signal_share(need_sims[hit])).astype(np.float32)
            gone = excluded[j]
            floor = order.value(want - 1 + len(gone))
            own = np.flatnonzero(need_values >= floor)
            pool_rows, pool_values = [need_rows[own].astype(np.int64)], [need_values[own]]
            pool_sims = [need_sims[own]]
            if len(signal_rows) and not worded[j]:
                # No word the listings have: the whole signal, on rows the product has no entry for.
                scores = base[signal_rows] + bonus.astype(np.float32)
                high = np.flatnonzero(scores >= floor)
                pool_rows.append(signal_rows[high])
                pool_values.append(scores[high])
                pool_sims.append(np.zeros(len(high)))
            # The best other rows by the base: the head of the order but the pool's rows and those left out.
            taken = np.zeros(len(head), bool)
            for some in (*pool_rows, gone):
                place = order.at_head[some]
                taken[place[place >= 0]] = True
            others = head[~taken][:want]
            if len(others) < want and len(head) < size:
                others = _others(order, want, [*pool_rows, gone])
            pool_rows.append(others)
            pool_values.append(base[others])
            pool_sims.append(np.zeros(len(others)))
            pool, pool_values = np.concatenate(pool_rows), np.concatenate(pool_values)
            if len(gone):  # sorted: a search beats np.isin's sort for these few
                at = np.minimum(np.searchsorted(gone, pool), len(gone) - 1)
                pool_values[gone[at] == pool] = -np.inf
            chosen = _best(market, pool, pool_values)
            picked_needs.append(np.full(len(chosen), j, np.int64))
            picked_rows.append(pool[chosen])
            picked_sims.append(np.concatenate(pool_sims)[chosen])
        boost[signal_rows] = 0.0
    if not picked_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(picked_needs), np.concatenate(picked_rows), np.concatenate(picked_sims)


def _others(order: _BaseOrder, want: int, taken: list[np.ndarray]) -> np.ndarray:
    """The first ``want`` rows of the whole base order outside ``taken`` (a need whose words reach most of the
    order's head)."""
    marked = np.zeros(len(order.base), bool)
    for rows in taken:
        marked[rows] = True
    whole = order.rows()
    return whole[~marked[whole]][:want]


def _best(market, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Positions of the best ``SCORED`` finite ``values``; where the edge is tied, the tied rows of the lowest
    declarations."""
    if market.size <= SCORED or len(values) <= SCORED:
        return np.flatnonzero(values > -np.inf)
    below = len(values) - SCORED - 1
    order = np.argpartition(values, below)
    top = order[below + 1:]
    edge = values[top].min()
    if not (np.isfinite(edge) and values[order[below]] == edge):
        return top[values[top] > -np.inf]
    above = np.flatnonzero(values > edge)
    tied = np.flatnonzero(values == edge)
    tied = tied[np.argsort(market.declaration_ids[rows[tied]], kind="stable")][:SCORED - len(above)]
    return np.concatenate([above, tied])


def _rows_of(market, declaration_ids: np.ndarray) -> np.ndarray:
    return np.array([market.row_of[pk] for pk in declaration_ids.tolist() if pk in market.row_of], np.int64)


def _exclusions(market, needs: list[Need], licensed: dict[int, set[int]]) -> list[np.ndarray]:
    """Per need, the rows left out (sorted): the buyer's own listings and those it holds a licence to."""
    by_org: dict[int, np.ndarray] = {}
    out = []
    for need in needs:
        org = need.organisation_id
        rows = by_org.get(org)
        if rows is None:
            own = market.declaration_ids[market.rows_where("holder_ids", org)]
            rows = by_org[org] = np.unique(_rows_of(market, np.concatenate(
                [own, np.fromiter(licensed[org], np.int64)])))
        out.append(rows)
    return out


def _ipc_columns(market, facts: ListingFacts, cols: _Needs, who: np.ndarray, rows: np.ndarray, memo: dict):
    """(score, shared codes, related subclasses) of the IPC part per pair: the subclass test from the stored
    index for a need's subclass prefix (four characters: the common case), ``shared_ipc_of`` on the codes
    otherwise; then the pairs that share neither but where the listing is filed under a related subclass
    (``related_subclasses``), by pair (their names are read for the listed pairs only: ``_near_names``)."""
    score = np.zeros(len(rows))
    shared: dict[int, list[str]] = {}  # by pair, where not empty
    near: dict[int, str] = {}  # by pair: the need's prefix, when the listing is in a related subclass
    names, of_need = np.unique(np.array(cols.prefix, dtype=str), return_inverse=True)
    of_pair = of_need.ravel()[who]
    order = np.argsort(of_pair, kind="stable")
    bounds = np.searchsorted(of_pair[order], np.arange(len(names) + 1))
    for p, prefix in enumerate(names.tolist()):
        if not prefix:
            continue
        ks = order[bounds[p]:bounds[p + 1]]
        if len(prefix) == 4:
            hit = ks[market.subclass_match(prefix)[rows[ks]]]
            score[hit] = 1.0
            shared.update(dict.fromkeys(hit.tolist(), prefix))
            continue
        for k in ks.tolist():
            row = int(rows[k])
            key = (row, prefix)
            if key not in memo:
                memo[key] = shared_ipc_of(prefix, facts.codes_of(market, row), facts.main_subclass[row])
            if memo[key][0]:
                shared[k], score[k] = memo[key][0], memo[key][1]
            else:
                score[k] = memo[key][1]
    for p, prefix in enumerate(names.tolist()):
        related_rows = _related_rows(market, prefix) if prefix else None
        if related_rows is None or not len(related_rows):
            continue
        ks = order[bounds[p]:bounds[p + 1]]
        ks = ks[score[ks] == 0]
        at = np.minimum(np.searchsorted(related_rows, rows[ks]), len(related_rows) - 1)
        hit = ks[related_rows[at] == rows[ks]]
        score[hit] = IPC_RELATED
        near.update(dict.fromkeys(hit.tolist(), prefix))
    return score, shared, near


def _near_names(market, prefix: str, row: int) -> tuple[list[str], str]:
    """The related subclasses (of the need's ``prefix``) a row is filed under, and why (for its explanation)."""
    related = related_subclasses(market, prefix)
    indptr, sub_ids = _row_subclasses(market)
    names = _subclass_names(market)
    subs = sorted(names[i] for i in sub_ids[indptr[row]:indptr[row + 1]].tolist() if names[i] in related)
    return subs, _relation(related, subs) if subs else ""


def _market_cache(market, name: str, key, make):
    """Derived from the market once per fit and shape (rows appended make it again): kept per process."""
    whole = (market.key, market.size, len(market.subclass_ids))
    if _DERIVED.get("shape") != whole:
        _DERIVED.clear()
        _DERIVED["shape"] = whole
    hit = _DERIVED.get((name, key))
    if hit is None:
        hit = _DERIVED[(name, key)] = make()
    return hit


_DERIVED: dict = {}


def _row_subclasses(market) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ids of its subclasses (CSR: indptr, subclass ids)."""
    def make():
        pairs = [(np.asarray(rows, np.int64), np.full(len(rows), sub, np.int64))
                 for sub, rows in market.subclass_rows.items()]
        if not pairs:
            return np.zeros(market.size + 1, np.int64), np.zeros(0, np.int64)
        rows = np.concatenate([r for r, _ in pairs])
        subs = np.concatenate([s for _, s in pairs])
        order = np.argsort(rows, kind="stable")
        indptr = np.searchsorted(rows[order], np.arange(market.size + 1))
        return indptr, subs[order]
    return _market_cache(market, "row_subclasses", None, make)


def _subclass_names(market) -> list[str]:
    def make():
        names = [""] * len(market.subclass_ids)
        for name, i in market.subclass_ids.items():
            names[i] = name
        return names
    return _market_cache(market, "subclass_names", None, make)


def _related_rows(market, prefix: str) -> np.ndarray:
    """The rows (sorted) filed under a subclass related to the need's and not under its own subclass."""
    def make():
        subs = related_subclasses(market, prefix)
        parts = [np.asarray(market.subclass_rows.get(market.subclass_ids[s], []), np.int64) for s in subs]
        rows = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        return np.setdiff1d(rows, np.flatnonzero(market.subclass_match(prefix)), assume_unique=True)
    return _market_cache(market, "related_rows", prefix[:4], make)


def _shared_term_lists(market, products: sparse.csr_matrix) -> list[list[str]]:
    """``MarketMatrix.shared_terms`` for every row of ``products`` (the need's weight times the listing's, per
    shared word) at once."""
    products.sort_indices()
    counts = np.diff(products.indptr)
    n = len(counts)
    if not products.nnz:
        return [[] for _ in range(n)]
    owner = np.repeat(np.arange(n), counts)
    data = products.data
    starts = products.indptr[:-1]
    heaviest = np.zeros(n)
    nonempty = counts > 0
    heaviest[nonempty] = np.maximum.reduceat(data, starts[nonempty])
    keep = data != 0
    relative = _round(-(data / heaviest[owner]), 9)
    order = np.lexsort((market.term_order()[products.indices], relative, owner))
    order = order[keep[order]]
    owner_sorted = owner[order]
    first = np.searchsorted(owner_sorted, np.arange(n))
    place = np.arange(len(order)) - first[owner_sorted]
    order = order[place < SHARED_TERMS_SHOWN]
    terms = market.terms
    words = [terms[t] for t in products.indices[order].tolist()]
    ends = np.searchsorted(owner[order], np.arange(1, n + 1)).tolist()
    return [words[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


ONLINE_NEEDS = 1  # a need online; two or more: a batch


def _listing_weights(*, market, vectors, lo: int, words: sparse.csr_matrix, who: np.ndarray,
                     rows: np.ndarray) -> sparse.csr_matrix:
    """Per (need, row) pair, the row's weights of the need's words (pairs x words). A batch gathers the rows from
    the row-major copy of the matrix; a need online reads its words' posting lists instead, so that a web
    process never copies the whole matrix (nor again after every fold)."""
    if len(np.unique(who)) > ONLINE_NEEDS:
        mask = words.copy()
        mask.data[:] = 1.0
        return market.rows_csr()[rows].multiply(mask).tocsr()
    pair_rows, pair_cols, data = [], [], []
    for i in np.unique(who).tolist():
        ks = np.flatnonzero(who == i)
        need = vectors.row(lo + i)
        weights = market.term_weights(need, rows[ks])
        r, c = np.nonzero(weights)
        pair_rows.append(ks[r])
        pair_cols.append(need[0][c])
        data.append(weights[r, c])
    return sparse.csr_matrix((np.concatenate(data), (np.concatenate(pair_rows), np.concatenate(pair_cols))),
                             shape=(len(rows), len(market.terms)))


def rank_listings_batch(*, needs: list[Need], limit: int = 20, chunk: int | None = None,
                        facts: ListingFacts | None = None) -> list[list[RankedListing]]:
    """The rankings of many needs (one list per need, in order), as ``rank_listings_for_need`` makes them but
    without model instances: one sparse product per chunk of needs, the candidates of needs sharing a block
    chosen together, then the cost and budget rules, the exact similarities and the shared words on each need's
    best ``SCORED`` as numpy columns. ``facts`` keeps the listings' fee terms between batches of one refresh."""
    market = market_matrix()
    results: list[list[RankedListing]] = [[] for _ in needs]
    if not needs or market.size == 0:
        return results
    facts = ListingFacts() if facts is None else facts
    licensed = facts.licensed_by({n.organisation_id for n in needs})
    token_counts = [need_token_counts(n) for n in needs]
    vectors = _subject_vectors(market, market.need_vectors(token_counts), token_counts)
    today = timezone.localdate()
    blocks = facts.blocks_for(market, today)
    memo: dict = {}
    # Chunks keep the dense similarities under ~20M cells.
    chunk = chunk or max(1, 20_000_000 // max(market.size, 1))
    # The batch allocates many small objects (explanations) and no cycles: the collector's full passes over the
    # process's long-lived objects (the vocabulary, the index's maps) would cost more than the batch's own work.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _rank_chunks(market=market, needs=needs, limit=limit, chunk=chunk, facts=facts, licensed=licensed,
                     vectors=vectors, today=today, blocks=blocks, memo=memo, results=results)
    finally:
        if collecting:
            gc.enable()
    return results


def _subject_vectors(market, vectors: NeedVectors, token_counts: list[list]) -> NeedVectors:
    """The needs' vectors with their setting words weighted down (``weight_subject``; setting_terms.py says
    why). Each word's share of its need's norm is taken from the index's need weights (index.py: (1 + ln tf)
    times the idf with the need counted, words no listing has included), so that the need is normalised again
    over all of its words, as a fit on the need and the market would."""
    matrix = vectors.matrix
    factors = _SUBJECT.get(market.key)
    if factors is None or len(factors) < len(market.terms):  # words are only ever appended
        done = np.zeros(0) if factors is None else factors
        factors = np.concatenate([done, subject_weights(market.terms[len(done):])])
        _SUBJECT.clear()
        _SUBJECT[market.key] = factors
    settings = setting_tokens()
    vocabulary = market.vocabulary
    flat = [(i, vocabulary.get(token, -1), n, token in settings)
            for i, counted in enumerate(token_counts) for token, n in counted]
    lost = np.zeros(len(token_counts))
    if flat:
        owner, term, count, setting = (np.array(column) for column in zip(*flat, strict=True))
        oov_idf = math.log((market.listings + 2) / 2.0) + 1.0
        weight = (1.0 + np.log(count)) * np.where(term >= 0, market.idf_need[np.maximum(term, 0)], oov_idf)
        total = np.bincount(owner, weights=weight**2, minlength=len(token_counts))
        setting_part = np.bincount(owner, weights=np.where(setting, weight**2, 0.0), minlength=len(token_counts))
        lost = np.where(total > 0, (1.0 - SETTING_WEIGHT**2) * setting_part / np.where(total > 0, total, 1), 0.0)
    matrix = matrix.tocsr(copy=True)
    owner = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    matrix.data = matrix.data * factors[matrix.indices] / np.sqrt(np.maximum(1.0 - lost, 1e-12))[owner]
    return NeedVectors(matrix=matrix)


_SUBJECT: dict[str, np.ndarray] = {}


def _rank_chunks(*, market, needs, limit, chunk, facts, licensed, vectors, today, blocks, memo, results) -> None:
    stretch = market.stretch()
    for lo in range(0, len(needs), chunk):
        part = needs[lo:lo + chunk]
        queries = vectors.matrix[lo:lo + chunk]
        products = market.products(queries)
        cols = _Needs(part)
        worded = np.diff(queries.indptr) > 0  # a need with no word the listings have: its signal counts in full
        who, rows, sims = _pick(market=market, needs=part, cols=cols, products=products,
                                excluded=_exclusions(market, part, licensed), today=today, blocks=blocks,
                                worded=worded)
        facts.load(market, rows)
        live = facts.found[rows]  # withdrawn since the index was read: not scored
        who, rows, sims = who[live], rows[live], sims[live]
        if not len(rows):
            continue
        # The listing's weights of the need's words (zero elsewhere), then the exact similarity.
        words = queries[who]
        values = _listing_weights(market=market, vectors=vectors, lo=lo, words=words, who=who, rows=rows)
        exact = sims / np.sqrt(1.0 + np.asarray(values.power(2) @ stretch).ravel())
        field_match = cols.field[who] == facts.field[rows]
        ipc_score, shared_ipc, near_ipc = _ipc_columns(market, facts, cols, who, rows, memo)
        status, cost, costed, over, budget_score, missing = budget_columns(
            facts=facts, rows=rows, horizon=cols.horizon[who], sales=cols.sales[who], has_sales=cols.has_sales[who],
            budget=cols.budget[who], has_budget=cols.has_budget[who])
        days = np.maximum(facts.expiry[rows] - today.toordinal(), 0)
        tenths = np.where(facts.expiry[rows] > 0, (80 * days + 1461) // 2922, 0)  # Patent.remaining_life_years
        life = np.minimum(tenths / 10.0 / FULL_LIFE_YEARS, 1.0)
        grade = np.minimum(facts.grade_score[rows], 100) / 100
        field_ipc = (0.5 * field_match + 0.5 * ipc_score) * np.where(worded[who], signal_share(exact), 1.0)
        total = (WEIGHTS["text"] * exact + WEIGHTS["field_ipc"] * field_ipc + WEIGHTS["budget"] * budget_score
                 + WEIGHTS["grade"] * grade + WEIGHTS["life"] * life)
        score = _round(np.minimum(np.maximum(total, 0.0), 1.0), 4)
        declaration_ids = market.declaration_ids[rows]
        order = np.lexsort((declaration_ids, -score, who))
        first = np.searchsorted(who[order], np.arange(len(part)))
        order = order[(np.arange(len(order)) - first[who[order]]) < limit]
        products = values[order].multiply(words[order]).tocsr()
        shared = _shared_term_lists(market, products)
        in_setting = products.copy()  # the products of the setting words only
        in_setting.data = np.where(_SUBJECT[market.key][in_setting.indices] < 1, in_setting.data, 0.0)
        in_setting.eliminate_zeros()
        settings = _shared_term_lists(market, in_setting)
        picked = rows[order]
        columns = zip(
            order.tolist(), who[order].tolist(), declaration_ids[order].tolist(), score[order].tolist(), shared, settings,
            field_match[order].tolist(), status[order].tolist(), np.where(costed, cost, -1)[order].tolist(),
            missing[order].tolist(), over[order].tolist(), facts.grade[picked].tolist(),
            facts.grade_score[picked].tolist(), tenths[order].tolist(), exact[order].tolist(),
            field_ipc[order].tolist(), budget_score[order].tolist(), grade[order].tolist(), life[order].tolist(),
            strict=True)
        for (k, i, declaration_id, points, terms, setting_words, field_eq, state, fen, base, above, letter,
             grade_points, life_tenths, text_part, field_part, budget_part, grade_part, life_part) in columns:
            codes = shared_ipc.get(k)
            near_prefix = near_ipc.get(k)
            near, related_by = ((), "") if near_prefix is None else _near_names(market, near_prefix, rows[k])
            explanation = {  # explanation_json's form, made directly
                "shared_terms": terms,
                "shared_ipc": [] if codes is None else [codes] if isinstance(codes, str) else list(codes),
                "field_match": field_eq, "budget_status": _STATUSES[state], "cost_fen": None if fen < 0 else fen,
                "unknown_base": base, "over_budget_fen": above, "grade": letter, "grade_score": grade_points,
                "remaining_life_years": _years(life_tenths),
                "components": {"text": text_part, "field_ipc": field_part, "budget": budget_part,
                               "grade": grade_part, "life": life_part},
                "setting_terms": setting_words, "related_ipc": list(near),
                "related_by": related_by}
            results[lo + i].append(RankedListing(declaration_id, points, explanation))


def rank_listings_for_needs(*, needs: list[Need], limit: int = 20, chunk: int | None = None,
                            facts: ListingFacts | None = None) -> list[list[Match]]:
    """``rank_listings_batch`` with the ranked declarations read (patent and holder joined) as ``Match``es."""
    ranked = rank_listings_batch(needs=needs, limit=limit, chunk=chunk, facts=facts)
    ids = sorted({r.declaration_id for rs in ranked for r in rs})
    loaded = published_declarations().in_bulk(ids) if ids else {}
    return [[Match(declaration=loaded[r.declaration_id], need=need, score=r.score, explanation=r.explanation)
             for r in rs if r.declaration_id in loaded] for need, rs in zip(needs, ranked, strict=True)]


def rank_needs_for_declaration(*, declaration: Declaration, limit: int = 20) -> list[Match]:
    """The open, public needs a published listing best answers, best first, each explained; each need has
    `shown_name` (empty for anonymous needs). The holder's own needs are left out. Every open need is scored
    (they are few): the field and IPC raise a need's score, they do not choose the candidates; the needs'
    setting words are weighted down as when a need's listings are ranked."""
    candidates = list(
        Need.objects.filter(state=Need.State.OPEN, public=True).exclude(organisation_id=declaration.holder_id)
        .select_related("organisation")
        .annotate(shown_name=Case(When(anonymous=True, then=Value("")), default=F("organisation__name_zh"),
                                  output_field=CharField()))
        .order_by("pk"))
    if not candidates:
        return []
    query, matrix, sims, terms = _similarities(_declaration_text(declaration), [_need_text(n) for n in candidates])
    market = market_matrix()
    if matrix is not None:
        matrix = weight_subject(matrix, subject_weights(terms))
        sims = np.asarray((matrix @ query.T).todense()).ravel()
    matches = [_score(need=need, declaration=declaration, similarity=sims[i], need_vec=matrix[i], decl_vec=query,
                      terms=terms, related=related_subclasses(market, need.ipc_prefix), worded=matrix[i].nnz > 0)
               if matrix is not None else
               _score_without_text(need=need, declaration=declaration)
               for i, need in enumerate(candidates)]
    matches.sort(key=lambda m: (-m.score, m.need.pk))
    return matches[:limit]


def _score_without_text(*, need: Need, declaration: Declaration) -> Match:
    """Scoring when neither side has a usable word (empty vocabulary)."""
    from scipy.sparse import csr_matrix

    empty = csr_matrix((1, 1))
    return _score(need=need, declaration=declaration, similarity=0.0, need_vec=empty, decl_vec=empty,
                  terms=np.array([""]), related=related_subclasses(market_matrix(), need.ipc_prefix), worded=False)


__all__ = ["WEIGHTS", "Explanation", "Match", "rank_listings_for_need", "rank_listings_for_needs",
           "rank_needs_for_declaration", "tokenize"]
