import pytest


@pytest.fixture(autouse=True)
def _fresh_statistics_boards():
    """The local-memory cache outlives each test's database, and factories write rows without the change
    listeners: no test is served a dashboard another test cached (marketplace.office.cache)."""
    from django.core.cache import cache

    from marketplace.office.cache import VERSION_KEY

    cache.delete(VERSION_KEY)
