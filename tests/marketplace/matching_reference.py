"""The matching as it was before the stored index (main before issue #18 part 2): TF-IDF fitted per need on the
need and every candidate listing. Kept as the reference the stored index is compared with on the labelled set
(tests/marketplace/test_matching.py); it is slow by design and used nowhere else."""

from licensing.licences.selectors import declarations_licensed_by
from marketplace.matching import engine


def rank_listings_for_need_refitted(*, need, limit: int = 20) -> list[engine.Match]:
    declarations = list(engine.published_declarations().exclude(holder_id=need.organisation_id)
                        .exclude(pk__in=declarations_licensed_by(organisation_id=need.organisation_id))
                        .order_by("pk"))
    if not declarations:
        return []
    query, matrix, sims, terms = engine._similarities(engine._need_text(need),
                                                      [engine._declaration_text(d) for d in declarations])
    subclass = engine._norm_ipc(need.ipc_prefix)[:4]
    in_block = [(need.technology_field is not None and d.patent.technology_field == need.technology_field)
                or (bool(subclass) and d.patent.ipc_subclass.upper() == subclass) for d in declarations]
    matches = [engine._score(need=need, declaration=declarations[i], similarity=sims[i], need_vec=query,
                             decl_vec=matrix[i], terms=terms)
               if matrix is not None else
               engine._score_without_text(need=need, declaration=declarations[i])
               for i in engine._blocked(in_block, sims, limit)]
    for i, match in zip(engine._blocked(in_block, sims, limit), matches, strict=True):
        both = query.multiply(matrix[i]).tocoo() if matrix is not None else None
        # Every shared word's weight in the product, to tell the heaviest words apart from ties among them.
        match.term_weights = {str(terms[c]): float(v) for c, v in zip(both.col, both.data, strict=True)} \
            if both is not None else {}
    matches.sort(key=lambda m: (-m.score, m.declaration.pk))
    return matches[:limit]
