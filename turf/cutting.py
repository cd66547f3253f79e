"""Cut a universe of doors into turfs of about a target number of doors (pure: no Django).

The algorithm, its guarantees and its limits are described in
docs/turf-cutting.md. In short, per district:

1. Doors are grouped into *lots* (one building, plus any door at exactly the
   same location) and lots into *atoms* (lots joined by block face: one side
   of one hundred-block of one street). An atom larger than the target is cut
   back into runs of lots along its block faces; a lot is never cut.
2. A lot larger than the target is a turf of its own. The other atoms are
   split by recursive bisection on their weights (door counts): each split
   cuts across the principal axis of the atoms' positions, at the point that
   gives each side its share of doors.
3. A local refinement moves atoms on the border between two turfs: sizes are
   free within the mean ± SIZE_BAND and costly beyond, and inside the band
   moves make turfs compact (k-means on whole block faces). Where atoms are too
   coarse to bring every turf within the band, single lots on the border move
   too (splitting that block face, counted in the result). No move may cut a
   turf in two, and pieces of a turf cut off from its main part (by the
   bisection) are given to a neighbour, so that turfs are in one piece on the map:
   doors are neighbours where their Voronoi cells, clipped to the district as
   drawn, share a boundary. A district of more than REGION_TURFS turfs is first
   bisected into regions, each cut on its own.
4. Each turf gets the union of its doors' Voronoi cells, clipped to the
   district (and to a margin around the district's doors), so the turfs of
   one district tile its populated part without overlaps; a piece without any
   of the turf's doors goes to a neighbouring turf.

Coordinates are WGS84 longitude/latitude; all measuring is done in metres on
a local projection (turf/projection.py).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from turf.projection import LocalProjection, polsby_popper

__all__ = [
    "CutDoors",
    "CutResult",
    "CutTurf",
    "SIZE_TOLERANCE",
    "block_face_codes",
    "cut_universe",
    "polsby_popper",
]

# Door counts should stay within ±25 % of the target (the rule).
SIZE_TOLERANCE = 0.25
# Turf polygons reach at most this far (metres) beyond the convex hull of a
# district's doors: the turfs tile the populated part of a district, not the
# empty rest of a council district (parks, the ocean, other neighbourhoods).
MAP_MARGIN_M = 150.0
# Two doors' cells touch on the map when the boundary they share is at least this long (metres).
MAP_TOUCH_M = 0.01
# Bisection cuts across the principal axis of the atoms unless cutting across x
# or y balances the two sides better by more than this share of a turf.
AXIS_PENALTY = 0.15
# Refinement (see _refine and _size_penalty): sizes are free within the district's
# mean ± SIZE_BAND but for a light pull to the mean (BALANCE_PULL); beyond the band
# each door costs BALANCE_WEIGHT quadratically. COMPACTNESS_WEIGHT weighs squared
# distances to turf centres. At most MAX_REFINE_ROUNDS rounds of moves per phase.
SIZE_BAND = 0.22
BALANCE_PULL = 0.6
BALANCE_WEIGHT = 100.0
COMPACTNESS_WEIGHT = 2.0
MAX_REFINE_ROUNDS = 200
# The lot phase works on the turfs outside the band and this many rings of neighbours.
LOT_MOVE_RINGS = 3
# Contiguity: after the bisection, pieces of a turf cut off from its main part (in
# the Delaunay graph of the doors, kept where the clipped Voronoi cells share at least
# MAP_TOUCH_M of boundary: i.e. on the map as drawn) are given to a neighbour, at most
# REPAIR_ROUNDS times; from then on no move may cut a turf in two. A move refused for
# that waits REFUSED_WAIT rounds before it is tried again.
REPAIR_ROUNDS = 10
REFUSED_WAIT = 10
IDLE_ROUNDS = 8
# The lot phase tries one lot per turf a round, and many border lots would cut their turf
# in two: it goes on longer before it gives up.
IDLE_ROUNDS_LOTS = 40
# Cost (in the units of the refinement's objective) of each extra turf a block face is in.
SPLIT_COST = 100.0
# A district of more turfs than this is first bisected into regions of at most this many
# turfs (whole atoms), each then cut on its own (_cut_by_regions).
REGION_TURFS = 300


@dataclass(frozen=True)
class CutDoors:
    """The universe: n doors as parallel arrays."""

    lat: np.ndarray  # float64
    lng: np.ndarray  # float64
    building: np.ndarray  # int64 building code; doors with one code stay in one turf
    street: np.ndarray  # object array of str: normalized street ("N MAIN ST"), "" unknown
    number: np.ndarray  # int64 house number, -1 unknown
    district: np.ndarray  # int64 district code in the chosen layer, -1 = none (one pseudo-district)

    def __len__(self) -> int:
        return len(self.lat)


@dataclass
class CutTurf:
    district: int  # the district code (-1 if none)
    doors: np.ndarray  # int64 indices into CutDoors
    polygon: BaseGeometry  # Polygon or MultiPolygon, lng/lat (x=lng, y=lat), WGS84


@dataclass
class CutResult:
    turfs: list[CutTurf]
    notes: list[str]  # sentences for the organizer
    target: int = 0
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # doors per turf
    cv: float = 0.0  # coefficient of variation of the sizes (std / mean)
    size_min: int = 0
    size_max: int = 0
    size_mean: float = 0.0
    outside_tolerance: int = 0  # turfs with a door count outside target ±25 %
    block_faces: int = 0  # block faces in the universe (doors with street and number)
    block_faces_split: int = 0  # block faces whose doors are in more than one turf
    buildings_split_by_district: int = 0  # buildings whose doors lie in two districts (kept per district)
    doors_off_map: int = 0  # doors not inside their own turf's polygon (see notes)
    turfs_in_pieces: int = 0  # turfs whose polygon is a MultiPolygon (in two or more pieces)
    # of which: their doors lie in two or more pieces of their district (as clipped for the map)
    turfs_in_pieces_by_district: int = 0
    # of which (the others): a building of theirs has doors in two pieces (a building is kept whole)
    turfs_in_pieces_by_building: int = 0
    seconds: float = 0.0
    seconds_polygons: float = 0.0  # of which drawing the polygons


def _check_array(name: str, value: object, n: int, kind: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"doors.{name} must be a 1-d array of {n} values (like doors.lat), not of shape {arr.shape}")
    if kind == "f" and arr.dtype.kind not in "fiu":
        raise ValueError(f"doors.{name} must hold numbers")
    if kind == "i" and arr.dtype.kind not in "iu":
        raise ValueError(f"doors.{name} must hold integers")
    return arr


def _validate(doors: CutDoors, target: object) -> int:
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise ValueError(f"the target must be a whole number of doors, not {target!r}")
    target = int(target)
    if target < 1:
        raise ValueError(f"the target must be at least 1 door per turf, not {target}")
    n = len(np.asarray(doors.lat))
    if n == 0:
        raise ValueError("the universe is empty: there are no doors to cut into turfs")
    _check_array("lat", doors.lat, n, "f")
    _check_array("lng", doors.lng, n, "f")
    _check_array("building", doors.building, n, "i")
    _check_array("street", doors.street, n, "o")
    _check_array("number", doors.number, n, "i")
    _check_array("district", doors.district, n, "i")
    lat = np.asarray(doors.lat, dtype=np.float64)
    lng = np.asarray(doors.lng, dtype=np.float64)
    bad = ~(np.isfinite(lat) & np.isfinite(lng)) | (np.abs(lat) > 90) | (np.abs(lng) > 180)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum()):,} door(s) have no usable location (first: index {int(np.flatnonzero(bad)[0])}); "
            "doors that could not be placed cannot be put in a turf"
        )
    if target > n:
        raise ValueError(
            f"the target of {target:,} doors per turf is larger than the universe of {n:,} doors: "
            f"it would make one turf of every door; choose a target of at most {n:,}"
        )
    return target


# ---------------------------------------------------------------- grouping


def _unique(a: np.ndarray) -> np.ndarray:
    """np.unique(a) by sorting: numpy 2.4 hashes for a plain np.unique, 20-30 times slower."""
    a = np.sort(a, kind="stable")
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _dense(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(a, return_inverse=True) of an int array; by a table when the values are
    small non-negative ids (most are), else by sorting."""
    a = np.asarray(a)
    if len(a) and a.dtype.kind in "iu" and a.min() >= 0 and a.max() < 4 * len(a) + 4096:
        present = np.zeros(int(a.max()) + 1, dtype=bool)
        present[a] = True
        remap = np.cumsum(present, dtype=np.int64) - 1
        return np.flatnonzero(present), remap[a]
    values, inverse = np.unique(a, return_inverse=True)
    return values, inverse.astype(np.int64).ravel()


def _unique_pairs(a: np.ndarray, b: np.ndarray, **kwargs):
    """np.unique of the rows (a[i], b[i]) of two int64 arrays, much faster than
    np.unique(..., axis=0): the pair is packed in one int64 (after densifying `b`)."""
    b_values, b_dense = _dense(b)
    width = max(len(b_values), 1)
    a_values, a_dense = _dense(a)
    packed = a_dense.astype(np.int64) * width + b_dense
    out = np.unique(packed, **kwargs) if kwargs else _unique(packed)
    keys = out[0] if isinstance(out, tuple) else out
    rows = np.column_stack((a_values[keys // width], b_values[keys % width]))
    return (rows, *out[1:]) if isinstance(out, tuple) else rows


def _factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense codes 0..k-1 of any hashable values, in order of first appearance."""
    codes: dict[object, int] = {}
    out = np.fromiter((codes.setdefault(v, len(codes)) for v in values.tolist()), dtype=np.int64, count=len(values))
    return out, len(codes)


def block_face_codes(street: np.ndarray, number: np.ndarray) -> np.ndarray:
    """A code per door for its block face: street + number // 100 + number parity; -1 when
    the street or the number is unknown. Codes are dense (0..k-1)."""
    street = np.asarray(street, dtype=object)
    number = np.asarray(number, dtype=np.int64)
    n = len(number)
    out = np.full(n, -1, dtype=np.int64)
    known = (number >= 0) & np.array([isinstance(s, str) and s != "" for s in street.tolist()], dtype=bool)
    if not known.any():
        return out
    street_codes, _ = _factorize(street[known])
    num = number[known]
    block = num // 100
    key = (street_codes * (int(block.max()) + 1) + block) * 2 + (num & 1)
    _, inverse = np.unique(key, return_inverse=True)
    out[known] = inverse
    return out


def _components(n: int, relations: list[np.ndarray]) -> np.ndarray:
    """Connected components of elements joined by sharing a code in any relation
    (codes -1 join nothing). Returns dense labels 0..c-1."""
    labels = np.arange(n, dtype=np.int64)
    prepared = []
    for codes in relations:
        mask = codes >= 0
        if mask.any():
            prepared.append((np.flatnonzero(mask), codes[mask], int(codes[mask].max()) + 1))
    while True:
        before = labels.copy()
        for where, codes, size in prepared:
            low = np.full(size, n, dtype=np.int64)
            np.minimum.at(low, codes, labels[where])
            labels[where] = np.minimum(labels[where], low[codes])
        # pointer jumping: a label is an element index; follow it to its own label
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(before, labels):
            break
    _, dense = _dense(labels)
    return dense.astype(np.int64)


@dataclass
class _Atoms:
    """A district's doors grouped: door -> lot -> atom."""

    lot: np.ndarray  # per door: lot id
    atom: np.ndarray  # per door: atom id
    weight: np.ndarray  # per atom: doors
    x: np.ndarray  # per atom: mean x (metres)
    y: np.ndarray


def _group(
    x: np.ndarray, y: np.ndarray, building: np.ndarray, face: np.ndarray, number: np.ndarray, target: int
) -> _Atoms:
    n = len(x)
    building_codes, _ = _factorize(building)
    location_codes = np.unique(x + 1j * y, return_inverse=True)[1].astype(np.int64)
    lot = _components(n, [building_codes, location_codes])
    atom = _components(n, [lot, face])
    weight = np.bincount(atom)
    big = np.flatnonzero(weight > target)
    if len(big):
        atom = _split_big_atoms(atom, lot, face, number, x, big, target)
    weight = np.bincount(atom)
    return _Atoms(
        lot=lot,
        atom=atom,
        weight=weight,
        x=np.bincount(atom, x) / weight,
        y=np.bincount(atom, y) / weight,
    )


def _split_big_atoms(
    atom: np.ndarray,
    lot: np.ndarray,
    face: np.ndarray,
    number: np.ndarray,
    x: np.ndarray,
    big: np.ndarray,
    target: int,
) -> np.ndarray:
    """Cut each atom of more than `target` doors into runs of whole lots, following its
    block faces in house-number order, each run at most `target` doors (a lot larger
    than the target is a run of its own); a run ends before a block face that does not
    fit in it whole."""
    atom = atom.copy()
    next_id = int(atom.max()) + 1
    is_big = np.zeros(next_id, dtype=bool)
    is_big[big] = True
    doors = np.flatnonzero(is_big[atom])
    order = np.lexsort((x[doors], number[doors], face[doors], atom[doors]))
    doors = doors[order]
    lot_size = np.bincount(lot)
    face_size = np.bincount(face[face >= 0]) if (face >= 0).any() else np.zeros(0, dtype=np.int64)
    current_atom = -1
    current_face = -2
    run_id = -1
    run_weight = 0
    run_of_lot: dict[int, int] = {}
    for door in doors.tolist():
        a = int(atom[door])
        if a != current_atom:
            current_atom, run_id, run_weight = a, -1, 0
        f = int(face[door])
        if f != current_face:
            current_face = f
            # a new block face: start a new run rather than split the face, if it will not fit
            if f >= 0 and run_weight and run_weight + int(face_size[f]) > target:
                run_id, run_weight = next_id, 0
                next_id += 1
        lot_id = int(lot[door])
        run = run_of_lot.get(lot_id)
        if run is None:
            size = int(lot_size[lot_id])
            if run_id < 0 or run_weight + size > target:
                run_id, run_weight = next_id, 0
                next_id += 1
            run = run_of_lot[lot_id] = run_id
            run_weight += size
        atom[door] = run
    return _dense(atom)[1]


# ---------------------------------------------------------------- partition


def _turf_count(weight: int, target: int, atoms: int) -> int:
    """How many turfs for `weight` doors: the count whose mean size is closest to the target."""
    low = max(1, weight // target)
    high = low + 1
    dev_low = abs(weight / low - target)
    dev_high = abs(weight / high - target)
    k = high if dev_high < dev_low else low
    return max(1, min(k, atoms))


def _bisect(ax: np.ndarray, ay: np.ndarray, aw: np.ndarray, k: int, leaf: int = 1) -> np.ndarray:
    """Recursive bisection of weighted points into k parts of (nearly) equal weight.

    With `leaf` > 1 the recursion stops at groups of at most `leaf` parts: the labels
    are then the first part of each group (its groups are `leaf` parts or fewer)."""
    labels = np.zeros(len(aw), dtype=np.int64)
    stack: list[tuple[np.ndarray, int, int]] = [(np.arange(len(aw)), k, 0)]
    while stack:
        ids, parts, first = stack.pop()
        if parts <= leaf:
            labels[ids] = first
            continue
        w = aw[ids].astype(np.float64)
        total = w.sum()
        left_parts = parts // 2
        goal = total * left_parts / parts
        px, py = ax[ids], ay[ids]
        mx, my = np.average(px, weights=w), np.average(py, weights=w)
        dx, dy = px - mx, py - my
        cxx, cyy, cxy = np.average(dx * dx, weights=w), np.average(dy * dy, weights=w), np.average(dx * dy, weights=w)
        angle = 0.5 * math.atan2(2 * cxy, cxx - cyy)  # principal axis
        best: tuple[float, np.ndarray, int] | None = None
        for penalty, (ux, uy) in (
            (0.0, (math.cos(angle), math.sin(angle))),
            (AXIS_PENALTY, (1.0, 0.0)),
            (AXIS_PENALTY, (0.0, 1.0)),
        ):
            order = np.argsort(dx * ux + dy * uy, kind="stable")
            cum = np.cumsum(w[order])
            # a cut after position c-1 puts cum[c-1] on the left; each side needs at least one atom per part
            lo, hi = left_parts, len(ids) - (parts - left_parts)
            candidates = cum[lo - 1 : hi]
            c = int(np.argmin(np.abs(candidates - goal))) + lo
            score = abs(cum[c - 1] - goal) / (total / parts) + penalty
            if best is None or score < best[0]:
                best = (score, order, c)
        assert best is not None
        _, order, c = best
        stack.append((ids[order[:c]], left_parts, first))
        stack.append((ids[order[c:]], parts - left_parts, first + left_parts))
    return labels


def _neighbours(x: np.ndarray, y: np.ndarray, cells: _Cells | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges (both ways) between doors whose Voronoi cells share a boundary on
    the map: the edges of the Delaunay triangulation of the points whose cells share
    at least MAP_TOUCH_M of boundary, after the clip to the district's region where
    `cells` (of these points) say what is left of them. So a turf that is one piece in
    this graph is one piece on the map, clipped or not. Two points at one location are
    linked; a point left with no edge (its cell is outside the region: a door outside
    its district as drawn) keeps its Delaunay edges."""
    n = len(x)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if cells is None:
        unique, first, inverse = np.unique(x + 1j * y, return_index=True, return_inverse=True)
    else:
        unique, first, inverse = cells.unique, cells.first, cells.inverse
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    dup = np.flatnonzero(first[inverse] != np.arange(n))
    if len(dup):
        src.append(dup)
        dst.append(first[inverse[dup]])
    if len(unique) >= 2:
        px, py = unique.real, unique.imag
        triangles = shapely.delaunay_triangles(MultiPoint(np.column_stack((px, py))))
        coords = shapely.get_coordinates(triangles)
        if len(coords) >= 4:
            corner = np.searchsorted(unique, coords[:, 0] + 1j * coords[:, 1])
            corner = np.clip(corner, 0, len(unique) - 1).reshape(-1, 4)[:, :3]
            a, b = _map_edges(px, py, corner, cells)
            src.append(first[a])
            dst.append(first[b])
        else:  # all points in a row: link them in order along the row
            order = np.argsort(unique.real + unique.imag)
            src.append(first[order[:-1]])
            dst.append(first[order[1:]])
    if not src:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a = np.concatenate(src)
    b = np.concatenate(dst)
    keep = a != b
    a, b = a[keep], b[keep]
    return np.concatenate((a, b)), np.concatenate((b, a))


def _map_edges(
    px: np.ndarray, py: np.ndarray, corner: np.ndarray, cells: _Cells | None
) -> tuple[np.ndarray, np.ndarray]:
    """The Delaunay edges (point index pairs, once each) of the triangles `corner`
    (t × 3 point indices) whose points' cells share at least MAP_TOUCH_M of boundary.
    Inside the hull, the Voronoi edge of a Delaunay edge joins the circumcentres of its
    two triangles: a mere point where four points lie on one circle (the cells touch
    at a corner only). Where the region's boundary crosses a cell, what is left of the
    two cells (the part holding each point) is intersected."""
    ax, ay = px[corner[:, 0]], py[corner[:, 0]]
    bx, by = px[corner[:, 1]] - ax, py[corner[:, 1]] - ay
    cx, cy = px[corner[:, 2]] - ax, py[corner[:, 2]] - ay
    d = 2.0 * (bx * cy - by * cx)
    d = np.where(np.abs(d) < 1e-12, 1e-12, d)  # a flat triangle (GEOS does not make them)
    b2, c2 = bx * bx + by * by, cx * cx + cy * cy
    ccx = ax + (cy * b2 - by * c2) / d
    ccy = ay + (bx * c2 - cx * b2) / d
    # each triangle's three edges; an inner edge is in two triangles, a hull edge in one
    lo = np.concatenate([np.minimum(corner[:, i], corner[:, j]) for i, j in ((0, 1), (1, 2), (2, 0))])
    hi = np.concatenate([np.maximum(corner[:, i], corner[:, j]) for i, j in ((0, 1), (1, 2), (2, 0))])
    tri = np.tile(np.arange(len(corner)), 3)
    order = np.lexsort((hi, lo))
    lo, hi, tri = lo[order], hi[order], tri[order]
    same_next = np.r_[(lo[1:] == lo[:-1]) & (hi[1:] == hi[:-1]), False]
    single = ~same_next & ~np.r_[False, same_next[:-1]]
    inner = np.flatnonzero(same_next)
    hull = np.flatnonzero(single)
    e_lo = np.concatenate((lo[inner], lo[hull]))
    e_hi = np.concatenate((hi[inner], hi[hull]))
    length = np.concatenate(
        (
            np.hypot(ccx[tri[inner]] - ccx[tri[inner + 1]], ccy[tri[inner]] - ccy[tri[inner + 1]]),
            np.full(len(hull), np.inf),
        )
    )
    keep = length >= MAP_TOUCH_M
    if cells is not None and cells.cut.any():
        exact = np.flatnonzero(cells.cut[e_lo] | cells.cut[e_hi])
        if len(exact):
            u, v = e_lo[exact], e_hi[exact]
            piece_u = np.where(cells.cut[u], cells.piece[u], cells.cells[u])
            piece_v = np.where(cells.cut[v], cells.piece[v], cells.cells[v])
            keep[exact] = shapely.length(shapely.intersection(piece_u, piece_v)) >= MAP_TOUCH_M
    # a point left alone keeps its edges: it has no area on the map to be cut off
    linked = np.zeros(len(px), dtype=bool)
    linked[e_lo[keep]] = True
    linked[e_hi[keep]] = True
    keep |= ~linked[e_lo] | ~linked[e_hi]
    return e_lo[keep], e_hi[keep]


def _size_penalty(size: np.ndarray, mean: float, band: float) -> np.ndarray:
    """Cost of a turf's size: squared doors beyond mean ± band, plus a light pull to the mean."""
    excess = np.maximum(np.abs(size - mean) - band, 0.0)
    return BALANCE_WEIGHT * excess**2 + BALANCE_PULL * (size - mean) ** 2


def _pieces_per_turf(labels: np.ndarray, k: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """How many pieces each turf is in: connected components of the unit graph over
    edges between units of one turf."""
    same = labels[src] == labels[dst]
    comp = _edge_components(len(labels), src[same], dst[same])
    root = comp == np.arange(len(labels))
    return np.bincount(labels[root], minlength=k)


def _refine(
    labels: np.ndarray,
    k: int,
    px: np.ndarray,
    py: np.ndarray,
    pw: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    spread: float,
    *,
    band: float,
    balance_only: bool = False,
    mean: float | None = None,
    group: np.ndarray | None = None,
) -> np.ndarray:
    """Move border pieces between neighbouring turfs.

    The units (`px`, `py`, `pw`; adjacency `src`, `dst`: the map's) belong to groups
    (`group`: block faces; default: each unit alone), and what moves is a *part*:
    all units of one group in one turf, so a block face moves whole, or its part in
    one turf joins the rest of it in another. Minimizes Σ_turfs P(size) + μ ·
    Σ_parts w·d² + SPLIT_COST · (extra turfs per group), where P is _size_penalty
    (free within mean ± band but for a light pull, quadratic beyond), d the
    distance of a part to its turf's centre and μ = COMPACTNESS_WEIGHT / spread²
    (spread²: the mean squared distance of a door to its turf's centre after
    bisection), centres held fixed during a round. Each round applies, in parallel,
    the best improving move of each turf (a turf gives or takes at most once a
    round, never both), and only moves that leave both turfs in one piece in the
    unit graph: an exact test on the whole graph each round; a refused part waits
    REFUSED_WAIT rounds. With `balance_only`, a move must reduce the size penalty
    (used for lots: a lot moves only to fix sizes, as moving it splits a block face).
    """
    labels = labels.copy()
    n = len(labels)
    if group is None:
        group = np.arange(n, dtype=np.int64)
    mu = COMPACTNESS_WEIGHT / max(spread, 1.0) ** 2
    if mean is None:
        mean = float(pw.sum() / k)
    blocked_until = np.zeros(n, dtype=np.int64)
    refusals = np.zeros(n, dtype=np.int64)
    before = np.maximum(_pieces_per_turf(labels, k, src, dst), 1)
    idle = 0
    for round_ in range(MAX_REFINE_ROUNDS):
        size = np.bincount(labels, pw, minlength=k)
        units_in = np.bincount(labels, minlength=k)
        cx = np.bincount(labels, pw * px, minlength=k) / np.maximum(size, 1)
        cy = np.bincount(labels, pw * py, minlength=k) / np.maximum(size, 1)
        # parts: (group, turf)
        key = group * k + labels
        keys, part_of = np.unique(key, return_inverse=True)
        part_w = np.bincount(part_of, pw)
        part_x = np.bincount(part_of, pw * px) / part_w
        part_y = np.bincount(part_of, pw * py) / part_w
        part_units = np.bincount(part_of)
        la, lb = labels[src], labels[dst]
        border = (la != lb) & (blocked_until[src] <= round_)
        if not border.any():
            break
        cand = _unique_pairs(part_of[src[border]], lb[border])
        p, B = cand[:, 0], cand[:, 1]
        A = keys[p] % k
        g = keys[p] // k
        if balance_only:
            off = np.abs(size - mean) > band
            keep = off[A] | off[B]
            p, A, B, g = p[keep], A[keep], B[keep], g[keep]
        w = part_w[p]
        sA, sB = size[A], size[B]
        balance = (
            _size_penalty(sA, mean, band)
            + _size_penalty(sB, mean, band)
            - _size_penalty(sA - w, mean, band)
            - _size_penalty(sB + w, mean, band)
        )
        d_a = (part_x[p] - cx[A]) ** 2 + (part_y[p] - cy[A]) ** 2
        d_b = (part_x[p] - cx[B]) ** 2 + (part_y[p] - cy[B]) ** 2
        gain = balance - mu * w * (d_b - d_a)
        pos_b = np.minimum(np.searchsorted(keys, g * k + B), len(keys) - 1)
        joins = keys[pos_b] == g * k + B
        gain += SPLIT_COST * joins  # leaving A and joining the rest of the face in B
        # lots move only to fix sizes, and any that does may move (compactness only ranks
        # them): a turf whose doors lie far apart would refuse every lot otherwise
        ok = ((balance > 1e-9) if balance_only else (gain > 1e-9)) & (units_in[A] > part_units[p])
        if not ok.any():
            break
        p, A, B, gain = p[ok], A[ok], B[ok], gain[ok]
        order = np.argsort(-gain, kind="stable")
        p, A, B = p[order], A[order], B[order]
        # best move per giving turf, then per taking turf, then no turf both gives and takes
        _, first = np.unique(A, return_index=True)
        first.sort()
        p, A, B = p[first], A[first], B[first]
        _, first = np.unique(B, return_index=True)
        first.sort()
        p, A, B = p[first], A[first], B[first]
        keep = ~np.isin(A, B)
        if not keep.any():
            keep[0] = True
        p, A, B = p[keep], A[keep], B[keep]
        # apply, then undo the moves that leave the giving or the taking turf in pieces
        dest = np.full(len(keys), -1, dtype=np.int64)
        dest[p] = B
        moving = dest[part_of] >= 0
        trial = labels.copy()
        trial[moving] = dest[part_of[moving]]
        pieces = _pieces_per_turf(trial, k, src, dst)
        # a turf already in pieces (nothing joins them) may still give and take, if no
        # more pieces come of it
        whole = (pieces[A] <= before[A]) & (pieces[B] <= before[B])
        before[A[whole]] = pieces[A[whole]]
        before[B[whole]] = pieces[B[whole]]
        refused = np.zeros(len(keys), dtype=bool)
        refused[p[~whole]] = True
        undo = refused[part_of]
        trial[undo] = labels[undo]
        # each refusal doubles the wait: the best moves of a turf are tried again only
        # after its next-best ones (else a few refused ones take every round)
        refusals[undo] += 1
        blocked_until[undo] = round_ + REFUSED_WAIT * 2 ** np.minimum(refusals[undo] - 1, 5)
        labels = trial
        # only refused moves left: stop rather than try them again and again
        idle = 0 if whole.any() else idle + 1
        if idle > (IDLE_ROUNDS_LOTS if balance_only else IDLE_ROUNDS):
            break
    return labels


# ---------------------------------------------------------------- polygons


@dataclass
class _Cells:
    """The Voronoi diagram of a district's distinct door locations (projected), and what
    is left of each cell on the map once clipped to the district's `region`."""

    unique: np.ndarray  # distinct locations, x + iy, sorted
    first: np.ndarray  # per location: its first door
    inverse: np.ndarray  # per door: its location
    cells: np.ndarray  # per location: its Voronoi cell (object array of Polygons; None for a single location)
    region: BaseGeometry
    cut: np.ndarray  # per location: whether the region's boundary crosses its cell
    piece: np.ndarray  # per location where cut: the part of its clipped cell that holds it (empty if none)

    @classmethod
    def build(cls, x: np.ndarray, y: np.ndarray, region: BaseGeometry) -> _Cells:
        unique, first, inverse = np.unique(x + 1j * y, return_index=True, return_inverse=True)
        m = len(unique)
        cut = np.zeros(m, dtype=bool)
        piece = np.full(m, None, dtype=object)
        if m == 1:
            return cls(unique, first, inverse, np.full(1, None, dtype=object), region, cut, piece)
        points = MultiPoint(np.column_stack((unique.real, unique.imag)))
        diagram = shapely.voronoi_polygons(points, extend_to=region.envelope.buffer(1.0), ordered=True)
        cells = np.asarray(shapely.get_parts(diagram))
        if len(cells) != m:  # GEOS could not keep the input order
            tree = shapely.STRtree(cells)
            pts = shapely.points(np.column_stack((unique.real, unique.imag)))
            idx = tree.query(pts, predicate="intersects")
            cell_of = np.full(m, -1, dtype=np.int64)
            cell_of[idx[0][::-1]] = idx[1][::-1]
            cells = cells[cell_of]
        # cells the region's boundary crosses: those of the boundary's segments' boxes, tested
        ring, line = shapely.get_coordinates(shapely.get_parts(region.boundary), return_index=True)
        same = np.flatnonzero(line[1:] == line[:-1])
        if len(same):
            segments = shapely.linestrings(np.stack((ring[same], ring[same + 1]), axis=1))
            hit = shapely.STRtree(cells).query(segments, predicate="intersects")[1]
            cut[_unique(hit)] = True
        where = np.flatnonzero(cut)
        if len(where):
            shapely.prepare(region)
            clipped = shapely.intersection(cells[where], region)
            for i, geom in zip(where.tolist(), clipped.tolist(), strict=True):
                parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
                x0, y0 = unique[i].real, unique[i].imag
                holding = [g for g in parts if shapely.intersects_xy(g, x0, y0)]
                piece[i] = holding[0] if holding else Polygon()
        return cls(unique, first, inverse, cells, region, cut, piece)


def _turf_polygons(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    k: int,
    region: BaseGeometry,
    cells: _Cells | None = None,
) -> tuple[list[BaseGeometry], int]:
    """The union of each turf's doors' Voronoi cells, clipped to `region` (projected).
    A piece of a turf's polygon that holds none of its doors (the clip cut a cell in
    two) goes to the neighbouring turf it shares most boundary with, or is left out if
    it touches none. Returns the polygons and how many doors share a location with a
    door of another turf (their cell can belong to one turf only)."""
    if cells is None:
        cells = _Cells.build(x, y, region)
    unique, first, inverse = cells.unique, cells.first, cells.inverse
    owner = labels[first]
    shared = int((labels != owner[inverse]).sum())
    if len(unique) == 1:
        return [region if t == owner[0] else Polygon() for t in range(k)], shared
    # the cells of each turf in one row of a (turfs × cells) array, merged row by row
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(k + 1))
    counts = np.diff(bounds)
    grid = np.full((k, max(int(counts.max()), 1)), None, dtype=object)
    rows = owner[order]
    grid[rows, np.arange(len(order)) - bounds[rows]] = cells.cells[order]
    merged = np.asarray(shapely.coverage_union_all(grid, axis=1))  # an array already: asarray does not copy
    invalid = np.flatnonzero(~shapely.is_valid(merged))
    for t in invalid.tolist():  # not a clean coverage (should not happen): a full union
        merged[t] = shapely.union_all(grid[t])
    shapely.prepare(region)
    clipped = np.asarray(shapely.intersection(merged, region))
    polygons = [Polygon() if counts[t] == 0 else _polygonal(clipped[t]) for t in range(k)]
    _give_away_empty_pieces(polygons, owner, unique)
    return polygons, shared


def _give_away_empty_pieces(polygons: list[BaseGeometry], owner: np.ndarray, unique: np.ndarray) -> None:
    """Each piece of a turf's polygon with none of the turf's door locations in it goes to
    the turf whose doors' part it shares most boundary with (at least MAP_TOUCH_M); pieces
    that touch only such pieces wait for those to be placed; a piece that touches no turf
    at all is left out of the map. In place."""
    multi = [t for t, p in enumerate(polygons) if p.geom_type == "MultiPolygon"]
    if not multi:
        return
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(len(polygons) + 1))
    orphans: list[tuple[int, BaseGeometry]] = []
    for t in multi:
        mine = unique[order[bounds[t] : bounds[t + 1]]]
        parts = list(shapely.get_parts(polygons[t]))
        holds = [bool(shapely.intersects_xy(part, mine.real, mine.imag).any()) for part in parts]
        if all(holds) or not any(holds):
            continue
        polygons[t] = _polygonal(shapely.union_all([p for p, h in zip(parts, holds, strict=True) if h]))
        orphans.extend((t, p) for p, h in zip(parts, holds, strict=True) if not h)
    while orphans:
        geoms = np.array(polygons, dtype=object)
        tree = shapely.STRtree(geoms)
        given: dict[int, list[BaseGeometry]] = {}
        waiting = []
        for t, part in orphans:
            near = np.array([o for o in tree.query(part, predicate="intersects").tolist() if o != t], dtype=np.int64)
            shared = shapely.length(shapely.intersection(part.boundary, geoms[near])) if len(near) else np.zeros(0)
            if len(near) and shared.max() >= MAP_TOUCH_M:
                given.setdefault(int(near[int(np.argmax(shared))]), []).append(part)
            else:
                waiting.append((t, part))
        if not given:
            break  # what is left touches no turf: not on the map
        for t, parts in given.items():
            polygons[t] = _polygonal(shapely.union_all([polygons[t], *parts]))
        orphans = waiting


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else Polygon()


# ---------------------------------------------------------------- the cut


@dataclass
class _DistrictCut:
    labels: np.ndarray  # per door of the district: turf 0..k-1
    k: int
    own_turf_lots: list[int]  # sizes of lots larger than the target (each is a turf)


def _cut_district(
    x: np.ndarray,
    y: np.ndarray,
    building: np.ndarray,
    face: np.ndarray,
    number: np.ndarray,
    target: int,
    cells: _Cells | None = None,
) -> _DistrictCut:
    """Cut one district's doors; `cells` are their Voronoi cells clipped to the area the
    turf polygons are drawn in: doors are neighbours where those touch."""
    atoms = _group(x, y, building, face, number, target)
    labels = np.full(len(x), -1, dtype=np.int64)
    big = np.flatnonzero(atoms.weight > target)
    big_label = np.full(len(atoms.weight), -1, dtype=np.int64)
    big_label[big] = np.arange(len(big))
    in_big = big_label[atoms.atom] >= 0
    labels[in_big] = big_label[atoms.atom[in_big]]
    k = len(big)
    doors = np.flatnonzero(~in_big)
    if len(doors):
        dx, dy = x[doors], y[doors]
        lot = _dense(atoms.lot[doors])[1]
        all_src, all_dst = _neighbours(x, y, cells)
        local = np.full(len(x), -1, dtype=np.int64)
        local[doors] = np.arange(len(doors))
        keep = (local[all_src] >= 0) & (local[all_dst] >= 0)
        door_src, door_dst = local[all_src[keep]], local[all_dst[keep]]
        units = _Units.build(atoms.atom[doors], lot, dx, dy, door_src, door_dst)
        k_rest = _turf_count(len(doors), target, int(units.atom.max()) + 1)
        if k_rest > REGION_TURFS:
            door_label, k_rest = _cut_by_regions(dx, dy, lot, units, door_src, door_dst, k_rest)
        else:
            door_label = _cut_region(dx, dy, lot, units, door_src, door_dst, k_rest)
        labels[doors] = door_label + k
        k += k_rest
    return _DistrictCut(labels=labels, k=k, own_turf_lots=[int(w) for w in atoms.weight[big]])


def _cut_by_regions(
    x: np.ndarray,
    y: np.ndarray,
    lot: np.ndarray,
    units: _Units,
    door_src: np.ndarray,
    door_dst: np.ndarray,
    k: int,
) -> tuple[np.ndarray, int]:
    """A district of more than REGION_TURFS turfs: the first levels of the bisection make
    regions of at most REGION_TURFS turfs of whole atoms, pieces of a region cut off from
    it go to a neighbouring region (as for turfs), and each region is cut on its own
    (_cut_region) with the map's adjacency inside it. The refinement is local anyway (a
    part moves to a neighbouring turf); region by region its rounds are bounded by the
    slowest part of a region rather than of the whole district, and each round's exact
    one-piece test runs on the region's graph only. Returns the labels and the turf count."""
    atom_w = np.bincount(units.atom, units.weight)
    atom_region = _bisect(
        np.bincount(units.atom, units.weight * units.x) / atom_w,
        np.bincount(units.atom, units.weight * units.y) / atom_w,
        atom_w,
        k,
        leaf=REGION_TURFS,
    )
    _, atom_region = _dense(atom_region)
    regions = int(atom_region.max()) + 1
    door_region = atom_region[units.atom[units.of_door]]
    for _ in range(REPAIR_ROUNDS):
        door_region, moved = _make_contiguous(door_region, regions, units.of_door, door_src, door_dst)
        if not moved:
            break
    mean = len(x) / k
    order = np.argsort(door_region, kind="stable")
    bounds = np.searchsorted(door_region[order], np.arange(regions + 1))
    local = np.empty(len(x), dtype=np.int64)
    local[order] = np.arange(len(x)) - bounds[door_region[order]]
    inside = door_region[door_src] == door_region[door_dst]
    e_src, e_dst = door_src[inside], door_dst[inside]
    e_order = np.argsort(door_region[e_src], kind="stable")
    e_src, e_dst = e_src[e_order], e_dst[e_order]
    e_bounds = np.searchsorted(door_region[e_src], np.arange(regions + 1))
    labels = np.empty(len(x), dtype=np.int64)
    k_total = 0
    for r in range(regions):
        idx = order[bounds[r] : bounds[r + 1]]
        if len(idx) == 0:
            continue
        src = local[e_src[e_bounds[r] : e_bounds[r + 1]]]
        dst = local[e_dst[e_bounds[r] : e_bounds[r + 1]]]
        rx, ry = x[idx], y[idx]
        r_lot = _dense(lot[idx])[1]
        r_units = units.subset(idx)
        k_r = max(1, min(round(len(idx) / mean), int(r_units.atom.max()) + 1))
        labels[idx] = _cut_region(rx, ry, r_lot, r_units, src, dst, k_r) + k_total
        k_total += k_r
    # turfs a region could not balance (its edge cut them off from the turfs that could
    # help): lots move across region boundaries, on those turfs and their neighbours only
    band = SIZE_BAND * len(x) / k_total
    if np.abs(np.bincount(labels, minlength=k_total) - len(x) / k_total).max() > band:
        unit_label = np.zeros(len(units.weight), dtype=np.int64)
        unit_label[units.of_door] = labels
        lots = _LotGraph.build(lot, x, y, door_src, door_dst)
        pairs = (unit_label[units.src], unit_label[units.dst])
        labels = _refine_lots(labels, k_total, lots, _spread(x, y, labels, k_total), band, pairs)
    return labels, k_total


def _cut_region(
    x: np.ndarray,
    y: np.ndarray,
    lot: np.ndarray,
    units: _Units,
    door_src: np.ndarray,
    door_dst: np.ndarray,
    k: int,
) -> np.ndarray:
    """Cut doors (none in a lot larger than the target) into k turfs: bisection of the
    atoms, one-piece repair, refinement of block faces, then of lots where needed."""
    atom_w = np.bincount(units.atom, units.weight)
    atom_label = _bisect(
        np.bincount(units.atom, units.weight * units.x) / atom_w,
        np.bincount(units.atom, units.weight * units.y) / atom_w,
        atom_w,
        k,
    )
    door_label = atom_label[units.atom[units.of_door]]
    if k == 1:
        return door_label
    # door-level spread after bisection: the scale of compactness in the refinement
    spread = _spread(x, y, door_label, k)
    mean = len(x) / k
    band = SIZE_BAND * mean
    # pieces cut off by the bisection: to a neighbouring turf, until every turf is
    # one piece in the unit graph (units are whole on the map, so turfs are too)
    for _ in range(REPAIR_ROUNDS):
        door_label, moved = _make_contiguous(door_label, k, units.of_door, door_src, door_dst)
        if not moved:
            break
    sub = np.zeros(len(units.weight), dtype=np.int64)
    sub[units.of_door] = door_label
    sub = _refine(sub, k, units.x, units.y, units.weight, units.src, units.dst, spread, band=band, group=units.atom)
    door_label = sub[units.of_door]
    if np.abs(np.bincount(door_label, minlength=k) - mean).max() > band:
        lots = _LotGraph.build(lot, x, y, door_src, door_dst)
        pairs = (sub[units.src], sub[units.dst])
        door_label = _refine_lots(door_label, k, lots, spread, band, pairs)
    return door_label


@dataclass
class _Units:
    """The units that turfs are made of: atoms (whole block faces) split into their
    pieces on the map (doors joined by Delaunay edges inside the atom, and by lot),
    with their weight, mean position and adjacency (Delaunay edges between units)."""

    of_door: np.ndarray
    weight: np.ndarray
    x: np.ndarray
    y: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    atom: np.ndarray  # per unit: its atom (dense ids)

    @classmethod
    def build(
        cls, atom: np.ndarray, lot: np.ndarray, x: np.ndarray, y: np.ndarray, door_src: np.ndarray, door_dst: np.ndarray
    ) -> _Units:
        n = len(atom)
        inside = atom[door_src] == atom[door_dst]
        first_of_lot = np.full(int(lot.max()) + 1, n, dtype=np.int64)
        np.minimum.at(first_of_lot, lot, np.arange(n))
        a = np.concatenate((door_src[inside], np.arange(n)))
        b = np.concatenate((door_dst[inside], first_of_lot[lot]))
        of_door = _dense(_edge_components(n, a, b))[1]
        weight = np.bincount(of_door).astype(np.float64)
        unit_atom = np.zeros(len(weight), dtype=np.int64)
        unit_atom[of_door] = _dense(atom)[1]
        us, ud = of_door[door_src], of_door[door_dst]
        keep = us != ud
        pairs = _unique_pairs(us[keep], ud[keep]) if keep.any() else np.zeros((0, 2), dtype=np.int64)
        return cls(
            of_door=of_door,
            weight=weight,
            x=np.bincount(of_door, x) / weight,
            y=np.bincount(of_door, y) / weight,
            src=pairs[:, 0],
            dst=pairs[:, 1],
            atom=unit_atom,
        )

    def subset(self, doors: np.ndarray) -> _Units:
        """The units of some doors (whole units: every door of each unit is in `doors`),
        renumbered, with the adjacency between them; `doors` gives the new door order."""
        of_door = self.of_door[doors]
        kept, local_of_door = _dense(of_door)
        local = np.full(len(self.weight), -1, dtype=np.int64)
        local[kept] = np.arange(len(kept))
        edge = (local[self.src] >= 0) & (local[self.dst] >= 0)
        return _Units(
            of_door=local_of_door.astype(np.int64),
            weight=self.weight[kept],
            x=self.x[kept],
            y=self.y[kept],
            src=local[self.src[edge]],
            dst=local[self.dst[edge]],
            atom=_dense(self.atom[kept])[1],
        )


def _edge_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of n nodes joined by edges (a[i], b[i]): each node's
    label is the smallest node of its component (hooking and pointer jumping)."""
    labels = np.arange(n, dtype=np.int64)
    while True:
        ra, rb = labels[a], labels[b]
        differ = ra != rb
        if not differ.any():
            return labels
        ra, rb = ra[differ], rb[differ]
        np.minimum.at(labels, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped


def _make_contiguous(
    door_label: np.ndarray,
    k: int,
    lot: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    max_weight: float = math.inf,
) -> tuple[np.ndarray, int]:
    """Give each piece of a turf cut off from its largest piece (of at most
    `max_weight` doors) to the neighbouring turf it touches most. Pieces are made of
    whole units (`lot`: a lot or an atom id per door); adjacency is the Delaunay
    edges of the doors whose clipped Voronoi cells share at least MAP_TOUCH_M of
    boundary, so the turf's polygon as drawn is then in one piece. Returns the labels and how many pieces moved."""
    lots, lot_of_door = _dense(lot)
    n_lots = len(lots)
    lot_label = np.zeros(n_lots, dtype=np.int64)
    lot_label[lot_of_door] = door_label
    lot_weight = np.bincount(lot_of_door, minlength=n_lots).astype(np.float64)
    ls, ld = lot_of_door[src], lot_of_door[dst]
    keep = ls != ld
    ls, ld = ls[keep], ld[keep]
    same = lot_label[ls] == lot_label[ld]
    comp = _edge_components(n_lots, ls[same], ld[same])
    comp_weight = np.bincount(comp, lot_weight, minlength=n_lots)
    roots = np.flatnonzero(comp == np.arange(n_lots))
    # the heaviest piece of each turf stays
    order = np.lexsort((-comp_weight[roots], lot_label[roots]))
    turfs_sorted = lot_label[roots][order]
    first = np.flatnonzero(np.r_[True, turfs_sorted[1:] != turfs_sorted[:-1]])
    is_main = np.zeros(n_lots, dtype=bool)
    is_main[roots[order][first]] = True
    in_fragment = ~is_main[comp] & (comp_weight[comp] <= max_weight)
    if not in_fragment.any():
        return door_label, 0
    edge = in_fragment[ls] & (lot_label[ls] != lot_label[ld])
    piece, other = comp[ls[edge]], lot_label[ld[edge]]
    if len(piece) == 0:
        return door_label, 0
    pairs, counts = _unique_pairs(piece, other, return_counts=True)
    size = np.bincount(lot_label, lot_weight, minlength=k)
    # most shared edges, then the smaller turf
    order = np.lexsort((size[pairs[:, 1]], -counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0]])
    dest = np.full(n_lots, -1, dtype=np.int64)
    dest[pairs[first, 0]] = pairs[first, 1]
    move = in_fragment & (dest[comp] >= 0)
    lot_label[move] = dest[comp[move]]
    return lot_label[lot_of_door], len(first)


def _spread(x: np.ndarray, y: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Root mean squared distance of a door to its turf's centre."""
    size = np.maximum(np.bincount(labels, minlength=k), 1)
    cx = np.bincount(labels, x, minlength=k) / size
    cy = np.bincount(labels, y, minlength=k) / size
    return math.sqrt(float(np.mean((x - cx[labels]) ** 2 + (y - cy[labels]) ** 2)))


@dataclass
class _LotGraph:
    """The lots of a district's doors: per door its lot (dense ids), per lot its weight
    and mean position, and lot adjacency (the doors' Delaunay edges between lots)."""

    of_door: np.ndarray
    weight: np.ndarray
    x: np.ndarray
    y: np.ndarray
    src: np.ndarray
    dst: np.ndarray

    @classmethod
    def build(cls, lot: np.ndarray, x: np.ndarray, y: np.ndarray, door_src: np.ndarray, door_dst: np.ndarray):
        _, of_door = _dense(lot)
        weight = np.bincount(of_door).astype(np.float64)
        ls, ld = of_door[door_src], of_door[door_dst]
        keep = ls != ld
        pairs = _unique_pairs(ls[keep], ld[keep])
        return cls(
            of_door=of_door,
            weight=weight,
            x=np.bincount(of_door, x) / weight,
            y=np.bincount(of_door, y) / weight,
            src=pairs[:, 0],
            dst=pairs[:, 1],
        )


def _refine_lots(
    door_label: np.ndarray,
    k: int,
    lots: _LotGraph,
    spread: float,
    band: float,
    turf_pairs: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Second phase, where atoms are too coarse to balance: move single lots (buildings),
    which splits the block faces they leave; only to bring turfs back within the band.
    Works on the turfs outside the band and LOT_MOVE_RINGS rings of their neighbours."""
    size = np.bincount(door_label, minlength=k)
    mean = len(door_label) / k
    involved = np.abs(size - mean) > band
    a, b = turf_pairs
    for _ in range(LOT_MOVE_RINGS):
        involved[b[involved[a]]] = True
    lot_label = np.zeros(len(lots.weight), dtype=np.int64)
    lot_label[lots.of_door] = door_label
    chosen = np.flatnonzero(involved[lot_label])
    index = np.full(len(lot_label), -1, dtype=np.int64)
    index[chosen] = np.arange(len(chosen))
    edge = (index[lots.src] >= 0) & (index[lots.dst] >= 0)
    lab = _refine(
        lot_label[chosen],
        k,
        lots.x[chosen],
        lots.y[chosen],
        lots.weight[chosen],
        index[lots.src[edge]],
        index[lots.dst[edge]],
        spread,
        band=band,
        balance_only=True,
        mean=mean,
    )
    lot_label[chosen] = lab
    return lot_label[lots.of_door]


def cut_universe(
    doors: CutDoors,
    target: int,
    *,
    districts: Mapping[int, BaseGeometry] | None = None,
    progress: Callable[[int, int], None] | None = None,
    district_names: Mapping[int, str] | None = None,
) -> CutResult:
    """Cut the doors into turfs of about `target` doors, district by district.

    `district_names` (code -> name) lets the notes say "CD 11" rather than "District 7".

    `districts` maps a district code to its geometry (lng/lat) to clip turf
    polygons to; a district without one is clipped to a margin around its
    doors. `progress(done, total)` is called with doors cut so far after each
    district. Raises ValueError (message fit for the organizer) for a target
    below 1 or above the number of doors, an empty universe, arrays of
    different lengths or doors without a location.
    """
    started = time.perf_counter()
    target = _validate(doors, target)
    n = len(np.asarray(doors.lat))
    lat = np.asarray(doors.lat, dtype=np.float64)
    lng = np.asarray(doors.lng, dtype=np.float64)
    building = np.asarray(doors.building, dtype=np.int64)
    number = np.asarray(doors.number, dtype=np.int64)
    district = np.asarray(doors.district, dtype=np.int64)
    district = np.where(district < 0, -1, district)
    projection = LocalProjection.around(lng, lat)
    x, y = projection.forward(lng, lat)
    face = block_face_codes(np.asarray(doors.street, dtype=object), number)

    # A building in two districts is cut per district (the district boundary wins).
    pair = _unique_pairs(building, district)
    buildings_split = int(len(pair) - len(_unique(pair[:, 0])))
    # Block faces are per district too: a face crossing a boundary is two faces.
    face = np.where(face >= 0, _unique_pairs(face, district, return_inverse=True)[1].ravel(), -1)

    codes = np.unique(district)
    order = np.argsort(district, kind="stable")
    bounds = np.searchsorted(district[order], codes, side="left").tolist() + [n]
    turfs: list[CutTurf] = []
    notes: list[str] = []
    doors_off_map = 0
    by_district = by_building = 0
    seconds_polygons = 0.0
    done = 0
    for i, code in enumerate(codes.tolist()):
        idx = order[bounds[i] : bounds[i + 1]]
        geometry = None if districts is None else districts.get(code)
        drawing = time.perf_counter()
        region = _region(x[idx], y[idx], geometry, projection)
        cells = _Cells.build(x[idx], y[idx], region)
        seconds_polygons += time.perf_counter() - drawing
        cut = _cut_district(x[idx], y[idx], building[idx], face[idx], number[idx], target, cells)
        drawing = time.perf_counter()
        polygons, shared = _turf_polygons(x[idx], y[idx], cut.labels, cut.k, region, cells)
        covered = _covered(x[idx], y[idx], cut.labels, polygons)
        seconds_polygons += time.perf_counter() - drawing
        doors_off_map += int((~covered).sum())
        for t in (t for t, p in enumerate(polygons) if p.geom_type == "MultiPolygon"):
            reason = _why_in_pieces(polygons[t], x[idx], y[idx], building[idx], cut.labels == t, region)
            by_district += reason == "district"
            by_building += reason == "building"
        sizes = np.bincount(cut.labels, minlength=cut.k)
        t_order = np.argsort(cut.labels, kind="stable")
        t_bounds = np.searchsorted(cut.labels[t_order], np.arange(cut.k + 1))
        for t in range(cut.k):
            turfs.append(
                CutTurf(
                    district=code,
                    doors=idx[np.sort(t_order[t_bounds[t] : t_bounds[t + 1]])].astype(np.int64),
                    polygon=projection.geometry_inverse(polygons[t]),
                )
            )
        notes.extend(_district_notes(code, sizes, target, cut.own_turf_lots, district_names))
        if shared:
            notes.append(
                f"{_district_name(code, district_names)}: {shared:,} door(s) share their exact location with a door "
                "of another turf (different buildings at one point); on the map that point belongs to one turf only."
            )
        missing = int((~covered).sum()) - shared
        if missing > 0:
            notes.append(
                f"{_district_name(code, district_names)}: {missing:,} door(s) lie outside the district's boundary "
                "as drawn; their turf's polygon, clipped to the district, does not show them."
            )
        done += len(idx)
        if progress is not None:
            progress(done, n)

    if buildings_split:
        notes.append(
            f"{buildings_split:,} building(s) have doors in two districts: each district's doors of such a "
            "building were cut with that district (no turf crosses a district boundary)."
        )
    sizes = np.array([len(t.doors) for t in turfs], dtype=np.int64)
    result = CutResult(turfs=turfs, notes=notes, target=target, sizes=sizes)
    result.size_min, result.size_max = int(sizes.min()), int(sizes.max())
    result.size_mean = float(sizes.mean())
    result.cv = float(sizes.std() / sizes.mean())
    result.outside_tolerance = int(
        ((sizes < (1 - SIZE_TOLERANCE) * target) | (sizes > (1 + SIZE_TOLERANCE) * target)).sum()
    )
    labels = np.empty(n, dtype=np.int64)
    for t, turf in enumerate(turfs):
        labels[turf.doors] = t
    known = face >= 0
    pairs = _unique_pairs(face[known], labels[known])
    result.block_faces = int(len(_unique(face[known])))
    result.block_faces_split = int(np.count_nonzero(np.unique(pairs[:, 0], return_counts=True)[1] > 1))
    result.buildings_split_by_district = buildings_split
    result.doors_off_map = doors_off_map
    result.turfs_in_pieces = sum(1 for t in turfs if t.polygon.geom_type == "MultiPolygon")
    result.turfs_in_pieces_by_district = by_district
    result.turfs_in_pieces_by_building = by_building
    result.seconds_polygons = seconds_polygons
    result.seconds = time.perf_counter() - started
    notes.insert(0, _summary(result))
    return result


def _why_in_pieces(
    polygon: BaseGeometry, x: np.ndarray, y: np.ndarray, building: np.ndarray, mine: np.ndarray, region: BaseGeometry
) -> str | None:
    """Why a turf's (projected) polygon is in pieces: "district" if its doors lie in two or
    more pieces of the region its district is drawn in, "building" if one of its buildings
    has doors in two of its pieces, None if it is in one piece or for no such reason."""
    if polygon.geom_type != "MultiPolygon":
        return None
    px, py = x[mine], y[mine]
    region_parts = shapely.get_parts(region)
    if len(region_parts) > 1:
        holding = sum(1 for part in region_parts if shapely.intersects_xy(part, px, py).any())
        if holding > 1:
            return "district"
    piece = np.full(len(px), -1, dtype=np.int64)
    for i, part in enumerate(shapely.get_parts(polygon)):
        piece[(piece < 0) & shapely.intersects_xy(part, px, py)] = i
    pairs = _unique_pairs(building[mine], piece)
    return "building" if len(pairs) > len(_unique(pairs[:, 0])) else None


def _region(x: np.ndarray, y: np.ndarray, geometry: BaseGeometry | None, projection: LocalProjection) -> BaseGeometry:
    hull = MultiPoint(np.column_stack((x, y))).convex_hull.buffer(MAP_MARGIN_M)
    if geometry is None or geometry.is_empty:
        return hull
    clip = _polygonal(shapely.intersection(projection.geometry_forward(geometry), hull))
    return clip if not clip.is_empty else hull


def _covered(x: np.ndarray, y: np.ndarray, labels: np.ndarray, polygons: list[BaseGeometry]) -> np.ndarray:
    """Whether each door lies in (or on the edge of) its turf's polygon."""
    geoms = np.array(polygons, dtype=object)
    shapely.prepare(geoms)
    return shapely.intersects_xy(geoms[labels], x, y)


def _district_name(code: int, names: Mapping[int, str] | None = None) -> str:
    if names and code in names:
        return names[code]
    return "Doors outside every district" if code == -1 else f"District {code}"


def _district_notes(
    code: int, sizes: np.ndarray, target: int, own_turf_lots: list[int], names: Mapping[int, str] | None = None
) -> list[str]:
    name = _district_name(code, names)
    total = int(sizes.sum())
    low, high = (1 - SIZE_TOLERANCE) * target, (1 + SIZE_TOLERANCE) * target
    if len(sizes) == 1:
        text = f"{name} has {total:,} door{'' if total == 1 else 's'}: one turf."
    elif len(sizes) <= 4:
        listed = ", ".join(f"{s:,}" for s in sizes[:-1]) + f" and {sizes[-1]:,}"
        text = f"{name} has {total:,} doors: its {len(sizes)} turfs are {listed} doors."
    else:
        text = (
            f"{name} has {total:,} doors in {len(sizes)} turfs of {int(sizes.min()):,} to {int(sizes.max()):,} doors."
        )
    notes = [text]
    big = own_turf_lots  # the first len(big) turfs of the district, one building each
    if big:
        listed = ", ".join(f"{s:,}" for s in sorted(big, reverse=True)[:5]) + ("…" if len(big) > 5 else "")
        notes.append(
            f"{name}: {len(big)} building(s) have more doors than the target of {target} ({listed} doors); "
            "each is a turf of its own."
        )
    others = sizes[len(big) :]
    if len(others) == 0:
        return notes
    rest = int(others.sum())
    mean = rest / len(others)
    besides = " besides those buildings" if big else ""
    if not low <= mean <= high:
        if len(others) == 1:
            why = "two turfs would be no closer to the target" if rest > high else "it has fewer doors than that"
            notes.append(
                f"{name}: its turf of {rest:,} doors{besides} is outside {low:g}–{high:g} doors "
                f"({target} ± 25 %): {why}."
            )
        else:
            notes.append(
                f"{name}: its {rest:,} doors{besides} do not divide into turfs of {low:g}–{high:g} doors "
                f"({target} ± 25 %): {len(others)} turfs of about {mean:.0f} doors are the closest."
            )
        return notes
    outside = [int(s) for s in others if s < low or s > high]
    if outside:
        notes.append(
            f"{name}: {len(outside)} turf(s) outside {low:g}–{high:g} doors ({target} ± 25 %): "
            f"{', '.join(f'{s:,}' for s in outside[:10])}{'…' if len(outside) > 10 else ''}; "
            "the buildings and block faces there are too large to balance them better."
        )
    return notes


def _summary(result: CutResult) -> str:
    text = (
        f"{int(result.sizes.sum()):,} doors in {len(result.turfs):,} turfs of {result.size_min:,} to "
        f"{result.size_max:,} doors (mean {result.size_mean:.1f}, target {result.target}, coefficient of variation "
        f"{result.cv:.3f}); {result.block_faces_split:,} of {result.block_faces:,} block faces split"
    )
    if result.turfs_in_pieces:
        text += f"; {result.turfs_in_pieces:,} turf(s) in two or more pieces on the map"
        why = []
        if result.turfs_in_pieces_by_district:
            why.append(
                f"{result.turfs_in_pieces_by_district:,} because their doors lie in separate parts of their district"
            )
        if result.turfs_in_pieces_by_building:
            why.append(f"{result.turfs_in_pieces_by_building:,} to keep a building whose doors lie far apart whole")
        if why:
            text += f" ({'; '.join(why)})"
    return text + "."
