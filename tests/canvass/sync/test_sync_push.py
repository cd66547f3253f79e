"""POST /api/v1/sync/push/: every knock stored once, every item answered."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from canvass.models import ContactAttempt, SyncChange
from tests import factories as f
from tests.factories import PUSH, client_for, push_batch, push_item

pytestmark = pytest.mark.django_db


def push(user, body, **kwargs):
    return client_for(user).post(PUSH, body, format="json", **kwargs)


def statuses(response) -> list[str]:
    return [r["status"] for r in response.json()["results"]]


# --- receipts ---------------------------------------------------------------------


def test_receipts_accepted_duplicate_conflict_rejected_in_order(world, script):
    first = push_item(world, result="canvassed", support_level=2, answers={str(script.question.pk): script.yes.pk})
    response = push(world.canvasser, push_batch(first))
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        {"id": first["id"], "status": "accepted", "errors": {}, "flags": [], "review": "trusted"}
    ]

    changed = {**first, "result": "refused"}
    fresh = push_item(world, at=world.doors[1])
    broken = push_item(world, support_level="high")
    response = push(world.canvasser, push_batch(broken, first, changed, fresh))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [broken["id"], first["id"], changed["id"], fresh["id"]]
    assert statuses(response) == ["rejected", "duplicate", "conflict", "accepted"]
    assert results[0]["errors"] == {"support_level": ["Must be a whole number from 1 to 5, or null."]}
    assert "id" in results[2]["errors"]

    stored = ContactAttempt.objects.get(pk=first["id"])
    assert stored.result_code.code == "canvassed"  # the stored one stands
    assert stored.support_level == 2
    assert stored.answers == {str(script.question.pk): script.yes.pk}
    assert stored.canvasser == world.canvasser
    assert stored.campaign == world.campaign
    assert stored.device_id == "phone-1"
    assert ContactAttempt.objects.count() == 2
    assert not ContactAttempt.objects.filter(pk=broken["id"]).exists()


def test_retry_after_a_lost_response_stores_once(world, script):
    items = [
        push_item(world, at=world.doors[i % 2], when=timezone.now() - dt.timedelta(minutes=30 - i)) for i in range(5)
    ]
    body = push_batch(*items)
    assert statuses(push(world.canvasser, body)) == ["accepted"] * 5
    # The phone never saw that answer and sends the batch again, later, with
    # its keys in another order, ids as strings and a new sent_at.
    retried = [
        {**dict(reversed(list(item.items()))), "door": str(item["door"]), "assignment": str(item["assignment"])}
        for item in items
    ]
    again = push(world.canvasser, push_batch(*retried, sent_at=timezone.now() + dt.timedelta(seconds=30)))
    assert statuses(again) == ["duplicate"] * 5
    assert ContactAttempt.objects.count() == 5
    assert SyncChange.objects.filter(kind="attempt").count() == 5


def test_same_instant_in_another_offset_is_the_same_content(world, script):
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    item = push_item(world, when=moment)
    assert statuses(push(world.canvasser, push_batch(item))) == ["accepted"]
    pacific = moment.astimezone(dt.timezone(dt.timedelta(hours=-8))).isoformat()
    assert statuses(push(world.canvasser, push_batch({**item, "recorded_at": pacific, "lat": item["lat"]}))) == [
        "duplicate"
    ]


def test_a_retry_after_losing_the_assignment_is_still_a_duplicate(world, script):
    """Statuses are final: the first answer was lost, the knock was stored, and
    the canvasser was taken off the assignment before the retry."""
    item = push_item(world)
    assert statuses(push(world.canvasser, push_batch(item))) == ["accepted"]
    world.assignment.members.filter(user=world.canvasser).delete()
    assert statuses(push(world.canvasser, push_batch(item))) == ["duplicate"]
    # A new knock on it is refused.
    assert statuses(push(world.canvasser, push_batch(push_item(world)))) == ["rejected"]


def test_the_same_id_twice_in_one_batch(world, script):
    item = push_item(world)
    other = {**item, "result": "refused"}
    response = push(world.canvasser, push_batch(item, item, other))
    assert statuses(response) == ["accepted", "duplicate", "conflict"]
    assert ContactAttempt.objects.filter(pk=item["id"]).get().result_code.code == "not_home"


def test_an_id_taken_by_another_canvasser_is_a_conflict(world, script):
    partner = f.UserFactory(username="paula")
    f.MembershipFactory(user=partner, organization=world.org)
    f.AssignmentCanvasserFactory(assignment=world.assignment, user=partner)
    item = push_item(world)
    assert statuses(push(partner, push_batch(item))) == ["accepted"]
    assert statuses(push(world.canvasser, push_batch(item))) == ["conflict"]
    assert ContactAttempt.objects.get(pk=item["id"]).canvasser == partner


def test_a_copy_stored_by_a_racing_request_answers_duplicate(world, script):
    """What the loser of a race sees: its INSERT did nothing, and the stored row
    (the winner's, with the winner's push_id) has the same content."""
    from canvass.sync.serializers import parse_attempt
    from canvass.sync.services import attempts_push
    from fieldops.access import membership_for

    sent_at = timezone.now()
    item = push_item(world)
    _, parsed, errors = parse_attempt(item, sent_at=sent_at)
    assert errors == {} and parsed is not None
    membership = membership_for(world.canvasser)
    assert membership is not None
    winner = attempts_push(membership=membership, device_id="phone-1", sent_at=sent_at, items=[parsed])
    loser = attempts_push(membership=membership, device_id="phone-1", sent_at=sent_at, items=[parsed])
    assert [r.status for r in winner.receipts] == ["accepted"]
    assert [r.status for r in loser.receipts] == ["duplicate"]
    assert ContactAttempt.objects.count() == 1


# --- clock skew -------------------------------------------------------------------


def test_a_phone_clock_an_hour_behind_is_corrected(world, script):
    now = timezone.now()
    phone_now = now - dt.timedelta(hours=1)
    recorded = phone_now - dt.timedelta(minutes=20)
    item = push_item(world, when=recorded)
    assert statuses(push(world.canvasser, push_batch(item, sent_at=phone_now))) == ["accepted"]
    stored = ContactAttempt.objects.get(pk=item["id"])
    assert abs((stored.recorded_at - recorded).total_seconds()) < 0.001  # the phone's time, kept
    assert abs((stored.received_at - now).total_seconds()) < 5
    # Corrected: the phone's time plus the skew between sent_at and the server clock.
    assert abs((stored.corrected_at - (now - dt.timedelta(minutes=20))).total_seconds()) < 5


def test_a_phone_clock_ahead_is_corrected_back(world, script):
    now = timezone.now()
    phone_now = now + dt.timedelta(days=2)
    item = push_item(world, when=phone_now - dt.timedelta(minutes=3))
    assert statuses(push(world.canvasser, push_batch(item, sent_at=phone_now))) == ["accepted"]
    stored = ContactAttempt.objects.get(pk=item["id"])
    assert stored.recorded_at > now + dt.timedelta(days=1)
    assert abs((stored.corrected_at - (now - dt.timedelta(minutes=3))).total_seconds()) < 5
    assert stored.corrected_at <= stored.received_at


def test_a_small_gap_is_latency_not_skew(world, script):
    now = timezone.now()
    recorded = now - dt.timedelta(minutes=10)
    item = push_item(world, when=recorded)
    push(world.canvasser, push_batch(item, sent_at=now - dt.timedelta(seconds=40)))
    stored = ContactAttempt.objects.get(pk=item["id"])
    assert abs((stored.corrected_at - recorded).total_seconds()) < 0.001


# --- flags ------------------------------------------------------------------------


def test_a_door_of_the_organization_off_the_list_is_accepted_and_flagged(world, script):
    street_door = f.DoorFactory(organization=world.org, lat=33.9905, lng=-118.4600)
    item = push_item(world, at=street_door)
    response = push(world.canvasser, push_batch(item))
    assert statuses(response) == ["accepted"]
    assert response.json()["results"][0]["flags"] == ["off_list", "held"]  # held for review: docs/architecture.md
    assert ContactAttempt.objects.get(pk=item["id"]).off_list is True
    on_list = push_item(world)
    push(world.canvasser, push_batch(on_list))
    assert ContactAttempt.objects.get(pk=on_list["id"]).off_list is False


def test_far_from_the_door_is_flagged_with_the_distance(world, script, settings):
    settings.SYNC_FAR_FROM_DOOR_M = 150
    door = world.doors[0]
    near = push_item(world, lat=door.lat + 0.0005, lng=door.lng, accuracy_m=10)  # about 56 m
    far = push_item(
        world, lat=door.lat + 0.01, lng=door.lng, accuracy_m=10, when=timezone.now() - dt.timedelta(hours=3)
    )
    vague = push_item(
        world, lat=door.lat + 0.002, lng=door.lng, accuracy_m=500, when=timezone.now() - dt.timedelta(hours=6)
    )
    no_fix = push_item(world, lat=None, lng=None, accuracy_m=None, when=timezone.now() - dt.timedelta(hours=9))
    response = push(world.canvasser, push_batch(near, far, vague, no_fix))
    assert [r["flags"] for r in response.json()["results"]] == [[], ["far_from_door"], [], []]
    stored = {str(a.pk): a for a in ContactAttempt.objects.all()}
    near_m, far_m = stored[near["id"]].distance_m, stored[far["id"]].distance_m
    assert near_m is not None and 50 < near_m < 62
    assert far_m is not None and 1100 < far_m < 1120
    assert stored[no_fix["id"]].distance_m is None


def test_faster_than_walking_between_doors_is_flagged(world, script, settings):
    settings.SYNC_MAX_SPEED_CM_PER_S = 300
    far_door = f.DoorFactory(organization=world.org, lat=34.0000, lng=-118.4600)  # 1.1 km north
    f.TurfDoorFactory(turf=world.turf, door=far_door, position=5)
    start = timezone.now() - dt.timedelta(minutes=30)
    first = push_item(world, when=start)
    walked = push_item(world, at=world.doors[1], when=start + dt.timedelta(seconds=60))  # 20 m in a minute
    sprint = push_item(world, at=far_door, when=start + dt.timedelta(seconds=120))  # 1.1 km in a minute
    # Pushed out of order, in two batches: the previous knock is by corrected time.
    assert statuses(push(world.canvasser, push_batch(first))) == ["accepted"]
    response = push(world.canvasser, push_batch(sprint, walked))
    assert [r["flags"] for r in response.json()["results"]] == [["too_fast"], []]
    # Another canvasser's knocks are not this one's path.
    partner = f.UserFactory(username="paula")
    f.MembershipFactory(user=partner, organization=world.org)
    f.AssignmentCanvasserFactory(assignment=world.assignment, user=partner)
    theirs = push_item(world, at=world.doors[0], when=start + dt.timedelta(seconds=150))
    assert push(partner, push_batch(theirs)).json()["results"][0]["flags"] == []
    # A knock at the far door after a 15-minute walk is fine.
    back = push_item(world, at=world.doors[0], when=start + dt.timedelta(minutes=17))
    assert push(world.canvasser, push_batch(back)).json()["results"][0]["flags"] == []
    assert ContactAttempt.objects.get(pk=back["id"]).too_fast is False
    assert ContactAttempt.objects.get(pk=sprint["id"]).too_fast is True


# --- bad input --------------------------------------------------------------------


def test_malformed_json_is_400_and_writes_nothing(world, script):
    response = client_for(world.canvasser).post(
        PUSH, data='{"device_id": "x", "attempts": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    assert ContactAttempt.objects.count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ([], "non_field_errors"),
        ("just text", "non_field_errors"),
        ({"device_id": "p", "sent_at": "2026-11-27T10:00:00Z", "attempts": {"id": 1}}, "attempts"),
        ({"device_id": "p", "sent_at": "2026-11-27T10:00:00Z"}, "attempts"),
        ({"sent_at": "2026-11-27T10:00:00Z", "attempts": []}, "device_id"),
        ({"device_id": "p" * 129, "sent_at": "2026-11-27T10:00:00Z", "attempts": []}, "device_id"),
        ({"device_id": "p", "sent_at": "yesterday", "attempts": []}, "sent_at"),
        ({"device_id": "p", "sent_at": "2026-11-27T10:00:00", "attempts": []}, "sent_at"),
    ],
)
def test_a_bad_envelope_is_400_and_says_which_field(world, script, body, field):
    good = push_item(world)
    if isinstance(body, dict) and isinstance(body.get("attempts"), list):
        body["attempts"].append(good)
    response = push(world.canvasser, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ContactAttempt.objects.count() == 0


def test_an_oversized_batch_is_413_and_writes_nothing(world, script, settings):
    settings.SYNC_PUSH_MAX_ITEMS = 500
    items = [push_item(world) for _ in range(501)]
    response = push(world.canvasser, push_batch(*items))
    assert response.status_code == 413
    assert "500" in response.json()["detail"]
    assert ContactAttempt.objects.count() == 0


def test_a_body_over_the_upload_limit_is_413_and_writes_nothing(world, script, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    items = [push_item(world, notes="\u00e9" * 2000) for _ in range(20)]
    body = json.dumps(push_batch(*items), ensure_ascii=True)  # 6 bytes per é: 240 kB
    response = client_for(world.canvasser).post(PUSH, data=body, content_type="application/json")
    assert response.status_code == 413
    assert "Split the batch" in response.json()["detail"]
    assert ContactAttempt.objects.count() == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"support_level": "high"}, "support_level"),
        ({"support_level": 7}, "support_level"),
        ({"support_level": True}, "support_level"),
        ({"lat": 200}, "lat"),
        ({"lng": "west"}, "lng"),
        ({"lat": None}, "lat"),
        ({"accuracy_m": -3}, "accuracy_m"),
        ({"id": "not-a-uuid"}, "id"),
        ({"id": 12}, "id"),
        ({"door": "12a"}, "door"),
        ({"door": -4}, "door"),
        ({"assignment": None}, "assignment"),
        ({"person": 1.5}, "person"),
        ({"result": "teleported"}, "result"),
        ({"result": ""}, "result"),
        ({"answers": ["yes"]}, "answers"),
        ({"answers": {"q": 1}}, "answers"),
        ({"notes": "x" * 2001}, "notes"),
        ({"notes": 12}, "notes"),
        ({"recorded_at": "2026-13-01T00:00:00Z"}, "recorded_at"),
        ({"recorded_at": "2026-11-27 10:00"}, "recorded_at"),
        ({"shoe_size": 44}, "non_field_errors"),
    ],
)
def test_a_bad_item_is_rejected_with_its_field_and_the_good_one_beside_it_stored(world, script, overrides, field):
    bad = push_item(world, **overrides)
    good = push_item(world, at=world.doors[1])
    response = push(world.canvasser, push_batch(bad, good))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"]
    assert list(results[0]["errors"]) == [field]
    assert ContactAttempt.objects.count() == 1


@pytest.mark.parametrize("missing", ["id", "door", "assignment", "result", "recorded_at"])
def test_a_missing_field_is_rejected(world, script, missing):
    item = push_item(world)
    del item[missing]
    response = push(world.canvasser, push_batch(item))
    assert response.json()["results"][0]["status"] == "rejected"
    assert response.json()["results"][0]["errors"] == {missing: ["This field is required."]}


def test_an_item_that_is_not_an_object_is_rejected(world, script):
    response = push(world.canvasser, push_batch("knock", push_item(world)))  # type: ignore[arg-type]  # not an object, on purpose
    assert statuses(response) == ["rejected", "accepted"]
    assert response.json()["results"][0]["id"] == ""


def test_recorded_in_the_future_of_the_phone_is_rejected(world, script):
    sent_at = timezone.now()
    item = push_item(world, when=sent_at + dt.timedelta(hours=2))
    response = push(world.canvasser, push_batch(item, sent_at=sent_at))
    assert response.json()["results"][0]["errors"].keys() == {"recorded_at"}


def test_a_knock_a_year_older_than_its_batch_is_rejected(world, script):
    sent_at = timezone.now()
    item = push_item(world, when=sent_at - dt.timedelta(days=400))
    response = push(world.canvasser, push_batch(item, sent_at=sent_at))
    assert response.json()["results"][0]["errors"].keys() == {"recorded_at"}


def test_a_phone_clock_reset_to_1970_is_corrected(world, script):
    phone_now = dt.datetime(1970, 1, 1, 0, 30, tzinfo=dt.UTC)
    item = push_item(world, when=phone_now - dt.timedelta(minutes=10))
    assert statuses(push(world.canvasser, push_batch(item, sent_at=phone_now))) == ["accepted"]
    stored = ContactAttempt.objects.get(pk=item["id"])
    assert abs((stored.corrected_at - (timezone.now() - dt.timedelta(minutes=10))).total_seconds()) < 10


@pytest.mark.parametrize("sent_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1800-01-01T00:00:00Z"])
def test_a_sent_at_out_of_range_is_400(world, script, sent_at):
    body = {**push_batch(push_item(world)), "sent_at": sent_at}
    response = push(world.canvasser, body)
    assert response.status_code == 400
    assert response.json()["errors"] == {"sent_at": ["Is out of range."]}


def test_answers_must_be_options_of_this_campaigns_questions(world, script):
    other_campaigns = push_item(world, answers={str(script.other_question.pk): script.other_option.pk})
    wrong_question = push_item(world, answers={str(script.other_question.pk): script.yes.pk})
    unknown = push_item(world, answers={str(script.question.pk): 999999})
    right = push_item(world, answers={str(script.question.pk): str(script.no.pk)})
    response = push(world.canvasser, push_batch(other_campaigns, wrong_question, unknown, right))
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "accepted"]
    assert results[0]["errors"] == {
        "answers": {str(script.other_question.pk): ["Not an option of this campaign's questions."]}
    }
    assert results[1]["errors"] == {
        "answers": {str(script.other_question.pk): ["This option belongs to another question."]}
    }
    assert ContactAttempt.objects.get(pk=right["id"]).answers == {str(script.question.pk): script.no.pk}


def test_a_door_of_another_organization_is_rejected_as_if_missing(world, script):
    foreign = push_item(world, at=world.other_door)
    missing = push_item(world, door=987654)
    response = push(world.canvasser, push_batch(foreign, missing))
    results = response.json()["results"]
    assert results[0]["errors"] == results[1]["errors"] == {"door": ["No such door."]}


def test_an_assignment_not_yours_is_rejected(world, script):
    other_turf = f.TurfFactory(campaign=world.campaign, name="Turf B")
    someone_elses = f.AssignmentFactory(turf=other_turf)
    foreign_assignment = f.AssignmentFactory(
        turf=f.TurfFactory(campaign=f.CampaignFactory(organization=world.other_org))
    )
    response = push(
        world.canvasser,
        push_batch(push_item(world, assignment=someone_elses.pk), push_item(world, assignment=foreign_assignment.pk)),
    )
    assert [r["errors"] for r in response.json()["results"]] == [{"assignment": ["No such assignment of yours."]}] * 2


def test_a_knock_on_an_ended_assignment_made_before_it_ended_is_kept(world, script):
    world.assignment.ended_at = timezone.now()
    world.assignment.save(update_fields=["ended_at"])
    item = push_item(world, when=timezone.now() - dt.timedelta(hours=1))
    assert statuses(push(world.canvasser, push_batch(item))) == ["accepted"]


def test_a_person_must_be_at_the_door(world, script):
    here = f.PersonFactory(door=world.doors[0])
    next_door = f.PersonFactory(door=world.doors[1])
    foreign = f.PersonFactory(door=world.other_door)
    response = push(
        world.canvasser,
        push_batch(
            push_item(world, person=here.pk), push_item(world, person=next_door.pk), push_item(world, person=foreign.pk)
        ),
    )
    assert [r["errors"] for r in response.json()["results"]] == [
        {},
        # One answer for "not here" and "not ours": no answer tells who lives where.
        {"person": ["No such person at this door."]},
        {"person": ["No such person at this door."]},
    ]


def test_unauthenticated_is_refused(world, script):
    response = client_for(None).post(PUSH, push_batch(push_item(world)), format="json")
    assert response.status_code in (401, 403)
    assert ContactAttempt.objects.count() == 0


def test_a_user_without_an_organization_is_refused(world, script):
    loner = f.UserFactory(username="lonely")
    assert push(loner, push_batch(push_item(world))).status_code == 403


def test_the_outsider_cannot_write_into_venice(world, script):
    response = push(world.outsider, push_batch(push_item(world)))
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "rejected"
    assert set(response.json()["results"][0]["errors"]) == {"door", "assignment"}
    assert ContactAttempt.objects.count() == 0


# --- cost -------------------------------------------------------------------------


def _insert_statements(model, rows: int) -> int:
    """INSERTs Django needs for `rows` rows: 1 on PostgreSQL; on SQLite, its
    999-parameter limit splits a bulk insert into chunks."""
    fields = [f for f in model._meta.concrete_fields]
    per_statement = connection.ops.bulk_batch_size(fields, [None] * rows)
    return math.ceil(rows / min(per_statement, 500))


def _change_insert_statements(rows: int) -> int:
    """The change log's plain INSERTs (fieldops/changelog.py): one per 1,000 rows,
    or per 99 under SQLite's 999 parameters (10 columns a row)."""
    from fieldops.changelog import _CHANGE_COLUMNS

    limit = connection.features.max_query_params
    return math.ceil(rows / (1000 if limit is None else limit // len(_CHANGE_COLUMNS)))


def test_a_500_item_batch_costs_a_constant_number_of_queries(world, script, django_assert_max_num_queries):
    person = f.PersonFactory(door=world.doors[0])
    start = timezone.now() - dt.timedelta(hours=5)
    items = [
        push_item(
            world,
            at=world.doors[i % 2],
            person=person.pk if i % 2 == 0 else None,
            when=start + dt.timedelta(seconds=30 * i),
            answers={str(script.question.pk): script.yes.pk},
            notes=f"knock {i}",
        )
        for i in range(500)
    ]
    # 9 statements whatever the size (membership; 4 look-ups: result codes, doors,
    # assignments and turf doors in one, people, options, the knocks before;
    # read-back; the counter; 2 savepoint statements), plus the bulk INSERTs;
    # 2 more for the organization's first push, which makes its counter row.
    inserts = _insert_statements(ContactAttempt, 500) + _change_insert_statements(500)
    with django_assert_max_num_queries(11 + inserts):
        response = push(world.canvasser, push_batch(*items))
    assert statuses(response) == ["accepted"] * 500
    with django_assert_max_num_queries(9 + _insert_statements(ContactAttempt, 500)):
        response = push(world.canvasser, push_batch(*items))
    assert statuses(response) == ["duplicate"] * 500
    assert ContactAttempt.objects.count() == 500
    if connection.vendor == "postgresql":
        assert inserts == 2


def test_the_response_body_is_json_with_a_cursor(world, script):
    response = push(world.canvasser, push_batch(push_item(world)))
    body = json.loads(response.content)
    assert set(body) == {"results", "cursor"}
    assert body["cursor"] == str(SyncChange.objects.get().seq)
    uuid.UUID(body["results"][0]["id"])


def test_every_problem_of_an_item_is_reported_at_once(world, script):
    """A bad result code is not hidden behind a missing time offset, nor a foreign door behind a bad level."""
    item = push_item(world, result="no_such_code", door=987654, support_level=9)
    item["recorded_at"] = "2026-11-27T18:05:00"  # no offset
    [receipt] = push(world.canvasser, push_batch(item)).json()["results"]
    assert receipt["status"] == "rejected"
    assert receipt["errors"] == {
        "recorded_at": ["Must carry a UTC offset (e.g. 2026-11-27T18:05:00Z)."],
        "support_level": ["Must be a whole number from 1 to 5, or null."],
        "result": ["Unknown result code 'no_such_code'."],
        "door": ["No such door."],
    }
    # Answers of another campaign reported beside a missing id.
    other = push_item(world, answers={str(script.other_question.pk): script.other_option.pk})
    del other["id"]
    [receipt] = push(world.canvasser, push_batch(other)).json()["results"]
    assert receipt["errors"] == {
        "id": ["This field is required."],
        "answers": {str(script.other_question.pk): ["Not an option of this campaign's questions."]},
    }


@pytest.mark.parametrize("missing", ["device_id", "sent_at", "attempts"])
def test_a_missing_envelope_field_says_required(world, script, missing):
    body = push_batch(push_item(world))
    del body[missing]
    response = push(world.canvasser, body)
    assert response.status_code == 400
    assert response.json()["errors"] == {missing: ["This field is required."]}
