"""The OpenAPI description of the stats answers' envelope, {campaign, results}; schema only."""

from __future__ import annotations

from rest_framework import serializers

from fieldops.api.schema import SchemaComponent, ref

_MADE: dict[type, type[SchemaComponent]] = {}


def campaign_results(item: type[serializers.BaseSerializer]) -> type[SchemaComponent]:
    """{"campaign": <id>, "results": [item, …]}, as the stats views answer (not paginated)."""
    if item not in _MADE:
        name = item.__name__.removesuffix("Output") + "Results"
        schema = {
            "type": "object",
            "properties": {
                "campaign": {"type": "integer", "description": "The campaign's id."},
                "results": {"type": "array", "items": ref(item)},
            },
            "required": ["campaign", "results"],
        }
        _MADE[item] = type(name, (SchemaComponent,), {"schema": schema, "__module__": __name__})
    return _MADE[item]
