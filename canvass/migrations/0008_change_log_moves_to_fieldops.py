"""The change log (SyncCounter, SyncChange) moves to the core app, fieldops, so
that turf/ can write it too. Only Django's idea of the models moves: the tables
keep their names (fieldops' models set db_table), no data is copied."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("canvass", "0007_task_paths"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SyncChange"),
                migrations.DeleteModel(name="SyncCounter"),
            ],
            database_operations=[],
        ),
    ]
