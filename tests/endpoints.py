"""Every API operation, read from the OpenAPI schema and checked against the URL resolver.

The authorization matrix and the hostile-input test walk this list, so a new
endpoint is tried by both without anyone remembering to add it: a route the
resolver serves but the schema does not describe fails the matrix test
(tests/test_authorization_matrix.py).
"""

from __future__ import annotations

import re
from functools import cache

from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

# Served under /api/v1/ but not operations of the API: the schema and its two viewers.
NOT_OPERATIONS = {"/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"}
METHODS = ("get", "post", "put", "patch", "delete")
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@cache
def api_operations() -> tuple[tuple[str, str], ...]:
    """(METHOD, path template) of every operation, e.g. ("POST", "/api/v1/shifts/{shift_id}/no-show/")."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return tuple(
        (method.upper(), path)
        for path, operations in sorted(schema["paths"].items())
        for method in METHODS
        if method in operations
    )


def api_routes() -> set[str]:
    """Every route the URL resolver serves under /api/v1/, as a schema-style template."""
    found = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = "/" + prefix + str(pattern.pattern)
                if route.startswith("/api/v1/"):
                    found.add(_PARAMETER.sub(r"{\g<name>}", route))

    walk(get_resolver().url_patterns)
    return found - NOT_OPERATIONS


def path_parameters(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def fill(path: str, values: dict[str, object]) -> str:
    """The path with each {parameter} replaced by values[parameter]."""
    return re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)
