"""Django for an in-process benchmark: the repository importable, a scratch SQLite file unless
DATABASE_URL names a database, the settings loaded, the per-request log line quiet."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(*, quiet_requests: bool = True) -> None:
    sys.path.insert(0, str(ROOT))
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldops.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    if quiet_requests:
        # Each request's log line would bury the figures (the line is still built: its cost counts).
        logging.getLogger("fieldops.requests").setLevel(logging.WARNING)
