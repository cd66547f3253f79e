"""Issue 14, item 1: knocks count where the canvasser was sent.

The attack review's findings, each reproduced through the phone's API: a knock
with an ended assignment, or at a door outside the canvasser's assignments,
was accepted and showed as the door's last result in another canvasser's walk
list, in the stats and in the VAN export; the person id's error told who lives
at a door. Now such knocks are stored held, count nowhere until an organizer
approves them in the review queue, and one error answers for every wrong person.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from canvass.models import Assignment, ContactAttempt, ResultCode, StatsDay, StatsDirtyDay
from canvass.stats import exports
from canvass.stats import services as stats_services
from canvass.sync.models import Review
from canvass.sync.services import attempt_approve, attempt_reject
from fieldops.models import AuditLogEntry, Role
from tests import factories as f
from tests.factories import PULL, PUSH, admin_client, client_for, member, push_batch, push_item
from turf.models import Door, Person

pytestmark = pytest.mark.django_db

NO_SUCH_PERSON = {"person": ["No such person at this door."]}


def push(user, *items, **kwargs) -> list[dict[str, Any]]:
    response = client_for(user).post(PUSH, push_batch(*items, **kwargs), format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def walk_list_result(user, assignment: Assignment, door: Door) -> Any:
    response = client_for(user).get(f"/api/v1/assignments/{assignment.pk}/walk-list/")
    assert response.status_code == 200, response.content
    (row,) = [d for d in response.json()["doors"] if d["id"] == door.pk]
    return row["last_result"]


def campaign_knocks(campaign) -> int:
    """The campaign's knocks in the stats tables, once the stats work has run."""
    return sum(
        StatsDay.objects.filter(campaign=campaign, kind="campaign", key_id=campaign.pk).values_list(
            "attempts", flat=True
        )
    )


def van_rows(campaign, organizer) -> list[list[str]]:
    result = exports.export_van_csv(campaign=campaign, actor=organizer)
    return list(csv.reader(io.StringIO(result.content.lstrip("\ufeff"))))[1:]


@dataclass
class Field:
    world: Any
    paula: Any  # a canvasser with a current assignment on turf A and turf B
    paula_a: Assignment
    paula_b: Assignment
    fred: Any  # a canvasser whose assignment on turf A ended three days ago
    fred_old: Assignment
    door_b: Door  # a door of turf B: not in Carlos' turf
    voter: Person  # a voter at the world's first door, with a VAN id
    voter_b: Person  # a voter at door_b


@pytest.fixture
def field(world, script) -> Field:
    ResultCode.objects.filter(organization=world.org, code__in=["deceased", "moved"]).update(van_result_code_id=7)
    now = timezone.now()
    turf_b = f.TurfFactory(campaign=world.campaign, name="Turf B")
    door_b = f.DoorFactory(organization=world.org, lat=33.9910, lng=-118.4610)
    f.TurfDoorFactory(turf=turf_b, door=door_b, position=0)
    paula = member(world, "paula")
    paula_a = f.AssignmentFactory(turf=world.turf)
    f.AssignmentCanvasserFactory(assignment=paula_a, user=paula)
    paula_b = f.AssignmentFactory(turf=turf_b)
    f.AssignmentCanvasserFactory(assignment=paula_b, user=paula)
    fred = member(world, "fred")
    fred_old = f.AssignmentFactory(
        turf=world.turf, starts_at=now - dt.timedelta(days=4), ended_at=now - dt.timedelta(days=3)
    )
    f.AssignmentCanvasserFactory(assignment=fred_old, user=fred)
    voter = f.PersonFactory(door=world.doors[0], external_voter_id="100200")
    voter_b = f.PersonFactory(door=door_b, external_voter_id="100300")
    return Field(world, paula, paula_a, paula_b, fred, fred_old, door_b, voter, voter_b)


def forged_with_ended_assignment(field: Field) -> dict[str, Any]:
    """Fred, three days after his assignment ended, marks a voter of turf A deceased."""
    world = field.world
    item = push_item(world, result="deceased", person=field.voter.pk, assignment=field.fred_old.pk)
    return item


def forged_off_the_list(field: Field) -> dict[str, Any]:
    """Carlos, on his current assignment, marks a voter of Paula's turf B moved."""
    return push_item(field.world, at=field.door_b, result="moved", person=field.voter_b.pk)


# --- the findings -----------------------------------------------------------------


def test_a_knock_with_an_ended_assignment_is_stored_held_and_counts_nowhere(field, no_broker):
    world = field.world
    item = forged_with_ended_assignment(field)
    (receipt,) = push(field.fred, item)
    assert receipt == {
        "id": item["id"],
        "status": "accepted",
        "errors": {},
        "flags": ["held"],
        "review": "held",
        "held_reason": "outside_time",
    }
    stored = ContactAttempt.objects.get(pk=item["id"])
    assert (stored.review, stored.held_reason, stored.person_id) == ("held", "outside_time", field.voter.pk)

    assert walk_list_result(field.paula, field.paula_a, world.doors[0]) is None
    assert walk_list_result(world.canvasser, world.assignment, world.doors[0]) is None
    stats_services.stats_aggregate(sweep=True)
    assert campaign_knocks(world.campaign) == 0
    assert van_rows(world.campaign, world.organizer) == []
    snapshot = client_for(field.paula).get(PULL).json()
    assert item["id"] not in {a["id"] for a in snapshot["attempts"]}
    # Retried, the phone hears the same: stored, held.
    (again,) = push(field.fred, item)
    assert (again["status"], again["review"], again["flags"]) == ("duplicate", "held", ["held"])


def test_a_knock_at_a_door_outside_the_assignment_is_stored_held_and_counts_nowhere(field, no_broker):
    world = field.world
    item = forged_off_the_list(field)
    (receipt,) = push(world.canvasser, item)
    assert receipt["status"] == "accepted"
    assert receipt["flags"] == ["off_list", "held"]
    assert (receipt["review"], receipt["held_reason"]) == ("held", "off_list")

    assert walk_list_result(field.paula, field.paula_b, field.door_b) is None
    stats_services.stats_aggregate(sweep=True)
    assert campaign_knocks(world.campaign) == 0
    assert van_rows(world.campaign, world.organizer) == []
    # The organizer's "flagged knocks" and the campaign universe ignore it too.
    from canvass.stats.selectors import flagged_attempts
    from canvass.turfs.selectors import campaign_universe

    assert flagged_attempts(campaign=world.campaign) == []
    world.campaign.target_districts.add(f.DistrictFactory(organization=world.org))
    unknocked = campaign_universe(campaign=world.campaign, only_unknocked=True)
    assert list(unknocked) == list(campaign_universe(campaign=world.campaign))


def test_a_trusted_knock_still_counts_everywhere(field, no_broker):
    world = field.world
    item = push_item(world, result="deceased", person=field.voter.pk)
    (receipt,) = push(world.canvasser, item)
    assert (receipt["status"], receipt["review"], receipt["flags"]) == ("accepted", "trusted", [])
    assert "held_reason" not in receipt
    assert walk_list_result(field.paula, field.paula_a, world.doors[0])["result_code"] == "deceased"
    stats_services.stats_aggregate(sweep=True)
    assert campaign_knocks(world.campaign) == 1
    assert [row[-1] for row in van_rows(world.campaign, world.organizer)] == [item["id"]]


def test_approving_makes_the_knock_count_everywhere(field, no_broker, django_capture_on_commit_callbacks):
    world = field.world
    item = forged_off_the_list(field)
    push(world.canvasser, item)
    stats_services.stats_aggregate(sweep=True)
    pulled = client_for(field.paula).get(PULL).json()
    while pulled["has_more"]:
        pulled = client_for(field.paula).get(PULL, {"cursor": pulled["cursor"]}).json()
    cursor = pulled["cursor"]

    with django_capture_on_commit_callbacks(execute=True):
        result = attempt_approve(actor=world.organizer, organization=world.org, attempt_ids=[item["id"]])
    assert [str(pk) for pk in result.decided] == [item["id"]]
    stored = ContactAttempt.objects.get(pk=item["id"])
    assert (stored.review, stored.reviewed_by, stored.reviewed_at is not None) == ("approved", world.organizer, True)
    assert no_broker.called  # the stats task was queued after the commit

    assert walk_list_result(field.paula, field.paula_b, field.door_b)["result_code"] == "moved"
    stats_services.stats_aggregate()  # the queued task: the approved knock's day was marked
    assert campaign_knocks(world.campaign) == 1
    assert [row[0] for row in van_rows(world.campaign, world.organizer)] == ["100300"]
    # Paula's phone hears of it at its next pull (the change log).
    page = client_for(field.paula).get(PULL, {"cursor": cursor}).json()
    assert item["id"] in {a["id"] for a in page["attempts"]}
    entry = AuditLogEntry.objects.get(action="attempt.approve")
    assert (entry.actor, entry.object_id, entry.detail["from"]) == (world.organizer, item["id"], "held")
    assert entry.detail["held_reason"] == "off_list"
    # A retry of the phone now hears "approved".
    (again,) = push(world.canvasser, item)
    assert (again["status"], again["review"], again["flags"]) == ("duplicate", "approved", ["off_list"])


def test_rejecting_keeps_the_knock_out_and_is_audited(field, no_broker, django_capture_on_commit_callbacks):
    world = field.world
    item = forged_with_ended_assignment(field)
    push(field.fred, item)
    with django_capture_on_commit_callbacks(execute=True):
        result = attempt_reject(actor=world.organizer, organization=world.org, attempt_ids=[item["id"]])
    assert len(result.decided) == 1
    stored = ContactAttempt.objects.get(pk=item["id"])  # kept: append-only
    assert stored.review == "rejected"
    stats_services.stats_aggregate(sweep=True)
    assert campaign_knocks(world.campaign) == 0
    assert walk_list_result(field.paula, field.paula_a, world.doors[0]) is None
    assert van_rows(world.campaign, world.organizer) == []
    entry = AuditLogEntry.objects.get(action="attempt.reject")
    assert (entry.actor, entry.object_id, entry.detail["canvasser"]) == (world.organizer, item["id"], field.fred.pk)
    # A rejected knock is not rejected twice, and a counted one cannot be rejected.
    trusted = push_item(world)
    push(world.canvasser, trusted)
    again = attempt_reject(actor=world.organizer, organization=world.org, attempt_ids=[item["id"], trusted["id"]])
    assert (again.decided, again.skipped) == ([], 2)
    assert AuditLogEntry.objects.filter(action="attempt.reject").count() == 1
    # The organizer may change their mind: a rejected knock can be approved.
    assert len(attempt_approve(actor=world.organizer, organization=world.org, attempt_ids=[item["id"]]).decided) == 1


def test_only_the_organizations_organizers_decide(field):
    world = field.world
    item = forged_off_the_list(field)
    push(world.canvasser, item)
    lead = member(world, "terry", Role.TEAM_LEAD)
    for actor in (world.canvasser, lead):
        with pytest.raises(PermissionDenied):
            attempt_approve(actor=actor, organization=world.org, attempt_ids=[item["id"]])
    with pytest.raises(PermissionDenied):
        attempt_approve(actor=world.outsider, organization=world.org, attempt_ids=[item["id"]])
    # In their own chapter the outsider finds no Venice knock to decide.
    result = attempt_approve(actor=world.outsider, organization=world.other_org, attempt_ids=[item["id"]])
    assert (result.decided, result.skipped) == ([], 1)
    assert ContactAttempt.objects.get(pk=item["id"]).review == "held"
    assert not AuditLogEntry.objects.filter(action__startswith="attempt.").exists()


# --- the person's error --------------------------------------------------------------


def test_the_person_error_is_the_same_for_missing_foreign_and_elsewhere(field):
    world = field.world
    foreign = f.PersonFactory(door=world.other_door)
    next_door = f.PersonFactory(door=world.doors[1])
    results = push(
        world.canvasser,
        push_item(world, person=999_999_999),
        push_item(world, person=foreign.pk),
        push_item(world, person=next_door.pk),
    )
    assert [(r["status"], r["errors"]) for r in results] == [("rejected", NO_SUCH_PERSON)] * 3


def test_at_a_door_the_canvasser_cannot_see_every_person_id_is_answered_alike(field):
    """Refusing a wrong person there would tell, by "stored" against "refused", who lives at the door."""
    world = field.world
    lives_there = push_item(world, at=field.door_b, person=field.voter_b.pk)
    lives_elsewhere = push_item(world, at=field.door_b, person=field.voter.pk)
    missing = push_item(world, at=field.door_b, person=999_999_999)
    results = push(world.canvasser, lives_there, lives_elsewhere, missing)
    assert [{k: v for k, v in r.items() if k != "id"} for r in results] == [
        {"status": "accepted", "errors": {}, "flags": ["off_list", "held"], "review": "held", "held_reason": "off_list"}
    ] * 3
    stored = dict(ContactAttempt.objects.values_list("pk", "person_id"))
    assert stored[uuid.UUID(lives_there["id"])] == field.voter_b.pk
    assert stored[uuid.UUID(lives_elsewhere["id"])] is None  # the person is not at this door: not linked
    assert stored[uuid.UUID(missing["id"])] is None


# --- the grace period ---------------------------------------------------------------


def _ended(world, *, hours_ago: float, field: str = "ended_at") -> tuple[Assignment, User]:
    now = timezone.now()
    assignment = f.AssignmentFactory(turf=world.turf, starts_at=now - dt.timedelta(hours=hours_ago + 4))
    setattr(assignment, field, now - dt.timedelta(hours=hours_ago))
    assignment.save(update_fields=[field])
    user = member(world, f"late{uuid.uuid4().hex[:6]}")
    f.AssignmentCanvasserFactory(assignment=assignment, user=user)
    return assignment, user


def test_a_phone_that_syncs_within_the_grace_period_is_trusted(world, script, settings):
    settings.FIELDOPS_KNOCK_GRACE_HOURS = 24
    assignment, user = _ended(world, hours_ago=2)
    during = push_item(world, assignment=assignment.pk, when=timezone.now() - dt.timedelta(hours=3))
    after_the_end = push_item(world, at=world.doors[1], assignment=assignment.pk)  # the phone had not heard yet
    assert [r["review"] for r in push(user, during, after_the_end)] == ["trusted", "trusted"]
    # ends_at passing is an end too.
    assignment, user = _ended(world, hours_ago=2, field="ends_at")
    assert [r["review"] for r in push(user, push_item(world, assignment=assignment.pk))] == ["trusted"]


def test_a_phone_that_syncs_after_the_grace_period_is_held(world, script, settings):
    settings.FIELDOPS_KNOCK_GRACE_HOURS = 24
    assignment, user = _ended(world, hours_ago=30)
    # Made while the assignment ran (as the phone says), received 30 hours after its end.
    item = push_item(world, assignment=assignment.pk, when=timezone.now() - dt.timedelta(hours=31))
    (receipt,) = push(user, item)
    assert (receipt["review"], receipt["held_reason"]) == ("held", "outside_time")


def test_no_grace_holds_a_knock_made_after_the_end(world, script, settings):
    settings.FIELDOPS_KNOCK_GRACE_HOURS = 0
    assignment, user = _ended(world, hours_ago=2)
    (receipt,) = push(user, push_item(world, assignment=assignment.pk))
    assert receipt["review"] == "held"


def test_a_knock_long_before_the_assignment_started_is_held(world, script):
    early = push_item(world, when=timezone.now() - dt.timedelta(days=3))  # the world's assignment began 1 h ago
    on_time = push_item(world, at=world.doors[1], when=timezone.now() - dt.timedelta(hours=2))  # within the grace
    assert [r["review"] for r in push(world.canvasser, early, on_time)] == ["held", "trusted"]


def test_the_door_of_an_assignment_of_another_campaign_is_off_the_list(world, script):
    other_turf = f.TurfFactory(campaign=f.CampaignFactory(organization=world.org))
    f.TurfDoorFactory(turf=other_turf, door=world.doors[0], position=0)
    other = f.AssignmentFactory(turf=other_turf)
    f.AssignmentCanvasserFactory(assignment=other, user=world.canvasser)
    # The knock names the world's campaign's assignment; the door is there too: trusted.
    assert push(world.canvasser, push_item(world))[0]["review"] == "trusted"
    door = f.DoorFactory(organization=world.org)
    f.TurfDoorFactory(turf=other_turf, door=door, position=1)
    (receipt,) = push(world.canvasser, push_item(world, at=door))  # in the other campaign's turf only
    assert (receipt["review"], receipt["held_reason"]) == ("held", "off_list")


# --- the admin's review queue ---------------------------------------------------------

QUEUE = "/admin/canvass/heldknock/"


def _held_pair(field: Field) -> tuple[dict[str, Any], dict[str, Any]]:
    first, second = forged_off_the_list(field), forged_with_ended_assignment(field)
    push(field.world.canvasser, first)
    push(field.fred, second)
    return first, second


def test_the_queue_lists_held_knocks_with_who_where_when_distance_and_reason(field):
    world = field.world
    first, second = _held_pair(field)
    trusted = push_item(world)
    push(world.canvasser, trusted)
    client = admin_client(world.organizer)
    response = client.get(QUEUE)
    assert response.status_code == 200
    listed = {str(a.pk) for a in response.context["cl"].result_list}
    assert listed == {first["id"], second["id"]}  # held by default
    body = response.content.decode()
    for text in ("carlos", "fred", field.door_b.display_address, "Door outside the canvasser", "Outside the time"):
        assert text in body, text
    assert " m" in body  # the distance from the door
    assert {str(a.pk) for a in client.get(QUEUE, {"review": "all"}).context["cl"].result_list} == {
        first["id"],
        second["id"],
        trusted["id"],
    }
    page = client.get(f"{QUEUE}{first['id']}/change/")
    assert page.status_code == 200
    assert f"{QUEUE}{first['id']}/approve/" in page.content.decode()


def test_the_organizer_approves_and_rejects_in_bulk(field, no_broker, django_capture_on_commit_callbacks):
    world = field.world
    first, second = _held_pair(field)
    client = admin_client(world.organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(QUEUE, {"action": "approve_selected", "_selected_action": [first["id"], second["id"]]})
    assert response.status_code == 302
    assert set(ContactAttempt.objects.values_list("review", flat=True)) == {"approved"}
    assert AuditLogEntry.objects.filter(action="attempt.approve", actor=world.organizer).count() == 2
    stats_services.stats_aggregate()
    assert campaign_knocks(world.campaign) == 2

    third = forged_off_the_list(field)
    push(world.canvasser, third)
    response = client.post(QUEUE, {"action": "reject_selected", "_selected_action": [third["id"]]})
    assert response.status_code == 302
    assert ContactAttempt.objects.get(pk=third["id"]).review == "rejected"
    assert AuditLogEntry.objects.filter(action="attempt.reject").count() == 1


def test_a_tampered_selection_in_the_queue_decides_only_real_knocks(field, no_broker):
    """Knocks are keyed by UUID: a selection with a value that is no UUID drops that value only."""
    world = field.world
    first, second = _held_pair(field)
    client = admin_client(world.organizer)
    response = client.post(QUEUE, {"action": "approve_selected", "_selected_action": ["nope", "12", first["id"]]})
    assert response.status_code == 302
    reviews = dict(ContactAttempt.objects.values_list("pk", "review"))
    assert reviews == {uuid.UUID(first["id"]): "approved", uuid.UUID(second["id"]): "held"}


def test_the_organizer_decides_one_knock_with_its_buttons(field, no_broker):
    world = field.world
    first, second = _held_pair(field)
    client = admin_client(world.organizer)
    # A GET decides nothing.
    assert client.get(f"{QUEUE}{first['id']}/approve/").status_code == 302
    assert ContactAttempt.objects.get(pk=first["id"]).review == "held"
    assert client.post(f"{QUEUE}{first['id']}/approve/").status_code == 302
    assert client.post(f"{QUEUE}{second['id']}/reject/").status_code == 302
    reviews = dict(ContactAttempt.objects.values_list("pk", "review"))
    assert reviews == {uuid.UUID(first["id"]): "approved", uuid.UUID(second["id"]): "rejected"}
    assert AuditLogEntry.objects.filter(action__startswith="attempt.").count() == 2


def test_the_canvasser_the_team_lead_and_the_outsider_cannot_review(field):
    world = field.world
    first, _ = _held_pair(field)
    lead = member(world, "terry", Role.TEAM_LEAD)
    canvasser = admin_client(world.canvasser)
    response = canvasser.get(QUEUE)
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = canvasser.post(f"{QUEUE}{first['id']}/approve/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    lead.is_staff = True
    lead.save(update_fields=["is_staff"])
    team_lead = admin_client(lead)
    assert team_lead.get(QUEUE).status_code == 403
    assert team_lead.post(f"{QUEUE}{first['id']}/approve/").status_code == 403
    assert team_lead.post(QUEUE, {"action": "approve_selected", "_selected_action": [first["id"]]}).status_code == 403
    outsider = admin_client(world.outsider)
    assert list(outsider.get(QUEUE, {"review": "all"}).context["cl"].result_list) == []
    assert outsider.post(f"{QUEUE}{first['id']}/approve/").status_code == 404
    outsider.post(QUEUE, {"action": "approve_selected", "_selected_action": [first["id"]]})
    assert set(ContactAttempt.objects.values_list("review", flat=True)) == {"held"}
    assert not AuditLogEntry.objects.filter(action__startswith="attempt.").exists()


def test_the_queue_query_count_does_not_grow(field, django_assert_max_num_queries):
    world = field.world
    client = admin_client(world.organizer)
    push(world.canvasser, *[forged_off_the_list(field) for _ in range(3)])
    with django_assert_max_num_queries(30) as few:
        assert client.get(QUEUE).status_code == 200
    bound = len(few.captured_queries)  # read now: the next request resets the query log
    push(world.canvasser, *[forged_off_the_list(field) for _ in range(30)])
    with django_assert_max_num_queries(bound):
        response = client.get(QUEUE)
    assert len(response.context["cl"].result_list) == 33


# --- the existing knocks ----------------------------------------------------------


def test_the_migration_holds_the_knocks_flagged_off_list_and_marks_their_days(world):
    from importlib import import_module

    migration = import_module("canvass.migrations.0009_knock_review")
    code = f.ResultCodeFactory(organization=world.org)
    common = {"organization": world.org, "campaign": world.campaign, "result_code": code, "canvasser": world.canvasser}
    off = f.ContactAttemptFactory(door=world.doors[0], off_list=True, **common)
    on = f.ContactAttemptFactory(door=world.doors[1], **common)
    StatsDirtyDay.objects.all().delete()
    migration.hold_off_list(django_apps, None)
    reviews = dict(ContactAttempt.objects.values_list("pk", "review"))
    assert reviews == {off.pk: Review.HELD, on.pk: Review.TRUSTED}
    assert ContactAttempt.objects.get(pk=off.pk).held_reason == "off_list"
    local = off.corrected_at.astimezone(world.org.tzinfo).date()
    assert list(StatsDirtyDay.objects.values_list("campaign_id", "day")) == [(world.campaign.pk, local)]
