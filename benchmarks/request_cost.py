"""What one phone request costs the server: wall time, CPU and queries per endpoint (issue 17, "Headroom").

    .venv/bin/python benchmarks/request_cost.py                      # a temporary SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> .venv/bin/python benchmarks/request_cost.py
    .venv/bin/python benchmarks/request_cost.py --profile walk_list  # cProfile of one endpoint, top 40

Migrates the database it is given and adds a scratch organization (a new one
on every run). A campaign of 6,000 doors, a 60-door turf with two people at
each door, and four canvassers on it as in the load test, each logged in with
a device token. Each request goes through the whole stack in-process (Django's
test client: middleware, token authentication, DRF, JSON rendering; no HTTP
server), as a phone sends it:

- push: 3 new knocks at the turf's doors (the load test's batch);
- pull, nothing new: an incremental pull with the cursor at the head of the log;
- pull, a few changes: another canvasser of the turf pushed 3 knocks since the cursor;
- walk list: the 60-door turf's;
- snapshot: a pull without a cursor (every page).

Each is measured REQUEST_COST_REPEAT times (default 31) with 0 knocks in the
database, then again with 200,000 knocks of the day (by 100 other canvassers
across the campaign, each with its change-log entry). Prints per endpoint the
median wall time and the median CPU time of this process inside the requests
(time.process_time: Python, Django and, on SQLite, the database itself; the
phone's own making of the body and reading of the answer are not counted),
the queries per request,
and on PostgreSQL the database server's CPU per request (its backend process's
user+system time from /proc, over all the repeats: 10 ms ticks, so a mean).
On PostgreSQL the tables are ANALYZEd after loading (autovacuum may be off).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scratch_django import setup_django  # noqa: E402 - a sibling module: benchmarks/ is on sys.path

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

REPEAT = int(os.environ.get("REQUEST_COST_REPEAT", "31"))
KNOCKS = int(os.environ.get("REQUEST_COST_KNOCKS", "200000"))
OTHER_DOORS = 6000
TURF_DOORS = 60
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Cost:
    wall_ms: float
    cpu_ms: float
    queries: int
    db_cpu_ms: float | None  # PostgreSQL: the backend's CPU per request (mean)
    size: int  # bytes of the answer


def _backend_ticks() -> int | None:
    """User+system clock ticks of this connection's PostgreSQL backend process, or None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def measure(phone: Phone, request: Callable[[], int], prepare: Callable[[], None] | None = None) -> Cost:
    """request() sends requests of `phone` and returns the answers' size; prepare() runs before each,
    unmeasured. The time is the phone's time inside its requests (Phone._send)."""
    for _ in range(3):  # warm up (compiled queries, caches)
        if prepare:
            prepare()
        request()
    walls, cpus = [], []
    queries, size, db_ticks = 0, 0, 0
    for _ in range(REPEAT):
        if prepare:
            prepare()
        before = _backend_ticks()
        phone.wall = phone.cpu = 0.0
        with CaptureQueriesContext(connection) as captured:
            size = request()
        cpus.append(phone.cpu * 1000)
        walls.append(phone.wall * 1000)
        queries = len(captured)
        after = _backend_ticks()
        if before is not None and after is not None:
            db_ticks += after - before
    db_cpu = db_ticks * 1000 / CLK_TCK / REPEAT if connection.vendor == "postgresql" else None
    return Cost(statistics.median(walls), statistics.median(cpus), queries, db_cpu, size)


class Phone:
    """A canvasser's phone: its token and cursor, requests as the volunteer app sends them."""

    def __init__(self, key: str, device: str, assignment_id: int, doors: list[int]) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        # Wall and CPU time spent inside the requests since the last reset (the phone's own
        # work, making the body and reading the answer, is not counted).
        self.wall = self.cpu = 0.0
        self.device = device
        self.assignment_id = assignment_id
        self.doors = doors
        self.next_door = 0
        self.cursor = ""

    def _send(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        response = getattr(self.client, method)(path, *args, **kwargs)
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - started
        return response

    def walk_list(self) -> int:
        response = self._send("get", f"/api/v1/assignments/{self.assignment_id}/walk-list/")
        assert response.status_code == 200, response.content
        self.cursor = json.loads(response.content)["cursor"]
        return len(response.content)

    def push(self, count: int = 3) -> int:
        now = timezone.now().isoformat()
        attempts = []
        for _ in range(count):
            attempts.append(
                {
                    "id": str(uuid.uuid4()),
                    "door": self.doors[self.next_door % len(self.doors)],
                    "assignment": self.assignment_id,
                    "person": None,
                    "result": "not_home",
                    "support_level": None,
                    "answers": {},
                    "notes": "",
                    "recorded_at": now,
                    "lat": None,
                    "lng": None,
                    "accuracy_m": None,
                }
            )
            self.next_door += 1
        body = {"device_id": self.device, "sent_at": now, "attempts": attempts}
        response = self._send("post", "/api/v1/sync/push/", body, content_type="application/json")
        assert response.status_code == 200, response.content
        statuses = {r["status"] for r in json.loads(response.content)["results"]}
        assert statuses == {"accepted"}, response.content
        return len(response.content)

    def pull(self, *, keep_cursor: bool = False) -> int:
        """Every page from the cursor; keep_cursor: leave the phone's cursor where it was."""
        cursor, size = self.cursor, 0
        while True:
            response = self._send("get", "/api/v1/sync/pull/", {"cursor": cursor} if cursor else {})
            assert response.status_code == 200, response.content
            size += len(response.content)
            page = json.loads(response.content)
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        if not keep_cursor:
            self.cursor = cursor
        return size


def setup() -> tuple[Phone, Phone, dict]:
    from django.contrib.auth import get_user_model

    from canvass.campaigns.services import result_codes_ensure_standard
    from canvass.models import Assignment, AssignmentCanvasser, Campaign, ResultCode, Turf, TurfDoor
    from fieldops.models import Membership, Organization
    from fieldops.services import device_token_create
    from turf.models import Door, Person

    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"cost-{tag}", name="Request cost bench")
    result_codes_ensure_standard(organization=org)
    codes = list(ResultCode.objects.filter(organization=org).values_list("pk", flat=True))
    User = get_user_model()
    on_turf = User.objects.bulk_create(User(username=f"carla{i}-{tag}") for i in range(4))
    others = User.objects.bulk_create(User(username=f"walker{i}-{tag}") for i in range(100))
    Membership.objects.bulk_create(Membership(user=u, organization=org) for u in [*on_turf, *others])
    campaign = Campaign.objects.create(organization=org, slug="cost", name="Request cost")
    doors = Door.objects.bulk_create(
        Door(
            organization=org,
            address_key=f"{i}|COST|{tag}",
            number=str(i),
            street_name="COST",
            lat=33.99 + (i % 100) * 0.0001,
            lng=-118.46 + (i // 100) * 0.0001,
        )
        for i in range(OTHER_DOORS)
    )
    Person.objects.bulk_create(
        Person(organization=org, door=d, first_name=f"Ana{j}", last_name=f"Vega{i}")
        for i, d in enumerate(doors[:TURF_DOORS])
        for j in range(2)
    )
    turf = Turf.objects.create(organization=org, campaign=campaign, name="T")
    TurfDoor.objects.bulk_create(TurfDoor(turf=turf, door=d, position=i) for i, d in enumerate(doors[:TURF_DOORS]))
    assignment = Assignment.objects.create(
        organization=org, campaign=campaign, turf=turf, starts_at=timezone.now() - dt.timedelta(hours=8)
    )
    AssignmentCanvasser.objects.bulk_create(AssignmentCanvasser(assignment=assignment, user=u) for u in on_turf)
    turf_door_ids = [d.pk for d in doors[:TURF_DOORS]]
    phones = []
    for user in on_turf[:2]:
        issued = device_token_create(user=user, device_id=f"phone-{user.username}")
        phones.append(Phone(issued.key, f"phone-{user.username}", assignment.pk, turf_door_ids))
    context = {"org": org, "campaign": campaign, "doors": doors, "others": others, "codes": codes}
    return phones[0], phones[1], context


def load_day(context: dict) -> None:
    """KNOCKS knocks of the day by 100 other canvassers, 1 in 100 at the turf's doors, each logged."""
    from canvass.models import ContactAttempt
    from fieldops.changelog import Change, sync_changes_record_many
    from fieldops.models import SyncChange

    org, campaign, doors, others, codes = (context[k] for k in ("org", "campaign", "doors", "others", "codes"))
    start = timezone.now() - dt.timedelta(hours=8)
    rows = []
    for i in range(KNOCKS):
        door = doors[i % TURF_DOORS] if i % 100 == 0 else doors[i % OTHER_DOORS]
        at = start + dt.timedelta(seconds=(i + 1) * 7 * 3600 / KNOCKS)
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
                device_id=f"walker{i % len(others)}",
            )
        )
        if len(rows) == 20000 or i == KNOCKS - 1:
            ContactAttempt.objects.bulk_create(rows, batch_size=2000)
            sync_changes_record_many(
                organization_id=org.pk,
                changes=[
                    Change(
                        kind=SyncChange.Kind.ATTEMPT,
                        object_id=str(row.pk),
                        door_id=row.door_id,
                        user_id=row.canvasser_id,
                        device_id=row.device_id,
                    )
                    for row in rows
                ],
            )
            rows = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


ENDPOINTS = ("push", "pull_nothing_new", "pull_few_changes", "walk_list", "snapshot")


def run_all(me: Phone, partner: Phone) -> dict[str, Cost]:
    def at_head() -> None:
        me.walk_list()  # its cursor is the head of the log
        me.pull()  # and past anything logged since

    def partner_pushed() -> None:
        at_head()
        partner.push(3)

    snapshot = Phone.__new__(Phone)
    snapshot.__dict__.update(me.__dict__, cursor="")
    at_head()
    return {
        "push": measure(me, lambda: me.push(3)),
        "pull_nothing_new": measure(me, lambda: me.pull(keep_cursor=True), at_head),
        "pull_few_changes": measure(me, lambda: me.pull(keep_cursor=True), partner_pushed),
        "walk_list": measure(me, me.walk_list),
        "snapshot": measure(snapshot, lambda: snapshot.pull(keep_cursor=True)),
    }


def profile(me: Phone, partner: Phone, endpoint: str) -> None:
    run = {
        "push": lambda: me.push(3),
        "pull_nothing_new": lambda: me.pull(keep_cursor=True),
        "pull_few_changes": lambda: me.pull(keep_cursor=True),
        "walk_list": me.walk_list,
    }[endpoint]
    me.walk_list()
    me.pull()
    for _ in range(5):
        run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(REPEAT):
        if endpoint == "pull_few_changes":
            profiler.disable()
            me.walk_list()
            me.pull()
            partner.push(3)
            profiler.enable()
        run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    call_command("migrate", verbosity=0)
    me, partner, context = setup()
    if "--profile" in sys.argv:
        endpoint = sys.argv[sys.argv.index("--profile") + 1]
        if "--busy" in sys.argv:
            load_day(context)
        profile(me, partner, endpoint)
        return
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"database: {connection.vendor}; load average at the start: {' '.join(load)}; median of {REPEAT}")
    quiet = run_all(me, partner)
    loaded = time.perf_counter()
    load_day(context)
    print(f"loaded {KNOCKS:,} knocks of the day and their change-log entries in {time.perf_counter() - loaded:.0f} s")
    busy = run_all(me, partner)
    print()
    db = connection.vendor == "postgresql"
    header = f"{'endpoint':<20}{'knocks':>9}{'wall ms':>9}{'CPU ms':>8}{'queries':>9}{'bytes':>9}"
    print(header + (f"{'DB CPU ms':>11}" if db else ""))
    for name in ENDPOINTS:
        for label, costs in (("0", quiet), (f"{KNOCKS // 1000}k", busy)):
            cost = costs[name]
            line = f"{name:<20}{label:>9}{cost.wall_ms:>9.1f}{cost.cpu_ms:>8.1f}{cost.queries:>9}{cost.size:>9,}"
            if db and cost.db_cpu_ms is not None:
                line += f"{cost.db_cpu_ms:>11.1f}"
            print(line)
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
