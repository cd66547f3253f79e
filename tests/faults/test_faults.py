"""10,000 knocks through a hostile network and a crashing server: each stored exactly once.

Runs on PostgreSQL only (it restarts the PostgreSQL server and runs gunicorn
against the test database); CI runs it in its PostgreSQL pass. Bounded: the
whole test takes about a minute on this 2-core machine.

The client behaves like a phone: it sends a batch, and until it gets a 200 it
sends the same batch again (same knock ids). The proxy drops responses after
the server committed, and cuts connections mid-body; the client also sends
some batches twice on purpose and in shuffled order. Meanwhile one gunicorn
worker is killed with SIGKILL and the PostgreSQL server is restarted.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from canvass.models import ContactAttempt, StatsDay, StatsKind
from canvass.stats import services as stats_services
from tests import factories as f
from tests.faults.proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 10_000
PER_BATCH = 100
DEADLINE_S = 240

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="restarts PostgreSQL and runs gunicorn: PostgreSQL runs only"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
    )


class Phone:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.tries = 0
        self.lock = threading.Lock()

    def push(self, batch: list[dict]) -> list[dict]:
        """Send until a 200, like the app's retry queue; returns the receipts."""
        body = json.dumps(
            {"device_id": "fault-phone", "sent_at": dt.datetime.now(dt.UTC).isoformat(), "attempts": batch}
        ).encode()
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            with self.lock:
                self.tries += 1
            request = urllib.request.Request(
                f"{self.base}/api/v1/sync/push/",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Token {self.token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    if response.status == 200:
                        return json.loads(response.read())["results"]
            # A body cut right after the headers is http.client.IncompleteRead (an HTTPException, not
            # an OSError): like any lost answer, the phone sends the batch again.
            except (OSError, http.client.HTTPException, json.JSONDecodeError, ValueError):
                pass
            time.sleep(random.uniform(0.05, 0.3))
        raise AssertionError("a batch never got through")


@pytest.mark.django_db(transaction=True)
def test_ten_thousand_knocks_survive_dropped_responses_cut_bodies_a_killed_worker_and_a_database_restart():
    from fieldops.services import device_token_create

    org = f.OrganizationFactory(slug="faults")
    canvasser = f.UserFactory(username="fiona")
    f.MembershipFactory(user=canvasser, organization=org, role="canvasser")
    campaign = f.CampaignFactory(organization=org, slug="faults")
    code = f.ResultCodeFactory(organization=org, code="not_home", label="Not home")
    turf = f.TurfFactory(campaign=campaign, name="Fault turf")
    doors = [f.DoorFactory(organization=org) for _ in range(50)]
    for position, door in enumerate(doors):
        f.TurfDoorFactory(turf=turf, door=door, position=position)
    assignment = f.AssignmentFactory(turf=turf)
    f.AssignmentCanvasserFactory(assignment=assignment, user=canvasser)
    token = device_token_create(user=canvasser, device_id="fault-phone", device_name="fault test").key

    now = dt.datetime.now(dt.UTC)
    knocks: list[dict[str, object]] = [
        {
            "id": str(uuid.uuid4()),
            "door": doors[i % len(doors)].pk,
            "assignment": assignment.pk,
            "person": None,
            "result": code.code,
            "support_level": None,
            "answers": {},
            "notes": "",
            "recorded_at": (now - dt.timedelta(seconds=TOTAL - i)).isoformat(),
            "lat": None,
            "lng": None,
            "accuracy_m": None,
        }
        for i in range(TOTAL)
    ]
    batches = [knocks[i : i + PER_BATCH] for i in range(0, TOTAL, PER_BATCH)]
    sends = batches + random.Random(3).sample(batches, 15)  # duplicated requests
    random.Random(5).shuffle(sends)  # reordered

    started = time.monotonic()
    db = connection.settings_dict
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL or "",
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "fieldops.wsgi",
            "-c",
            "gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/health/live/")
        with FaultProxy(("127.0.0.1", port), drop=0.15, cut=0.10) as proxy:
            phone = Phone(f"http://127.0.0.1:{proxy.port}", token)
            done: list[int] = []
            chaos_log = []

            def chaos() -> None:
                while len(done) < len(sends) // 4:
                    time.sleep(0.1)
                children = subprocess.run(
                    ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
                ).stdout.split()
                if children:
                    os.kill(int(children[0]), signal.SIGKILL)
                    chaos_log.append(f"killed gunicorn worker {children[0]}")
                while len(done) < len(sends) * 3 // 5:
                    time.sleep(0.1)
                _restart_postgresql()
                chaos_log.append("restarted PostgreSQL")

            chaos_thread = threading.Thread(target=chaos, daemon=True)
            chaos_thread.start()
            receipts: list[dict] = []
            with ThreadPoolExecutor(max_workers=6) as pool:
                for result in pool.map(phone.push, sends):
                    receipts.extend(result)
                    done.append(1)
            chaos_thread.join(timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    print(
        f"\nfaults: {TOTAL} knocks in {len(sends)} requests ({len(sends) - len(batches)} duplicated, shuffled); "
        f"{phone.tries} sends; proxy {dict(proxy.counts)}; {'; '.join(chaos_log)}; {time.monotonic() - started:.1f} s"
    )
    # The test's own connection died with the restart.
    connections.close_all()
    assert chaos_log == [chaos_log[0], "restarted PostgreSQL"] and chaos_log[0].startswith("killed gunicorn worker")
    assert proxy.counts["drop_response"] > 0 and proxy.counts["cut_body"] > 0
    assert phone.tries > len(sends)  # the faults forced retries
    assert {r["status"] for r in receipts} <= {"accepted", "duplicate"}
    stored = set(ContactAttempt.objects.filter(organization=org).values_list("id", flat=True))
    assert len(stored) == TOTAL
    assert {str(i) for i in stored} == {k["id"] for k in knocks}
    assert ContactAttempt.objects.filter(organization=org).count() == TOTAL

    # The organizer's numbers: what the workers would compute (the pushes marked their days;
    # the sweep catches a push whose process died between commit and marking) equals a direct count.
    stats_services.stats_aggregate(sweep=True)
    tz = org.tzinfo
    direct: dict = {}
    for moment in ContactAttempt.objects.filter(organization=org).values_list("corrected_at", flat=True):
        day = timezone.localtime(moment, tz).date()
        direct[day] = direct.get(day, 0) + 1
    counted = dict(StatsDay.objects.filter(campaign=campaign, kind=StatsKind.CAMPAIGN).values_list("day", "attempts"))
    assert counted == direct
    assert sum(counted.values()) == TOTAL
