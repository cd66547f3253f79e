"""What canvass moves when turf merges doors that are one physical door
(turf/services.py doors_merge; registered in canvass/apps.py): the knocks and
the turf memberships of the merged doors go to the surviving door, inside the
merge's transaction (knocks PROTECT their door: they must move before it is
deleted). After the commit, the stats of the knocks and turfs involved are
queued for recompute."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from django.db import transaction
from django.db.models import Count

from canvass.stats.queue import stats_enqueue_redistricted, stats_enqueue_turfs
from canvass.sync.models import ContactAttempt
from canvass.turfs.models import Turf, TurfDoor
from fieldops.changelog import Change
from fieldops.models import SyncChange
from turf.models import Person


def doors_merged(organization_id: int, merges: Mapping[int, Sequence[int]]) -> list[Change]:
    changes: list[Change] = []
    turf_ids: set[int] = set()
    knocked: set[int] = set()
    for survivor, merged in merges.items():
        attempts = list(ContactAttempt.objects.filter(door_id__in=merged).values_list("pk", "canvasser_id"))
        if attempts:
            ContactAttempt.objects.filter(pk__in=[pk for pk, _ in attempts]).update(door_id=survivor)
            knocked.add(survivor)
        changes += [
            Change(kind=SyncChange.Kind.ATTEMPT, object_id=str(pk), door_id=survivor, user_id=user_id)
            for pk, user_id in attempts
        ]
        memberships = list(
            TurfDoor.objects.filter(door_id__in=merged).order_by("turf_id", "position").values_list("pk", "turf_id")
        )
        if not memberships:
            continue
        listed = set(
            TurfDoor.objects.filter(door_id=survivor, turf_id__in={t for _, t in memberships}).values_list(
                "turf_id", flat=True
            )
        )
        drop: list[int] = []
        move: list[int] = []
        for pk, turf_id in memberships:
            # A turf lists a door once: where it had both, the survivor keeps
            # its place; where it had only the merged door, the survivor takes that place.
            (drop if turf_id in listed else move).append(pk)
            listed.add(turf_id)
            turf_ids.add(turf_id)
        TurfDoor.objects.filter(pk__in=drop).delete()
        TurfDoor.objects.filter(pk__in=move).update(door_id=survivor)
    if turf_ids:
        _turf_sizes_update(sorted(turf_ids))
        changes += [Change(kind=SyncChange.Kind.TURF, object_id=t, turf_id=t) for t in sorted(turf_ids)]
        stats_enqueue_turfs(turf_ids=turf_ids)
    if knocked:
        transaction.on_commit(partial(stats_enqueue_redistricted, organization_id, sorted(knocked)), robust=True)
    return changes


def _turf_sizes_update(turf_ids: list[int]) -> None:
    """Door, building and person counts of turfs whose doors changed."""
    doors = dict(
        TurfDoor.objects.filter(turf_id__in=turf_ids)
        .values("turf_id")
        .annotate(n=Count("door_id"))
        .values_list("turf_id", "n")
    )
    buildings = dict(
        TurfDoor.objects.filter(turf_id__in=turf_ids)
        .exclude(door__building_key="")
        .values("turf_id")
        .annotate(n=Count("door__building_key", distinct=True))
        .values_list("turf_id", "n")
    )
    people = dict(
        Person.objects.filter(door__turf_doors__turf_id__in=turf_ids)
        .values("door__turf_doors__turf_id")
        .annotate(n=Count("pk"))
        .values_list("door__turf_doors__turf_id", "n")
    )
    for turf_id in turf_ids:
        Turf.objects.filter(pk=turf_id).update(
            door_count=doors.get(turf_id, 0),
            building_count=buildings.get(turf_id, 0),
            person_count=people.get(turf_id, 0),
        )


__all__ = ["doors_merged"]
