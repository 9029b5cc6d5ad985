"""Matching buyer needs against the published listings, top 20 each, through the real selector
(marketplace.matching.engine.rank_listings_for_need) against a bare sparse matrix product over the same TF-IDF vectors
(the same tokenizer, fitted once on every listing; needs x listings, top 20 per need).

The real selector is timed on a sample of needs (it is far too slow to run for all of them at scale) and the
time for 10,000 needs is extrapolated from the median; the baseline really runs for 10,000 needs (the needs
in the database, repeated to make up the number)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.common import Figure, median, ratio, timed

NEEDS_GOAL = 10_000
GOAL_SECONDS = 300


def baseline(*, needs_total: int = NEEDS_GOAL, budget_seconds: float | None = None) -> dict:
    """Vectorise every listing and the needs once, then the sparse product and a top-20 per need. Within
    `budget_seconds` (tokenising is most of it): when the listings cannot all be tokenised in time, the product
    runs over those that were and its time is scaled up to all of them (linear in the listings; `listings_used`
    says how many)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from marketplace.matching.engine import _need_text, published_declarations, tokenize
    from marketplace.models import Need

    texts_of = [f"{title} {abstract}" for title, abstract in  # engine._declaration_text, without model instances
                published_declarations().order_by("pk").values_list("patent__title", "patent__abstract")]
    needs = list(Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk"))
    texts = [_need_text(n) for n in needs] or ["电池"]
    texts = (texts * (needs_total // len(texts) + 1))[:needs_total]
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else float("inf")
    start = time.perf_counter()
    need_tokens = [tokenize(t) for t in texts[:len(needs) or 1]]
    need_tokens = (need_tokens * (needs_total // len(need_tokens) + 1))[:needs_total]  # same texts, same tokens
    doc_tokens = []
    for lo in range(0, len(texts_of), 2000):
        if time.monotonic() > deadline and doc_tokens:
            break
        doc_tokens += [tokenize(t) for t in texts_of[lo:lo + 2000]]
    vectorizer = TfidfVectorizer(analyzer=lambda tokens: tokens, sublinear_tf=True)  # the tokens made above
    docs = vectorizer.fit_transform(doc_tokens or [["电池"]])
    queries = vectorizer.transform(need_tokens)
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
    used = len(doc_tokens)
    scale = len(texts_of) / used if used else 1.0
    return {"listings": len(texts_of), "listings_used": used, "needs": needs_total,
            "vectorise_s": round(vectorise_s * scale, 2), "product_s": round(product_s * scale, 2),
            "measured_product_s": round(product_s, 2)}


def _figure(*, per_need: list, base: dict, note: str, profiled: dict | None = None) -> Figure:
    estimate = median(per_need) * NEEDS_GOAL if per_need else None
    base_total = base["product_s"]
    r = ratio(estimate, base_total)
    notes = [note] if note else []
    if base["listings_used"] < base["listings"]:
        notes.append(f"baseline tokenised {base['listings_used']:,} of {base['listings']:,} listings within its "
                     f"budget; its times are scaled to all of them")
    return Figure(
        name=f"matching {NEEDS_GOAL:,} needs against the listings, top 20 each (extrapolated)", unit="s",
        value=round(estimate, 1) if estimate is not None else None, baseline=round(base_total, 2),
        baseline_label=f"bare sparse product needs x listings + top 20, {NEEDS_GOAL:,} needs, vectors prebuilt",
        ratio=round(r, 1) if r is not None else None, goal="<= 5 min on 2 cores",
        met=(estimate <= GOAL_SECONDS) if estimate is not None else None, samples=len(per_need),
        note="; ".join(notes),
        details={"seconds_per_need": [round(s, 2) for s in per_need], **base,
                 "baseline_with_vectorising_s": round(base["vectorise_s"] + base["product_s"], 2),
                 "profile_of_one_need": profiled})


def benchmark(*, sample: int = 3, budget_seconds: float = 120, seed: int = 0,
              emit: Callable[[Figure], None] | None = None) -> Figure:
    """The baseline first (within half the budget), then the real selector on up to `sample` needs while the
    budget lasts (a need already started is finished: the hard limit of bench.run stops one that never ends).
    `emit` receives the figure after the baseline and after every need."""
    from marketplace.matching.engine import rank_listings_for_need
    from marketplace.models import Need

    deadline = time.monotonic() + budget_seconds
    base = baseline(budget_seconds=budget_seconds / 2)
    ids = list(Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk").values_list("pk", flat=True))
    rng = np.random.default_rng(seed)
    chosen = [int(i) for i in rng.choice(ids, size=min(sample, len(ids)), replace=False)] if ids else []
    per_need: list[float] = []
    if emit is not None:
        emit(_figure(per_need=per_need, base=base, note="provisional: baseline only, no need timed yet"))
    for pk in chosen:
        if per_need and time.monotonic() + median(per_need) > deadline:
            break
        need = Need.objects.get(pk=pk)
        seconds, _matches = timed(lambda need=need: rank_listings_for_need(need=need, limit=20))
        per_need.append(seconds)
        if emit is not None and len(per_need) < len(chosen):
            emit(_figure(per_need=per_need, base=base, note=f"provisional: {len(per_need)} of {len(chosen)} needs"))
    note = "" if len(per_need) == len(chosen) else \
        f"{len(per_need)} of {len(chosen)} needs within the budget ({budget_seconds:.0f} s, BENCH_MATCHING_BUDGET)"
    figure = _figure(per_need=per_need, base=base, note=note)
    if chosen and per_need and (figure.value or 0) > GOAL_SECONDS and time.monotonic() + median(per_need) < deadline:
        if emit is not None:
            emit(figure)
        from bench.profiling import profile

        figure.details["profile_of_one_need"] = profile(
            lambda: rank_listings_for_need(need=Need.objects.get(pk=chosen[0]), limit=20))
    return figure
