"""Pure geometry helpers (no Django): loading, repairing, point-in-polygon.

Coordinates are WGS84 longitude/latitude throughout, as in GeoJSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import GeometryCollection, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity, make_valid


class GeometryError(ValueError):
    """A geometry that cannot be used, with a message that says why."""


@dataclass(frozen=True)
class CheckedGeometry:
    geometry: BaseGeometry  # a Polygon or MultiPolygon
    repaired: bool
    problem: str  # what was wrong before repair, "" when nothing was


def polygon_from_geojson(obj: object) -> CheckedGeometry:
    """Parse a GeoJSON Polygon/MultiPolygon; repair it if invalid; refuse anything else.

    Refuses: not a dict, not a polygon type, empty, coordinates outside the
    world. Repairs self-intersections and bad rings with make_valid and keeps
    only the polygonal part.
    """
    if not isinstance(obj, dict):
        raise GeometryError("geometry is missing or is not a JSON object")
    kind = obj.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"geometry type is {kind!r}; only Polygon and MultiPolygon are districts")
    try:
        geom = shape(obj)
    except Exception as exc:  # shapely raises several types for bad coordinates
        raise GeometryError(f"geometry coordinates cannot be read: {exc}") from None
    if geom.is_empty:
        raise GeometryError("geometry is empty")
    min_x, min_y, max_x, max_y = geom.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise GeometryError(
            f"coordinates outside the world (bounds {min_x:.4f},{min_y:.4f},{max_x:.4f},{max_y:.4f}); "
            "the file must be WGS84 longitude/latitude"
        )
    if geom.is_valid:
        return CheckedGeometry(geom, repaired=False, problem="")
    problem = explain_validity(geom)
    fixed = make_valid(geom)
    polygonal = _polygonal_part(fixed)
    if polygonal is None or polygonal.is_empty or polygonal.area == 0:
        raise GeometryError(f"invalid polygon that cannot be repaired ({problem})")
    return CheckedGeometry(polygonal, repaired=True, problem=problem)


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if isinstance(geom, GeometryCollection):
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            return None
        return shapely.union_all(parts)
    return None


def to_geojson(geom: BaseGeometry) -> dict:
    return mapping(geom)


def points_in_polygons(
    lngs: np.ndarray, lats: np.ndarray, polygons: Sequence[BaseGeometry]
) -> tuple[np.ndarray, np.ndarray]:
    """Every (point index, polygon index) pair where the point lies in the polygon.

    Vectorized: per polygon, a bounding-box mask over all points, then one
    prepared `intersects_xy` over the candidates. Measured on 1M points and
    the 13 assembly districts: 0.5 s, against 2 s for an STRtree of points
    and 20 s for an STRtree of polygons queried with points. A point on a
    shared boundary counts for both polygons, so a door on the line between
    two districts is never in neither.
    """
    xs = np.asarray(lngs, dtype=float)
    ys = np.asarray(lats, dtype=float)
    point_parts: list[np.ndarray] = []
    polygon_parts: list[np.ndarray] = []
    for index, polygon in enumerate(polygons):
        if polygon is None or polygon.is_empty:
            continue
        shapely.prepare(polygon)
        min_x, min_y, max_x, max_y = polygon.bounds
        candidates = np.nonzero((xs >= min_x) & (xs <= max_x) & (ys >= min_y) & (ys <= max_y))[0]
        if len(candidates) == 0:
            continue
        inside = candidates[shapely.intersects_xy(polygon, xs[candidates], ys[candidates])]
        point_parts.append(inside.astype(np.int64))
        polygon_parts.append(np.full(len(inside), index, dtype=np.int64))
    if not point_parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(point_parts), np.concatenate(polygon_parts)


def bbox(geom: BaseGeometry) -> tuple[float, float, float, float]:
    """(min_lng, min_lat, max_lng, max_lat)."""
    min_x, min_y, max_x, max_y = geom.bounds
    return float(min_x), float(min_y), float(max_x), float(max_y)
