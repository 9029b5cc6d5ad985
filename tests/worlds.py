"""Data built once for a whole test module, for tests that read it (the permission matrix's way).

    @pytest.fixture(scope="module")
    def market(django_db_setup, django_db_blocker):
        with module_world(django_db_blocker):
            yield build_market()

The data is written in an outer transaction that is rolled back when the module is done. Each test's own
transaction (the `django_db` mark) nests inside it as a savepoint rolled back after the test, so a test that
writes leaves the world as it found it in the database. Objects handed to tests are shared by every test of
the module: a test must not change them in memory (refresh_from_db, attributes) in a way others would see."""

from contextlib import contextmanager

from django.core.cache import caches
from django.db import transaction
from django.test import override_settings


@contextmanager
def module_world(django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for cache in caches.all():  # nothing cached about the world outlives it
                cache.clear()


class ModuleSettings:
    """pytest-django's `settings` for a whole module: each assignment is an override, undone by restore()."""

    def __init__(self):
        object.__setattr__(self, "overrides", [])

    def __setattr__(self, name, value):
        override = override_settings(**{name: value})
        override.enable()
        self.overrides.append(override)

    def restore(self):
        for override in reversed(self.overrides):
            override.disable()
