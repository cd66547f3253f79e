"""Structured request logging: one JSON line per request.

Fields: time, level, logger, request_id (the X-Request-ID header a proxy
set, or a new one, echoed back in the response), method, path (no query
string: it may hold search terms), status, ms, user (id), org (id), ip.
Bodies are never logged: they hold voter data.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("fieldops.requests")


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object a line, with the record's extra fields."""

    BASE = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self.BASE and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = (request.headers.get("X-Request-ID") or "")[:64] or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]  # our own attribute, read by the log lines and the error pages
        response = self.get_response(request)
        user = getattr(request, "user", None)
        membership = getattr(user, "_fieldops_membership", None) if user is not None else None
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "user": user.pk if user is not None and user.is_authenticated else None,
                "org": membership.organization_id if membership else None,
                "ip": request.META.get("REMOTE_ADDR"),
            },
        )
        response["X-Request-ID"] = request_id
        return response
