"""Which Chromium the browser tests drive: stdlib only, so that dev.py can ask before the virtualenv exists.

Playwright 1.64.1 drives Debian's Chromium 156 through executable_path; it
cannot download a browser of its own here (never run `playwright install`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

# How Chromium is started, for the tests and benchmarks/volunteer_app.py alike: as root in a
# container (no sandbox), with no GPU, and without the background calls to Google's services
# that this machine's closed network refuses.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# dev.py puts the Chromium it found here for pytest; empty means it found none.
ENV = "FIELDOPS_CHROMIUM"
HOW_TO_GET = "apt-get install chromium (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium 156"


def find_chromium(environ: Mapping[str, str] = os.environ) -> str | None:
    """CHROMIUM_PATH (a path or a command name) when set, else `chromium` or `chromium-browser` on PATH."""
    names = [environ["CHROMIUM_PATH"]] if environ.get("CHROMIUM_PATH") else ["chromium", "chromium-browser"]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_for_tests(environ: Mapping[str, str] = os.environ) -> tuple[str | None, str]:
    """(the executable, "") or (None, why the browser tests are skipped)."""
    given = environ.get(ENV)
    if given is None:  # pytest run directly, not through dev.py
        found = find_chromium(environ)
        if found:
            return found, ""
        where = f"CHROMIUM_PATH={environ['CHROMIUM_PATH']!r}" if environ.get("CHROMIUM_PATH") else "chromium on PATH"
        return None, f"no Chromium found ({where}); to run them: {HOW_TO_GET}"
    if not given:
        return None, f"dev.py found no Chromium; to run them: {HOW_TO_GET}"
    found = shutil.which(given)
    if found:
        return found, ""
    return None, f"{ENV}={given!r} is not an executable; to run them: {HOW_TO_GET}"
