#!/usr/bin/env python3
"""schemathesis against /api/v1/schema/ as each of the three standard users.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt -r requirements-bench.txt
    .venv-bench/bin/python benchmarks/fuzz_api.py [--max-examples 50] [--max-time 120] [--port 8766] [--users outsider]

On a throwaway SQLite database in var/fuzz/ (made anew each run unless
--keep-db) it loads the demo, gives the outsider (organizer of another
chapter) a small chapter of its own (4,000 Venice doors, turfs of 20, a shift,
three canvassers), issues phone tokens to organizer, canvasser1 and the
outsider, starts gunicorn, and runs schemathesis once per user with two
checks: no server error (5xx), and every 4xx has the JSON error body
{"detail": …, "errors": …}. It prints each run's summary and exits non-zero
when any check failed; the server's log (tracebacks) is var/fuzz/gunicorn.log.

The data a schema cannot state. Some requests are valid only with the
organization's data: ids in a body that must be the organization's
(`POST /assignments/`, `reassign/`, `no-show/`, `turfs/merge/`), a polygon
holding doors of the campaign (`POST /turfs/`), an object in the path
(`split/`, `archive/`, the shift actions), `ends_at` after `starts_at`
(`POST /shifts/`, `POST /assignments/`), `lat` with `lng`. The schema says
"an integer from 1 to 2^63-1", not "one of these rows", so random ids are
refused (400 in a body, 404 in a path) and schemathesis cannot tell that from
a schema that misses a constraint. So, as schemathesis documents for
data-dependent APIs, a `before_call` hook (benchmarks/fuzz/hooks.py) fills
in real data for three positive cases in four of each scenario (an operation's
run of a phase; with --max-time the fuzzing phase runs again and again, and
schemathesis judges each cycle on its own) of those operations: ids of
the fuzzing user's organization, an end after the start, a small square
around a door no active turf holds, both coordinates or neither, a turf name
made unique, a pull cursor the server gave; check-in and check-out are
preceded by the sign-up (and check-in) a phone makes first, since the
fuzzing of cancel/ gives the place back. A form body's null fields are left
out (a form has no null). schemathesis' cache of what earlier runs' 400s
taught it (.schemathesis/) is removed before each user's run: it replays
those requests first, with another user's token or ids of a remade database. SETUP below
prepares that data and writes it to var/fuzz/fuzz-data.json (per user: the
token, the campaigns with their active turfs without canvassers and door
positions free to draw on, the members, the upcoming shifts, a shift that
started an hour ago with ten sign-ups, the current assignments). The other
cases go as generated: foreign and missing ids are fuzzed as before.

schemathesis also prints warnings. "Schema validation mismatch" (an operation
refused with 400 every request the schema calls valid) is the one about the
schema; docs/api.md ("The schema: a typed contract") records the last run's.
A valid request that the object's state refuses is a 409 (docs/api.md,
"400 or 409"), which schemathesis does not count as a mismatch. "Missing
test data" (random ids in a path answer 404) is expected: ids are not guessable.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "fuzz"
PORT = 8766

# Run in `manage.py shell` after the demo: the outsider's chapter and the data the hooks draw from.
SETUP = """
import datetime as dt, json, os
from pathlib import Path
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from canvass.campaigns.models import Campaign
from canvass.campaigns.services import campaign_create_or_update
from canvass.field.models import Assignment, Shift
from canvass.field.selectors import current_assignment_q
from canvass.field.services import assignment_create, shift_ensure, shift_signup
from canvass.turfs.models import Turf
from canvass.turfs.selectors import turfs_with_current_assignments
from canvass.turfs.services import turf_archive, turfs_cut
from fieldops.models import Membership, Organization, Role
from fieldops.services import device_token_create, member_add, organization_create
from turf.importers.districts import import_districts
from turf.importers.doors import import_doors
from turf.models import District

VAR = Path(os.environ["FIELDOPS_VAR_DIR"])
DATA = Path(settings.BASE_DIR) / "data" / "la"
User = get_user_model()
now = timezone.now()

# The outsider organizes another chapter with a small campaign of its own (4,000 Venice doors,
# turfs of 20, a shift, three canvassers): its creates can succeed, and Venice's ids stay foreign.
other = organization_create(slug="elsewhere-fuzz", name="Elsewhere (fuzz)", timezone="America/Los_Angeles")
member_add(organization=other, username="outsider", role=Role.ORGANIZER)
for n in range(1, 4):
    member_add(organization=other, username=f"outsider-walker{n}", role=Role.CANVASSER)
if not Campaign.objects.filter(organization=other).exists():
    import_districts(organization=other, layer_name="City Council", id_field="District",
                     name_field="District_Name", source=DATA / "city_council.geojson")
    lines = (DATA / "venice_addresses.csv").read_text(encoding="utf-8").splitlines()
    (VAR / "elsewhere_doors.csv").write_text("\\n".join(lines[:4001]) + "\\n", encoding="utf-8")
    import_doors(organization=other, source=VAR / "elsewhere_doors.csv")
    cd11 = District.objects.get(organization=other, layer__name="City Council", external_id="11")
    campaign = campaign_create_or_update(organization=other, slug="elsewhere-canvass", name="Elsewhere canvass",
                                         target_districts=[cd11])
    turfs_cut(campaign=campaign, target_doors=20)
    day = timezone.localdate(timezone=other.tzinfo) + dt.timedelta(days=1)
    shift_ensure(organization=other, campaign=campaign, name="Elsewhere tomorrow",
                 starts_at=dt.datetime.combine(day, dt.time(10), tzinfo=other.tzinfo),
                 ends_at=dt.datetime.combine(day, dt.time(13), tzinfo=other.tzinfo))


def world(org):
    # The ids the hooks put in requests for a user of `org`, read once before the fuzzing.
    organizer = Membership.objects.filter(organization=org, role=Role.ORGANIZER).first().user
    members = list(Membership.objects.filter(organization=org, is_active=True, user__is_active=True)
                   .order_by("user_id").values_list("user_id", flat=True))
    walkers = [User.objects.get(pk=pk) for pk in Membership.objects.filter(organization=org, role=Role.CANVASSER,
               is_active=True).order_by("user_id").values_list("user_id", flat=True)[:10]]
    campaigns = []
    for campaign in Campaign.objects.filter(organization=org).order_by("pk"):
        active = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
        busy = set(turfs_with_current_assignments(active).values_list("pk", flat=True))
        free = [pk for pk in active.order_by("pk").values_list("pk", flat=True) if pk not in busy]
        # Doors no active turf holds, to draw a turf around: those of turfs archived here, 600 or
        # more (a drawn turf takes the doors of its square, about five; a 120-second run draws
        # about 60, and with the doors used up every drawing would be refused).
        points = []
        while free and len(points) < 600:
            turf = Turf.objects.get(pk=free.pop())
            turf_archive(turf=turf)
            points += [[d.lng, d.lat] for d in turf.doors.exclude(lat__isnull=True)[:60]]
        # Current assignments to reassign, on turfs of their own (not the ones to split and merge).
        for turf in Turf.objects.filter(pk__in=free[-4:]):
            assignment_create(organization=org, actor=organizer, turf=turf, canvassers=walkers[:2])
        free = free[:-4]
        campaigns.append({"id": campaign.pk, "turfs": free, "points": points})
    started = shift_ensure(organization=org, campaign=None, name="Fuzz: started an hour ago",
                           starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=3), capacity=50)
    for walker in walkers:
        shift_signup(shift=started, user=walker)
    # The fuzzing users too: their check-in and check-out can then be served (check-in is open).
    for user in User.objects.filter(username__in=["organizer", "canvasser1", "outsider"], membership__organization=org):
        shift_signup(shift=started, user=user)
    shifts = [[pk, campaign] for pk, campaign in Shift.objects.filter(organization=org, ends_at__gt=now)
              .order_by("starts_at").values_list("pk", "campaign_id")]
    current = Assignment.objects.filter(organization=org).filter(current_assignment_q())
    return {
        "campaigns": campaigns,
        "members": members,
        "shifts": shifts,
        "started_shift": {"id": started.pk, "users": [w.pk for w in walkers]},
        "assignments": list(current.order_by("pk").values_list("pk", flat=True)),
    }


venice = Organization.objects.get(slug="venice-demo")
worlds = {"venice": world(venice), "elsewhere": world(other)}
users = {"organizer": "venice", "canvasser1": "venice", "outsider": "elsewhere"}
out = {}
for name, org in users.items():
    token = device_token_create(user=User.objects.get(username=name), device_id="fuzz-" + name).key
    out[name] = {"token": token, **worlds[org]}
(VAR / "fuzz-data.json").write_text(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=int, default=0, help="seconds per user (0: no limit)")
    parser.add_argument("--port", type=int, default=PORT, help=f"the server's port (default {PORT})")
    parser.add_argument(
        "--keep-db", action="store_true", help="reuse var/fuzz/fuzz.sqlite3 as the last run left it (default: anew)"
    )
    parser.add_argument(
        "--cassettes", action="store_true", help="record every request and answer in var/fuzz/<user>.yaml (VCR)"
    )
    parser.add_argument(
        "--users",
        default="organizer,canvasser1,outsider",
        help="the users to fuzz as, comma-separated (default: all three)",
    )
    args = parser.parse_args()
    users = [name.strip() for name in args.users.split(",") if name.strip()]
    port = args.port
    VAR.mkdir(parents=True, exist_ok=True)
    if not args.keep_db:  # every run starts from the same data: the demo, as loaded
        for leftover in VAR.glob("fuzz.sqlite3*"):
            leftover.unlink()
    env = {
        **os.environ,
        "FIELDOPS_VAR_DIR": str(VAR),
        "DATABASE_URL": f"sqlite:///{VAR / 'fuzz.sqlite3'}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SCHEMATHESIS_HOOKS": "benchmarks.fuzz.hooks",
        "FIELDOPS_FUZZ_DATA": str(VAR / "fuzz-data.json"),
        "FIELDOPS_FUZZ_BASE": f"http://127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    python = str(BIN / "python")
    for step in (
        ["migrate", "--no-input", "-v", "0"],
        ["collectstatic", "--no-input", "-v", "0"],
        ["demo", "--quiet-progress"],
    ):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([python, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    data = json.loads((VAR / "fuzz-data.json").read_text())
    log = (VAR / "gunicorn.log").open("w")  # the tracebacks of any failure
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "fieldops.wsgi", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    failed = False
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        for user, world in data.items():
            if user not in users:
                continue
            token = world["token"]
            print(f"\n=== schemathesis as {user} ===", flush=True)
            # schemathesis keeps what it learned from earlier runs' 400s in .schemathesis/ and replays
            # those requests first: with another user's token, or ids of a database since remade.
            # Each user's run starts without it.
            shutil.rmtree(ROOT / ".schemathesis", ignore_errors=True)
            command = [
                str(BIN / "schemathesis"),
                "run",
                f"http://127.0.0.1:{port}/api/v1/schema/",
                "-H",
                f"Authorization: Token {token}",
                "--checks",
                "not_a_server_error,json_error_body",
                "--max-examples",
                str(args.max_examples),
                "--phases",
                "examples,coverage,fuzzing",
                "--exclude-path",
                "/api/v1/auth/token/",  # would log the fuzzing user out
                "--exclude-path",
                "/api/v1/auth/devices/{token_id}/",  # revoking ids 1-3 revoked the fuzzing users' own tokens
                "--suppress-health-check",
                "all",
                "-w",
                "2",
            ]
            if args.max_time:
                command += ["--max-time", str(args.max_time)]
            if args.cassettes:
                command += ["--report", "vcr", "--report-vcr-path", str(VAR / f"{user}.yaml")]
            result = subprocess.run(command, cwd=ROOT, env={**env, "FIELDOPS_FUZZ_USER": user})
            failed |= result.returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=20)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
