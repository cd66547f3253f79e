"""Knocks at a door merged into another (an alias door folded by a re-import) while the phone was offline."""

from __future__ import annotations

from canvass.models import ContactAttempt
from tests.factories import PUSH, client_for, push_batch, push_item
from turf.models import Door, DoorAlias
from turf.services import doors_merge


def push(user, *items):
    response = client_for(user).post(PUSH, push_batch(*items), format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_knock_at_a_merged_door_lands_on_the_survivor(world, script):
    survivor, merged = world.doors
    doors_merge(organization=world.org, merges={survivor.pk: [merged.pk]}, actor=world.organizer)
    assert not Door.objects.filter(pk=merged.pk).exists()
    assert DoorAlias.objects.get(merged_door_id=merged.pk).door_id == survivor.pk

    item = push_item(world, at=merged)  # the phone still names the door it downloaded
    [receipt] = push(world.canvasser, item)

    assert receipt["status"] == "accepted", receipt
    assert receipt["review"] == "trusted"  # the survivor took the merged door's place in the turf
    knock = ContactAttempt.objects.get(pk=item["id"])
    assert knock.door_id == survivor.pk
    # A retry of the same knock (its answer lost) is a duplicate, not a conflict.
    [again] = push(world.canvasser, item)
    assert again["status"] == "duplicate", again
    assert ContactAttempt.objects.filter(pk=item["id"]).count() == 1


def test_a_knock_stored_before_the_merge_and_retried_after_it_is_a_duplicate(world, script):
    survivor, merged = world.doors
    item = push_item(world, at=merged)
    [first] = push(world.canvasser, item)
    assert first["status"] == "accepted"
    doors_merge(organization=world.org, merges={survivor.pk: [merged.pk]})
    assert ContactAttempt.objects.get(pk=item["id"]).door_id == survivor.pk  # moved by the merge

    [again] = push(world.canvasser, item)
    assert again["status"] == "duplicate", again


def test_a_merged_door_of_another_organization_is_no_door(world, script):
    # Another chapter merges its door: its old id means nothing here.
    from tests import factories as f

    elsewhere = f.DoorFactory(organization=world.other_org)
    doors_merge(organization=world.other_org, merges={elsewhere.pk: [world.other_door.pk]})
    [receipt] = push(world.canvasser, push_item(world, at=world.other_door))
    assert receipt["status"] == "rejected"
    assert "door" in receipt["errors"]
