"""GET /api/v1/sync/pull/: what changed for a canvasser since the cursor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canvass.models import AssignmentCanvasser, SyncChange
from canvass.sync.services import changes_for_assignment, sync_changes_record, sync_changes_record_many
from tests import factories as f
from tests.factories import PULL, PUSH, client_for, pull_pages, push_batch, push_item

pytestmark = pytest.mark.django_db


def pull(user, cursor: str | None = None):
    params = {"cursor": cursor} if cursor is not None else {}
    return client_for(user).get(PULL, params)


def pull_all(user, cursor: str | None = None) -> tuple[list[dict], str]:
    """Every page until has_more is false; the pages and the last cursor."""
    return pull_pages(client_for(user), cursor)


def push(user, *items):
    response = client_for(user).post(PUSH, push_batch(*items), format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def end_assignment(assignment) -> None:
    """What the assignment service does when an organizer ends one."""
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["ended_at"])
    sync_changes_record(
        organization_id=assignment.organization_id,
        kind="assignment",
        object_id=assignment.pk,
        assignment_id=assignment.pk,
    )


def join(world, assignment) -> None:
    """carlos added to an assignment, logged as the assignment service logs it."""
    f.AssignmentCanvasserFactory(assignment=assignment, user=world.canvasser)
    sync_changes_record_many(
        organization_id=world.org.pk,
        changes=changes_for_assignment(assignment_id=assignment.pk, user_ids=[world.canvasser.pk]),
    )


@pytest.fixture
def turf_b(world):
    """A second turf of the campaign, with its own canvasser (bruno) and one door."""
    turf = f.TurfFactory(campaign=world.campaign, name="Turf B")
    door = f.DoorFactory(organization=world.org)
    f.TurfDoorFactory(turf=turf, door=door, position=0)
    bruno = f.UserFactory(username="bruno")
    f.MembershipFactory(user=bruno, organization=world.org)
    assignment = f.AssignmentFactory(turf=turf)
    f.AssignmentCanvasserFactory(assignment=assignment, user=bruno)
    return turf, door, assignment, bruno


# --- snapshot ---------------------------------------------------------------------


def test_first_pull_is_a_snapshot_of_the_canvassers_assignments(world, script):
    people = [f.PersonFactory(door=world.doors[0]), f.PersonFactory(door=world.doors[0])]
    response = pull(world.canvasser)
    assert response.status_code == 200
    page = response.json()
    assert page["reset"] is True and page["has_more"] is False
    [assignment] = page["assignments"]
    assert assignment["id"] == world.assignment.pk
    assert assignment["turf"] == world.turf.pk and assignment["turf_name"] == "Turf A"
    assert assignment["doors"] == [d.pk for d in world.doors]  # walk order
    assert [d["id"] for d in page["doors"]] == sorted(d.pk for d in world.doors)
    door0 = next(d for d in page["doors"] if d["id"] == world.doors[0].pk)
    assert {p["id"] for p in door0["people"]} == {p.pk for p in people}
    assert set(door0["people"][0]) == {"id", "first_name", "last_name"}  # no phone, email, party
    assert page["tombstones"] == {"assignments": [], "doors": [], "people": []}


def test_the_outsider_and_the_organizer_get_nothing_of_carlos_turf(world, script):
    for user in (world.outsider, world.organizer):
        page = pull(user).json()
        assert page["assignments"] == [] and page["doors"] == [] and page["attempts"] == []


def test_unauthenticated_and_memberless_are_refused(world, script):
    assert pull(None).status_code in (401, 403)
    assert pull(f.UserFactory(username="lonely")).status_code == 403


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjoxfQ", "", "e30", "A" * 5000])
def test_a_bad_cursor_is_400(world, script, cursor):
    response = pull(world.canvasser, cursor)
    if cursor == "":  # an empty cursor is no cursor: a snapshot
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_a_cursor_of_another_organization_is_400(world, script):
    _, outsider_cursor = pull_all(world.outsider)
    response = pull(world.canvasser, outsider_cursor)
    assert response.status_code == 400


# --- other canvassers' knocks -----------------------------------------------------


def test_a_partners_knock_on_the_same_turf_reaches_the_phone_and_another_turfs_does_not(world, script, partner, turf_b):
    _, cursor = pull_all(world.canvasser)
    _, door_b, assignment_b, bruno = turf_b
    theirs = push_item(world, at=world.doors[1], result="refused")
    assert push(partner, theirs)[0]["status"] == "accepted"
    elsewhere = push_item(world, at=door_b, assignment=assignment_b.pk)
    assert push(bruno, elsewhere)[0]["status"] == "accepted"
    mine = push_item(world, at=world.doors[0])
    assert push(world.canvasser, mine)[0]["status"] == "accepted"

    pages, _ = pull_all(world.canvasser, cursor)
    attempts = [a for p in pages for a in p["attempts"]]
    assert [a["id"] for a in attempts] == [theirs["id"]]
    assert attempts[0]["result"] == "refused" and attempts[0]["door"] == world.doors[1].pk
    assert attempts[0]["canvasser"] == partner.pk
    assert "notes" not in attempts[0]
    # Bruno, on Turf B, hears nothing of Turf A.
    bruno_pages, _ = pull_all(bruno)
    assert [a["id"] for p in bruno_pages for a in p["attempts"]] == [elsewhere["id"]]  # his own only
    assert {d["id"] for p in bruno_pages for d in p["doors"]} == {door_b.pk}


def test_the_snapshot_carries_the_knocks_already_made_at_the_doors(world, script, partner, turf_b):
    """Everyone's, the canvasser's own included: a new phone must not knock again
    the doors its owner knocked with the old one."""
    _, door_b, assignment_b, bruno = turf_b
    theirs = push_item(world, at=world.doors[0], when=timezone.now() - dt.timedelta(minutes=9))
    push(partner, theirs)
    mine = push_item(world, at=world.doors[1], when=timezone.now() - dt.timedelta(minutes=8))
    push(world.canvasser, mine)
    push(bruno, push_item(world, at=door_b, assignment=assignment_b.pk))
    page = pull(world.canvasser).json()
    assert [(a["id"], a["canvasser"]) for a in page["attempts"]] == [
        (theirs["id"], partner.pk),
        (mine["id"], world.canvasser.pk),
    ]


def test_the_snapshot_sends_each_doors_latest_knock_whatever_the_days_knocks(world, script, partner):
    """A busy day does not grow the snapshot: per door, the latest knock that counts, and the
    canvasser's own held ones; the same latest result the walk list shows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = pull(world.canvasser).json()
    now = timezone.now()
    knocks = [push_item(world, at=world.doors[0], when=now - dt.timedelta(minutes=60 - i)) for i in range(40)]
    push(partner, *knocks)
    held = push_item(world, at=world.doors[1], when=now - dt.timedelta(days=3))  # long before the assignment
    [receipt] = push(world.canvasser, held)
    assert receipt["review"] == "held"

    with CaptureQueriesContext(connection) as queries:
        page = pull(world.canvasser).json()
    assert {(a["id"], a["door"]) for a in page["attempts"]} == {
        (knocks[-1]["id"], world.doors[0].pk),
        (held["id"], world.doors[1].pk),
    }
    walk = client_for(world.canvasser).get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/").json()
    shown = {d["id"]: d["last_result"] for d in walk["doors"]}
    [latest] = [a for a in page["attempts"] if a["door"] == world.doors[0].pk]
    assert shown[world.doors[0].pk]["result_code"] == latest["result"]
    assert dt.datetime.fromisoformat(shown[world.doors[0].pk]["at"]) == dt.datetime.fromisoformat(
        latest["corrected_at"]
    )
    # Forty knocks later the snapshot is two knocks longer than before, not forty-one.
    assert len(page["attempts"]) == len(first["attempts"]) + 2
    assert len(queries) <= 12, [q["sql"] for q in queries]


# --- paging and the cursor ----------------------------------------------------------


def test_the_walk_lists_cursor_continues_with_what_changed_after_it(world, script, partner):
    """A phone that downloaded its walk list pulls from the list's cursor: no snapshot, only
    what was logged after the list was read."""
    before = push_item(world, at=world.doors[0])
    push(partner, before)
    walk = client_for(world.canvasser).get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/").json()
    after = push_item(world, at=world.doors[1])
    push(partner, after)
    pages, _ = pull_all(world.canvasser, walk["cursor"])
    assert pages[0]["reset"] is False
    assert [a["id"] for page in pages for a in page["attempts"]] == [after["id"]]


def test_pages_are_bounded_and_say_whether_more_is_waiting(world, script, partner, settings):
    settings.SYNC_PULL_PAGE_SIZE = 1
    snapshot, cursor = pull_all(world.canvasser)
    assert [p["has_more"] for p in snapshot] == [True, False]
    assert [[d["id"] for d in p["doors"]] for p in snapshot] == [
        [d.pk] for d in sorted(world.doors, key=lambda d: d.pk)
    ]
    assert [p["reset"] for p in snapshot] == [True, False]

    knocks = [
        push_item(world, at=world.doors[i % 2], when=timezone.now() - dt.timedelta(minutes=30 - 5 * i))
        for i in range(3)
    ]
    push(partner, *knocks)
    pages, cursor = pull_all(world.canvasser, cursor)
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [a["id"] for p in pages for a in p["attempts"]] == [k["id"] for k in knocks]
    # Caught up: an empty page, and the same cursor back.
    page = pull(world.canvasser, cursor).json()
    assert page["attempts"] == [] and page["has_more"] is False and page["cursor"] == cursor


def test_pulling_twice_with_the_same_cursor_gives_the_same_answer(world, script, partner):
    _, cursor = pull_all(world.canvasser)
    push(partner, push_item(world, at=world.doors[0]), push_item(world, at=world.doors[1]))
    first = pull(world.canvasser, cursor).json()
    second = pull(world.canvasser, cursor).json()
    assert first == second
    assert len(first["attempts"]) == 2


def test_changes_committed_during_a_snapshot_are_not_lost(world, script, partner, settings):
    """The snapshot's cursor is the log head read before the snapshot: a knock
    stored between its pages comes with the next incremental pull."""
    settings.SYNC_PULL_PAGE_SIZE = 1
    first = pull(world.canvasser).json()
    assert first["has_more"] is True
    late = push_item(world, at=world.doors[0])  # door 0 was on the first page already
    push(partner, late)
    pages, _ = pull_all(world.canvasser, first["cursor"])
    assert late["id"] in [a["id"] for p in pages for a in p["attempts"]]


def test_irrelevant_changes_advance_the_cursor_without_being_sent(world, script, turf_b):
    _, cursor = pull_all(world.canvasser)
    _, door_b, assignment_b, bruno = turf_b
    push(bruno, *[push_item(world, at=door_b, assignment=assignment_b.pk) for _ in range(3)])
    page = pull(world.canvasser, cursor).json()
    assert page["attempts"] == [] and page["has_more"] is False
    assert page["cursor"] != cursor  # moved past Turf B's knocks


# --- assignments come and go ------------------------------------------------------


def test_an_ended_assignment_leaves_the_phone_with_its_doors_and_people(world, script):
    person = f.PersonFactory(door=world.doors[1])
    _, cursor = pull_all(world.canvasser)
    end_assignment(world.assignment)
    page = pull(world.canvasser, cursor).json()
    assert page["tombstones"] == {
        "assignments": [world.assignment.pk],
        "doors": sorted(d.pk for d in world.doors),
        "people": [person.pk],
    }
    assert page["assignments"] == [] and page["doors"] == []
    # Told once: the next pull is empty.
    again = pull(world.canvasser, page["cursor"]).json()
    assert again["tombstones"]["assignments"] == []


def test_a_door_still_on_another_current_assignment_stays(world, script):
    other_turf = f.TurfFactory(campaign=world.campaign, name="Turf C")
    f.TurfDoorFactory(turf=other_turf, door=world.doors[0], position=0)
    other = f.AssignmentFactory(turf=other_turf)
    f.AssignmentCanvasserFactory(assignment=other, user=world.canvasser)
    _, cursor = pull_all(world.canvasser)
    end_assignment(world.assignment)
    page = pull(world.canvasser, cursor).json()
    assert page["tombstones"]["assignments"] == [world.assignment.pk]
    assert page["tombstones"]["doors"] == [world.doors[1].pk]


def test_a_canvasser_taken_off_an_assignment_loses_it_and_the_partner_keeps_it(world, script, partner):
    _, cursor = pull_all(world.canvasser)
    _, partner_cursor = pull_all(partner)
    AssignmentCanvasser.objects.filter(assignment=world.assignment, user=world.canvasser).delete()
    sync_changes_record_many(
        organization_id=world.org.pk,
        changes=changes_for_assignment(assignment_id=world.assignment.pk, user_ids=[world.canvasser.pk]),
    )
    page = pull(world.canvasser, cursor).json()
    assert page["tombstones"]["assignments"] == [world.assignment.pk]
    assert set(page["tombstones"]["doors"]) == {d.pk for d in world.doors}
    partner_page = pull(partner, partner_cursor).json()
    assert partner_page["tombstones"]["assignments"] == []
    assert [a["id"] for a in partner_page["assignments"]] == [world.assignment.pk]


def test_a_deleted_assignment_leaves_the_phone(world, script, partner):
    person = f.PersonFactory(door=world.doors[0])
    _, cursor = pull_all(world.canvasser)
    assignment = world.assignment
    sync_changes_record_many(
        organization_id=world.org.pk,
        changes=changes_for_assignment(
            assignment_id=assignment.pk, user_ids=[world.canvasser.pk, partner.pk], turf_id=assignment.turf_id
        ),
    )
    assignment_id = assignment.pk
    assignment.delete()
    page = pull(world.canvasser, cursor).json()
    assert page["tombstones"] == {
        "assignments": [assignment_id],
        "doors": sorted(d.pk for d in world.doors),
        "people": [person.pk],
    }


def test_an_assignment_ended_without_a_log_entry_leaves_a_phone_that_says_it_holds_it(world, script, turf_b):
    """The safety net: a writer that forgot sync_changes_record (the admin, so far)."""
    _, _, assignment_b, _ = turf_b
    _, cursor = pull_all(world.canvasser)
    type(world.assignment).objects.filter(pk=world.assignment.pk).update(ended_at=timezone.now())
    held = f"{world.assignment.pk},{assignment_b.pk},999999"
    page = client_for(world.canvasser).get(PULL, {"cursor": cursor, "assignments": held}).json()
    # Ids only (bruno's assignment and a missing one are named back, nothing of them is told).
    assert page["tombstones"] == {
        "assignments": sorted([world.assignment.pk, assignment_b.pk, 999999]),
        "doors": [],
        "people": [],
    }
    assert page["doors"] == [] and page["assignments"] == []
    # Without the list, an unlogged end is not seen.
    assert pull(world.canvasser, cursor).json()["tombstones"]["assignments"] == []


@pytest.mark.parametrize("held", ["1,x", "1;2", ",".join(["1"] * 201), "-1"])
def test_a_bad_held_assignment_list_is_400(world, script, held):
    _, cursor = pull_all(world.canvasser)
    response = client_for(world.canvasser).get(PULL, {"cursor": cursor, "assignments": held})
    assert response.status_code == 400
    assert "assignments" in response.json()["errors"]


def test_an_assignment_that_runs_out_by_time_leaves_the_phone(world, script):
    """No write marks the moment ends_at passes; pull finds it by server time."""
    _, cursor = pull_all(world.canvasser)
    # Time passes: the assignment's window closes (written here without a log entry).
    type(world.assignment).objects.filter(pk=world.assignment.pk).update(
        ends_at=timezone.now() - dt.timedelta(seconds=1)
    )
    page = pull(world.canvasser, cursor).json()
    assert page["tombstones"]["assignments"] == [world.assignment.pk]
    assert len(page["tombstones"]["doors"]) == 2
    assert pull(world.canvasser, page["cursor"]).json()["tombstones"]["assignments"] == []
    # A fresh phone does not get it either.
    assert pull(world.canvasser).json()["assignments"] == []


def test_a_new_assignment_arrives_whole(world, script, turf_b):
    turf, door_b, assignment_b, bruno = turf_b
    person = f.PersonFactory(door=door_b)
    push(bruno, push_item(world, at=door_b, assignment=assignment_b.pk))
    _, cursor = pull_all(world.canvasser)
    join(world, assignment_b)
    page = pull(world.canvasser, cursor).json()
    assert [a["id"] for a in page["assignments"]] == [assignment_b.pk]
    assert page["assignments"][0]["doors"] == [door_b.pk]
    assert [d["id"] for d in page["doors"]] == [door_b.pk]
    assert [p["id"] for p in page["doors"][0]["people"]] == [person.pk]
    assert len(page["attempts"]) == 1  # bruno's knock there, so carlos does not knock again
    assert page["tombstones"]["assignments"] == []


def test_a_new_assignment_on_a_busy_turf_brings_each_doors_latest_knock_only(world, script, turf_b):
    """Like a snapshot: a turf that arrives whole brings per door its latest knock that counts,
    not every knock made there that day."""
    turf, door_b, assignment_b, bruno = turf_b
    now = timezone.now()
    knocks = [
        push_item(world, at=door_b, assignment=assignment_b.pk, when=now - dt.timedelta(minutes=50 - i))
        for i in range(30)
    ]
    push(bruno, *knocks)
    _, cursor = pull_all(world.canvasser)
    join(world, assignment_b)
    page = pull(world.canvasser, cursor).json()
    assert [a["id"] for a in page["attempts"]] == [knocks[-1]["id"]]
    walk = client_for(world.canvasser).get(f"/api/v1/assignments/{assignment_b.pk}/walk-list/").json()
    [shown] = [d["last_result"] for d in walk["doors"] if d["id"] == door_b.pk]
    assert dt.datetime.fromisoformat(shown["at"]) == dt.datetime.fromisoformat(page["attempts"][0]["corrected_at"])


def test_an_edited_door_is_sent_again(world, script, turf_b):
    _, door_b, _, _ = turf_b
    _, cursor = pull_all(world.canvasser)
    door = world.doors[1]
    door.unit = "B"
    door.save(update_fields=["unit"])
    sync_changes_record(organization_id=world.org.pk, kind="door", object_id=door.pk, door_id=door.pk)
    sync_changes_record(organization_id=world.org.pk, kind="door", object_id=door_b.pk, door_id=door_b.pk)
    page = pull(world.canvasser, cursor).json()
    assert [(d["id"], d["unit"]) for d in page["doors"]] == [(door.pk, "B")]


def test_a_person_added_at_a_door_comes_with_the_door(world, script):
    _, cursor = pull_all(world.canvasser)
    person = f.PersonFactory(door=world.doors[1], first_name="Lin")
    sync_changes_record(organization_id=world.org.pk, kind="person", object_id=person.pk, door_id=person.door_id)
    page = pull(world.canvasser, cursor).json()
    assert [(d["id"], [p["first_name"] for p in d["people"]]) for d in page["doors"]] == [(world.doors[1].pk, ["Lin"])]


def test_a_turf_whose_doors_changed_is_sent_again_with_its_new_walk_list(world, script):
    _, cursor = pull_all(world.canvasser)
    new_door = f.DoorFactory(organization=world.org)
    world.turf.turf_doors.filter(door=world.doors[1]).delete()
    f.TurfDoorFactory(turf=world.turf, door=new_door, position=9)
    sync_changes_record(organization_id=world.org.pk, kind="turf", object_id=world.turf.pk, turf_id=world.turf.pk)
    page = pull(world.canvasser, cursor).json()
    assert [a["doors"] for a in page["assignments"]] == [[world.doors[0].pk, new_door.pk]]
    assert {d["id"] for d in page["doors"]} == {world.doors[0].pk, new_door.pk}
    # The dropped door is no longer listed by any assignment: the phone lets it go.
    assert world.doors[1].pk not in page["assignments"][0]["doors"]


def test_an_unknown_change_kind_is_refused(world):
    with pytest.raises(ValueError):
        sync_changes_record(organization_id=world.org.pk, kind="weather", object_id=1)
    assert SyncChange.objects.count() == 0


# --- cost -------------------------------------------------------------------------


def test_pull_costs_a_constant_number_of_queries(world, script, partner, turf_b, django_assert_max_num_queries):
    for door in world.doors:
        f.PersonFactory.create_batch(3, door=door)
    _, cursor = pull_all(world.canvasser)
    push(partner, *[push_item(world, at=world.doors[i % 2]) for i in range(40)])
    _, _, assignment_b, _ = turf_b
    join(world, assignment_b)
    end_assignment(world.assignment)
    with django_assert_max_num_queries(14):
        page = pull(world.canvasser, cursor).json()
    assert page["tombstones"]["assignments"] == [world.assignment.pk]
    assert [a["id"] for a in page["assignments"]] == [assignment_b.pk]
    with django_assert_max_num_queries(10):
        pull(world.canvasser)


def test_pull_answers_times_in_the_organizations_offset_like_the_walk_list(world, script, partner):
    push(partner, push_item(world))
    page = pull(world.canvasser).json()
    assert world.org.timezone == "America/Los_Angeles"
    [attempt] = page["attempts"]
    [assignment] = page["assignments"]
    for moment in (attempt["corrected_at"], assignment["starts_at"]):
        assert moment.endswith(("-08:00", "-07:00")), moment
    walk = client_for(world.canvasser).get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/").json()
    assert dt.datetime.fromisoformat(walk["assignment"]["starts_at"]) == dt.datetime.fromisoformat(
        assignment["starts_at"]
    )


def test_an_up_to_date_phone_pulls_an_empty_page_from_two_small_reads(
    world, script, partner, django_assert_max_num_queries
):
    """Nothing logged since the cursor: the log's counter and the canvasser's assignments
    are read (plus the membership here, which a phone's token brings), nothing else."""
    _, cursor = pull_all(world.canvasser)
    with django_assert_max_num_queries(3):
        page = pull(world.canvasser, cursor).json()
    assert page["cursor"] == cursor and page["has_more"] is False and page["reset"] is False
    assert page["assignments"] == page["doors"] == page["attempts"] == []
    assert page["tombstones"] == {"assignments": [], "doors": [], "people": []}
    # The same cursor after a partner's knock: the knock comes (the head moved).
    knock = push_item(world, at=world.doors[0])
    push(partner, knock)
    assert [a["id"] for a in pull(world.canvasser, cursor).json()["attempts"]] == [knock["id"]]


def test_a_canvasser_in_two_campaigns_gets_each_doors_latest_knock_of_either(world, script, partner):
    """Two current assignments in two campaigns sharing a door: the snapshot sends that door's
    latest knock of either campaign, and never one of a campaign the canvasser is not in."""
    door = world.doors[0]
    other = f.CampaignFactory(organization=world.org, slug="second")
    turf = f.TurfFactory(campaign=other, name="Second turf")
    f.TurfDoorFactory(turf=turf, door=door, position=0)
    f.AssignmentCanvasserFactory(assignment=f.AssignmentFactory(turf=turf), user=world.canvasser)
    stranger = f.CampaignFactory(organization=world.org, slug="stranger")
    now = timezone.now()
    older = f.ContactAttemptFactory(door=door, campaign=world.campaign, recorded_at=now - dt.timedelta(minutes=9))
    newer = f.ContactAttemptFactory(door=door, campaign=other, recorded_at=now - dt.timedelta(minutes=5))
    f.ContactAttemptFactory(door=door, campaign=stranger, recorded_at=now - dt.timedelta(minutes=1))
    pages, _ = pull_all(world.canvasser)
    sent = [a["id"] for p in pages for a in p["attempts"] if a["door"] == door.pk]
    assert sent == [str(newer.pk)]
    assert str(older.pk) not in sent
