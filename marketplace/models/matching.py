"""The stored matching index: what the matching engine needs to score every published listing against a need
without reading or re-segmenting the listings (marketplace.matching.index builds, folds and loads it).

Why per-listing rows plus one fit row, and not one matrix file: a listing is folded in (published, edited,
withdrawn) by rewriting its own row inside the transaction that changes it, so the index commits or rolls back
with the listing and a test's database holds its own index; the per-listing term counts are the raw material,
so a refit (new IDF over the current market) is a pass over the counts and never runs jieba again; and the
matrix every process keeps in memory is derived from these rows (marketplace.matching.index.market_matrix),
loading only the rows changed since it last looked. Term ids point into the fit's append-only vocabulary, so
counts stay valid across refits. #23 (cross-language matching) extends the vocabulary/terms here, in one place.
"""

import uuid

from django.db import models


class MatchingIndex(models.Model):
    """The fit: the vocabulary (append-only: term id = position) and the document frequencies of the terms over
    the listings it was fitted on. One row; ``version`` grows with every fold and refit so that each process
    can tell whether its in-memory matrix is current."""

    terms = models.JSONField(default=list)
    # numpy int32 array (little-endian) over the first ``fitted_terms`` terms; later terms count as df 0.
    document_frequencies = models.BinaryField()
    fitted_terms = models.PositiveIntegerField(default=0)
    fitted_listings = models.PositiveIntegerField(default=0)
    # sha1 over the sorted (declaration id, text hash) pairs of the listings fitted on.
    content_hash = models.CharField(max_length=40)
    fitted_at = models.DateTimeField()
    # New at every fit: a process holding another key loads the matrix again rather than catching up.
    key = models.UUIDField(default=uuid.uuid4)
    # Listings published, edited or withdrawn since the fit: the refit rule compares it with fitted_listings.
    folded_since_fit = models.PositiveIntegerField(default=0)
    version = models.BigIntegerField(default=1)
    # IPC subclasses that appear together in the listings' codes, counted at each fit (issue #23: neighbouring
    # subclasses count as related): {"listings": {subclass: n}, "pairs": {subclass: {other: n together}}},
    # pairs seen in at least two listings only.
    coclassified = models.JSONField(default=dict)

    def __str__(self):
        return f"matching index v{self.version}: {self.fitted_listings} listings, {len(self.terms)} terms"


class ListingTerms(models.Model):
    """One published (or formerly published) listing as the matching sees it: its term counts and the few facts
    used to choose candidates before any declaration is loaded. The scores themselves are always computed from
    the live declaration; these facts only decide which 50 listings are scored."""

    declaration = models.OneToOneField("licensing.Declaration", on_delete=models.CASCADE, primary_key=True,
                                       related_name="+")
    # False once withdrawn: kept (not deleted) so that processes loading changes since their version see it go.
    listed = models.BooleanField(default=True)
    text_hash = models.CharField(max_length=40)
    term_ids = models.BinaryField()  # numpy int32, little-endian
    term_counts = models.BinaryField()  # numpy uint16, little-endian
    holder_id = models.BigIntegerField()
    technology_field = models.PositiveSmallIntegerField(null=True)
    ipc_subclass = models.CharField(max_length=4, blank=True)
    # Subclasses of every IPC code of the patent (the main one included), upper case.
    ipc_subclasses = models.JSONField(default=list)
    grade_score = models.PositiveSmallIntegerField(default=0)
    expiry_date = models.DateField(null=True)
    changed_in = models.BigIntegerField(db_index=True)

    def __str__(self):
        return f"terms of declaration {self.declaration_id}"
