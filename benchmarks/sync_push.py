"""Benchmark the phone sync: pushes of 500 knocks, their replay, and pulls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<your scratch db> .venv/bin/python benchmarks/sync_push.py
    .venv/bin/python benchmarks/sync_push.py            # a temporary SQLite file

Migrates the database it is given and adds a scratch organization to it (a
new one on every run; nothing is deleted). Through the API in-process (DRF
included, no HTTP server): BATCHES pushes of 500 new knocks, the replay of
one of them (all duplicates), two threads pushing at once, a snapshot pull
and an incremental pull of 500 other canvassers' knocks. Prints seconds and
knocks per second, and beside the push, as its baseline from the same run, a
plain bulk_create of the same number of rows into the same table.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid

from scratch_django import setup_django  # noqa: E402 - a sibling module: benchmarks/ is on sys.path

setup_django(quiet_requests=False)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

BATCHES = int(os.environ.get("SYNC_BENCH_BATCHES", "10"))
SIZE = 500


def main() -> None:
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from canvass.campaigns.services import result_codes_ensure_standard
    from canvass.models import Assignment, AssignmentCanvasser, Campaign, Turf, TurfDoor
    from fieldops.models import Membership, Organization
    from turf.models import Door

    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"bench-{tag}", name="Bench")
    result_codes_ensure_standard(organization=org)
    users = []
    for name in ("carla", "pablo", "teo"):
        user = get_user_model().objects.create(username=f"{name}-{tag}")
        Membership.objects.create(user=user, organization=org)
        users.append(user)
    campaign = Campaign.objects.create(organization=org, slug="bench", name="Bench")
    turf = Turf.objects.create(organization=org, campaign=campaign, name="T")
    doors = Door.objects.bulk_create(
        Door(
            organization=org,
            address_key=f"{i}|BENCH",
            number=str(i),
            street_name="BENCH",
            lat=33.99 + i * 0.0001,
            lng=-118.46,
        )
        for i in range(60)
    )
    TurfDoor.objects.bulk_create(TurfDoor(turf=turf, door=d, position=i) for i, d in enumerate(doors))
    assignment = Assignment.objects.create(
        organization=org, campaign=campaign, turf=turf, starts_at=timezone.now() - dt.timedelta(hours=1)
    )
    AssignmentCanvasser.objects.bulk_create(AssignmentCanvasser(assignment=assignment, user=u) for u in users)

    def body(n: int, start: dt.datetime) -> dict:
        return {
            "device_id": "bench",
            "sent_at": timezone.now().isoformat(),
            "attempts": [
                {
                    "id": str(uuid.uuid4()),
                    "door": doors[i % 60].pk,
                    "assignment": assignment.pk,
                    "result": "not_home",
                    "recorded_at": (start + dt.timedelta(seconds=i)).isoformat(),
                    "lat": doors[i % 60].lat,
                    "lng": doors[i % 60].lng,
                    "accuracy_m": 5,
                    "notes": "bench",
                }
                for i in range(n)
            ],
        }

    def client(user) -> APIClient:
        c = APIClient()
        c.force_authenticate(user)
        return c

    print(f"database: {connection.vendor}")
    carla = client(users[0])
    snapshot = carla.get("/api/v1/sync/pull/").json()
    start = timezone.now() - dt.timedelta(days=1)
    bodies = [body(SIZE, start + dt.timedelta(hours=k)) for k in range(BATCHES)]
    t0 = time.perf_counter()
    for b in bodies:
        response = carla.post("/api/v1/sync/push/", b, format="json")
        assert response.status_code == 200 and response.json()["results"][0]["status"] == "accepted"
    elapsed = time.perf_counter() - t0
    push_rate = BATCHES * SIZE / elapsed
    print(f"push {BATCHES} x {SIZE} new knocks: {elapsed:.2f} s, {push_rate:,.0f} knocks/s")

    # Baseline, same run: the same number of rows, as the push stores them, by a plain bulk_create
    # of 500 at a time into the same table (no validation, no checks, no receipts, no change log).
    from canvass.models import ContactAttempt, ResultCode

    code = ResultCode.objects.get(organization=org, code="not_home")
    plain = [
        [
            ContactAttempt(
                id=uuid.uuid4(),
                organization_id=org.pk,
                campaign_id=campaign.pk,
                door_id=doors[i % 60].pk,
                canvasser_id=users[0].pk,
                assignment_id=assignment.pk,
                result_code_id=code.pk,
                answers={},
                notes="bench",
                device_id="bench",
                recorded_at=start + dt.timedelta(seconds=i),
                received_at=timezone.now(),
                corrected_at=start + dt.timedelta(seconds=i),
                lat=doors[i % 60].lat,
                lng=doors[i % 60].lng,
                accuracy_m=5,
                distance_m=0.0,
                content_hash="0" * 64,
            )
            for i in range(SIZE)
        ]
        for _ in range(BATCHES)
    ]
    t0 = time.perf_counter()
    for rows in plain:
        ContactAttempt.objects.bulk_create(rows, batch_size=SIZE)
    elapsed = time.perf_counter() - t0
    plain_rate = BATCHES * SIZE / elapsed
    print(
        f"baseline, same run: plain bulk_create of {BATCHES} x {SIZE} rows: {elapsed:.2f} s, {plain_rate:,.0f} rows/s; "
        f"the push reaches {push_rate / plain_rate:.2f} of it (goal: at least 0.40)"
    )
    t0 = time.perf_counter()
    response = carla.post("/api/v1/sync/push/", bodies[0], format="json")
    assert response.json()["results"][-1]["status"] == "duplicate"
    print(f"replay of one {SIZE}-knock batch (all duplicates): {time.perf_counter() - t0:.2f} s")

    pairs = [body(100, start - dt.timedelta(days=k + 2)) for k in range(20)]

    def worker(user, mine):
        c = client(user)
        for b in mine:
            assert c.post("/api/v1/sync/push/", b, format="json").status_code == 200
        connection.close()

    threads = [
        threading.Thread(target=worker, args=(users[1], pairs[:10])),
        threading.Thread(target=worker, args=(users[2], pairs[10:])),
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    print(f"two canvassers pushing at once, 2 x 10 x 100 knocks: {elapsed:.2f} s, {2000 / elapsed:,.0f} knocks/s")

    t0 = time.perf_counter()
    carla.get("/api/v1/sync/pull/").json()
    print(f"snapshot pull (60 doors, {BATCHES * SIZE + 2000} knocks on them): {time.perf_counter() - t0:.3f} s")
    t0 = time.perf_counter()
    cursor, pages = snapshot["cursor"], 0
    while True:
        page = carla.get("/api/v1/sync/pull/", {"cursor": cursor}).json()
        pages += 1
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    print(f"incremental pull of the 2,000 other canvassers' knocks: {pages} pages, {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
