"""Two days of simulated canvassing for the demo: shifts signed up for and
checked in to, turfs handed out, knocks pushed from the canvassers' phones.

Everything goes through the services production uses: shift_signup and
shift_check_in, assignment_create, and attempts_push (the service behind
POST /api/v1/sync/push/), so the knocks are reviewed, flagged, written to the
change log and counted exactly as a phone's would be; stats_rebuild then
computes the campaign's figures at once instead of waiting for the worker.

The days are yesterday and today in the organization's timezone; before
today's first session has run for a while (11:30 local) they are the two days
before. Sessions run 10:00-13:00 and 14:00-17:00 (today's stop at the current
time). Each canvasser walks a turf of their own per session in walk order, a
door every few minutes, with a realistic mix of result codes; contacts carry
support levels and survey answers. A few knocks are held for review: some at
doors of a turf nobody gave the canvasser (off the list), and the knocks of a
phone that stayed offline from an evening the day before and synced more than
FIELDOPS_KNOCK_GRACE_HOURS after its assignment ended (outside the time).

Knock ids are derived from the campaign and the knock's place in the
simulation (uuid5): a second run finds the simulation done and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from canvass.campaigns.models import Campaign
from canvass.field.models import Assignment, Shift
from canvass.field.services import assignment_create, shift_check_in, shift_check_out, shift_ensure, shift_signup
from canvass.stats.services import stats_rebuild
from canvass.sync.models import ContactAttempt, Review
from canvass.sync.serializers import AttemptItem
from canvass.sync.services import attempts_push
from canvass.turfs.models import Turf, TurfDoor
from fieldops.models import Membership
from turf.models import Door, Person

DEVICE_PREFIX = "demo-phone-"
SEED = 11
SESSIONS = ((10, 13, "morning"), (14, 17, "afternoon"))
# Today counts as a canvassing day once its morning has run this long.
TODAY_FROM = dt.time(11, 30)
# (result code, weight): most doors do not answer.
RESULTS = (
    ("not_home", 48),
    ("canvassed", 26),
    ("literature_dropped", 8),
    ("come_back", 5),
    ("refused", 6),
    ("inaccessible", 3),
    ("language_barrier", 2),
    ("moved", 1),
    ("hostile", 0.5),
    ("deceased", 0.5),
)
# Support level (1 strong support … 5 strong oppose) and the first question's
# answer (Yes, Leaning yes, Undecided, No) that goes with it.
SUPPORT = ((1, 0, 30), (2, 1, 22), (3, 2, 25), (4, 3, 10), (5, 3, 13))
NOTES = ("Dog in the yard", "Ask for the upstairs unit", "Gate code needed", "Wants a call back", "Spanish speaker")
# Seconds at a door before walking on, by what happened there.
DOOR_SECONDS = {"canvassed": (240, 480), "come_back": (60, 120), "refused": (40, 90), "language_barrier": (60, 120)}
WALK_SECONDS = (40, 120)
PUSH_EVERY = 8  # knocks a phone collects before it syncs (it syncs at once online; batches keep this quick)


@dataclass
class WeekendReport:
    days: tuple[dt.date, ...] = ()
    canvassers: int = 0
    turfs: int = 0
    pushes: int = 0
    knocks: int = 0
    held: int = 0
    done_before: bool = False
    no_free_turf: bool = False  # every active turf is held: nothing to walk


@dataclass
class _Phone:
    """One canvasser's phone: the knocks it has not pushed yet."""

    membership: Membership
    device_id: str
    pending: list[AttemptItem] = field(default_factory=list)
    pushes: int = 0

    def push(self, *, received_at: dt.datetime) -> list[str]:
        if not self.pending:
            return []
        result = attempts_push(
            membership=self.membership,
            device_id=self.device_id,
            sent_at=received_at,
            items=self.pending,
            received_at=received_at,
        )
        self.pending = []
        self.pushes += 1
        bad = [r for r in result.receipts if r.status not in ("accepted", "duplicate")]
        if bad:  # the simulation sends only what a phone may: a refusal is a bug here
            raise RuntimeError(f"The demo push was refused: {bad[0].as_dict()}")
        return [r.review for r in result.receipts]


def simulation_done(campaign: Campaign) -> bool:
    return ContactAttempt.objects.filter(campaign=campaign, device_id__startswith=DEVICE_PREFIX).exists()


def canvassing_days(now_local: dt.datetime) -> tuple[dt.date, dt.date]:
    """Yesterday and today; the two days before when today's canvassing has barely begun."""
    today = now_local.date()
    if now_local.time() < TODAY_FROM:
        today -= dt.timedelta(days=1)
    return today - dt.timedelta(days=1), today


def demo_shift(
    organization: Any, campaign: Campaign, tz: Any, day: dt.date, slot: tuple[int, int, str], staging: dict[str, Any]
) -> Shift:
    """The demo's shift of one day's slot (start hour, end hour, label), made once (shift_ensure)."""
    start, end, label = slot
    starts = dt.datetime.combine(day, dt.time(start), tzinfo=tz)
    return shift_ensure(
        organization=organization,
        campaign=campaign,
        name=f"{day:%a %b} {day.day} {label}",
        starts_at=starts,
        ends_at=starts.replace(hour=end),
        capacity=12,
        **staging,
    )


def weekend_simulate(
    *,
    campaign: Campaign,
    organizer: User,
    canvassers: Sequence[User],
    now: dt.datetime,
    staging: dict[str, Any],
    seed: int = SEED,
) -> WeekendReport:
    """Simulate two days of canvassing; nothing when it was simulated before."""
    report = WeekendReport()
    if simulation_done(campaign):
        report.done_before = True
        return report
    org = campaign.organization
    tz = org.tzinfo
    rng = random.Random(seed)
    days = canvassing_days(now.astimezone(tz))
    report.days = days
    report.canvassers = len(canvassers)
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"fieldops-demo:{org.slug}:{campaign.slug}")
    memberships = {m.user_id: m for m in Membership.objects.filter(organization=org, user__in=canvassers)}
    phones = {u.pk: _Phone(memberships[u.pk], f"{DEVICE_PREFIX}{u.username}") for u in canvassers}

    # Free turfs (nobody holds them now), in a shuffled order that spreads the
    # weekend over the whole map.
    busy = Assignment.objects.filter(campaign=campaign, ended_at__isnull=True).values("turf_id")
    turfs = list(
        Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE).exclude(pk__in=busy).order_by("name", "pk")
    )
    rng.shuffle(turfs)
    if not turfs:
        report.no_free_turf = True
        return report
    walk: dict[int, list[int]] = {}
    for turf_id, door_id in (
        TurfDoor.objects.filter(turf__in=turfs).order_by("turf_id", "position").values_list("turf_id", "door_id")
    ):
        walk.setdefault(turf_id, []).append(door_id)
    doors = {
        pk: (lat, lng)
        for pk, lat, lng in Door.objects.filter(pk__in=[d for ds in walk.values() for d in ds]).values_list(
            "pk", "lat", "lng"
        )
    }
    people: dict[int, list[int]] = {}
    for pk, door_id in Person.objects.filter(organization=org, door_id__in=doors).values_list("pk", "door_id"):
        people.setdefault(door_id, []).append(pk)
    questions = list(campaign.questions.filter(is_active=True).prefetch_related("options").order_by("position"))
    options = [[o.pk for o in sorted(q.options.all(), key=lambda o: (o.position, o.pk))] for q in questions]

    counter = 0

    def knock(
        phone: _Phone, assignment: Assignment, door_id: int, at: dt.datetime, result: str | None = None
    ) -> dt.datetime:
        """Record one knock on the phone; returns when the canvasser is at the next door."""
        nonlocal counter
        counter += 1
        code = result or str(rng.choices([c for c, _ in RESULTS], weights=[w for _, w in RESULTS])[0])
        at_door = people.get(door_id, [])
        support = None
        answers: dict[int, int] = {}
        if code == "canvassed":
            support, first, _ = rng.choices(SUPPORT, weights=[w for *_, w in SUPPORT])[0]
            if questions:
                answers[questions[0].pk] = options[0][min(first, len(options[0]) - 1)]
            for question, choices in zip(questions[1:], options[1:], strict=False):
                if choices and rng.random() < 0.8:  # some conversations end before every question
                    answers[question.pk] = rng.choice(choices)
        lat, lng = doors[door_id]
        jitter = (rng.uniform(-0.00008, 0.00008), rng.uniform(-0.00008, 0.00008)) if lat is not None else (0, 0)
        phone.pending.append(
            AttemptItem(
                id=str(uuid.uuid5(namespace, f"knock-{counter}")),
                door=door_id,
                assignment=assignment.pk,
                person=rng.choice(at_door) if at_door else None,
                result=code,
                support_level=support,
                answers=answers,
                notes=rng.choice(NOTES) if rng.random() < 0.04 else "",
                recorded_at=at.astimezone(dt.UTC),
                lat=None if lat is None else round(lat + jitter[0], 7),
                lng=None if lng is None else round(lng + jitter[1], 7),
                accuracy_m=float(rng.randint(4, 25)),
            )
        )
        report.knocks += 1
        low, high = DOOR_SECONDS.get(code, (20, 50))
        return at + dt.timedelta(seconds=rng.randint(low, high) + rng.randint(*WALK_SECONDS))

    def push(phone: _Phone, at: dt.datetime) -> None:
        reviews = phone.push(received_at=min(at, now))
        report.held += sum(r == Review.HELD for r in reviews)

    # The phone that stayed offline: an evening the day before the weekend,
    # synced only as the last day's morning began (more than the grace after
    # its assignment ended): its knocks wait for an organizer.
    late_user = canvassers[-1]
    # Its own queue (the same device): the weekend's pushes do not carry these knocks.
    late_phone = _Phone(memberships[late_user.pk], f"{DEVICE_PREFIX}{late_user.username}")
    late_turf = turfs.pop()
    eve = dt.datetime.combine(days[0] - dt.timedelta(days=1), dt.time(17, 30), tzinfo=tz)
    late = assignment_create(
        organization=org,
        actor=organizer,
        turf=late_turf,
        canvassers=[late_user],
        starts_at=eve,
        ends_at=eve + dt.timedelta(hours=2),
    )
    at = eve + dt.timedelta(minutes=10)
    for door_id in walk[late_turf.pk][:4]:
        at = knock(late_phone, late, door_id, at)
    late_synced = dt.datetime.combine(days[1], dt.time(SESSIONS[0][0], 5), tzinfo=tz)
    grace = dt.timedelta(hours=settings.FIELDOPS_KNOCK_GRACE_HOURS)
    late_pending = late_synced > eve + dt.timedelta(hours=2) + grace
    if not late_pending:  # a grace longer than the weekend: the knocks are simply trusted
        push(late_phone, at + dt.timedelta(minutes=2))
    used = {late_turf.pk}

    for day in days:
        for start, end, label in SESSIONS:
            shift = demo_shift(org, campaign, tz, day, (start, end, label), staging)
            if shift.starts_at >= now:
                continue
            stop = min(shift.ends_at, now - dt.timedelta(minutes=5))
            for index, user in enumerate(canvassers):
                phone = phones[user.pk]
                shift_signup(shift=shift, user=user, now=shift.starts_at - dt.timedelta(days=1))
                arrived = shift.starts_at - dt.timedelta(minutes=rng.randint(2, 15))
                shift_check_in(shift=shift, user=user, lat=staging.get("lat"), lng=staging.get("lng"), now=arrived)
                if late_pending and user.pk == late_user.pk and day == days[1] and label == SESSIONS[0][2]:
                    push(late_phone, late_synced)  # back online at the morning's check-in
                # One canvasser a session strays across the street into a turf
                # nobody gave them, near the end: knocks off the list, held for review.
                strays = index == len(canvassers) // 2
                walk_until = stop - dt.timedelta(minutes=15) if strays else stop
                at = shift.starts_at + dt.timedelta(minutes=rng.randint(10, 25))
                assignment = None
                # A turf finished with time to spare: the organizer hands out another.
                while turfs and at < walk_until - dt.timedelta(minutes=20):
                    turf = turfs.pop()
                    used.add(turf.pk)
                    assignment = assignment_create(
                        organization=org, actor=organizer, turf=turf, canvassers=[user], shift=shift
                    )
                    for door_id in walk[turf.pk]:
                        if at >= walk_until:
                            break
                        at = knock(phone, assignment, door_id, at)
                        if len(phone.pending) >= PUSH_EVERY:
                            push(phone, at)
                    at += dt.timedelta(minutes=rng.randint(5, 12))  # the walk to the next turf
                if strays and assignment is not None and turfs:
                    at = min(at, walk_until)
                    for door_id in walk[turfs[-1].pk][:3]:
                        at = knock(phone, assignment, door_id, at)
                push(phone, at)
                if shift.ends_at <= now:
                    shift_check_out(shift=shift, user=user, now=min(at + dt.timedelta(minutes=10), shift.ends_at))
    if late_pending and late_phone.pending:  # today's morning did not run: it synced now
        push(late_phone, now)

    report.turfs = len(used)
    report.pushes = sum(p.pushes for p in phones.values())
    stats_rebuild(campaign=campaign)
    return report
