"""A simulated day of canvassing for the stats tests, pushed as the phones push
it, and the oracle: the stats computed directly from the attempts in Python,
independently of the SQL in canvass/stats/services.py."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.utils import timezone

from canvass.campaigns.services import result_codes_ensure_standard
from canvass.models import Assignment, ContactAttempt, ResultCode, StatsDay, StatsKind, TurfDoor
from tests import factories as f
from turf.models import DoorDistrict

LA = dt.timezone(dt.timedelta(hours=-8))  # Venice in November (PST), for building times


def setup_script(world):
    """Result codes, a two-question script, a second layer (one district over all doors), turfs."""
    result_codes_ensure_standard(organization=world.org)
    world.codes = {c.code: c for c in ResultCode.objects.filter(organization=world.org)}
    q1 = f.SurveyQuestionFactory(campaign=world.campaign, text="Support?", position=0)
    q2 = f.SurveyQuestionFactory(campaign=world.campaign, text="Volunteer?", position=1)
    world.questions = [q1, q2]
    world.options = {
        q1.pk: [f.SurveyOptionFactory(question=q1, label=label, position=i) for i, label in enumerate("YNU")],
        q2.pk: [f.SurveyOptionFactory(question=q2, label=label, position=i) for i, label in enumerate("YN")],
    }
    layer2 = f.DistrictLayerFactory(organization=world.org, name="Neighborhood")
    world.hood_nc = f.DistrictFactory(organization=world.org, layer=layer2, external_id="nc", name="Venice NC")
    DoorDistrict.objects.bulk_create([DoorDistrict(door=d, district=world.hood_nc) for d in world.hood_doors])
    world.layer2 = layer2
    # Two turfs over the first 60 doors; the rest are in no turf.
    turf_b = f.TurfFactory(campaign=world.campaign, name="Turf B", door_count=30)
    turf_c = f.TurfFactory(campaign=world.campaign, name="Turf C", door_count=30)
    TurfDoor.objects.bulk_create(
        [TurfDoor(turf=turf_b if i < 30 else turf_c, door=d, position=i) for i, d in enumerate(world.hood_doors[:60])]
    )
    world.turfs = [turf_b, turf_c]
    world.canvasser2 = f.UserFactory(username="cora")
    f.MembershipFactory(user=world.canvasser2, organization=world.org)
    return world


def knock(world, *, door, code="canvassed", at, canvasser=None, support=None, answers=None, received=None, **flags):
    """An unsaved knock (the knock factory, built) at `door` made `at`, by the canvasser."""
    return f.ContactAttemptFactory.build(
        organization=world.org,
        campaign=world.campaign,
        door=door,
        canvasser=canvasser or world.canvasser,
        result_code=world.codes[code],
        support_level=support,
        answers=answers or {},
        recorded_at=at,
        corrected_at=at,
        received_at=received or timezone.now(),
        **flags,
    )


def hood_assignment(world) -> Assignment:
    """A turf over the whole neighbourhood, assigned to both canvassers (made once):
    every knock of the simulated day is on its canvasser's list."""
    if getattr(world, "hood_assignment", None) is None:
        turf = f.TurfFactory(campaign=world.campaign, name="Whole hood", door_count=len(world.hood_doors))
        TurfDoor.objects.bulk_create([TurfDoor(turf=turf, door=d, position=i) for i, d in enumerate(world.hood_doors)])
        assignment = f.AssignmentFactory(turf=turf, starts_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
        for user in (world.canvasser, world.canvasser2):
            f.AssignmentCanvasserFactory(assignment=assignment, user=user)
        world.hood_assignment = assignment
    return world.hood_assignment


def push(world, attempts: list[ContactAttempt], *, device_id: str = "phone-1") -> None:
    """Push these (unsaved) knocks as their canvassers' phones do: POST /api/v1/sync/push/,
    one batch per canvasser, the phone's clock right. Every knock must be accepted.

    What production runs: the push stores the knocks and, after its commit, queues
    one aggregation task that sweeps (canvass.stats.queue.stats_enqueue_after_push);
    it marks no bucket itself. A test inside a transaction wraps this in
    django_capture_on_commit_callbacks(execute=True) to see the task queued."""
    assignment = hood_assignment(world)
    by_canvasser: dict = defaultdict(list)
    for attempt in attempts:
        by_canvasser[attempt.canvasser].append(attempt)
    for canvasser, theirs in by_canvasser.items():
        body = f.push_batch(*f.push_items_of(theirs, assignment_id=assignment.pk), device_id=device_id)
        response = f.client_for(canvasser).post(f.PUSH, body, format="json")
        assert response.status_code == 200, response.content
        assert {r["status"] for r in response.json()["results"]} == {"accepted"}, response.json()["results"][:3]


def simulated_day(world, *, day: dt.date, n: int = 240, seed: int = 5) -> list[ContactAttempt]:
    """n knocks from 10:00 to 23:59 local on `day` (the last ones after 16:00 UTC… and some after
    midnight UTC, which is still `day` in Los Angeles), on a third of the doors, some twice."""
    rng = random.Random(seed)
    doors = world.hood_doors[: len(world.hood_doors) // 3 * 2]
    start = dt.datetime.combine(day, dt.time(10), tzinfo=LA)
    codes = ["canvassed"] * 4 + ["not_home"] * 4 + ["refused", "literature_dropped", "come_back", "moved"]
    out = []
    for i in range(n):
        code = rng.choice(codes)
        answers = {}
        support = None
        if code == "canvassed":
            support = rng.choice([1, 2, 3, 4, 5, None])
            q1, q2 = world.questions
            answers = {str(q1.pk): rng.choice(world.options[q1.pk]).pk}
            if rng.random() < 0.5:
                answers[str(q2.pk)] = rng.choice(world.options[q2.pk]).pk
        at = start + dt.timedelta(seconds=int(i * (14 * 3600 - 60) / n))
        out.append(
            knock(
                world,
                door=rng.choice(doors),
                code=code,
                at=at,
                canvasser=world.canvasser if i % 3 else world.canvasser2,
                support=support,
                answers=answers,
                far_from_door=(i % 17 == 0),
                too_fast=(i % 23 == 0),
            )
        )
    return out


def oracle(campaign) -> dict[tuple[str, int, dt.date], dict]:
    """Every stats row, counted in Python from the attempts table."""
    tz = campaign.organization.tzinfo
    attempts = list(ContactAttempt.objects.filter(campaign=campaign).select_related("result_code"))
    districts = defaultdict(set)
    for door_id, district_id in DoorDistrict.objects.values_list("door_id", "district_id"):
        districts[door_id].add(district_id)
    turfs = defaultdict(set)
    for door_id, turf_id in TurfDoor.objects.filter(turf__campaign=campaign).values_list("door_id", "turf_id"):
        turfs[door_id].add(turf_id)
    first_day: dict[int, dt.date] = {}
    for a in attempts:
        day = a.corrected_at.astimezone(tz).date()
        first_day[a.door_id] = min(day, first_day.get(a.door_id, day))
    rows: dict = {}
    doors: dict = defaultdict(set)
    for a in attempts:
        day = a.corrected_at.astimezone(tz).date()
        keys = [(StatsKind.CAMPAIGN, campaign.pk), (StatsKind.CANVASSER, a.canvasser_id)]
        keys += [(StatsKind.DISTRICT, d) for d in districts[a.door_id]]
        keys += [(StatsKind.TURF, t) for t in turfs[a.door_id]]
        for kind, key in keys:
            r = rows.setdefault((str(kind), key, day), _empty())
            r["attempts"] += 1
            doors[(str(kind), key, day)].add(a.door_id)
            r["contacts"] += a.result_code.is_contact
            r["refusals"] += a.result_code.is_refusal
            if a.support_level:
                r[f"support_{a.support_level}"] += 1
            r["literature_drops"] += a.result_code.code == "literature_dropped"
            for option in a.answers.values():
                r["answers"][str(option)] = r["answers"].get(str(option), 0) + 1
    for key, ds in doors.items():
        rows[key]["doors_knocked"] = len(ds)
        if key[0] != StatsKind.CANVASSER:
            rows[key]["new_doors"] = sum(1 for d in ds if first_day[d] == key[2])
    return rows


def _empty() -> dict:
    return {
        "attempts": 0,
        "doors_knocked": 0,
        "new_doors": 0,
        "contacts": 0,
        "refusals": 0,
        **{f"support_{n}": 0 for n in range(1, 6)},
        "literature_drops": 0,
        "answers": {},
    }


def stored(campaign) -> dict[tuple[str, int, dt.date], dict]:
    fields = list(_empty())
    return {
        (row["kind"], row["key_id"], row["day"]): {name: row[name] for name in fields}
        for row in StatsDay.objects.filter(campaign=campaign).values("kind", "key_id", "day", *fields)
    }
