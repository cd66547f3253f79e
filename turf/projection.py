"""A local metric projection for city-sized areas, and shape measures (pure: no Django).

Turf cutting and walk planning measure distances and areas in metres. Over a
city (tens of kilometres) an equirectangular projection centred on the data
is accurate to a fraction of a percent, costs two multiplications per point
and inverts exactly, so turf polygons computed in metres go back to
longitude/latitude without drift. Coordinates are WGS84 (x = longitude,
y = latitude) in and out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
_M_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection around (lng0, lat0): x east and y north, in metres."""

    lng0: float
    lat0: float

    @classmethod
    def around(cls, lng: np.ndarray, lat: np.ndarray) -> LocalProjection:
        """Centred on the middle of the points' bounding box (0, 0 if there are none)."""
        lng = np.asarray(lng, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        finite = np.isfinite(lng) & np.isfinite(lat)
        if not finite.any():
            return cls(0.0, 0.0)
        return cls(
            float((lng[finite].min() + lng[finite].max()) / 2),
            float((lat[finite].min() + lat[finite].max()) / 2),
        )

    @property
    def _kx(self) -> float:
        return _M_PER_DEGREE * math.cos(math.radians(self.lat0))

    def forward(self, lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lng = np.asarray(lng, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        return (lng - self.lng0) * self._kx, (lat - self.lat0) * _M_PER_DEGREE

    def inverse(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(x) / self._kx + self.lng0, np.asarray(y) / _M_PER_DEGREE + self.lat0

    def geometry_forward(self, geom: BaseGeometry) -> BaseGeometry:
        kx = self._kx

        def fwd(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(((coords[:, 0] - self.lng0) * kx, (coords[:, 1] - self.lat0) * _M_PER_DEGREE))

        return shapely.transform(geom, fwd)

    def geometry_inverse(self, geom: BaseGeometry) -> BaseGeometry:
        kx = self._kx

        def inv(coords: np.ndarray) -> np.ndarray:
            return np.column_stack((coords[:, 0] / kx + self.lng0, coords[:, 1] / _M_PER_DEGREE + self.lat0))

        return shapely.transform(geom, inv)


def polsby_popper(geom: BaseGeometry, *, projected: bool = False) -> float:
    """Compactness of a shape: 4·π·area / perimeter² of its convex hull, in [0, 1].

    1 is a disc, about 0.785 a square, near 0 a long thin sliver. The geometry
    is longitude/latitude and is projected around its own centre first, unless
    `projected` says it is in metres already. A point or a line (fewer than
    three doors not in a row) has no area: 0.
    """
    if geom is None or geom.is_empty:
        return 0.0
    if not projected:
        min_x, min_y, max_x, max_y = geom.bounds
        geom = LocalProjection((min_x + max_x) / 2, (min_y + max_y) / 2).geometry_forward(geom)
    hull = geom.convex_hull
    perimeter = hull.length
    if perimeter <= 0 or hull.area <= 0:
        return 0.0
    return float(min(1.0, 4 * math.pi * hull.area / perimeter**2))
