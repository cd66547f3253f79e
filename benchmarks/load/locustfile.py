"""A canvass weekend against a running fieldops (driven by benchmarks/load_weekend.py).

Canvassers: log in once (the token is made by the setup), download their walk
list, then every 30 s push a batch of knocks and every 60 s pull. Organizers:
refresh the campaign dashboard every 30 s. Start times are staggered so the
load is steady, as on a real Saturday, not a thundering herd.

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

import datetime as dt
import itertools
import json
import os
import random
import uuid

import gevent
from locust import constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser

USERS_FILE = os.environ.get("FIELDOPS_LOAD_USERS", "var/load/users.json")
KNOCKS_PER_PUSH = int(os.environ.get("FIELDOPS_LOAD_KNOCKS", "3"))
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


class Canvasser(FastHttpUser):
    wait_time = constant_pacing(30)
    weight = 50

    def on_start(self) -> None:
        me = next(_canvassers)
        self.auth = {"Authorization": f"Token {me['token']}", **CONNECTION}
        self.assignment = me["assignment"]
        self.device = f"load-{me['username']}"
        self.cursor = ""
        self.rounds = 0
        gevent.sleep(random.uniform(0, 30))
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
        self.next_door = random.randrange(len(self.doors))

    @task
    def knock_and_sync(self) -> None:
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
        if self.rounds % 2 == 0:
            self.pull()

    def pull(self) -> None:
        more = True
        pages = 0
        while more and pages < 20:
            pages += 1
            with self.client.get(
                "/api/v1/sync/pull/",
                params={"cursor": self.cursor} if self.cursor else None,
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
    wait_time = constant_pacing(30)
    fixed_count = int(os.environ.get("FIELDOPS_LOAD_ORGANIZERS", "20"))

    def on_start(self) -> None:
        me = next(_organizers)
        self.cookie = {"Cookie": f"sessionid={me['sessionid']}", **CONNECTION}
        gevent.sleep(random.uniform(0, 30))

    @task
    def dashboard(self) -> None:
        # No redirects followed: a lost session answers 302 to the login page, a failure.
        with self.client.get(
            DASHBOARD, name="dashboard (admin)", headers=self.cookie, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"dashboard: {response.status_code}")


@events.init_command_line_parser.add_listener
def _(parser):  # noqa: ANN001 - locust's hook
    parser.add_argument("--fieldops-note", default="", help="free text for the run's record")
