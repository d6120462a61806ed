"""Each event records how its hash is made (`Scheme`): the events stored until now keep the
first scheme and still verify. The chain head keeps the hash before the last append, which
the one-statement append on PostgreSQL returns, and on PostgreSQL the function
`audit_links` links events as `audit.models.link` does (`audit.services._APPEND_THERE`).

SQLite adds a NOT NULL column by rebuilding the table, and the append-only triggers of
migration 0002 go with the old table, so they are made again (as in 0006)."""

from importlib import import_module

from django.db import migrations, models

restore_sqlite_triggers = import_module("audit.migrations.0006_hash_not_unique").restore_sqlite_triggers

# The links of the events appended after the head (head_hash, head_seq), one per digest of an
# event's other fields, in order: seq, the hash before, sha256("prev_hash:seq:digest").
LINKS = """
CREATE OR REPLACE FUNCTION audit_links(head_hash text, head_seq bigint, digests text[])
RETURNS TABLE (seq bigint, prev_hash text, hash text)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    digest text;
BEGIN
    hash := head_hash;
    seq := head_seq;
    FOREACH digest IN ARRAY digests LOOP
        prev_hash := hash;
        seq := seq + 1;
        hash := encode(sha256(convert_to(prev_hash || ':' || seq || ':' || digest, 'UTF8')), 'hex');
        RETURN NEXT;
    END LOOP;
END $$
"""


def create_links(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LINKS)


def drop_links(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_links(text, bigint, text[])")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_home_visit_end_and_cancel_actions"),
    ]

    # Made again after the rebuild, whichever way the migration runs.
    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_triggers),
        migrations.AddField(
            model_name="accessevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (1, "all fields in one document"),
                    (2, "previous hash, sequence number and a digest of the other fields"),
                ],
                default=1,
                verbose_name="hash scheme",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="chainhead",
            name="prev_hash",
            field=models.CharField(default="0" * 64, max_length=64),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
        migrations.RunPython(create_links, drop_links),
    ]
