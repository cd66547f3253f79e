"""A realistic VAN-style voter export of Venice, with the true door of every row known.

Built from data/la/venice_addresses.csv (pure: no Django). One physical door
(point, house number, fraction, unit) is one house; each gets one to three
voters, its address written the way voters and VAN write it: single line,
title case (sometimes upper case), USPS abbreviations or full street types,
fractions ("17 1/2 26th Pl"), directionals abbreviated, spelled out or left
out ("3719 Esplanade" for 3719 ESPLANADE WEST), Lincoln Blvd also as "Pch",
"Sr-1", "Pacific Coast Hwy" or "Hwy 1", Venice Blvd now and then as "Sr-187",
some with a unit ("Apt 3", "# 3", "Unit 3"; the points list no units, so the
true door is the address's), some without zip. A few rows carry a typo in
the street name: they name no door (their truth is None) and must not be matched.

Used by tests/turf/test_voter_matching.py and benchmarks/voter_match.py.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from turf import addresses as addr

if TYPE_CHECKING:
    from fieldops.models import Organization
    from turf.importers.base import ImportReport

LA = Path(__file__).resolve().parents[2] / "data" / "la"
HEADER = ["VANID", "FirstName", "LastName", "Address", "City", "State", "Zip5"]
VAN_COLUMNS = "voter_id=VANID,first_name=FirstName,last_name=LastName,address=Address,city=City,state=State,zip=Zip5"
_FIRST = ["Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kim", "Luis"]
_LAST = ["Lopez", "Nguyen", "Smith", "Garcia", "Kim", "Cohen", "Okafor", "Silva", "Patel", "Rossi"]
_FULL_DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West"}
_FULL_TYPES = {abbr: variants[0] for abbr, variants in addr._SUFFIX_VARIANTS.items() if variants}


@dataclass(frozen=True)
class Point:
    """One physical door: every spelling of it in the points file."""

    number: str
    number_suffix: str
    zip: str
    spellings: tuple[tuple[str, str, str, str], ...]  # normalized (pre, name, type, post)

    @property
    def key(self) -> str:
        """The address key of its first non-route spelling (any spelling finds the door)."""
        pre, name, type_, post = self.local
        return "|".join((self.number, self.number_suffix, pre, name, type_, post, "", self.zip))

    @property
    def local(self) -> tuple[str, str, str, str]:
        plain = [s for s in self.spellings if not addr.is_route_name(s[1], s[2])]
        return (plain or list(self.spellings))[0]


def venice_points(path: Path = LA / "venice_addresses.csv") -> list[Point]:
    """The physical doors of the Venice points, in file order (rows without a street left out)."""
    groups: dict[tuple[str, ...], list[tuple[str, str, str, str]]] = defaultdict(list)
    info: dict[tuple[str, ...], tuple[str, str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["street_name"].strip():
                continue
            a = addr.normalize_address(
                number=row["number"],
                number_suffix=row["number_suffix"],
                pre_dir=row["pre_dir"],
                street_name=row["street_name"],
                street_type=row["street_type"],
                post_dir=row["post_dir"],
                zip=row["zip"],
            )
            point = (row["lon"], row["lat"], a.number, a.number_suffix, row["unit"])
            spelling = (a.pre_dir, a.street_name, a.street_type, a.post_dir)
            if spelling not in groups[point]:
                groups[point].append(spelling)
            info.setdefault(point, (a.number, a.number_suffix, a.zip))
    return [Point(*info[p], spellings=tuple(s)) for p, s in groups.items()]


def _title(word: str) -> str:
    return word if any(c.isdigit() for c in word) and not word[0].isdigit() else word.capitalize()


def _street_text(rng: random.Random, point: Point) -> str:
    pre, name, type_, post = point.local
    routes = {s[1] for s in point.spellings if addr.is_route_name(s[1], s[2])}
    if "PCH" in routes and rng.random() < 0.5:
        return rng.choice(["Pch", "Sr-1", "Pacific Coast Hwy", "Pacific Coast Highway", "Hwy 1", "PCH"])
    if "SR-187" in routes and rng.random() < 0.05:
        return rng.choice(["Sr-187", "SR-187"])
    words: list[str] = []
    if pre:
        r = rng.random()
        if r < 0.6:
            words.append(pre)
        elif r < 0.85:
            words.append(_FULL_DIRECTIONS.get(pre, pre))
    words += [_title(w) for w in name.split()]
    if type_:
        r = rng.random()
        if r < 0.75:
            words.append(type_.capitalize())
        elif r < 0.97:
            words.append(_FULL_TYPES.get(type_, type_).capitalize())
    if post:
        r = rng.random()
        if r < 0.3:
            words.append(post)
        elif r < 0.5:
            words.append(_FULL_DIRECTIONS.get(post, post))
    return " ".join(words)


def _typo(rng: random.Random, text: str, known: set[str]) -> str | None:
    """The street with one letter dropped or two swapped, if that names no known street."""
    for _ in range(10):
        words = text.split()
        i = max(range(len(words)), key=lambda j: len(words[j]) if words[j].isalpha() else 0)
        word = words[i]
        if len(word) < 4 or not word.isalpha():
            return None
        j = rng.randrange(1, len(word) - 1)
        word = word[:j] + word[j + 1 :] if rng.random() < 0.5 else word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        if word.upper() in known or word == words[i]:
            continue
        words[i] = word
        return " ".join(words)
    return None


def voter_export(
    points: list[Point], *, doors: int | None = None, seed: int = 15, typo_share: float = 0.005
) -> tuple[bytes, dict[str, str | None]]:
    """(the CSV, VANID -> the address key of the voter's true door, None for a typo row)."""
    rng = random.Random(seed)
    chosen = points if doors is None or doors >= len(points) else rng.sample(points, doors)
    known = {w for p in points for s in p.spellings for w in s[1].split()}
    # Spellings of every point by house number: a voter row that leaves out a part
    # must not spell another point's address exactly (that row names the other door;
    # no importer could tell), so such a row is written in full.
    others: dict[tuple[str, str], set[tuple[str, str, str, str]]] = defaultdict(set)
    for p in points:
        others[(p.number, p.number_suffix)].update(p.spellings)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    truth: dict[str, str | None] = {}
    van_id = 100000
    for point in chosen:
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            van_id += 1
            street = _street_text(rng, point)
            if others[(point.number, point.number_suffix)] - set(point.spellings):
                try:
                    written = addr.parse_one_line(f"{point.number} {street}")
                except ValueError:
                    written = None
                spelled = written and (written.pre_dir, written.street_name, written.street_type, written.post_dir)
                if (
                    spelled
                    and spelled not in point.spellings
                    and spelled in others[(point.number, point.number_suffix)]
                ):
                    pre, name, type_, post = point.local
                    street = " ".join(_title(w) for w in (pre, *name.split(), type_, post) if w)
            true_key: str | None = point.key
            if rng.random() < typo_share:
                typo = _typo(rng, street, known)
                if typo is not None:
                    street, true_key = typo, None
            number = f"{point.number} {point.number_suffix}" if point.number_suffix else point.number
            text = f"{number} {street}"
            if rng.random() < 0.05:
                text += rng.choice([" Apt 3", " # 3", " Unit 3", " #3", " Apt 12B"])
            if rng.random() < 0.15:
                text = text.upper()
            zip_code = point.zip if rng.random() < 0.9 else ""
            city = rng.choice(["Venice", "Venice", "Los Angeles", "VENICE"])
            writer.writerow([str(van_id), rng.choice(_FIRST), rng.choice(_LAST), text, city, "CA", zip_code])
            truth[str(van_id)] = true_key
    return out.getvalue().encode(), truth


@dataclass
class Placement:
    """Where the rows of an imported voter export landed, against their true doors."""

    valid: int = 0  # rows with a true door
    right: int = 0  # placed at the true door
    wrong: int = 0  # placed at another loaded door: must be 0
    ambiguous: int = 0  # reported ambiguous, not placed
    new_door: int = 0  # not found among the loaded doors: made a new door
    skipped: int = 0  # reported and skipped for another reason
    typos: int = 0  # rows with a typo (no true door)
    typos_on_loaded_door: int = 0  # typo rows placed on a loaded door: must be 0
    wrong_lines: list[int] = field(default_factory=list)  # file lines placed wrongly

    @property
    def right_share(self) -> float:
        return self.right / self.valid if self.valid else 0.0


def placement(
    organization: Organization, truth: dict[str, str | None], loaded_ids: set[int], report: ImportReport
) -> Placement:
    """Compare the people of an import with the truth (needs Django and the database).

    `loaded_ids` are the door ids before the voter import; `report` its ImportReport.
    """
    from turf.models import Door, DoorAlias, Person  # noqa: PLC0415 - the generator itself is pure

    door_of_key = dict(Door.objects.filter(organization=organization).values_list("address_key", "id"))
    door_of_key.update(DoorAlias.objects.filter(organization=organization).values_list("address_key", "door_id"))
    person_door = dict(
        Person.objects.filter(organization=organization, external_voter_id__in=list(truth)).values_list(
            "external_voter_id", "door_id"
        )
    )
    ambiguous_lines: set[int] = set()
    for problem in report.problems:
        if "ambiguous" in problem.message:
            numbers = problem.where.replace("lines", "").replace("line", "").split("(")[0]
            ambiguous_lines.update(int(n) for n in numbers.split(",") if n.strip().isdigit())
    result = Placement()
    for line, (van_id, key) in enumerate(truth.items(), start=2):
        door = person_door.get(van_id)
        if key is None:
            result.typos += 1
            result.typos_on_loaded_door += door in loaded_ids
            if door in loaded_ids:
                result.wrong_lines.append(line)
            continue
        result.valid += 1
        if door is None:
            if line in ambiguous_lines:
                result.ambiguous += 1
            else:
                result.skipped += 1
        elif door == door_of_key.get(key):
            result.right += 1
        elif door in loaded_ids:
            result.wrong += 1
            result.wrong_lines.append(line)
        else:
            result.new_door += 1
    return result
