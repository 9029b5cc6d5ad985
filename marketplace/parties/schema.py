"""Migration operations shared by every app's migrations (kept on the ground floor, which every app may import).

An index added to a big table (patents, licences, the statistics facts) must not block writes while it builds:
on PostgreSQL it is built with CREATE INDEX CONCURRENTLY (and dropped with DROP INDEX CONCURRENTLY), which takes
no lock that stops inserts or updates. Django's AddIndexConcurrently / RemoveIndexConcurrently do that but call
the schema editor with `concurrently=True`, which only the PostgreSQL schema editor accepts, so on SQLite (the
tests' and the demo's database, where nothing else writes while migrating) they fall back to the plain
AddIndex / RemoveIndex. The migration state is the same as AddIndex / RemoveIndex, so makemigrations sees no change.

A migration using them must say `atomic = False`: CONCURRENTLY cannot run inside a transaction. If a concurrent
build fails, PostgreSQL leaves an INVALID index behind: drop it and migrate again."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex


class _ConcurrentlyOnPostgreSQL:
    """Runs the database side as `concurrent` on PostgreSQL and as `plain` elsewhere (the state is the same)."""

    concurrent: type
    plain: type

    def _how(self, schema_editor) -> type:
        return self.concurrent if schema_editor.connection.vendor == "postgresql" else self.plain

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._how(schema_editor).database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._how(schema_editor).database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexWithoutLocking(_ConcurrentlyOnPostgreSQL, AddIndexConcurrently):
    """AddIndex, built concurrently on PostgreSQL."""

    concurrent, plain = AddIndexConcurrently, AddIndex


class RemoveIndexWithoutLocking(_ConcurrentlyOnPostgreSQL, RemoveIndexConcurrently):
    """RemoveIndex, dropped concurrently on PostgreSQL."""

    concurrent, plain = RemoveIndexConcurrently, RemoveIndex
