"""Matching buyer needs against the published listings, top 20 each, through the real selector
(marketplace.matching.engine.rank_listings_for_need) against a bare sparse matrix product over the same TF-IDF vectors
(the same tokenizer, fitted once on every listing; needs x listings, top 20 per need).

The real selector is timed on a sample of needs (it is far too slow to run for all of them at scale) and the
time for 10,000 needs is extrapolated from the median; the baseline really runs for 10,000 needs (the needs
in the database, repeated to make up the number)."""

from __future__ import annotations

import time

import numpy as np

from bench.common import Figure, median, ratio, timed

NEEDS_GOAL = 10_000
GOAL_SECONDS = 300


def baseline(*, needs_total: int = NEEDS_GOAL) -> dict:
    """Vectorise every listing and the needs once, then the sparse product and a top-20 per need."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from marketplace.matching.engine import _declaration_text, _need_text, published_declarations, tokenize
    from marketplace.models import Need

    declarations = list(published_declarations().order_by("pk"))
    needs = list(Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk"))
    texts = [_need_text(n) for n in needs] or ["电池"]
    texts = (texts * (needs_total // len(texts) + 1))[:needs_total]
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, sublinear_tf=True)
    docs = vectorizer.fit_transform([_declaration_text(d) for d in declarations])
    queries = vectorizer.transform(texts)
    vectorise_s = time.perf_counter() - start
    docs_t = docs.T.tocsc()
    # Chunks keep the (nearly dense) product under ~20M cells.
    chunk = max(10, 20_000_000 // max(docs.shape[0], 1))
    start = time.perf_counter()
    for lo in range(0, queries.shape[0], chunk):
        sims = (queries[lo:lo + chunk] @ docs_t).toarray()
        k = min(20, sims.shape[1] - 1)
        if k > 0:
            np.argpartition(-sims, k, axis=1)[:, :20]
    product_s = time.perf_counter() - start
    return {"listings": len(declarations), "needs": needs_total, "vectorise_s": round(vectorise_s, 2),
            "product_s": round(product_s, 2)}


def benchmark(*, sample: int = 3, budget_seconds: float = 120, seed: int = 0) -> Figure:
    from marketplace.matching.engine import rank_listings_for_need
    from marketplace.models import Need

    ids = list(Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk").values_list("pk", flat=True))
    rng = np.random.default_rng(seed)
    chosen = [int(i) for i in rng.choice(ids, size=min(sample, len(ids)), replace=False)] if ids else []
    per_need, spent = [], 0.0
    for pk in chosen:
        need = Need.objects.get(pk=pk)
        seconds, matches = timed(lambda need=need: rank_listings_for_need(need=need, limit=20))
        per_need.append(seconds)
        spent += seconds
        if spent > budget_seconds:
            break
    base = baseline()
    estimate = median(per_need) * NEEDS_GOAL if per_need else None
    base_total = base["product_s"]
    r = ratio(estimate, base_total)
    from bench.profiling import profile

    profiled = (profile(lambda: rank_listings_for_need(need=Need.objects.get(pk=chosen[0]), limit=20))
                if chosen and (estimate or 0) > GOAL_SECONDS else None)
    return Figure(
        name=f"matching {NEEDS_GOAL:,} needs against the listings, top 20 each (extrapolated)", unit="s",
        value=round(estimate, 1) if estimate is not None else None, baseline=round(base_total, 2),
        baseline_label=f"bare sparse product needs x listings + top 20, {NEEDS_GOAL:,} needs, vectors prebuilt",
        ratio=round(r, 1) if r is not None else None, goal="<= 5 min on 2 cores",
        met=estimate is not None and estimate <= GOAL_SECONDS, samples=len(per_need),
        details={"seconds_per_need": [round(s, 2) for s in per_need], **base,
                 "baseline_with_vectorising_s": round(base["vectorise_s"] + base["product_s"], 2),
                 "profile_of_one_need": profiled})
