"""turf/walk_order.py: the knocking order of a turf (no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geopy.distance import great_circle
from hypothesis import given, settings
from hypothesis import strategies as st

from turf.cutting import CutDoors, block_face_codes, cut_universe
from turf.sample_doors import load_doors
from turf.walk_order import MINUTES_PER_DOOR, STREET_DETOUR, WALKING_M_PER_MIN, WalkDoors, plan_walk


def _walk(lat, lng, street=None, number=None, unit=None, building=None) -> WalkDoors:
    n = len(lat)
    return WalkDoors(
        lat=np.asarray(lat, dtype=np.float64),
        lng=np.asarray(lng, dtype=np.float64),
        street=np.asarray(street if street is not None else [""] * n, dtype=object),
        number=np.asarray(number if number is not None else [-1] * n, dtype=np.int64),
        unit=np.asarray(unit if unit is not None else [""] * n, dtype=object),
        building=np.asarray(building if building is not None else np.arange(n), dtype=np.int64),
    )


def _assert_permutation(plan, n: int) -> None:
    assert plan.order.dtype == np.int64
    assert sorted(plan.order.tolist()) == list(range(n))


def _assert_buildings_contiguous(order: np.ndarray, building: np.ndarray) -> None:
    seq = building[order]
    seen: set[int] = set()
    for i, b in enumerate(seq.tolist()):
        if i and seq[i - 1] == b:
            continue
        assert b not in seen, f"building {b} is visited twice"
        seen.add(b)


def _assert_faces_walked_in_sequence(plan, doors: WalkDoors) -> None:
    """In each stop (a block face): its buildings in monotone order of their lowest
    number on that face, each building's numbers on it monotone the same way."""
    face = block_face_codes(doors.street, doors.number)
    bounds = [*plan.stop_starts.tolist(), len(plan.order)]
    assert bounds[0] == 0 and bounds == sorted(bounds) and len(bounds) == plan.stops + 1
    for start, end in zip(bounds, bounds[1:], strict=False):
        stop = plan.order[start:end]
        faces = face[stop]
        if (faces < 0).all():
            assert len(set(doors.building[stop].tolist())) == 1  # a building without a street address
            continue
        main = np.bincount(faces[faces >= 0]).argmax()
        runs: list[list[int]] = []
        for k, i in enumerate(stop.tolist()):
            if k == 0 or doors.building[i] != doors.building[stop[k - 1]]:
                runs.append([])
            if face[i] == main:
                runs[-1].append(int(doors.number[i]))
        runs = [run for run in runs if run]
        lowest = [min(run) for run in runs]
        steps = [b - a for a, b in zip(lowest, lowest[1:], strict=False) if b != a]
        steps += [b - a for run in runs for a, b in zip(run, run[1:], strict=False) if b != a]
        up = not steps or steps[0] > 0
        assert lowest == sorted(lowest, reverse=not up), lowest
        for run in runs:
            assert run == sorted(run, reverse=not up), run


@pytest.fixture(scope="module")
def venice_turfs():
    data = load_doors()
    doors = CutDoors(
        lat=data["lat"],
        lng=data["lng"],
        building=data["building"],
        street=data["street"],
        number=data["number"],
        district=np.full(len(data["lat"]), 11, dtype=np.int64),
    )
    result = cut_universe(doors, 60)
    return data, result.turfs


def _turf_walk(data, idx) -> WalkDoors:
    return _walk(
        data["lat"][idx],
        data["lng"][idx],
        data["street"][idx],
        data["number"][idx],
        data["unit"][idx],
        data["building"][idx],
    )


def test_venice_turfs(venice_turfs):
    data, turfs = venice_turfs
    total_m = 0.0
    doors = 0
    for turf in turfs[::5]:
        walk = _turf_walk(data, turf.doors)
        plan = plan_walk(walk)
        _assert_permutation(plan, len(turf.doors))
        _assert_buildings_contiguous(plan.order, walk.building)
        _assert_faces_walked_in_sequence(plan, walk)
        assert 0 < plan.distance_m < 5_000
        assert plan.minutes == pytest.approx(
            plan.distance_m * STREET_DETOUR / WALKING_M_PER_MIN + len(turf.doors) * MINUTES_PER_DOOR
        )
        total_m += plan.distance_m
        doors += len(turf.doors)
    # a nearest-neighbour tour through the doors is about 13.5 m a door (benchmarks/turf_cut.py)
    assert total_m / doors < 20


def test_distance_is_the_straight_line_walk_in_metres(venice_turfs):
    data, turfs = venice_turfs
    walk = _turf_walk(data, turfs[0].doors)
    plan = plan_walk(walk)
    points = list(zip(walk.lat[plan.order].tolist(), walk.lng[plan.order].tolist(), strict=True))
    geodesic = sum(great_circle(a, b).meters for a, b in zip(points, points[1:], strict=False))
    assert plan.distance_m == pytest.approx(geodesic, rel=0.005)


def test_up_one_side_and_back_down_the_other():
    # the 100 block of one street: 10 even numbers on the south side, 10 odd on the north, 20 m apart
    number = [100 + 2 * i for i in range(10)] + [101 + 2 * i for i in range(10)]
    lng = [-118.4 + (n % 100) // 2 * 0.00015 for n in number]  # about 14 m between houses
    lat = [34.0 + (n % 2) * 0.00018 for n in number]
    shuffle = np.random.default_rng(0).permutation(20)
    walk = _walk(np.array(lat)[shuffle], np.array(lng)[shuffle], ["MAIN ST"] * 20, np.array(number)[shuffle])
    plan = plan_walk(walk)
    numbers = walk.number[plan.order].tolist()
    sides = [n % 2 for n in numbers]
    assert sides[:10] == [sides[0]] * 10 and sides[10:] == [1 - sides[0]] * 10
    assert numbers[:10] in (sorted(numbers[:10]), sorted(numbers[:10], reverse=True))
    # up, across, back: the far ends meet
    assert abs(numbers[9] - numbers[10]) == 1
    assert plan.distance_m < 2 * 9 * 14 + 25 + 5
    assert plan.stops == 2


def test_units_of_a_building_together_in_natural_order():
    units = ["10", "2", "1", "B", "", "2A", "11"]
    n = len(units)
    # building 5 (units) and two houses next door; the units' listing order is shuffled
    lat = [34.0] * n + [34.0, 34.0]
    lng = [-118.4] * n + [-118.40005, -118.39995]
    walk = _walk(lat, lng, ["MAIN ST"] * (n + 2), [102] * n + [100, 104], units + ["", ""], [5] * n + [1, 2])
    plan = plan_walk(walk)
    _assert_permutation(plan, n + 2)
    _assert_buildings_contiguous(plan.order, walk.building)
    in_building = [walk.unit[i] for i in plan.order if walk.building[i] == 5]
    natural = ["", "1", "2", "2A", "10", "11", "B"]
    assert in_building in (natural, natural[::-1])
    assert walk.number[plan.order].tolist() in ([100] + [102] * n + [104], [104] + [102] * n + [100])


def test_building_on_two_block_faces_stays_together():
    # a corner building with doors on MAIN ST (100 block) and OAK AVE
    lat = [34.0, 34.0, 34.0001, 34.0002, 34.0003]
    lng = [-118.4, -118.4, -118.4, -118.4, -118.4]
    walk = _walk(
        lat,
        lng,
        ["MAIN ST", "OAK AVE", "MAIN ST", "MAIN ST", "OAK AVE"],
        [100, 201, 102, 104, 203],
        None,
        [9, 9, 1, 2, 3],
    )
    plan = plan_walk(walk)
    _assert_permutation(plan, 5)
    _assert_buildings_contiguous(plan.order, walk.building)


def test_no_doors():
    plan = plan_walk(_walk([], []))
    assert plan.order.tolist() == [] and plan.distance_m == 0 and plan.minutes == 0


def test_one_door():
    plan = plan_walk(_walk([34.0], [-118.4]))
    assert plan.order.tolist() == [0]
    assert plan.distance_m == 0 and plan.minutes == MINUTES_PER_DOOR


def test_duplicate_coordinates_and_no_street():
    lat = [34.0, 34.0, 34.0, 34.001, 34.001]
    lng = [-118.4] * 5
    plan = plan_walk(_walk(lat, lng, building=[1, 2, 1, 3, 3]))
    _assert_permutation(plan, 5)
    _assert_buildings_contiguous(plan.order, np.array([1, 2, 1, 3, 3]))
    assert plan.distance_m == pytest.approx(great_circle((34.0, -118.4), (34.001, -118.4)).meters, rel=0.005)


def test_doors_without_a_location_come_last():
    plan = plan_walk(
        _walk([34.0, math.nan, 34.001], [-118.4, math.nan, -118.4], ["A ST", "A ST", "A ST"], [100, 102, 104])
    )
    assert plan.order.tolist()[-1] == 1
    assert plan.minutes == pytest.approx(plan.distance_m * STREET_DETOUR / WALKING_M_PER_MIN + 3 * MINUTES_PER_DOOR)


def test_arrays_of_different_lengths():
    walk = WalkDoors(
        lat=np.zeros(2),
        lng=np.zeros(2),
        street=np.array(["", ""], dtype=object),
        number=np.zeros(3, dtype=np.int64),
        unit=np.array(["", ""], dtype=object),
        building=np.zeros(2, dtype=np.int64),
    )
    with pytest.raises(ValueError, match="doors.number must be a 1-d array of 2 values"):
        plan_walk(walk)


def test_two_opt_beats_a_bad_nearest_neighbour_route():
    # houses scattered in a 300 m square, each on its own street: NN alone leaves long jumps
    rng = np.random.default_rng(5)
    n = 120
    lat = 34 + rng.uniform(0, 0.0027, n)
    lng = -118.4 + rng.uniform(0, 0.0033, n)
    plan = plan_walk(_walk(lat, lng))
    _assert_permutation(plan, n)
    # Beardwood–Halton–Hammersley: an optimal tour of n uniform points in area A is about 0.71·sqrt(n·A)
    assert plan.distance_m < 1.25 * 0.7124 * math.sqrt(n * 300 * 300)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # spot
            st.sampled_from(["", "MAIN ST", "OAK AVE"]),
            st.integers(-1, 260),
            st.sampled_from(["", "1", "2", "10", "A"]),
            st.integers(0, 8),  # building
        ),
        min_size=1,
        max_size=40,
    )
)
def test_random_turfs_give_a_permutation_with_buildings_together(rows):
    spots = [(34.0 + s * 0.0003, -118.4 + (s % 3) * 0.0004) for s in range(6)]
    walk = _walk(
        [spots[r[0]][0] for r in rows],
        [spots[r[0]][1] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
    )
    plan = plan_walk(walk)
    _assert_permutation(plan, len(rows))
    _assert_buildings_contiguous(plan.order, walk.building)
    assert plan.distance_m >= 0 and plan.minutes >= len(rows) * MINUTES_PER_DOOR


def test_units_with_superscript_digits_do_not_crash_the_walk_order():
    """ "²".isdigit() is True but int("²") fails; such a unit sorts as text."""
    from turf.walk_order import _unit_key

    assert _unit_key("²") == ((1, 0, "²"),)
    assert _unit_key("10A") < _unit_key("B")
