"""The audit log (django-auditlog's table) is append-only on PostgreSQL: a trigger refuses UPDATE and DELETE, raw
SQL included. One UPDATE is let through: Django setting ``actor`` to NULL when the user is deleted (the entry keeps
``actor_email``, so it still says who acted), and only when nothing else in the row changes. TRUNCATE, which
needs the table's owner, stays possible (the test runner empties tables that way). An index on the holder each
entry is about serves the holders' view. SQLite (the embedded demo) has neither: there the application refuses
(marketplace/audit/recording.py)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % of entry % refused', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER auditlog_logentry_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE INDEX auditlog_logentry_holder ON auditlog_logentry (((additional_data -> 'holder')), "timestamp" DESC);
"""

DROP = """
DROP INDEX IF EXISTS auditlog_logentry_holder;
DROP TRIGGER IF EXISTS auditlog_logentry_append_only ON auditlog_logentry;
DROP FUNCTION IF EXISTS audit_log_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses % itself
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_pool_export_tape_csv"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
