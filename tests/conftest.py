import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests judge correctness, not speed: on a machine shared with other work (CI, the suites side by side)
# one stalled draw or example must not fail them (the too_slow health check and the 200 ms deadline did, once).
settings.register_profile("suite", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("suite")

# Fixtures through which a test reaches the test database (item.fixturenames is the whole closure, so a fixture
# built on one of these counts too). pytest-django refuses the database to every other test.
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup", "django_db_reset_sequences",
                     "django_db_serialized_rollback"}


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only", action="store_true", default=False,
        help="run only the tests that use the test database (make test's second backend: a test that cannot "
             "reach the database gives the same answer on both, so the SQLite pass runs it once)")


def uses_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


# Data built once per module (tests/worlds.py module_world) behind a function fixture of this name: a test that
# does not ask for it must not run inside it (it lives until its module ends), so within each module those that
# ask for one run last, grouped by world.
MODULE_WORLD_FIXTURES = ("seeded_demo", "tiny_market", "generated", "generated_market", "search_market")


def _module_worlds_last(items) -> None:
    start = 0
    while start < len(items):
        module = getattr(items[start], "module", None)
        end = start + 1
        while end < len(items) and getattr(items[end], "module", None) is module:
            end += 1

        def world(item):
            names = getattr(item, "fixturenames", ())
            return next((i + 1 for i, name in enumerate(MODULE_WORLD_FIXTURES) if name in names), 0)

        items[start:end] = sorted(items[start:end], key=world)  # stable: the file's order otherwise
        start = end


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    _module_worlds_last(items)
    if not config.getoption("--database-tests-only"):
        return
    kept, dropped = [], []
    for item in items:
        # A one_backend test (pyproject.toml) answers the same on either engine and is slow: SQLite runs it.
        (kept if uses_database(item) and not item.get_closest_marker("one_backend") else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's default language. A request through LocaleMiddleware leaves its language
    active in the thread, which would otherwise leak into the next test's reverse() and gettext."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_listing_pages():
    """The local-memory cache outlives each test's database: no test is served a listing page another test
    stored (marketplace.listings.cache)."""
    from django.core.cache import cache

    from marketplace.listings.cache import ALL_KEY

    cache.delete(ALL_KEY)  # no token: every stored page is a miss (without the database listing_sync needs)


@pytest.fixture(autouse=True)
def _fresh_search_columns():
    """Nor does a test search the facet columns another test's (rolled back) documents were read into: a new
    search version, whose change records no copy can follow (marketplace.search.facets)."""
    from django.core.cache import cache

    from marketplace.search.documents import SEARCH_VERSION_KEY
    from marketplace.search.facets import facet_columns_forget

    cache.delete(SEARCH_VERSION_KEY)
    facet_columns_forget()


@pytest.fixture
def demo_pages(db):
    """The zh-hans home page with its English translation and the guide, made by the demo seeder."""
    from marketplace.demo.seed import seed_pages

    seed_pages()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url():
    """A real localstripe process on a free loopback port, its state in memory only (never the shared
    /tmp pickle), with the stripe library pointed at it for the whole session."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "localstripe_server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.1)
    previous = stripe.api_base
    stripe.api_base = url
    os.environ["STRIPE_API_BASE"] = url
    yield url
    stripe.api_base = previous
    proc.terminate()
    proc.wait(timeout=10)
