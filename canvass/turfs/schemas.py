"""The OpenAPI description of the turf map's GeoJSON (built as dicts in canvass/turfs/apis.py); schema only."""

from __future__ import annotations

from fieldops.api.schema import SchemaComponent, nullable, ref


class TurfFeature(SchemaComponent):
    schema = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer", "description": "The turf's id."},
            "geometry": nullable(
                {
                    "type": "object",
                    "description": "GeoJSON geometry (WGS84), the turf's polygon.",
                    "additionalProperties": {},
                }
            ),
            "properties": {
                "type": "object",
                "description": "The turf as GET /api/v1/turfs/ lists it (TurfOutput), without its polygon.",
                "additionalProperties": {},
            },
        },
        "required": ["type", "id", "geometry", "properties"],
    }


class TurfFeatureCollection(SchemaComponent):
    schema = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": ref(TurfFeature)},
        },
        "required": ["type", "features"],
    }
