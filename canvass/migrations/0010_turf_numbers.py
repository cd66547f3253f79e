"""Turf numbers (issue 16): a number per turf, unique among the campaign's active turfs,
and turf names unique among active turfs only (a re-cut may reuse an archived turf's name).

Existing turfs are numbered per campaign in the order they were made: the active
ones 1, 2, 3…, then the archived ones on from there (so no archived turf shares a
number with an active one after the migration; a later re-cut may reuse them).
"""

from django.db import migrations, models


def number_existing_turfs(apps, schema_editor):
    Turf = apps.get_model("canvass", "Turf")
    numbered = []
    counters: dict[int, int] = {}
    # Active before archived, each in the order they were made.
    turfs = Turf.objects.order_by("campaign_id", models.Case(models.When(status="active", then=0), default=1), "pk")
    for turf in turfs.only("pk", "campaign_id", "status").iterator():
        counters[turf.campaign_id] = counters.get(turf.campaign_id, 0) + 1
        turf.number = counters[turf.campaign_id]
        numbered.append(turf)
    Turf.objects.bulk_update(numbered, ["number"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("canvass", "0009_knock_review"),
        ("fieldops", "0003_change_log_from_canvass"),
        ("turf", "0002_door_alias"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="turf",
            name="turf_name_unique_per_campaign",
        ),
        migrations.AddField(
            model_name="turf",
            name="number",
            field=models.PositiveIntegerField(
                blank=True, help_text="The turf's number in the campaign, as volunteers know it.", null=True
            ),
        ),
        migrations.RunPython(number_existing_turfs, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="turf",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "active")),
                fields=("campaign", "name"),
                name="turf_name_unique_among_active",
            ),
        ),
        migrations.AddConstraint(
            model_name="turf",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "active")),
                fields=("campaign", "number"),
                name="turf_number_unique_among_active",
            ),
        ),
    ]
