"""Writing the doors and people of a file: new doors inserted, changed ones updated, in bulk
(COPY on PostgreSQL), compared with what the database holds through one digest per door."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from fieldops.models import Organization
from turf.bulk import COPY_NULL, bulk_insert, copy_lines, copy_text_line, foreign_keys_checked_per_statement
from turf.districting import door_locations
from turf.importers.base import ProgressCallback
from turf.importers.door_columns import ADDRESS_FIELDS
from turf.importers.door_rows import DEFAULT_STATE, PROGRESS_EVERY_ROWS, DoorRow, PersonRow
from turf.models import Door, Person

_DOOR_COLUMNS = ("building_key", *ADDRESS_FIELDS, "lat", "lng", "geocode_quality", "source", "source_id", "extra")


# The door's string columns, compared through one digest (see ExistingDoor).
_DIGEST_COLUMNS = ("building_key", *ADDRESS_FIELDS, "source", "source_id")


def _digest(strings: Iterable[str]) -> bytes:
    return hashlib.blake2b("\x1f".join(strings).encode(), digest_size=16).digest()


class ExistingDoor(NamedTuple):
    """A door already in the database, as little of it as a re-import needs.

    A million of these are held at once: the fourteen string columns are one
    128-bit digest (changed or not is all the import asks of them), the JSON
    stays text until compared. 0.4 KB a door, against 1.8 KB for the row.
    """

    id: int
    lat: float | None
    lng: float | None
    quality: str
    extra: str  # JSON text
    digest: bytes  # of _DIGEST_COLUMNS

    def extra_dict(self) -> dict[str, Any]:
        return json.loads(self.extra) if self.extra else {}


def existing_doors(organization: Organization) -> dict[str, ExistingDoor]:
    rows = (
        Door.objects.filter(organization=organization)
        .annotate(extra_text=Cast("extra", TextField()))
        .values_list("address_key", "id", "lat", "lng", "geocode_quality", "extra_text", *_DIGEST_COLUMNS)
        .iterator(chunk_size=20_000)
    )
    qualities: dict[str, str] = {}
    return {
        row[0]: ExistingDoor(row[1], row[2], row[3], qualities.setdefault(row[4], row[4]), row[5], _digest(row[6:]))
        for row in rows
    }


def assign_building_keys(doors: dict[str, DoorRow]) -> int:
    """Set the building key of every door (see Door.building_key); returns how many distinct keys.

    A door with neither an outline id nor a location keeps an empty key:
    there is nothing to group it on.
    """
    keys: set[str] = set()
    for door in doors.values():
        if door.building_id:
            key = f"b:{door.building_id}"
        elif door.lat is not None:
            key = f"p:{door.lng:.7f},{door.lat:.7f}"
        else:
            continue
        door.building_key = key
        keys.add(key)
    return len(keys)


def write_doors(
    organization: Organization,
    doors: dict[str, DoorRow],
    existing: dict[str, ExistingDoor],
    progress: ProgressCallback,
    touched: set[int],
) -> tuple[int, int, int, list[int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Insert new doors, update changed ones (their ids are added to `touched`).

    Returns (created, updated, unchanged, ids of existing doors that moved,
    (ids, lngs, lats) of the new doors that have a location).
    """
    now = timezone.now()
    postgres = connection.vendor == "postgresql"
    lat_at = _DOOR_COLUMNS.index("lat")
    quality_at = _DOOR_COLUMNS.index("geocode_quality")
    digest_at = [_DOOR_COLUMNS.index(name) for name in _DIGEST_COLUMNS]
    lng_at = _DOOR_COLUMNS.index("lng")
    extra_at = _DOOR_COLUMNS.index("extra")
    max_id = max((e.id for e in existing.values()), default=0)
    new_keys: list[str] = []
    updates: list[tuple[Any, ...]] = []
    moved: list[int] = []
    unchanged = 0

    def values(door: DoorRow, old_extra: dict[str, Any] | None) -> tuple[Any, ...]:
        extra = dict(old_extra) if old_extra else {}
        extra["source_ids"] = door.source_ids
        if door.extra:
            extra.update(door.extra)
        return (
            *_address_strings(door),
            door.lat,
            door.lng,
            door.quality,
            door.source,
            door.source_ids[0] if door.source_ids else "",
            extra,
        )

    def new_rows() -> Iterator[tuple[Any, ...]]:
        for done, key in enumerate(new_keys, start=1):
            row = values(doors[key], None)
            extra = json.dumps(row[extra_at]) if postgres else row[extra_at]
            yield (organization.pk, key, *row[:extra_at], extra, now, now)
            if done % PROGRESS_EVERY_ROWS == 0:
                progress(done, len(new_keys), "doors written")

    for key, door in doors.items():
        old = existing.get(key)
        if old is None:
            new_keys.append(key)
            continue
        old_extra = old.extra_dict()
        row = values(door, old_extra)
        if (
            row[lat_at] == old.lat
            and row[lng_at] == old.lng
            and row[quality_at] == old.quality
            and row[extra_at] == old_extra
            and _digest(row[i] for i in digest_at) == old.digest
        ):
            unchanged += 1
            continue
        updates.append((old.id, *row[:extra_at], json.dumps(row[extra_at]), now))
        touched.add(old.id)
        if (row[lat_at], row[lng_at]) != (old.lat, old.lng):
            moved.append(old.id)

    # In key order: the unique (organization, address_key) index then grows at
    # its right edge instead of splitting pages all over (30% faster on a
    # million doors in PostgreSQL).
    new_keys.sort()
    if postgres:
        with foreign_keys_checked_per_statement(Door):
            lines = _copy_door_lines(organization, doors, new_keys, now, progress)
            created = copy_lines(Door, _COPY_DOOR_FIELDS, lines)
    else:
        created = bulk_insert(
            Door, ["organization_id", "address_key", *_DOOR_COLUMNS, "created_at", "updated_at"], new_rows()
        )
    progress(created, created, "doors written")
    if updates:
        _update_rows(Door, [*_DOOR_COLUMNS, "updated_at"], updates)
    new_located = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    if created:
        new_located = door_locations(organization=organization, after_id=max_id)
    return created, len(updates), unchanged, moved, new_located


def _address_strings(door: DoorRow) -> tuple[str, ...]:
    """The building key and the address parts (state defaulted), as written to the door's columns."""
    parts = door.parts  # in ADDRESS_FIELDS order: state is the tenth
    return (door.building_key, *parts[:9], parts[9] or DEFAULT_STATE, parts[10])


# The COPY column order of _copy_door_lines: the text columns, then the typed tail.
_COPY_DOOR_FIELDS = [
    "address_key",
    "building_key",
    *ADDRESS_FIELDS,
    "geocode_quality",
    "source",
    "source_id",
    "extra",
    "organization_id",
    "lat",
    "lng",
    "created_at",
    "updated_at",
]


def _copy_door_lines(
    organization: Organization, doors: dict[str, DoorRow], keys: list[str], now: Any, progress: ProgressCallback
) -> Iterator[str]:
    """New doors as lines of COPY's text format, in _COPY_DOOR_FIELDS order.

    The hot loop of a million-door import: the strings are the normalizer's
    own, joined once (turf.bulk.copy_text_line escapes only when a value
    needs it); the organization and the timestamps are formatted once.
    """
    stamp = now.isoformat()
    head = f"\t{organization.pk}\t"
    tail = f"\t{stamp}\t{stamp}\n"
    unplaced = f"{COPY_NULL}\t{COPY_NULL}"
    dumps = json.dumps
    total = len(keys)
    for done, key in enumerate(keys, start=1):
        door = doors[key]
        source_ids = door.source_ids
        extra = {"source_ids": source_ids, **door.extra} if door.extra else {"source_ids": source_ids}
        text = copy_text_line(
            (
                key,
                *_address_strings(door),
                door.quality,
                door.source,
                source_ids[0] if source_ids else "",
                dumps(extra),
            )
        )
        where = unplaced if door.lat is None else f"{door.lat!r}\t{door.lng!r}"
        yield f"{text}{head}{where}{tail}"
        if done % PROGRESS_EVERY_ROWS == 0:
            progress(done, total, "doors written")


def _update_rows(
    model: type[Any],
    fields: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """UPDATE rows (id, *values in `fields` order) in bulk.

    PostgreSQL: COPY into a temporary table and one UPDATE … FROM, which runs
    at COPY speed; elsewhere executemany of one UPDATE per row. JSON values
    arrive serialized.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in fields]
    quoted = [connection.ops.quote_name(c) for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            temp = connection.ops.quote_name(f"import_{model._meta.db_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")
            cursor.execute(
                f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT id, {', '.join(quoted)} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {temp} (id, {', '.join(quoted)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            assignments = ", ".join(f"{q} = t.{q}" for q in quoted)
            cursor.execute(f"UPDATE {table} AS d SET {assignments} FROM {temp} AS t WHERE d.id = t.id")
            cursor.execute(f"DROP TABLE {temp}")
        else:
            assignments = ", ".join(f"{q} = %s" for q in quoted)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", [(*row[1:], row[0]) for row in rows])


def write_people(
    organization: Organization,
    people: list[PersonRow],
    existing: dict[str, ExistingDoor],
    touched: set[int],
) -> tuple[int, int]:
    """Create or update people, matched on the voter id (else on door and name).

    The doors whose people changed (a person added, changed, or moved from or
    to it) are added to `touched`.
    """
    if not people:
        return 0, 0
    door_ids = {key: e.id for key, e in existing.items()}
    max_known = max(door_ids.values(), default=0)
    door_ids.update(Door.objects.filter(organization=organization, id__gt=max_known).values_list("address_key", "id"))
    fields = ("door_id", "first_name", "last_name", "phone", "email", "birth_year", "party")
    by_voter: dict[str, tuple[int, tuple[Any, ...]]] = {}
    by_name: dict[tuple[int, str, str], tuple[int, tuple[Any, ...]]] = {}
    for pk, voter_id, *rest in Person.objects.filter(organization=organization).values_list(
        "id", "external_voter_id", *fields
    ):
        if voter_id:
            by_voter[voter_id] = (pk, tuple(rest))
        else:
            by_name[(rest[0], rest[1].upper(), rest[2].upper())] = (pk, tuple(rest))
    now = timezone.now()
    new_rows: list[tuple[Any, ...]] = []
    updates: dict[int, tuple[Any, ...]] = {}
    seen: set[Any] = set()
    for p in people:
        door_id = door_ids[p.door_key]
        values = (door_id, p.first_name, p.last_name, p.phone, p.email, p.birth_year, p.party)
        identity: Any = p.voter_id or (door_id, p.first_name.upper(), p.last_name.upper())
        if identity in seen:
            continue  # a person listed twice in one file: the first row wins
        seen.add(identity)
        old = by_voter.get(p.voter_id) if p.voter_id else by_name.get(identity)
        if old is None:
            new_rows.append((organization.pk, p.voter_id, *values, now, now))
            touched.add(door_id)
        elif old[1] != values:
            updates[old[0]] = (old[0], *values, now)
            touched.update((door_id, old[1][0]))
    created = bulk_insert(
        Person, ["organization_id", "external_voter_id", *fields, "created_at", "updated_at"], new_rows
    )
    if updates:
        _update_rows(Person, [*fields, "updated_at"], list(updates.values()))
    return created, len(updates)
