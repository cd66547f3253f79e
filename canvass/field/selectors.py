"""Reads of field work that combine tables or need care: N+1, the walk list (access: canvass/access.py).

The definition of a *current* assignment lives here, once, for the API, the
sync and the authorization checks:

    an assignment is current when it has not been ended (ended_at is null)
    and its window has not run out (ends_at is null or ends_at > now).

starts_at is deliberately not checked: an assignment that starts tonight is
current this afternoon, so the phone can download the walk list while it has
signal. A canvasser's current assignments are the current ones they are a
member of, in their own organization, while their membership is active.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import User
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from canvass.campaigns.models import ResultCode, SurveyOption, SurveyQuestion
from canvass.field.models import Assignment, AssignmentCanvasser, Shift, ShiftSignup
from canvass.sync.models import ContactAttempt
from canvass.turfs.models import TurfDoor
from fieldops.access import User as Asker
from fieldops.access import membership_for
from turf.importers.door_columns import ADDRESS_FIELDS
from turf.models import Door, Person


def current_assignment_q(now: dt.datetime | None = None, prefix: str = "") -> Q:
    """The condition "current" as a Q; `prefix` ("assignment__") for related lookups."""
    now = now or timezone.now()
    return Q(**{f"{prefix}ended_at__isnull": True}) & (
        Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": now})
    )


def assignments_current_for(user: Asker, *, now: dt.datetime | None = None) -> QuerySet[Assignment]:
    """The user's own current assignments (see the module docstring), any role."""
    membership = membership_for(user)
    if membership is None:
        return Assignment.objects.none()
    return Assignment.objects.filter(
        current_assignment_q(now),
        organization_id=membership.organization_id,
        members__user_id=membership.user_id,
    )


def with_list_relations(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    """Everything the assignment list shows, in two queries whatever the length."""
    return assignments.select_related("turf", "campaign", "shift").prefetch_related(
        Prefetch("members", queryset=AssignmentCanvasser.objects.select_related("user").order_by("user__username"))
    )


def with_my_signup(shifts: QuerySet[Shift], user: User) -> QuerySet[Shift]:
    """Annotate each shift with the user's own sign-up, as correlated subqueries
    (no query per row): my_status (signed_up, cancelled, no_show; None if never
    signed up), my_checked_in_at and my_checked_out_at (None until they happen).
    The phone shows "Check in" or "Check out" from them."""
    mine = ShiftSignup.objects.filter(shift=OuterRef("pk"), user=user)
    return shifts.annotate(
        my_status=Subquery(mine.values("status")[:1]),
        my_checked_in_at=Subquery(mine.values("checked_in_at")[:1]),
        my_checked_out_at=Subquery(mine.values("checked_out_at")[:1]),
    )


def shifts_upcoming(shifts: QuerySet[Shift], user: User, *, now: dt.datetime | None = None) -> QuerySet[Shift]:
    """Of `shifts` (canvass.access.shifts_for_user), those that have not ended, soonest
    first, with the user's own sign-up (with_my_signup)."""
    now = now or timezone.now()
    return with_my_signup(shifts.filter(ends_at__gt=now).select_related("campaign"), user).order_by("starts_at", "id")


def shift_roster(shift: Shift) -> QuerySet[ShiftSignup]:
    return shift.signups.select_related("user").order_by("user__username")


# --- The walk list -------------------------------------------------------------

# The door as a phone reads it: the importer's normalized address parts, the building and the point.
DOOR_FIELDS = ("id", *ADDRESS_FIELDS, "building_key", "lat", "lng")


def person_dict(person: Mapping[str, Any]) -> dict[str, Any]:
    """The people at a door as a phone gets them. Minimal PII: a canvasser greets
    people by name; phone, email, birth year and party stay on the server."""
    return {"id": person["id"], "first_name": person["first_name"], "last_name": person["last_name"]}


_display_address = Door.display_address.fget  # type: ignore[attr-defined]  # mypy reads a property on the class as its getter function


def door_dict(
    door: dict[str, Any], *, position: int, people: list[dict[str, Any]], last_result: dict[str, Any] | None
) -> dict[str, Any]:
    """One door of a walk list (also the shape the sync pull should send), from
    a `.values(*DOOR_FIELDS)` row: 1,000 model instances cost 150 ms, rows nothing."""
    return {
        "id": door["id"],
        "position": position,
        # Door.display_address, applied to the row: one definition of the address's display form.
        "address": _display_address(SimpleNamespace(**door)),
        **{name: door[name] for name in DOOR_FIELDS if name != "id"},
        "people": people,
        "last_result": last_result,
    }


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """In the active zone (the organization's, in API views): the JSON carries its offset."""
    return timezone.localtime(value) if value is not None else None


def walk_list(assignment: Assignment) -> dict[str, Any]:
    """The turf, script, result codes and doors in walk order of one assignment.

    Seven queries whatever the number of doors: turf doors with their door and
    the latest attempt at each (two correlated subqueries on the
    (campaign, door) index), people, questions, options, result codes.
    `assignment` comes from canvass.access.assignment_for_user (turf and campaign joined).
    """
    turf, campaign = assignment.turf, assignment.campaign
    # Held and rejected knocks never show as a door's last result (docs/architecture.md, "Trust").
    latest = (
        ContactAttempt.objects.counted()
        .filter(campaign_id=campaign.pk, door_id=OuterRef("door_id"))
        .order_by("-corrected_at", "-received_at")
    )
    turf_doors = (
        TurfDoor.objects.filter(turf_id=turf.pk)
        .annotate(
            last_code=Subquery(latest.values("result_code__code")[:1]),
            last_at=Subquery(latest.values("corrected_at")[:1]),
        )
        .order_by("position")
        .values("position", "last_code", "last_at", *(f"door__{name}" for name in DOOR_FIELDS))
    )
    people_by_door: dict[int, list[dict[str, Any]]] = {}
    people = (
        Person.objects.filter(door__turf_doors__turf_id=turf.pk)
        .order_by("door_id", "last_name", "first_name", "id")
        .values("id", "door_id", "first_name", "last_name")
    )
    for person in people:
        people_by_door.setdefault(person["door_id"], []).append(person_dict(person))
    questions = SurveyQuestion.objects.filter(campaign_id=campaign.pk, is_active=True).prefetch_related(
        Prefetch("options", queryset=SurveyOption.objects.order_by("position", "id"))
    )
    result_codes = ResultCode.objects.filter(organization_id=assignment.organization_id, is_active=True)
    doors = []
    for row in turf_doors:
        door = {name: row[f"door__{name}"] for name in DOOR_FIELDS}
        last = row["last_code"]
        doors.append(
            door_dict(
                door,
                position=row["position"],
                people=people_by_door.get(door["id"], []),
                last_result={"result_code": last, "at": timezone.localtime(row["last_at"])} if last else None,
            )
        )
    return {
        "assignment": {
            "id": assignment.pk,
            "starts_at": _local(assignment.starts_at),
            "ends_at": _local(assignment.ends_at),
            "ended_at": _local(assignment.ended_at),
            "shift": assignment.shift_id,
        },
        "turf": {"id": turf.pk, "name": turf.name, "polygon": turf.polygon, "door_count": len(doors)},
        "campaign": {"id": campaign.pk, "slug": campaign.slug, "name": campaign.name},
        "script": [
            {
                "id": q.pk,
                "position": q.position,
                "text": q.text,
                "text_es": q.text_es,
                "options": [
                    {"id": o.pk, "position": o.position, "label": o.label, "label_es": o.label_es}
                    for o in q.options.all()
                ],
            }
            for q in questions.order_by("position", "id")
        ],
        "result_codes": [
            {
                "id": rc.pk,
                "code": rc.code,
                "label": rc.label,
                "label_es": rc.label_es,
                "is_contact": rc.is_contact,
                "is_refusal": rc.is_refusal,
                "is_final": rc.is_final,
            }
            for rc in result_codes.order_by("position", "code")
        ],
        "doors": doors,
    }
