"""Keeping the listings' search documents (marketplace.models.ListingDocument) in step with what they show.

A document exists exactly for each live, public, Chinese-original listing page of a published declaration, and
holds that listing's facet values, sort keys, what a hit shows and its segmented text. Every change that alters
one of them calls ``listing_documents_sync`` inside its own transaction (the listing sync service; licences
granted and ended, patents and holders edited reach it through the listeners declared in settings, because
those rules live in layers that do not import the marketplace). ``listing_documents_rebuild`` rebuilds
everything (a migration, ``manage.py search_reindex``, the benchmark generator).

With every change (at once, and again after commit) the search version is bumped, which retires the facet
counts cached for every query (marketplace.search.selectors), and the declarations whose documents changed are
recorded with it, so that each process brings its facet columns (marketplace.search.facets) up to date by
reading only those documents again."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from licensing.models import LICENSABLE_DECLARATION_STATES, FeeForm
from licensing.models.licences import Licence, LicenceState
from marketplace.listings.text import segment
from marketplace.models import ListingDocument, PatentListingPage
from patents.inventory.fields import FIELDS_BY_NUMBER

# A counter (an earlier release kept a random token under "marketplace:search:version", which incr refuses).
SEARCH_VERSION_KEY = "marketplace:search:version-counter"
SEARCH_CHANGES_KEY = "marketplace:search:changes:{}"
EVERYTHING = "everything"
CHANGES_KEPT_SECONDS = 3600
CHANGES_READ_AT_MOST = 500  # versions apart; beyond that a process reads every document again
BATCH = 2000

_COLUMNS = (
    "pk", "declaration_id", "translation_key", "first_published_at", "summary",
    "declaration__fee_form", "declaration__lump_sum_fen", "declaration__entry_fee_fen",
    "declaration__annual_minimum_fen",
    "declaration__patent__number", "declaration__patent__title", "declaration__patent__abstract",
    "declaration__patent__title_en", "declaration__patent__abstract_en",
    "declaration__patent__grade_override", "declaration__patent__grade_computed", "declaration__patent__kind",
    "declaration__patent__technology_field", "declaration__patent__ipc_subclass", "declaration__patent__main_ipc",
    "declaration__patent__ipc_codes", "declaration__patent__expiry_date",
    "declaration__holder__kind", "declaration__holder__province", "declaration__holder__name_zh",
    "declaration__holder__name_en", "licensed",
)


def search_version() -> int:
    """A number that grows whenever any search document changes (at once and after commit)."""
    version = cache.get(SEARCH_VERSION_KEY)
    if version is None:
        # A random start: a counter lost with the cache (cleared, evicted) must never start again at a number
        # that a process still holds facet columns for (marketplace.search.facets).
        cache.add(SEARCH_VERSION_KEY, secrets.randbits(40) << 20, timeout=None)
        version = cache.get(SEARCH_VERSION_KEY)
    return version


def _bump_version(declaration_ids: Iterable[int] | None = None) -> None:
    """A new version, and what changed with it (the declarations whose documents changed, or "everything"),
    kept for CHANGES_KEPT_SECONDS so that a process can bring its facet columns up to date by reading those
    documents again instead of all of them."""
    try:
        version = cache.incr(SEARCH_VERSION_KEY)
    except ValueError:  # the counter is not there (yet, or no more)
        search_version()
        version = cache.incr(SEARCH_VERSION_KEY)
    changed = EVERYTHING if declaration_ids is None else sorted(set(declaration_ids))
    cache.set(SEARCH_CHANGES_KEY.format(version), changed, timeout=CHANGES_KEPT_SECONDS)


def search_changes(since: int, until: int) -> set[int] | None:
    """The declarations whose documents changed after version ``since`` up to ``until``, or None when that is
    not known (a change of everything, a record expired or evicted, too many versions apart)."""
    if not (isinstance(since, int) and isinstance(until, int)) or not 0 < until - since <= CHANGES_READ_AT_MOST:
        return None
    records = cache.get_many([SEARCH_CHANGES_KEY.format(v) for v in range(since + 1, until + 1)])
    if len(records) != until - since or any(r == EVERYTHING for r in records.values()):
        return None
    return {declaration_id for record in records.values() for declaration_id in record}


def search_counts_forget() -> None:
    """Retire every cached facet count now (they are computed again on the next search)."""
    _bump_version()


class _BumpAfterCommit:
    """The bump a transaction's document changes make after commit; a class of its own so that a search can
    tell that its transaction holds document changes not yet committed (``uncommitted_changes``)."""

    def __init__(self, declaration_ids: list[int] | None):
        self.declaration_ids = declaration_ids

    def __call__(self) -> None:
        _bump_version(self.declaration_ids)


def uncommitted_changes() -> bool:
    """Whether the open transaction changed search documents: they are visible to it alone and vanish if it
    rolls back, so what it reads of them must not be kept for other searches (marketplace.search.facets).
    Read from the transaction's pending on-commit callbacks, which Django drops on rollback."""
    return connection.in_atomic_block and any(isinstance(entry[1], _BumpAfterCommit)
                                              for entry in connection.run_on_commit)


def _retire_cached_counts(declaration_ids: Iterable[int] | None = None) -> None:
    # Now, so that this transaction's own later searches see its change, and again after commit, because a
    # search in another transaction may meanwhile have cached counts (or read facet columns) without it.
    declaration_ids = None if declaration_ids is None else sorted(set(declaration_ids))
    _bump_version(declaration_ids)
    transaction.on_commit(_BumpAfterCommit(declaration_ids))


def _licensed() -> Exists:
    """Whether the row's declaration (its ``declaration_id``) has a licence granted and not ended."""
    return Exists(Licence.objects.filter(declaration=OuterRef("declaration_id"),
                                         state__in=[LicenceState.ACTIVE, LicenceState.EXPIRED]))


def _chunks(ids: Iterable[int], size: int = 500):
    # Bounded parameter lists: SQLite refuses more than 32,766.
    ids = sorted(set(ids))
    for lo in range(0, len(ids), size):
        yield ids[lo:lo + size]


def _listed_pages():
    return (PatentListingPage.objects.live().public()
            .filter(alias_of__isnull=True, declaration__state__in=LICENSABLE_DECLARATION_STATES)
            .annotate(licensed=_licensed()))


def first_due_fen(fee_form: str, lump_sum_fen: int | None, entry_fee_fen: int | None,
                  annual_minimum_fen: int | None) -> int:
    """What a licensee pays first under the declaration's fee form (the price facet and sort)."""
    if fee_form == FeeForm.LUMP_SUM:
        return lump_sum_fen or 0
    if fee_form == FeeForm.ENTRY_PLUS_ROYALTY:
        return entry_fee_fen or 0
    return annual_minimum_fen or 0


def _document(row: tuple) -> ListingDocument:
    (pk, declaration_id, translation_key, first_published_at, summary, fee_form, lump_sum, entry_fee,
     annual_minimum, number, title, abstract, title_en, abstract_en,
     grade_override, grade_computed, kind, technology_field, ipc_subclass,
     main_ipc, ipc_codes, expiry_date, holder_kind, province, name_zh, name_en, licensed) = row
    field = FIELDS_BY_NUMBER.get(technology_field) if technology_field else None
    ipc_text = " ".join(ipc_codes or [])
    # As written (what Wagtail's index held) and cut into words: a query, segmented the same way, finds both
    # whole phrases and the words inside them ("电池" in "锂电池"). The holder's English text too, so that an
    # English query finds it in the listing's own words; the other language's counterparts are not stored
    # here but added to the query (marketplace.search.selectors: the index stays as large as the text).
    written = " ".join(part for part in (title, abstract, title_en, abstract_en, name_zh, name_en, ipc_text, summary)
                       if part)
    return ListingDocument(
        page_id=pk, declaration_id=declaration_id, translation_key=translation_key, number=number,
        title=title[:500], holder_name_zh=name_zh, holder_name_en=name_en or "", fee_form=fee_form,
        first_due_fen=first_due_fen(fee_form, lump_sum, entry_fee, annual_minimum),
        grade=grade_override or grade_computed, kind=kind, technology_field=technology_field or None,
        sector=field.sector.key if field else "", ipc_section=(ipc_subclass or "")[:1].upper(),
        ipc_subclass=ipc_subclass or "", main_ipc=main_ipc or "", expiry_date=expiry_date, holder_kind=holder_kind,
        region=province, licensed=bool(licensed), first_published_at=first_published_at,
        search_text=f"{written}\n{segment(written)}")


def _write(pages, *, progress: Callable[[int, int], None] | None = None, total: int = 0) -> int:
    """Documents for ``pages`` (a queryset of listed pages), read and written in batches of page ids."""
    written, last = 0, 0
    while True:
        rows = list(pages.filter(pk__gt=last).order_by("pk").values_list(*_COLUMNS)[:BATCH])
        if not rows:
            return written
        ListingDocument.objects.bulk_create([_document(row) for row in rows], batch_size=500)
        written += len(rows)
        last = rows[-1][0]
        if progress is not None:
            progress(written, total)


@transaction.atomic
def listing_documents_sync(*, declaration_ids: Iterable[int]) -> int:
    """Bring the documents of these declarations' listings in step with the listings, in the caller's
    transaction: a listing that is no longer live (or whose declaration is no longer published) loses its
    document. Returns the number of documents written."""
    written = 0
    declaration_ids = sorted(set(declaration_ids))
    for chunk in _chunks(declaration_ids):
        ListingDocument.objects.filter(declaration_id__in=chunk).delete()
        written += _write(_listed_pages().filter(declaration_id__in=chunk))
    _retire_cached_counts(declaration_ids)
    return written


@transaction.atomic
def listing_documents_rebuild(*, declaration_ids: Iterable[int] | None = None,
                              progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every listing's search document from scratch (or only those of ``declaration_ids``), in one
    transaction: searches go on reading the old documents until it commits. ``progress(done, total)`` is
    called after each batch."""
    if declaration_ids is not None:
        return listing_documents_sync(declaration_ids=declaration_ids)
    ListingDocument.objects.all().delete()
    pages = _listed_pages()
    written = _write(pages, progress=progress, total=pages.count() if progress else 0)
    _retire_cached_counts()
    return written


# Patent fields a document copies only into its grade: a regrade updates that column in place instead of
# rebuilding (and re-segmenting) every listed patent's document.
_GRADE_ONLY = {"grade_computed", "grade_override"}


def listing_documents_patents_changed(*, patent_ids: Iterable[int], fields: Iterable[str] = ()) -> None:
    """Listener (settings.PATENT_CHANGE_LISTENERS): patents were edited, imported again or regraded."""
    grade_only = bool(fields) and set(fields) <= _GRADE_ONLY
    touched, regraded = 0, []
    for chunk in _chunks(patent_ids):
        listed = ListingDocument.objects.filter(declaration__patent_id__in=chunk)
        if not grade_only:
            declaration_ids = list(listed.values_list("declaration_id", flat=True))
            if declaration_ids:
                listing_documents_sync(declaration_ids=declaration_ids)
            continue
        by_grade: dict[str, list[int]] = {}
        for page_id, declaration_id, override, computed in listed.values_list(
                "page_id", "declaration_id", "declaration__patent__grade_override",
                "declaration__patent__grade_computed"):
            by_grade.setdefault(override or computed, []).append(page_id)
            regraded.append(declaration_id)
        for grade, page_ids in by_grade.items():  # at most four statements (A-D) per chunk
            touched += ListingDocument.objects.filter(page_id__in=page_ids).exclude(grade=grade).update(grade=grade)
    if touched:
        _retire_cached_counts(regraded)


def listing_documents_licences_changed(*, declaration_ids: Iterable[int]) -> None:
    """Listener (settings.LICENCE_CHANGE_LISTENERS): a licence was granted or ended, so a listing may have become
    (or stopped being) licensed."""
    touched = 0
    declaration_ids = sorted(set(declaration_ids))
    for chunk in _chunks(declaration_ids):
        touched += ListingDocument.objects.filter(declaration_id__in=chunk).update(licensed=_licensed())
    if touched:
        _retire_cached_counts(declaration_ids)


def listing_documents_holders_changed(*, organisation_ids: Iterable[int]) -> None:
    """Listener (settings.ORGANISATION_CHANGE_LISTENERS): a holder's names, region or kind may have changed."""
    for chunk in _chunks(organisation_ids):
        declaration_ids = list(ListingDocument.objects.filter(declaration__holder_id__in=chunk)
                               .values_list("declaration_id", flat=True))
        if declaration_ids:
            listing_documents_sync(declaration_ids=declaration_ids)


def listing_page_published_or_unpublished(sender, instance, **kwargs) -> None:
    """Receiver of Wagtail's page_published / page_unpublished for listing pages: an editor or a holder's
    approved revision changes the summary (searched), and an editor may take a listing off the site from the
    admin, neither of which goes through the listing services."""
    listing_documents_sync(declaration_ids=[instance.declaration_id])
