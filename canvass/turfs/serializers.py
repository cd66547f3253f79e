"""Input and output shapes of the organizer's turf API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from canvass.turfs.models import TurfCutJob
from fieldops.access import MAX_ID
from fieldops.api.fields import IdField

# A drawn polygon is a few hundred points; 20,000 is far more than any
# hand-drawn turf and keeps one request's geometry work bounded.
MAX_POLYGON_POINTS = 20_000


class TurfDistrictOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    layer = serializers.CharField(source="layer.name")


class TurfOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    number = serializers.IntegerField(
        allow_null=True, help_text="The turf's number in the campaign (unique among its active turfs)."
    )
    campaign = serializers.IntegerField(source="campaign_id")
    status = serializers.CharField()
    district = TurfDistrictOutput(allow_null=True)
    door_count = serializers.IntegerField()
    building_count = serializers.IntegerField()
    person_count = serializers.IntegerField()
    walk_distance_m = serializers.FloatField(allow_null=True)
    walk_minutes = serializers.FloatField(allow_null=True)
    compactness = serializers.FloatField(allow_null=True)
    polygon = serializers.JSONField(allow_null=True, help_text="GeoJSON geometry (WGS84 lng/lat).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TurfDoorOutput(serializers.Serializer):
    walk_order = serializers.IntegerField()
    door = serializers.IntegerField()
    address = serializers.CharField()
    building_key = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)


class TurfDetailOutput(TurfOutput):
    doors = TurfDoorOutput(many=True)


@extend_schema_field(
    {
        "type": "object",
        "description": "GeoJSON Polygon or MultiPolygon geometry, WGS84 lng/lat: rings of [lng, lat] positions, "
        f"at most {MAX_POLYGON_POINTS} points. It must hold doors of the campaign's universe (which the schema "
        "cannot state: a 400 otherwise).",
        "properties": {
            "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
            # Polygon: rings of [lng, lat]; MultiPolygon: polygons of rings, one level deeper.
            "coordinates": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {}}}},
        },
        "required": ["type", "coordinates"],
    }
)
class _GeoJsonPolygonField(serializers.JSONField):
    """The drawn polygon, read as JSON; validated by TurfDrawInput and the service (polygon_from_geojson)."""


class TurfDrawInput(serializers.Serializer):
    campaign = IdField()
    polygon = _GeoJsonPolygonField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")

    def validate_polygon(self, value: object) -> object:
        if not isinstance(value, dict):
            raise serializers.ValidationError('Give a GeoJSON geometry object, e.g. {"type": "Polygon", ...}.')
        if _count_numbers(value.get("coordinates"), limit=2 * MAX_POLYGON_POINTS) > 2 * MAX_POLYGON_POINTS:
            raise serializers.ValidationError(f"The polygon has more than {MAX_POLYGON_POINTS} points; simplify it.")
        return value


def _count_numbers(obj: object, limit: int) -> int:
    """Numbers in nested coordinate lists, stopping once past the limit."""
    count = 0
    stack = [obj]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            count += 1
    return count


class TurfDrawOutput(serializers.Serializer):
    turf = TurfOutput()
    already_in_turfs = serializers.ListField(
        child=serializers.DictField(), help_text="Doors inside the polygon that stay in another active turf."
    )


class TurfSplitInput(serializers.Serializer):
    parts = serializers.IntegerField(min_value=2, max_value=100, default=2)


class TurfListOutput(serializers.Serializer):
    turfs = TurfOutput(many=True)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID},
        "minItems": 2,
        "maxItems": 100,
        "uniqueItems": True,
        "description": "Two or more different turfs of one campaign, active and without canvassers assigned.",
    }
)
class _TurfIds(serializers.ListField):
    """The turfs to merge (the service refuses fewer than two different ones)."""


class TurfMergeInput(serializers.Serializer):
    turfs = _TurfIds(child=IdField(), min_length=2, max_length=100)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")


class TurfCutInput(serializers.Serializer):
    target_doors = serializers.IntegerField(min_value=1, max_value=100_000)
    layer = IdField(required=False, allow_null=True, default=None)
    only_unknocked = serializers.BooleanField(default=False)
    replace = serializers.BooleanField(default=False)


class TurfCutJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id")
    status = serializers.ChoiceField(choices=TurfCutJob.Status.choices)
    target_doors = serializers.IntegerField()
    layer = serializers.IntegerField(source="layer_id", allow_null=True)
    only_unknocked = serializers.BooleanField()
    replace = serializers.BooleanField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    message = serializers.CharField()
    summary = serializers.JSONField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
