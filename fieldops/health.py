"""Health checks for load balancers and monitors.

GET /health/live/  the web process answers and reaches its database
                   (for a load balancer: take this process out when it fails)
GET /health/       database, broker, and that a background worker ran recently
                   (for a monitor: page someone when it fails)

Both answer JSON without login and reveal no data: only ok / failing and a
short reason. 200 when every check passes, 503 otherwise.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# A worker that has not touched its schedules for this long is not running.
WORKER_STALE_AFTER = dt.timedelta(minutes=3)


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer, not a 500
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_broker() -> dict[str, Any]:
    from django_q.brokers import get_broker

    started = time.perf_counter()
    try:
        broker = get_broker()
        ok = bool(broker.ping())
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    kind = "redis" if getattr(settings, "REDIS_URL", "") else "orm"
    return {"ok": ok, "kind": kind, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_worker(now: dt.datetime | None = None) -> dict[str, Any]:
    """A worker ran recently: its scheduler keeps every schedule's next run in the future,
    or it finished a task a moment ago."""
    from django_q.models import Schedule, Task

    now = now or timezone.now()
    try:
        overdue = (
            Schedule.objects.exclude(repeats=0)
            .filter(next_run__lt=now - WORKER_STALE_AFTER)
            .order_by("next_run")
            .values_list("name", "next_run")
            .first()
        )
        scheduled = Schedule.objects.exclude(repeats=0).exists()
        last_task = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    recent_task = last_task is not None and last_task >= now - WORKER_STALE_AFTER
    if overdue is not None and not recent_task:
        name, next_run = overdue
        minutes = int((now - next_run).total_seconds() // 60)
        return {"ok": False, "error": f"schedule {name!r} is {minutes} min overdue: is a worker (qcluster) running?"}
    if not scheduled and not recent_task:
        return {"ok": False, "error": "no schedules and no recent task: run `manage.py setup_schedules` and a worker"}
    return {"ok": True, "last_task": last_task.isoformat() if last_task else None}


def _answer(checks: dict[str, dict[str, Any]]) -> JsonResponse:
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "failing", "checks": checks}, status=200 if ok else 503)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return _answer({"database": check_database()})


@never_cache
@require_GET
def full(request: HttpRequest) -> JsonResponse:
    return _answer({"database": check_database(), "broker": check_broker(), "worker": check_worker()})
