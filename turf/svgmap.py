"""Draw polygons and points as an SVG map (pure: no Django, no tiles, no CDN).

The organizer's maps in the admin are server-side SVG: they print, they work
offline and behind any firewall, and they need no JavaScript. Coordinates are
WGS84 lng/lat, drawn on an equirectangular projection scaled by cos(latitude)
at the centre, which is true to shape at the scale of a city.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

# Distinct, colour-blind-friendly fills (Okabe-Ito, then lighter variants).
PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
    "#F5C766",
    "#9DD3F2",
    "#66C5AB",
    "#F6EE8E",
    "#66AAD1",
    "#E69E66",
    "#E0AFCA",
)


@dataclass(frozen=True)
class Shape:
    geometry: BaseGeometry
    fill: str = "#56B4E9"
    label: str = ""
    href: str = ""
    title: str = ""


@dataclass(frozen=True)
class Dot:
    lng: float
    lat: float
    fill: str = "#222"
    title: str = ""


def svg_map(
    shapes: Sequence[Shape],
    dots: Sequence[Dot] = (),
    width: int = 900,
    margin: int = 10,
    *,
    fit_dots: bool = False,
    route: Sequence[tuple[float, float]] = (),
) -> str:
    """An <svg> element with every shape (filled, outlined, labelled) and dot.

    fit_dots: frame the dots (padded by a tenth), not the shapes, which are cut at the
    frame: a turf's polygon can be far larger than its doors. route: (lng, lat) points
    joined by a line in their order (a walk), its start marked."""
    bounds = [s.geometry.bounds for s in shapes if not s.geometry.is_empty]
    if fit_dots and dots:
        lngs, lats = [d.lng for d in dots], [d.lat for d in dots]
        pad_x = max((max(lngs) - min(lngs)) * 0.1, 0.0003)
        pad_y = max((max(lats) - min(lats)) * 0.1, 0.0003)
        bounds = [(min(lngs) - pad_x, min(lats) - pad_y, max(lngs) + pad_x, max(lats) + pad_y)]
    bounds += [(d.lng, d.lat, d.lng, d.lat) for d in dots]
    if not bounds:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" role="img"><text x="10" y="35">Nothing to draw yet.</text></svg>'  # noqa: E501
    min_x = min(b[0] for b in bounds)
    min_y = min(b[1] for b in bounds)
    max_x = max(b[2] for b in bounds)
    max_y = max(b[3] for b in bounds)
    kx = math.cos(math.radians((min_y + max_y) / 2))
    span_x = max((max_x - min_x) * kx, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    scale = min((width - 2 * margin) / span_x, (width - 2 * margin) / span_y)
    height = int(span_y * scale + 2 * margin)
    width_used = int(span_x * scale + 2 * margin)

    def xy(lng: float, lat: float) -> tuple[float, float]:
        return (margin + (lng - min_x) * kx * scale, margin + (max_y - lat) * scale)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width_used} {height}" '
        f'width="{width_used}" height="{height}" role="img" class="fieldops-map" overflow="hidden">'
    ]
    labels = []
    for shape in shapes:
        if shape.geometry.is_empty:
            continue
        path = _path(shape.geometry, xy)
        title = f"<title>{html.escape(shape.title or shape.label)}</title>" if (shape.title or shape.label) else ""
        element = (
            f'<path d="{path}" fill="{html.escape(shape.fill)}" fill-opacity="0.55" stroke="#333" '
            f'stroke-width="1" fill-rule="evenodd">{title}</path>'
        )
        if shape.href:
            element = f'<a href="{html.escape(shape.href)}">{element}</a>'
        parts.append(element)
        if shape.label:
            point = shape.geometry.representative_point()
            x, y = xy(point.x, point.y)
            labels.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="middle" '
                f'paint-order="stroke" stroke="#fff" stroke-width="3">{html.escape(shape.label)}</text>'
            )
    if len(route) > 1:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(lng, lat) for lng, lat in route))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="#c0392b" stroke-width="1.5" '
            'stroke-linejoin="round" stroke-dasharray="4 2" class="fieldops-route"/>'
        )
        x, y = xy(*route[0])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#c0392b"><title>start</title></circle>')
        labels.append(
            f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" font-size="11" font-weight="bold" paint-order="stroke" '
            'stroke="#fff" stroke-width="3">start</text>'
        )
    for dot in dots:
        x, y = xy(dot.lng, dot.lat)
        title = f"<title>{html.escape(dot.title)}</title>" if dot.title else ""
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{html.escape(dot.fill)}">{title}</circle>')
    parts.extend(labels)
    parts.append("</svg>")
    return "".join(parts)


def _path(geometry: BaseGeometry, xy: Callable[[float, float], tuple[float, float]]) -> str:
    polygons = getattr(geometry, "geoms", [geometry])
    commands = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon":
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            points = [xy(x, y) for x, y in ring.coords]
            commands.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(commands)
