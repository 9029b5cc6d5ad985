"""Matching buyer needs against the published listings, top 20 each, through the real selectors on the stored
matching index (marketplace.matching.engine.rank_listings_batch for a batch: the rankings with their scores and
explanations, everything the scheduled refresh stores; rank_listings_for_need for one need online, declarations
read as model instances) against a bare sparse matrix product over the same TF-IDF vectors (the same tokenizer,
fitted once on every listing; needs x listings, top 20 per need).

Both sides start from prebuilt vectors: the index's build (segmenting every listing once; the baseline takes
its words from it), the baseline's vectorising and the needs' stored words (segmented when a need is posted or
edited; here stored in bulk for the needs the generator wrote directly) are reported beside the figures, not in
them. The batch runs for 10,000
needs (the open needs in the database, repeated to make up the number) in batches of ``BATCH`` while the budget
lasts; when it stops early the rest is extrapolated from the batches timed. The online figure is the p95 of
single needs after the index is in memory. The batch figure's details also give the rankings' precision on the
generated corpus (``subject_precision``, outside the timing): the generator knows what each listing and need is
about, so relevance there is known, not judged."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.common import Figure, median, percentile, ratio, timed

NEEDS_GOAL = 10_000
BATCH = 1_000
GOAL_RATIO = 1.5
ONLINE_GOAL_MS = 200
ONLINE_SAMPLE = 20
# Needs of the first batch whose rankings are judged for precision (their top 10 listings read once).
JUDGED = 500


def _stored_words() -> tuple[list[list[str]], dict[int, list[str]]]:
    """Every listed listing's words (by declaration, in pk order) and the needs' stored words, from the stored
    matching index: the same tokens jieba gave, without segmenting again."""
    from marketplace.models import ListingTerms, MatchingIndex, Need

    terms = MatchingIndex.objects.values_list("terms", flat=True).get()
    docs = []
    for ids, counts in (ListingTerms.objects.filter(listed=True).order_by("pk")
                        .values_list("term_ids", "term_counts").iterator(chunk_size=2000)):
        pairs = zip(np.frombuffer(bytes(ids), "<i4").tolist(), np.frombuffer(bytes(counts), "<u2").tolist(),
                    strict=True)
        docs.append([terms[t] for t, n in pairs for _ in range(n)])
    needs = {pk: [w for w, n in stored["tokens"] for _ in range(n)] for pk, stored in
             Need.objects.filter(match_terms__isnull=False).values_list("pk", "match_terms")}
    return docs, needs


def baseline(*, needs_total: int = NEEDS_GOAL, budget_seconds: float | None = None, stored: bool = False) -> dict:
    """Vectorise every listing and the needs once, then the sparse product and a top-20 per need. With
    ``stored``, the words come from the stored matching index (built just before: the same tokenizer's output),
    else they are segmented here within `budget_seconds` (tokenising is most of it): when the listings cannot
    all be tokenised in time, the product runs over those that were and its time is scaled up to all of them
    (linear in the listings; `listings_used` says how many)."""

    from marketplace.matching.engine import _need_text, published_declarations, tokenize
    from marketplace.matching.index import listing_text
    from marketplace.models import Need

    if stored:
        start = time.perf_counter()
        doc_tokens, need_words = _stored_words()
        needs = list(Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk"))
        need_tokens = [need_words.get(n.pk) or tokenize(_need_text(n)) for n in needs] or [["电池"]]
        need_tokens = (need_tokens * (needs_total // len(need_tokens) + 1))[:needs_total]
        deadline = time.monotonic() + budget_seconds if budget_seconds is not None else float("inf")
        return _bare_product(doc_tokens=doc_tokens, need_tokens=need_tokens, listings=len(doc_tokens),
                             needs_total=needs_total, started=start, deadline=deadline)

    texts_of = [listing_text(title, abstract) for title, abstract in  # engine._declaration_text, without models
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
    return _bare_product(doc_tokens=doc_tokens, need_tokens=need_tokens, listings=len(texts_of),
                         needs_total=needs_total, started=start)


def _bare_product(*, doc_tokens, need_tokens, listings: int, needs_total: int, started: float,
                  deadline: float = float("inf")) -> dict:
    """The product and top 20 of every chunk of needs while ``deadline`` (monotonic) allows (at least one chunk);
    the time of the chunks left is extrapolated (linear in the needs; ``needs_used`` says how many were timed)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = started
    vectorizer = TfidfVectorizer(analyzer=lambda tokens: tokens, sublinear_tf=True)  # the tokens made above
    docs = vectorizer.fit_transform(doc_tokens or [["电池"]])
    queries = vectorizer.transform(need_tokens)
    vectorise_s = time.perf_counter() - start
    docs_t = docs.T.tocsc()
    # Chunks keep the (nearly dense) product under ~20M cells.
    chunk = max(10, 20_000_000 // max(docs.shape[0], 1))
    start = time.perf_counter()
    timed_needs = 0
    for lo in range(0, queries.shape[0], chunk):
        if timed_needs and time.monotonic() > deadline:
            break
        sims = (queries[lo:lo + chunk] @ docs_t).toarray()
        k = min(20, sims.shape[1] - 1)
        if k > 0:
            np.argpartition(-sims, k, axis=1)[:, :20]
        timed_needs += sims.shape[0]
    product_s = time.perf_counter() - start
    used = len(doc_tokens)
    scale = listings / used if used else 1.0
    by_needs = queries.shape[0] / timed_needs if timed_needs else 1.0
    return {"listings": listings, "listings_used": used, "needs": needs_total, "needs_used": timed_needs,
            "vectorise_s": round(vectorise_s * scale, 4), "product_s": round(product_s * scale * by_needs, 4),
            "measured_product_s": round(product_s, 4)}


def _index_current():
    """The stored index when it already holds every published listing (built with the market, or by an earlier
    run on this database): segmenting 380k listings again takes longer than the matching budget at 1M."""
    from marketplace.matching.engine import published_declarations
    from marketplace.models import ListingTerms, MatchingIndex

    index = MatchingIndex.objects.first()
    if index is None or ListingTerms.objects.filter(listed=True).count() != published_declarations().count():
        return None
    return index


def _batch_figure(*, per_need: list[float], timed_needs: int, base: dict, build: dict, note: str) -> Figure:
    estimate = median(per_need) * NEEDS_GOAL if per_need else None
    if per_need and timed_needs >= NEEDS_GOAL:
        estimate = sum(s * BATCH for s in per_need[:-1]) + per_need[-1] * (NEEDS_GOAL - BATCH * (len(per_need) - 1))
    base_total = base["product_s"]
    r = ratio(estimate, base_total)
    notes = [note] if note else []
    if base["listings_used"] < base["listings"]:
        notes.append(f"baseline tokenised {base['listings_used']:,} of {base['listings']:,} listings within its "
                     f"budget; its times are scaled to all of them")
    if base.get("needs_used", base["needs"]) < base["needs"]:
        notes.append(f"baseline timed {base['needs_used']:,} of {base['needs']:,} needs within its budget; its "
                     f"product time is scaled to all of them")
    if timed_needs < NEEDS_GOAL:
        notes.append(f"extrapolated from {timed_needs:,} needs")
    return Figure(
        name=f"matching {NEEDS_GOAL:,} needs against the listings, top 20 each, batch", unit="s",
        # Four decimals: at the tiny scale of tests/bench the bare product takes milliseconds (two decimals made it 0).
        value=round(estimate, 4) if estimate is not None else None, baseline=round(base_total, 4),
        baseline_label=f"bare sparse product needs x listings + top 20, {NEEDS_GOAL:,} needs, vectors prebuilt",
        ratio=round(r, 2) if r is not None else None, goal=f"<= {GOAL_RATIO} x the bare product",
        met=(r <= GOAL_RATIO) if r is not None else None, samples=len(per_need), note="; ".join(notes),
        details={"seconds_per_need": [round(s, 5) for s in per_need], "needs_timed": timed_needs, **base, **build,
                 "baseline_with_vectorising_s": round(base["vectorise_s"] + base["product_s"], 2)})


def subject_precision(needs: list, ranked: list[list]) -> dict:
    """Precision@5 and @10 of rankings on the generated corpus, per language of the need ("zh", "en", "all"):
    a listing is relevant when its title's subject is the need's (marketplace.demo.synthetic.subjects_named: the
    topic, device or design the generator composed the title from, in either language; the Chinese and English
    names of one subject are one), and, coarser, ``field_p@k`` when it is of the need's generated domain. A need
    is judged once (the batch repeats needs) and only when its title names a generated subject."""
    from licensing.models import Declaration
    from marketplace.demo.synthetic import subjects_named

    ids = {r.declaration_id for rs in ranked for r in rs[:10]}
    subject_of = {pk: (subjects_named(f"{title} {title_en}") or [None])[0] for pk, title, title_en in
                  Declaration.objects.filter(pk__in=ids).values_list("pk", "patent__title", "patent__title_en")}
    rows: dict[str, list[dict]] = {"zh": [], "en": [], "all": []}
    seen = set()
    for need, rs in zip(needs, ranked, strict=True):
        subject = (subjects_named(need.title) or subjects_named(need.description) or [None])[0]
        if subject is None or need.pk in seen:
            continue
        seen.add(need.pk)
        top = [subject_of.get(r.declaration_id) for r in rs[:10]]
        row = {f"p@{k}": sum(s == subject for s in top[:k]) / k for k in (5, 10)}
        row.update({f"field_p@{k}": sum(s is not None and s[0] == subject[0] for s in top[:k]) / k for k in (5, 10)})
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in need.title) else "en"
        rows[lang].append(row)
        rows["all"].append(row)
    return {lang: {"needs": len(rs), **{m: round(sum(r[m] for r in rs) / len(rs), 3) for m in rs[0]}}
            if rs else {"needs": 0} for lang, rs in rows.items()}


def _online_figure(*, seconds: list[float], base: dict, note: str = "") -> Figure:
    p95 = percentile(seconds, 95) * 1000 if seconds else None
    bare_ms = base["product_s"] / base["needs"] * 1000
    r = ratio(p95, bare_ms)
    return Figure(
        name="matching one need online against the stored index, top 20 (p95)", unit="ms",
        value=round(p95, 1) if p95 is not None else None, baseline=round(bare_ms, 2),
        baseline_label="bare sparse product per need (the batch baseline / its needs)",
        ratio=round(r, 1) if r is not None else None, goal=f"<= {ONLINE_GOAL_MS} ms p95",
        met=(p95 <= ONLINE_GOAL_MS) if p95 is not None else None, samples=len(seconds), note=note,
        details={"ms_per_need": [round(s * 1000, 1) for s in seconds],
                 "median_ms": round(median(seconds) * 1000, 1) if seconds else None})


def benchmark(*, sample: int = ONLINE_SAMPLE, budget_seconds: float = 120, seed: int = 0,
              emit: Callable[[Figure], None] | None = None) -> list[Figure]:
    """[batch figure, online figure]. The baseline first (within a third of the budget), then the index build,
    the batch in batches of ``BATCH`` needs while the budget lasts (at least one), then ``sample`` single needs
    online (at least one). `emit` receives each figure as it is measured."""
    from marketplace.matching.engine import ListingFacts, rank_listings_batch, rank_listings_for_need, setting_tokens
    from marketplace.matching.index import market_matrix, market_matrix_forget, matching_index_rebuild
    from marketplace.matching.services import needs_terms_store
    from marketplace.models import Need

    deadline = time.monotonic() + budget_seconds
    # The listings are segmented once, for the stored index, and the baseline takes the same words from it.
    build_s, index = timed(lambda: _index_current() or matching_index_rebuild())
    open_needs = Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk")
    used = list(open_needs.values_list("pk", flat=True)[:NEEDS_GOAL])  # the needs the batch ranks
    terms_s, terms_stored = timed(lambda: needs_terms_store(need_ids=used))
    base = baseline(budget_seconds=budget_seconds / 3, stored=True)
    market_matrix_forget()
    load_s, market = timed(market_matrix)
    build = {"index_build_s": round(build_s, 2), "index_load_s": round(load_s, 2),
             "index_listings": index.fitted_listings, "index_words": len(index.terms),
             "need_terms_s": round(terms_s, 2), "need_terms_stored": terms_stored}
    needs = list(Need.objects.filter(state=Need.State.OPEN, public=True).order_by("pk"))
    batch_needs = (needs * (NEEDS_GOAL // max(len(needs), 1) + 1))[:NEEDS_GOAL] if needs else []
    per_need: list[float] = []
    timed_needs = 0
    facts = ListingFacts()  # the listings' fee terms read once, as the scheduled refresh keeps them
    # Warm what a worker process loads once for all its refreshes, as the online figure below warms it: jieba's
    # dictionary (~0.5 s) and the setting phrases cut with it (functools.cache). The baseline starts from
    # prebuilt vectors and never loads jieba; the fee terms (`facts`) stay in the timed batch, a refresh reads them.
    warm_s, _tokens = timed(setting_tokens)
    build["warm_s"] = round(warm_s, 2)
    judged: tuple[list, list] = ([], [])
    for lo in range(0, len(batch_needs), BATCH):
        if per_need and time.monotonic() + per_need[-1] * BATCH > deadline:
            break
        part = batch_needs[lo:lo + BATCH]
        seconds, ranked = timed(
            lambda part=part: rank_listings_batch(needs=part, limit=20, facts=facts))
        if lo == 0:
            judged = (part[:JUDGED], ranked[:JUDGED])
        per_need.append(seconds / len(part))
        timed_needs += len(part)
        if emit is not None:
            emit(_batch_figure(per_need=per_need, timed_needs=timed_needs, base=base, build=build,
                               note=f"provisional: {timed_needs:,} of {NEEDS_GOAL:,} needs"))
    note = "" if timed_needs >= NEEDS_GOAL else \
        f"{timed_needs:,} of {NEEDS_GOAL:,} needs within the budget ({budget_seconds:.0f} s, BENCH_MATCHING_BUDGET)"
    batch = _batch_figure(per_need=per_need, timed_needs=timed_needs, base=base, build=build, note=note)
    batch.details["precision_on_generated_subjects"] = subject_precision(*judged)
    if emit is not None:
        emit(batch)

    rng = np.random.default_rng(seed)
    chosen = [needs[int(i)] for i in rng.choice(len(needs), size=min(sample, len(needs)), replace=False)] \
        if needs else []
    if chosen:
        rank_listings_for_need(need=chosen[0], limit=20)  # warm: jieba's dictionary, the first queries
    seconds_each: list[float] = []
    for need in chosen:
        if seconds_each and time.monotonic() > deadline:
            break
        seconds, _matches = timed(lambda need=need: rank_listings_for_need(need=need, limit=20))
        seconds_each.append(seconds)
    online = _online_figure(seconds=seconds_each, base=base, note="" if len(seconds_each) == len(chosen) else
                            f"{len(seconds_each)} of {len(chosen)} needs within the budget")
    online.details["listings"] = market.size
    return [batch, online]
