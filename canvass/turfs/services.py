"""Writes for turfs: automatic cuts, turfs drawn by hand, split, merge, walk order.

The algorithms are pure modules in turf/ (cutting.py, walk_order.py); this
module loads their input in one query, applies their output in bulk, and
keeps the rules an organizer relies on:

- a door is in at most one *active* turf of a campaign: a cut takes only
  the doors not already in one, and a drawn turf reports the doors that are
  (it never moves them silently);
- a turf somebody is currently assigned to is never split, merged or
  archived under them;
- every write is one transaction: an error changes nothing;
- new turfs queue the stats work they invalidate (a knock counts in every
  turf holding its door), after the commit (canvass/stats/queue.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.ops
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from canvass.campaigns.models import Campaign
from canvass.stats.queue import stats_enqueue_turfs
from canvass.turfs.models import Turf, TurfCutJob, TurfDoor
from canvass.turfs.selectors import (
    DoorArrays,
    campaign_universe,
    door_arrays,
    door_district_codes,
    doors_in_active_turfs,
    person_counts,
    turfs_with_current_assignments,
)
from fieldops.changelog import sync_changes_record
from fieldops.exceptions import StateConflict
from fieldops.models import SyncChange
from fieldops.services import audit_log
from turf.bulk import bulk_insert
from turf.cutting import CutDoors, cut_universe, polsby_popper
from turf.geometry import GeometryError, points_in_polygons, polygon_from_geojson
from turf.models import District, DistrictLayer, Door
from turf.walk_order import WalkDoors, WalkPlan, plan_walk

Progress = Callable[[int, int | None, str], None]


def _no_progress(done: int, total: int | None, message: str) -> None:
    return None


@dataclass
class CutSummary:
    turfs: list[Turf]
    doors: int
    skipped_in_turfs: int  # universe doors already in an active turf, left where they are
    skipped_unlocated: int  # universe doors without coordinates, not cut
    archived: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        sizes = [t.door_count for t in self.turfs]
        mean = sum(sizes) / len(sizes) if sizes else 0.0
        cv = (math.sqrt(sum((s - mean) ** 2 for s in sizes) / len(sizes)) / mean) if sizes and mean else 0.0
        return {
            "turfs": len(self.turfs),
            "doors": self.doors,
            "size_min": min(sizes, default=0),
            "size_mean": round(mean, 1),
            "size_max": max(sizes, default=0),
            "size_cv": round(cv, 3),
            "skipped_in_turfs": self.skipped_in_turfs,
            "skipped_unlocated": self.skipped_unlocated,
            "archived": self.archived,
            "notes": self.notes,
        }


def _lock_campaign(campaign: Campaign) -> None:
    """One turf writer of a campaign at a time (cuts, drawn turfs), until commit.

    FOR NO KEY UPDATE: an assignment being created on one of its turfs holds
    that turf's lock and takes FOR KEY SHARE on the campaign (its foreign
    key), which FOR UPDATE would block: the two would wait on each other.
    """
    Campaign.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update).filter(
        pk=campaign.pk
    ).first()


# ---------------------------------------------------------------- automatic cut


def _default_layer(campaign: Campaign) -> DistrictLayer | None:
    district = campaign.target_districts.select_related("layer").order_by("layer__name", "id").first()
    return district.layer if district else None


def turfs_cut(
    *,
    campaign: Campaign,
    target_doors: int,
    layer: DistrictLayer | None = None,
    only_unknocked: bool = False,
    replace: bool = False,
    actor: User | None = None,
    progress: Progress = _no_progress,
) -> CutSummary:
    """Cut the campaign's universe (less the doors already in active turfs) into turfs.

    layer: no turf crosses a boundary of this layer (default: the layer of
    the campaign's target districts). replace: archive the campaign's active
    turfs that nobody is currently assigned to, so their doors are cut again.

    The cut is computed outside any transaction (so its progress is visible
    to the organizer while it runs) and written in one short transaction
    that first checks that no door was put in another turf meanwhile.
    """
    _check_cut(campaign, target_doors, layer)
    if layer is None:
        layer = _default_layer(campaign)
    progress(0, None, "loading the universe")
    universe = campaign_universe(campaign=campaign, only_unknocked=only_unknocked)
    total = universe.count()
    if total == 0:
        raise ValidationError(
            "The campaign's universe is empty: give the campaign target districts that contain doors"
            + (", or leave out 'only unknocked'" if only_unknocked else "")
            + "."
        )
    staying = _turfs_staying(campaign, replace)
    staying_at_start = set(staying.values_list("pk", flat=True))
    free = universe.exclude(pk__in=doors_in_active_turfs(campaign=campaign).filter(turf__in=staying).values("door_id"))
    arrays = door_arrays(free)
    unlocated = free.filter(lat__isnull=True).count()
    skipped_in_turfs = total - len(arrays) - unlocated
    if len(arrays) == 0:
        raise ValidationError(
            f"All {total} doors of the universe are already in active turfs"
            + (f" or have no location ({unlocated})" if unlocated else "")
            + ": archive turfs (or cut with 'replace') to cut them again."
        )
    if target_doors > len(arrays):
        raise ValidationError(
            {
                "target_doors": f"The target of {target_doors} doors is larger than the "
                f"{len(arrays)} doors left to cut; choose {len(arrays)} or fewer."
            }
        )
    codes = door_district_codes(arrays.id, layer, free)
    districts = {d.pk: d for d in District.objects.filter(pk__in=set(codes.tolist()) - {-1})}
    shapes = {pk: shapely.from_wkb(bytes(d.wkb)) for pk, d in districts.items()}
    result = cut_universe(
        CutDoors(
            lat=arrays.lat,
            lng=arrays.lng,
            building=arrays.building,
            street=arrays.street,
            number=arrays.number,
            district=codes,
        ),
        target_doors,
        districts=shapes,
        progress=lambda done, of: progress(done, of, "cutting"),
        district_names={pk: d.name for pk, d in districts.items()},
    )
    pieces: list[tuple[District | None, BaseGeometry, DoorArrays, WalkPlan]] = []
    for index, cut in enumerate(result.turfs, start=1):
        doors = arrays.take(np.asarray(cut.doors, dtype=np.int64))
        pieces.append((districts.get(cut.district), cut.polygon, doors, _plan(doors)))
        progress(index, len(result.turfs), "walk order")
    people = person_counts(free)

    with transaction.atomic():
        # One cut of a campaign at a time: a second waits here, then sees the first's turfs.
        _lock_campaign(campaign)
        # And its active turfs: an assignment being created on one (which locks
        # it) commits first and keeps it among the turfs staying, or waits and
        # then finds it archived.
        list(Turf.objects.select_for_update().filter(campaign=campaign, status=Turf.Status.ACTIVE).values_list("pk"))
        # Turfs are never edited in place (split and merge make new ones), so
        # the same set of turfs staying means the same doors are taken.
        if set(_turfs_staying(campaign, replace).values_list("pk", flat=True)) != staying_at_start:
            raise ValidationError(
                "Turfs of this campaign changed while the cut ran (another cut or a drawn turf): run the cut again."
            )
        archived = 0
        if replace:
            archived = (
                Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
                .exclude(pk__in=staying)
                .update(status=Turf.Status.ARCHIVED, updated_at=timezone.now())
            )
        namer = _TurfNamer(campaign)
        turfs = _turfs_write(
            campaign=campaign,
            new=[
                _NewTurf(*namer.next(district.name if district else campaign.name), district, polygon, doors, plan)
                for district, polygon, doors, plan in pieces
            ],
            people=people,
        )
        summary = CutSummary(
            turfs=turfs,
            doors=len(arrays),
            skipped_in_turfs=skipped_in_turfs,
            skipped_unlocated=unlocated,
            archived=archived,
            notes=list(result.notes),
        )
        if unlocated:
            summary.notes.append(
                f"{unlocated} doors have no location and are in no turf: geocode them or place them by hand."
            )
        if skipped_in_turfs:
            summary.notes.append(f"{skipped_in_turfs} doors already in active turfs were left where they are.")
        audit_log(
            organization=campaign.organization,
            actor=actor,
            action="turfs.cut",
            obj=campaign,
            target_doors=target_doors,
            layer=layer.name if layer else None,
            only_unknocked=only_unknocked,
            replace=replace,
            turfs=len(turfs),
            doors=len(arrays),
        )
        stats_enqueue_turfs(turf_ids=[t.pk for t in turfs])
    progress(len(turfs), len(turfs), "done")
    return summary


def _check_cut(campaign: Campaign, target_doors: object, layer: DistrictLayer | None) -> None:
    if not isinstance(target_doors, int) or isinstance(target_doors, bool) or target_doors < 1:
        raise ValidationError({"target_doors": "The target must be a whole number of doors, 1 or more."})
    if layer is not None and layer.organization_id != campaign.organization_id:
        raise ValidationError({"layer": "This district layer belongs to another organization."})


def _turfs_staying(campaign: Campaign, replace: bool) -> QuerySet[Turf]:
    """The active turfs a cut leaves alone: all of them, or with replace the ones in use."""
    active = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
    return turfs_with_current_assignments(active) if replace else active


def _plan(doors: DoorArrays) -> WalkPlan:
    return plan_walk(
        WalkDoors(
            lat=doors.lat,
            lng=doors.lng,
            street=doors.street,
            number=doors.number,
            unit=doors.unit,
            building=doors.building,
        )
    )


class _TurfNamer:
    """Numbers and names of new turfs: the lowest numbers that no active turf of the
    campaign holds (a re-cut with replace starts again at 1; archived turfs keep
    theirs), and names "<district> 001" after the number, unique among active turfs."""

    def __init__(self, campaign: Campaign) -> None:
        active = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
        self.taken = set(active.values_list("name", flat=True))
        self.numbers = {n for n in active.values_list("number", flat=True) if n is not None}
        self.last = 0

    def next_number(self) -> int:
        n = self.last + 1
        while n in self.numbers:
            n += 1
        self.numbers.add(n)
        self.last = n
        return n

    def next(self, prefix: str) -> tuple[int, str]:
        number = self.next_number()
        name = f"{prefix[:100]} {number:03d}"
        # A turf drawn and named by hand may hold the name already.
        suffix = 1
        while name in self.taken:
            suffix += 1
            name = f"{prefix[:100]} {number:03d}-{suffix}"
        self.taken.add(name)
        return number, name


@dataclass
class _NewTurf:
    number: int
    name: str
    district: District | None
    polygon: BaseGeometry | None
    doors: DoorArrays
    plan: WalkPlan | None = None


def _turfs_write(*, campaign: Campaign, new: Sequence[_NewTurf], people: dict[int, int]) -> list[Turf]:
    """Create turfs of these doors in walk order, with their metrics: two bulk inserts however many."""
    turfs: list[Turf] = []
    orders: list[np.ndarray] = []
    for item in new:
        plan = item.plan or _plan(item.doors)
        doors = item.doors
        points = shapely.MultiPoint(np.column_stack([doors.lng, doors.lat]))
        polygon = item.polygon
        turfs.append(
            Turf(
                organization_id=campaign.organization_id,
                campaign=campaign,
                name=item.name,
                number=item.number,
                district=item.district,
                polygon=mapping(polygon) if polygon is not None and not polygon.is_empty else None,
                door_count=len(doors),
                building_count=len(np.unique(doors.building)),
                person_count=sum(people.get(int(i), 0) for i in doors.id.tolist()),
                walk_distance_m=round(float(plan.distance_m), 1),
                walk_minutes=round(float(plan.minutes), 1),
                compactness=round(float(polsby_popper(points)), 3),
            )
        )
        orders.append(doors.id[np.asarray(plan.order, dtype=np.int64)])
    # Both databases return the new ids from a bulk insert (SQLite 3.35+).
    Turf.objects.bulk_create(turfs)
    bulk_insert(
        TurfDoor,
        ["turf_id", "door_id", "position"],
        (
            (turf.pk, door_id, position)
            for turf, ordered in zip(turfs, orders, strict=True)
            for position, door_id in enumerate(ordered.tolist())
        ),
        plain=True,
    )
    return turfs


# ---------------------------------------------------------------- background cut


def turf_cut_job_start(
    *,
    campaign: Campaign,
    target_doors: int,
    layer: DistrictLayer | None = None,
    only_unknocked: bool = False,
    replace: bool = False,
    actor: User | None = None,
) -> TurfCutJob:
    """Queue a cut for a django-q2 worker; the job row shows its progress."""
    _check_cut(campaign, target_doors, layer)
    from django_q.tasks import async_task

    with transaction.atomic():
        job = TurfCutJob.objects.create(
            organization_id=campaign.organization_id,
            campaign=campaign,
            target_doors=target_doors,
            layer=layer,
            only_unknocked=only_unknocked,
            replace=replace,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        transaction.on_commit(
            lambda: async_task("canvass.turfs.tasks.turf_cut_job_run", job.pk, task_name=f"turf-cut-{job.pk}")
        )
    return job


def turf_cut_job_run(*, job_id: int) -> TurfCutJob | None:
    """Run a queued cut once. A second delivery of the same job finds it taken and does nothing."""
    claimed = TurfCutJob.objects.filter(pk=job_id, status=TurfCutJob.Status.QUEUED).update(
        status=TurfCutJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = TurfCutJob.objects.select_related("campaign", "layer", "created_by").get(pk=job_id)
    last = [0.0]

    def progress(done: int, total: int | None, message: str) -> None:
        # The cut computes outside a transaction, so these autocommit updates
        # are visible to the organizer at once; at most one a second.
        now = timezone.now().timestamp()
        if now - last[0] < 1.0 and not (total and done >= total):
            return
        last[0] = now
        TurfCutJob.objects.filter(pk=job_id).update(done=done, total=total or 0, message=message)

    try:
        summary = turfs_cut(
            campaign=job.campaign,
            target_doors=job.target_doors,
            layer=job.layer,
            only_unknocked=job.only_unknocked,
            replace=job.replace,
            actor=job.created_by,
            progress=progress,
        )
    except ValidationError as exc:
        TurfCutJob.objects.filter(pk=job_id).update(
            status=TurfCutJob.Status.FAILED, finished_at=timezone.now(), message=validation_message(exc)
        )
    except Exception as exc:
        TurfCutJob.objects.filter(pk=job_id).update(
            status=TurfCutJob.Status.FAILED, finished_at=timezone.now(), message=f"The cut failed: {exc}"
        )
        raise
    else:
        data = summary.as_dict()
        TurfCutJob.objects.filter(pk=job_id).update(
            status=TurfCutJob.Status.DONE,
            finished_at=timezone.now(),
            summary=data,
            done=data["turfs"],
            total=data["turfs"],
            message=f"{data['turfs']} turfs of {data['size_min']}–{data['size_max']} doors "
            f"(mean {data['size_mean']}) from {data['doors']} doors.",
        )
    job.refresh_from_db()
    return job


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{' '.join(messages)}" for messages in exc.message_dict.values())
    return " ".join(exc.messages)


# ---------------------------------------------------------------- turfs by hand


@dataclass
class DrawnTurf:
    turf: Turf
    already_in_turfs: dict[int, str]  # door id -> name of the active turf it stays in


def turf_create_from_polygon(
    *,
    campaign: Campaign,
    geojson: object,
    name: str = "",
    actor: User | None = None,
) -> DrawnTurf:
    """A turf of the campaign's universe doors inside a drawn polygon.

    Doors already in another active turf of the campaign stay there and are
    reported. An invalid (self-intersecting) polygon is refused, not repaired:
    the organizer drew it and should redraw it.
    """
    try:
        checked = polygon_from_geojson(geojson)
    except GeometryError as exc:
        raise ValidationError({"polygon": str(exc)}) from None
    if checked.repaired:
        raise ValidationError(
            {"polygon": f"The polygon is not valid ({checked.problem}); draw it again without crossing edges."}
        )
    polygon = checked.geometry
    name = (name or "").strip()
    with transaction.atomic():
        _lock_campaign(campaign)
        min_x, min_y, max_x, max_y = polygon.bounds
        candidates = door_arrays(
            campaign_universe(campaign=campaign).filter(lng__gte=min_x, lng__lte=max_x, lat__gte=min_y, lat__lte=max_y)
        )
        inside, _ = points_in_polygons(candidates.lng, candidates.lat, [polygon])
        inside = np.unique(inside)
        if len(inside) == 0:
            raise ValidationError(
                {"polygon": "The polygon contains no doors of this campaign's universe; check where it was drawn."}
            )
        doors = candidates.take(inside)
        taken = dict(
            doors_in_active_turfs(campaign=campaign)
            .filter(door_id__in=doors.id.tolist())
            .values_list("door_id", "turf__name")
        )
        if taken:
            doors = doors.take(np.array([i not in taken for i in doors.id.tolist()], dtype=bool))
        if len(doors) == 0:
            raise StateConflict(
                {
                    "polygon": f"All {len(taken)} doors inside the polygon are already in active turfs of this "
                    "campaign; archive or split those turfs first, or draw where doors are free."
                }
            )
        namer = _TurfNamer(campaign)
        if not name:
            number, name = namer.next("Drawn")
        elif Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE, name=name).exists():
            raise ValidationError({"name": f"The campaign already has a turf named {name!r}."})
        else:
            number = namer.next_number()
        (turf,) = _turfs_write(
            campaign=campaign,
            new=[_NewTurf(number, name[:120], None, polygon, doors)],
            people=person_counts(doors.id.tolist()),
        )
        audit_log(
            organization=campaign.organization,
            actor=actor,
            action="turf.draw",
            obj=turf,
            doors=len(doors),
            already_in_turfs=len(taken),
        )
        stats_enqueue_turfs(turf_ids=[turf.pk])
    return DrawnTurf(turf=turf, already_in_turfs=taken)


def _check_changeable(turfs: Sequence[Turf]) -> None:
    for turf in turfs:
        if turf.status != Turf.Status.ACTIVE:
            raise StateConflict({"turfs": f"Turf {turf.name!r} is archived; only active turfs can change."})
    busy = list(
        turfs_with_current_assignments(Turf.objects.filter(pk__in=[t.pk for t in turfs])).values_list("name", flat=True)
    )
    if busy:
        raise StateConflict(
            {"turfs": f"Canvassers are assigned to {', '.join(sorted(busy))}: end those assignments first."}
        )


def turf_split(*, turf: Turf, parts: int = 2, actor: User | None = None) -> list[Turf]:
    """Split a turf into `parts` turfs of about equal size; the original is archived."""
    if not isinstance(parts, int) or isinstance(parts, bool) or parts < 2:
        raise ValidationError({"parts": "Split into 2 or more parts."})
    with transaction.atomic():
        turf = Turf.objects.select_for_update().get(pk=turf.pk)
        _check_changeable([turf])
        doors = door_arrays(turf.doors.all())
        if parts > len(doors):
            raise ValidationError(
                {"parts": f"{turf.name} has {len(doors)} located doors; it cannot make {parts} turfs."}
            )
        polygon = shapely.geometry.shape(turf.polygon) if turf.polygon else None
        result = cut_universe(
            CutDoors(
                lat=doors.lat,
                lng=doors.lng,
                building=doors.building,
                street=doors.street,
                number=doors.number,
                district=np.full(len(doors), -1, dtype=np.int64),
            ),
            math.ceil(len(doors) / parts),
            districts={-1: polygon} if polygon is not None else None,
        )
        turf.status = Turf.Status.ARCHIVED
        turf.save(update_fields=["status", "updated_at"])
        namer = _TurfNamer(turf.campaign)
        people = person_counts(doors.id.tolist())
        new = _turfs_write(
            campaign=turf.campaign,
            new=[
                _NewTurf(
                    *namer.next(f"{turf.name} /"),
                    turf.district,
                    cut.polygon,
                    doors.take(np.asarray(cut.doors, dtype=np.int64)),
                )
                for cut in result.turfs
            ],
            people=people,
        )
        audit_log(
            organization=turf.campaign.organization,
            actor=actor,
            action="turf.split",
            obj=turf,
            into=[t.name for t in new],
        )
        stats_enqueue_turfs(turf_ids=[t.pk for t in new])
    return new


def turfs_merge(*, turfs: Sequence[Turf], name: str = "", actor: User | None = None) -> Turf:
    """Merge turfs of one campaign into one, walked anew; the originals are archived."""
    if len({t.pk for t in turfs}) < 2:
        raise ValidationError({"turfs": "Merge needs two or more different turfs."})
    if len({t.campaign_id for t in turfs}) != 1:
        raise ValidationError({"turfs": "Only turfs of one campaign can be merged."})
    campaign = turfs[0].campaign
    with transaction.atomic():
        locked = list(Turf.objects.select_for_update().filter(pk__in=[t.pk for t in turfs]).order_by("pk"))
        _check_changeable(locked)
        doors = door_arrays(Door.objects.filter(pk__in=TurfDoor.objects.filter(turf__in=locked).values("door_id")))
        name = (name or "").strip()
        if name and Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE, name=name).exists():
            raise ValidationError({"name": f"The campaign already has a turf named {name!r}."})
        polygons = [shapely.geometry.shape(t.polygon) for t in locked if t.polygon]
        polygon = shapely.union_all(polygons) if polygons else None
        districts = {t.district_id for t in locked}
        Turf.objects.filter(pk__in=[t.pk for t in locked]).update(
            status=Turf.Status.ARCHIVED, updated_at=timezone.now()
        )
        # After the archiving: the merged turf takes the lowest of the numbers it frees.
        namer = _TurfNamer(campaign)
        number, default_name = namer.next(locked[0].name + " +")
        name = name or default_name
        (merged,) = _turfs_write(
            campaign=campaign,
            new=[_NewTurf(number, name[:120], locked[0].district if len(districts) == 1 else None, polygon, doors)],
            people=person_counts(doors.id.tolist()),
        )
        audit_log(
            organization=campaign.organization,
            actor=actor,
            action="turf.merge",
            obj=merged,
            merged=[t.name for t in locked],
        )
        stats_enqueue_turfs(turf_ids=[merged.pk])
    return merged


def turf_archive(*, turf: Turf, actor: User | None = None) -> Turf:
    with transaction.atomic():
        turf = Turf.objects.select_for_update().get(pk=turf.pk)
        _check_changeable([turf])
        turf.status = Turf.Status.ARCHIVED
        turf.save(update_fields=["status", "updated_at"])
        audit_log(organization=turf.campaign.organization, actor=actor, action="turf.archive", obj=turf)
    return turf


TURF_EDITABLE = frozenset({"name", "district"})


def turf_update(*, turf: Turf, actor: User | None = None, **changes: object) -> Turf:
    """Rename a turf or set the district it was cut within. Its doors and walk order
    change only by split and merge (new turfs), so the stats hold nothing to redo:
    they count a turf's knocks by its id and its doors. Phones holding it see the
    new name at their next pull."""
    unknown = set(changes) - TURF_EDITABLE
    if unknown:
        raise ValueError(f"turf_update cannot change {', '.join(sorted(unknown))}")
    if not changes:
        return turf
    with transaction.atomic():
        turf = Turf.objects.select_for_update().select_related("campaign__organization").get(pk=turf.pk)
        name = str(changes.get("name", turf.name)).strip()
        if not name:
            raise ValidationError({"name": "A turf needs a name."})
        if "name" in changes and Turf.objects.filter(campaign=turf.campaign, name=name).exclude(pk=turf.pk).exists():
            raise ValidationError({"name": f"The campaign already has a turf named {name!r}."})
        district = changes.get("district", turf.district)
        if district is not None and district.organization_id != turf.organization_id:  # type: ignore[attr-defined]  # a District (TURF_EDITABLE)
            raise ValidationError({"district": "No such district."})
        if "name" in changes:
            changes["name"] = name
        for field_name, value in changes.items():
            setattr(turf, field_name, value)
        turf.save(update_fields=[*changes, "updated_at"])
        audit_log(
            organization=turf.campaign.organization, actor=actor, action="turf.update", obj=turf, fields=sorted(changes)
        )
        sync_changes_record(
            organization_id=turf.organization_id, kind=SyncChange.Kind.TURF, object_id=turf.pk, turf_id=turf.pk
        )
    return turf


# ---------------------------------------------------------------- drawn on the map


def _checked_polygon(geojson: object) -> BaseGeometry:
    """A drawn polygon, refused (never repaired) when it crosses itself."""
    try:
        checked = polygon_from_geojson(geojson)
    except GeometryError as exc:
        raise ValidationError({"polygon": str(exc)}) from None
    if checked.repaired:
        raise ValidationError(
            {"polygon": f"The polygon is not valid ({checked.problem}); draw it again without crossing edges."}
        )
    return checked.geometry


@dataclass
class DoorsInPolygon:
    doors: int  # universe doors inside the polygon
    free: int  # of them, not in another active turf (a drawn turf would get these)
    in_turfs: int  # of them, in another active turf (they would stay there)


def doors_in_polygon(*, campaign: Campaign, geojson: object, ignore_turf: Turf | None = None) -> DoorsInPolygon:
    """What a turf drawn here would get: the count the admin map shows while the organizer draws.
    A read (no lock): the figure is a preview; the write checks again. `ignore_turf`: the turf
    being reshaped, whose doors count as free."""
    polygon = _checked_polygon(geojson)
    min_x, min_y, max_x, max_y = polygon.bounds
    candidates = door_arrays(
        campaign_universe(campaign=campaign).filter(lng__gte=min_x, lng__lte=max_x, lat__gte=min_y, lat__lte=max_y)
    )
    inside, _ = points_in_polygons(candidates.lng, candidates.lat, [polygon])
    ids = candidates.id[np.unique(inside)].tolist()
    taken = doors_in_active_turfs(campaign=campaign).filter(door_id__in=ids)
    if ignore_turf is not None:
        taken = taken.exclude(turf=ignore_turf)
    in_turfs = taken.values("door_id").distinct().count() if ids else 0
    return DoorsInPolygon(doors=len(ids), free=len(ids) - in_turfs, in_turfs=in_turfs)


def turf_reshape(*, turf: Turf, geojson: object, actor: User | None = None) -> DrawnTurf:
    """Redraw a turf's polygon: a new turf of the doors inside it (its own, and free doors of the
    universe), the old one archived (a turf's doors are never edited in place). Doors of other
    active turfs inside the new polygon stay where they are and are reported; doors of the old
    turf outside it become free."""
    polygon = _checked_polygon(geojson)
    with transaction.atomic():
        turf = Turf.objects.select_for_update().select_related("campaign__organization").get(pk=turf.pk)
        campaign = turf.campaign
        _lock_campaign(campaign)
        _check_changeable([turf])
        min_x, min_y, max_x, max_y = polygon.bounds
        box = {"lng__gte": min_x, "lng__lte": max_x, "lat__gte": min_y, "lat__lte": max_y}
        own = set(turf.doors.values_list("pk", flat=True))
        candidates = door_arrays(Door.objects.filter(_universe_or_own(campaign, own), **box))
        inside, _ = points_in_polygons(candidates.lng, candidates.lat, [polygon])
        doors = candidates.take(np.unique(inside))
        taken = dict(
            doors_in_active_turfs(campaign=campaign)
            .exclude(turf=turf)
            .filter(door_id__in=doors.id.tolist())
            .values_list("door_id", "turf__name")
        )
        if taken:
            doors = doors.take(np.array([i not in taken for i in doors.id.tolist()], dtype=bool))
        if len(doors) == 0:
            raise ValidationError({"polygon": "The new shape holds no doors that could be in this turf."})
        turf.status = Turf.Status.ARCHIVED
        turf.save(update_fields=["status", "updated_at"])
        (new,) = _turfs_write(
            campaign=campaign,
            new=[_NewTurf(*_TurfNamer(campaign).next(f"{turf.name} ~"), turf.district, polygon, doors)],
            people=person_counts(doors.id.tolist()),
        )
        audit_log(
            organization=campaign.organization,
            actor=actor,
            action="turf.reshape",
            obj=new,
            reshaped=turf.name,
            doors=len(doors),
            already_in_turfs=len(taken),
        )
        stats_enqueue_turfs(turf_ids=[new.pk])
    return DrawnTurf(turf=new, already_in_turfs=taken)


def _universe_or_own(campaign: Campaign, own: set[int]) -> Q:
    """Doors of the campaign's universe, or of the turf being reshaped (a drawn turf may hold
    doors that are no longer in the targets)."""
    return Q(pk__in=campaign_universe(campaign=campaign).values("pk")) | Q(pk__in=own)


def turf_split_by_line(*, turf: Turf, line: object, actor: User | None = None) -> list[Turf]:
    """Split a turf along a line drawn across it: one new turf per side that holds doors, the
    original archived. Its located doors are shared out, none added; a building stays whole."""
    if not isinstance(line, dict) or line.get("type") != "LineString":
        raise ValidationError({"line": "Draw a line (a LineString) across the turf."})
    try:
        cut = shapely.geometry.shape(line)
    except Exception:  # shapely raises several types for bad coordinates
        raise ValidationError({"line": "The line's coordinates cannot be read."}) from None
    coords = np.asarray(cut.coords, dtype=float) if not cut.is_empty else np.empty((0, 2))
    if len(coords) < 2 or not np.isfinite(coords).all() or len(coords) > 10_000:
        raise ValidationError({"line": "Draw a line of 2 to 10,000 points across the turf."})
    min_x, min_y, max_x, max_y = cut.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise ValidationError({"line": "The line's coordinates are outside the world."})
    with transaction.atomic():
        turf = Turf.objects.select_for_update().select_related("campaign__organization").get(pk=turf.pk)
        _check_changeable([turf])
        doors = door_arrays(turf.doors.all())
        points = shapely.MultiPoint(np.column_stack([doors.lng, doors.lat])) if len(doors) else None
        outline = shapely.geometry.shape(turf.polygon) if turf.polygon else None
        if outline is None or outline.is_empty:
            outline = points.convex_hull.buffer(1e-5) if points is not None else None
        if outline is None:
            raise ValidationError({"line": f"{turf.name} has no located doors to split."})
        # Cut a little more than the turf's outline, so that doors on its edge fall on a side.
        pieces = [
            p
            for p in shapely.ops.split(outline.buffer(1e-6), cut).geoms
            if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty
        ]
        if len(pieces) < 2:
            raise ValidationError({"line": "The line does not cross the turf from one side to the other."})
        # Each door goes to the first piece holding it (a door on the line goes to one side only).
        side = np.full(len(doors), -1, dtype=np.int64)
        for point_index, piece_index in zip(*points_in_polygons(doors.lng, doors.lat, pieces), strict=True):
            if side[point_index] < 0:
                side[point_index] = piece_index
        # Buildings stay whole: every unit of a building goes where most of its doors went.
        for building in np.unique(doors.building):
            members = doors.building == building
            sides = side[members]
            sides = sides[sides >= 0]
            if len(sides):
                side[members] = np.bincount(sides).argmax()
        if (side < 0).any():
            raise ValidationError({"line": "Some doors of the turf are on no side of the line; redraw it."})
        used = [k for k in range(len(pieces)) if (side == k).any()]
        if len(used) < 2:
            raise ValidationError({"line": "All the turf's doors are on one side of the line."})
        turf.status = Turf.Status.ARCHIVED
        turf.save(update_fields=["status", "updated_at"])
        namer = _TurfNamer(turf.campaign)
        new = _turfs_write(
            campaign=turf.campaign,
            new=[
                _NewTurf(
                    *namer.next(f"{turf.name} /"),
                    turf.district,
                    pieces[k].intersection(outline) if turf.polygon else pieces[k],
                    doors.take(np.flatnonzero(side == k)),
                )
                for k in used
            ],
            people=person_counts(doors.id.tolist()),
        )
        audit_log(
            organization=turf.campaign.organization,
            actor=actor,
            action="turf.split",
            obj=turf,
            into=[t.name for t in new],
            by="line",
        )
        stats_enqueue_turfs(turf_ids=[t.pk for t in new])
    return new
