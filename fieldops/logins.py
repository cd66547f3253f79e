"""The two doors with a password, the phone's API login and the organizers' admin login, held to
one limit: each attempt, failed or not, counts against the same windows per (username, address)
and per address (settings.FIELDOPS_LOGIN_RATES), wherever it came in; and a slow password hash
cannot be used to take the server from everyone else: each process checks at most
FIELDOPS_LOGIN_CONCURRENCY passwords at a time, and an attempt that waits longer than
FIELDOPS_LOGIN_WAIT_SECONDS for its turn is answered "busy" without a hash. docs/architecture.md,
"Trust".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from fieldops.models import ThrottleCounter


class LoginBusy(Exception):
    """Every password check of this process is taken: try again in a moment."""


def client_address(request: HttpRequest) -> str:
    """The client's address as the API's throttles see it (behind REST_FRAMEWORK["NUM_PROXIES"] proxies)."""
    return BaseThrottle().get_ident(request)[:64]  # type: ignore[arg-type]  # reads request.META only


def login_attempt(username: str, address: str) -> float | None:
    """Count one login attempt; None when it may go on, else the seconds until it may."""
    username = str(username or "").strip().lower()[:150]
    digest = hashlib.sha256(username.encode()).hexdigest()[:32]
    keys = {"user_ip": f"login:u:{digest}:{address}", "ip": f"login:ip:{address}"}
    incr = _incr_redis if throttle_store() == "redis" else _incr_database
    now = time.time()
    for scope, rate in settings.FIELDOPS_LOGIN_RATES.items():
        number, seconds = _parse_rate(rate)
        window = int(now // seconds)
        if incr(f"{keys[scope]}:{seconds}:{window}", seconds) > number:
            return (window + 1) * seconds - now
    return None


def throttle_store() -> str:
    """Where the login throttle counts: "redis" (the "throttle" cache) or "database"."""
    return "redis" if "throttle" in settings.CACHES else "database"


def _incr_redis(key: str, seconds: int) -> int:
    cache = caches["throttle"]
    cache.add(key, 0, timeout=seconds + 1)
    try:
        return cache.incr(key)  # INCR: atomic
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds + 1)
        return 1


def _incr_database(key: str, seconds: int) -> int:
    """Raise the window's counter by one and return it, race-free.

    INSERT … ON CONFLICT DO NOTHING makes the row; the UPDATE locks it until
    commit, so concurrent logins of one key take turns and each reads its own
    number (SQLite: write transactions are IMMEDIATE, one at a time).
    """
    now = timezone.now()
    # Cleanup in its own statement, before taking the key's row lock: no lock is
    # held across the two, so concurrent logins cannot deadlock on them.
    ThrottleCounter.objects.filter(expires_at__lt=now).delete()
    with transaction.atomic():
        ThrottleCounter.objects.bulk_create(
            [ThrottleCounter(key=key, count=0, expires_at=now + dt.timedelta(seconds=seconds + 1))],
            ignore_conflicts=True,
        )
        ThrottleCounter.objects.filter(key=key).update(count=F("count") + 1)
        return ThrottleCounter.objects.filter(key=key).values_list("count", flat=True).get()


class LoginThrottle(BaseThrottle):
    """Logins, failed and successful, counted per (username, client IP) and per IP.

    Fixed windows (settings.FIELDOPS_LOGIN_RATES) counted where all server
    processes share them: Redis INCR when REDIS_URL is set, else a row per key
    and window in fieldops_throttlecounter raised by a locking UPDATE. Both
    hold the limit exactly under concurrent requests. DRF's SimpleRateThrottle
    keeps a read-modify-write history list in the cache, which loses counts
    between processes.
    """

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view) -> bool:
        # The admin login counts the same way, in the same windows (ThrottledAdminLoginForm).
        username = request.data.get("username") if hasattr(request.data, "get") else None
        self.wait_seconds = login_attempt(str(username or ""), self.get_ident(request)[:64])
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


def _parse_rate(rate: str) -> tuple[int, int]:
    """Parse "10/min" → (10, 60); also s, sec, m, min, h, hour, d, day, and "10/15min"."""
    number, _, period = rate.partition("/")
    digits = "".join(c for c in period if c.isdigit())
    unit = period[len(digits) :]
    seconds = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}[unit]
    return int(number), seconds * int(digits or 1)


_slots: threading.BoundedSemaphore | None = None
_slots_size = 0
_slots_lock = threading.Lock()


@contextmanager
def password_check_slot() -> Iterator[None]:
    """Hold one of this process's password-check slots, or raise LoginBusy."""
    global _slots, _slots_size
    size = settings.FIELDOPS_LOGIN_CONCURRENCY
    with _slots_lock:
        if _slots is None or _slots_size != size:  # the setting changed (tests): a new set of slots
            _slots, _slots_size = threading.BoundedSemaphore(size), size
        slots = _slots
    if not slots.acquire(timeout=settings.FIELDOPS_LOGIN_WAIT_SECONDS):
        raise LoginBusy
    try:
        yield
    finally:
        slots.release()


class ThrottledModelBackend(ModelBackend):
    """Django's password check (the same hash work for unknown names), in one of the slots."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        with password_check_slot():
            return super().authenticate(request, username=username, password=password, **kwargs)
