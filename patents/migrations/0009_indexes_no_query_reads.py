"""Indexes that no query reads, dropped: every import writes each of them for every patent and audit entry it
stores (issue 18; COPY of 18,753 patents into the 124k-row table took ~15 % less without the first three).

- Patent.ipc_subclass (and its varchar_pattern_ops twin on PostgreSQL): no query selects patents by subclass; the
  search's IPC filter reads the listings' documents (marketplace.models.ListingDocument has its own index) and the
  landscape only groups by it.
- Patent.last_batch: nothing reads patents by their last batch; it would serve only deleting a batch, which
  nothing does (the foreign key's SET NULL would then scan the table once).
- PatentChange.batch and PatentChange.by: a patent's history is read by patent (its own index stays). Deleting a
  batch or a user (nothing in the product does either) would scan the table once for the foreign key's SET NULL.

Dropped CONCURRENTLY on PostgreSQL (marketplace/parties/schema.py: the big tables stay writable), plainly on
SQLite; the state change is the plain AlterField (db_index=False), so no table is rebuilt."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

# (index, table, column definition) as Django named them when it created them (the same on both backends)
INDEXES = [
    ("patents_patent_ipc_subclass_03dae881", "patents_patent", "ipc_subclass"),
    ("patents_patent_ipc_subclass_03dae881_like", "patents_patent", "ipc_subclass varchar_pattern_ops"),
    ("patents_patent_last_batch_id_a5fcd99c", "patents_patent", "last_batch_id"),
    ("patents_patentchange_batch_id_29147044", "patents_patentchange", "batch_id"),
    ("patents_patentchange_by_id_143aae66", "patents_patentchange", "by_id"),
]


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop_indexes(apps, schema_editor):
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX {_concurrently(schema_editor)}IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for name, table, column in INDEXES:
        if postgresql or "pattern_ops" not in column:
            schema_editor.execute(f"CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS {name} ON {table} ({column})")


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("patents", "0008_holder_grades_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="patent",
                    name="ipc_subclass",
                    field=models.CharField(blank=True, max_length=4, verbose_name="IPC subclass"),
                ),
                migrations.AlterField(
                    model_name="patent",
                    name="last_batch",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                            to="patents.inventorybatch"),
                ),
                migrations.AlterField(
                    model_name="patentchange",
                    name="batch",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, related_name="changes",
                                            to="patents.inventorybatch"),
                ),
                migrations.AlterField(
                    model_name="patentchange",
                    name="by",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL,
                                            to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
    ]
