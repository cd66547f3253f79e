"""The demo users' passwords, kept in the project's local state so that every
run of `demo` (and so of `dev.py run`) prints the same ones.

They live in settings.VAR_DIR / demo-logins.json (var/ by default, ignored by
git; FIELDOPS_VAR_DIR moves it), readable by its owner only. A password is
made when a user has none there, or for everyone with `demo --reset-passwords`.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

FILENAME = "demo-logins.json"


def logins_path() -> Path:
    return Path(settings.VAR_DIR) / FILENAME


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable or hand-edited into nonsense: new passwords, written back below
    if not isinstance(data, dict):
        return {}
    return {name: value for name, value in data.items() if isinstance(value, str) and value}


def demo_passwords(usernames: Iterable[str], *, reset: bool = False) -> tuple[dict[str, str], set[str]]:
    """(password of each user, the users whose password is new and must be set).

    Kept passwords come from the file; new ones are written to it before they
    are returned, so a run that fails afterwards still prints them next time.
    """
    path = logins_path()
    kept = {} if reset else _read(path)
    passwords: dict[str, str] = {}
    new: set[str] = set()
    for name in usernames:
        if name in kept:
            passwords[name] = kept[name]
        else:
            passwords[name] = secrets.token_urlsafe(9)
            new.add(name)
    if new or set(kept) != set(passwords):
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        # Created readable by its owner only: these are logins, even if demo ones.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(passwords, handle, indent=1, sort_keys=True)
        os.replace(temp, path)
    return passwords, new
