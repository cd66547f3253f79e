"""turf/svgmap.py: a turf's map framed on its doors, and the walk drawn through them."""

from __future__ import annotations

import re

from shapely.geometry import box

from turf.svgmap import Dot, Shape, svg_map


def _circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="2.5"', svg)]


def test_framed_on_the_doors_not_on_a_polygon_far_larger():
    # A cut turf's polygon tiles its district: here 2 km wide, its doors on 100 m of one street.
    polygon = Shape(geometry=box(-118.49, 33.98, -118.47, 34.0))
    doors = [Dot(lng=-118.4800 + 0.0001 * i, lat=33.99) for i in range(11)]
    whole = svg_map([polygon], doors, width=500)
    framed = svg_map([polygon], doors, width=500, fit_dots=True)
    spread = lambda svg: max(x for x, _ in _circles(svg)) - min(x for x, _ in _circles(svg))  # noqa: E731
    assert spread(whole) < 30  # a clump in the corner of the map
    assert spread(framed) > 250  # across the map (less the frame's margin)
    assert 'overflow="hidden"' in framed  # the polygon is cut at the frame


def test_the_walk_is_a_line_through_the_doors_in_order_from_the_start():
    doors = [(-118.48, 33.99), (-118.479, 33.99), (-118.479, 33.991)]
    svg = svg_map([], [Dot(lng=lng, lat=lat) for lng, lat in doors], width=300, fit_dots=True, route=doors)
    found = re.search(r'<polyline points="([^"]+)"', svg)
    assert found is not None
    points = found.group(1).split()
    assert len(points) == 3
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert xs[0] < xs[1] == xs[2] and ys[0] == ys[1] > ys[2]  # east, then north (y grows down)
    assert ">start<" in svg
