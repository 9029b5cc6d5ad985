"""The search document of a listing: one narrow row per live listing (the Chinese original) holding every
value the search page filters, sorts, counts and shows, so that a search reads one indexed table instead of
joining page, listing, declaration, patent, holder and licences for every match.

Written only by marketplace.search.documents, in the same transaction as the change that alters what a listing
shows (publish, withdraw, refresh, a licence granted or ended, a patent or holder edited). The full-text index
lives beside it and is kept by the database itself (migration 0006): on SQLite an FTS5 table whose rowid is the
page id, filled by triggers; on PostgreSQL a stored ``search_vector`` column with a GIN index. Neither is a
Django field, because each exists on one engine only."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ListingDocument(models.Model):
    page = models.OneToOneField("marketplace.PatentListingPage", on_delete=models.CASCADE, primary_key=True,
                                related_name="search_document")
    declaration = models.ForeignKey("licensing.Declaration", on_delete=models.CASCADE, related_name="+",
                                    db_index=True)
    translation_key = models.UUIDField()
    # What a hit shows.
    number = models.CharField(max_length=40)
    title = models.CharField(max_length=500)
    holder_name_zh = models.CharField(max_length=200)
    holder_name_en = models.CharField(max_length=200, blank=True)
    # Facets and sorts.
    fee_form = models.CharField(max_length=20)
    first_due_fen = models.BigIntegerField(help_text=_("First amount a licensee pays, in fen."))
    grade = models.CharField(max_length=1)
    kind = models.CharField(max_length=20)
    technology_field = models.PositiveSmallIntegerField(null=True)
    sector = models.CharField(max_length=32, blank=True)
    ipc_section = models.CharField(max_length=1, blank=True)
    ipc_subclass = models.CharField(max_length=4, blank=True)
    main_ipc = models.CharField(max_length=20, blank=True)
    expiry_date = models.DateField(null=True)
    holder_kind = models.CharField(max_length=20)
    region = models.CharField(max_length=40)
    licensed = models.BooleanField()
    first_published_at = models.DateTimeField(null=True)
    # Title, abstract, holder, IPC and summary as written, then cut into words by jieba (see
    # marketplace.listings.text.segment): the full-text index reads this column.
    search_text = models.TextField()

    class Meta:
        verbose_name = _("listing search document")
        indexes = [
            models.Index(fields=["-first_published_at", "-page"], name="listingdoc_newest"),
            models.Index(fields=["first_due_fen", "-first_published_at", "-page"], name="listingdoc_price"),
            models.Index(fields=["-expiry_date", "-page"], name="listingdoc_life"),
            models.Index(fields=["technology_field"], name="listingdoc_field"),
            models.Index(fields=["ipc_subclass"], name="listingdoc_ipc"),
            models.Index(fields=["main_ipc"], name="listingdoc_main_ipc"),
            models.Index(fields=["region"], name="listingdoc_region"),
            # Every facet column in one narrow index: counting facets reads it instead of the wide rows (their
            # text), 2-3x faster on SQLite, whose planner scans a covering index in place of the table; the price
            # range leads because it is the only range filter.
            models.Index(fields=["first_due_fen", "expiry_date", "technology_field", "sector", "ipc_section", "grade",
                                 "kind", "fee_form", "holder_kind", "region", "licensed"], name="listingdoc_facets"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title[:40]}"
