"""The django-q2 tasks moved with the layout (canvass.tasks -> canvass.<capability>.tasks):
correct the dotted paths that Schedule rows store, so the every-minute stats sweep keeps running."""

from django.db import migrations

MOVED = {
    "canvass.tasks.stats_aggregate": "canvass.stats.tasks.stats_aggregate",
    "canvass.tasks.dashboard_render": "canvass.stats.tasks.dashboard_render",
    "canvass.tasks.turf_cut_job_run": "canvass.turfs.tasks.turf_cut_job_run",
}


def _rename(apps, mapping):
    Schedule = apps.get_model("django_q", "Schedule")
    for old, new in mapping.items():
        Schedule.objects.filter(func=old).update(func=new)


def forwards(apps, schema_editor):
    _rename(apps, MOVED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("canvass", "0006_result_code_labels_es"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
