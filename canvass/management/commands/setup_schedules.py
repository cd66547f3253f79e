"""Create (or correct) the django-q2 schedules fieldops needs. Idempotent.

    python manage.py setup_schedules

stats-aggregate: every minute, sweep recently received knocks into the
dirty buckets and recompute them: the safety net behind the coalesced task
each push queues (docs/stats.md).

sync-log-prune: daily, drop change-log entries older than SYNC_LOG_KEEP_DAYS
(docs/sync-protocol.md, "Pruning").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "stats-aggregate",
        "func": "canvass.stats.tasks.stats_aggregate",
        "kwargs": "{'sweep': True}",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "sync-log-prune",
        "func": "fieldops.tasks.sync_log_prune",
        "kwargs": "{}",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
]


class Command(BaseCommand):
    help = "Create or update the periodic background tasks (django-q2 schedules)."

    @transaction.atomic
    def handle(self, *args, **options):
        for spec in SCHEDULES:
            name = spec["name"]
            defaults = {k: v for k, v in spec.items() if k != "name"}
            # Several rows of one name (made by hand) would all run: keep one.
            extra = Schedule.objects.filter(name=name).order_by("pk").values_list("pk", flat=True)[1:]
            Schedule.objects.filter(pk__in=list(extra)).delete()
            schedule, created = Schedule.objects.update_or_create(name=name, defaults=defaults)
            every = "every minute" if spec["schedule_type"] == Schedule.MINUTES else "daily"
            self.stdout.write(f"{'Created' if created else 'Checked'} schedule {name}: {schedule.func} {every}")
