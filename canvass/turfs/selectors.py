"""Reads for turfs: a campaign's universe of doors, the turf lists, exports.

The pure algorithms (cutting, walk order) are fed from here as numpy arrays:
one query loads a universe, however large.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery

from canvass.campaigns.models import Campaign
from canvass.field.models import Assignment
from canvass.field.selectors import current_assignment_q
from canvass.sync.models import ContactAttempt
from canvass.turfs.models import Turf, TurfDoor
from turf.models import District, DistrictLayer, Door, DoorDistrict, Person


def current_assignment_exists() -> Exists:
    """True of a turf (in a Turf queryset) that somebody holds now: an assignment of it is current."""
    return Exists(Assignment.objects.filter(current_assignment_q(), turf=OuterRef("pk")))


def turfs_with_current_assignments(turfs: QuerySet[Turf]) -> QuerySet[Turf]:
    return turfs.filter(current_assignment_exists())


def campaign_universe(
    *,
    campaign: Campaign,
    only_unknocked: bool = False,
    support_levels: Sequence[int] | None = None,
    with_people: bool = False,
) -> QuerySet[Door]:
    """The doors of the campaign's target districts, optionally narrowed.

    only_unknocked: no attempt at the door in this campaign yet.
    support_levels: the door's latest attempt in this campaign recorded one of these levels.
    with_people: at least one person is listed at the door.
    """
    in_targets = DoorDistrict.objects.filter(district__in=campaign.target_districts.all()).values("door_id")
    doors = Door.objects.filter(organization_id=campaign.organization_id, id__in=in_targets)
    attempts = ContactAttempt.objects.counted().filter(campaign=campaign, door=OuterRef("pk"))
    if only_unknocked:
        doors = doors.exclude(Exists(attempts))
    if support_levels:
        latest = attempts.order_by("-corrected_at").values("support_level")[:1]
        doors = doors.annotate(_latest_support=Subquery(latest)).filter(_latest_support__in=list(support_levels))
    if with_people:
        doors = doors.filter(Exists(Person.objects.filter(door=OuterRef("pk"))))
    return doors


def doors_in_active_turfs(*, campaign: Campaign, exclude_turfs: Sequence[int] = ()) -> QuerySet[TurfDoor]:
    return TurfDoor.objects.filter(turf__campaign=campaign, turf__status=Turf.Status.ACTIVE).exclude(
        turf_id__in=list(exclude_turfs)
    )


@dataclass(frozen=True)
class DoorArrays:
    """Doors as parallel arrays, for the pure cutting and walk-order modules."""

    id: np.ndarray  # int64 door ids
    lat: np.ndarray
    lng: np.ndarray
    building: np.ndarray  # int64 codes: equal building_key, equal code; a door without a key has its own
    street: np.ndarray  # object: "N MAIN ST"
    number: np.ndarray  # int64, -1 where the number is not a plain integer
    unit: np.ndarray  # object

    def __len__(self) -> int:
        return len(self.id)

    def take(self, index: np.ndarray) -> DoorArrays:
        return DoorArrays(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


_DOOR_COLUMNS = (
    "id",
    "lat",
    "lng",
    "building_key",
    "pre_dir",
    "street_name",
    "street_type",
    "post_dir",
    "number",
    "unit",
)


def door_arrays(doors: QuerySet[Door] | Sequence[tuple]) -> DoorArrays:
    """Load located doors (lat/lng set) as arrays, ordered by id."""
    if isinstance(doors, QuerySet):
        rows = list(doors.filter(lat__isnull=False).order_by("id").values_list(*_DOOR_COLUMNS))
    else:
        rows = list(doors)
    n = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    lat = np.fromiter((r[1] for r in rows), dtype=np.float64, count=n)
    lng = np.fromiter((r[2] for r in rows), dtype=np.float64, count=n)
    keys = np.array([r[3] or f"door:{r[0]}" for r in rows], dtype=object)
    if n:
        _, building = np.unique(keys, return_inverse=True)
    else:
        building = np.empty(0, dtype=np.int64)
    street = np.array([" ".join(p for p in r[4:8] if p) for r in rows], dtype=object)
    number = np.fromiter(
        (int(r[8]) if r[8].isascii() and r[8].isdigit() and len(r[8]) < 10 else -1 for r in rows),
        dtype=np.int64,
        count=n,
    )
    unit = np.array([r[9] for r in rows], dtype=object)
    return DoorArrays(ids, lat, lng, building.astype(np.int64), street, number, unit)


def door_district_codes(door_ids: np.ndarray, layer: DistrictLayer | None, doors: QuerySet[Door]) -> np.ndarray:
    """Per door of `door_ids` (sorted, the ids of the queryset `doors`), the id of its
    district in the layer (the lowest where it lies in two), else -1."""
    codes = np.full(len(door_ids), -1, dtype=np.int64)
    if layer is None or len(door_ids) == 0:
        return codes
    pairs = np.array(
        list(
            DoorDistrict.objects.filter(district__layer=layer, door_id__in=doors.values("pk"))
            .order_by("-district_id")
            .values_list("door_id", "district_id")
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(pairs):
        pairs = pairs[np.isin(pairs[:, 0], door_ids)]
        # Ordered by descending district id, so the lowest is written last and wins.
        codes[np.searchsorted(door_ids, pairs[:, 0])] = pairs[:, 1]
    return codes


def person_counts(doors: QuerySet[Door] | Sequence[int]) -> dict[int, int]:
    """People per door, for the doors of a queryset (a subquery, however many) or a short id list."""
    wanted = doors.values_list("pk", flat=True) if isinstance(doors, QuerySet) else list(doors)
    return dict(
        Person.objects.filter(door_id__in=wanted)
        .order_by()
        .values_list("door_id")
        .annotate(n=Count("id"))
        .values_list("door_id", "n")
    )


def districts_of(layer: DistrictLayer | None) -> QuerySet[District]:
    if layer is None:
        return District.objects.none()
    return District.objects.filter(layer=layer)


def turf_export_rows(*, campaign: Campaign) -> Iterator[dict[str, object]]:
    """One row per door of the campaign's active turfs, turf by turf, in walk order."""
    rows = (
        TurfDoor.objects.filter(turf__campaign=campaign, turf__status=Turf.Status.ACTIVE)
        .order_by("turf__name", "position")
        .values_list(
            "door_id",
            "door__source_id",
            "turf__name",
            "position",
            "door__number",
            "door__number_suffix",
            "door__pre_dir",
            "door__street_name",
            "door__street_type",
            "door__post_dir",
            "door__unit_type",
            "door__unit",
            "door__city",
            "door__zip",
            "door__lat",
            "door__lng",
        )
    )
    for row in rows.iterator(chunk_size=5000):
        (
            door_id,
            source_id,
            turf,
            position,
            number,
            suffix,
            pre,
            street,
            stype,
            post,
            utype,
            unit,
            city,
            zip_,
            lat,
            lng,
        ) = row
        address = " ".join(p for p in (number, suffix, pre, street, stype, post) if p)
        if unit:
            address = f"{address} {utype or '#'} {unit}"
        yield {
            "door_id": door_id,
            "source_id": source_id,
            "turf": turf,
            "walk_order": position + 1,
            "address": address,
            "city": city,
            "zip": zip_,
            "lat": lat,
            "lng": lng,
        }


def cut_situation(*, campaign: Campaign) -> dict[str, int]:
    """The universe's doors, those in no active turf (what a cut takes), and the active turfs
    with and without a current assignment (what a cut with replace keeps and re-cuts)."""
    universe = campaign_universe(campaign=campaign)
    active = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
    active_turfs = active.count()
    held = turfs_with_current_assignments(active).count()
    return {
        "universe": universe.count(),
        "free": universe.exclude(pk__in=doors_in_active_turfs(campaign=campaign).values("door_id")).count(),
        "active_turfs": active_turfs,
        "held_turfs": held,
        "recut_turfs": active_turfs - held,
    }
