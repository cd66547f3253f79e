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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler
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


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """In the active zone (the organization's, in API views, pull included): the JSON carries
    its offset, as every response of the API."""
    return timezone.localtime(value) if value is not None else None


# The walk list's queries: constant shapes whose only parameters are ids, compiled once per
# process (_prepared_values). Every phone downloads its walk list, 1,000 of them within a
# minute on a busy morning, and the ORM's compiling of these cost more than running them.


def _turf_doors(*, turf_id: int, campaign_id: int) -> QuerySet:
    # Held and rejected knocks never show as a door's last result (docs/architecture.md, "Trust").
    latest = (
        ContactAttempt.objects.counted()
        .filter(campaign_id=campaign_id, door_id=OuterRef("door_id"))
        .order_by("-corrected_at", "-received_at")
    )
    return (
        TurfDoor.objects.filter(turf_id=turf_id)
        .annotate(
            last_code=Subquery(latest.values("result_code__code")[:1]),
            last_at=Subquery(latest.values("corrected_at")[:1]),
        )
        .order_by("position")
        .values("position", "last_code", "last_at", *(f"door__{name}" for name in DOOR_FIELDS))
    )


def _turf_people(*, turf_id: int) -> QuerySet:
    return (
        Person.objects.filter(door__turf_doors__turf_id=turf_id)
        .order_by("door_id", "last_name", "first_name", "id")
        .values("id", "door_id", "first_name", "last_name")
    )


def _script_questions(*, campaign_id: int) -> QuerySet:
    return (
        SurveyQuestion.objects.filter(campaign_id=campaign_id, is_active=True)
        .order_by("position", "id")
        .values("id", "position", "text", "text_es")
    )


def _script_options(*, campaign_id: int) -> QuerySet:
    return (
        SurveyOption.objects.filter(question__campaign_id=campaign_id, question__is_active=True)
        .order_by("position", "id")
        .values("id", "question_id", "position", "label", "label_es")
    )


def _result_codes(*, organization_id: int) -> QuerySet:
    return (
        ResultCode.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("position", "code")
        .values("id", "code", "label", "label_es", "is_contact", "is_refusal", "is_final")
    )


@dataclass(frozen=True)
class _Prepared:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[str, tuple[int, ...]], ...]  # parameter name -> its positions in params
    compiler: SQLCompiler
    names: tuple[str, ...]


_prepared: dict[Callable[..., QuerySet], _Prepared | None] = {}
# Stand-ins for the ids while a query is compiled: ids are positive, so never one of these.
_STAND_IN = -7_340_001


def _prepared_values(build: Callable[..., QuerySet], **ids: int) -> list[dict[str, Any]]:
    """The rows of `build(**ids)` (a .values() queryset whose only varying parameters are
    these ids), as .values() gives them: the SQL is compiled once per process, with
    stand-ins for the ids, and run again with the ids put in their places; the rows go
    through the compiler's converters as the ORM's own do. A query whose stand-ins do not
    all come out as parameters is run through the ORM every time."""
    if build not in _prepared:
        stand_ins = {name: _STAND_IN - i for i, name in enumerate(sorted(ids))}
        queryset = build(**stand_ins)
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        slots = tuple((name, tuple(i for i, p in enumerate(params) if p == v)) for name, v in stand_ins.items())
        query = queryset.query
        names = (
            tuple(query.selected)
            if query.selected
            else (*query.extra_select, *query.values_select, *query.annotation_select)
        )
        ok = all(positions for _, positions in slots)
        _prepared[build] = _Prepared(sql, tuple(params), slots, compiler, names) if ok else None
    prepared = _prepared[build]
    if prepared is None:
        return list(build(**ids))
    params = list(prepared.params)
    for name, positions in prepared.slots:
        for position in positions:
            params[position] = ids[name]
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, params)
        rows = cursor.fetchall()
    names = prepared.names
    return [dict(zip(names, row, strict=True)) for row in prepared.compiler.results_iter(results=[rows])]


def walk_list(assignment: Assignment) -> dict[str, Any]:
    """The turf, script, result codes and doors in walk order of one assignment.

    Five queries whatever the number of doors (four without a script): turf doors
    with their door and the latest attempt at each (two correlated subqueries on
    the (campaign, door) index), people, questions, options, result codes; each
    compiled once per process (_prepared_values).
    `assignment` comes from canvass.access.assignment_for_user (turf and campaign joined).
    """
    turf, campaign = assignment.turf, assignment.campaign
    people_by_door: dict[int, list[dict[str, Any]]] = {}
    turf_doors = _prepared_values(_turf_doors, turf_id=turf.pk, campaign_id=campaign.pk)
    for person in _prepared_values(_turf_people, turf_id=turf.pk):
        people_by_door.setdefault(person["door_id"], []).append(person_dict(person))
    questions = _prepared_values(_script_questions, campaign_id=campaign.pk)
    options: dict[int, list[dict[str, Any]]] = {}
    for option in _prepared_values(_script_options, campaign_id=campaign.pk) if questions else []:
        options.setdefault(option["question_id"], []).append(
            {
                "id": option["id"],
                "position": option["position"],
                "label": option["label"],
                "label_es": option["label_es"],
            }
        )
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
            "starts_at": local_time(assignment.starts_at),
            "ends_at": local_time(assignment.ends_at),
            "ended_at": local_time(assignment.ended_at),
            "shift": assignment.shift_id,
        },
        "turf": {"id": turf.pk, "name": turf.name, "polygon": turf.polygon, "door_count": len(doors)},
        "campaign": {"id": campaign.pk, "slug": campaign.slug, "name": campaign.name},
        "script": [{**question, "options": options.get(question["id"], [])} for question in questions],
        "result_codes": _prepared_values(_result_codes, organization_id=assignment.organization_id),
        "doors": doors,
    }
