"""Indexes on Patent that no query uses, dropped: every import pays for each one on every row it writes (issue 18:
COPY into the patent table with its twelve PostgreSQL indexes took three times as long as into the bare table).

- holder_id alone: the three composite indexes (holder, technology_field / grade_computed / -filing_date) start
  with holder_id and serve every lookup by holder, including the foreign key's PROTECT check.
- under_open_licence: no query selects patents by it (it is read as a column, set by the licensing app); an
  index on a two-valued column would not be chosen anyway.
- number's varchar_pattern_ops index (PostgreSQL only, created by Django for every unique CharField): it serves
  LIKE 'prefix%' only, and nothing looks numbers up by prefix; the inventory search uses icontains
  (UPPER(number) LIKE '%..%'), which no btree serves. Equality and IN lookups use the unique index, which stays.
"""

from django.db import migrations, models
import django.db.models.deletion

NUMBER_LIKE_INDEX = "patents_patent_number_89ef7133_like"


def drop_number_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NUMBER_LIKE_INDEX}")


def restore_number_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NUMBER_LIKE_INDEX} ON patents_patent "
                              "(number varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ("parties", "0002_notification"),
        ("patents", "0005_refusal_grounds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="patent",
            name="holder",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="patents", to="parties.organisation"),
        ),
        migrations.AlterField(
            model_name="patent",
            name="under_open_licence",
            field=models.BooleanField(default=False, verbose_name="under open licence"),
        ),
        migrations.RunPython(drop_number_like_index, restore_number_like_index),
    ]
