"""The pure geometry helpers: no database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from turf.geometry import GeometryError, bbox, points_in_polygons, polygon_from_geojson, to_geojson

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
BOW_TIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


def test_a_valid_polygon_is_returned_unchanged():
    checked = polygon_from_geojson(SQUARE)
    assert checked.repaired is False and checked.problem == ""
    assert checked.geometry.equals(box(0, 0, 1, 1))


def test_a_multipolygon_is_accepted():
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], [[[2, 2], [3, 2], [3, 3], [2, 2]]]]}
    checked = polygon_from_geojson(multi)
    assert isinstance(checked.geometry, MultiPolygon) and not checked.repaired


def test_a_bow_tie_is_repaired_into_its_two_triangles():
    checked = polygon_from_geojson(BOW_TIE)
    assert checked.repaired is True
    assert checked.problem.startswith("Self-intersection")
    assert checked.geometry.is_valid
    assert checked.geometry.geom_type == "MultiPolygon"
    assert checked.geometry.area == pytest.approx(0.5)


def test_a_hole_touching_its_shell_is_repaired():
    ring_with_spike = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [2, 0], [2, 2], [1, 2], [1, 3], [1, 2], [0, 2], [0, 0]]],
    }
    checked = polygon_from_geojson(ring_with_spike)
    assert checked.repaired and checked.geometry.is_valid and checked.geometry.area == pytest.approx(4)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (None, "geometry is missing or is not a JSON object"),
        ([1, 2], "geometry is missing or is not a JSON object"),
        ({"type": "Point", "coordinates": [0, 0]}, "geometry type is 'Point'"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "geometry type is 'LineString'"),
        ({"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, "geometry type is None"),
        ({"type": "Polygon", "coordinates": []}, "geometry is empty"),
        ({"type": "Polygon", "coordinates": [[["x", "y"]]]}, "geometry coordinates cannot be read"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[6.4e6, 1.8e6], [6.401e6, 1.8e6], [6.401e6, 1.801e6], [6.4e6, 1.8e6]]],
            },
            "coordinates outside the world",
        ),
        ({"type": "Polygon", "coordinates": [[[0, 95], [1, 95], [1, 96], [0, 95]]]}, "coordinates outside the world"),
        # A ring that collapses to a line has no area left after repair.
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}, "cannot be repaired"),
    ],
)
def test_unusable_geometries_are_refused_with_a_reason(obj, message):
    with pytest.raises(GeometryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        polygon_from_geojson(obj)


def test_points_in_polygons_inside_outside_and_boundary():
    west, east = box(0, 0, 1, 1), box(1, 0, 2, 1)
    lngs = np.array([0.5, 1.5, 1.0, 0.0, 5.0, 0.5])
    lats = np.array([0.5, 0.5, 0.5, 0.5, 5.0, 1.5])
    points, polygons = points_in_polygons(lngs, lats, [west, east])
    pairs = set(zip(points.tolist(), polygons.tolist(), strict=True))
    # 2 is on the shared edge (both), 3 on the outer edge, 4 and 5 are outside.
    assert pairs == {(0, 0), (1, 1), (2, 0), (2, 1), (3, 0)}


def test_points_in_polygons_respects_holes_and_multipolygons():
    with_hole = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], holes=[[(1, 1), (3, 1), (3, 3), (1, 3)]])
    islands = MultiPolygon([box(10, 10, 11, 11), box(12, 12, 13, 13)])
    points, polygons = points_in_polygons(
        np.array([0.5, 2.0, 10.5, 12.5, 11.5]), np.array([0.5, 2.0, 10.5, 12.5, 11.5]), [with_hole, islands]
    )
    assert set(zip(points.tolist(), polygons.tolist(), strict=True)) == {(0, 0), (2, 1), (3, 1)}


def test_points_in_polygons_with_nothing_to_match():
    points, polygons = points_in_polygons(np.array([]), np.array([]), [box(0, 0, 1, 1)])
    assert points.dtype == np.int64 and len(points) == len(polygons) == 0
    points, _ = points_in_polygons(np.array([0.5]), np.array([0.5]), [])
    assert len(points) == 0
    points, _ = points_in_polygons(np.array([0.5]), np.array([0.5]), [Polygon()])
    assert len(points) == 0


def test_bbox_and_geojson_round_trip():
    geom = polygon_from_geojson(SQUARE).geometry
    assert bbox(geom) == (0.0, 0.0, 1.0, 1.0)
    assert shapely.geometry.shape(to_geojson(geom)).equals(geom)
