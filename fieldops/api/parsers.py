"""Request body parsers: JSON that cannot take the server down.

Python's json module parses nesting by recursion: a body of 100,000 "[" raised
RecursionError, which DRF's JSONParser does not catch (a 500). No request of
this API nests deeper than a few levels (a MultiPolygon's coordinates are
four), so deeper JSON is refused with a 400 before any view sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data


def json_depth(data: Any, limit: int) -> int:
    """How deep lists and objects nest in `data` (a scalar is 0), counting no further than limit + 1."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest
