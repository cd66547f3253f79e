#!/usr/bin/env python3
"""schemathesis against /api/v1/schema/ as each of the three standard users.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt -r requirements-bench.txt
    .venv-bench/bin/python benchmarks/fuzz_api.py [--max-examples 50] [--max-time 120]

On a throwaway SQLite database in var/fuzz/ it loads the demo, adds an
outsider (organizer of another chapter), issues phone tokens to organizer,
canvasser1 and the outsider, starts gunicorn, and runs schemathesis once per
user with two checks: no server error (5xx), and every 4xx has the JSON error
body {"detail": …, "errors": …}. It prints each run's summary and exits
non-zero when any check failed; the server's log (tracebacks) is var/fuzz/gunicorn.log.

schemathesis also prints warnings. "Schema validation mismatch" (an operation
answered 400 to every request the schema calls valid) is the one about the
schema; docs/api.md ("The schema: a typed contract") records the last run's,
and why those left depend on the data rather than on a constraint a schema can state.
"Missing test data" (random ids answer 404) is expected: ids are not guessable.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "fuzz"
PORT = 8766

TOKENS = """
from fieldops.models import Role
from fieldops.services import device_token_create, member_add, organization_create
other = organization_create(slug="elsewhere-fuzz", name="Elsewhere (fuzz)")
member_add(organization=other, username="outsider", role=Role.ORGANIZER)
from django.contrib.auth import get_user_model
User = get_user_model()
for name in ("organizer", "canvasser1", "outsider"):
    print(name, device_token_create(user=User.objects.get(username=name), device_id="fuzz-" + name).key)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=int, default=0, help="seconds per user (0: no limit)")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FIELDOPS_VAR_DIR": str(VAR),
        "DATABASE_URL": f"sqlite:///{VAR / 'fuzz.sqlite3'}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "SCHEMATHESIS_HOOKS": "benchmarks.fuzz.hooks",
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
    out = subprocess.run(
        [python, "manage.py", "shell", "-c", TOKENS], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    tokens = dict(line.split() for line in out.splitlines() if line.count(" ") == 1)
    log = (VAR / "gunicorn.log").open("w")  # the tracebacks of any failure
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "fieldops.wsgi", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{PORT}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    failed = False
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/live/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        for user, token in tokens.items():
            print(f"\n=== schemathesis as {user} ===", flush=True)
            command = [
                str(BIN / "schemathesis"),
                "run",
                f"http://127.0.0.1:{PORT}/api/v1/schema/",
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
            result = subprocess.run(command, cwd=ROOT, env=env)
            failed |= result.returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=20)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
