"""The app shell: the static files the service worker precaches, and their version.

The version is a digest of the files' contents, so any change to the app's
code gives a new service worker script, which the browser installs beside the
old one; the page then offers "Update" (docs/volunteer-app.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders

PREFIX = "volunteer/"


@dataclass(frozen=True)
class Shell:
    version: str
    files: tuple[str, ...]  # static paths, e.g. "volunteer/js/app.js"

    def urls(self) -> list[str]:
        base = "/" + settings.STATIC_URL.lstrip("/")
        return [base + name for name in self.files]


def _collect() -> Shell:
    found: dict[str, bytes] = {}
    for finder in finders.get_finders():
        for name, storage in finder.list(ignore_patterns=["*.map", ".*"]):
            name = name.replace("\\", "/")
            if name.startswith(PREFIX) and name not in found:
                with storage.open(name) as handle:
                    found[name] = handle.read()
    digest = hashlib.sha256()
    for name in sorted(found):
        digest.update(name.encode() + b"\0" + found[name] + b"\0")
    return Shell(version=digest.hexdigest()[:16], files=tuple(sorted(found)))


_cached = lru_cache(maxsize=1)(_collect)


def app_shell() -> Shell:
    """The shell, read once per process (in DEBUG, on every call: the files change while you work)."""
    return _collect() if settings.DEBUG else _cached()
