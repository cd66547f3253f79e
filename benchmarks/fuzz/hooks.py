"""schemathesis hooks for benchmarks/fuzz_api.py.

`json_error_body`: every 4xx of the application must carry fieldops' JSON error body (gunicorn's
own 414 and 431 for an over-long request line or header are its HTML page; they are left out).

`before_call`: the data a schema cannot state. Some requests are valid only with the
organization's data: an id in a body that must be one of the caller's organization's
(`POST /assignments/`, `reassign/`, `no-show/`, `turfs/merge/`), a polygon that holds
doors of the campaign (`POST /turfs/`), a real object in the path (`split/`, the shift
actions), an end after the start (`POST /shifts/`, `POST /assignments/`), a latitude with
its longitude. JSON Schema can say "an integer from 1 to 2^63-1", not "one of these rows";
generated ids are random, so nearly every such request is refused (400, or 404 for a path)
and schemathesis cannot tell that from a schema that misses a constraint. As schemathesis
documents for data-dependent APIs, the hook fills in real data: for three positive cases in
four of those operations (counted per scenario and media type, the first always; negative
cases are left alone), it replaces the generated ids with ids of the fuzzing user's
organization, the times and positions with consistent ones, and a turf's name with the same
name numbered (names are unique in a campaign). The ids come from var/fuzz/fuzz-data.json,
which the harness writes before the run (benchmarks/fuzz_api.py, SETUP); the turfs free to
split, merge or assign are asked of the API for each case, as the fuzzing changes them, and a
door drawn around is used once.

schemathesis' "Schema validation mismatch" is judged per scenario: one operation's run of one
phase. With --max-time the fuzzing phase runs again and again until the time is up (and the
coverage phase again for operations whose 400s taught it something), each cycle a scenario of
its own, and a late cycle may draw one or two positive cases only. It warns when no positive
case of a scenario was served (no 2xx) and their 400s (any 4xx but 401, 403, 404, 409 and 429)
are a tenth or more of their 400s and 404s. So the count of three in four starts again with
each scenario (a pause in an operation's cases marks a new one), and the data drawn from must
not run out before the time does.

A pull's cursor is replaced by one the server gave. Check-in and check-out are preceded by the
sign-up (and the check-in) a phone makes first, as an OpenAPI link would chain them: the fuzzing
of cancel/ gives the place back. The fourth case goes as generated, so the refusals of foreign
and missing ids are fuzzed as before. Objects the fuzzing changes meanwhile (a shift cancelled, an assignment ended)
answer 409 or 404 as they would for a phone.

And one for every positive case with a form body: a form has no null (schemathesis writes the
text "null", which no field reads as a number), so a null field is left out, which is what
null means for these optional fields.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import threading
import time
import urllib.request
from collections import Counter
from typing import Any

import schemathesis
from schemathesis import GenerationMode

_lock = threading.Lock()
_counts: Counter[tuple[str, str, str]] = Counter()
_data: dict[str, Any] | None = None
_random = random.Random(17)
_seen: dict[tuple[str, str], float] = {}
_turfs: tuple[float, list[dict[str, Any]]] = (0.0, [])
_taken: set[int] = set()
_current: list[int] = []  # the current assignments, as last read
# Seconds without a case of an operation after which its next case belongs to a new scenario: the
# cases of one run back to back, another cycle comes after the 33 other operations (several seconds).
NEW_SCENARIO_GAP = 2.0
_cursor: list[str] = []


# gunicorn's own refusals, before Django sees the request: a request line over 4,094 bytes (414)
# or a header over 8,190 (431). They come as gunicorn's HTML page, without the API's version header
# that every answer of the application carries; a phone never sends such a request.
FRONT_SERVER_LIMITS = {414, 431}


@schemathesis.check
def json_error_body(ctx, response, case):  # noqa: ANN001 - schemathesis' signature
    if (
        response.status_code in FRONT_SERVER_LIMITS and "x-fieldops-api-version" not in response.headers
    ):  # lowercased names
        return
    if 400 <= response.status_code < 500:
        try:
            body = response.json()
        except ValueError:
            raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:120]!r}") from None
        if not isinstance(body, dict) or not isinstance(body.get("detail"), str) or "errors" not in body:
            raise AssertionError(f"{response.status_code} body is not {{'detail': …, 'errors': …}}: {body!r:.200}")


def _world() -> dict[str, Any] | None:
    """The fuzzing user's data (benchmarks/fuzz_api.py writes it; FIELDOPS_FUZZ_USER names the user)."""
    global _data
    if _data is None:
        path, user = os.environ.get("FIELDOPS_FUZZ_DATA"), os.environ.get("FIELDOPS_FUZZ_USER")
        if not path or not user or not os.path.exists(path):
            _data = {}
        else:
            with open(path, encoding="utf-8") as handle:
                _data = json.load(handle).get(user, {})
    return _data or None


def _get(path: str, token: str) -> Any:
    base = os.environ.get("FIELDOPS_FUZZ_BASE", "http://127.0.0.1:8766")
    request = urllib.request.Request(base + path, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _post(path: str, token: str) -> None:
    """A step a phone takes first (sign up before checking in), as an OpenAPI link would; its answer
    does not matter (already signed up is a 200, a cancelled place may be full: 409)."""
    base = os.environ.get("FIELDOPS_FUZZ_BASE", "http://127.0.0.1:8766")
    request = urllib.request.Request(
        base + path,
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with contextlib.suppress(OSError):  # urllib's HTTPError for a 4xx included
        urllib.request.urlopen(request, timeout=10).close()


def _live_campaigns(world: dict[str, Any]) -> list[dict[str, Any]]:
    """The campaigns with their active turfs that no current assignment holds (and, under
    "splittable", those of two doors or more), asked of the API at most every second, less the
    turfs a filled case has used since (assigned, merged, split or archived): the fuzzing changes
    them, and a list a few seconds old made the filled case a 409 or 404, which next to a 400 of
    an unfilled one is what schemathesis reads as a schema mismatch. A user who may not list turfs
    (the canvasser) keeps the list read at the start."""
    global _turfs
    with _lock:
        read_at, campaigns = _turfs
        if not (time.monotonic() - read_at < 1 and campaigns):
            campaigns = []
    if not campaigns:
        campaigns = _read_campaigns(world)
        with _lock:
            _turfs = (time.monotonic(), campaigns)
    with _lock:
        return [
            {
                **campaign,
                "turfs": [pk for pk in campaign["turfs"] if pk not in _taken],
                "splittable": [pk for pk in campaign["splittable"] if pk not in _taken],
            }
            for campaign in campaigns
        ]


def _take(*turfs: int) -> None:
    """Turfs a filled case changes: left out of the free ones from now on."""
    with _lock:
        _taken.update(turfs)


def _read_campaigns(world: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        turfs = _get("/api/v1/turfs/?status=active&page_size=1000", world["token"])["results"]
        current = _get("/api/v1/assignments/?page_size=1000", world["token"])["results"]
        held = {a["turf"]["id"] for a in current}
    except (OSError, ValueError, KeyError):
        return [{**campaign, "splittable": campaign["turfs"]} for campaign in world["campaigns"]]
    with _lock:
        _current[:] = [a["id"] for a in current]
    campaigns = [
        {
            **campaign,
            "turfs": [t["id"] for t in turfs if t["campaign"] == campaign["id"] and t["id"] not in held],
            "splittable": [
                t["id"]
                for t in turfs
                if t["campaign"] == campaign["id"] and t["id"] not in held and t.get("door_count", 0) >= 2
            ],
        }
        for campaign in world["campaigns"]
    ]
    return campaigns


def _pick(items: list) -> Any:
    with _lock:
        return _random.choice(items)


def _sample(items: list, most: int) -> list:
    with _lock:
        return _random.sample(items, min(len(items), _random.randint(1, most)))


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _end_after_start(body: dict, start_required: bool) -> None:
    """ends_at after starts_at: swapped when they come the wrong way round (both stay within the
    schema's years); an assignment's end without a start gets a start an hour before it."""
    starts, ends = _moment(body.get("starts_at")), _moment(body.get("ends_at"))
    if ends is None:
        return
    if starts is None and not start_required and body.get("starts_at") is None:
        body["starts_at"] = (ends - dt.timedelta(hours=1)).isoformat()
        return
    if starts is not None and ends <= starts:
        if ends == starts:
            body["ends_at"] = (starts + dt.timedelta(minutes=1)).isoformat()
        else:
            body["starts_at"], body["ends_at"] = body["ends_at"], body["starts_at"]


def _lat_with_lng(body: dict) -> None:
    """A latitude comes with its longitude (the schema cannot say so): both or neither."""
    if (body.get("lat") is None) != (body.get("lng") is None):
        body.pop("lat", None)
        body.pop("lng", None)


def _square(point: list[float], half: float = 0.0002) -> dict:
    lng, lat = point
    ring = [[lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half], [lng - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _fill(world: dict[str, Any], method: str, path: str, case: Any) -> None:
    body = case.body if isinstance(case.body, dict) else None
    params = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    turf_paths = ("/api/v1/assignments/", "/api/v1/turfs/merge/", "/api/v1/turfs/{turf_id}/split/")
    live = _live_campaigns(world) if path in turf_paths or path.endswith("archive/") else world["campaigns"]
    campaigns = [c for c in live if c["turfs"]]
    shifts = world["shifts"]
    members = world["members"]
    if path.startswith("/api/v1/shifts/{shift_id}/"):
        action = path.rsplit("/", 2)[-2]
        if action == "no-show":
            params["shift_id"] = world["started_shift"]["id"]
            if body is not None:
                body["user"] = _pick(world["started_shift"]["users"])
        else:
            # Mostly the shift that started an hour ago (check-in open, the fuzzing user signed up),
            # else an upcoming one (check-in not open yet: 409).
            started = world["started_shift"]["id"]
            params["shift_id"] = _pick([started, started, started, *[pk for pk, _ in shifts[:3]]])
            if action == "check-in" and body is not None:
                _lat_with_lng(body)
            # The steps before, as the phone takes them: the fuzzing of cancel/ gives the place back.
            if action in ("check-in", "check-out"):
                _post(f"/api/v1/shifts/{params['shift_id']}/signup/", world["token"])
            if action == "check-out":
                _post(f"/api/v1/shifts/{params['shift_id']}/check-in/", world["token"])
    elif path == "/api/v1/shifts/" and body is not None:
        if campaigns and _pick([True, False]):
            body["campaign"] = _pick(campaigns)["id"]
        else:
            body.pop("campaign", None)
        _end_after_start(body, start_required=True)
        _lat_with_lng(body)
    elif path == "/api/v1/assignments/" and body is not None and campaigns:
        campaign = _pick(campaigns)
        body["turf"] = _pick(campaign["turfs"])
        _take(body["turf"])
        body["canvassers"] = _sample(members, 3)
        same = [pk for pk, of in shifts if of in (None, campaign["id"])]
        if same and _pick([True, False]):
            body["shift"] = _pick(same)
            body.pop("starts_at", None)  # the shift's times (a start after the shift's end would be a 400)
            body.pop("ends_at", None)
        else:
            body.pop("shift", None)
            _end_after_start(body, start_required=False)
    elif path == "/api/v1/assignments/{assignment_id}/reassign/" and world["assignments"]:
        # A current one (the fuzzing ends them: 409), as last read.
        _live_campaigns(world)
        with _lock:
            current = list(_current)
        params["assignment_id"] = _pick(current or world["assignments"])
        if body is not None:
            body["canvassers"] = _sample(members, 3)
    elif path == "/api/v1/turfs/merge/" and body is not None:
        pairs = [c for c in campaigns if len(c["turfs"]) >= 2]
        if pairs:
            body["turfs"] = _pair(_pick(pairs)["turfs"])
            _take(*body["turfs"])
            _unique_name(body)
    elif path == "/api/v1/turfs/{turf_id}/split/" and campaigns:
        # A turf of two doors or more: one door cannot make two turfs (a 400 on the parts).
        splittable = [c for c in campaigns if c.get("splittable")]
        if splittable:
            params["turf_id"] = _pick(_pick(splittable)["splittable"])
            _take(params["turf_id"])
        if body is not None:
            body["parts"] = 2
    elif path == "/api/v1/turfs/{turf_id}/archive/" and campaigns:
        params["turf_id"] = _pick(_pick(campaigns)["turfs"])
        _take(params["turf_id"])
    elif path == "/api/v1/turfs/" and body is not None and "json" in (case.media_type or ""):
        drawable = [c for c in world["campaigns"] if c["points"]]
        if drawable:
            campaign = _pick(drawable)
            body["campaign"] = campaign["id"]
            body["polygon"] = _square(_take_point(campaign["points"]))
            _unique_name(body)


def _take_point(points: list[list[float]], half: float = 0.0002) -> list[float]:
    """A door to draw a square around, used once: the doors of its square leave the pool too, as
    the turf drawn there takes them (drawn again, the square is a 409, all its doors taken)."""
    with _lock:
        lng, lat = point = _random.choice(points)
        points[:] = [p for p in points if abs(p[0] - lng) > half or abs(p[1] - lat) > half]
    return point


def _unique_name(body: dict) -> None:
    """A turf's name is unique among the campaign's active turfs: a generated name is kept with a
    number after it (the coverage phase sends the same boundary names again and again)."""
    name = body.get("name")
    if isinstance(name, str) and name.strip():
        with _lock:
            _counts[("name", "", "")] += 1
            number = _counts[("name", "", "")]
        body["name"] = f"{name[:100]} #{number}"


def _pair(turfs: list[int]) -> list[int]:
    with _lock:
        return _random.sample(turfs, 2)


def _fill_query(world: dict[str, Any], path: str, case: Any) -> None:
    """A pull's cursor is one the server gave (the schema says only its alphabet and length)."""
    query = case.query if isinstance(case.query, dict) else None
    if path != "/api/v1/sync/pull/" or query is None or "cursor" not in query:
        return
    if not _cursor:
        try:
            _cursor.append(_get("/api/v1/sync/pull/", world["token"])["cursor"])
        except (OSError, ValueError, KeyError):
            return
    query["cursor"] = _cursor[0]


FILLED = {
    ("POST", "/api/v1/shifts/"),
    ("POST", "/api/v1/shifts/{shift_id}/signup/"),
    ("POST", "/api/v1/shifts/{shift_id}/cancel/"),
    ("POST", "/api/v1/shifts/{shift_id}/check-in/"),
    ("POST", "/api/v1/shifts/{shift_id}/check-out/"),
    ("POST", "/api/v1/shifts/{shift_id}/no-show/"),
    ("POST", "/api/v1/assignments/"),
    ("POST", "/api/v1/assignments/{assignment_id}/reassign/"),
    ("POST", "/api/v1/turfs/"),
    ("POST", "/api/v1/turfs/merge/"),
    ("POST", "/api/v1/turfs/{turf_id}/split/"),
    ("POST", "/api/v1/turfs/{turf_id}/archive/"),
    ("GET", "/api/v1/sync/pull/"),
}


@schemathesis.hook
def before_call(context, case, kwargs):  # noqa: ANN001 - schemathesis' signature
    method, path = case.operation.method.upper(), case.operation.path
    with _lock:
        # schemathesis judges each scenario (an operation's run of a phase) on its own, and with
        # --max-time it runs the fuzzing phase again and again (and coverage again for operations
        # whose 400s taught it something): a later cycle may draw one or two positive cases only.
        # The count of positive cases starts again with each, so that its first is filled too: a
        # pause in the operation's cases (any mode) means a new scenario.
        now = time.monotonic()
        if now - _seen.get((method, path), now) > NEW_SCENARIO_GAP:
            for other in [k for k in _counts if k[:2] == (method, path)]:
                del _counts[other]
        _seen[(method, path)] = now
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return
    media_type = case.media_type or ""
    if isinstance(case.body, dict) and ("form" in media_type):
        # A form has no null: schemathesis writes the text "null", which no field reads as a number
        # or an id. A null of these optional fields is sent as the field left out, which means null.
        for name in [name for name, value in case.body.items() if value is None]:
            del case.body[name]
    if (method, path) not in FILLED:
        return
    world = _world()
    if world is None:
        return
    with _lock:
        key = (method, path, f"{meta.phase.name} {media_type}")
        _counts[key] += 1
        turn = _counts[key]
    if turn % 4 != 0:  # three positive cases in four, of each scenario and media type
        if method == "GET":
            _fill_query(world, path, case)
        else:
            _fill(world, method, path, case)
