"""The matching as it was before the stored index (main before issue #18 part 2): TF-IDF fitted per need on the
need and every candidate listing (since #23: every listing a candidate, setting words weighted down, related
subclasses counted, as the engine does). Kept as the reference the stored index is compared with on the labelled set
(tests/marketplace/test_matching.py); it is slow by design and used nowhere else."""

from licensing.licences.selectors import declarations_licensed_by
from marketplace.matching import engine
from marketplace.matching.index import market_matrix


def rank_listings_for_need_refitted(*, need, limit: int = 20) -> list[engine.Match]:
    declarations = list(engine.published_declarations().exclude(holder_id=need.organisation_id)
                        .exclude(pk__in=declarations_licensed_by(organisation_id=need.organisation_id))
                        .order_by("pk"))
    if not declarations:
        return []
    query, matrix, sims, terms = engine._similarities(engine._need_text(need),
                                                      [engine._declaration_text(d) for d in declarations])
    # #23: every listing is scored (the field and IPC are a signal, not a block), the need's setting words are
    # weighted down and related subclasses count.
    if matrix is not None:
        query = engine.weight_subject(query, engine.subject_weights(terms))
        sims = (matrix @ query.T).toarray().ravel()
    related = engine.related_subclasses(market_matrix(), need.ipc_prefix)
    everyone = range(len(declarations))
    matches = [engine._score(need=need, declaration=declarations[i], similarity=sims[i], need_vec=query,
                             decl_vec=matrix[i], terms=terms, related=related, worded=query.nnz > 0)
               if matrix is not None else
               engine._score_without_text(need=need, declaration=declarations[i])
               for i in everyone]
    for i, match in zip(everyone, matches, strict=True):
        both = query.multiply(matrix[i]).tocoo() if matrix is not None else None
        # Every shared word's weight in the product, to tell the heaviest words apart from ties among them.
        match.term_weights = {str(terms[c]): float(v) for c, v in zip(both.col, both.data, strict=True)} \
            if both is not None else {}
    matches.sort(key=lambda m: (-m.score, m.declaration.pk))
    return matches[:limit]


def pick_over_dense_rows(*, market, needs, cols, sims, excluded, today, blocks, worded):
    """``engine._pick`` as it was before it read the sparse product (main before session 33): each need's
    partial scores over a dense row of the whole market, one partition per need, the edge's ties to the lowest
    declarations. (need index, row, similarity) of every candidate, as ``engine._pick`` returns them."""
    import numpy as np

    base = engine._base(market, blocks, today).astype(np.float32)
    picked = []
    for j in range(len(needs)):
        part = np.empty(market.size, np.float32)
        np.multiply(sims[j], engine.WEIGHTS["text"], out=part, casting="same_kind")
        part += base
        part[excluded[j]] = -np.inf
        rows, bonus = engine._signal(market, blocks, int(cols.field[j]), cols.prefix[j])
        if len(rows):
            share = engine.signal_share(sims[j, rows]) if worded[j] else np.ones(len(rows))
            part[rows] += (bonus * share).astype(np.float32)
        if market.size > engine.SCORED:
            below = market.size - engine.SCORED - 1
            order = np.argpartition(part, below)
            top = order[below + 1:]
            edge = part[top].min()
            if np.isfinite(edge) and part[order[below]] == edge:
                above = np.flatnonzero(part > edge)
                tied = np.flatnonzero(part == edge)
                top = np.concatenate([above, tied[np.argsort(market.declaration_ids[tied], kind="stable")]
                                      [:engine.SCORED - len(above)]])
        else:
            top = np.arange(market.size)
        picked += [(j, int(r), float(sims[j, r])) for r in top.tolist() if part[r] > -np.inf]
    return picked
