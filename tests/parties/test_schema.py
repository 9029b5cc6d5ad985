"""The indexes added to big tables (marketplace/parties/schema.py) are built without blocking writes on
PostgreSQL (CREATE/DROP INDEX CONCURRENTLY, outside a transaction), and as plain indexes on SQLite."""

import pytest
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader

INDEX_MIGRATIONS = [
    ("licensing", "0008_withdrawal_and_recorded_statutory_indexes", ["declaration_withdrawal_at", "licence_basis_recorded"]),
    ("marketplace", "0018_statistics_funnel_indexes", ["declfact_funnel", "licfact_funnel"]),
    ("patents", "0008_holder_grades_index", ["patent_holder_grades"]),
]


def sqlmigrate(app: str, migration: str, *, backwards: bool = False) -> tuple[str, bool]:
    """What `manage.py sqlmigrate` prints, read on a connection of its own to the test database: CONCURRENTLY
    refuses to run inside a transaction, and the test's own connection is inside one. With whether the
    migration runs in one transaction."""
    own = connections.create_connection("default")
    try:
        loader = MigrationLoader(own, replace_migrations=False)
        plan = [(loader.graph.nodes[app, migration], backwards)]
        return "\n".join(loader.collect_sql(plan)), loader.get_migration(app, migration).atomic
    finally:
        own.close()


@pytest.mark.django_db
@pytest.mark.parametrize(("app", "migration", "indexes"), INDEX_MIGRATIONS)
def test_the_big_tables_indexes_are_built_concurrently_on_postgresql_and_plainly_on_sqlite(app, migration, indexes):
    (sql, atomic), (backwards, _atomic) = sqlmigrate(app, migration), sqlmigrate(app, migration, backwards=True)
    concurrently = connection.vendor == "postgresql"
    assert not atomic  # a concurrent build cannot run inside a transaction
    for name in indexes:
        assert (f'CREATE INDEX CONCURRENTLY "{name}"' in sql) is concurrently, sql
        assert f'CREATE INDEX "{name}"' in sql or concurrently, sql
        assert (f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"' in backwards) is concurrently, backwards
    if app == "patents":  # the index it replaces is dropped the same way
        assert ('DROP INDEX CONCURRENTLY IF EXISTS "patents_pat_holder__8e038f_idx"' in sql) is concurrently, sql
