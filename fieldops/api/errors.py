"""One JSON error shape for every API failure.

Every 4xx carries {"detail": "...", "errors": {...}} so a phone can show the
message and point at the field; a malformed body says so instead of a 500.
A 401 adds "code" (why the credentials were refused), a 429 "retry_after_seconds".

400 is for a request that is wrong whenever it is sent (a missing field, an id
that is not the organization's, an end before the start); 409 for a valid
request the object's current state refuses now (check-in before it opens,
check-out before check-in, a full shift, an archived turf): services raise
`fieldops.exceptions.StateConflict`, and its message says what would work.

Ids are bounded where they enter (fieldops/api/fields.py, the `id` path
converter, fieldops.access.parse_id) and JSON depth in the parser
(fieldops/api/parsers.py). A number the database cannot hold that still gets
through (a count, a page) is the client's error too: a 400, not a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fieldops.exceptions import StateConflict

NO_CREDENTIALS = (
    "Authentication credentials were not provided; log in (POST /api/v1/auth/token/) "
    "and send 'Authorization: Token <key>'."
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        if isinstance(exc, StateConflict):
            conflict = drf_exception_handler(Conflict(" ".join(exc.messages)), context)
            if conflict is not None:
                conflict.data = {"detail": " ".join(exc.messages), "errors": error_lists(errors)}
            return conflict
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (OverflowError, DataError)):
        # SQLite cannot bind an integer beyond 64 bits; PostgreSQL answers "out of range".
        exc = exceptions.ParseError("A number in the request is out of range.")
    elif isinstance(exc, RecursionError):
        exc = exceptions.ParseError("The request is nested too deeply.")
    elif isinstance(exc, exceptions.NotAuthenticated):
        header = getattr(exc, "auth_header", None)  # set by the view: WWW-Authenticate
        exc = exceptions.NotAuthenticated(NO_CREDENTIALS)
        exc.auth_header = header  # type: ignore[attr-defined]  # DRF's own attribute, read by its handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "The request has invalid fields; see errors.", "errors": error_lists(data)}
    elif isinstance(data, dict) and "detail" in data:
        response.data = {"detail": str(data["detail"]), "errors": {}}
    else:
        response.data = {"detail": "Request failed.", "errors": data}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and isinstance(exc, exceptions.APIException):
        # Why the credentials were refused, for the phone's logs: not_authenticated
        # (none sent), token_malformed, token_unknown, token_revoked, token_expired,
        # token_inactive (fieldops/tokens.py). The answer to all of them is to log in again.
        codes = exc.get_codes()
        response.data["code"] = codes if isinstance(codes, str) else "not_authenticated"
    wait = getattr(exc, "wait", None)
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and wait:
        response.data["retry_after_seconds"] = int(wait)
    return response


def error_lists(errors: Any) -> Any:
    """Field errors in the one shape of the API: every message in a list, `{field: [message, ...]}`,
    nested objects kept (`{"answers": {"7": ["…"]}}`). DRF's serializers already answer so; a
    service's or a hand-written validator's `{field: "message"}` is brought to it."""
    if isinstance(errors, dict):
        return {str(key): error_lists(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        if all(isinstance(item, str) for item in errors):
            return [str(item) for item in errors]
        return [error_lists(item) for item in errors]
    return [str(errors)]


class Conflict(exceptions.APIException):
    """The request is valid but the state forbids it now (a view's own refusal; services raise StateConflict)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict with the current state."
    default_code = "conflict"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for URLs that match no route: the JSON error body under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: a phone gets JSON it can show (and the error is logged with a traceback)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error; it has been logged. Try again later.", "errors": {}}, status=500)
    return defaults.server_error(request)
