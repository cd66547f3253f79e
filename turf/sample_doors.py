"""The LA address points (data/la/venice_addresses.csv) as arrays for turf cutting
and walk planning, without a database (pure: no Django). Used by the tests of
turf/cutting.py and turf/walk_order.py and by benchmarks/turf_cut.py.

Rows are merged into doors on the normalized address key, as the door importer
does (15,413 doors from 16,159 rows; the first row of an address gives its
location), and grouped into buildings by the importer's building key: the
file's building outline id, else the location to 7 decimals.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from turf import addresses as addr

VENICE_CSV = Path(__file__).resolve().parent.parent / "data" / "la" / "venice_addresses.csv"


def load_doors(path: Path = VENICE_CSV) -> dict[str, np.ndarray]:
    """Arrays: lat, lng (float64), building (int64 codes), street (object, normalized
    "S ABBOT KINNEY BLVD"), number (int64, -1 when not a plain number), unit (object)."""
    seen: dict[str, int] = {}
    lat: list[float] = []
    lng: list[float] = []
    building_keys: list[str] = []
    street: list[str] = []
    number: list[int] = []
    unit: list[str] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            a = addr.normalize_address(
                number=row["number"],
                number_suffix=row["number_suffix"],
                pre_dir=row["pre_dir"],
                street_name=row["street_name"],
                street_type=row["street_type"],
                post_dir=row["post_dir"],
                unit_type=row["unit_type"],
                unit=row["unit"],
                zip=row["zip"],
            )
            key = a.address_key
            if key in seen:
                continue
            seen[key] = len(lat)
            y, x = float(row["lat"]), float(row["lon"])
            lat.append(y)
            lng.append(x)
            building_keys.append(f"b:{row['building_id']}" if row["building_id"] else f"p:{x:.7f},{y:.7f}")
            street.append(a.street_key)
            number.append(int(a.number) if a.number.isdigit() else -1)
            unit.append(a.unit)
    codes: dict[str, int] = {}
    building = np.array([codes.setdefault(k, len(codes)) for k in building_keys], dtype=np.int64)
    return {
        "lat": np.array(lat, dtype=np.float64),
        "lng": np.array(lng, dtype=np.float64),
        "building": building,
        "street": np.array(street, dtype=object),
        "number": np.array(number, dtype=np.int64),
        "unit": np.array(unit, dtype=object),
    }
