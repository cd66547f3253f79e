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

# The modules the first screen needs: the page names them (<link rel="modulepreload">) so that the
# browser fetches them at once, instead of finding them one import at a time (four round trips of
# a slow phone network). The other screens and the map load when first opened.
PRELOAD = (
    "volunteer/js/app.js",
    "volunteer/js/api.js",
    "volunteer/js/i18n.js",
    "volunteer/js/model.js",
    "volunteer/js/outbox.js",
    "volunteer/js/store.js",
    "volunteer/js/sync.js",
    "volunteer/js/ui.js",
    "volunteer/js/screens/login.js",
)


@dataclass(frozen=True)
class Shell:
    version: str
    files: tuple[str, ...]  # static paths, e.g. "volunteer/js/app.js"

    def urls(self, names: tuple[str, ...] | None = None) -> list[str]:
        return [static_base() + name for name in (self.files if names is None else names)]


def static_base() -> str:
    """STATIC_URL as an absolute path ("/static/"); the app names its files unhashed, and the
    service worker keeps them by these names."""
    return "/" + settings.STATIC_URL.lstrip("/")


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
