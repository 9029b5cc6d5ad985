"""Whole-page cache for the listing index and the listing pages, for anonymous visitors.

A listing page is rendered once per address and language and then served from Django's cache (the "default"
alias: CACHE_URL, Redis in production so every app server shares one copy; local memory in `make run` and the
tests), without Wagtail's routing, the queries or the templates. Only what every anonymous visitor would see
is stored: a logged-in visitor (licences, "saved", the edit link, the menu with their name) always gets a fresh
page marked private/no-store, and so does a request with a query string (the cost calculator) or with
messages waiting to be shown. Stored pages carry no CSRF token or session data: the listing templates switch
language with links, not the POST form, and a render that asked for a CSRF token is not stored (safety net).

Why our own middleware and not wagtail-cache: wagtail-cache 3.0.0 requires wagtail<8, and a cache in front of
the view would skip the funnel, which must count a view per visitor and day also when the page comes from the
cache (marketplace.listings.funnel). Hits are answered here, after the session, authentication and message
middleware and before Wagtail; the page's hook (marketplace/listings/wagtail_hooks.py) marks a render as
storable with `listing_cache_mark`.

The search page is stored the same way for anonymous visitors, per address including its query string, under
the search documents' version (marketplace.search.views marks it with `listing_cache_mark_search`).

Invalidation is by version tokens kept in the same cache: one for everything and one per declaration. A stored
page remembers the tokens it was rendered under and is a miss once either changed. Tokens are random, not
counters, so a token evicted by the cache server never brings an old page back (a missing token is a miss)."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django.utils.translation import get_language

from licensing.models import Declaration, DeclarationState
from marketplace.listings import funnel
from marketplace.replica.router import request_read_replica

ALL_KEY = "listing-page:version:all"
INDEX_KEY = "listing-page:version:index"
PAGE_PREFIX = "listing-page:page:"
# How long a stored page may be served at most, whatever the invalidation: licence counts and "similar
# listings" of other pages change without a sync of this page (see listing_cache_invalidate).
PAGE_SECONDS = settings.LISTING_PAGE_CACHE_SECONDS
# What browsers and shared caches may keep without asking again: short, because publish and withdraw must show.
BROWSER_MAX_AGE = settings.LISTING_PAGE_MAX_AGE
_REQUEST_MARK = "listing_page_cache"


def _declaration_key(declaration_id: int) -> str:
    return f"listing-page:version:declaration:{declaration_id}"


def _new_token() -> str:
    return uuid.uuid4().hex


def _bump(keys: list[str]) -> None:
    cache.set_many({key: _new_token() for key in keys}, timeout=None)


def listing_cache_invalidate(*, declaration_ids=None) -> None:
    """Stop serving stored listing pages: every page (indexes and listings, both languages) when
    declaration_ids is None, otherwise the listing pages of those declarations and the listing indexes.
    Other listings whose "similar listings" name one of them follow at the latest after
    LISTING_PAGE_CACHE_SECONDS. Takes effect at once and again when the current transaction commits, so that
    a page another server renders from the old rows while the transaction is still open is not kept."""
    keys = [ALL_KEY] if declaration_ids is None else [INDEX_KEY, *(_declaration_key(pk) for pk in declaration_ids)]
    _bump(keys)
    transaction.on_commit(lambda: _bump(keys))


def listing_cache_mark(*, request, declaration: Declaration | None = None) -> None:
    """Called by the listing pages while they render: this response may be stored for anonymous visitors
    (the middleware decides), as the listing of `declaration` or, without one, as a listing index. The
    declaration's token is read now, before the page reads its rows, so a change made while it renders makes
    the stored copy a miss rather than keeping it."""
    if getattr(request, "is_preview", False):
        return
    mark = {"declaration_id": None, "holder_id": None, "tokens": {}}
    key = INDEX_KEY
    if declaration is not None:
        mark.update(declaration_id=declaration.pk, holder_id=declaration.holder_id)
        key = _declaration_key(declaration.pk)
    mark["tokens"][key] = _token(key)
    setattr(request, _REQUEST_MARK, mark)


def listing_cache_mark_search(*, request, tokens: dict[str, str]) -> None:
    """Called by the search page while it renders for an anonymous visitor: this response may be stored under
    its full address (query string included), for as long as ``tokens`` (cache key -> value read before the
    search ran; the search documents' version) stay what they are."""
    setattr(request, _REQUEST_MARK, {"declaration_id": None, "holder_id": None, "tokens": dict(tokens)})


def listing_cache_patents_changed(*, patent_ids, fields=()) -> None:
    """Listener (settings.PATENT_CHANGE_LISTENERS): titles and grades show on listings, their indexes and other
    listings' "similar listings", so every stored page is renewed."""
    listing_cache_invalidate()


def listing_cache_holders_changed(*, organisation_ids) -> None:
    """Listener (settings.ORGANISATION_CHANGE_LISTENERS): holders' names show on every kind of listing page."""
    listing_cache_invalidate()


def listing_cache_page_published_or_unpublished(sender, instance, **kwargs) -> None:
    """Receiver of Wagtail's page_published / page_unpublished for listing pages (an approved holder's revision,
    an editor taking a listing off the site): that listing's pages and the indexes are renewed."""
    listing_cache_invalidate(declaration_ids=[instance.declaration_id])


def _token(key: str) -> str:
    token = cache.get(key)
    if token is None:
        cache.add(key, _new_token(), timeout=None)
        token = cache.get(key)
    return token


def _page_key(request) -> str:
    raw = f"{request.get_host()}|{get_language()}|{request.path}|{request.META.get('QUERY_STRING', '')}"
    return PAGE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def _may_use_cache(request) -> bool:
    """Only what every anonymous visitor sees alike: GET or HEAD, not logged in, no messages waiting (they are
    shown on the page and belong to this visitor), and no query string (the listing's cost calculator) except
    on the search page, where the query string is the search (stored per address)."""
    return (request.method in ("GET", "HEAD")
            and (not request.META.get("QUERY_STRING") or request.path == reverse("listing_search"))
            and not request.user.is_authenticated and len(get_messages(request)) == 0)


def _public(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE)
    # The same address shows another page to a logged-in visitor: shared caches must key on the cookie.
    patch_vary_headers(response, ["Cookie"])
    return response


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
    patch_vary_headers(response, ["Cookie"])
    return response


def page_cache_seconds() -> int:
    """How long a rendered page is kept. A page rendered from the replica (marketplace/replica) may show rows a
    moment older than the version tokens it is stored under (a change committed on the primary, not yet applied
    on a lagging replica): kept only for the lag the platform allows (REPLICA_STICKY_SECONDS), not for the
    page cache's full time, so a withdrawn or repriced listing is never shown stale for longer than that."""
    return min(PAGE_SECONDS, int(settings.REPLICA_STICKY_SECONDS)) if request_read_replica() else PAGE_SECONDS


class ListingPageCacheMiddleware:
    """Serves stored anonymous listing pages (with ETag and 304) and stores the ones the pages marked. Goes
    after the session, authentication and message middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _may_use_cache(request):
            response = self.get_response(request)
            if getattr(request, _REQUEST_MARK, None) is not None:
                _private(response)
            return response
        key = _page_key(request)
        found = cache.get_many([ALL_KEY, key])
        all_token, entry = found.get(ALL_KEY), found.get(key)
        if entry is not None and all_token is not None and entry["all"] == all_token:
            tokens = cache.get_many(list(entry["tokens"]))
            if tokens == entry["tokens"]:
                return self._hit(request, entry)
        if all_token is None:
            cache.add(ALL_KEY, _new_token(), timeout=None)
            all_token = cache.get(ALL_KEY)
        response = self.get_response(request)
        mark = getattr(request, _REQUEST_MARK, None)
        if mark is None:
            return response
        session = getattr(request, "session", None)
        if (response.status_code != 200 or response.streaming or response.cookies
                or request.META.get("CSRF_COOKIE_NEEDS_UPDATE") or (session is not None and session.modified)):
            # Not a page every visitor may share (an error, or a render that set a cookie, wrote to the session
            # or asked for a CSRF token, which would then be in the HTML): sent once, to this visitor only.
            return _private(response)
        set_response_etag(response)
        cache.set(key, {"all": all_token, "tokens": mark["tokens"], "declaration_id": mark["declaration_id"],
                        "holder_id": mark["holder_id"], "content": response.content,
                        "content_type": response["Content-Type"], "etag": response["ETag"]}, page_cache_seconds())
        return get_conditional_response(request, etag=response["ETag"], response=_public(response))

    def _hit(self, request, entry: dict) -> HttpResponse:
        if entry["declaration_id"] is not None and request.method == "GET":
            # The page would have counted this view while rendering (marketplace.listings.services.listing_context).
            funnel.listing_viewed(request=request, declaration=Declaration(
                pk=entry["declaration_id"], holder_id=entry["holder_id"],
                state=DeclarationState.FILED))  # any licensable state: the view only counts for those
        response = HttpResponse(entry["content"], content_type=entry["content_type"])
        response["ETag"] = entry["etag"]
        return get_conditional_response(request, etag=entry["etag"], response=_public(response))
