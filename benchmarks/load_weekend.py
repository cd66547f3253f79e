#!/usr/bin/env python3
"""A canvass weekend under load: gunicorn + PostgreSQL + Redis + a django-q2 worker,
driven by locust (headless, loopback, bounded in time) on this machine.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt -r requirements-bench.txt
    .venv-bench/bin/python benchmarks/load_weekend.py                  # 1,000 canvassers over 5 min, 20 organizers
    .venv-bench/bin/python benchmarks/load_weekend.py --arrival 30     # the same 1,000 arriving within 30 s
    .venv-bench/bin/python benchmarks/load_weekend.py --steps 1500,2000 --duration 500   # the breaking point

It makes (or reuses) the PostgreSQL database `fieldops_load`, migrates it, loads
the demo (Venice: 15,412 doors in 257 turfs), adds the load's canvassers (four
to a turf, each with a phone token) and organizers (with admin sessions),
starts gunicorn and a worker, runs locust, and prints requests per second,
p50/p95/p99 per endpoint and the errors: for the whole run (locust's table),
then for the arrival (until the last walk list, plus a minute) and the
steady state apart, from every request's own time. The goal is judged on
both; the breaking point (--steps) on the steady state. Locust runs on the
same 2 cores as the server: the figures are a floor for a dedicated server.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "load"
PORT = 8765
# locust starts every simulated user within this many seconds; each then waits its arrival.
SPAWN_SECONDS = 20


def sh(*args: str, env: dict[str, str], check: bool = True) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=check, cwd=ROOT, env=env)


def psql(database: str, sql: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-tAc", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def prepare(env: dict[str, str], canvassers: int, organizers: int, database: str) -> None:
    if not psql("postgres", f"select 1 from pg_database where datname='{database}'"):
        print(f"+ create database {database}", flush=True)
        psql("postgres", f"create database {database}")
    python = str(BIN / "python")
    sh(python, "manage.py", "migrate", "--no-input", "-v", "0", env=env)
    sh(python, "manage.py", "collectstatic", "--no-input", "-v", "0", env=env)
    sh(python, "manage.py", "demo", "--quiet-progress", env=env)
    sh(python, "manage.py", "setup_schedules", env=env)
    sh(python, "benchmarks/load/setup_users.py", str(canvassers), str(organizers), str(VAR / "users.json"), env=env)


def stand_in_autovacuum(database: str, stop: threading.Event, every: float = 60.0) -> None:
    """Do what autovacuum's analyze would on a normal server, every minute.

    The weekend grows the knock and change-log tables by 100 rows a second.
    A PostgreSQL with autovacuum off (this machine's is) never refreshes their
    statistics, so its plans go stale within a minute: the snapshot pull's read
    of the knocks at 60 doors turned into a scan of every knock (22 ms and
    growing). Production servers run autovacuum (the default; see
    docs/operations.md). This loop stands in for it with its default rules:
    every minute (autovacuum_naptime), ANALYZE each table changed by more than
    50 rows + 10 % of its size (autovacuum_analyze_threshold, _scale_factor).
    """
    due = (
        "SELECT string_agg(quote_ident(relname), ',') FROM pg_stat_user_tables "
        "WHERE n_mod_since_analyze > 50 + 0.1 * n_live_tup"
    )
    while not stop.wait(every):
        tables = psql(database, due)
        if tables:
            psql(database, f"ANALYZE {tables}")


# What a run adds and --fresh deletes: the knocks, their change-log entries and the stats made of them.
FRESH_SQL = """
TRUNCATE canvass_contactattempt, canvass_statsday, canvass_statsdoor, canvass_statsdirtyday;
DELETE FROM canvass_syncchange WHERE kind = 'attempt';
UPDATE canvass_statsqueue SET swept_until = NULL, task_queued_at = NULL;
"""


def start_server(env: dict[str, str], workers: int, threads: int) -> list[subprocess.Popen]:
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "fieldops.wsgi",
            "-c",
            "gunicorn.conf.py",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
        ],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=open(VAR / "gunicorn.log", "w"),  # noqa: SIM115 - the server keeps it
        start_new_session=True,  # its own process group: stopped whole, workers included
    )
    worker = subprocess.Popen(
        [str(BIN / "python"), "manage.py", "qcluster"],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=open(VAR / "qcluster.log", "w"),  # noqa: SIM115 - the worker keeps it
        start_new_session=True,
    )
    for _ in range(60):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/live/", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise SystemExit("gunicorn did not answer /health/live/ within 30 s; see var/load/gunicorn.log")
    return [server, worker]


def run_locust(
    env: dict[str, str], users: int, organizers: int, duration: int, arrival: float, tag: str
) -> tuple[list[dict[str, str]], Path]:
    prefix = VAR / f"run-{tag}"
    samples = VAR / f"run-{tag}_samples.csv"
    total = users + organizers
    sh(
        str(BIN / "locust"),
        "-f",
        "benchmarks/load/locustfile.py",
        "--headless",
        "--only-summary",
        "-u",
        str(total),
        "-r",
        str(max(total // SPAWN_SECONDS, 10)),
        "-t",
        f"{duration}s",
        "--host",
        f"http://127.0.0.1:{PORT}",
        "--csv",
        str(prefix),
        "--stop-timeout",
        "10",
        env={
            **env,
            "FIELDOPS_LOAD_USERS": str(VAR / "users.json"),
            "FIELDOPS_LOAD_ORGANIZERS": str(organizers),
            "FIELDOPS_LOAD_ARRIVAL": str(arrival),
            "FIELDOPS_LOAD_SAMPLES": str(samples),
        },
        check=False,  # locust exits 1 when any request failed: the table says which
    )
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle)), samples


def report(rows: list[dict[str, str]], users: int, duration: int) -> None:
    """Locust's own table of the whole run (its percentiles are rounded to two digits)."""
    print(f"\n{users} canvassers, {duration} s, the whole run (locust's figures):")
    print(f"{'endpoint':<42} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    for row in rows:
        print(
            f"{row['Name'][:42]:<42} {row['Request Count']:>9} {row['Failure Count']:>7} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def phase_report(samples_path: Path) -> tuple[float, float, int]:
    """The arrival and the steady state apart, from every request's answer time.

    The arrival lasts until the last canvasser's walk list was answered, plus
    60 s (their first pull, a snapshot, comes within it). The steady state is
    the rest: every canvasser at work, pushing every 30 s and pulling every
    60 s. Returns the worst per-endpoint p99 of each phase, in ms, and the errors.
    """
    with open(samples_path, newline="") as handle:
        samples = [(float(r["end"]), r["name"], float(r["ms"]), r["failed"] == "1") for r in csv.DictReader(handle)]
    if not samples:
        print("no requests were made")
        return 0.0, 0.0, 0
    first = min(s[0] - s[2] / 1000 for s in samples)
    last = max(s[0] for s in samples)
    walk_lists = [s[0] for s in samples if "walk-list" in s[1]]
    arrival_end = (max(walk_lists) if walk_lists else first) + 60
    worst = []
    for label, lo, hi in (("arrival", first, arrival_end), ("steady state", arrival_end, last + 1)):
        phase = [s for s in samples if lo <= s[0] < hi]
        seconds = max(1e-9, min(hi, last) - lo)
        print(f"\n{label}: {seconds:.0f} s, {len(phase)} requests")
        if not phase:
            worst.append(0.0)
            continue
        print(
            f"{'endpoint':<42} {'requests':>9} {'errors':>7} {'req/s':>7} "
            f"{'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}  (ms)"
        )
        names = sorted({s[1] for s in phase})
        phase_worst = 0.0
        for name in [*names, "all"]:
            rows = phase if name == "all" else [s for s in phase if s[1] == name]
            ms = sorted(s[2] for s in rows)
            errors = sum(s[3] for s in rows)
            p99 = percentile(ms, 0.99)
            if name != "all":
                phase_worst = max(phase_worst, p99)
            print(
                f"{name[:42]:<42} {len(rows):>9} {errors:>7} {len(rows) / seconds:>7.1f} {percentile(ms, 0.5):>6.0f} "
                f"{percentile(ms, 0.95):>6.0f} {p99:>6.0f} {ms[-1]:>6.0f}"
            )
        worst.append(phase_worst)
    return worst[0], worst[1], sum(s[3] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvassers", type=int, default=1000)
    parser.add_argument("--organizers", type=int, default=20)
    parser.add_argument(
        "--arrival",
        type=float,
        default=300,
        help="seconds over which the canvassers arrive and download their walk lists (30: all at once)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=0,
        help="seconds per run (default: the spawn, the arrival and a minute, then 3 minutes at work)",
    )
    parser.add_argument(
        "--steps", default="", help="comma-separated canvasser counts: stop when the steady state's p99 passes 1 s"
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="fieldops_load")
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete earlier runs' knocks, their change-log entries and the stats first (kept otherwise: "
        "each run is then heavier than the last)",
    )
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",") if s] or [args.canvassers]
    duration = args.duration or int(SPAWN_SECONDS + args.arrival + 60 + 180)
    VAR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "REDIS_URL": os.environ.get("FIELDOPS_LOAD_REDIS", "redis://127.0.0.1:6379/6"),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    if not args.skip_setup:
        prepare(env, max(steps), args.organizers, args.database)
    if args.fresh:
        psql(args.database, FRESH_SQL)
    knocks = psql(args.database, "SELECT count(*) FROM canvass_contactattempt")
    print(f"knocks in the database before the run: {knocks}")
    autovacuum = psql(args.database, "SHOW autovacuum")
    psql(args.database, "ANALYZE")
    stop = threading.Event()
    if autovacuum != "on":
        print("PostgreSQL here runs with autovacuum off: the benchmark analyzes as autovacuum would, every minute.")
        threading.Thread(target=stand_in_autovacuum, args=(args.database, stop), daemon=True).start()
    processes = start_server(env, args.workers, args.threads)
    try:
        print(f"\ngunicorn: {args.workers} workers x {args.threads} threads; a django-q2 worker; PostgreSQL + Redis")
        print(f"arrivals over {args.arrival:.0f} s; {duration} s a run")
        for users in steps:
            rows, samples = run_locust(env, users, args.organizers, duration, args.arrival, str(users))
            report(rows, users, duration)
            arrival_p99, steady_p99, errors = phase_report(samples)
            print(
                f"\n{users} canvassers: worst p99 {arrival_p99:.0f} ms while arriving, "
                f"{steady_p99:.0f} ms in the steady state, {errors} errors (goal: under 500 ms, 0 errors)"
            )
            if len(steps) > 1 and steady_p99 > 1000:
                print(f"\nBreaking point: at {users} canvassers the steady state's worst p99 is {steady_p99:.0f} ms.")
                break
    finally:
        stop.set()
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
