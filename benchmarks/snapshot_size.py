"""Benchmark the snapshot pull of a 60-door turf on a quiet day and on a busy one (issue 17).

    .venv/bin/python benchmarks/snapshot_size.py                      # a temporary SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> .venv/bin/python benchmarks/snapshot_size.py

Migrates the database it is given and adds three scratch organizations (new
ones on every run), each a campaign of 6,000 doors with a 60-door turf and
its canvasser; the snapshot pull (GET /api/v1/sync/pull/ without a cursor,
every page, in-process through DRF) of each turf is measured:

- quiet: no knock in its campaign (measured first on the empty database, then
  again beside the others once they are loaded);
- light: one knock at each of the turf's doors (the most a snapshot can grow
  by: each door sends its one latest knock);
- busy: 200,000 knocks of the day in its campaign, by 100 other canvassers,
  about 4,000 of them at the turf's own 60 doors (the worst case: a turf
  knocked over and over).

Once everything is loaded the three are measured in interleaved rounds
(quiet, light, busy, quiet, …), so that a machine shared with other work
slows them alike. Prints the bytes, the time (median of
SNAPSHOT_BENCH_REPEAT rounds, default 21), the CPU time of this process
(Python and, on SQLite, the database) and the queries of each, and beside
them, as the baseline from the same run, what the first version of the
protocol sent: every knock that counts at the turf's doors.

Goal (issue 17): the same size and time with 0 and 200,000 knocks. "The same"
as this script checks it: the size with 200,000 knocks within 2 % of the
light day's (with 0 knocks the doors have no latest knock to send: the
difference is the 60 latest knocks, bounded by the turf, not by the day);
the time with 200,000 knocks within 20 % or 3 ms (whichever is larger) of the
time with 0, measured in the same rounds.
On PostgreSQL the tables are ANALYZEd after loading (autovacuum may be off).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scratch_django import setup_django  # noqa: E402 - a sibling module: benchmarks/ is on sys.path

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

KNOCKS = int(os.environ.get("SNAPSHOT_BENCH_KNOCKS", "200000"))
REPEAT = int(os.environ.get("SNAPSHOT_BENCH_REPEAT", "21"))
OTHER_DOORS = 6000
TURF_DOORS = 60
SIZE_TOLERANCE = 0.02  # bytes with 200,000 knocks against the light day's
TIME_TOLERANCE, TIME_SLACK_MS = 0.20, 3.0  # ms with 200,000 knocks against 0 knocks


@dataclass
class Snapshot:
    size: int  # bytes of every page
    ms: float  # median wall time of the whole snapshot
    cpu_ms: float  # median CPU time of this process (the database's own is not in it on PostgreSQL)
    queries: int
    attempts: int  # knocks sent


@dataclass
class Scratch:
    """One scratch organization's campaign, its doors (the turf's first), canvassers and codes."""

    org_id: int
    campaign_id: int
    doors: list[int]
    others: list[int]
    codes: list[int]
    client: APIClient


def snapshot_once(client: APIClient) -> tuple[int, float, float, int, int]:
    """(bytes, wall ms, CPU ms, queries, knocks sent) of one whole snapshot (every page)."""
    started, cpu = time.perf_counter(), time.process_time()
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
    cpu_ms = (time.process_time() - cpu) * 1000
    return size, (time.perf_counter() - started) * 1000, cpu_ms, len(captured), attempts


def measure(*clients: APIClient) -> list[Snapshot]:
    """Each client's snapshot, REPEAT interleaved rounds after one to warm up; medians."""
    for client in clients:
        snapshot_once(client)
    runs: list[list[tuple[int, float, float, int, int]]] = [[] for _ in clients]
    for _ in range(REPEAT):
        for client, found in zip(clients, runs, strict=True):
            found.append(snapshot_once(client))
    return [
        Snapshot(
            found[-1][0],
            statistics.median(r[1] for r in found),
            statistics.median(r[2] for r in found),
            found[-1][3],
            found[-1][4],
        )
        for found in runs
    ]


def make_turf(name: str) -> Scratch:
    from django.contrib.auth import get_user_model

    from canvass.campaigns.services import result_codes_ensure_standard
    from canvass.models import Assignment, AssignmentCanvasser, Campaign, ResultCode, Turf, TurfDoor
    from fieldops.models import Membership, Organization
    from turf.models import Door

    tag = f"{name}-{uuid.uuid4().hex[:8]}"
    org = Organization.objects.create(slug=f"snap-{tag}", name=f"Snapshot bench {name}")
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
    return Scratch(org.pk, campaign.pk, [d.pk for d in doors], [u.pk for u in others], codes, client)


def knock(turf: Scratch, i: int, door_id: int, at: dt.datetime) -> Any:
    from canvass.models import ContactAttempt

    return ContactAttempt(
        id=uuid.uuid4(),
        organization_id=turf.org_id,
        campaign_id=turf.campaign_id,
        door_id=door_id,
        canvasser_id=turf.others[i % len(turf.others)],
        result_code_id=turf.codes[i % len(turf.codes)],
        recorded_at=at,
        received_at=at,
        corrected_at=at,
        device_id="bench",
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    from canvass.models import ContactAttempt

    quiet_turf, light_turf, busy_turf = (make_turf(name) for name in ("quiet", "light", "busy"))
    print(f"database: {connection.vendor}; a {TURF_DOORS}-door turf; {OTHER_DOORS:,} doors in the campaign")
    print(f"load average at the start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    (empty,) = measure(quiet_turf.client)

    start = timezone.now() - dt.timedelta(hours=8)
    # A light day: the first knock of the morning at each of the turf's doors.
    ContactAttempt.objects.bulk_create(
        knock(light_turf, i, door, start) for i, door in enumerate(light_turf.doors[:TURF_DOORS])
    )
    # The busy day: 1 in 100 knocks at the turf's doors (about 4,000 of 200,000), the rest across the campaign.
    loaded = time.perf_counter()
    rows = []
    for i in range(KNOCKS):
        door = busy_turf.doors[i % TURF_DOORS] if i % 100 == 0 else busy_turf.doors[i % OTHER_DOORS]
        rows.append(knock(busy_turf, i, door, start + dt.timedelta(seconds=(i + 1) * 8 * 3600 / KNOCKS)))
        if len(rows) == 20000:
            ContactAttempt.objects.bulk_create(rows, batch_size=2000)
            rows = []
    ContactAttempt.objects.bulk_create(rows, batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    at_turf = ContactAttempt.objects.counted().filter(door_id__in=busy_turf.doors[:TURF_DOORS]).count()
    took = time.perf_counter() - loaded
    print(f"loaded {KNOCKS:,} knocks of the day ({at_turf:,} at the turf's doors) in {took:.0f} s")
    print(f"load average before the rounds: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    quiet, light, busy = measure(quiet_turf.client, light_turf.client, busy_turf.client)

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
                .filter(door_id__in=busy_turf.doors[:TURF_DOORS])
                .values_list("pk", "door_id", "canvasser_id")
            ]
        )
    )
    print()
    header = f"{'snapshot of the turf':<38}{'bytes':>10}{'ms (median)':>13}{'CPU ms':>8}"
    header += f"{'queries':>9}{'knocks sent':>13}"
    print(header + f"   (median of {REPEAT} rounds)")
    rows_out = (
        ("0 knocks, empty database", empty),
        ("0 knocks in the campaign", quiet),
        (f"{TURF_DOORS} knocks (one at each door)", light),
        (f"{KNOCKS:,} knocks of the day", busy),
    )
    for label, snap in rows_out:
        print(f"{label:<38}{snap.size:>10,}{snap.ms:>13.1f}{snap.cpu_ms:>8.1f}{snap.queries:>9}{snap.attempts:>13,}")
    print("(the last three measured in the same interleaved rounds)")
    print(
        f"baseline, same run: version 1 sent every knock at the turf's doors: {at_turf:,} knocks, "
        f"about {baseline_bytes:,} bytes of knocks alone"
    )
    size_ratio = busy.size / light.size
    limit_ms = max(quiet.ms * (1 + TIME_TOLERANCE), quiet.ms + TIME_SLACK_MS)
    size_ok = abs(size_ratio - 1) <= SIZE_TOLERANCE
    time_ok = busy.ms <= limit_ms
    print(
        f"size with {KNOCKS:,} knocks / with one at each door: {size_ratio:.3f} "
        f"(goal within {SIZE_TOLERANCE:.0%}): {'met' if size_ok else 'NOT MET'}; "
        f"with 0 knocks {quiet.size:,} bytes (the doors have no latest knock yet)"
    )
    print(
        f"time with {KNOCKS:,} knocks: {busy.ms:.1f} ms against {quiet.ms:.1f} ms with 0 "
        f"(goal at most {limit_ms:.1f} ms: +{TIME_TOLERANCE:.0%} or +{TIME_SLACK_MS:.0f} ms): "
        f"{'met' if time_ok else 'NOT MET'}"
    )
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
