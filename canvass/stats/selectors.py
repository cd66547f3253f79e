"""Reads of the stats tables for the dashboard and the stats API.

Every read is a fixed number of queries, whatever the number of days,
districts, turfs or canvassers (pinned in tests/canvass/stats/test_dashboard.py and
test_stats_api.py). Sums over days are done by the database; only the answer
counts (a JSON object per row) are added up in Python, and only when asked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from canvass.campaigns.models import Campaign
from canvass.field.models import Shift, ShiftSignup
from canvass.stats.days import day_window, local_day
from canvass.stats.models import StatsDay, StatsKind
from canvass.sync.models import ContactAttempt
from canvass.turfs.models import Turf
from turf.models import District, DistrictLayer, DoorDistrict

SUMMED = (
    "attempts",
    "new_doors",
    "contacts",
    "refusals",
    "support_1",
    "support_2",
    "support_3",
    "support_4",
    "support_5",
    "literature_drops",
)
PACE_DAYS = 7


def _stats(campaign: Campaign, kind: str, date_from: dt.date | None, date_to: dt.date | None) -> QuerySet[StatsDay]:
    rows = StatsDay.objects.filter(campaign=campaign, kind=kind)
    if date_from is not None:
        rows = rows.filter(day__gte=date_from)
    if date_to is not None:
        rows = rows.filter(day__lte=date_to)
    return rows


def _totals_by_key(rows: QuerySet[StatsDay]) -> dict[int, dict[str, Any]]:
    """{key id: sums over the days}. `doors_knocked` in the result is the sum of
    new_doors: the doors first knocked in the period (with no period: every
    door ever knocked); `door_visits` sums the daily distinct doors."""
    sums = {name: Coalesce(Sum(name), 0) for name in SUMMED}
    out: dict[int, dict[str, Any]] = {}
    totals = rows.order_by().values("key_id").annotate(door_visits=Coalesce(Sum("doors_knocked"), 0), **sums)
    # cast: the stubs type .values() rows by the annotations they can name, not by **sums.
    for row in cast("Iterable[dict[str, Any]]", totals):
        key = row.pop("key_id")
        row["doors_knocked"] = row.pop("new_doors")
        row["contact_rate"] = round(row["contacts"] / row["attempts"], 4) if row["attempts"] else None
        row["supporters"] = row["support_1"] + row["support_2"]
        out[key] = row
    return out


def _answers_by_key(rows: QuerySet[StatsDay]) -> dict[int, dict[str, int]]:
    merged: dict[int, dict[str, int]] = defaultdict(dict)
    for key, answers in rows.exclude(answers={}).values_list("key_id", "answers"):
        target = merged[key]
        for option, count in answers.items():
            target[option] = target.get(option, 0) + count
    return merged


def _empty_totals() -> dict[str, Any]:
    return {
        "attempts": 0,
        "doors_knocked": 0,
        "door_visits": 0,
        "contacts": 0,
        "refusals": 0,
        **{f"support_{n}": 0 for n in range(1, 6)},
        "literature_drops": 0,
        "contact_rate": None,
        "supporters": 0,
    }


UNIVERSE_CACHE_SECONDS = 300


def universe_by_district(campaign: Campaign, layer_ids: list[int] | None = None) -> dict[int, int]:
    """{district id: doors of the campaign's universe in it}: one query, cached five minutes.

    The universe changes only when the campaign's target districts change or
    doors are imported, and counting it costs a join over every door of the
    universe and its districts (0.2 s for Venice's 15,412 doors on a busy
    2-core machine, most of the dashboard's budget).
    """
    key = f"fieldops:universe:{campaign.pk}:{campaign.created_at.timestamp()}:{layer_ids}"
    counts = cache.get_or_set(key, lambda: _universe_by_district(campaign, layer_ids), UNIVERSE_CACHE_SECONDS)
    return cast(dict[int, int], counts)  # what _universe_by_district returned, now or five minutes ago


def _universe_by_district(campaign: Campaign, layer_ids: list[int] | None) -> dict[int, int]:
    universe = DoorDistrict.objects.filter(district__campaigns=campaign).values("door_id")
    links = DoorDistrict.objects.filter(door_id__in=universe)
    if layer_ids is not None:
        links = links.filter(district__layer_id__in=layer_ids)
    return dict(links.order_by().values("district_id").annotate(n=Count("door_id")).values_list("district_id", "n"))


def district_stats(
    *,
    campaign: Campaign,
    layer: DistrictLayer | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    with_answers: bool = True,
) -> list[dict[str, Any]]:
    """One entry per district (of the layer, or of every layer) that has doors of
    the universe or knocks. Four queries."""
    layers = [layer.pk] if layer is not None else None
    districts = District.objects.filter(organization_id=campaign.organization_id).select_related("layer")
    if layer is not None:
        districts = districts.filter(layer=layer)
    rows = _stats(campaign, StatsKind.DISTRICT, date_from, date_to)
    totals = _totals_by_key(rows)
    answers = _answers_by_key(rows) if with_answers else {}
    universe = universe_by_district(campaign, layers)
    wanted = set(totals) | set(universe)
    out = []
    # Not the geometry columns: a district's polygon can be megabytes.
    districts = districts.only("pk", "name", "external_id", "layer_id", "layer__name")
    for district in districts.filter(pk__in=wanted).order_by("layer__name", "name"):
        entry = {
            "district": district.pk,
            "name": district.name,
            "external_id": district.external_id,
            "layer": district.layer_id,
            "layer_name": district.layer.name,
            "doors_in_universe": universe.get(district.pk, 0),
            **totals.get(district.pk, _empty_totals()),
        }
        if with_answers:
            entry["answers"] = answers.get(district.pk, {})
        out.append(entry)
    return out


def day_stats(
    *, campaign: Campaign, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[dict[str, Any]]:
    """The campaign's days: doors_knocked is that day's distinct doors; new_doors the first knocks."""
    fields = ("day", "attempts", "doors_knocked", "new_doors", "contacts", "refusals", "literature_drops")
    rows = _stats(campaign, StatsKind.CAMPAIGN, date_from, date_to).order_by("day")
    out = []
    for row in rows.values(*fields, *(f"support_{n}" for n in range(1, 6)), "answers"):
        row["contact_rate"] = round(row["contacts"] / row["attempts"], 4) if row["attempts"] else None
        out.append(row)
    return out


def turf_stats(
    *,
    campaign: Campaign,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    include_archived: bool = False,
    with_answers: bool = True,
) -> list[dict[str, Any]]:
    """The campaign's turfs with their progress: doors knocked (ever, or first knocked
    in the period) against the turf's doors. Three queries."""
    turfs = Turf.objects.filter(campaign=campaign)
    if not include_archived:
        turfs = turfs.filter(status=Turf.Status.ACTIVE)
    rows = _stats(campaign, StatsKind.TURF, date_from, date_to)
    totals = _totals_by_key(rows)
    answers = _answers_by_key(rows) if with_answers else {}
    out = []
    for turf in turfs.order_by("name").only("pk", "name", "number", "status", "door_count", "updated_at"):
        entry = {
            "turf": turf.pk,
            "name": turf.name,
            "number": turf.number,
            "status": turf.status,
            "door_count": turf.door_count,
            **totals.get(turf.pk, _empty_totals()),
        }
        entry["completion"] = round(min(entry["doors_knocked"] / turf.door_count, 1.0), 4) if turf.door_count else None
        if with_answers:
            entry["answers"] = answers.get(turf.pk, {})
        entry["_updated_at"] = turf.updated_at
        out.append(entry)
    return out


def canvasser_stats(
    *,
    campaign: Campaign,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    with_answers: bool = True,
) -> list[dict[str, Any]]:
    """The campaign's canvassers: knocks, doors, contacts, and hours from shift check-in
    to check-out (the campaign's shifts in the period). Four queries."""
    from django.contrib.auth import get_user_model

    rows = _stats(campaign, StatsKind.CANVASSER, date_from, date_to)
    totals = _totals_by_key(rows)
    # For one canvasser, the sum of daily distinct doors is the honest "doors" figure.
    for row in totals.values():
        row["doors_knocked"] = row["door_visits"]
    answers = _answers_by_key(rows) if with_answers else {}
    signups = ShiftSignup.objects.filter(
        shift__campaign=campaign, checked_in_at__isnull=False, checked_out_at__isnull=False
    )
    tz = campaign.organization.tzinfo
    if date_from is not None:
        signups = signups.filter(checked_in_at__gte=dt.datetime.combine(date_from, dt.time(), tzinfo=tz))
    if date_to is not None:
        signups = signups.filter(
            checked_in_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        )
    worked = dict(
        signups.order_by()
        .values("user_id")
        .annotate(t=Sum(ExpressionWrapper(F("checked_out_at") - F("checked_in_at"), output_field=DurationField())))
        .values_list("user_id", "t")
    )
    users = get_user_model().objects.filter(pk__in=set(totals) | set(worked)).order_by("username")
    out = []
    for user in users.only("pk", "username", "first_name", "last_name"):
        hours = worked.get(user.pk)
        entry = {
            "canvasser": user.pk,
            "username": user.get_username(),
            "name": user.get_full_name(),
            **totals.get(user.pk, _empty_totals()),
            "hours": round(hours.total_seconds() / 3600, 2) if hours else 0.0,
        }
        entry["doors_per_hour"] = round(entry["doors_knocked"] / entry["hours"], 1) if entry["hours"] else None
        if with_answers:
            entry["answers"] = answers.get(user.pk, {})
        out.append(entry)
    return out


@dataclass
class Progress:
    knocked: int
    goal: int
    percent: float | None
    pace_per_day: float
    projected_finish: dt.date | None
    today: dt.date
    ends_on: dt.date | None
    on_track: bool | None


def campaign_progress(*, campaign: Campaign, now: dt.datetime | None = None) -> Progress:
    """Doors knocked against the goal, and when the goal is reached at the pace of
    the last seven days (today included). Two queries."""
    tz = campaign.organization.tzinfo
    today = timezone.localtime(now or timezone.now(), tz).date()
    rows = StatsDay.objects.filter(campaign=campaign, kind=StatsKind.CAMPAIGN)
    knocked = rows.aggregate(n=Coalesce(Sum("new_doors"), 0))["n"]
    recent = rows.filter(day__gt=today - dt.timedelta(days=PACE_DAYS), day__lte=today)
    pace = recent.aggregate(n=Coalesce(Sum("new_doors"), 0))["n"] / PACE_DAYS
    goal = campaign.goal_doors
    finish = None
    if goal and knocked >= goal:
        finish = today
    elif goal and pace > 0:
        finish = today + dt.timedelta(days=math.ceil((goal - knocked) / pace))
    on_track = None
    if campaign.ends_on and finish:
        on_track = finish <= campaign.ends_on
    return Progress(
        knocked=knocked,
        goal=goal,
        percent=round(100 * knocked / goal, 1) if goal else None,
        pace_per_day=round(pace, 1),
        projected_finish=finish,
        today=today,
        ends_on=campaign.ends_on,
        on_track=on_track,
    )


def shift_fill(*, campaign: Campaign, limit: int = 20, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The campaign's shifts from a week ago on, in order of their start (at most `limit`),
    with sign-ups, check-ins and capacity. One query."""
    now = now or timezone.now()
    return _shift_rows(Shift.objects.filter(campaign=campaign, ends_at__gte=now - dt.timedelta(days=7)), limit=limit)


def shifts_of_day(*, campaign: Campaign, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The campaign's shifts that start today (the organization's day), in order, as shift_fill
    gives them: every one of them, however many shifts the week holds. One query."""
    now = now or timezone.now()
    tz = campaign.organization.tzinfo
    today = local_day(now, tz)
    start, end = day_window(today, today, tz)
    return _shift_rows(Shift.objects.filter(campaign=campaign, starts_at__gte=start, starts_at__lt=end))


def _shift_rows(shifts: QuerySet[Shift], limit: int | None = None) -> list[dict[str, Any]]:
    """The shifts in order of their start, with their sign-ups and check-ins counted."""
    annotated = shifts.annotate(
        checked_in=Count("signups", filter=Q(signups__checked_in_at__isnull=False)),
        signed_up=Count("signups", filter=Q(signups__status=ShiftSignup.Status.SIGNED_UP)),
    ).order_by("starts_at")[:limit]
    return [
        {
            "shift": s.pk,
            "name": s.name,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "location": s.location_name,
            "capacity": s.capacity,
            "signed_up": s.signed_up,
            "checked_in": s.checked_in,
            "fill": round(s.signed_up / s.capacity, 3) if s.capacity else None,
        }
        for s in annotated
    ]


def flagged_attempts(*, campaign: Campaign, limit: int = 20) -> list[ContactAttempt]:
    """The latest knocks flagged far from the door or too fast, of those that count
    (held ones wait in the review queue). One query."""
    return list(
        ContactAttempt.objects.counted()
        .filter(campaign=campaign)
        .filter(Q(far_from_door=True) | Q(too_fast=True))
        .select_related("door", "canvasser", "result_code")
        .order_by("-corrected_at")[:limit]
    )


def layers_of(campaign: Campaign) -> list[DistrictLayer]:
    return list(DistrictLayer.objects.filter(organization_id=campaign.organization_id).order_by("name"))


def turf_assignees(*, campaign: Campaign, now: dt.datetime | None = None) -> dict[int, list[str]]:
    """{turf id: the names of the canvassers currently assigned to it}, for the campaign's
    turfs that have a current assignment. One query."""
    from canvass.field.models import AssignmentCanvasser
    from canvass.field.selectors import current_assignment_q

    out: dict[int, list[str]] = defaultdict(list)
    rows = (
        AssignmentCanvasser.objects.filter(
            current_assignment_q(now, prefix="assignment__"), assignment__campaign=campaign
        )
        .order_by("user__first_name", "user__username")
        .values_list("assignment__turf_id", "user__first_name", "user__last_name", "user__username")
    )
    for turf_id, first, last, username in rows:
        name = f"{first} {last}".strip() or username
        if name not in out[turf_id]:
            out[turf_id].append(name)
    return dict(out)


def turf_last_days(*, campaign: Campaign) -> dict[int, dt.date]:
    """{turf id: the last day it had a knock}. One query, on the stats table."""
    rows = StatsDay.objects.filter(campaign=campaign, kind=StatsKind.TURF).order_by().values("key_id")
    return {row["key_id"]: row["last"] for row in rows.annotate(last=Max("day"))}


def campaign_totals(*, campaign: Campaign) -> dict[str, Any]:
    """The campaign's knocks, contacts and supporters over all days. One query."""
    row = StatsDay.objects.filter(campaign=campaign, kind=StatsKind.CAMPAIGN).aggregate(
        attempts=Coalesce(Sum("attempts"), 0),
        contacts=Coalesce(Sum("contacts"), 0),
        supporters=Coalesce(Sum("support_1"), 0) + Coalesce(Sum("support_2"), 0),
    )
    row["contact_rate"] = round(row["contacts"] / row["attempts"], 4) if row["attempts"] else None
    return row


def out_now(*, campaign: Campaign, now: dt.datetime | None = None, limit: int = 30) -> list[dict[str, Any]]:
    """Who is out now: the canvassers of the campaign's current assignments that have
    started, with their turf, and the time of their last knock today (the
    organization's day) and today's count. Two queries."""
    from canvass.field.models import AssignmentCanvasser
    from canvass.field.selectors import current_assignment_q

    now = now or timezone.now()
    tz = campaign.organization.tzinfo
    day_start = dt.datetime.combine(timezone.localtime(now, tz).date(), dt.time(), tzinfo=tz)
    members = list(
        AssignmentCanvasser.objects.filter(
            current_assignment_q(now, prefix="assignment__"),
            assignment__campaign=campaign,
            assignment__starts_at__lte=now,
        )
        .order_by("assignment__turf__number", "assignment__turf__name", "user__username")
        .values_list(
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
            "assignment__turf_id",
            "assignment__turf__number",
            "assignment__turf__name",
        )[: limit * 3]
    )
    users = {m[0] for m in members}
    today: dict[int, Any] = {
        row["canvasser_id"]: row
        for row in ContactAttempt.objects.filter(
            campaign=campaign, canvasser_id__in=users, corrected_at__gte=day_start, corrected_at__lte=now
        )
        .order_by()
        .values("canvasser_id")
        .annotate(knocks=Count("id"), last=Max("corrected_at"))
    }
    out: dict[int, dict[str, Any]] = {}
    for user_id, first, last, username, turf_id, number, turf_name in members:
        entry = out.setdefault(
            user_id,
            {
                "name": f"{first} {last}".strip() or username,
                "turfs": [],
                "knocks_today": today.get(user_id, {}).get("knocks", 0),
                "last_knock": today.get(user_id, {}).get("last"),
            },
        )
        entry["turfs"].append({"turf": turf_id, "number": number, "name": turf_name})
    # Those knocking first, the most recent on top; then those who have not knocked today.
    ordered = sorted(
        out.values(), key=lambda e: (e["last_knock"] is None, -(e["last_knock"].timestamp() if e["last_knock"] else 0))
    )
    return ordered[:limit]
