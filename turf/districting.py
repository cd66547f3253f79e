"""Writes of the turf app: which district each door lies in.

Door→district links are computed in Python (shapely, vectorized over numpy
arrays of door coordinates) and written in bulk (COPY on PostgreSQL): there is
no spatial database. Doors are read as (id, lng, lat) tuples with
values_list, never as model instances, so 1,000,000 doors fit in a few tens of
megabytes and load in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from functools import partial

import numpy as np
import shapely
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from shapely.geometry.base import BaseGeometry

from fieldops.models import Organization
from turf.bulk import bulk_insert, indexes_rebuilt, rebuild_indexes_if_worth_it
from turf.geometry import points_in_polygons
from turf.importers.base import ProgressCallback, no_progress
from turf.models import District, DistrictLayer, Door, DoorDistrict, GeocodeQuality

# Doors read per query when all doors of an organization are assigned. Keyset
# pagination on the primary key keeps every page an index range scan.
ALL_DOORS_PAGE = 100_000
# Door ids per DELETE/SELECT when a list of doors is given: small enough for
# the query parameter limit, large enough that 1,000,000 ids take 100 rounds.
DOOR_IDS_CHUNK = 10_000


def districts_for_layer_shapes(
    *, organization: Organization, layer: DistrictLayer | None = None
) -> tuple[list[int], list[BaseGeometry]]:
    """District ids and their shapely geometries (from WKB), for one layer or all layers of the org.

    A read helper kept here because only the services use it; it loads the
    WKB column alone, not the (larger) GeoJSON.
    """
    districts = District.objects.filter(organization=organization)
    if layer is not None:
        districts = districts.filter(layer=layer)
    rows = list(districts.order_by("id").values_list("id", "wkb"))
    ids = [district_id for district_id, _ in rows]
    shapes = list(shapely.from_wkb([bytes(wkb) for _, wkb in rows])) if rows else []
    return ids, shapes


# What follows a re-districting in the apps that read the links: canvass counts
# knocks per district (its stats), so it registers here (canvass/apps.py) and
# queues that work. A registry, not an import: turf/ may not import canvass/.
# Each is called after the commit with (organization id, the doors re-districted,
# or None for all the organization's doors).
RedistrictedListener = Callable[[int, list[int] | None], None]
_REDISTRICTED: list[RedistrictedListener] = []


def on_doors_redistricted(listener: RedistrictedListener) -> RedistrictedListener:
    """Register a function called after a transaction that re-districted doors commits."""
    _REDISTRICTED.append(listener)
    return listener


def _redistricted(organization_id: int, door_ids: list[int] | None) -> None:
    for listener in _REDISTRICTED:
        transaction.on_commit(partial(listener, organization_id, door_ids), robust=True)


def districts_removed(*, organization_id: int, door_ids: list[int]) -> None:
    """Districts were deleted (the admin) and these doors lost their links to
    them: after the commit, as for a re-districting, the stats of the knocks at
    those doors are recounted (the deleted districts' rows drop out)."""
    if door_ids:
        _redistricted(organization_id, door_ids)


# Namespace of fieldops' PostgreSQL advisory locks (any constant; "fo").
_LOCK_NAMESPACE = 0x666F


def organization_doors_lock(*, organization: Organization) -> None:
    """Serialize writers of one organization's doors until the transaction ends.

    Imports read the existing doors, write, then read back the new doors' ids
    to link them to districts; a second import, a district import or a door
    edited by hand in between would be read back as "new" and linked twice
    (a unique violation that rolls the whole import back) or miss a layer.
    PostgreSQL: a transaction-level advisory lock per organization. SQLite
    has one writer at a time already (IMMEDIATE transactions).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, organization.pk])


@transaction.atomic
def door_placed_by_hand(*, door: Door) -> int:
    """A person set this door's location (the admin): keep it and re-district the door.

    The quality becomes "manual", which a re-import of the source file does not
    overwrite; the door's district links are recomputed. Returns the links.
    """
    organization_doors_lock(organization=door.organization)
    quality = GeocodeQuality.MANUAL if door.lat is not None else GeocodeQuality.NONE
    Door.objects.filter(pk=door.pk).update(geocode_quality=quality)
    door.geocode_quality = quality
    return door_districts_assign(organization=door.organization, door_ids=[door.pk])


def door_districts_assign(
    *,
    organization: Organization,
    door_ids: Sequence[int] | None = None,
    layer: DistrictLayer | None = None,
    progress: ProgressCallback = no_progress,
) -> int:
    """Recompute the DoorDistrict links of some doors; return how many links now exist in that scope.

    Scope: the doors `door_ids` (all doors of the organization when None)
    against the districts of `layer` (all layers of the organization when
    None). Links in that scope that are no longer true are deleted, missing
    ones inserted; links of other doors or other layers are not touched.
    Doors without coordinates get no link. A door on a boundary shared by two
    districts is linked to both (see points_in_polygons). What counts by
    district (canvass' stats) is told after the commit (on_doors_redistricted).
    """
    if layer is not None and layer.organization_id != organization.pk:
        raise ValueError(f"layer {layer.pk} does not belong to organization {organization.slug}")
    with transaction.atomic():
        district_ids, shapes = districts_for_layer_shapes(organization=organization, layer=layer)
        id_array = np.asarray(district_ids, dtype=np.int64)
        wanted = None if door_ids is None else sorted({int(i) for i in door_ids})
        _redistricted(organization.pk, wanted)
        if connection.vendor == "postgresql":
            return _assign_postgresql(organization, layer, wanted, shapes, id_array, progress)
        return _assign_portable(organization, layer, wanted, shapes, id_array, progress)


def door_districts_link_new(
    *,
    organization: Organization,
    door_ids: np.ndarray,
    lngs: np.ndarray,
    lats: np.ndarray,
    progress: ProgressCallback = no_progress,
) -> int:
    """Link doors that have no links yet (just created) to the districts of every layer.

    The caller passes the doors' coordinates, so nothing is read back, and
    with nothing to compare against the links go straight into the table
    (binary COPY on PostgreSQL). Returns the number of links written.
    """
    district_ids, shapes = districts_for_layer_shapes(organization=organization)
    id_array = np.asarray(district_ids, dtype=np.int64)
    ids = np.asarray(door_ids, dtype=np.int64)
    xs = np.asarray(lngs, dtype=float)
    ys = np.asarray(lats, dtype=float)
    total = len(ids)
    pages: list[tuple[np.ndarray, np.ndarray]] = []
    for start in range(0, total, ALL_DOORS_PAGE):
        page = slice(start, start + ALL_DOORS_PAGE)
        door_index, district_index = _pairs(xs[page], ys[page], shapes)
        # In primary-key order (door, district): the key's index then grows
        # at its right edge (the pairs come grouped by district).
        order = np.lexsort((district_index, door_index))
        pages.append((ids[page][door_index[order]], id_array[district_index[order]]))
        progress(min(start + ALL_DOORS_PAGE, total), total, "doors assigned to districts")
    links = sum(len(page_doors) for page_doors, _ in pages)
    postgres = connection.vendor == "postgresql"
    table = f"{connection.ops.quote_name(DoorDistrict._meta.db_table)} (door_id, district_id)"
    rebuild = rebuild_indexes_if_worth_it(DoorDistrict, links)
    with transaction.atomic(), indexes_rebuilt(DoorDistrict) if rebuild else nullcontext():
        with connection.cursor() as cursor:
            for page_doors, page_districts in pages:
                if postgres and len(page_doors):
                    _copy_binary(cursor, table, [page_doors, page_districts])
                elif len(page_doors):
                    rows = zip(page_doors.tolist(), page_districts.tolist(), strict=True)
                    bulk_insert(DoorDistrict, ["door_id", "district_id"], rows)
        progress(links, links, "door-district links written")
    return links


def _assign_portable(
    organization: Organization,
    layer: DistrictLayer | None,
    wanted: list[int] | None,
    shapes: list[BaseGeometry],
    district_ids: np.ndarray,
    progress: ProgressCallback,
) -> int:
    """Delete the links in scope, insert the new ones (SQLite, and any non-PostgreSQL database)."""
    # A subquery, not a Python list of ids: the DELETE stays one statement
    # however many districts the organization has.
    scope = District.objects.filter(organization=organization)
    if layer is not None:
        scope = scope.filter(layer=layer)
    scope_ids = scope.values("id")
    links = 0
    if wanted is None:
        DoorDistrict.objects.filter(district_id__in=scope_ids).delete()
    for done, total, part, (ids, lngs, lats) in _door_batches(organization, wanted):
        if part is not None:
            DoorDistrict.objects.filter(door_id__in=part, district_id__in=scope_ids).delete()
        door_index, district_index = _pairs(lngs, lats, shapes)
        rows = zip(ids[door_index].tolist(), district_ids[district_index].tolist(), strict=True)
        links += bulk_insert(DoorDistrict, ["door_id", "district_id"], rows)
        progress(done, total, "doors assigned to districts")
    return links


def _assign_postgresql(
    organization: Organization,
    layer: DistrictLayer | None,
    wanted: list[int] | None,
    shapes: list[BaseGeometry],
    district_ids: np.ndarray,
    progress: ProgressCallback,
) -> int:
    """Write only the difference between the links in scope and the new ones.

    Deleting and re-inserting every link costs what the table's five indexes
    and two foreign keys cost per row: measured 25 s for one layer of 420,000
    links on this machine. Most recomputations change few links (a re-import
    of the same boundaries, doors that did not move), so the new links go to
    an unindexed temporary table by binary COPY (numpy builds the rows), and
    two set statements delete the stale links and insert the missing ones.
    """
    links_table = connection.ops.quote_name(DoorDistrict._meta.db_table)
    district_table = connection.ops.quote_name(District._meta.db_table)
    scope_sql = f"SELECT id FROM {district_table} WHERE organization_id = %s"
    scope_params: list[int] = [organization.pk]
    if layer is not None:
        scope_sql += " AND layer_id = %s"
        scope_params.append(layer.pk)
    links = 0
    with connection.cursor() as cursor:
        # ON COMMIT DROP: the tables vanish with the transaction; TRUNCATE
        # covers a second call inside the same transaction. The key makes the
        # DELETE's anti-join below an index probe whatever the planner thinks
        # of the link table: with statistics taken before this transaction's
        # rows, it chose a nested loop over a scan of this table, 240 s for
        # 64,000 links instead of a fraction of a second.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS fieldops_new_links "
            "(door_id bigint NOT NULL, district_id bigint NOT NULL, PRIMARY KEY (door_id, district_id)) "
            "ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE fieldops_new_links")
        door_filter = ""
        if wanted is not None:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS fieldops_scope_doors (door_id bigint PRIMARY KEY) ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE fieldops_scope_doors")
            if wanted:
                ids = np.asarray(wanted, dtype=np.int64)
                _copy_binary(cursor, "fieldops_scope_doors (door_id)", [ids])
            door_filter = "AND dd.door_id IN (SELECT door_id FROM fieldops_scope_doors)"
        ids, lngs, lats = _read_doors_postgresql(cursor, organization, scoped=wanted is not None)
        # Doors that have no links in scope yet (a first import, a new layer):
        # nothing to compare, so the links go straight into the table.
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {links_table} dd WHERE dd.district_id IN ({scope_sql}) {door_filter})",
            scope_params,
        )
        fresh = not cursor.fetchone()[0]
        target = f"{links_table} (door_id, district_id)" if fresh else "fieldops_new_links (door_id, district_id)"
        total = len(ids)
        for start in range(0, total, ALL_DOORS_PAGE):
            page = slice(start, start + ALL_DOORS_PAGE)
            door_index, district_index = _pairs(lngs[page], lats[page], shapes)
            if len(door_index):
                _copy_binary(cursor, target, [ids[page][door_index], district_ids[district_index]])
            links += len(door_index)
            progress(min(start + ALL_DOORS_PAGE, total), total, "doors assigned to districts")
        if fresh:
            return links
        cursor.execute("ANALYZE fieldops_new_links")
        cursor.execute(
            f"DELETE FROM {links_table} dd WHERE dd.district_id IN ({scope_sql}) {door_filter} "
            "AND NOT EXISTS (SELECT 1 FROM fieldops_new_links n "
            "WHERE n.door_id = dd.door_id AND n.district_id = dd.district_id)",
            scope_params,
        )
        # ON CONFLICT: another transaction may have linked the same door meanwhile.
        cursor.execute(
            f"INSERT INTO {links_table} (door_id, district_id) "
            "SELECT n.door_id, n.district_id FROM fieldops_new_links n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {links_table} dd "
            "WHERE dd.door_id = n.door_id AND dd.district_id = n.district_id) "
            "ON CONFLICT (door_id, district_id) DO NOTHING"
        )
    return links


_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_PGCOPY_TRAILER = b"\xff\xff"


def _copy_binary(cursor: CursorWrapper, target: str, columns: list[np.ndarray]) -> None:
    """COPY bigint columns in PostgreSQL's binary format, built by numpy, not row by row.

    psycopg's write_row costs about 5 µs a row here, 20 s for 4,000,000 links;
    the numpy record array is built in milliseconds.
    """
    fields = [("count", ">i2")]
    for i in range(len(columns)):
        fields += [(f"len{i}", ">i4"), (f"value{i}", ">i8")]
    records = np.empty(len(columns[0]), dtype=np.dtype(fields))
    records["count"] = len(columns)
    for i, column in enumerate(columns):
        records[f"len{i}"] = 8
        records[f"value{i}"] = column
    raw = cursor.cursor  # Django's wrapper exposes psycopg's cursor
    with raw.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(_PGCOPY_HEADER)
        copy.write(records.tobytes())
        copy.write(_PGCOPY_TRAILER)


_DOOR_RECORD = np.dtype([("id", ">i8"), ("lng", ">f8"), ("lat", ">f8")])
# Doors per query when reading packed coordinates: 500,000 doors are a 12 MB bytea.
PACKED_PAGE = 500_000


def door_locations(*, organization: Organization, after_id: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lngs, lats) of the organization's located doors with an id above after_id, in id order.

    An import reads back the doors it has just created with this (their ids
    come from the database): a million in about a second on PostgreSQL.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            return _read_doors_postgresql(cursor, organization, scoped=False, after_id=after_id)
    rows = list(
        Door.objects.filter(organization=organization, id__gt=after_id, lat__isnull=False)
        .order_by("id")
        .values_list("id", "lng", "lat")
        .iterator(chunk_size=50_000)
    )
    return _arrays(rows)


def _read_doors_postgresql(
    cursor: CursorWrapper, organization: Organization, *, scoped: bool, after_id: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lngs, lats) of the organization's doors with coordinates, packed by the server.

    Reading 1,000,000 doors as rows took 6.3 s with values_list and 7 s with
    COPY TO (psycopg handles one message per row). Here PostgreSQL packs each
    door into 24 bytes (int8send/float8send, big-endian) and string_agg joins
    them into one bytea per page, which numpy reads without a Python object
    per value. `scoped`: only the doors in the fieldops_scope_doors table.
    """
    door_table = connection.ops.quote_name(Door._meta.db_table)
    join = "JOIN fieldops_scope_doors s ON s.door_id = d.id" if scoped else ""
    query = (
        "SELECT string_agg(int8send(p.id) || float8send(p.lng) || float8send(p.lat), ''::bytea), "
        "max(p.id) FROM ("
        f"SELECT d.id, d.lng, d.lat FROM {door_table} d {join} WHERE d.organization_id = %s "
        "AND d.lat IS NOT NULL AND d.lng IS NOT NULL AND d.id > %s ORDER BY d.id LIMIT %s) p"
    )
    parts: list[np.ndarray] = []
    last_id = after_id
    while True:
        cursor.execute(query, [organization.pk, last_id, PACKED_PAGE])
        packed, max_id = cursor.fetchone()
        if packed is None:
            break
        parts.append(np.frombuffer(bytes(packed), dtype=_DOOR_RECORD))
        last_id = max_id
        if len(parts[-1]) < PACKED_PAGE:
            break
    if not parts:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    records = np.concatenate(parts)
    return records["id"].astype(np.int64), records["lng"].astype(np.float64), records["lat"].astype(np.float64)


def _door_batches(
    organization: Organization, wanted: list[int] | None
) -> Iterator[tuple[int, int, list[int] | None, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(done, total, the ids asked for in this batch or None, (ids, lngs, lats) of the doors with coordinates)."""
    if wanted is None:
        total = Door.objects.filter(organization=organization, lat__isnull=False).count()
        done = 0
        for arrays in _all_door_pages(organization):
            done += len(arrays[0])
            yield done, total, None, arrays
        return
    chunk = _door_ids_chunk()
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        rows = Door.objects.filter(organization=organization, id__in=part, lat__isnull=False).values_list(
            "id", "lng", "lat"
        )
        yield min(start + chunk, len(wanted)), len(wanted), part, _arrays(list(rows))


def _door_ids_chunk() -> int:
    # Django declares 999 parameters for SQLite; leave room for the subquery's.
    limit = connection.features.max_query_params
    return DOOR_IDS_CHUNK if limit is None else max(1, min(DOOR_IDS_CHUNK, limit - 50))


def _all_door_pages(organization: Organization) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    last_id = 0
    while True:
        rows = list(
            Door.objects.filter(organization=organization, lat__isnull=False, id__gt=last_id)
            .order_by("id")
            .values_list("id", "lng", "lat")[:ALL_DOORS_PAGE]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        yield _arrays(rows)
        if len(rows) < ALL_DOORS_PAGE:
            return


def _arrays(rows: list[tuple[int, float | None, float | None]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lngs, lats) of located doors' rows (every query here filters lat__isnull=False)."""
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    table = np.array(rows, dtype=np.float64)
    # Ids go through float64 here: exact up to 2**53, far beyond any door id.
    return table[:, 0].astype(np.int64), table[:, 1], table[:, 2]


def _pairs(lngs: np.ndarray, lats: np.ndarray, shapes: list[BaseGeometry]) -> tuple[np.ndarray, np.ndarray]:
    if len(lngs) == 0 or not shapes:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return points_in_polygons(lngs, lats, shapes)
