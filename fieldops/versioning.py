"""The API's version, said to every client, and the app version a client says back.

Every answer under /api/ carries `X-Fieldops-Api-Version: <major>.<minor>`:
the major is the URL prefix (/api/v1/), the minor counts additive changes
within it (docs/api.md, "Versioning"). Pull bodies carry the same string as
`api_version`.

A client says what it is with `X-Fieldops-App-Version` (the volunteer app
sends its shell version, volunteer/shell.py). The server reads it, keeps it on
the request as `request.fieldops_app_version` (None when absent) and, for now,
neither logs nor refuses by it: docs/api.md says when it would answer
426 Upgrade Required.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

API_VERSION = "1.1"
API_VERSION_HEADER = "X-Fieldops-Api-Version"
APP_VERSION_HEADER = "X-Fieldops-App-Version"
# An app version is a short token (the shell's 16 hex digits); anything longer
# or with other characters is not a version and is read as absent.
APP_VERSION_MAX = 64


def app_version(value: str | None) -> str | None:
    """The client's version as sent, or None when absent or not a plausible version string."""
    if not value or len(value) > APP_VERSION_MAX:
        return None
    if not all(c.isascii() and (c.isalnum() or c in ".-_+") for c in value):
        return None
    return value


class ApiVersionMiddleware:
    """Adds X-Fieldops-Api-Version to every /api/ answer (errors and 404s included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.fieldops_app_version = app_version(request.headers.get(APP_VERSION_HEADER))  # type: ignore[attr-defined]  # our own attribute
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            response[API_VERSION_HEADER] = API_VERSION
        return response
