"""Hostile search input, through HTTP as an attacker or a careless user would send it: queries that are
query-language syntax, control characters, essays or SQL, and nonsense facets and pages, on the search page,
the API and the needs board. Never a server error, and the query is shown escaped.

One published listing serves every query: it is built once for the module (tests/worlds.py), which is why these
tests live apart from test_hostile_inputs.py, whose tests each start from an empty database."""

import pytest
from django.urls import reverse

from marketplace.demo.seed import seed_pages
from marketplace.listings import services as listings
from tests.licensing.factories import DeclarationFactory, holder_admin
from tests.security.test_hostile_inputs import SCRIPT, UNICODE_EDGES
from tests.worlds import module_world

pytestmark = pytest.mark.django_db

SEARCH_QUERIES = [
    '"', "a OR", "*", "NEAR(电池", "电池 AND", "NOT", "OR OR OR", "AND", "title:电池", "^", "(", ")", "-电池", "+", "\\",
    "{}", "%", "_", "'; DROP TABLE patents_patent; --", "\x00", "电池\x00", "\x1b[31m", "\u202e", "💥",
    "x" * 5000, "电池" * 3000, "battery " * 2000, SCRIPT, *UNICODE_EDGES,
]
SEARCH_PARAMS = [
    {"page": "-1"}, {"page": "99999999999999999999"}, {"page": "x"}, {"technology_field": "9999999999999999999999"},
    {"technology_field": "-1"}, {"sort": "<x>"}, {"ipc": "H01M%"}, {"ipc": "x" * 10000}, {"grade": "Z"},
    {"price": "1e309"}, {"region": SCRIPT}, {"budget_min": "-5"}, {"budget_max": "1e30"},
]


@pytest.fixture(scope="module")
def market(django_db_setup, django_db_blocker):
    """One published listing under the demo pages."""
    with module_world(django_db_blocker):
        seed_pages()
        draft = DeclarationFactory()
        yield listings.declaration_file(declaration=draft, by=holder_admin(draft.holder))


@pytest.mark.parametrize("query", SEARCH_QUERIES, ids=lambda q: repr(q[:12]))
def test_search_and_the_needs_board_answer_any_query_without_a_server_error(client, market, query):
    for url in (reverse("listing_search"), reverse("api_listings"), reverse("need_board")):
        response = client.get(url, {"q": query})
        assert response.status_code == 200, (url, response.status_code)
    page = client.get(reverse("listing_search"), {"q": SCRIPT}).content.decode()
    assert SCRIPT not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("params", SEARCH_PARAMS, ids=lambda p: next(iter(p)))
def test_nonsense_facets_and_pages_are_ignored_not_errors(client, market, params):
    for url in (reverse("listing_search"), reverse("api_listings"), reverse("need_board")):
        assert client.get(url, params).status_code == 200, url
