"""Import a layer of district boundaries from a GeoJSON FeatureCollection.

The file is checked as a whole first (encoding, JSON, FeatureCollection,
features, the chosen id/name properties); any failure there aborts with one
clear message and writes nothing. Then every feature is checked on its own;
bad features are skipped and listed as "feature N" (1-based, the order in the
file), or abort the import in strict mode. Invalid polygons are repaired with
shapely and the report says so.

Re-importing a layer updates its districts in place, matched on the external
id, so their primary keys (and the campaigns that target them) survive. A
district missing from the new file is kept and reported, never deleted: a
campaign may still target it, and deleting it would silently drop its door
links and stats.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import shapely
from django.db import transaction
from django.utils import timezone

from fieldops.models import Organization
from fieldops.services import audit_log
from turf.districting import door_districts_assign, organization_doors_lock
from turf.geometry import GeometryError, bbox, polygon_from_geojson, to_geojson
from turf.importers.base import (
    ImportAborted,
    ImportProblem,
    ImportReport,
    ProgressCallback,
    no_progress,
)
from turf.models import District, DistrictLayer

# CRS names that mean WGS84 longitude/latitude. GeoJSON (RFC 7946) dropped the
# "crs" member, but ArcGIS exports (the LA GeoHub files) still write CRS84.
_WGS84_CRS = ("CRS84", "EPSG::4326", "EPSG:4326", "WGS84", "WGS 84")

_EXTERNAL_ID_MAX = District._meta.get_field("external_id").max_length or 120
_NAME_MAX = District._meta.get_field("name").max_length or 200


@dataclass
class _CheckedFeature:
    number: int  # 1-based position in the file
    external_id: str
    name: str
    geometry: Any  # shapely Polygon/MultiPolygon
    repaired: bool
    properties: dict[str, Any]


def import_districts(
    *,
    organization: Organization,
    layer_name: str,
    id_field: str | None,
    name_field: str,
    source: str | Path | IO[bytes],
    strict: bool = False,
    progress: ProgressCallback = no_progress,
    source_label: str = "",
) -> ImportReport:
    """Create or update the layer `layer_name` of `organization` from a GeoJSON file.

    `id_field` None means the name is the id (the neighborhood council file
    has no id property). Raises ImportAborted, having written nothing, when the
    file cannot be used at all, or in strict mode when any feature is bad.
    After writing, recomputes the door links of this layer.
    """
    started = time.monotonic()
    layer_name = (layer_name or "").strip()
    if not layer_name:
        raise ImportAborted("the layer name is empty; give the layer a name such as 'City Council'")
    if not name_field:
        raise ImportAborted("the name field is empty; name the property that holds the district name")
    if id_field == "":
        id_field = None
    if not source_label:
        source_label = str(source) if isinstance(source, str | Path) else getattr(source, "name", "")

    features = _read_feature_collection(source)
    _check_fields_exist(features, id_field=id_field, name_field=name_field)

    report = ImportReport(rows_read=len(features))
    checked = _check_features(features, id_field=id_field, name_field=name_field, report=report)
    progress(len(features), len(features), "features checked")
    report.skipped = len(report.problems)
    if strict and report.problems:
        raise ImportAborted(
            f"strict mode: {len(report.problems)} feature(s) have problems; nothing was written",
            report.problems,
        )
    if not checked:
        raise ImportAborted("no feature could be imported; nothing was written", report.problems)

    with transaction.atomic():
        organization_doors_lock(organization=organization)
        layer = _write_districts(
            organization=organization,
            layer_name=layer_name,
            id_field=id_field,
            name_field=name_field,
            source_label=source_label,
            checked=checked,
            report=report,
        )
        links = door_districts_assign(organization=organization, layer=layer, progress=progress)
        report.counts["districts in file"] = len(checked)
        # A door can lie in two districts of one layer (overlapping neighborhood
        # councils), so this counts door–district links, not distinct doors.
        report.counts["doors assigned (door-district links)"] = links
        audit_log(
            organization=organization,
            actor=None,
            action="districts.import",
            obj=layer,
            source=source_label,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=report.skipped,
            links=links,
        )
    report.seconds = time.monotonic() - started
    return report


# --- whole-file checks -------------------------------------------------------


def _read_bytes(source: str | Path | IO[bytes]) -> bytes:
    if isinstance(source, str | Path):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise ImportAborted(f"cannot read {source}: {exc.strerror or exc}") from None
    data = source.read()
    if isinstance(data, str):  # a text stream: accept it, it is already decoded
        return data.encode("utf-8")
    return data


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and PostgreSQL's
    # jsonb refuses them, so they would fail late, inside the transaction.
    raise ValueError(f"{name} is not allowed in JSON")


def _read_feature_collection(source: str | Path | IO[bytes]) -> list[Any]:
    raw = _read_bytes(source)
    if not raw.strip():
        raise ImportAborted("the file is empty")
    try:
        text = raw.decode("utf-8-sig")  # tolerate a byte-order mark (Windows tools write one)
    except UnicodeDecodeError as exc:
        raise ImportAborted(
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
            "GeoJSON must be UTF-8: re-export it as UTF-8 (e.g. ogr2ogr -f GeoJSON out.geojson in.shp)"
        ) from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ImportAborted(f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except ValueError as exc:
        raise ImportAborted(f"the file is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ImportAborted(f"the file is not a GeoJSON FeatureCollection (it is a JSON {type(data).__name__})")
    kind = data.get("type")
    if kind != "FeatureCollection":
        hint = "; wrap it in a FeatureCollection" if kind in ("Feature", "Polygon", "MultiPolygon") else ""
        raise ImportAborted(f"the file is not a GeoJSON FeatureCollection (type is {kind!r}){hint}")
    _check_crs(data.get("crs"))
    features = data.get("features")
    if not isinstance(features, list):
        raise ImportAborted("the FeatureCollection has no 'features' list")
    if not features:
        raise ImportAborted("the FeatureCollection has no features")
    return features


def _check_crs(crs: Any) -> None:
    if not isinstance(crs, dict):
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs.get("properties"), dict) else None
    if not isinstance(name, str) or not name:
        return
    if any(token in name.upper() for token in _WGS84_CRS):
        return
    raise ImportAborted(
        f"the file's coordinate system is {name}, not WGS84 longitude/latitude; "
        "reproject it first (e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)"
    )


def _feature_properties(feature: Any) -> dict[str, Any]:
    if isinstance(feature, dict) and isinstance(feature.get("properties"), dict):
        return feature["properties"]
    return {}


def _check_fields_exist(features: list[Any], *, id_field: str | None, name_field: str) -> None:
    available: dict[str, None] = {}  # ordered set, in file order
    top_level_id = False
    for feature in features:
        for key in _feature_properties(feature):
            available.setdefault(key, None)
        if isinstance(feature, dict) and feature.get("id") is not None:
            top_level_id = True
    missing = [f for f in (id_field, name_field) if f is not None and f not in available]
    if id_field == "id" and top_level_id and "id" in missing:
        missing.remove("id")  # the feature's own GeoJSON id
    if not missing:
        return
    listed = ", ".join(available) or "(none: the features have no properties)"
    which = " and ".join(repr(m) for m in missing)
    raise ImportAborted(f"no feature has the property {which}; the properties in this file are: {listed}")


# --- per-feature checks ------------------------------------------------------


def _as_text(value: Any) -> str:
    """A property value as the text we store: 61 and 61.0 both become "61"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dict | list):
        return ""
    return str(value).strip()


_VALIDITY = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


def _describe_repair(problem: str) -> str:
    """'Self-intersection[-118.4 33.9]' -> 'self-intersection at (-118.4, 33.9)'."""
    match = _VALIDITY.match(problem.strip())
    if not match:
        return problem.strip().lower() or "invalid polygon"
    return f"{match['reason'].strip().lower()} at ({match['x']}, {match['y']})"


def has_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in a JSON value (keys included)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _check_features(
    features: list[Any], *, id_field: str | None, name_field: str, report: ImportReport
) -> list[_CheckedFeature]:
    checked: list[_CheckedFeature] = []
    first_seen: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            kind = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            report.problems.append(ImportProblem(where, f"not a GeoJSON Feature (type is {kind!r})"))
            continue
        props = _feature_properties(feature)
        name = _as_text(props.get(name_field))
        if id_field is None:
            external_id = name
        elif id_field in props:
            external_id = _as_text(props.get(id_field))
        else:
            external_id = _as_text(feature.get("id")) if id_field == "id" else ""
        if external_id:
            where = f"feature {number} (id {external_id})"

        messages: list[str] = []
        if id_field is not None and not external_id:
            messages.append(f"missing id: property {id_field!r} is absent or empty")
        elif len(external_id) > _EXTERNAL_ID_MAX:
            messages.append(f"id is longer than {_EXTERNAL_ID_MAX} characters")
        if not name:
            messages.append(f"missing name: property {name_field!r} is absent or empty")
        elif len(name) > _NAME_MAX:
            messages.append(f"name is longer than {_NAME_MAX} characters")
        if has_nul(props):
            messages.append("a property holds a NUL character (the database cannot store it)")
        if external_id and external_id in first_seen:
            messages.append(f"duplicate id {external_id!r} (first in feature {first_seen[external_id]})")
        elif external_id:
            first_seen[external_id] = number

        geometry = feature.get("geometry")
        checked_geometry = None
        if geometry is None:
            messages.append("has no geometry (null or missing)")
        else:
            try:
                checked_geometry = polygon_from_geojson(geometry)
            except GeometryError as exc:
                messages.append(str(exc))

        if messages:
            report.problems.append(ImportProblem(where, "; ".join(messages)))
            continue
        assert checked_geometry is not None
        if checked_geometry.repaired:
            report.notes.append(f"{where}: {_describe_repair(checked_geometry.problem)} repaired")
        checked.append(
            _CheckedFeature(
                number=number,
                external_id=external_id,
                name=name,
                geometry=checked_geometry.geometry,
                repaired=checked_geometry.repaired,
                properties=props,
            )
        )
    return checked


# --- writing -----------------------------------------------------------------


def _json_ready(geojson: dict) -> dict:
    # shapely's mapping() uses tuples; the JSONField gives back lists. Store the
    # list form so a re-import can compare what it read with what it wrote.
    return json.loads(json.dumps(geojson))


def _write_districts(
    *,
    organization: Organization,
    layer_name: str,
    id_field: str | None,
    name_field: str,
    source_label: str,
    checked: Iterable[_CheckedFeature],
    report: ImportReport,
) -> DistrictLayer:
    layer, layer_created = DistrictLayer.objects.get_or_create(
        organization=organization,
        name=layer_name,
        defaults={"source": source_label[:300], "id_field": id_field or "", "name_field": name_field},
    )
    if not layer_created:
        layer.source = source_label[:300]
        layer.id_field = id_field or ""
        layer.name_field = name_field
        layer.save(update_fields=["source", "id_field", "name_field", "updated_at"])

    existing = {d.external_id: d for d in District.objects.filter(layer=layer)}
    now = timezone.now()
    to_create: list[District] = []
    to_update: list[District] = []
    seen: set[str] = set()
    for feature in checked:
        seen.add(feature.external_id)
        wkb = shapely.to_wkb(feature.geometry)
        min_lng, min_lat, max_lng, max_lat = bbox(feature.geometry)
        values = {
            "name": feature.name,
            "geojson": _json_ready(to_geojson(feature.geometry)),
            "wkb": wkb,
            "min_lng": min_lng,
            "min_lat": min_lat,
            "max_lng": max_lng,
            "max_lat": max_lat,
            "properties": feature.properties,
            "repaired": feature.repaired,
        }
        district = existing.get(feature.external_id)
        if district is None:
            to_create.append(
                District(organization=organization, layer=layer, external_id=feature.external_id, **values)
            )
            continue
        if _unchanged(district, values):
            report.unchanged += 1
            continue
        for key, value in values.items():
            setattr(district, key, value)
        district.updated_at = now  # bulk_update does not apply auto_now
        to_update.append(district)

    District.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        District.objects.bulk_update(to_update, [*_UPDATED_FIELDS, "updated_at"], batch_size=200)
    report.created = len(to_create)
    report.updated = len(to_update)
    for external_id, district in sorted(existing.items()):
        if external_id not in seen:
            report.notes.append(f"district {external_id} ({district.name}) is not in the file; kept")
    return layer


_UPDATED_FIELDS = [
    "name",
    "geojson",
    "wkb",
    "min_lng",
    "min_lat",
    "max_lng",
    "max_lat",
    "properties",
    "repaired",
]


def _unchanged(district: District, values: dict[str, Any]) -> bool:
    for key, value in values.items():
        current = getattr(district, key)
        if key == "wkb":
            current = bytes(current)  # memoryview on PostgreSQL, bytes on SQLite
        if current != value:
            return False
    return True
