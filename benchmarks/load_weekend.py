#!/usr/bin/env python3
"""A canvass weekend under load: gunicorn + PostgreSQL + Redis + a django-q2 worker,
driven by locust (headless, loopback, bounded in time) on this machine.

    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt -r requirements-bench.txt
    .venv-bench/bin/python benchmarks/load_weekend.py --fresh               # weekend: 1,000 canvassers over 5 min
    .venv-bench/bin/python benchmarks/load_weekend.py --fresh --runs 3      # the same, three consecutive runs
    .venv-bench/bin/python benchmarks/load_weekend.py --scenario surge      # heavy-day surge (below)
    .venv-bench/bin/python benchmarks/load_weekend.py --steps 1500,2000 --duration 500   # the breaking point

Scenarios (--scenario):
  weekend (the default): 1,000 canvassers arrive over five minutes, 20
    organizers refresh the dashboard. Goal: worst endpoint p99 under 500 ms
    while arriving and in the steady state alike, 0 errors.
  surge: a heavy day. Before the run, the earlier runs' knocks are deleted
    and 200,000 knocks of the day (--day-knocks) are stored at the doors of
    the load's turfs by the load's canvassers, with their change-log
    entries, and the stats brought up to date (benchmarks/load/heavy_day.py,
    by COPY: about a minute), then ANALYZE. Then 1,000 canvassers open the
    app within 30 s, 20 organizers on the dashboard. Goal: worst endpoint
    p99 under 1 s over the whole run, 0 errors.
--runs N repeats the run N times (each with its own gunicorn and worker,
after the same reset: --fresh, and the surge's day) and prints the runs'
figures together at the end.

Every request's CPU time inside Django is logged by the server
(REQUEST_CPU_LOG=1: fieldops/request_cpu.py, off in production) and
printed per endpoint as ms of CPU per request; beside it, the CPU of each
process group over the run per request answered: gunicorn's workers whole
(reaped by their master: getrusage), the django-q2 worker, the database's
PostgreSQL backends (/proc, sampled every 2 s), locust, and the whole
machine (/proc/stat: other sessions' processes too). Every 10 s of the run gets a line
(p50, p99, max, the slowest endpoint, requests over 1 s) with what the
background ran in it (the ANALYZE stand-in, the worker's tasks), so a
periodic stall shows as a row of bursts.

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
import contextlib
import csv
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "load"
PORT = 8765
# locust starts every simulated user within this many seconds; each then waits its arrival, a
# moment of the arrival window that opens when the spawn (and a margin for locust's start) is over.
SPAWN_SECONDS = 20
START_MARGIN = 5


@dataclass(frozen=True)
class Scenario:
    arrival: float  # seconds over which the canvassers arrive
    day_knocks: int  # knocks of the day stored before the run
    goal_ms: int  # the worst endpoint's p99 must stay under this
    judged: str  # over what


SCENARIOS = {
    "weekend": Scenario(arrival=300.0, day_knocks=0, goal_ms=500, judged="arrival and steady state alike"),
    "surge": Scenario(arrival=30.0, day_knocks=200_000, goal_ms=1000, judged="the whole run"),
}


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


def stand_in_autovacuum(
    database: str, stop: threading.Event, ran: list[tuple[float, float, str]], every: float = 60.0
) -> None:
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
            started = time.time()
            psql(database, f"ANALYZE {tables}")
            ran.append((started, time.time(), f"ANALYZE {tables.replace('canvass_', '')}"))


# What a run adds and --fresh deletes: the knocks, their change-log entries and the stats made of them.
FRESH_SQL = """
TRUNCATE canvass_contactattempt, canvass_statsday, canvass_statsdoor, canvass_statsdirtyday;
DELETE FROM canvass_syncchange WHERE kind = 'attempt';
UPDATE canvass_statsqueue SET swept_until = NULL, task_queued_at = NULL;
"""


def start_server(
    env: dict[str, str], workers: int, threads: int, log: Path, with_worker: bool = True
) -> list[subprocess.Popen]:
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
        stderr=open(log, "w"),  # noqa: SIM115 - the server keeps it
        start_new_session=True,  # its own process group: stopped whole, workers included
    )
    processes = [server]
    if with_worker:
        worker = subprocess.Popen(
            [str(BIN / "python"), "manage.py", "qcluster"],
            cwd=ROOT,
            env={**env, "LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL,
            stderr=open(VAR / "qcluster.log", "w"),  # noqa: SIM115 - the worker keeps it
            start_new_session=True,
        )
        processes.append(worker)
    for _ in range(60):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/live/", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise SystemExit(f"gunicorn did not answer /health/live/ within 30 s; see {log}")
    return processes


def children_cpu_seconds() -> float:
    """CPU (user + system) of every child process this one has waited for, and of their own reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop_server(processes: list[subprocess.Popen]) -> list[float]:
    """Stop the processes; returns the CPU seconds each used, its reaped children included.

    gunicorn's master reaps its workers, recycled ones too, so its figure is
    every worker's whole CPU (WSGI parsing and writing included, unlike the
    middleware's figure). The django-q2 cluster's processes are not all
    reaped that way: main() samples them instead.
    """
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    used = []
    for process in processes:
        before = children_cpu_seconds()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        used.append(children_cpu_seconds() - before)
    return used


def processes_cpu(select: Callable[[bytes, list[str]], bool]) -> dict[int, float]:
    """CPU seconds used so far by each process that `select(cmdline, stat fields after the name)` picks, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if select(command, fields):
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return found


def postgres_backend(database: str) -> Callable[[bytes, list[str]], bool]:
    """A PostgreSQL backend connected to `database`."""
    marker = f" {database} ".encode()
    return lambda command, fields: command.startswith(b"postgres: ") and marker in command


def in_session(session: int) -> Callable[[bytes, list[str]], bool]:
    """A process of the session `session` (a process started with start_new_session and its descendants)."""
    return lambda command, fields: int(fields[3]) == session


def sample_cpu(
    groups: dict[str, Callable[[bytes, list[str]], bool]], stop: threading.Event, used: dict[str, float]
) -> None:
    """Every 2 s, the CPU each group's processes used since the sampling started (0 before for a
    process born since), written into `used` by group. Processes come and go (the web processes'
    database connections, CONN_MAX_AGE; the worker's task processes): one that ends loses at most
    its last 2 s."""
    before = {label: processes_cpu(select) for label, select in groups.items()}
    seen: dict[str, dict[int, tuple[float, float]]] = {label: {} for label in groups}
    while True:
        for label, select in groups.items():
            for pid, cpu in processes_cpu(select).items():
                seen[label][pid] = (before[label].get(pid, 0.0), cpu)
            used[label] = sum(last - first for first, last in seen[label].values())
        if stop.wait(2.0):
            return


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
            "FIELDOPS_LOAD_START": f"{time.time() + SPAWN_SECONDS + START_MARGIN:.3f}",
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
    60 s (their first push and pull, 30 s after the walk list, come within
    it). The steady state is the rest: every canvasser at work, pushing and
    pulling every 30 s. Returns the worst per-endpoint p99 of each phase, in
    ms, and the errors.
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


ENDPOINT_PATTERNS = (
    (re.compile(r"^/api/v1/assignments/\d+/walk-list/$"), "/api/v1/assignments/{id}/walk-list/"),
    (re.compile(r"^/admin/canvass/campaign/\d+/dashboard/$"), "dashboard (admin)"),
)


def endpoint_of(path: str) -> str:
    """The locust name of a request path (ids folded)."""
    for pattern, name in ENDPOINT_PATTERNS:
        if pattern.match(path):
            return name
    return path


def cpu_report(log: Path, requests: int, processes: dict[str, float]) -> dict[str, float]:
    """CPU per request of each endpoint, from the server's REQUEST_CPU_LOG lines, then each process
    group's CPU over the run per request answered. Returns ms per endpoint (and "gunicorn" for the
    server's whole processes per request)."""
    per: dict[str, list[float]] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"cpu_ms"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        per.setdefault(endpoint_of(record.get("path", "?")), []).append(float(record["cpu_ms"]))
    if not per:
        print("\nno CPU log lines (REQUEST_CPU_LOG): CPU per request not measured")
        return {}
    print("\nCPU per request inside Django (the request's thread, fieldops/request_cpu.py):")
    print(f"{'endpoint':<42} {'requests':>9} {'mean':>7} {'p50':>7} {'p95':>7} {'total s':>8}  (ms of CPU)")
    means: dict[str, float] = {}
    total = 0.0
    for name in sorted(per, key=lambda n: -sum(per[n])):
        values = sorted(per[name])
        means[name] = sum(values) / len(values)
        total += sum(values)
        print(
            f"{name[:42]:<42} {len(values):>9} {means[name]:>7.1f} {percentile(values, 0.5):>7.1f} "
            f"{percentile(values, 0.95):>7.1f} {sum(values) / 1000:>8.1f}"
        )
    print(f"{'all, inside Django':<42} {sum(len(v) for v in per.values()):>9} {'':>23} {total / 1000:>8.1f}")
    print(f"\nCPU of each process group over the run, per request answered ({requests} requests):")
    for label, seconds in processes.items():
        print(f"{label:<66} {seconds:>7.1f} s {seconds * 1000 / max(1, requests):>7.1f} ms")
    return means


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (/proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def worker_tasks(database: str, since: float) -> list[tuple[float, float, str]]:
    """The django-q2 tasks that started since `since` (Unix time): (start, stop, name)."""
    out = psql(
        database,
        "SELECT extract(epoch from started), extract(epoch from stopped), func FROM django_q_task "
        f"WHERE started >= to_timestamp({since:.3f}) ORDER BY started",
    )
    tasks = []
    for line in out.splitlines():
        started, stopped, func = line.split("|", 2)
        tasks.append((float(started), float(stopped), func.rsplit(".", 1)[-1]))
    return tasks


def window_report(samples_path: Path, events: list[tuple[float, float, str]], width: int = 10) -> None:
    """Every `width` s of the run, by when requests started: a periodic stall shows as a row of bursts.

    Beside each window: what the background ran in it (events: start, stop,
    label). A window is marked "<<" when its p99 is over three times the
    median window's and over 500 ms.
    """
    with open(samples_path, newline="") as handle:
        rows = [(float(r["end"]) - float(r["ms"]) / 1000, r["name"], float(r["ms"])) for r in csv.DictReader(handle)]
    if not rows:
        return
    origin = min(r[0] for r in rows)
    windows: dict[int, list[tuple[float, str, float]]] = {}
    for row in rows:
        windows.setdefault(int((row[0] - origin) // width), []).append(row)
    p99s = sorted(percentile(sorted(r[2] for r in w), 0.99) for w in windows.values())
    typical = percentile(p99s, 0.5)
    short = {
        "/api/v1/sync/push/": "push",
        "/api/v1/sync/pull/": "pull",
        "/api/v1/assignments/{id}/walk-list/": "walk",
        "dashboard (admin)": "dash",
    }
    print(f"\nevery {width} s of the run (by when requests started; median window p99 {typical:.0f} ms):")
    print(f"{'t (s)':>9} {'req':>5} {'p50':>6} {'p99':>6} {'max':>6}  {'slowest':<6} {'over 1 s':<24} background")
    for index in sorted(windows):
        window = windows[index]
        ms = sorted(r[2] for r in window)
        slowest = max(window, key=lambda r: r[2])
        over: dict[str, int] = {}
        for _, name, took in window:
            if took > 1000:
                over[short.get(name, name)] = over.get(short.get(name, name), 0) + 1
        lo, hi = origin + index * width, origin + (index + 1) * width
        running = [f"{label} {stop - start:.1f}s" for start, stop, label in events if start < hi and stop >= lo]
        p99 = percentile(ms, 0.99)
        mark = "<<" if p99 > 3 * typical and p99 > 500 else "  "
        print(
            f"{index * width:>4}-{(index + 1) * width:<4} {len(window):>5} {percentile(ms, 0.5):>6.0f} {p99:>6.0f} "
            f"{ms[-1]:>6.0f}{mark}{short.get(slowest[1], slowest[1])[:6]:<6} "
            f"{' '.join(f'{k} {v}' for k, v in sorted(over.items()))[:24]:<24} {', '.join(running)}"
        )


def whole_run(samples_path: Path) -> tuple[float, float, int]:
    """(worst per-endpoint p99, p99 of all requests, requests) over the whole run, from the samples."""
    with open(samples_path, newline="") as handle:
        rows = [(r["name"], float(r["ms"])) for r in csv.DictReader(handle)]
    by: dict[str, list[float]] = {}
    for name, ms in rows:
        by.setdefault(name, []).append(ms)
    worst = max((percentile(sorted(v), 0.99) for v in by.values()), default=0.0)
    return worst, percentile(sorted(ms for _, ms in rows), 0.99), len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="weekend")
    parser.add_argument("--canvassers", type=int, default=1000)
    parser.add_argument("--organizers", type=int, default=20)
    parser.add_argument(
        "--arrival",
        type=float,
        default=None,
        help="seconds over which the canvassers arrive and download their walk lists "
        "(default: the scenario's, 300 for weekend, 30 for surge)",
    )
    parser.add_argument(
        "--day-knocks",
        type=int,
        default=None,
        help="knocks of the day stored before each run (default: the scenario's, 0 or 200000); "
        "more than 0 implies --fresh",
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=0,
        help="seconds per run (default: the spawn, the arrival and a minute, then 3 minutes at work)",
    )
    parser.add_argument("--runs", type=int, default=1, help="consecutive runs, their figures printed together")
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
        help="delete earlier runs' knocks, their change-log entries and the stats before each run (kept "
        "otherwise: each run is then heavier than the last)",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="diagnosis only: no django-q2 worker (no stats task, no dashboard render in the background), "
        "to see whether a periodic burst is the worker's",
    )
    parser.add_argument(
        "--no-cpu-log", action="store_true", help="do not log each request's CPU (REQUEST_CPU_LOG): no CPU figures"
    )
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    arrival = scenario.arrival if args.arrival is None else args.arrival
    day_knocks = scenario.day_knocks if args.day_knocks is None else args.day_knocks
    goal_ms = scenario.goal_ms
    fresh = args.fresh or day_knocks > 0
    steps = [int(s) for s in args.steps.split(",") if s] or [args.canvassers]
    duration = args.duration or int(SPAWN_SECONDS + START_MARGIN + arrival + 60 + 180)
    VAR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "REDIS_URL": os.environ.get("FIELDOPS_LOAD_REDIS", "redis://127.0.0.1:6379/6"),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    server_env = {**env, "REQUEST_CPU_LOG": "0" if args.no_cpu_log else "1"}
    if not args.skip_setup:
        prepare(env, max(steps), args.organizers, args.database)
    autovacuum = psql(args.database, "SHOW autovacuum")
    print(
        f"\nscenario {args.scenario}: {', '.join(str(s) for s in steps)} canvassers arriving within {arrival:.0f} s, "
        f"{args.organizers} organizers; {day_knocks:,} knocks of the day stored first; {duration} s a run, "
        f"{args.runs} run(s); gunicorn: {args.workers} workers x {args.threads} threads; "
        f"{'NO django-q2 worker (diagnosis)' if args.no_worker else 'a django-q2 worker'}; PostgreSQL + Redis"
    )
    if autovacuum != "on":
        print("PostgreSQL here runs with autovacuum off: the benchmark analyzes as autovacuum would, every minute.")
    results = []
    for run in range(1, args.runs + 1):
        for users in steps:
            tag = f"{users}" if args.runs == 1 else f"{users}-{run}"
            print(f"\n=== run {run} of {args.runs}, {users} canvassers ===", flush=True)
            if fresh:
                psql(args.database, FRESH_SQL)
            if day_knocks:
                sh(
                    str(BIN / "python"),
                    "benchmarks/load/heavy_day.py",
                    str(VAR / "users.json"),
                    str(day_knocks),
                    env=env,
                )
            knocks = psql(args.database, "SELECT count(*) FROM canvass_contactattempt")
            print(f"knocks in the database before the run: {knocks}")
            psql(args.database, "ANALYZE")
            loadavg = Path("/proc/loadavg").read_text().strip()
            print(f"load average at the start (/proc/loadavg): {loadavg}", flush=True)
            stop = threading.Event()
            analyzed: list[tuple[float, float, str]] = []
            if autovacuum != "on":
                threading.Thread(target=stand_in_autovacuum, args=(args.database, stop, analyzed), daemon=True).start()
            log = VAR / f"gunicorn-{tag}.log"
            began = time.time()
            processes = start_server(server_env, args.workers, args.threads, log, with_worker=not args.no_worker)
            sampled: dict[str, float] = {}
            groups = {"PostgreSQL: the database's backends (sampled every 2 s)": postgres_backend(args.database)}
            if len(processes) > 1:
                groups["django-q2 worker: the cluster's processes (sampled every 2 s)"] = in_session(processes[1].pid)
            sampler = threading.Thread(target=sample_cpu, args=(groups, stop, sampled), daemon=True)
            sampler.start()
            try:
                machine_before = machine_cpu_seconds()
                locust_before = children_cpu_seconds()
                rows, samples = run_locust(env, users, args.organizers, duration, arrival, tag)
                locust_cpu = children_cpu_seconds() - locust_before
                machine_cpu = machine_cpu_seconds() - machine_before
            finally:
                stop.set()
                sampler.join()
                server_cpu = stop_server(processes)[0]
            group_cpu = {
                f"gunicorn: {args.workers} workers' whole processes (their start, recycled ones too)": server_cpu,
                **sampled,
                "locust": locust_cpu,
                "the whole machine (every process, other sessions' too)": machine_cpu,
            }
            report(rows, users, duration)
            arrival_p99, steady_p99, errors = phase_report(samples)
            worst_p99, all_p99, requests = whole_run(samples)
            cpu = cpu_report(log, requests, group_cpu)
            cpu["gunicorn"] = server_cpu * 1000 / max(1, requests)
            window_report(samples, analyzed + worker_tasks(args.database, began))
            if args.scenario == "surge":
                verdict = f"worst p99 {worst_p99:.0f} ms over the whole run (all requests: {all_p99:.0f} ms)"
            else:
                verdict = f"worst p99 {arrival_p99:.0f} ms while arriving, {steady_p99:.0f} ms in the steady state"
            print(
                f"\n{users} canvassers: {verdict}, {errors} errors "
                f"(goal: under {goal_ms} ms, {scenario.judged}, 0 errors)"
            )
            results.append((run, users, loadavg, arrival_p99, steady_p99, worst_p99, errors, cpu))
            if len(steps) > 1 and steady_p99 > 1000:
                print(f"\nBreaking point: at {users} canvassers the steady state's worst p99 is {steady_p99:.0f} ms.")
                break
    if len(results) > 1:
        names = [
            ("push", "/api/v1/sync/push/"),
            ("pull", "/api/v1/sync/pull/"),
            ("walk", "/api/v1/assignments/{id}/walk-list/"),
            ("dash", "dashboard (admin)"),
            ("gunicorn", "gunicorn"),
        ]
        print(
            f"\nscenario {args.scenario}, the runs together (p99: worst endpoint, ms; cpu: ms per request inside "
            "Django; cpu gunicorn: the workers' whole processes per request, all endpoints):"
        )
        print(
            f"{'run':>3} {'users':>6} {'load at start':<15} {'arrival':>8} {'steady':>7} {'whole':>6} {'errors':>6}  "
            + " ".join(f"{'cpu ' + short:>12}" for short, _ in names)
        )
        for run, users, loadavg, a, st, w, e, cpu in results:
            cells = " ".join(f"{cpu[name]:>12.1f}" if name in cpu else f"{'-':>12}" for _, name in names)
            load = " ".join(loadavg.split()[:3])
            print(f"{run:>3} {users:>6} {load:<15} {a:>8.0f} {st:>7.0f} {w:>6.0f} {e:>6}  {cells}")
        print(f"goal: under {goal_ms} ms ({scenario.judged}), 0 errors, in every run")


if __name__ == "__main__":
    main()
