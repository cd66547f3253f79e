"""Street-name aliases: spellings of one physical door under several street names.

The LA address points give one door under several street names (every Lincoln
Blvd address also as PCH, SR-1 and 1; every Venice Blvd one also as SR-187
and 187; a few canal-side points under two walk names): the same point, house
number, fraction and unit. Such rows are one door. The spelling its columns
hold (what walk lists and exports show) is the first in the file whose street
name is not a route designation (turf/addresses.py is_route_name; the pattern
is settings.DOOR_ROUTE_STREET_NAMES where set), unless an organizer pinned
another (turf/services.py door_display_spelling_set); the others become
DoorAlias rows.

A file row without a location (a voter file) that names a door by an alias,
or by another way of writing a route ("Pacific Coast Hwy", "State Route 1"),
lands on that door: it is matched through the aliases, never made a new door.

An organization imported before this rule has a door per spelling; a
re-import merges them (turf/services.py doors_merge: people, knocks and turf
memberships move to the surviving door, audited and logged for phones).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from fieldops.models import Organization
from turf import addresses as addr
from turf.importers.door_rows import DoorRow, PersonRow
from turf.importers.door_writing import ExistingDoor
from turf.models import Door, DoorAlias
from turf.services import DoorsMerged, doors_merge

_CHUNK = 500  # keys per IN (...) query (SQLite's 999 parameters)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _street(door: DoorRow) -> tuple[str, str, str, str]:
    parts = door.parts
    return parts[2], parts[3], parts[4], parts[5]


def display_rank(street_name: str, street_type: str) -> int:
    """0 for a local street name, 1 for a route designation (shown last)."""
    pattern = getattr(settings, "DOOR_ROUTE_STREET_NAMES", None) or None
    return 1 if addr.is_route_name(street_name, street_type, pattern) else 0


@dataclass
class AliasResult:
    groups: int = 0  # doors with more than one spelling in the file
    aliases: int = 0  # spellings folded into another door
    matched_by_alias: int = 0  # rows that named a known door by an alias
    # Rows matched through a route written another way ("PACIFIC COAST HWY" for
    # "PCH"): (the row, the key of the door it landed on), reported by door_matching.
    route_matches: list[tuple[DoorRow, str]] = field(default_factory=list)
    merged: DoorsMerged = field(default_factory=DoorsMerged)


def group_spellings(doors: dict[str, DoorRow], people: list[PersonRow], pinned: set[str], result: AliasResult) -> None:
    """Fold the spellings of one point, number, fraction and unit into one DoorRow (in place).

    Rows without a location are left alone: with no point they cannot be told
    apart from a different house of the same number on another street.
    """
    first: dict[tuple[float, float, str, str, str], str] = {}
    groups: dict[str, list[str]] = {}
    for key, door in doors.items():
        if door.lat is None or door.lng is None:
            continue
        parts = door.parts
        point = (door.lat, door.lng, parts[0], parts[1], parts[7])
        head = first.setdefault(point, key)
        if head is not key:
            groups.setdefault(head, [head]).append(key)
    if not groups:
        return
    redirect: dict[str, str] = {}
    for keys in groups.values():
        ranked = sorted(
            keys,
            key=lambda k: (k not in pinned, display_rank(doors[k].parts[3], doors[k].parts[4]), doors[k].line),
        )
        primary = doors[ranked[0]]
        primary.aliases = []
        for key in ranked[1:]:
            other = doors.pop(key)
            primary.aliases.append((key, _street(other)))
            primary.source_ids.extend(i for i in other.source_ids if i not in primary.source_ids)
            if not primary.building_id and other.building_id:
                primary.building_id = other.building_id
            redirect[key] = ranked[0]
        result.groups += 1
        result.aliases += len(ranked) - 1
    for person in people:
        person.door_key = redirect.get(person.door_key, person.door_key)


def known_aliases(organization: Organization) -> dict[str, str]:
    """Alias key -> the address key of its door, for the organization."""
    return dict(
        DoorAlias.objects.filter(organization=organization)
        .values_list("address_key", "door__address_key")
        .iterator(chunk_size=20_000)
    )


def match_by_alias(
    doors: dict[str, DoorRow],
    people: list[PersonRow],
    existing: dict[str, ExistingDoor],
    aliases: dict[str, str],
    result: AliasResult,
) -> set[str]:
    """Rows that name a known door by another spelling land on that door (in place).

    Exact alias keys first, then the key with its route written one way
    ("PACIFIC COAST HWY" = "PCH", "STATE ROUTE 1" = "SR-1") when exactly one
    door answers to it. Such a row does not change the door's spelling: its
    people move to the door, and the row itself is dropped (the door is
    counted as in the file). Returns the keys of the doors so matched.
    """
    routes: dict[str, set[str]] | None = None
    redirect: dict[str, str] = {}
    for key, door in list(doors.items()):
        if key in existing or door.aliases:
            continue
        target = aliases.get(key)
        if target is None:
            canonical = addr.route_canonical_key(key)
            if canonical is None:
                continue
            if routes is None:
                routes = {}
                for known, door_key in [*((k, k) for k in existing), *aliases.items()]:
                    c = addr.route_canonical_key(known)
                    if c is not None:
                        routes.setdefault(c, set()).add(door_key)
            found = routes.get(canonical, set())
            if len(found) != 1:
                continue
            target = next(iter(found))
            if target in existing:
                result.route_matches.append((door, target))
        if target not in existing:
            continue
        del doors[key]
        redirect[key] = target
        survivor = doors.get(target)
        if survivor is not None:
            survivor.source_ids.extend(i for i in door.source_ids if i not in survivor.source_ids)
    for person in people:
        person.door_key = redirect.get(person.door_key, person.door_key)
    result.matched_by_alias += len(redirect)
    return set(redirect.values())


def merge_alias_doors(
    organization: Organization,
    doors: dict[str, DoorRow],
    existing: dict[str, ExistingDoor],
    aliases: dict[str, str],
    result: AliasResult,
) -> bool:
    """Doors of the database that the file says are one: merged into one each.

    The survivor is the door under the file's chosen spelling where there is
    one, else the oldest; it takes that spelling (its key is renamed). Returns
    whether anything was written (the caller re-reads the existing doors).
    """
    merges: dict[int, list[int]] = {}
    renames: dict[int, str] = {}
    stale_alias_keys: list[str] = []
    for key, door in doors.items():
        if not door.aliases:
            continue
        spellings = [key, *(k for k, _ in door.aliases)]
        ids: list[int] = []
        for k in spellings:
            if k in existing:
                ids.append(existing[k].id)
            elif k in aliases and aliases[k] in existing:
                ids.append(existing[aliases[k]].id)
        ids = sorted(set(ids))
        if not ids:
            continue
        survivor = existing[key].id if key in existing else ids[0]
        if key not in existing:
            renames[survivor] = key
            stale_alias_keys.append(key)
        others = [i for i in ids if i != survivor]
        if others:
            merges[survivor] = others
    if not merges and not renames:
        return False
    if merges:
        result.merged = doors_merge(
            organization=organization, merges=merges, reason="street-name aliases of one door (re-import)"
        )
    for chunk in _chunks(stale_alias_keys):
        DoorAlias.objects.filter(organization=organization, address_key__in=chunk).delete()
    for pk, key in renames.items():
        # The file's spelling: write_doors then updates the street columns to it.
        Door.objects.filter(pk=pk).update(address_key=key)
    return True


def write_aliases(organization: Organization, doors: dict[str, DoorRow]) -> int:
    """Write the aliases of this file's doors (after the doors): replaced by key, others kept."""
    with_aliases = [key for key, door in doors.items() if door.aliases]
    if not with_aliases:
        return 0
    ids: dict[str, int] = {}
    for chunk in _chunks(with_aliases):
        ids.update(
            Door.objects.filter(organization=organization, address_key__in=chunk).values_list("address_key", "id")
        )
    rows = [
        DoorAlias(
            organization=organization,
            door_id=ids[key],
            address_key=alias_key,
            pre_dir=street[0],
            street_name=street[1],
            street_type=street[2],
            post_dir=street[3],
        )
        for key in with_aliases
        for alias_key, street in doors[key].aliases or ()
    ]
    keys = [row.address_key for row in rows]
    for chunk in _chunks(keys):
        DoorAlias.objects.filter(organization=organization, address_key__in=chunk).delete()
    DoorAlias.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def pinned_keys(existing: dict[str, ExistingDoor]) -> set[str]:
    """Keys of doors whose spelling an organizer chose (door_display_spelling_set)."""
    return {
        key
        for key, door in existing.items()
        if '"display_pinned"' in door.extra and door.extra_dict().get("display_pinned")
    }
