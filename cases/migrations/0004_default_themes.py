from django.db import migrations

THEMES = [
    ("sleep", "Sömn", "Sleep"),
    ("potty-training", "Blöjavvänjning", "Potty training"),
    ("language", "Språk", "Language"),
    ("behaviour", "Beteende", "Behaviour"),
    ("eating", "Mat och ätande", "Eating"),
    ("screen-time", "Skärmtid", "Screen time"),
    ("parenting", "Föräldraskap", "Parenting"),
    ("economy", "Ekonomi och boende", "Money and housing"),
    ("separation", "Separation och lämning", "Separation and drop-off"),
    ("school-attendance", "Skolnärvaro", "School attendance"),
]


def create(apps, schema_editor):
    Theme = apps.get_model("cases", "Theme")
    for order, (code, sv, en) in enumerate(THEMES):
        Theme.objects.get_or_create(
            code=code, defaults={"name_sv": sv, "name_en": en, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
