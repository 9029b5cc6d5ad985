"""Facet counts and the order of a search's results, from the search documents' facet columns held in memory.

Why by hand: a search's facet counts are eleven GROUP BYs over every document it matches, and for a search by
facets alone that is the whole table. At 1M patents (380,048 documents) PostgreSQL needed 300-750 ms for them even
in one GROUPING SETS statement over a covering index, and every document change retired every cached count, so a
visitor paid that again for every new query. The same counts over the facet columns held as numpy arrays (about
60 bytes per document) take a few milliseconds, and so does the order of the results for every sort but
relevance. That is what a search engine's column store does; the design card keeps search in the database, so
the database stays the one source: the columns are read from it again whenever the search version moves (it is
bumped with every document change, at once and after commit: marketplace.search.documents), the sort orders are
the database's own (read with ORDER BY, so ties and NULLs fall exactly as in SQL), and the full text (which
documents hold the words, and how well) is still found by the database's full-text index. Each process holds one
copy; in production the version lives in the shared cache, so every app server reloads after a change made
through any of them.

The filters here mirror marketplace.search.selectors.ListingFilter one for one;
tests/marketplace/test_search_facets.py compares them with the database on every facet value, and
tests/marketplace/test_search_equivalence.py the whole search with the search as it was before the documents."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from django.db import connection

from marketplace.models import ListingDocument
from marketplace.search.documents import search_changes, uncommitted_changes

_EPOCH = date(1970, 1, 1)
# Columns held as codes (an int per document, the values in a list); "ipc" is counted by section.
_CODED = ("technology_field", "sector", "ipc_section", "ipc_subclass", "main_ipc", "grade", "kind", "fee_form",
          "holder_kind", "region", "licensed")
@dataclass(frozen=True)
class Coded:
    codes: np.ndarray  # one code per document, in page_id order
    values: list  # code -> the column's value

    def where(self, predicate) -> np.ndarray:
        """The documents whose value satisfies ``predicate`` (evaluated once per distinct value)."""
        wanted = np.fromiter((bool(predicate(v)) for v in self.values), dtype=bool, count=len(self.values))
        return wanted[self.codes] if len(self.values) else np.zeros(len(self.codes), dtype=bool)

    def equal(self, value) -> np.ndarray:
        return self.where(lambda v: v == value)


TEXT_MASKS_KEPT = 256
# Declarations changed since a copy was read, beyond which reading every document is the cheaper way.
UPDATE_AT_MOST = 5000
_NO_EXPIRY = -(2 ** 31)  # days since 1970 standing for NULL: below every real date, so last in a descending order


def _coded(column) -> Coded:
    codes, values = pd.factorize(np.array(column, dtype=object), use_na_sentinel=False)  # NULL: a value (None)
    dtype = np.int16 if len(values) < 2 ** 15 else np.int32
    return Coded(codes.astype(dtype), [None if pd.isna(v) else v for v in values])  # factorize gives NULL as NaN


def _read(declaration_ids: list[int] | None = None) -> tuple[dict[str, np.ndarray], dict[str, Coded]]:
    """The columns of every document (or of these declarations' documents): one SELECT, transposed once and
    converted column by column (numpy, pandas factorize), never value by value in Python. (COPY to CSV, or one
    array per column, were tried: psycopg hands COPY over one row at a time and the arrays took PostgreSQL
    longer to build; neither was faster.)"""
    if connection.vendor == "postgresql":
        days = "expiry_date - DATE '1970-01-01'"
        # microseconds since 1970; NULL read as the largest, so first in a descending order, as PostgreSQL has it
        published = "COALESCE((EXTRACT(EPOCH FROM first_published_at) * 1000000)::bigint, 9223372036854775807)"
    else:
        days = "CAST(julianday(expiry_date) - 2440587.5 AS INTEGER)"
        published = "first_published_at"  # text that sorts as the time does, which is how SQLite sorts it
    where, params = "", []
    if declaration_ids is not None:
        where, params = f"WHERE declaration_id IN ({', '.join(['%s'] * len(declaration_ids))})", list(declaration_ids)
    with connection.cursor() as cursor:
        # Table and column names are ours, never the request's.
        cursor.execute(f"SELECT page_id, declaration_id, first_due_fen, COALESCE({days}, {_NO_EXPIRY}), "  # noqa: S608
                       f"{published}, {', '.join(_CODED)} FROM {ListingDocument._meta.db_table} {where}", params)
        rows = cursor.fetchall()
    fields = list(zip(*rows, strict=True)) if rows else [()] * (5 + len(_CODED))
    del rows
    postgresql = connection.vendor == "postgresql"
    numbers = {"page_id": np.array(fields[0], dtype=np.int64), "declaration_id": np.array(fields[1], dtype=np.int64),
               "fen": np.array(fields[2], dtype=np.int64), "days": np.array(fields[3], dtype=np.int64),
               "published": np.array(fields[4], dtype=np.int64 if postgresql else object)}
    return numbers, {name: _coded(fields[5 + i]) for i, name in enumerate(_CODED)}


def _merged(old: Coded, keep: np.ndarray, new: Coded) -> Coded:
    """``old``'s codes where ``keep``, followed by ``new``'s rows coded in ``old``'s values (extended)."""
    values = list(old.values)
    lookup = {v: i for i, v in enumerate(values)}
    translate = np.array([lookup.setdefault(v, len(lookup)) for v in new.values], dtype=np.int64)
    values += list(lookup)[len(values):]
    dtype = np.int16 if len(values) < 2 ** 15 else np.int32
    codes = np.concatenate([old.codes[keep].astype(dtype),
                            translate[new.codes].astype(dtype) if len(new.codes) else np.zeros(0, dtype)])
    return Coded(codes, values)


class FacetColumns:
    """Every document's facet values as arrays in ``page_id`` order, and the positions of the documents in each
    sort order. Built by ``facet_columns()``; never changed after that (a new version builds a new one, from the
    database or from the one before and the documents that changed)."""

    def __init__(self, version: int, numbers: dict[str, np.ndarray] | None = None,
                 coded: dict[str, Coded] | None = None):
        if numbers is None:
            numbers, coded = _read()
        by_page = np.argsort(numbers["page_id"], kind="stable")
        self.version = version
        self.updated_from: int | None = None  # the version of the copy this one was brought up to date from
        self.numbers = {name: column[by_page] for name, column in numbers.items()}
        self.coded = {name: Coded(c.codes[by_page], c.values) for name, c in coded.items()}
        self._words: OrderedDict[str, np.ndarray] = OrderedDict()
        self.page_id = self.numbers["page_id"]
        self.first_due_fen = self.numbers["fen"]
        days = self.numbers["days"]
        self.has_expiry = days != _NO_EXPIRY
        self.expiry_days = np.where(self.has_expiry, days, 0).astype(np.int32)
        published = self.numbers["published"]
        if published.dtype == object:  # SQLite's text: its rank, NULL -1 (last in a descending order, as SQLite)
            published = pd.factorize(published, sort=True)[0].astype(np.int64)
        # The sort orders exactly as SQL gives them (selectors.ListingFilter.filter_sort; NULLs as _read says;
        # remaining life says NULLS LAST itself). np.lexsort sorts by its last key first, each ascending:
        # descending keys are negated.
        self.orders = {
            "newest": np.lexsort((-self.page_id, -published)).astype(np.int32),
            "price": np.lexsort((-self.page_id, -published, self.first_due_fen)).astype(np.int32),
            "life": np.lexsort((-self.page_id, -days)).astype(np.int32),
        }

    def updated(self, version: int, declaration_ids: set[int]) -> FacetColumns:
        """These columns with the documents of ``declaration_ids`` read again (added, changed or gone)."""
        ids = sorted(declaration_ids)
        numbers, coded = _read(ids)
        keep = ~np.isin(self.numbers["declaration_id"], np.array(ids, dtype=np.int64))
        merged = {name: np.concatenate([column[keep], numbers[name].astype(column.dtype)])
                  for name, column in self.numbers.items()}
        columns = FacetColumns(version, merged, {name: _merged(self.coded[name], keep, coded[name])
                                                 for name in self.coded})
        columns.updated_from = self.version
        return columns

    def words_mask(self, words: list[str], page_ids) -> np.ndarray:
        """The documents holding ``words``: ``page_ids()`` (the full-text index's answer) the first time, then
        from the last TEXT_MASKS_KEPT answers kept with this copy (bit-packed, ~47 KB each at 380,000
        documents): asking the index again for a common word costs 50-150 ms at 1M patents."""
        key = " ".join(words)
        with _lock:
            packed = self._words.get(key)
            if packed is not None:
                self._words.move_to_end(key)
        if packed is not None:
            return np.unpackbits(packed, count=len(self)).astype(bool)
        mask = self.positions(page_ids())
        with _lock:
            self._words[key] = np.packbits(mask)
            while len(self._words) > TEXT_MASKS_KEPT:
                self._words.popitem(last=False)
        return mask

    def __len__(self) -> int:
        return len(self.page_id)

    def positions(self, page_ids) -> np.ndarray:
        """A mask of the documents among ``page_ids`` (ids this copy does not hold are ignored)."""
        mask = np.zeros(len(self), dtype=bool)
        ids = np.fromiter(page_ids, dtype=np.int64)
        if len(ids) and len(self):
            at = np.searchsorted(self.page_id, ids).clip(0, len(self) - 1)
            mask[at[self.page_id[at] == ids]] = True
        return mask

    def expiry_between(self, today: date, lo_years: int | None, hi_years: int | None) -> np.ndarray:
        mask = self.has_expiry.copy()
        if lo_years is not None:
            mask &= self.expiry_days >= (today + relativedelta(years=lo_years) - _EPOCH).days
        if hi_years is not None:
            mask &= self.expiry_days < (today + relativedelta(years=hi_years) - _EPOCH).days
        return mask

    def fee_between(self, lo_fen: int | None, hi_fen: int | None) -> np.ndarray:
        mask = np.ones(len(self), dtype=bool)
        if lo_fen is not None:
            mask &= self.first_due_fen >= lo_fen
        if hi_fen is not None:
            mask &= self.first_due_fen < hi_fen
        return mask

    def page(self, sort: str, mask: np.ndarray, offset: int, limit: int) -> list[int]:
        """The page ids of one page of the documents in ``mask``, in the database's order for ``sort``."""
        order = self.orders[sort]
        chosen = order[mask[order]]
        return [int(i) for i in self.page_id[chosen[offset:offset + limit]]]


_lock = threading.Lock()
_current: FacetColumns | None = None


def facet_columns(version: int) -> FacetColumns:
    """The columns as of search ``version``: this process's copy; when the version has moved since, the copy
    brought up to date by reading again the documents of the declarations that changed meanwhile (recorded
    with each version: marketplace.search.documents.search_changes), or all documents when that is not known
    or too many changed."""
    global _current
    if uncommitted_changes():
        # This transaction sees its own document changes, which vanish if it rolls back (and no change record
        # says so then): a copy that includes them serves this search only and is never kept.
        current = _current
        if current is not None and current.version == version:
            return current
        changed = search_changes(current.version, version) if current is not None else None
        if changed is not None and len(changed) <= UPDATE_AT_MOST:
            return current.updated(version, changed)
        return FacetColumns(version)
    columns = _current
    if columns is not None and columns.version == version:
        return columns
    with _lock:
        current = _current
        if current is None or current.version != version:
            changed = search_changes(current.version, version) if current is not None else None
            if changed is not None and len(changed) <= UPDATE_AT_MOST:
                _current = current.updated(version, changed)
            else:
                _current = FacetColumns(version)
        return _current


def facet_columns_forget() -> None:
    """Drop this process's copy (the next search reads the columns again)."""
    global _current
    with _lock:
        _current = None
