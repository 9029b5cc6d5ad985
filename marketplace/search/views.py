"""The listing search page and the listings API: both parse the query string and call the same selector."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info
from django.views.decorators.http import require_GET

from marketplace.listings.cache import listing_cache_mark_search
from marketplace.replica.router import reads_from_replica
from marketplace.search.documents import SEARCH_VERSION_KEY, search_version
from marketplace.search.selectors import listing_search


def _search(request):
    return listing_search(data=request.GET, language=get_language() or "zh-hans", page=request.GET.get("page", 1))


def _toggle_url(params, name, value) -> str:
    """The shareable query string with one facet value switched on (or off when it is the current one)."""
    params = params.copy()
    params.pop("page", None)
    current = params.get(name, "")
    params.pop(name, None)
    if current.upper() != value.upper():
        params[name] = value
    return "?" + params.urlencode()


def _language_links(request) -> list[dict]:
    # Links rather than the language form with its CSRF token, so the page can be stored for every anonymous
    # visitor (marketplace.listings.cache); the search itself (the query string) goes along.
    current = get_language()
    return [{"code": code, "name": get_language_info(code)["name_local"], "current": code == current,
             "url": translate_url(request.get_full_path(), code)} for code, _name in settings.LANGUAGES]


@require_GET
@reads_from_replica
def listing_search_page(request):
    # Read before searching: a listing changed while this page renders makes the stored copy a miss. (The cache
    # stores only anonymous visitors' pages and marks the others private.)
    listing_cache_mark_search(request=request, tokens={SEARCH_VERSION_KEY: search_version()})
    result = _search(request)
    form = result.filterset.form
    facets = [{"name": name, "label": form.fields[name].label,
               "values": [{"value": v, "href": _toggle_url(request.GET, name, v.value)} for v in values]}
              for name, values in result.facets.items()]
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "marketplace/search.html", {
        "result": result, "form": form, "facets": facets, "querystring": params.urlencode(),
        "language_links": _language_links(request),
    })


@require_GET
@reads_from_replica
def api_listings(request):
    result = _search(request)
    return JsonResponse({
        "count": result.total,
        "page": result.page_number,
        "num_pages": result.num_pages,
        "sort": result.sort,
        "results": [hit.as_dict() for hit in result.hits],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                          for v in values] for name, values in result.facets.items()},
    }, json_dumps_params={"ensure_ascii": False})
