"""A canvass weekend against a running fieldops (driven by benchmarks/load_weekend.py).

Canvassers: log in once (the token is made by the setup), arrive at a
random moment of the arrival window (FIELDOPS_LOAD_ARRIVAL seconds: the
shift's volunteers opening the app at the staging location), download their
walk list, then every 30 s push a batch of knocks and pull. The same
requests as the volunteer app (volunteer/static/volunteer/js/sync.js): on
open, with no turf and no cursor, it asks nothing; the walk list carries a
pull cursor, which the phone keeps (no snapshot pull); each sync round is a
push of the knocks waiting, then a pull from the cursor with the assignments
the phone holds (`?assignments=`), every page until `has_more` is false.
The first round comes one period after the walk list (the walk to the first
doors). FIELDOPS_LOAD_PULL_EVERY=2 pulls every other round only (as the
load did before the walk list carried a cursor), to compare.
Organizers: refresh the campaign dashboard every 30 s.

A phone's sync timer is not a metronome: each round starts 30 s ± 3 s after
the last one started (FIELDOPS_LOAD_JITTER), as docs/sync-protocol.md asks of
phone apps. Without jitter, phones that waited together in a queue once stay
in step for the rest of the run and arrive as a burst every 30 s.

Every request's answer time is written to FIELDOPS_LOAD_SAMPLES (CSV: end
time, endpoint, ms, failed) so benchmarks/load_weekend.py can report the
arrival and the steady state apart.

Every request asks the server to close the connection afterwards
(`Connection: close`): a phone is 30 s or more between requests, longer than
gunicorn keeps an idle connection (5 s), and reusing a connection the server
had just closed showed up as an unanswered request ("connection closed") now
and then, an artefact of the load generator, not of the server.

The users are locust's FastHttpUser (geventhttpclient), not HttpUser
(python-requests): locust runs on the same two cores as the server, and
requests cost it several times the CPU per request, which the server's
figures then paid for. What is sent and checked is the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import os
import random
import time
import uuid

import gevent
from locust import events, task
from locust.contrib.fasthttp import FastHttpUser

USERS_FILE = os.environ.get("FIELDOPS_LOAD_USERS", "var/load/users.json")
KNOCKS_PER_PUSH = int(os.environ.get("FIELDOPS_LOAD_KNOCKS", "3"))
ARRIVAL = float(os.environ.get("FIELDOPS_LOAD_ARRIVAL", "30"))
# When the arrival window opens (Unix time; load_weekend.py sets it past locust's spawn): each
# canvasser arrives at a moment within it. Unset: ARRIVAL seconds from the user's spawn.
START = float(os.environ.get("FIELDOPS_LOAD_START", "0"))
JITTER = float(os.environ.get("FIELDOPS_LOAD_JITTER", "3"))
PERIOD = 30.0
PULL_EVERY = max(1, int(os.environ.get("FIELDOPS_LOAD_PULL_EVERY", "1")))
SAMPLES = os.environ.get("FIELDOPS_LOAD_SAMPLES", "")
# FIELDOPS_LOAD_KEEPALIVE=1: reuse connections (no Connection: close), to compare.
CONNECTION = {} if os.environ.get("FIELDOPS_LOAD_KEEPALIVE") == "1" else {"Connection": "close"}

with open(USERS_FILE, encoding="utf-8") as handle:
    _users = json.load(handle)
_canvassers = itertools.cycle(_users["canvassers"])
_organizers = itertools.cycle(_users["organizers"])
RESULTS = _users["result_codes"]
DASHBOARD = _users["dashboard_path"]


def _why(response) -> str:  # noqa: ANN001 - locust's response
    """The connection error of a request that got no answer (status 0), else the body's start."""
    return str(getattr(response, "error", None) or (response.text or "")[:200])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


_samples: list[tuple[float, str, float, int]] = []


@events.request.add_listener
def _record(name, response_time, exception, **kwargs):  # noqa: ANN001, ANN003 - locust's hook
    _samples.append((time.time(), name, response_time, int(exception is not None)))


@events.quitting.add_listener
def _write_samples(environment, **kwargs):  # noqa: ANN001, ANN003 - locust's hook
    if SAMPLES:
        with open(SAMPLES, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["end", "name", "ms", "failed"])
            writer.writerows((f"{end:.3f}", name, f"{ms:.1f}", failed) for end, name, ms, failed in _samples)


def _jittered_pacing(user) -> float:  # noqa: ANN001 - a locust user
    """Seconds until the next round: PERIOD ± JITTER after this round started."""
    started = getattr(user, "round_started", None)
    if started is None:
        return 0.0
    return max(0.0, started + PERIOD + random.uniform(-JITTER, JITTER) - time.monotonic())


class Canvasser(FastHttpUser):
    wait_time = _jittered_pacing
    weight = 50

    def on_start(self) -> None:
        me = next(_canvassers)
        self.auth = {"Authorization": f"Token {me['token']}", **CONNECTION}
        self.assignment = me["assignment"]
        self.device = f"load-{me['username']}"
        self.cursor = ""
        self.rounds = 0
        self.round_started: float | None = None
        arrives = (START or time.time()) + random.uniform(0, ARRIVAL)
        gevent.sleep(max(0.0, arrives - time.time()))
        with self.client.get(
            f"/api/v1/assignments/{self.assignment}/walk-list/",
            name="/api/v1/assignments/{id}/walk-list/",
            headers=self.auth,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"walk list: {response.status_code}")
                self.doors = me["doors"]
            else:
                body = response.json()
                self.doors = [door["id"] for door in body["doors"]] or me["doors"]
                self.cursor = body.get("cursor") or ""
        self.next_door = random.randrange(len(self.doors))
        # The first round one period after the walk list: knocks are made at the doors first.
        gevent.sleep(max(0.0, PERIOD + random.uniform(-JITTER, JITTER)))

    @task
    def knock_and_sync(self) -> None:
        self.round_started = time.monotonic()
        attempts = []
        for _ in range(KNOCKS_PER_PUSH):
            door = self.doors[self.next_door % len(self.doors)]
            self.next_door += 1
            code = random.choice(RESULTS)
            attempts.append(
                {
                    "id": str(uuid.uuid4()),
                    "door": door,
                    "assignment": self.assignment,
                    "person": None,
                    "result": code,
                    "support_level": random.choice([None, 1, 2, 3, 4, 5]) if code == "contact" else None,
                    "answers": {},
                    "notes": "",
                    "recorded_at": _now(),
                    "lat": None,
                    "lng": None,
                    "accuracy_m": None,
                }
            )
        body = {"device_id": self.device, "sent_at": _now(), "attempts": attempts}
        with self.client.post(
            "/api/v1/sync/push/", json=body, name="/api/v1/sync/push/", headers=self.auth, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"push: {response.status_code} {_why(response)}")
            else:
                statuses = {r["status"] for r in response.json()["results"]}
                if not statuses <= {"accepted", "duplicate"}:
                    response.failure(f"push receipts: {statuses}")
        self.rounds += 1
        if self.rounds % PULL_EVERY == 0:
            self.pull()

    def pull(self) -> None:
        more = True
        pages = 0
        while more and pages < 20:
            pages += 1
            with self.client.get(
                "/api/v1/sync/pull/",
                params={"cursor": self.cursor, "assignments": self.assignment}
                if self.cursor
                else {"assignments": self.assignment},
                name="/api/v1/sync/pull/",
                headers=self.auth,
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"pull: {response.status_code} {_why(response)}")
                    return
                body = response.json()
                self.cursor = body["cursor"]
                more = body.get("has_more", False)


class Organizer(FastHttpUser):
    # Twenty people refreshing by hand are not in step either.
    wait_time = _jittered_pacing
    fixed_count = int(os.environ.get("FIELDOPS_LOAD_ORGANIZERS", "20"))

    def on_start(self) -> None:
        me = next(_organizers)
        self.cookie = {"Cookie": f"sessionid={me['sessionid']}", **CONNECTION}
        self.round_started: float | None = None
        gevent.sleep(random.uniform(0, 30))

    @task
    def dashboard(self) -> None:
        self.round_started = time.monotonic()
        # No redirects followed: a lost session answers 302 to the login page, a failure.
        with self.client.get(
            DASHBOARD, name="dashboard (admin)", headers=self.cookie, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"dashboard: {response.status_code}")


@events.init_command_line_parser.add_listener
def _(parser):  # noqa: ANN001 - locust's hook
    parser.add_argument("--fieldops-note", default="", help="free text for the run's record")
