"""Store a heavy day's knocks before the surge (benchmarks/load_weekend.py --scenario surge).

    python benchmarks/load/heavy_day.py var/load/users.json 200000

Writes what the load's canvassers' pushes would have written over the day so
far, without going through HTTP: the knocks (trusted, as the push stores a
knock at a door of its canvasser's assignment) and, in the same transaction,
one change-log entry each (kind "attempt", numbered from the organization's
counter under its lock, as canvass/sync/services.py: attempts_push does),
both by COPY. The knocks are spread over the doors of every turf the load's
canvassers hold, each made by one of that turf's four canvassers on their
assignment, at a moment between the start of the day (8 hours ago, or local
midnight if later) and two minutes ago; the assignments are moved to start
when the day started, so every knock falls inside its assignment. Then the
stats are brought up to date as the worker would (sweep, recompute the dirty
days), so the dashboard counts the day's knocks. The caller ANALYZEs.

Run after the load's users are made (benchmarks/load/setup_users.py) and
after earlier runs' knocks were deleted (load_weekend.py does both).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
import uuid
import zoneinfo
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldops.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.models import Assignment, ContactAttempt, ResultCode, TurfDoor  # noqa: E402
from canvass.stats.queue import stats_sweep  # noqa: E402
from canvass.stats.services import stats_process_dirty  # noqa: E402
from canvass.sync.serializers import AttemptItem  # noqa: E402
from fieldops.changelog import _counter_advance  # noqa: E402
from fieldops.models import SyncChange, SyncCounter  # noqa: E402

User = get_user_model()
# How often each result comes up on a busy day (codes the organization lacks are skipped).
RESULT_WEIGHTS = {"not_home": 55, "contact": 25, "refused": 8, "moved": 3, "inaccessible": 3, "deceased": 1}
DAY_HOURS = 8


def main(users_file: Path, knocks: int) -> None:
    started = time.perf_counter()
    records = json.loads(users_file.read_text())["canvassers"]
    assignment_ids = sorted({r["assignment"] for r in records})
    assignments = {
        a["pk"]: a
        for a in Assignment.objects.filter(pk__in=assignment_ids).values(
            "pk", "turf_id", "campaign_id", "organization_id", "organization__timezone"
        )
    }
    user_ids = dict(User.objects.filter(username__in=[r["username"] for r in records]).values_list("username", "pk"))
    canvassers_of: dict[int, list[tuple[int, str]]] = {}  # assignment -> [(user id, username)]
    for record in records:
        canvassers_of.setdefault(record["assignment"], []).append((user_ids[record["username"]], record["username"]))
    doors_of: dict[int, list[int]] = {}
    turf_ids = {a["turf_id"] for a in assignments.values()}
    for turf_id, door_id in TurfDoor.objects.filter(turf_id__in=turf_ids).values_list("turf_id", "door_id"):
        doors_of.setdefault(turf_id, []).append(door_id)
    organization_ids = {a["organization_id"] for a in assignments.values()}
    if len(organization_ids) != 1:
        raise SystemExit(f"expected the load's assignments in one organization, found {len(organization_ids)}")
    org_id = organization_ids.pop()
    zone = zoneinfo.ZoneInfo(next(iter(assignments.values()))["organization__timezone"])
    codes = dict(ResultCode.objects.filter(organization_id=org_id, is_active=True).values_list("code", "pk"))
    weighted = [(code, weight) for code, weight in RESULT_WEIGHTS.items() if code in codes] or [
        (code, 1) for code in codes
    ]
    now = timezone.now()
    midnight = dt.datetime.combine(now.astimezone(zone).date(), dt.time(0, 1), tzinfo=zone)
    day_start = max(now - dt.timedelta(hours=DAY_HOURS), midnight)
    day_end = now - dt.timedelta(minutes=2)
    span = (day_end - day_start).total_seconds()
    # The turfs that have doors and canvassers; each knock at one of them, equally likely.
    worked = [a for a in assignments.values() if doors_of.get(a["turf_id"]) and canvassers_of.get(a["pk"])]
    rng = random.Random(17)
    rows = []
    for _ in range(knocks):
        assignment = rng.choice(worked)
        door = rng.choice(doors_of[assignment["turf_id"]])
        user_id, username = rng.choice(canvassers_of[assignment["pk"]])
        result = rng.choices([c for c, _ in weighted], [w for _, w in weighted])[0]
        support = rng.choice([None, 1, 2, 3, 4, 5]) if result == "contact" else None
        recorded = day_start + dt.timedelta(seconds=rng.uniform(0, span))
        # Pushed at the next sync round, 0 to 30 s later; a phone's clock is right.
        received = recorded + dt.timedelta(seconds=rng.uniform(0.5, 30))
        knock_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        item = AttemptItem(
            id=knock_id,
            door=door,
            assignment=assignment["pk"],
            person=None,
            result=result,
            support_level=support,
            answers={},
            notes="",
            recorded_at=recorded.astimezone(dt.UTC),
            lat=None,
            lng=None,
            accuracy_m=None,
        )
        rows.append((item, assignment, user_id, f"load-{username}", received))
    rows.sort(key=lambda row: row[4])
    made = time.perf_counter()

    attempt_columns = [
        "id",
        "organization_id",
        "campaign_id",
        "door_id",
        "person_id",
        "canvasser_id",
        "assignment_id",
        "result_code_id",
        "support_level",
        "answers",
        "notes",
        "device_id",
        "recorded_at",
        "received_at",
        "corrected_at",
        "lat",
        "lng",
        "accuracy_m",
        "distance_m",
        "off_list",
        "far_from_door",
        "too_fast",
        "review",
        "held_reason",
        "reviewed_by_id",
        "reviewed_at",
        "content_hash",
        "push_id",
    ]
    change_columns = ["organization_id", "seq", "kind", "object_id", "door_id", "user_id", "device_id", "created_at"]
    with transaction.atomic():
        Assignment.objects.filter(pk__in=assignment_ids, starts_at__gt=day_start).update(starts_at=day_start)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's cursor: COPY
            with raw.copy(
                f"COPY {ContactAttempt._meta.db_table} ({', '.join(attempt_columns)}) FROM STDIN"  # noqa: S608
            ) as copy:
                for item, assignment, user_id, device, received in rows:
                    copy.write_row(
                        (
                            item.id,
                            org_id,
                            assignment["campaign_id"],
                            item.door,
                            None,
                            user_id,
                            item.assignment,
                            codes[item.result],
                            item.support_level,
                            "{}",
                            "",
                            device,
                            item.recorded_at,
                            received,
                            item.recorded_at,
                            None,
                            None,
                            None,
                            None,
                            False,
                            False,
                            False,
                            "trusted",
                            "",
                            None,
                            None,
                            item.content_hash,
                            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        )
                    )
            # Last, as the push does: the counter lock, held to commit, numbers the entries.
            SyncCounter.objects.bulk_create([SyncCounter(organization_id=org_id)], ignore_conflicts=True)
            last = _counter_advance(org_id, len(rows))
            assert last is not None
            first = last - len(rows) + 1
            with raw.copy(
                f"COPY {SyncChange._meta.db_table} ({', '.join(change_columns)}) FROM STDIN"  # noqa: S608
            ) as copy:
                for seq, (item, _assignment, user_id, device, received) in enumerate(rows, first):
                    copy.write_row(
                        (org_id, seq, SyncChange.Kind.ATTEMPT.value, item.id, item.door, user_id, device, received)
                    )
    stored = time.perf_counter()
    marked = stats_sweep()
    recomputed = stats_process_dirty()
    done = time.perf_counter()
    doors = len({row[0].door for row in rows})
    print(
        f"heavy day: {len(rows):,} knocks at {doors:,} doors of {len(worked)} turfs by {len(user_ids)} canvassers, "
        f"{day_start.astimezone(zone):%H:%M}-{day_end.astimezone(zone):%H:%M} local, with {len(rows):,} change-log "
        f"entries (seq {first}-{last}); made in {made - started:.0f} s, stored in {stored - made:.0f} s; "
        f"stats: {marked} days marked, {recomputed} recomputed in {done - stored:.0f} s"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
