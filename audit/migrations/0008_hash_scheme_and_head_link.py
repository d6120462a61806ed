"""Each event records how its hash is made (`Scheme`): the events stored until now keep the
first scheme and still verify. The chain head keeps the hash before the last append, which
the one-statement append on PostgreSQL returns, and on PostgreSQL the functions `audit_link`
and `audit_links` link events as `audit.models.link` does (`audit.services`).

SQLite adds a NOT NULL column by rebuilding the table, and the append-only triggers of
migration 0002 go with the old table, so they are made again (as in 0006)."""

from importlib import import_module

from django.db import migrations, models

restore_sqlite_triggers = import_module("audit.migrations.0006_hash_not_unique").restore_sqlite_triggers

# `audit.models.link` in SQL: an event's hash from the hash before it, its seq and the digest
# of its other fields (a SQL function of one expression: the planner inlines it).
LINK = """
CREATE OR REPLACE FUNCTION audit_link(prev_hash text, seq bigint, digest text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT encode(sha256(convert_to(prev_hash || ':' || seq || ':' || digest, 'UTF8')), 'hex')
$$
"""

# The links of the events appended after the head (head_hash, head_seq), one per digest, in
# order: seq, the hash before, the event's hash.
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
        hash := audit_link(prev_hash, seq, digest);
        RETURN NEXT;
    END LOOP;
END $$
"""


def create_links(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LINK)
        schema_editor.execute(LINKS)


def drop_links(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_links(text, bigint, text[])")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_link(text, bigint, text)")


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
            field=models.SmallIntegerField(
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
