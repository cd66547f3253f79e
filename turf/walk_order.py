"""The order in which to knock the doors of one turf (pure: no Django).

A canvasser walks block face by block face: along one side of one
hundred-block of a street, house numbers in sequence (up or down, whichever
end is nearer), every unit of a building before the next building; then to the
nearest block face not yet walked. Both sides of a street are separate block
faces, so the route usually goes up one side and back down the other (the
opposite side's near end is the nearest next start): we do not zig-zag across
the street, which is safer and keeps the sequence of numbers readable on a
phone. Details and constants: docs/turf-cutting.md.

Block faces are sequenced by a route heuristic: nearest neighbour from the
block-face end farthest from the turf's centre, improved by 2-opt moves that
may reverse a run of block faces (walking each of them the other way). The
route is an open path: the canvasser does not come back to the start.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from turf.cutting import block_face_codes
from turf.projection import LocalProjection

# Time model (docs/turf-cutting.md): straight-line distance between successive
# doors, walked at WALKING_M_PER_MIN, times STREET_DETOUR for paths, driveways and
# crossings; plus MINUTES_PER_DOOR at each door (walk up, knock, wait, a short
# conversation or a leaflet). Together about 25-30 doors an hour in Venice.
WALKING_M_PER_MIN = 80.0  # 4.8 km/h
STREET_DETOUR = 1.3
MINUTES_PER_DOOR = 1.5
# 2-opt: at most this many passes over the route (each pass is O(stops²)).
MAX_TWO_OPT_PASSES = 30
TWO_OPT_BUDGET = 20_000_000  # passes × stops² at most (but at least one pass)


@dataclass(frozen=True)
class WalkDoors:
    lat: np.ndarray  # float64
    lng: np.ndarray  # float64
    street: np.ndarray  # object array of str: normalized street, "" unknown
    number: np.ndarray  # int64 house number, -1 unknown
    unit: np.ndarray  # object array of str, "" none
    building: np.ndarray  # int64 codes

    def __len__(self) -> int:
        return len(self.lat)


@dataclass
class WalkPlan:
    order: np.ndarray  # permutation of range(n): order[k] = index of the k-th door to knock
    distance_m: float  # straight-line length of the walk from the first door to the last, metres
    minutes: float  # distance_m * STREET_DETOUR / WALKING_M_PER_MIN + n * MINUTES_PER_DOOR
    stops: int = 0  # block faces (and buildings without a street address) walked
    # positions in `order` where each stop begins (a block face, or a building without
    # a street address): where a phone can show "MAIN ST, 100 block, even side"
    stop_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


# ASCII digits only: int() refuses some characters \d and str.isdigit() accept ("²").
_DIGITS = re.compile(r"([0-9]+)")


def _unit_key(unit: str) -> tuple:
    """Natural order of units: "" first, then "2" < "10" < "10A" < "B"."""
    if not unit:
        return ()
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(unit)
        if part
    )


def _validate(doors: WalkDoors) -> int:
    n = len(np.asarray(doors.lat))
    for name in ("lng", "street", "number", "unit", "building"):
        arr = np.asarray(getattr(doors, name))
        if arr.ndim != 1 or len(arr) != n:
            raise ValueError(f"doors.{name} must be a 1-d array of {n} values (like doors.lat)")
    return n


def plan_walk(doors: WalkDoors) -> WalkPlan:
    """The knocking order of a turf's doors, with its estimated distance and time.

    Doors without a location (none in a cut turf, but a hand-made list may have
    some) come last, by street, number and unit, and add no distance.
    """
    n = _validate(doors)
    if n == 0:
        return WalkPlan(order=np.zeros(0, dtype=np.int64), distance_m=0.0, minutes=0.0, stops=0)
    lat = np.asarray(doors.lat, dtype=np.float64)
    lng = np.asarray(doors.lng, dtype=np.float64)
    street = np.asarray(doors.street, dtype=object)
    number = np.asarray(doors.number, dtype=np.int64)
    unit = [u if isinstance(u, str) else "" for u in np.asarray(doors.unit, dtype=object).tolist()]
    building = np.asarray(doors.building, dtype=np.int64)
    placed = np.isfinite(lat) & np.isfinite(lng)
    x, y = LocalProjection.around(lng, lat).forward(np.where(placed, lng, 0.0), np.where(placed, lat, 0.0))
    face = block_face_codes(street, number)

    idx = np.flatnonzero(placed)
    stops = _stops(idx, face, building, number, unit, x)
    route = _route(stops, x, y)
    ordered: list[int] = []
    starts: list[int] = []
    for stop, forward in route:
        starts.append(len(ordered))
        ordered.extend(stops[stop] if forward else stops[stop][::-1])
    unplaced = np.flatnonzero(~placed).tolist()
    unplaced.sort(key=lambda i: (str(street[i]), int(number[i]), _unit_key(unit[i]), int(building[i])))
    order = np.array(ordered + unplaced, dtype=np.int64)
    walked = order[: len(ordered)]
    distance = float(np.hypot(np.diff(x[walked]), np.diff(y[walked])).sum()) if len(walked) > 1 else 0.0
    minutes = distance * STREET_DETOUR / WALKING_M_PER_MIN + n * MINUTES_PER_DOOR
    if unplaced:
        starts.append(len(ordered))
    return WalkPlan(
        order=order,
        distance_m=distance,
        minutes=minutes,
        stops=len(starts),
        stop_starts=np.array(starts, dtype=np.int64),
    )


def _stops(
    idx: np.ndarray,
    face: np.ndarray,
    building: np.ndarray,
    number: np.ndarray,
    unit: list[str],
    x: np.ndarray,
) -> list[list[int]]:
    """The doors grouped into stops, each in walking order: a stop is a block face
    (its buildings by house number, each building's doors together by number and
    unit), or a building with no door on a known block face."""
    # each building goes to the block face holding most of its doors (ties: the lowest face)
    by_building: dict[int, list[int]] = {}
    for i in idx.tolist():
        by_building.setdefault(int(building[i]), []).append(i)
    groups: dict[tuple[int, int], list[int]] = {}
    for b, members in by_building.items():
        faces = [int(face[i]) for i in members if face[i] >= 0]
        if faces:
            counts: dict[int, int] = {}
            for f in faces:
                counts[f] = counts.get(f, 0) + 1
            key = (0, min(counts, key=lambda f: (-counts[f], f)))
        else:
            key = (1, b)
        groups.setdefault(key, []).extend(members)
    stops: list[list[int]] = []
    for (kind, code), members in groups.items():
        # buildings by their lowest number on this block face (doors elsewhere sort last)
        first_number: dict[int, tuple[int, float]] = {}
        for i in members:
            b = int(building[i])
            on_face = kind == 0 and face[i] == code
            num = int(number[i]) if on_face or (kind == 1 and number[i] >= 0) else 1 << 40
            rank = (num, float(x[i]))
            if b not in first_number or rank < first_number[b]:
                first_number[b] = rank
        members.sort(
            key=lambda i: (
                first_number[int(building[i])],
                int(building[i]),
                int(number[i]),
                _unit_key(unit[i]),
                i,
            )
        )
        stops.append(members)
    return stops


def _route(stops: list[list[int]], x: np.ndarray, y: np.ndarray) -> list[tuple[int, bool]]:
    """Sequence the stops: (stop, walked forward?) in order."""
    m = len(stops)
    if m == 0:
        return []
    # ends[s, 0] = first door, ends[s, 1] = last door (walking forward)
    first = np.array([s[0] for s in stops], dtype=np.int64)
    last = np.array([s[-1] for s in stops], dtype=np.int64)
    ex = np.column_stack((x[first], x[last]))
    ey = np.column_stack((y[first], y[last]))
    if m == 1:
        return [(0, True)]

    # nearest neighbour from the end farthest from the centre
    cx, cy = ex.mean(), ey.mean()
    far = np.unravel_index(int(np.argmax((ex - cx) ** 2 + (ey - cy) ** 2)), ex.shape)
    visited = np.zeros(m, dtype=bool)
    seq = np.empty(m, dtype=np.int64)
    fwd = np.empty(m, dtype=bool)
    current, end = int(far[0]), int(far[1])
    for step in range(m):
        seq[step] = current
        fwd[step] = end == 0  # entered at its first door: walked forward
        visited[current] = True
        if step == m - 1:
            break
        # exit point: the other end
        px, py = ex[current, 1 - end], ey[current, 1 - end]
        d = (ex - px) ** 2 + (ey - py) ** 2
        d[visited] = np.inf
        flat = int(np.argmin(d))
        current, end = divmod(flat, 2)
    seq, fwd = _two_opt(seq, fwd, ex, ey)
    return list(zip(seq.tolist(), fwd.tolist(), strict=True))


def _two_opt(seq: np.ndarray, fwd: np.ndarray, ex: np.ndarray, ey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-opt on an open path of oriented stops: reversing positions i..j walks that run
    backwards and each of its stops the other way; applied while it shortens the path."""
    m = len(seq)
    seq, fwd = seq.copy(), fwd.copy()
    # a pass costs about m² operations: fewer passes on very large lists (a turf of
    # thousands of doors without street addresses) keep the time to about a second
    passes = max(1, min(MAX_TWO_OPT_PASSES, TWO_OPT_BUDGET // max(m * m, 1)))
    for _ in range(passes):
        improved = False
        for i in range(m):
            # entry / exit coordinates in the current orientation
            e_side = np.where(fwd, 0, 1)
            ix, iy = ex[seq, e_side], ey[seq, e_side]  # entries
            ox, oy = ex[seq, 1 - e_side], ey[seq, 1 - e_side]  # exits
            j = np.arange(i, m)
            nxt = np.minimum(j + 1, m - 1)
            has_next = j < m - 1
            # before: (exit[i-1] -> entry[i]) + (exit[j] -> entry[j+1])
            after_tail = np.where(has_next, np.hypot(ix[i] - ix[nxt], iy[i] - iy[nxt]), 0.0)
            before_tail = np.where(has_next, np.hypot(ox[j] - ix[nxt], oy[j] - iy[nxt]), 0.0)
            if i > 0:
                before_head = math.hypot(ox[i - 1] - ix[i], oy[i - 1] - iy[i])
                after_head = np.hypot(ox[i - 1] - ox[j], oy[i - 1] - oy[j])
            else:
                before_head = 0.0
                after_head = np.zeros(len(j))
            delta = after_head + after_tail - before_head - before_tail
            best = int(np.argmin(delta))
            if delta[best] < -1e-6:
                jj = i + best
                seq[i : jj + 1] = seq[i : jj + 1][::-1].copy()
                fwd[i : jj + 1] = ~fwd[i : jj + 1][::-1]
                improved = True
        if not improved:
            break
    return seq, fwd
