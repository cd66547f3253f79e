"""CPU time per request, for the load benchmark (off unless REQUEST_CPU_LOG=1).

With the setting on, fieldops/settings.py puts this middleware first and
every request writes one more log line (logger "fieldops.request_cpu"):
method, path (no query string), status, cpu_ms (the CPU the request's thread
used between entering and leaving Django: time.thread_time(), so other
threads' work and time waiting on the database or for the GIL are not in
it), ms (wall time over the same span) and pid. benchmarks/load_weekend.py
turns the lines into the CPU per request of each endpoint. Off, it is not in
the middleware list and costs nothing.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("fieldops.request_cpu")


class RequestCpuMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.pid = os.getpid()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        wall = time.perf_counter()
        cpu = time.thread_time()
        response = self.get_response(request)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "cpu_ms": round((time.thread_time() - cpu) * 1000, 2),
                "ms": round((time.perf_counter() - wall) * 1000, 1),
                "pid": self.pid,
            },
        )
        return response
