"""The copied unit becomes a required foreign key, and the statistics' index moves to it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0007_response_unit"),
    ]

    operations = [
        migrations.AlterField(
            model_name="response",
            name="unit",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="directory.unit",
            ),
        ),
        migrations.RemoveIndex(model_name="response", name="response_submitted_idx"),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(fields=["unit", "submitted_at"], name="response_unit_submitted_idx"),
        ),
    ]
