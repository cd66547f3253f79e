"""A synthetic voter file for the Venice demo doors (pure: no Django).

Nobody in it is a real person: first and last names are drawn from the short
lists below, VAN ids are counted up from VAN_ID_START, birth years and parties
are drawn at random. Each physical door of data/la/venice_addresses.csv (one
point, house number, fraction and unit: the street-name aliases of a door are
the same door) gets 0 to 3 voters; the seed makes the file the same on every
run, so importing it again updates nobody.

The file keeps every column of the address file, so the door importer reads
each door exactly as the demo loaded it (nothing changes on the doors) and
adds the people: the demo imports voters the way a chapter imports its VAN
export (docs/importing.md).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

VAN_ID_START = 100_000_001
SEED = 2026
# How many voters a door has: none (a vacant or unregistered household) to three.
VOTERS_PER_DOOR = ((0, 15), (1, 35), (2, 35), (3, 15))
PARTIES = (("DEM", 50), ("NPP", 25), ("REP", 15), ("GRN", 4), ("LIB", 3), ("AIP", 3))
FIRST_NAMES = (
    "Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal",
    "Kim", "Luis", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tariq",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Diego",
    "Esther", "Felix", "Gloria", "Hassan", "Irene", "Jorge", "Keiko", "Leon", "Marisol", "Nina",
)  # fmt: skip
LAST_NAMES = (
    "Lopez", "Nguyen", "Smith", "Garcia", "Kim", "Cohen", "Okafor", "Silva", "Patel", "Rossi",
    "Hernandez", "Johnson", "Tanaka", "Martinez", "Brown", "Rivera", "Chen", "Davis", "Flores", "Wilson",
    "Reyes", "Walker", "Morales", "Park", "Ortiz", "Young", "Castillo", "Ali", "Baker", "Vargas",
)  # fmt: skip
PERSON_COLUMNS = ("voter_id", "first_name", "last_name", "birth_year", "party")


def _pick(rng: random.Random, weighted: tuple[tuple[object, int], ...]) -> object:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def voter_rows(addresses: Path, *, seed: int = SEED) -> Iterator[list[str]]:
    """The voter file's rows (header first): each address row as it is, once per
    voter of its door (once with empty voter columns for a door without one);
    the repeats without the address id, which the importer would list twice."""
    rng = random.Random(seed)
    next_id = VAN_ID_START
    seen: set[tuple[str, ...]] = set()
    with addresses.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        ix = {name: i for i, name in enumerate(header)}
        yield [*header, *PERSON_COLUMNS]
        for row in reader:
            if not row[ix["street_name"]].strip():
                continue  # no street: the importer skips it (and says so on the demo's first load)
            door = tuple(row[ix[name]] for name in ("lon", "lat", "number", "number_suffix", "unit"))
            if door in seen:  # another spelling of a door already given its voters
                yield [*row, "", "", "", "", ""]
                continue
            seen.add(door)
            count = int(_pick(rng, VOTERS_PER_DOOR))  # type: ignore[call-overload]
            if count == 0:
                yield [*row, "", "", "", "", ""]
                continue
            family = rng.choice(LAST_NAMES)
            for n in range(count):
                if n == 1:  # the door's source id once: the importer lists each row's id on the door
                    row = [*row]
                    row[ix["address_id"]] = ""
                # Most households share a last name; some do not.
                last = family if rng.random() < 0.7 else rng.choice(LAST_NAMES)
                birth_year = rng.randint(1940, 2007)
                yield [*row, str(next_id), rng.choice(FIRST_NAMES), last, str(birth_year), str(_pick(rng, PARTIES))]
                next_id += 1


def write_voter_file(addresses: Path, out: TextIO, *, seed: int = SEED) -> int:
    """Write the voter file to `out`; returns how many voters it lists.

    The csv module's own writer, not fieldops.csv_safety's: no spreadsheet opens
    this file, only the door importer, which must read the source's cells as they
    are (a longitude like -118.47 would come back as the text "'-118.47")."""
    writer = csv.writer(out)
    rows = voter_rows(addresses, seed=seed)
    writer.writerow(next(rows))
    voters = 0
    for row in rows:
        writer.writerow(row)
        voters += bool(row[-5])
    return voters
