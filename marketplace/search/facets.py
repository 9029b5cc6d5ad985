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
from dataclasses import dataclass
from datetime import date

import numpy as np
from dateutil.relativedelta import relativedelta
from django.db import connection

from marketplace.models import ListingDocument

_EPOCH = date(1970, 1, 1)
# Columns held as codes (an int per document, the values in a list); "ipc" is counted by section.
_CODED = ("technology_field", "sector", "ipc_section", "ipc_subclass", "main_ipc", "grade", "kind", "fee_form",
          "holder_kind", "region", "licensed")
# The three orders a search can ask for besides relevance, as SQL over the documents (selectors.filter_sort).
_ORDERS = {
    "newest": "first_published_at DESC, page_id DESC",
    "price": "first_due_fen ASC, first_published_at DESC, page_id DESC",
    "life": "expiry_date DESC NULLS LAST, page_id DESC",
}


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


def _coded(column) -> Coded:
    lookup: dict = {}
    codes = [lookup.setdefault(v, len(lookup)) for v in column]
    dtype = np.int16 if len(lookup) < 2 ** 15 else np.int32
    return Coded(np.asarray(codes, dtype=dtype), list(lookup))


class FacetColumns:
    """Every document's facet values as arrays in ``page_id`` order, and the positions of the documents in each
    sort order. Built by ``facet_columns()``; never changed after that (a new version builds a new one)."""

    def __init__(self, version: str):
        self.version = version
        table = ListingDocument._meta.db_table
        if connection.vendor == "postgresql":
            days = "expiry_date - DATE '1970-01-01'"
        else:
            days = "CAST(julianday(expiry_date) - 2440587.5 AS INTEGER)"
        columns = ", ".join(_CODED)
        with connection.cursor() as cursor:
            # Table and column names are ours, never the request's.
            cursor.execute(f"SELECT page_id, first_due_fen, {days}, {columns} FROM {table} "  # noqa: S608
                           "ORDER BY page_id")
            rows = cursor.fetchall()
            self.page_id = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self.first_due_fen = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
            self.has_expiry = np.fromiter((r[2] is not None for r in rows), dtype=bool, count=len(rows))
            self.expiry_days = np.fromiter((r[2] or 0 for r in rows), dtype=np.int32, count=len(rows))
            self.coded = {name: _coded(r[3 + i] for r in rows) for i, name in enumerate(_CODED)}
            del rows
            self.orders = {}
            for sort, order_by in _ORDERS.items():
                cursor.execute(f"SELECT page_id FROM {table} ORDER BY {order_by}")  # noqa: S608
                ids = np.fromiter((r[0] for r in cursor.fetchall()), dtype=np.int64)
                self.orders[sort] = np.searchsorted(self.page_id, ids).astype(np.int32)

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


def facet_columns(version: str) -> FacetColumns:
    """The columns as of search ``version``: this process's copy, read again from the database when the
    version has moved since it was read."""
    global _current
    columns = _current
    if columns is not None and columns.version == version:
        return columns
    with _lock:
        if _current is None or _current.version != version:
            _current = FacetColumns(version)
        return _current


def facet_columns_forget() -> None:
    """Drop this process's copy (the next search reads the columns again)."""
    global _current
    with _lock:
        _current = None
