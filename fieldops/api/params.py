"""Query-string parameters shared by API views."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Database ids are 64-bit: a longer number is no id (and SQLite would overflow on it).
MAX_ID = 2**63 - 1


def query_id(request: Request, name: str) -> int | None:
    """The id in ?name=…, None when absent; a 400 naming the parameter when it is not an id."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        raise ValidationError({name: [f"Give the {name}'s numeric id."]})
    return int(raw)
