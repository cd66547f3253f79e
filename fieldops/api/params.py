"""Query-string parameters shared by API views."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from fieldops.access import MAX_ID, parse_id

__all__ = ["MAX_ID", "query_id"]


def query_id(request: Request, name: str) -> int | None:
    """The id in ?name=…, None when absent; a 400 naming the parameter when it is not an id."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = parse_id(raw)
    if value is None:
        raise ValidationError({name: [f"Give the {name}'s numeric id."]})
    return value
