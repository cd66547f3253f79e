"""Give the standard result codes that exist already their Spanish label.

Only codes whose label_es is blank: an organizer may have typed one since.
The labels are copied here, not imported from canvass/result_codes.py, so this
migration keeps doing what it did when that file changes.
"""

from django.db import migrations

LABELS_ES = {
    "canvassed": "Contactado",
    "not_home": "No está en casa",
    "come_back": "Volver más tarde",
    "refused": "Rechazó",
    "literature_dropped": "Folleto dejado",
    "language_barrier": "Barrera de idioma",
    "inaccessible": "Inaccesible",
    "moved": "Se mudó",
    "deceased": "Falleció",
    "hostile": "Hostil",
}


def fill_labels_es(apps, schema_editor):
    ResultCode = apps.get_model("canvass", "ResultCode")
    for code, label_es in LABELS_ES.items():
        ResultCode.objects.filter(code=code, label_es="").update(label_es=label_es)


class Migration(migrations.Migration):
    dependencies = [
        ("canvass", "0005_spanish_texts"),
    ]

    operations = [
        migrations.RunPython(fill_labels_es, migrations.RunPython.noop),
    ]
