"""Rows without a location (a voter file) that name a loaded door in other words.

A voter export writes the addresses of the doors already loaded from the
address points, but not always in the points' words: "3719 Esplanade" for
3719 ESPLANADE WEST, "12 S Venice Blvd" for 12 VENICE BLVD, "825 1/2 Pch"
(which usaddress cannot read), no zip, a unit the points do not list. After
the exact keys and the aliases (door_aliases.match_by_alias), such a row is
compared with the loaded doors of the same house number and fraction
(addresses.street_fit): the street's name words must be the same; a
directional or a street type may be missing on one side, never different.

- Exactly one loaded door fits: the row lands on it, and the report says how
  ("post-directional W missing").
- More than one fits: the row is ambiguous. It is reported and skipped: its
  people are not imported, and it never makes a door.
- None fits: a row usaddress could read becomes a new door as before (it is
  reported as not among the loaded doors); a row it could not read is skipped
  with the reason.

Nothing is guessed silently: every row not matched exactly is listed in
report.matches (imported) or report.problems (skipped).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from turf import addresses as addr
from turf.importers.base import ImportProblem, ImportReport
from turf.importers.door_aliases import AliasResult
from turf.importers.door_rows import DoorRow, PersonRow
from turf.importers.door_writing import ExistingDoor

_SHOWN_CANDIDATES = 4


@dataclass(frozen=True)
class _Candidate:
    door_key: str  # the door's address key (an alias points at its door)
    spelling: str  # the loaded key this candidate was made from
    pre_dir: str
    name: tuple[str, ...]
    street_type: str
    post_dir: str
    unit: str
    zip: str


@dataclass
class MatchResult:
    loose: int = 0  # rows placed on a loaded door by a loose match
    ambiguous: int = 0  # rows skipped: more than one loaded door fits
    unreadable: int = 0  # rows skipped: unreadable and no loaded door fits
    not_found: int = 0  # rows without location that fit no loaded door (new doors)
    matched_keys: set[str] = field(default_factory=set)


def _candidates(existing: dict[str, ExistingDoor], aliases: dict[str, str]) -> dict[tuple[str, str], list[_Candidate]]:
    index: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
    for spelling, door_key in [*((k, k) for k in existing), *aliases.items()]:
        if door_key not in existing:
            continue
        parts = spelling.split("|")
        if len(parts) != 8:
            continue
        number, suffix, pre, name, type_, post, unit, zip_code = parts
        route = addr.route_canonical_street(name, type_)
        if route is not None:
            name, type_ = route
        words = tuple(addr.match_token(w) for w in name.split())
        index[(number, suffix)].append(_Candidate(door_key, spelling, pre, words, type_, post, unit, zip_code))
    return index


def _shown(key: str) -> str:
    """An address key as an organizer reads it: "3719 ESPLANADE W 90291"."""
    parts = key.split("|")
    if len(parts) != 8:
        return key
    number, suffix, pre, name, type_, post, unit, zip_code = parts
    words = [number, suffix, pre, name, type_, post, f"# {unit}" if unit else "", zip_code]
    return " ".join(w for w in words if w)


def _where(door: DoorRow, lines: dict[str, list[int]], key: str) -> str:
    found = sorted({door.line, *lines.get(key, ())})
    shown = ", ".join(str(n) for n in found[:5])
    more = f" (+{len(found) - 5} more)" if len(found) > 5 else ""
    return f"line {shown}{more}" if len(found) == 1 else f"lines {shown}{more}"


def _fits(door: DoorRow, index: dict[tuple[str, str], list[_Candidate]]) -> dict[str, list[str]]:
    """Door key -> the differences of its best-fitting spelling, for every loaded door that fits."""
    number, suffix, pre, name, type_, post, _unit_type, unit, _city, _state, zip_code = door.parts
    row = addr.street_tokens(pre, name, type_, post)
    fitting: list[tuple[_Candidate, list[str]]] = []
    for candidate in index.get((number, suffix), ()):
        differences = addr.street_fit(row, candidate.pre_dir, candidate.name, candidate.street_type, candidate.post_dir)
        if differences is not None:
            fitting.append((candidate, differences))
    if not fitting:
        return {}
    same_unit = [(c, d) for c, d in fitting if c.unit == unit]
    if same_unit:
        fitting = same_unit
    elif unit and all(not c.unit for c, _ in fitting):
        # The points list this address without units: the voter's apartment is behind its door.
        fitting = [(c, [*d, f"unit {unit} is not among the loaded doors: the address's door"]) for c, d in fitting]
    else:
        return {}
    if zip_code:
        same_zip = [(c, d) for c, d in fitting if c.zip == zip_code]
        if same_zip:
            fitting = same_zip
        else:
            fitting = [(c, [*d, f"zip {zip_code} differs from the loaded {c.zip or 'none'}"]) for c, d in fitting]
    else:
        fitting = [(c, [*d, "no zip given"]) for c, d in fitting]
    # A door whose spelling fits word for word wins over doors that fit only with a
    # part missing: the street as written exists.
    street_exact = [
        (c, d) for c, d in fitting if not any(x.startswith(("extra ", "pre-", "street ", "post-")) for x in d)
    ]
    if street_exact:
        fitting = street_exact
    best: dict[str, list[str]] = {}
    for candidate, differences in fitting:
        if candidate.door_key not in best or len(differences) < len(best[candidate.door_key]):
            best[candidate.door_key] = differences
    return best


def match_loosely(
    doors: dict[str, DoorRow],
    people: list[PersonRow],
    existing: dict[str, ExistingDoor],
    aliases: dict[str, str],
    spelled: AliasResult,
    report: ImportReport,
) -> MatchResult:
    """Match the rows without location that no exact key or alias found (in place); see the module docstring.

    Matched rows are dropped from `doors` and their people moved to the loaded
    door; ambiguous and unreadable-unmatched rows are dropped with their people.
    """
    result = MatchResult()
    lines: dict[str, list[int]] = defaultdict(list)
    rows_of: dict[str, int] = defaultdict(int)
    for person in people:
        lines[person.door_key].append(person.line)
        rows_of[person.door_key] += 1
    for door, target in spelled.route_matches:
        key = "|".join(door.parts[i] for i in (0, 1, 2, 3, 4, 5, 7, 10))
        report.matches.append(
            ImportProblem(
                _where(door, lines, key), f"{_shown(key)}: matched {_shown(target)} (the route written another way)"
            )
        )
    index: dict[tuple[str, str], list[_Candidate]] | None = None
    redirect: dict[str, str] = {}
    dropped: set[str] = set()
    for key, door in list(doors.items()):
        if key in existing or door.aliases or (door.lat is not None and not door.unread):
            continue
        if not existing:
            if door.unread:
                report.problems.append(ImportProblem(_where(door, lines, key), door.unread))
                dropped.add(key)
                del doors[key]
            continue
        if index is None:
            index = _candidates(existing, aliases)
        fits = _fits(door, index)
        rows = max(rows_of.get(key, 0), 1)
        where = _where(door, lines, key)
        if len(fits) == 1:
            target, differences = next(iter(fits.items()))
            how = "; ".join(differences) or "the same street written otherwise"
            if door.unread:
                how = f"read word by word (usaddress could not: {door.unread}); {how}"
            report.matches.append(ImportProblem(where, f"{_shown(key)}: matched {_shown(target)} ({how})"))
            redirect[key] = target
            result.loose += rows
            del doors[key]
            survivor = doors.get(target)
            if survivor is not None:
                survivor.source_ids.extend(i for i in door.source_ids if i not in survivor.source_ids)
        elif len(fits) > 1:
            shown = "; ".join(_shown(k) for k in sorted(fits)[:_SHOWN_CANDIDATES])
            more = f" and {len(fits) - _SHOWN_CANDIDATES} more" if len(fits) > _SHOWN_CANDIDATES else ""
            report.problems.append(
                ImportProblem(
                    where,
                    f"{_shown(key)} is ambiguous: {len(fits)} loaded doors fit it ({shown}{more}); "
                    "not placed, no door made",
                )
            )
            result.ambiguous += rows
            dropped.add(key)
            del doors[key]
        elif door.unread:
            report.problems.append(ImportProblem(where, f"{door.unread}; no loaded door fits it either"))
            result.unreadable += rows
            dropped.add(key)
            del doors[key]
        else:
            report.matches.append(
                ImportProblem(where, f"{_shown(key)}: not among the loaded doors, imported as a new door")
            )
            result.not_found += rows
    if redirect or dropped:
        kept = []
        for person in people:
            if person.door_key in dropped:
                continue
            person.door_key = redirect.get(person.door_key, person.door_key)
            kept.append(person)
        people[:] = kept
    result.matched_keys = set(redirect.values())
    return result
