import pytest

from tests.worlds import module_world


@pytest.fixture(scope="module")
def _tiny_market_world(django_db_setup, django_db_blocker):
    # Generated once for the module (tests.worlds): its fifteen tests read it or write inside their own savepoint,
    # and generating it for each of them was ~25 s of the module on each backend.
    from bench.generate import generate

    with module_world(django_db_blocker):
        yield generate(patents=300, licences=150, needs=12, seed=3)


@pytest.fixture
def tiny_market(_tiny_market_world, db):
    """A small generated market (bench.generate): 300 patents, about 110 listings, 150 licences, 12 needs."""
    return _tiny_market_world
