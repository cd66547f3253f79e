#!/usr/bin/env python3
"""The two commands of the README, on a fresh machine with only Python 3.11+.

    python3 dev.py run    set up, migrate, load the LA demo, start the web server and a worker
    python3 dev.py serve  the same without the demo: a chapter's own data (README, "Your own data")
    python3 dev.py test   set up and run the whole test suite (and ruff, mypy); the browser tests
                          need a Chromium (CHROMIUM_PATH, or chromium on PATH) and are skipped without one

Setup is a virtualenv in .venv with the pinned requirements; it is redone
only when a requirements file changes. Settings come from the environment
(DATABASE_URL, REDIS_URL, …): by default SQLite and the django-q2 ORM broker.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def sh(*args: str, **kwargs) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, check=True, cwd=ROOT, **kwargs)


def setup(requirements: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"fieldops needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print(f"Creating the virtualenv in {VENV}…", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    sh(str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements)
    stamp.write_text(digest)


def prepare() -> list[str]:
    """Set up, migrate, schedule the stats sweep, collect static files; the manage.py command line."""
    setup("requirements.txt")
    manage = [str(PY), "manage.py"]
    sh(*manage, "migrate", "--no-input")
    sh(*manage, "setup_schedules")
    sh(*manage, "collectstatic", "--no-input", "--verbosity", "0")
    return manage


def run() -> None:
    manage = prepare()
    started = time.monotonic()
    sh(*manage, "demo")
    print(f"(the demo took {time.monotonic() - started:.0f} s)", flush=True)
    host = host_of()
    serve_forever(
        manage,
        f"\nStarting the worker and the web server (Ctrl-C stops both):\n"
        f"  organizers: http://{host}/admin/  (log in as organizer)\n"
        f"  volunteers: http://{host}/app/    (the volunteer app; log in as canvasser1, turf 001)\n",
    )


def serve() -> None:
    """The server and the worker on the data that is there: the demo is not touched."""
    manage = prepare()
    host = host_of()
    serve_forever(
        manage,
        f"\nStarting the worker and the web server (Ctrl-C stops both):\n"
        f"  organizers: http://{host}/admin/\n"
        f"  volunteers: http://{host}/app/\n",
    )


def serve_forever(manage: list[str], banner: str) -> None:
    print(banner, flush=True)
    # Readable log lines in a terminal; production keeps the JSON default.
    env = {**os.environ, "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text")}
    worker = subprocess.Popen([*manage, "qcluster"], cwd=ROOT, env=env)
    server = subprocess.Popen([*manage, "runserver", "--noreload", host_of()], cwd=ROOT, env=env)
    try:
        while worker.poll() is None and server.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in (server, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (server, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    code = server.returncode or worker.returncode or 0
    sys.exit(code if code > 0 else 0)


def host_of() -> str:
    return os.environ.get("FIELDOPS_ADDR", "127.0.0.1:8000")


def test(extra: list[str]) -> None:
    setup("requirements-dev.txt")
    sh(str(PY), "-m", "ruff", "check", ".")
    sh(str(PY), "-m", "mypy")  # files and settings: [tool.mypy] in pyproject.toml
    sh(
        str(PY),
        "manage.py",
        "makemigrations",
        "--check",
        "--dry-run",
        env={**os.environ, "DATABASE_URL": "sqlite://:memory:"},
    )
    # The browser tests (tests/browser) drive a Chromium installed on the machine.
    from tests.browser.chromium import ENV, HOW_TO_GET, find_chromium

    chromium = find_chromium()
    looked = f"CHROMIUM_PATH={os.environ['CHROMIUM_PATH']}" if os.environ.get("CHROMIUM_PATH") else "chromium on PATH"
    skipped = (
        f"\n*** No Chromium found ({looked}): the browser tests (tests/browser) are SKIPPED.\n"
        f"*** To run them: {HOW_TO_GET}.\n"
    )
    print(f"Browser tests: {chromium}" if chromium else skipped, flush=True)
    result = subprocess.run([str(PY), "-m", "pytest", *extra], cwd=ROOT, env={**os.environ, ENV: chromium or ""})
    if not chromium:
        print(skipped, flush=True)
    sys.exit(result.returncode)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "serve", "test", "setup"):
        sys.exit(__doc__)
    command = sys.argv[1]
    if command == "run":
        run()
    elif command == "serve":
        serve()
    elif command == "test":
        test(sys.argv[2:])
    else:
        setup("requirements-dev.txt")


if __name__ == "__main__":
    main()
