#!/usr/bin/env python3
"""A canvass weekend under load: gunicorn + PostgreSQL + Redis + a django-q2 worker,
driven by locust (headless, loopback, bounded in time) on this machine.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt -r requirements-bench.txt
    .venv-bench/bin/python benchmarks/load_weekend.py                        # 1,000 canvassers + 20 organizers, 180 s
    .venv-bench/bin/python benchmarks/load_weekend.py --steps 1000,1500,2000,3000 --duration 120   # the breaking point

It makes (or reuses) the PostgreSQL database `fieldops_load`, migrates it, loads
the demo (Venice: 15,412 doors in 257 turfs), adds the load's canvassers (four
to a turf, each with a phone token) and organizers (with admin sessions),
starts gunicorn and a worker, runs locust, and prints requests per second,
p50/p95/p99 per endpoint and the errors. Locust runs on the same 2 cores as
the server: the figures are a floor for a dedicated server.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "load"
PORT = 8765


def sh(*args: str, env: dict[str, str], check: bool = True) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=check, cwd=ROOT, env=env)


def prepare(env: dict[str, str], canvassers: int, organizers: int, database: str) -> None:
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"select 1 from pg_database where datname='{database}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"create database {database}", env=env)
    python = str(BIN / "python")
    sh(python, "manage.py", "migrate", "--no-input", "-v", "0", env=env)
    sh(python, "manage.py", "collectstatic", "--no-input", "-v", "0", env=env)
    sh(python, "manage.py", "demo", "--quiet-progress", env=env)
    sh(python, "manage.py", "setup_schedules", env=env)
    sh(python, "benchmarks/load/setup_users.py", str(canvassers), str(organizers), str(VAR / "users.json"), env=env)


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


def run_locust(env: dict[str, str], users: int, organizers: int, duration: int, tag: str) -> list[dict[str, str]]:
    prefix = VAR / f"run-{tag}"
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
        str(max(total // 20, 10)),
        "-t",
        f"{duration}s",
        "--host",
        f"http://127.0.0.1:{PORT}",
        "--csv",
        str(prefix),
        "--stop-timeout",
        "10",
        env={**env, "FIELDOPS_LOAD_USERS": str(VAR / "users.json"), "FIELDOPS_LOAD_ORGANIZERS": str(organizers)},
        check=False,  # locust exits 1 when any request failed: the table says which
    )
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def report(rows: list[dict[str, str]], users: int, duration: int) -> float:
    print(f"\n{users} canvassers, {duration} s:")
    print(f"{'endpoint':<42} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    worst = worst_total = 0.0
    for row in rows:
        p99 = float(row["99%"] or 0)
        if row["Name"] == "Aggregated":
            worst_total = p99
        print(
            f"{row['Name'][:42]:<42} {row['Request Count']:>9} {row['Failure Count']:>7} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
        if row["Name"] != "Aggregated":
            worst = max(worst, p99)
    return max(worst, worst_total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvassers", type=int, default=1000)
    parser.add_argument("--organizers", type=int, default=20)
    parser.add_argument("--duration", type=int, default=180, help="seconds per run")
    parser.add_argument("--steps", default="", help="comma-separated canvasser counts: stop when p99 passes 1 s")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="fieldops_load")
    parser.add_argument("--skip-setup", action="store_true")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",") if s] or [args.canvassers]
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
    processes = start_server(env, args.workers, args.threads)
    try:
        print(f"\ngunicorn: {args.workers} workers x {args.threads} threads; a django-q2 worker; PostgreSQL + Redis")
        for users in steps:
            rows = run_locust(env, users, args.organizers, args.duration, str(users))
            worst = report(rows, users, args.duration)
            if len(steps) > 1 and worst > 1000:
                print(f"\nBreaking point: at {users} canvassers the worst p99 is {worst:.0f} ms (> 1 s).")
                break
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
