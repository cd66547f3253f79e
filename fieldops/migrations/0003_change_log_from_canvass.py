"""The change log (SyncCounter, SyncChange) comes from the canvass app: the
tables canvass made (canvass_synccounter, canvass_syncchange) are taken over as
they are, state only (see canvass/migrations/0008)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("fieldops", "0002_device_tokens_throttle_counters"),
        ("canvass", "0008_change_log_moves_to_fieldops"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SyncCounter",
                    fields=[
                        (
                            "organization",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="sync_counter",
                                serialize=False,
                                to="fieldops.organization",
                            ),
                        ),
                        ("last_seq", models.BigIntegerField(default=0)),
                    ],
                    options={"db_table": "canvass_synccounter"},
                ),
                migrations.CreateModel(
                    name="SyncChange",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "seq",
                            models.BigIntegerField(help_text="Position in the organization's log; the pull cursor."),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("attempt", "Contact attempt"),
                                    ("assignment", "Assignment"),
                                    ("turf", "Turf doors"),
                                    ("door", "Door"),
                                    ("person", "Person"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("object_id", models.CharField(max_length=64)),
                        ("door_id", models.BigIntegerField(blank=True, null=True)),
                        ("assignment_id", models.BigIntegerField(blank=True, null=True)),
                        ("turf_id", models.BigIntegerField(blank=True, null=True)),
                        ("user_id", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sync_changes",
                                to="fieldops.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "canvass_syncchange",
                        "ordering": ["organization", "seq"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("organization", "seq"), name="sync_change_seq_unique_per_org"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
