"""The screening's unit on each response, for the regional statistics: one index then holds
both the region's units and the period (`response_unit_submitted_idx`), where before the
period's responses of the whole country were read and joined to their screenings.

The copy is filled in one statement before the column gets its foreign key and NOT NULL (in
the next migration, its own transaction): checked once over the table, not row by row.
See docs/performance.md for how long it took at 2,000,000 children."""

import django.db.models.deletion
from django.db import migrations, models


def copy_units(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = (
            "UPDATE screening_response r SET unit_id = s.unit_id"
            " FROM screening_screening s WHERE s.id = r.screening_id"
        )
    else:
        sql = (
            "UPDATE screening_response SET unit_id = (SELECT s.unit_id"
            " FROM screening_screening s WHERE s.id = screening_response.screening_id)"
        )
    schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("directory", "0001_initial"),
        ("screening", "0006_answer_positive_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="unit",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="directory.unit",
            ),
        ),
        migrations.RunPython(copy_units, migrations.RunPython.noop, elidable=False),
    ]
