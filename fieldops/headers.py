"""Response headers that keep voters' data out of caches.

Every answer fieldops computes (the API, the admin, the dashboard, walk sheets, exports, health)
is sent with `Cache-Control: no-store` (Django's never-cache headers) unless its view chose its
own: walk lists, pulls and exports carry voters' names, and a shared phone's or a proxy's cache must
not keep them. Static files never reach this middleware (WhiteNoise answers them above it) and keep
their long cache lifetimes. The Content-Security-Policy comes from django-csp (settings
CONTENT_SECURITY_POLICY); the volunteer app's page sets its own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
