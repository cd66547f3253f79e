"""Writes of the turf app: which district each door lies in.

Door→district links are computed in Python (shapely, vectorized over numpy
arrays of door coordinates) and written in bulk (COPY on PostgreSQL): there is
no spatial database. Doors are read as (id, lng, lat) tuples with
values_list, never as model instances, so 1,000,000 doors fit in a few tens of
megabytes and load in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import shapely
from django.db import connection, transaction
from shapely.geometry.base import BaseGeometry

from fieldops.models import Organization
from turf.bulk import bulk_insert
from turf.geometry import points_in_polygons
from turf.importers.base import ProgressCallback, no_progress
from turf.models import District, DistrictLayer, Door, DoorDistrict

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
    None). Old links in that scope are deleted, new ones inserted; links of
    other doors or other layers are not touched. Doors without coordinates
    get no link. A door on a boundary shared by two districts is linked to
    both (see points_in_polygons).
    """
    if layer is not None and layer.organization_id != organization.pk:
        raise ValueError(f"layer {layer.pk} does not belong to organization {organization.slug}")
    with transaction.atomic():
        district_ids, shapes = districts_for_layer_shapes(organization=organization, layer=layer)
        id_array = np.asarray(district_ids, dtype=np.int64)
        # A subquery, not a Python list of ids: the DELETE stays one statement
        # however many districts the organization has.
        scope = District.objects.filter(organization=organization)
        if layer is not None:
            scope = scope.filter(layer=layer)
        scope_ids = scope.values("id")

        links = 0
        if door_ids is None:
            DoorDistrict.objects.filter(district_id__in=scope_ids).delete()
            total = Door.objects.filter(organization=organization, lat__isnull=False).count()
            done = 0
            for ids, lngs, lats in _all_door_pages(organization):
                links += _link(ids, lngs, lats, shapes, id_array)
                done += len(ids)
                progress(done, total, "doors assigned to districts")
            return links

        wanted = sorted({int(i) for i in door_ids})
        chunk = _door_ids_chunk()
        for start in range(0, len(wanted), chunk):
            part = wanted[start : start + chunk]
            DoorDistrict.objects.filter(door_id__in=part, district_id__in=scope_ids).delete()
            rows = Door.objects.filter(organization=organization, id__in=part, lat__isnull=False).values_list(
                "id", "lng", "lat"
            )
            ids, lngs, lats = _arrays(list(rows))
            links += _link(ids, lngs, lats, shapes, id_array)
            progress(min(start + chunk, len(wanted)), len(wanted), "doors assigned to districts")
        return links


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


def _arrays(rows: list[tuple[int, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not rows:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    table = np.array(rows, dtype=np.float64)
    # Ids go through float64 here: exact up to 2**53, far beyond any door id.
    return table[:, 0].astype(np.int64), table[:, 1], table[:, 2]


def _link(
    door_ids: np.ndarray,
    lngs: np.ndarray,
    lats: np.ndarray,
    shapes: list[BaseGeometry],
    district_ids: np.ndarray,
) -> int:
    if len(door_ids) == 0 or not shapes:
        return 0
    point_index, polygon_index = points_in_polygons(lngs, lats, shapes)
    if len(point_index) == 0:
        return 0
    rows = zip(door_ids[point_index].tolist(), district_ids[polygon_index].tolist(), strict=True)
    return bulk_insert(DoorDistrict, ["door_id", "district_id"], rows)
