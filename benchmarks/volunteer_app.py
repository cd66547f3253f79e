"""The volunteer app (/app/) in a phone's browser: each figure against its goal, beside a baseline.

    .venv/bin/python benchmarks/volunteer_app.py                       # a temporary SQLite file
    .venv/bin/python benchmarks/volunteer_app.py --database postgres   # a scratch PostgreSQL database
    .venv/bin/python benchmarks/volunteer_app.py --profile             # also: the taps' CPU profile

Needs Debian's Chromium (/usr/bin/chromium, or --chromium PATH) and playwright==1.64.1 in the
virtualenv; never `playwright install`. Takes 2-4 minutes (more on a busy machine); exits 0 even
when a goal is missed: the table says FAIL. Results: docs/performance.md, "The volunteer app".

The world, made through the project's services in a scratch database (a temporary SQLite file, or
PostgreSQL `fieldops_bench_app` on 127.0.0.1:5432, created, ANALYZEd and dropped): an organization,
an organizer and a canvasser, a campaign with a 3-question script, one district (a GeoJSON
rectangle, turf.importers.districts), 1,000 generated doors in houses and apartment buildings with
people at about 60 % of them (a CSV through turf.importers.doors), one turf drawn around them
(canvass.turfs.services.turf_create_from_polygon, which plans the walk order), assigned to the
canvasser from an hour ago, and a shift. Served as production serves it: collectstatic into a
scratch STATIC_ROOT (whitenoise's CompressedManifestStaticFilesStorage, DEBUG off: whitenoise
serves a file's `.gz` sibling to a client that accepts gzip, and a `.br` one only if the brotli
package was installed at collectstatic time), gunicorn with gunicorn.conf.py on a free loopback
port, plain HTTP/1.1 (production puts nginx with HTTP/2 in front; HTTP/1.1 allows a browser six
connections to the server, which matters for a page of 15 modules).

The phone: headless Chromium, Playwright's "Pixel 7" (412 x 839, touch), CPU throttled 4x (CDP
Emulation.setCPUThrottlingRate) and, while online, Lighthouse's slow 4G as DevTools applies it
(CDP Network.emulateNetworkConditions on the page): 150 ms RTT, 1.6 Mbps down and 750 kbps up
become 562.5 ms per request (150 ms x 3.75), 1.44 Mbps down and 675 kbps up (x 0.9). Offline is
the same call with offline=true. It applies to the page's requests only: the service worker's own
fetches (its precache at install) are not throttled.

Measured, with in-page performance.now() ("next frame": the first task after the next
requestAnimationFrame, i.e. the change painted):
- the app shell before any map library: the bytes on the wire for the cold start's HTML, CSS and
  JavaScript (CDP Network.loadingFinished encodedDataLength, headers included), <= 150 KB;
  baseline: the same files uncompressed;
- cold start (a new browser context: no cache, no service worker) to the login form, <= 3 s;
  baseline: an empty HTML page from the same server; an experiment beside it (not the app):
  /app/'s HTML with a <link rel=modulepreload> for each module, served as a static file;
- warm start offline (the service worker in control, network off, reload, logged in) to Today and
  to the 1,000-door walk list, <= 1 s; baseline: the empty page reloaded (loopback, CPU 4x);
- the 1,000-door walk list: `location.hash = "#/walk/ID"` from Today to the list of its 1,000 doors
  shown (filter All): every row, or, as the list is windowed, its rows drawn down past the bottom
  of the screen, <= 300 ms; baselines: fetch() + JSON.parse of the same walk list, loopback and slow 4G;
- a tap on a result code with 1,000 knocks waiting in the outbox (recorded offline through
  outbox.recordKnocks, so none is sent): a synthetic click on button.result[data-code] until the
  walk list shows that door done and the new toast is up; 30 taps, p95 <= 50 ms; baseline:
  outbox.recordKnocks() of one knock alone (saved, nothing shown);
- 500 waiting knocks sent and confirmed: "Sync now" on the Sync screen until the status says
  synced (a push and a pull over slow 4G), <= 5 s; baseline: a Python client (urllib) pushing the
  same 500 knocks (new ids) to the same server over loopback.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.chromium import LAUNCH_ARGS as TEST_LAUNCH_ARGS  # noqa: E402  (the project, found above)

BIN = Path(sys.executable).parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_NAME = "fieldops_bench_app"
PASSWORD = "walk-the-turf-1"
DOORS = 1000
OUTBOX_BEFORE_TAPS = 1000
SYNC_KNOCKS = 500
JS = "/static/volunteer/js/"

# Goals (issue 12, "Performance").
GOAL_SHELL_KB = 150
GOAL_COLD_MS = 3000
GOAL_WARM_MS = 1000
GOAL_TAP_P95_MS = 50
GOAL_WALK_MS = 300
GOAL_SYNC_MS = 5000

# Lighthouse's slow 4G as DevTools applies it per request (Chrome DevTools' "Slow 4G" preset).
SLOW_4G = {
    "offline": False,
    "latency": 150 * 3.75,  # ms
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,  # bytes a second
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
}
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
LOOPBACK = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
CPU_SLOWDOWN = 4

# The tests' flags, and no slowing of timers in a page that is not in front (the benchmark's pages
# are never shown on a screen).
LAUNCH_ARGS = [*TEST_LAUNCH_ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding"]

# The benchmark's street grid, in Venice (Los Angeles).
BASE_LAT, BASE_LNG = 33.9900, -118.4700
STREETS = ["OAK", "PINE", "ELM", "CEDAR", "MAPLE", "BIRCH", "WALNUT", "ASH", "LINDEN", "ALDER", "HAZEL", "ROSE"]
FIRST = ["Maria", "James", "Lupe", "Kenji", "Rosa", "David", "Ana", "Tom", "Carmen", "Luis", "Mei", "Sam"]
LAST = ["Garcia", "Nguyen", "Smith", "Hernandez", "Okafor", "Lopez", "Kim", "Johnson", "Rivera", "Brown"]
SCRIPT = (
    (
        ("Can we count on your vote?", "¿Podemos contar con su voto?"),
        [("Yes", "Sí"), ("Leaning yes", "Probablemente sí"), ("Undecided", "Indeciso"), ("No", "No")],
    ),
    (
        ("What matters most to you here?", "¿Qué le importa más aquí?"),
        [("Housing", "Vivienda"), ("Safety", "Seguridad"), ("Transit", "Transporte")],
    ),
    (("Would you host a sign?", "¿Pondría un letrero?"), [("Yes", "Sí"), ("No", "No"), ("Maybe", "Quizás")]),
)

EMPTY_HTML = b"<!doctype html><html lang=en><meta charset=utf-8><title>empty</title><p>An empty page.</p></html>\n"

# ---------------------------------------------------------------- in the page
# Run before any page script (CDP, so the app's Content-Security-Policy does not apply):
# __bench.screens[name] = when the screen first showed (in the DOM, then the next frame);
# __benchWait(act, done) = {dom, frame} in ms from act() until done() holds.
INIT_JS = """
(() => {
  const marks = (window.__bench = { screens: {} });
  const ready = (el, name) => {
    if (name === "login") return el.querySelector("form.login input#username");
    if (name === "walk") return el.querySelector("a.door-row, .empty");
    return el.firstElementChild;
  };
  const note = () => {
    const el = document.getElementById("screen");
    const name = el && el.dataset.screen;
    if (!name || marks.screens[name] || !ready(el, name)) return;
    const rows = el.querySelectorAll("a.door-row").length;
    const mark = (marks.screens[name] = { dom: performance.now(), rows });
    requestAnimationFrame(() => setTimeout(() => { mark.frame = performance.now(); }, 0));
  };
  const options = { subtree: true, childList: true, attributes: true, attributeFilter: ["data-screen"] };
  new MutationObserver(note).observe(document, options);
  window.__benchWait = (act, done) => new Promise((resolve, reject) => {
    let t0 = 0;
    let finished = false;
    const observer = new MutationObserver(() => check());
    const timer = setTimeout(() => {
      if (finished) return;
      finished = true;
      observer.disconnect();
      reject(new Error("timed out"));
    }, 60000);
    const check = () => {
      if (finished || !done()) return;
      finished = true;
      observer.disconnect();
      clearTimeout(timer);
      const dom = performance.now() - t0;
      requestAnimationFrame(() => setTimeout(() => resolve({ dom, frame: performance.now() - t0 }), 0));
    };
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    t0 = performance.now();
    act();
    check();
  });
})();
"""

NAV_TIMING_JS = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByType("paint").find((p) => p.name === "first-contentful-paint");
  return { response: n.responseEnd, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
           fcp: fcp ? fcp.startTime : null };
}"""

PRECACHED_JS = """async () => {
  const name = (await caches.keys()).find((key) => key.startsWith("fieldops-shell-"));
  return name ? (await (await caches.open(name)).keys()).length : 0;
}"""

# Shown: the list of all `rows` doors on screen, its rows drawn down past the bottom of the screen (the
# list is windowed: it draws the rows near the screen, and more as the volunteer scrolls).
OPEN_WALK_JS = """({ id, rows }) => window.__benchWait(
  () => { location.hash = `#/walk/${id}`; },
  () => {
    const list = document.querySelector('#screen[data-screen="walk"] .buildings');
    if (!list || Number(list.dataset.doors) !== rows) return false;
    const drawn = list.querySelectorAll("a.door-row");
    return drawn.length === rows
      || (drawn.length > 0 && drawn[drawn.length - 1].getBoundingClientRect().top >= window.innerHeight);
  })"""

# The walk list's parts, apart: the IndexedDB read, walk.render() (which reads again and builds the
# DOM; the router's context stubbed, rememberWalk's write included), then style and layout.
WALK_PARTS_JS = """async (id) => {
  const sync = await import("/static/volunteer/js/sync.js");
  const walk = await import("/static/volunteer/js/screens/walk.js");
  const hooks = { lastDoor: () => null, rememberWalk: async () => {} };
  const ctx = new Proxy(hooks, {
    get: (target, key) => (key in target ? target[key] : key === "then" ? undefined : () => null),
  });
  const out = { read: [], render: [], layout: [] };
  for (let i = 0; i < 3; i += 1) {
    let t = performance.now();
    await sync.walkFromPhone(id);
    out.read.push(performance.now() - t);
    t = performance.now();
    const element = await walk.render(ctx, { assignmentId: id });
    out.render.push(performance.now() - t);
    const box = document.createElement("div");
    box.style.cssText = "position:absolute;left:0;top:0;width:412px;visibility:hidden";
    t = performance.now();
    box.append(element);
    document.body.append(box);
    void box.offsetHeight;
    out.layout.push(performance.now() - t);
    box.remove();
  }
  return out;
}"""

# Knocks at the turf's doors (by walk position), as the door screen makes them; `mix`: every fifth
# a conversation with the three answers, a support level and a note, every seventh a refusal.
RECORD_JS = """async ({ id, positions, mix }) => {
  const outbox = await import("/static/volunteer/js/outbox.js");
  const sync = await import("/static/volunteer/js/sync.js");
  const { assignment, doors } = await sync.walkFromPhone(id);
  const codes = assignment.result_codes.map((c) => c.code);
  const pick = (code) => (codes.includes(code) ? code : codes[0]);
  const drafts = positions.map((p, i) => {
    const door = doors[p];
    const draft = {
      door: door.id, assignment: id, person: null, result: pick("not_home"), answers: {}, notes: "",
      support_level: null, lat: door.lat, lng: door.lng, accuracy_m: 8,
    };
    if (mix && i % 5 === 0) {
      draft.result = pick("canvassed");
      draft.person = door.people.length ? door.people[0].id : null;
      for (const q of assignment.script) draft.answers[String(q.id)] = q.options[i % q.options.length].id;
      draft.support_level = 1 + (i % 5);
      draft.notes = "Asked about the bus line.";
    } else if (mix && i % 7 === 0) {
      draft.result = pick("refused");
    }
    return draft;
  });
  const made = await outbox.recordKnocks(drafts);
  await sync.refreshCounts();
  return made.map((k) => k.id);
}"""

# The floor of "shown" on this page: a one-character change to the progress line, from the change to
# the next frame (the same rule as the taps'), 30 times, with the walk list on screen.
FRAME_FLOOR_JS = """async () => {
  const line = document.querySelector("#screen .progress span");
  const out = [];
  for (let i = 0; i < 30; i += 1) {
    const r = await window.__benchWait(() => { line.textContent += i % 2 ? "" : " "; }, () => true);
    out.push(r.frame);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return out;
}"""

# The floor of going back to the list: a full-screen cover (like the door screen over the list) taken
# away, from the removal to the next frame: the list under it painted again, nothing else changed.
COVER_FLOOR_JS = """async () => {
  const out = [];
  for (let i = 0; i < 30; i += 1) {
    const cover = document.createElement("div");
    cover.className = "over-list";
    cover.textContent = "cover";
    document.getElementById("screen").append(cover);
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50)));
    const r = await window.__benchWait(() => cover.remove(), () => true);
    out.push(r.frame);
  }
  return out;
}"""

SAVE_ALONE_JS = """async ({ id, doorId }) => {
  const outbox = await import("/static/volunteer/js/outbox.js");
  const draft = { door: doorId, assignment: id, person: null, result: "not_home", answers: {}, notes: "",
                  support_level: null };
  const out = [];
  for (let i = 0; i < 30; i += 1) {
    const t = performance.now();
    const [knock] = await outbox.recordKnocks([draft]);
    out.push(performance.now() - t);
    await outbox.undoKnocks([knock.id]);
  }
  return out;
}"""

# Before a door is opened (not timed): the list scrolled, a screen at a time as a thumb does, until
# the door's row is drawn.
SCROLL_TO_ROW_JS = """async (hash) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const selector = `#screen a.door-row[href="${hash}"]`;
  for (let step = 0; step < 1000 && !document.querySelector(selector); step += 1) {
    if (window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1) window.scrollTo(0, 0);
    else window.scrollBy(0, Math.round(window.innerHeight * 0.8));
    await frame();
    await frame();
  }
  return document.querySelector(selector) !== null;
}"""

# A door is opened as a volunteer opens it: a tap on its row in the walk list.
OPEN_DOOR_JS = """(hash) => window.__benchWait(
  () => { document.querySelector(`#screen a.door-row[href="${hash}"]`).click(); },
  () => document.querySelector(
    `#screen[data-screen="door"] .screen-door[data-door="${hash.split("/").pop()}"]`) !== null)"""

TAP_JS = """({ doorId, code }) => {
  const toast = document.getElementById("toast");
  const before = toast.firstChild;
  const button = document.querySelector(`button.result[data-code="${code}"]`);
  return window.__benchWait(
    () => button.click(),
    () => document.getElementById("screen").dataset.screen === "walk"
          && document.querySelector(`#screen a.door-row[data-door="${doorId}"][data-done="true"]`) !== null
          && !toast.hidden && toast.firstChild !== before);
}"""

UNDO_PENDING_JS = """async () => {
  const outbox = await import("/static/volunteer/js/outbox.js");
  const pending = await outbox.knocksInState("pending");
  await outbox.undoKnocks(pending.map((k) => k.id));
  await (await import("/static/volunteer/js/sync.js")).refreshCounts();
  return pending.length;
}"""

FETCH_WALK_JS = """async (id) => {
  const { kv } = await import("/static/volunteer/js/store.js");
  const headers = { Authorization: `Token ${await kv.get("token")}` };
  const t = performance.now();
  const response = await fetch(`/api/v1/assignments/${id}/walk-list/`, { headers, cache: "no-store" });
  const text = await response.text();
  const data = JSON.parse(text);
  return { ms: performance.now() - t, bytes: text.length, doors: data.doors.length };
}"""

PUSH_BODY_JS = """async () => {
  const outbox = await import("/static/volunteer/js/outbox.js");
  const model = await import("/static/volunteer/js/model.js");
  const { kv } = await import("/static/volunteer/js/store.js");
  const knocks = await outbox.knocksInState("pending");
  return { token: await kv.get("token"), device_id: await kv.get("deviceId"), attempts: knocks.map(model.pushItem) };
}"""

ONLINE_ROUND_DONE_JS = """(since) => performance.getEntriesByType("resource")
  .some((e) => e.name.includes("/api/v1/sync/pull/") && e.startTime > since && e.responseEnd > 0)"""

SYNC_NOW_JS = """async () => {
  const status = document.getElementById("sync-status");
  const button = [...document.querySelectorAll(".screen-sync button")].find((b) => /Sync now/.test(b.textContent));
  const since = performance.now();
  const timing = await window.__benchWait(() => button.click(), () => status.dataset.state === "synced");
  const requests = performance.getEntriesByType("resource")
    .filter((e) => e.startTime >= since && e.name.includes("/api/v1/sync/"))
    .map((e) => ({ url: e.name.replace(location.origin, "").split("?")[0], start: e.startTime - since,
                   end: e.responseEnd - since, bytes: e.transferSize }));
  return { ...timing, requests };
}"""


# ---------------------------------------------------------------- small helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def median(values) -> float:
    return statistics.median(list(values))


# The table's rows in this order, whichever phase measured them first.
ORDER = ["shell", "cold", "preload", "warm today", "warm walk", "walk", "walk half", "walk fetch", "tap", "sync"]


@dataclass
class Report:
    rows: dict[str, tuple[str, str, str, str, str]] = field(default_factory=dict)  # measure, figure, baseline, goal, ok
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def row(self, key: str, measure: str, figure: str, baseline: str = "", goal: str = "", ok: bool | None = None):
        self.rows[key] = (measure, figure, baseline, goal, "" if ok is None else "PASS" if ok else "FAIL")

    def print(self) -> None:
        header = ("measure", "figure (ms of each run)", "baseline, same run", "goal", "")
        rows = [self.rows[key] for key in ORDER if key in self.rows]
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(5)]
        for row in (header, *rows):
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        print()
        for note in self.notes:
            print(f"- {note}")


# ---------------------------------------------------------------- the world


def write_doors_csv(path: Path, rng: random.Random) -> tuple[float, float, float, float]:
    """1,000 doors: houses and apartment buildings (2-12 units) along 12 streets, people at ~60 %.

    One CSV row per person (rows with the same address merge into one door); a door with nobody
    listed is one row with empty person fields. Returns the doors' bounding box.
    """
    rows = []
    doors = voter = street = 0
    number = 100
    lat, lng = BASE_LAT, BASE_LNG
    while doors < DOORS:
        units = [""] if rng.random() < 0.75 else [str(u) for u in range(1, rng.randint(2, 12) + 1)]
        for unit in units[: DOORS - doors]:
            door = {
                "number": str(number),
                "street_name": STREETS[street],
                "street_type": "ST",
                "unit_type": "APT" if unit else "",
                "unit": unit,
                "city": "LOS ANGELES",
                "state": "CA",
                "zip": "90291",
                "lat": f"{lat:.7f}",
                "lng": f"{lng:.7f}",
                "building_id": f"bench-{street}-{number}",
            }
            people = rng.choice([0, 0, 1, 1, 1, 2, 2, 3]) if rng.random() < 0.8 else 0
            if not people:
                rows.append({**door, "voter_id": "", "first_name": "", "last_name": ""})
            for _ in range(people):
                voter += 1
                person = {"voter_id": f"V{voter:06d}", "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST)}
                rows.append({**door, **person})
            doors += 1
        number += 4
        lng += 0.00012
        if number > 100 + 4 * 90:  # about 90 buildings a street, then the next street north
            street, number, lng, lat = street + 1, 100, BASE_LNG, lat + 0.0009
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lats = [float(r["lat"]) for r in rows]
    lngs = [float(r["lng"]) for r in rows]
    return min(lngs), min(lats), max(lngs), max(lats)


def rectangle(box: tuple[float, float, float, float], margin: float) -> dict:
    x0, y0, x1, y1 = box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def load_world(scratch: Path) -> dict:
    from django.utils import timezone

    from canvass.campaigns.services import campaign_create_or_update, script_replace
    from canvass.field.services import assignment_create, shift_create
    from canvass.models import TurfDoor
    from canvass.turfs.services import turf_create_from_polygon
    from fieldops.models import Role
    from fieldops.services import member_add, organization_create
    from turf.importers.districts import import_districts
    from turf.importers.doors import import_doors
    from turf.models import District, Person

    now = timezone.now()
    org = organization_create(slug="bench-app", name="Benchmark chapter", timezone="America/Los_Angeles")
    organizer = member_add(organization=org, username="olivia", role=Role.ORGANIZER, password=PASSWORD).user
    canvasser = member_add(organization=org, username="carlos", role=Role.CANVASSER, password=PASSWORD).user
    box = write_doors_csv(scratch / "doors.csv", random.Random(12))
    feature = {"type": "Feature", "properties": {"id": "1", "name": "Bench"}, "geometry": rectangle(box, 0.01)}
    (scratch / "district.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    import_districts(
        organization=org, layer_name="Bench", id_field="id", name_field="name", source=scratch / "district.geojson"
    )
    report = import_doors(organization=org, source=scratch / "doors.csv")
    assert report.created == DOORS, report.lines()
    campaign = campaign_create_or_update(
        organization=org,
        slug="bench",
        name="Bench canvass",
        target_districts=[District.objects.get(organization=org)],
        starts_on=timezone.localdate(),
        goal_doors=DOORS,
    )
    script_replace(campaign=campaign, questions=SCRIPT)
    turf = turf_create_from_polygon(campaign=campaign, geojson=rectangle(box, 0.0005), name="Bench 1000").turf
    assert turf.door_count == DOORS, turf.door_count
    assignment = assignment_create(
        organization=org, actor=organizer, turf=turf, canvassers=[canvasser], starts_at=now - dt.timedelta(hours=1)
    )
    soon = now.replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    shift_create(
        organization=org,
        actor=organizer,
        campaign=campaign,
        name="Bench shift",
        starts_at=soon,
        ends_at=soon + dt.timedelta(hours=3),
        location_name="Oak St",
        lat=BASE_LAT,
        lng=BASE_LNG,
    )
    return {
        "assignment": assignment.pk,
        "door_ids": list(TurfDoor.objects.filter(turf=turf).order_by("position").values_list("door_id", flat=True)),
        "people": Person.objects.filter(door__organization=org).count(),
        "buildings": turf.building_count,
    }


def preload_page() -> str:
    """An experiment, not the app: /app/'s HTML with a <link rel=modulepreload> for each of its modules
    (map.js excepted), so that the browser asks for every module at once instead of discovering them
    import by import. Served as a static file (without the app's CSP headers)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    html = client.get("/app/").content.decode()
    worker = client.get("/app/sw.js").content.decode()
    found = re.search(r"const SHELL = (\[.*?\]);", worker)
    assert found is not None, "the service worker has no SHELL list"
    shell = json.loads(found.group(1))
    modules = [url for url in shell if url.endswith(".js") and not url.endswith("/map.js")]
    return html.replace("</head>", "".join(f'<link rel="modulepreload" href="{url}">\n' for url in modules) + "</head>")


# ---------------------------------------------------------------- the server


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "fieldops.wsgi", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 - the server keeps it
        start_new_session=True,  # its own process group: stopped whole, workers included
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.25)
    raise SystemExit(f"gunicorn did not answer /health/live/ within 30 s; see {log}")


def app_version() -> str:
    """The commit measured, and whether volunteer/ had changes not committed yet."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "volunteer"], capture_output=True, text=True).stdout
    return f"commit {head or '?'}" + (", with uncommitted changes in volunteer/" if dirty.strip() else "")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def body_size(url: str, accept_encoding: str) -> tuple[int, str]:
    """(body bytes, Content-Encoding) of a GET sent with this Accept-Encoding."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding})
    with urllib.request.urlopen(request, timeout=10) as response:
        return len(response.read()), response.headers.get("Content-Encoding", "")


# ---------------------------------------------------------------- the phone


class Phone:
    """A browser context with one page and a CDP session on it (throttling, network log, metrics)."""

    def __init__(self, playwright, browser, base_url: str) -> None:
        self.context = browser.new_context(
            **playwright.devices["Pixel 7"],
            geolocation={"latitude": BASE_LAT, "longitude": BASE_LNG, "accuracy": 10},
            permissions=["geolocation"],
            locale="en-US",
            timezone_id="America/Los_Angeles",
            service_workers="allow",
        )
        self.context.set_default_timeout(60_000)
        self.context.add_init_script(INIT_JS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught {error}"))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Performance.enable")
        self.responses: dict[str, dict] = {}
        self.cdp.on("Network.responseReceived", self._on_response)
        self.cdp.on("Network.loadingFinished", self._on_finished)

    def _on_response(self, event: dict) -> None:
        response = event["response"]
        self.responses[event["requestId"]] = {
            "url": response["url"],
            "type": event.get("type", ""),
            "from_sw": response.get("fromServiceWorker", False),
            "bytes": None,
        }

    def _on_finished(self, event: dict) -> None:
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]]["bytes"] = event["encodedDataLength"]

    def throttle(self, network: dict) -> None:
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        self.cdp.send("Network.emulateNetworkConditions", network)

    def offline(self) -> None:
        self.throttle(OFFLINE)
        self.page.wait_for_function("() => navigator.onLine === false")

    def metrics(self) -> dict[str, float]:
        return {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}

    def first_shown(self, screen: str) -> dict:
        """When `screen` first showed in this document (set up by INIT_JS)."""
        mark = f"window.__bench && window.__bench.screens[{screen!r}]"
        self.page.wait_for_function(f"() => {mark} && {mark}.frame", polling=100, timeout=60_000)
        return self.page.evaluate(f"() => {mark}")

    def go(self, hash_: str, screen: str) -> None:
        self.page.evaluate(f"location.hash = {hash_!r}")
        self.page.wait_for_selector(f'#screen[data-screen="{screen}"]')

    def close(self) -> None:
        self.context.close()


# ---------------------------------------------------------------- measurements


def cold_start(playwright, browser, base_url: str, report: Report, times: int) -> None:
    """Cold loads: the empty page, the app, and the modulepreload experiment, in turn; the shell's bytes."""
    app, empty, preload, responses = [], [], [], {}
    for _ in range(times):
        phone = Phone(playwright, browser, base_url)
        phone.throttle(SLOW_4G)
        phone.page.goto(base_url + "/static/bench/empty.html", wait_until="load")
        empty.append(phone.page.evaluate(NAV_TIMING_JS))
        phone.close()

        phone = Phone(playwright, browser, base_url)
        phone.throttle(SLOW_4G)
        phone.page.goto(base_url + "/app/", wait_until="commit")
        mark = phone.first_shown("login")
        phone.page.wait_for_load_state("load")
        app.append({**phone.page.evaluate(NAV_TIMING_JS), **mark})
        responses = dict(phone.responses)
        phone.close()

        phone = Phone(playwright, browser, base_url)
        phone.throttle(SLOW_4G)
        phone.page.goto(base_url + "/static/bench/app-preload.html", wait_until="commit")
        preload.append(phone.first_shown("login"))
        phone.close()

    # The shell: what the cold start fetched (HTML, CSS, JS), as transferred and uncompressed.
    files = [
        r
        for r in responses.values()
        if r["bytes"] is not None and not r["from_sw"] and r["type"] in ("Document", "Script", "Stylesheet")
    ]
    wire = sum(f["bytes"] for f in files)
    raw = sum(body_size(f["url"], "identity")[0] for f in files)
    encodings = sorted(
        {f"{Path(f['url']).suffix or 'page'} {body_size(f['url'], 'gzip, deflate, br')[1] or 'none'}" for f in files}
    )
    map_loaded = any(f["url"].endswith("/map.js") for f in files)
    report.row(
        "shell",
        "app shell before the map: HTML, CSS, JS on the wire",
        f"{wire / 1024:.1f} KB in {len(files)} files",
        f"{raw / 1024:.1f} KB uncompressed",
        f"≤ {GOAL_SHELL_KB} KB",
        wire <= GOAL_SHELL_KB * 1024 and not map_loaded,
    )
    frames = [r["frame"] for r in app]
    report.row(
        "cold",
        "cold start to the login form, median",
        f"{ms(median(frames))} ({runs(frames)})",
        f"empty page loaded: {ms(median(r['load'] for r in empty))} ({runs([r['load'] for r in empty])})",
        f"≤ {GOAL_COLD_MS / 1000:.0f} s",
        median(frames) <= GOAL_COLD_MS,
    )
    frames = [r["frame"] for r in preload]
    report.row("preload", "  experiment, not the app: + modulepreload links", f"{ms(median(frames))} ({runs(frames)})")
    largest = sorted(files, key=lambda f: -f["bytes"])[:3]
    report.notes.append(
        f"cold start, medians: the HTML in at {ms(median(r['response'] for r in app))}, first paint "
        f"{ms(median(r['fcp'] or 0 for r in app))}, DOMContentLoaded (every module fetched and run) "
        f"{ms(median(r['dcl'] for r in app))}, the login form in the DOM {ms(median(r['dom'] for r in app))}; "
        f"{len(responses)} requests; encodings: {', '.join(encodings)}; map.js loaded: {map_loaded}; largest: "
        + ", ".join(f"{f['url'].split('/')[-1] or '/app/'} {f['bytes'] / 1024:.1f} KB" for f in largest)
    )


def log_in_and_download(phone: Phone, base_url: str, assignment: int) -> int:
    """Set-up, not throttled: log in, download the turf, wait for the service worker. Returns the precache size."""
    page = phone.page
    page.goto(base_url + "/app/")
    page.wait_for_selector('#screen[data-screen="login"]')
    page.fill("#username", "carlos")
    page.fill("#password", PASSWORD)
    page.tap("form.login button[type=submit]")
    page.wait_for_selector('#screen[data-screen="today"]')
    card = page.locator(f'article.card[data-assignment="{assignment}"]')
    card.get_by_role("button", name="Download turf").tap()
    card.get_by_role("link", name="Open walk list").wait_for()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)
    return page.evaluate(PRECACHED_JS)


def warm_start(playwright, browser, phone: Phone, base_url: str, assignment: int, report: Report) -> None:
    """Offline reloads at Today and at the walk list (1,000 doors, none done yet)."""
    page = phone.page
    shown: dict[str, list[dict]] = {"today": [], "walk": []}
    for hash_, screen in (("#/today", "today"), (f"#/walk/{assignment}", "walk")):
        phone.go(hash_, screen)
        for _ in range(3):
            page.reload(wait_until="commit")
            mark = phone.first_shown(screen)
            shown[screen].append({**mark, **page.evaluate(NAV_TIMING_JS)})
    controlled = page.evaluate("() => navigator.serviceWorker.controller !== null")
    baseline = Phone(playwright, browser, base_url)
    baseline.throttle(LOOPBACK)
    baseline.page.goto(base_url + "/static/bench/empty.html")
    reloads = []
    for _ in range(3):
        baseline.page.reload(wait_until="load")
        reloads.append(baseline.page.evaluate(NAV_TIMING_JS)["load"])
    baseline.close()
    for screen, label in (("today", "Today"), ("walk", "the walk list (1,000 doors)")):
        frames = [m["frame"] for m in shown[screen]]
        report.row(
            f"warm {screen}",
            f"warm start offline to {label}, median",
            f"{ms(median(frames))} ({runs(frames)})",
            f"empty page reloaded: {ms(median(reloads))}",
            f"≤ {GOAL_WARM_MS / 1000:.0f} s",
            median(frames) <= GOAL_WARM_MS and controlled,
        )
    today, walk = shown["today"], shown["walk"]
    report.notes.append(
        f"warm start, medians: the service worker in control {controlled}; the HTML from it at "
        f"{ms(median(m['response'] for m in today))}, DOMContentLoaded (modules from its cache, run) "
        f"{ms(median(m['dcl'] for m in today))}, Today in the DOM {ms(median(m['dom'] for m in today))}; "
        f"the walk list in the DOM {ms(median(m['dom'] for m in walk))} ({walk[-1]['rows']} rows)"
    )


def open_walk_list(phone: Phone, assignment: int, times: int) -> list[float]:
    frames = []
    for _ in range(times):
        phone.go("#/today", "today")
        phone.page.wait_for_timeout(200)
        frames.append(phone.page.evaluate(OPEN_WALK_JS, {"id": assignment, "rows": DOORS})["frame"])
    return frames


def walk_list(phone: Phone, assignment: int, report: Report) -> list[float]:
    """Today → the walk list, filter All (set once: the walk screen keeps its filter while the page lives)."""
    phone.go(f"#/walk/{assignment}", "walk")
    # Taps, not clicks, as a finger on a phone: a click leaves a mouse pointer hovering over the page,
    # and the browser then hit-tests under it after every layout (17 ms a tap on a 1,000-row list).
    phone.page.locator(".screen-walk .segmented button").nth(2).tap()
    phone.page.wait_for_selector('.screen-walk .segmented button:nth-child(3)[aria-pressed="true"]')
    frames = open_walk_list(phone, assignment, 5)
    parts = phone.page.evaluate(WALK_PARTS_JS, assignment)
    report.notes.append(
        "walk list, its parts (ms of 3 runs, no door done): the turf read from IndexedDB (sync.walkFromPhone) "
        f"{runs(parts['read'])}; walk.render(), the same read included, {runs(parts['render'])}; "
        f"style and layout of the list {runs(parts['layout'])}"
    )
    return frames


def taps(phone: Phone, assignment: int, door_ids: list[int], report: Report, count: int, profile: bool) -> None:
    """1,000 knocks waiting (offline), then `count` taps on "Not home" at doors not yet done."""
    page = phone.page
    positions = [p for p in range(OUTBOX_BEFORE_TAPS // 2) for _ in (0, 1)]  # doors 0-499, two knocks each
    page.evaluate(RECORD_JS, {"id": assignment, "positions": positions, "mix": True})
    waiting = page.evaluate(f"async () => (await import('{JS}outbox.js')).counts()")["pending"]
    assert waiting == OUTBOX_BEFORE_TAPS, waiting
    half_done = open_walk_list(phone, assignment, 3)
    alone = page.evaluate(SAVE_ALONE_JS, {"id": assignment, "doorId": door_ids[-1]})
    floor = page.evaluate(FRAME_FLOOR_JS)
    cover = page.evaluate(COVER_FLOOR_JS)

    results, opens = [], []
    before = phone.metrics()
    after = before
    extra = 10 if profile else 0
    for i in range(count + extra):
        door = door_ids[OUTBOX_BEFORE_TAPS // 2 + i]
        if i == count:
            after = phone.metrics()
            phone.cdp.send("Profiler.enable")
            phone.cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            phone.cdp.send("Profiler.start")
        assert page.evaluate(SCROLL_TO_ROW_JS, f"#/door/{assignment}/{door}")
        opened = page.evaluate(OPEN_DOOR_JS, f"#/door/{assignment}/{door}")
        page.wait_for_timeout(100)
        result = page.evaluate(TAP_JS, {"doorId": door, "code": "not_home"})
        if i < count:
            opens.append(opened["frame"])
            results.append(result)
    if not profile:
        after = phone.metrics()
    frames = [r["frame"] for r in results]
    doms = [r["dom"] for r in results]
    p95 = percentile(frames, 0.95)
    report.row(
        "tap",
        f"tap on a result code, {OUTBOX_BEFORE_TAPS:,} waiting: p95 of {count}",
        f"{ms(p95)} (median {ms(median(frames))}, max {ms(max(frames))})",
        f"one knock saved alone: median {ms(median(alone))}, p95 {ms(percentile(alone, 0.95))}; "
        f"a one-character change shown: median {ms(median(floor))}, p95 {ms(percentile(floor, 0.95))}; "
        f"a full-screen cover taken off the list: median {ms(median(cover))}, p95 {ms(percentile(cover, 0.95))}",
        f"p95 ≤ {GOAL_TAP_P95_MS} ms",
        p95 <= GOAL_TAP_P95_MS,
    )
    per_tap = {
        key: (after[key] - before[key]) * 1000 / count
        for key in ("ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "TaskDuration")
    }
    report.notes.append(
        f"tap: in the DOM p95 {ms(percentile(doms, 0.95))}, median {ms(median(doms))}. Main-thread time per tap and "
        f"door opened (CDP Performance.getMetrics): script {per_tap['ScriptDuration']:.0f} ms, style "
        f"{per_tap['RecalcStyleDuration']:.0f} ms, layout {per_tap['LayoutDuration']:.0f} ms, all tasks "
        f"{per_tap['TaskDuration']:.0f} ms. Opening the door screen from the walk list (no goal): median "
        f"{ms(median(opens))}, p95 {ms(percentile(opens, 0.95))}"
    )
    report.extra["half_done"] = half_done
    if profile:
        report.extra["profile"] = phone.cdp.send("Profiler.stop")["profile"]


def sync_500(phone: Phone, base_url: str, assignment: int, report: Report) -> None:
    """500 knocks recorded offline, back online (slow 4G), Sync now until synced; then the Python baseline."""
    page = phone.page
    ids = page.evaluate(RECORD_JS, {"id": assignment, "positions": list(range(SYNC_KNOCKS)), "mix": True})
    body = page.evaluate(PUSH_BODY_JS)
    # Online: the "online" round sends nothing younger than the undo window (10 s), then pulls; let it end.
    since = page.evaluate("performance.now()")
    phone.throttle(SLOW_4G)
    page.wait_for_function(ONLINE_ROUND_DONE_JS, arg=since)
    page.wait_for_selector('#sync-status[data-state="waiting"]')
    page.click("#sync-status")
    page.wait_for_selector('#screen[data-screen="sync"]')
    page.wait_for_timeout(300)
    result = page.evaluate(SYNC_NOW_JS)
    stored = stored_count(ids)
    python = python_push(base_url, body)
    report.row(
        "sync",
        f"{SYNC_KNOCKS} waiting knocks sent and confirmed",
        f"{ms(result['frame'])}",
        f"Python client's push, loopback: {ms(median(python))} ({runs(python)})",
        f"≤ {GOAL_SYNC_MS / 1000:.0f} s",
        result["frame"] <= GOAL_SYNC_MS and stored == SYNC_KNOCKS,
    )
    upload = len(json.dumps({"device_id": body["device_id"], "sent_at": "", "attempts": body["attempts"]}))
    push = next((r for r in result["requests"] if r["url"].endswith("/push/")), None)
    pull = next((r for r in result["requests"] if r["url"].endswith("/pull/")), None)
    if push and pull:
        report.notes.append(
            f"sync: {stored} of {SYNC_KNOCKS} knocks stored on the server. From the tap: the push request sent at "
            f"{push['start']:.0f} ms, answered at {push['end']:.0f} ms ({upload / 1024:.0f} KB up, "
            f"{upload / SLOW_4G['uploadThroughput']:.1f} s of it at 675 kbps; {push['bytes'] / 1024:.0f} KB of "
            f"receipts down); receipts applied in IndexedDB until the pull request at {pull['start']:.0f} ms "
            f"({pull['start'] - push['end']:.0f} ms); the pull answered at {pull['end']:.0f} ms; the status "
            f'"synced" at {result["dom"]:.0f} ms'
        )


def stored_count(ids: list[str]) -> int:
    from canvass.models import ContactAttempt

    return ContactAttempt.objects.filter(pk__in=ids).count()


def python_push(base_url: str, body: dict, times: int = 3) -> list[float]:
    """The same 500 knocks, with new ids (so the server stores them again), pushed by urllib over loopback."""
    out = []
    for _ in range(times):
        attempts = [{**a, "id": str(uuid.uuid4())} for a in body["attempts"]]
        sent_at = dt.datetime.now(dt.UTC).isoformat()
        data = json.dumps({"device_id": body["device_id"], "sent_at": sent_at, "attempts": attempts}).encode()
        request = urllib.request.Request(
            base_url.replace("localhost", "127.0.0.1") + "/api/v1/sync/push/",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Token {body['token']}"},
        )
        t = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        out.append((time.perf_counter() - t) * 1000)
        statuses = {r["status"] for r in answer["results"]}
        assert statuses == {"accepted"}, statuses
    return out


def print_profile(profile: dict, taps: int) -> None:
    """Self time by function over the profiled taps (door screen opening included), from CDP Profiler samples."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us: dict[str, float] = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[node_id]["callFrame"]
        url = frame["url"].split(JS)[-1] if frame["url"] else ""
        name = frame["functionName"] or "(anonymous)"
        key = f"{name} {url}:{frame['lineNumber'] + 1}" if url else name
        self_us[key] = self_us.get(key, 0) + delta
    busy = sum(value for key, value in self_us.items() if key != "(idle)")
    print(f"\nCPU profile of {taps} door openings and taps (self time; idle left out; {busy / 1000:.0f} ms in all):")
    for key, value in sorted(self_us.items(), key=lambda item: -item[1])[:16]:
        if key != "(idle)":
            print(f"  {value / 1000 / taps:7.1f} ms a tap {value / busy:6.1%}  {key}")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--taps", type=int, default=30)
    parser.add_argument("--cold", type=int, default=3, help="cold loads of each page (default 3)")
    parser.add_argument("--profile", action="store_true", help="CDP CPU profile of 10 more taps: top functions")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (database, server log)")
    args = parser.parse_args()

    load_at_start = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="fieldops-bench-app-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fieldops.settings",
        "FIELDOPS_VAR_DIR": str(scratch),
        "STATIC_ROOT": str(scratch / "static"),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "REQUEST_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if args.database == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_NAME}")
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.update(env)
    # Playwright's sync API runs an event loop in this thread; the ORM reads after it are this script's own.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sys.path.insert(0, str(ROOT))

    server = None
    try:
        started = time.monotonic()
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        world = load_world(scratch)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # this machine's PostgreSQL runs with autovacuum off
        call_command("collectstatic", interactive=False, verbosity=0)
        (scratch / "static" / "bench").mkdir()
        (scratch / "static" / "bench" / "empty.html").write_bytes(EMPTY_HTML)
        (scratch / "static" / "bench" / "app-preload.html").write_text(preload_page())
        connection.close()
        port = free_port()
        server = start_server(env, port, scratch / "gunicorn.log")
        base_url = f"http://localhost:{port}"  # localhost: a secure context, where service workers run
        print(
            f"set-up: {connection.vendor}, {DOORS:,} doors in {world['buildings']:,} buildings, "
            f"{world['people']:,} people; collectstatic; gunicorn at {base_url}: {time.monotonic() - started:.0f} s",
            flush=True,
        )
        report = measure(args, base_url, world)
        print()
        print(f"the app: {app_version()}")
        print(
            f"The volunteer app: Pixel 7 viewport, CPU {CPU_SLOWDOWN}x slower, slow 4G (562.5 ms a request, 1.44 "
            f"Mbps down, 675 kbps up); {connection.vendor}; {os.cpu_count()} cores, load average (1 min) "
            f"{load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
        )
        report.print()
        if "profile" in report.extra:
            print_profile(report.extra["profile"], 10)
    finally:
        if server is not None:
            stop_server(server)
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if args.database == "postgres":
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        if args.keep:
            print(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def measure(args, base_url: str, world: dict) -> Report:
    from playwright.sync_api import sync_playwright

    report = Report()
    assignment = world["assignment"]

    def phase(name: str, since: float) -> float:
        print(f"{name}: {time.monotonic() - since:.0f} s", flush=True)
        return time.monotonic()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=LAUNCH_ARGS)
        t = time.monotonic()
        cold_start(playwright, browser, base_url, report, args.cold)
        t = phase("cold starts", t)

        phone = Phone(playwright, browser, base_url)
        precached = log_in_and_download(phone, base_url, assignment)
        t = phase(f"logged in, turf downloaded, {precached} files precached by the service worker", t)

        phone.offline()  # from here until the sync: no network, so nothing is sent behind the measures
        warm_start(playwright, browser, phone, base_url, assignment, report)
        t = phase("warm starts", t)
        walk = walk_list(phone, assignment, report)
        t = phase("walk list", t)
        taps(phone, assignment, world["door_ids"], report, args.taps, args.profile)
        t = phase("taps", t)

        # The walk list rows, now that the taps' figures are in, and its fetch baselines (online).
        for key, label, frames in (("walk", "", walk), ("walk half", ", 500 done", report.extra["half_done"])):
            report.row(
                key,
                f"1,000-door walk list shown (filter All{label}), median",
                f"{ms(median(frames))} ({runs(frames)})",
                "",
                f"≤ {GOAL_WALK_MS} ms",
                median(frames) <= GOAL_WALK_MS,
            )
        undone = phone.page.evaluate(UNDO_PENDING_JS)
        phone.go("#/today", "today")
        phone.throttle(LOOPBACK)
        loopback = [phone.page.evaluate(FETCH_WALK_JS, assignment) for _ in range(3)]
        phone.throttle(SLOW_4G)
        slow = [phone.page.evaluate(FETCH_WALK_JS, assignment) for _ in range(2)]
        phone.offline()
        report.row(
            "walk fetch",
            "  baseline: fetch() + JSON of the walk list",
            "",
            f"loopback {ms(median(f['ms'] for f in loopback))}, slow 4G {ms(median(f['ms'] for f in slow))}",
        )
        report.notes.append(
            f"walk list baselines: fetch() + JSON.parse of GET /api/v1/assignments/ID/walk-list/ "
            f"({loopback[0]['bytes'] / 1024:.0f} KB, {loopback[0]['doors']} doors, not compressed), CPU 4x: over "
            f"loopback {runs([f['ms'] for f in loopback])} ms, over slow 4G {runs([f['ms'] for f in slow])} ms. "
            f"({undone} waiting knocks undone before the sync.)"
        )

        sync_500(phone, base_url, assignment, report)
        phase("sync", t)
        errors = [e for e in phone.errors if "ERR_INTERNET_DISCONNECTED" not in e]
        if errors:
            report.notes.append("browser errors: " + " | ".join(errors[:5]))
        phone.close()
        browser.close()
    return report


if __name__ == "__main__":
    main()
