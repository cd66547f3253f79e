"""OpenAPI plumbing shared by the apps: hand-written schema components and the error answers.

Some bodies are validated by plain Python, not DRF serializers (the push:
canvass/sync/serializers.py), or built as dicts (the pull). Their schema is
written by hand as a JSON-Schema dict on a `SchemaComponent` subclass, which
drf-spectacular turns into a named component (`#/components/schemas/<Name>`)
through the extension below; `ref(OtherComponent)` inside the dict points at
another one. Nothing here validates anything: the schema describes what the
code enforces, and tests/test_schema_contract.py checks that they agree.

`add_error_responses` (a drf-spectacular postprocessing hook) documents the
one error body of fieldops/api/errors.py on every operation: 400, 401, 403,
404 as they apply (docs/api.md, "Authentication answers"), and gives the same body to
every other 4xx a view declares (409 where the object's state may refuse the request:
the views name it with `conflict()`, saying what refuses: fieldops.exceptions.StateConflict).
"""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from fieldops.access import MAX_ID

ERROR_BODY = {
    "type": "object",
    "description": "fieldops' one error shape (fieldops/api/errors.py).",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong and what to do, for a person."},
        "errors": {
            "type": "object",
            "description": "Field errors: {field: [message, …]}; nested objects nest the same way. Empty when "
            "the error is about the whole request.",
            "additionalProperties": {},
        },
        "code": {
            "type": "string",
            "description": "401 only: why the credentials were refused: not_authenticated, token_malformed, "
            "token_unknown, token_revoked, token_expired, token_inactive (more may be added). "
            "Whatever the code, log in again.",
        },
        "retry_after_seconds": {"type": "integer", "description": "429 only: when to try again."},
    },
    "required": ["detail", "errors"],
}


class _Ref:
    def __init__(self, component: type[serializers.BaseSerializer]) -> None:
        self.component = component


def ref(component: type[serializers.BaseSerializer]) -> Any:
    """A reference to another component (hand-written or a DRF serializer), resolved when the schema is built."""
    return _Ref(component)


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0's null: the schema, or null. A $ref cannot carry siblings, so it is wrapped."""
    if isinstance(schema, _Ref):
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


class SchemaComponent(serializers.Serializer):
    """A schema-only component: subclasses set `schema` (a JSON-Schema dict); the name is the class's."""

    schema: ClassVar[dict[str, Any]] = {}

    @classmethod
    def build(cls) -> dict[str, Any]:
        """The schema; a subclass whose schema reads settings builds it here, when the schema is generated."""
        return cls.schema


class SchemaComponentExtension(OpenApiSerializerExtension):
    target_class = SchemaComponent
    match_subclasses = True

    def get_name(self, auto_schema, direction) -> str:  # noqa: ANN001 - drf-spectacular's signature
        return type(self.target).__name__ if isinstance(self.target, SchemaComponent) else self.target.__name__

    def map_serializer(self, auto_schema, direction):  # noqa: ANN001 - drf-spectacular's signature
        target: type[SchemaComponent] = self.target if isinstance(self.target, type) else type(self.target)

        def resolve(value: Any) -> Any:
            if isinstance(value, _Ref):
                return auto_schema.resolve_serializer(value.component(), direction).ref
            if isinstance(value, dict):
                return {key: resolve(item) for key, item in value.items()}
            if isinstance(value, list):
                return [resolve(item) for item in value]
            return value

        return resolve(target.build())


# --- Paginated lists ---------------------------------------------------------------------------

_PAGINATED: dict[type, type[SchemaComponent]] = {}


def paginated(item: type[serializers.BaseSerializer]) -> type[SchemaComponent]:
    """The page envelope of fieldops.api.pagination around `item`: {count, next, previous, results}."""
    if item not in _PAGINATED:
        name = "Paginated" + item.__name__.removesuffix("Serializer") + "List"
        schema = {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 0, "description": "Rows in all pages."},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": {"type": "array", "items": ref(item)},
            },
            "required": ["count", "next", "previous", "results"],
        }
        _PAGINATED[item] = type(name, (SchemaComponent,), {"schema": schema, "__module__": __name__})
    return _PAGINATED[item]


PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", {"type": "integer", "minimum": 1}, description="The page, from 1; past the last page: 404."
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 1000},
        description="Rows a page, 100 by default, at most 1000.",
    ),
]


def id_parameter(name: str, description: str) -> OpenApiParameter:
    """An optional ?name=<id> query parameter, as fieldops.api.params.query_id reads it."""
    return OpenApiParameter(name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description=description)


# --- Error answers on every operation ---------------------------------------------------------

_ERRORS = {
    "400": "Invalid input: `errors` names each field and what is wrong with it.",
    "401": "No credentials, or a token the server no longer takes (malformed, unknown, revoked, expired): "
    "log in again. `code` says which.",
    "403": "Authenticated, but this role may not do this (or no organization; or a session without its CSRF token).",
    "404": "No such object of yours (missing and another organization's alike).",
}
NO_CREDENTIALS_NEEDED = {("/api/v1/auth/token/", "post")}


def conflict(description: str) -> OpenApiResponse:
    """A 409: the request is valid, the object's current state refuses it now
    (fieldops.exceptions.StateConflict); `description` says which states."""
    return OpenApiResponse(description=f"Refused by the current state: {description} `detail` says what would work.")


def add_error_responses(result: dict, generator, request, public) -> dict:  # noqa: ANN001 - drf-spectacular's hook
    """Document the error body on every operation, for the statuses that apply to it."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_BODY
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            codes = ["400"] if (operation.get("requestBody") or operation.get("parameters")) else []
            if (path, method) not in NO_CREDENTIALS_NEEDED:
                codes += ["401", "403"]
            if "{" in path:
                codes.append("404")
            for code in codes:
                answer = responses.setdefault(code, {"description": _ERRORS[code]})
                answer.setdefault("content", body)
            for code, answer in responses.items():
                if code.startswith("4") and "content" not in answer:
                    answer["content"] = body
    return result


# fieldops/date_bounds.py: moments from a request lie in 1970-2100. The pattern keeps a
# year's margin at both ends (an offset can move a moment across a new year).
CALENDAR_MOMENT = r"^(197[1-9]|19[89][0-9]|20[0-9]{2})-"


def _request_body_schemas(result: dict) -> set[str]:
    """The names of the component schemas that some operation takes as its request body."""
    used: set[str] = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref:
                    used.add(ref.rsplit("/", 1)[1])
    return used


def bound_request_times(result: dict, generator, request, public) -> dict:  # noqa: ANN001 - drf-spectacular's hook
    """Request bodies' date-times without a pattern of their own get the calendar's bounds."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in _request_body_schemas(result):
        for prop in schemas.get(name, {}).get("properties", {}).values():
            if prop.get("format") == "date-time" and "pattern" not in prop:
                prop["pattern"] = CALENDAR_MOMENT
                note = "Between 1971 and 2099 (fieldops/date_bounds.py accepts 1970 to 2100)."
                prop["description"] = f"{prop['description']} {note}" if prop.get("description") else note
    return result


# DRF's CharField refuses a NUL character ("Null characters are not allowed."), and one that
# may not be blank refuses what is only spaces once trimmed; JSON Schema can say both.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


def state_text_rules(result: dict, generator, request, public) -> dict:  # noqa: ANN001 - drf-spectacular's hook
    """Request bodies' free-text fields (strings without a format, enum or pattern of their own)
    get the pattern DRF enforces: no NUL character; with `minLength: 1` (drf-spectacular's mark of a field
    that may not be blank: NOT_BLANK), also something besides spaces."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in _request_body_schemas(result):
        for prop in schemas.get(name, {}).get("properties", {}).values():
            if prop.get("type") != "string" or {"format", "enum", "pattern"} & set(prop):
                continue
            prop["pattern"] = NOT_BLANK if prop.get("minLength") else NO_NUL
    return result
