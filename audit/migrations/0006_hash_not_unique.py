"""The hash is no longer unique: `seq` is, and the hash covers it. On PostgreSQL this drops the
unique index and its LIKE twin (two index inserts fewer per access event).

SQLite cannot drop a constraint in place: Django rebuilds the table, and the append-only
triggers of migration 0002 go with the old table, so they are made again here."""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_accessevent_no_update BEFORE UPDATE
       ON audit_accessevent BEGIN SELECT RAISE(ABORT, 'audit_accessevent is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_accessevent_no_delete BEFORE DELETE
       ON audit_accessevent BEGIN SELECT RAISE(ABORT, 'audit_accessevent is append-only'); END""",
]


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_alter_accessevent_action_alter_accessevent_purpose"),
    ]

    # Made again after the rebuild, whichever way the migration runs.
    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_triggers),
        migrations.AlterField(
            model_name="accessevent",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
