"""Benchmark turf cutting (turf/cutting.py) against three baselines, then at a million doors.

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -r requirements.txt -r requirements-bench.txt
    .venv-bench/bin/python benchmarks/turf_cut.py [--target 60] [--million 1000000] [--skip-constrained]

No database and no Django: the doors of data/la/venice_addresses.csv are read
and merged like the importer does (turf/sample_doors.py). On them, with one
target, in the same run:

- ours: turf.cutting.cut_universe (all of Venice is in Council District 11:
  one district);
- recursive coordinate bisection: split the doors at the weighted median of
  the longer side of their bounding box, recursively, into as many turfs as
  ours has (balanced, but the cuts slice streets and buildings);
- scikit-learn KMeans with that many clusters (n_init=1);
- k-means-constrained (size bounds target ±17 %, n_init=1).

Also the walk order of each turf (turf/walk_order.py plan_walk: block face by
block face), metres a door and how much longer than the nearest-neighbour tour.

For each it prints the time, the turf sizes (min / mean / max, coefficient of
variation), the share of block faces split over two or more turfs, the
buildings split, the mean nearest-neighbour tour length per door (metres,
straight line on the local projection, each turf's tour starting at its door
farthest from the turf's centre) and the mean Polsby-Popper score of the
turfs' convex hulls (turfs of at least 3 doors), and how many turfs are in two
or more pieces on the map when drawn as cut_universe draws them (the union of
their doors' Voronoi cells). The baselines see the same projected coordinates
(metres).

Then a synthetic universe of about a million doors (Venice replicated on a
grid 10 km apart, with street names and building codes made distinct per
replica), cut twice: one district per replica, and all in one district. That
part runs in a child process so that its peak resident memory (ru_maxrss, the
whole process, including the arrays of the universe) is its own.
Results and their date: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from turf.cutting import CutDoors, _region, _turf_polygons, block_face_codes, cut_universe  # noqa: E402
from turf.projection import LocalProjection, polsby_popper  # noqa: E402
from turf.sample_doors import load_doors  # noqa: E402
from turf.walk_order import WalkDoors, plan_walk  # noqa: E402


def recursive_bisection(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    labels = np.zeros(len(x), dtype=np.int64)
    stack = [(np.arange(len(x)), k, 0)]
    while stack:
        ids, parts, first = stack.pop()
        if parts == 1:
            labels[ids] = first
            continue
        left = parts // 2
        px, py = x[ids], y[ids]
        axis = px if np.ptp(px) >= np.ptp(py) else py
        order = np.argsort(axis, kind="stable")
        cut = round(len(ids) * left / parts)
        stack.append((ids[order[:cut]], left, first))
        stack.append((ids[order[cut:]], parts - left, first + left))
    return labels


def nn_tour_length(px: np.ndarray, py: np.ndarray) -> float:
    n = len(px)
    if n < 2:
        return 0.0
    cx, cy = px.mean(), py.mean()
    current = int(np.argmax((px - cx) ** 2 + (py - cy) ** 2))
    left = np.ones(n, dtype=bool)
    total = 0.0
    for _ in range(n - 1):
        left[current] = False
        d = np.hypot(px - px[current], py - py[current])
        d[~left] = np.inf
        nxt = int(np.argmin(d))
        total += float(d[nxt])
        current = nxt
    return total


def pieces_on_the_map(labels: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """Turfs whose polygon (drawn as cut_universe draws them: the union of their
    doors' Voronoi cells, clipped to a margin around all doors) is in two or more pieces."""
    k = int(labels.max()) + 1
    region = _region(x, y, None, LocalProjection(0.0, 0.0))
    polygons, _ = _turf_polygons(x, y, labels, k, region)
    return sum(1 for p in polygons if p.geom_type == "MultiPolygon")


def physical_doors(d: dict) -> np.ndarray:
    """One door per physical door: the file gives a door under several street names
    (Lincoln Blvd also as PCH, SR-1 and 1; issue 15, point 1). Doors with the same
    location, house number and unit are one; the spelling kept is the smallest
    street name, so that all doors of one block face keep the same spelling."""
    keep: dict[tuple, int] = {}
    streets = d["street"].tolist()
    rows = zip(d["lat"].tolist(), d["lng"].tolist(), d["number"].tolist(), d["unit"].tolist(), streets, strict=True)
    for i, (lat, lng, number, unit, street) in enumerate(rows):
        key = (lat, lng, number, unit)
        if key not in keep or street < streets[keep[key]]:
            keep[key] = i
    return np.array(sorted(keep.values()), dtype=np.int64)


def faces_split(face: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """Block faces with doors in two or more turfs, and block faces."""
    known = face >= 0
    pairs = np.unique(np.column_stack((face[known], labels[known])), axis=0)
    return int(np.count_nonzero(np.bincount(pairs[:, 0]) > 1)), len(np.unique(face[known]))


def measure(
    labels: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    face: np.ndarray,
    building: np.ndarray,
    d: dict,
    physical: tuple[np.ndarray, np.ndarray],
) -> dict:
    k = int(labels.max()) + 1
    kept, kept_face = physical
    physical_split, physical_faces = faces_split(kept_face, labels[kept])
    sizes = np.bincount(labels, minlength=k)
    sizes = sizes[sizes > 0]
    known = face >= 0
    faces = np.unique(face[known])
    face_turf = np.unique(np.column_stack((face[known], labels[known])), axis=0)
    split_faces = int(np.count_nonzero(np.bincount(face_turf[:, 0]) > 1))
    building_turf = np.unique(np.column_stack((building, labels)), axis=0)
    split_buildings = int(np.count_nonzero(np.bincount(building_turf[:, 0]) > 1))
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    tour = 0.0
    walk = 0.0
    scores = []
    for t in range(k):
        mine = order[bounds[t] : bounds[t + 1]]
        if len(mine) == 0:
            continue
        tour += nn_tour_length(x[mine], y[mine])
        walk += plan_walk(
            WalkDoors(
                lat=d["lat"][mine],
                lng=d["lng"][mine],
                street=d["street"][mine],
                number=d["number"][mine],
                unit=d["unit"][mine],
                building=d["building"][mine],
            )
        ).distance_m
        if len(mine) >= 3:
            scores.append(polsby_popper(shapely.MultiPoint(np.column_stack((x[mine], y[mine]))), projected=True))
    return {
        "turfs": len(sizes),
        "min": int(sizes.min()),
        "mean": float(sizes.mean()),
        "max": int(sizes.max()),
        "cv": float(sizes.std() / sizes.mean()),
        "faces_split": split_faces / max(len(faces), 1),
        "faces_split_n": split_faces,
        "physical_faces_split": physical_split / max(physical_faces, 1),
        "physical_faces_split_n": physical_split,
        "buildings_split": split_buildings,
        "tour_m_per_door": tour / len(labels),
        "walk_m_per_door": walk / len(labels),
        "polsby_popper": float(np.mean(scores)) if scores else 0.0,
        "in_pieces": pieces_on_the_map(labels, x, y),
    }


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    labels = fn()
    return labels, time.perf_counter() - started


def venice(target: int, skip_constrained: bool) -> None:
    d = load_doors()
    n = len(d["lat"])
    projection = LocalProjection.around(d["lng"], d["lat"])
    x, y = projection.forward(d["lng"], d["lat"])
    face = block_face_codes(d["street"], d["number"])
    doors = CutDoors(
        lat=d["lat"],
        lng=d["lng"],
        building=d["building"],
        street=d["street"],
        number=d["number"],
        district=np.full(n, 11, dtype=np.int64),
    )
    kept = physical_doors(d)
    physical = (kept, block_face_codes(d["street"][kept], d["number"][kept]))
    print(
        f"Venice: {n:,} doors, {len(np.unique(d['building'])):,} buildings, "
        f"{len(np.unique(face[face >= 0])):,} block faces; target {target}; "
        f"one door per physical door (aliases as one): {len(kept):,} doors, "
        f"{len(np.unique(physical[1][physical[1] >= 0])):,} block faces"
    )

    polygon_seconds: list[float] = []

    def ours() -> np.ndarray:
        result = cut_universe(doors, target)
        polygon_seconds.append(result.seconds_polygons)
        labels = np.empty(n, dtype=np.int64)
        for t, turf in enumerate(result.turfs):
            labels[turf.doors] = t
        return labels

    cut_universe(doors, target)  # warm up (imports, caches) so the timing is the cut's
    rows: list[tuple[str, dict | str, float]] = []
    labels, seconds = timed(ours)
    k = int(labels.max()) + 1
    rows.append(("ours (cut_universe)", measure(labels, x, y, face, d["building"], d, physical), seconds))
    labels, seconds = timed(lambda: recursive_bisection(x, y, k))
    rows.append(("recursive coordinate bisection", measure(labels, x, y, face, d["building"], d, physical), seconds))
    xy = np.column_stack((x, y))
    try:
        from sklearn.cluster import KMeans

        labels, seconds = timed(lambda: KMeans(n_clusters=k, n_init=1, random_state=0).fit_predict(xy))
        rows.append(
            ("scikit-learn KMeans (n_init=1)", measure(labels, x, y, face, d["building"], d, physical), seconds)
        )
    except ImportError as exc:
        rows.append(("scikit-learn KMeans", f"not run: {exc} (install requirements-bench.txt)", 0.0))
    if skip_constrained:
        rows.append(("k-means-constrained", "not run (--skip-constrained)", 0.0))
    else:
        try:
            from k_means_constrained import KMeansConstrained

            low, high = math.floor(target * 0.83), math.ceil(target * 1.17)

            def constrained() -> np.ndarray:
                model = KMeansConstrained(n_clusters=k, size_min=low, size_max=high, n_init=1, random_state=0)
                return model.fit_predict(xy)

            labels, seconds = timed(constrained)
            rows.append(
                (
                    f"k-means-constrained ({low}..{high}, n_init=1)",
                    measure(labels, x, y, face, d["building"], d, physical),
                    seconds,
                )
            )
        except ImportError as exc:
            rows.append(("k-means-constrained", f"not run: cannot be imported here ({exc})", 0.0))

    print()
    print(
        "| method | time | turfs | size min / mean / max | CV | block faces split (aliases as one) | buildings split "
        "| NN tour m/door | walk order m/door (vs NN tour) | hull Polsby-Popper | turfs in pieces on the map |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m, seconds in rows:
        if isinstance(m, str):
            print(f"| {name} | {m} | | | | | | | | | |")
            continue
        print(
            f"| {name} | {seconds:.2f} s | {m['turfs']} | {m['min']} / {m['mean']:.1f} / {m['max']} | {m['cv']:.3f} "
            f"| {100 * m['faces_split']:.1f} % ({m['faces_split_n']}) ({100 * m['physical_faces_split']:.1f} % "
            f"({m['physical_faces_split_n']})) | {m['buildings_split']} | {m['tour_m_per_door']:.1f} "
            f"| {m['walk_m_per_door']:.1f} ({m['walk_m_per_door'] / m['tour_m_per_door'] - 1:+.0%}) "
            f"| {m['polsby_popper']:.3f} | {m['in_pieces']} |"
        )
    print(f"(ours includes {polygon_seconds[-1]:.2f} s for the turf polygons, which the baselines do not draw)")
    clipped(d, target)
    print(flush=True)


def clipped(d: dict, target: int) -> None:
    """Ours again, each door in its Assembly district (data/la/assembly.geojson) and the turf
    polygons clipped to the districts as drawn: turfs in pieces on the map, and why."""
    from shapely.geometry import shape

    from turf.geometry import points_in_polygons

    features = json.loads((ROOT / "data" / "la" / "assembly.geojson").read_text())["features"]
    geometries = {int(f["properties"]["District"]): shape(f["geometry"]) for f in features}
    codes = list(geometries)
    point, poly = points_in_polygons(d["lng"], d["lat"], [geometries[c] for c in codes])
    district = np.full(len(d["lat"]), -1, dtype=np.int64)
    district[point[::-1]] = np.array(codes)[poly[::-1]]  # a door on a boundary: the first district
    doors = CutDoors(
        lat=d["lat"], lng=d["lng"], building=d["building"], street=d["street"], number=d["number"], district=district
    )
    started = time.perf_counter()
    result = cut_universe(doors, target, districts=geometries)
    seconds = time.perf_counter() - started
    print(
        f"Clipped to Assembly districts {sorted({t.district for t in result.turfs})}: {seconds:.2f} s, "
        f"{len(result.turfs)} turfs of {result.size_min}..{result.size_max}, CV {result.cv:.3f}, "
        f"{result.block_faces_split} of {result.block_faces} block faces split, "
        f"{result.turfs_in_pieces} turf(s) in pieces on the map: {result.turfs_in_pieces_by_district} forced by "
        f"their district, {result.turfs_in_pieces_by_building} by a building kept whole whose doors lie apart, "
        f"{result.turfs_in_pieces - result.turfs_in_pieces_by_district - result.turfs_in_pieces_by_building} "
        "for no such reason"
    )


def synthetic(rows: int, target: int) -> None:
    """Child process: the replicated universe, cut per replica and as one district."""
    d = load_doors()
    n0 = len(d["lat"])
    copies = math.ceil(rows / n0)
    side = math.ceil(math.sqrt(copies))
    # 10 km apart: 0.09 degrees of latitude, 0.108 of longitude at 34 °N
    rep = np.arange(copies).repeat(n0)
    lat = np.tile(d["lat"], copies) + (rep // side) * 0.09
    lng = np.tile(d["lng"], copies) + (rep % side) * 0.108
    building = np.tile(d["building"], copies) + rep * (int(d["building"].max()) + 1)
    streets = np.array([f"{s} {r}" if s else "" for r in range(copies) for s in d["street"].tolist()], dtype=object)
    number = np.tile(d["number"], copies)
    lat, lng, building, streets, number, rep = (a[:rows] for a in (lat, lng, building, streets, number, rep))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, object] = {"doors": int(len(lat)), "replicas": copies, "rss_universe_mb": base}
    for name, district in (("per_replica", rep.astype(np.int64)), ("one_district", np.full(len(lat), -1, np.int64))):
        doors = CutDoors(lat=lat, lng=lng, building=building, street=streets, number=number, district=district)
        started, cpu = time.perf_counter(), time.process_time()
        result = cut_universe(doors, target)
        out[name] = {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "seconds_polygons": result.seconds_polygons,
            "turfs": len(result.turfs),
            "in_pieces": result.turfs_in_pieces,
            "min": result.size_min,
            "max": result.size_max,
            "cv": result.cv,
            "faces_split": result.block_faces_split / max(result.block_faces, 1),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        del result, doors
    print(json.dumps(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", type=int, default=60)
    parser.add_argument("--million", type=int, default=1_000_000, help="doors in the synthetic universe (0: skip)")
    parser.add_argument("--skip-constrained", action="store_true", help="skip k-means-constrained (slow)")
    parser.add_argument("--synthetic-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.synthetic_child:
        synthetic(args.synthetic_child, args.target)
        return
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {len(__import__('os').sched_getaffinity(0))} cores, "
        f"{cpu}, Python {platform.python_version()}, numpy {np.__version__}, shapely {shapely.__version__}"
    )
    venice(args.target, args.skip_constrained)
    if args.million:
        child = subprocess.run(
            [sys.executable, __file__, "--synthetic-child", str(args.million), "--target", str(args.target)],
            capture_output=True,
            text=True,
            check=True,
        )
        out = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"Synthetic: {out['doors']:,} doors (Venice × {out['replicas']}), target {args.target}; "
            f"peak RSS (ru_maxrss of the child process) after building the universe: {out['rss_universe_mb']:.0f} MB"
        )
        for name, label in (
            ("per_replica", f"{out['replicas']} districts (one per replica)"),
            ("one_district", "one district"),
        ):
            m = out[name]
            print(
                f"- {label}: {m['seconds']:.1f} s (CPU {m['cpu_seconds']:.1f} s; "
                f"polygons {m['seconds_polygons']:.1f} s), "
                f"{m['turfs']:,} turfs of {m['min']}..{m['max']} doors, "
                f"CV {m['cv']:.3f}, {100 * m['faces_split']:.1f} % of block faces split, "
                f"{m['in_pieces']} turfs in pieces on the map, "
                f"peak RSS so far {m['peak_rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
