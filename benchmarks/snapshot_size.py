"""Benchmark the snapshot pull of a 60-door turf on a quiet day and on a busy one (issue 17).

    .venv/bin/python benchmarks/snapshot_size.py                      # a temporary SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> .venv/bin/python benchmarks/snapshot_size.py

Migrates the database it is given and adds a scratch organization (a new one
on every run). A 60-door turf and its canvasser; the snapshot pull
(GET /api/v1/sync/pull/ without a cursor, in-process through DRF) is measured
with 0 knocks in the database, then with 200,000 knocks of the day in the
campaign: 6,000 doors of the campaign knocked by 100 other canvassers, about
2,000 of the knocks at the turf's own 60 doors (the worst case for the
snapshot: a turf knocked over and over). Prints the bytes, the time (median
of 5) and the queries of each, and beside them, as the baseline from the same
run, what the first version of the protocol sent: every knock that counts at
the turf's doors. Goal: the same size and time with 0 and 200,000 knocks.
On PostgreSQL the tables are ANALYZEd after loading (autovacuum may be off).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldops.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

KNOCKS = int(os.environ.get("SNAPSHOT_BENCH_KNOCKS", "200000"))
OTHER_DOORS = 6000
TURF_DOORS = 60


def measure(client: APIClient) -> tuple[int, float, int, int]:
    """(bytes, median ms of 5, queries, attempts) of the whole snapshot (every page)."""
    times = []
    size = queries = attempts = 0
    for _ in range(5):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            cursor, size, attempts = None, 0, 0
            while True:
                response = client.get("/api/v1/sync/pull/", {"cursor": cursor} if cursor else {})
                assert response.status_code == 200, response.content
                size += len(response.content)
                page = json.loads(response.content)
                attempts += len(page["attempts"])
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
        times.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    return size, statistics.median(times), queries, attempts


def main() -> None:
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from canvass.campaigns.services import result_codes_ensure_standard
    from canvass.models import Assignment, AssignmentCanvasser, Campaign, ContactAttempt, ResultCode, Turf, TurfDoor
    from fieldops.models import Membership, Organization
    from turf.models import Door

    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"snap-{tag}", name="Snapshot bench")
    result_codes_ensure_standard(organization=org)
    codes = list(ResultCode.objects.filter(organization=org).values_list("pk", flat=True))
    User = get_user_model()
    canvasser = User.objects.create(username=f"carla-{tag}")
    Membership.objects.create(user=canvasser, organization=org)
    others = User.objects.bulk_create(User(username=f"walker{i}-{tag}") for i in range(100))
    Membership.objects.bulk_create(Membership(user=u, organization=org) for u in others)
    campaign = Campaign.objects.create(organization=org, slug="snap", name="Snapshot")
    doors = Door.objects.bulk_create(
        Door(
            organization=org,
            address_key=f"{i}|SNAP|{tag}",
            number=str(i),
            street_name="SNAP",
            lat=33.99 + (i % 100) * 0.0001,
            lng=-118.46 + (i // 100) * 0.0001,
        )
        for i in range(OTHER_DOORS)
    )
    turf = Turf.objects.create(organization=org, campaign=campaign, name="T")
    TurfDoor.objects.bulk_create(TurfDoor(turf=turf, door=d, position=i) for i, d in enumerate(doors[:TURF_DOORS]))
    assignment = Assignment.objects.create(
        organization=org, campaign=campaign, turf=turf, starts_at=timezone.now() - dt.timedelta(hours=8)
    )
    AssignmentCanvasser.objects.create(assignment=assignment, user=canvasser)
    client = APIClient()
    client.force_authenticate(canvasser)

    print(f"database: {connection.vendor}; a {TURF_DOORS}-door turf; {OTHER_DOORS:,} doors in the campaign")
    quiet = measure(client)

    # The day's knocks: 1 in 100 at the turf's doors (about 2,000 of 200,000), the rest across the campaign.
    start = timezone.now() - dt.timedelta(hours=8)
    loaded = time.perf_counter()
    rows = []
    for i in range(KNOCKS):
        door = doors[i % TURF_DOORS] if i % 100 == 0 else doors[i % OTHER_DOORS]
        at = start + dt.timedelta(seconds=i * 8 * 3600 / KNOCKS)
        rows.append(
            ContactAttempt(
                id=uuid.uuid4(),
                organization_id=org.pk,
                campaign_id=campaign.pk,
                door_id=door.pk,
                canvasser_id=others[i % len(others)].pk,
                result_code_id=codes[i % len(codes)],
                recorded_at=at,
                received_at=at,
                corrected_at=at,
                device_id="bench",
            )
        )
        if len(rows) == 20000:
            ContactAttempt.objects.bulk_create(rows, batch_size=2000)
            rows = []
    ContactAttempt.objects.bulk_create(rows, batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    at_turf = ContactAttempt.objects.counted().filter(door__in=doors[:TURF_DOORS]).count()
    took = time.perf_counter() - loaded
    print(f"loaded {KNOCKS:,} knocks of the day ({at_turf:,} at the turf's doors) in {took:.0f} s")
    busy = measure(client)

    baseline_bytes = len(
        json.dumps(
            [
                {
                    "id": str(pk),
                    "door": d,
                    "person": None,
                    "assignment": None,
                    "result": "not_home",
                    "canvasser": c,
                    "corrected_at": "2026-11-30T10:00:00.000000-08:00",
                }
                for pk, d, c in ContactAttempt.objects.counted()
                .filter(door__in=doors[:TURF_DOORS])
                .values_list("pk", "door_id", "canvasser_id")
            ]
        )
    )
    print()
    print(f"{'snapshot of the turf':<34}{'bytes':>10}{'ms (median of 5)':>18}{'queries':>9}{'knocks sent':>13}")
    rows_out = (("0 knocks in the database", quiet), (f"{KNOCKS:,} knocks of the day", busy))
    for label, (size, ms, queries, attempts) in rows_out:
        print(f"{label:<34}{size:>10,}{ms:>18.1f}{queries:>9}{attempts:>13,}")
    print(
        f"baseline, same run: version 1 sent every knock at the turf's doors: {at_turf:,} knocks, "
        f"about {baseline_bytes:,} bytes of knocks alone"
    )
    grown = busy[0] / quiet[0]
    print(f"size with {KNOCKS:,} knocks / size with 0: {grown:.2f} (the turf's 60 doors each gain one latest knock)")


if __name__ == "__main__":
    main()
