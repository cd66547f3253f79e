"""One write path per action: the admin and the API call the same services, so
they refuse the same bad input and write the same audit and change-log entries.

The three standard users (tests/conftest.py `world`): the organizer writes, the
canvasser holds the current assignment, the outsider belongs to another chapter.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from canvass.field.models import Assignment, Shift
from canvass.field.services import MAX_CANVASSERS_PER_ASSIGNMENT, shift_signup
from canvass.turfs.models import Turf
from fieldops.models import AuditLogEntry, Membership, Role, SyncChange
from tests import factories as f
from turf.models import Door, GeocodeQuality, Person

pytestmark = pytest.mark.django_db

ADD = "/admin/canvass/assignment/add/"


def admin_client(user) -> Client:
    client = Client()
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def members_inline(users: list, existing: list[int] | None = None) -> dict:
    existing = existing or []
    data = {
        "members-TOTAL_FORMS": str(len(users)),
        "members-INITIAL_FORMS": str(len(existing)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, user in enumerate(users):
        data[f"members-{i}-user"] = str(user.pk)
        if i < len(existing):
            data[f"members-{i}-id"] = str(existing[i])
    return data


def admin_assignment_form(world, turf: Turf, users: list) -> dict:
    now = timezone.localtime(timezone.now(), world.org.tzinfo)
    return {
        "campaign": turf.campaign_id,
        "turf": turf.pk,
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": now.strftime("%H:%M:%S"),
        **members_inline(users),
    }


def new_canvasser(world, username: str, **membership):
    user = f.UserFactory(username=username)
    f.MembershipFactory(user=user, organization=world.org, role=Role.CANVASSER, **membership)
    return user


def assignment_entries() -> list[tuple]:
    return sorted(SyncChange.objects.filter(kind="assignment").values_list("kind", "turf_id", "user_id"), key=repr)


# --- the same refusals ------------------------------------------------------------------


def refused_both_ways(world, turf: Turf, users: list, message: str, status: int = 400) -> None:
    before = Assignment.objects.count()
    api = api_client(world.organizer).post(
        "/api/v1/assignments/", {"turf": turf.pk, "canvassers": [u.pk for u in users]}, format="json"
    )
    assert api.status_code == status, api.content
    assert message in api.json()["detail"] + str(api.json()["errors"])
    response = admin_client(world.organizer).post(ADD, admin_assignment_form(world, turf, users))
    assert response.status_code == 200, "the admin shows the form again"
    assert message in response.content.decode()
    assert Assignment.objects.count() == before
    assert not AuditLogEntry.objects.filter(action="assignment.create").exists()
    assert not SyncChange.objects.exists()


def test_an_inactive_login_is_refused_by_the_admin_as_by_the_api(world):
    gone = new_canvasser(world, "gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    refused_both_ways(world, world.turf, [gone], "Every canvasser must be an active member")


def test_more_than_the_maximum_canvassers_is_refused_by_the_admin_as_by_the_api(world):
    crowd = [new_canvasser(world, f"c{i}") for i in range(MAX_CANVASSERS_PER_ASSIGNMENT + 1)]
    refused_both_ways(world, world.turf, crowd, f"At most {MAX_CANVASSERS_PER_ASSIGNMENT} canvassers")


def test_an_archived_turf_is_refused_by_the_admin_as_by_the_api(world):
    Turf.objects.filter(pk=world.turf.pk).update(status=Turf.Status.ARCHIVED)
    world.turf.refresh_from_db()
    # The turf's state refuses it: 409 from the API (fieldops.exceptions.StateConflict), the form's error in the admin.
    refused_both_ways(world, world.turf, [world.canvasser], "This turf is archived", status=409)


def test_the_outsider_cannot_assign_venice_turf_in_either(world):
    api = api_client(world.outsider).post(
        "/api/v1/assignments/", {"turf": world.turf.pk, "canvassers": [world.canvasser.pk]}, format="json"
    )
    assert api.status_code in (400, 403, 404)
    response = admin_client(world.outsider).post(ADD, admin_assignment_form(world, world.turf, [world.canvasser]))
    assert response.status_code == 200  # the turf is not among the outsider's choices
    assert Assignment.objects.count() == 1


# --- the same entries ---------------------------------------------------------------------


def test_creating_in_the_admin_and_through_the_api_writes_the_same_entries(world):
    turf_b = f.TurfFactory(campaign=world.campaign, name="Turf B")
    api = api_client(world.organizer).post(
        "/api/v1/assignments/", {"turf": turf_b.pk, "canvassers": [world.canvasser.pk]}, format="json"
    )
    assert api.status_code == 201, api.content
    through_api = assignment_entries()
    api_audit = AuditLogEntry.objects.get(action="assignment.create")
    SyncChange.objects.all().delete()
    AuditLogEntry.objects.all().delete()

    response = admin_client(world.organizer).post(ADD, admin_assignment_form(world, turf_b, [world.canvasser]))
    assert response.status_code == 302
    assert assignment_entries() == through_api
    admin_audit = AuditLogEntry.objects.get(action="assignment.create")
    assert (admin_audit.actor_id, admin_audit.detail) == (api_audit.actor_id, api_audit.detail)
    created = Assignment.objects.get(pk=admin_audit.object_id)
    assert created.created_by_id == world.organizer.pk
    assert list(created.canvassers.all()) == [world.canvasser]


def test_reassigning_in_the_admin_writes_what_the_api_writes(world):
    bea = new_canvasser(world, "bea")
    api = api_client(world.organizer).post(
        f"/api/v1/assignments/{world.assignment.pk}/reassign/", {"canvassers": [bea.pk]}, format="json"
    )
    assert api.status_code == 200, api.content
    through_api = assignment_entries()
    api_audit = AuditLogEntry.objects.get(action="assignment.reassign")
    # And back, through the admin, to compare: from bea to carlos is the mirror image.
    SyncChange.objects.all().delete()
    members = list(world.assignment.members.values_list("pk", flat=True))
    start = timezone.localtime(world.assignment.starts_at, world.org.tzinfo)
    data = {
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S.%f"),
        **members_inline([world.canvasser], existing=members),
    }
    response = admin_client(world.organizer).post(f"/admin/canvass/assignment/{world.assignment.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert assignment_entries() == through_api  # the same users touched: bea and carlos
    admin_audit = AuditLogEntry.objects.filter(action="assignment.reassign").exclude(pk=api_audit.pk).get()
    assert admin_audit.detail == {"added": api_audit.detail["removed"], "removed": api_audit.detail["added"]}
    assert not AuditLogEntry.objects.filter(action="assignment.update").exists()  # the times did not change


def test_an_inactive_member_is_refused_on_reassign_in_the_admin(world):
    gone = new_canvasser(world, "gone", is_active=False)
    gone_user = type(world.canvasser).objects.get(pk=gone.pk)
    Membership.objects.filter(user=gone_user).update(is_active=True)
    gone_user.is_active = False
    gone_user.save(update_fields=["is_active"])
    members = list(world.assignment.members.values_list("pk", flat=True))
    start = timezone.localtime(world.assignment.starts_at, world.org.tzinfo)
    data = {
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S.%f"),
        **members_inline([world.canvasser, gone_user], existing=members),
    }
    response = admin_client(world.organizer).post(f"/admin/canvass/assignment/{world.assignment.pk}/change/", data)
    assert response.status_code == 200
    assert "Every canvasser must be an active member" in response.content.decode()
    assert list(world.assignment.members.values_list("user_id", flat=True)) == [world.canvasser.pk]
    assert not SyncChange.objects.exists()


def test_ending_in_the_admin_and_through_the_api_writes_the_same_entries(world):
    turf_b = f.TurfFactory(campaign=world.campaign, name="Turf B")
    other = f.AssignmentFactory(turf=turf_b, created_by=world.organizer)
    f.AssignmentCanvasserFactory(assignment=other, user=world.canvasser)
    assert api_client(world.organizer).post(f"/api/v1/assignments/{other.pk}/end/").status_code == 200
    through_api = [(k, u) for k, _, u in assignment_entries()]
    SyncChange.objects.all().delete()
    admin_client(world.organizer).post(
        "/admin/canvass/assignment/", {"action": "end_now", "_selected_action": [world.assignment.pk]}
    )
    assert [(k, u) for k, _, u in assignment_entries()] == through_api
    assert AuditLogEntry.objects.filter(action="assignment.end").count() == 2


def test_deleting_an_assignment_in_the_admin_tells_its_canvassers_phones(world):
    url = f"/admin/canvass/assignment/{world.assignment.pk}/delete/"
    assert admin_client(world.organizer).post(url, {"post": "yes"}).status_code == 302
    assert not Assignment.objects.filter(pk=world.assignment.pk).exists()
    assert (("assignment", world.turf.pk, world.canvasser.pk)) in assignment_entries()
    entry = AuditLogEntry.objects.get(action="assignment.delete")
    assert entry.detail["canvassers"] == [world.canvasser.pk]


# --- shifts -----------------------------------------------------------------------------------


def shift_form(world, shift: Shift, **overrides) -> dict:
    zone = world.org.tzinfo
    starts, ends = timezone.localtime(shift.starts_at, zone), timezone.localtime(shift.ends_at, zone)
    data = {
        "name": shift.name,
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
        "location_name": shift.location_name,
        "capacity": str(shift.capacity),
        "signups-TOTAL_FORMS": "0",
        "signups-INITIAL_FORMS": "0",
        "signups-MIN_NUM_FORMS": "0",
        "signups-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def make_shift(world, capacity: int = 3) -> Shift:
    starts = timezone.now() + dt.timedelta(days=1)
    return Shift.objects.create(
        organization=world.org,
        name="Saturday",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
        capacity=capacity,
    )


def test_the_admin_refuses_a_capacity_below_the_signups_and_the_apis_bounds(world):
    shift = make_shift(world, capacity=3)
    shift_signup(shift=shift, user=world.canvasser)
    bea = new_canvasser(world, "bea")
    shift_signup(shift=shift, user=bea)
    client = admin_client(world.organizer)
    url = f"/admin/canvass/shift/{shift.pk}/change/"
    response = client.post(url, shift_form(world, shift, capacity="1"))
    assert response.status_code == 200
    assert "2 people are signed up" in response.content.decode()
    response = client.post(url, shift_form(world, shift, capacity="5000"))
    assert response.status_code == 200
    assert "Capacity must be between 1 and" in response.content.decode()
    shift.refresh_from_db()
    assert (shift.capacity, shift.signup_count) == (3, 2)
    assert client.post(url, shift_form(world, shift, name="Sunday")).status_code == 302
    assert AuditLogEntry.objects.get(action="shift.update").detail == {"fields": ["name"]}


def test_a_shift_added_in_the_admin_is_audited_like_one_from_the_api(world):
    shift = Shift(name="Sunday", starts_at=timezone.now() + dt.timedelta(days=2), capacity=4)
    shift.ends_at = shift.starts_at + dt.timedelta(hours=2)
    response = admin_client(world.organizer).post("/admin/canvass/shift/add/", shift_form(world, shift))
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Shift.objects.get(name="Sunday")
    entry = AuditLogEntry.objects.get(action="shift.create")
    assert entry.object_id == str(created.pk) and created.organization_id == world.org.pk


# --- doors and people ---------------------------------------------------------------------


def door_form(door: Door, **overrides) -> dict:
    data = {
        name: ("" if getattr(door, name) is None else str(getattr(door, name)))
        for name in (
            "building_key",
            "number",
            "number_suffix",
            "pre_dir",
            "street_name",
            "street_type",
            "post_dir",
            "unit_type",
            "unit",
            "city",
            "state",
            "zip",
            "lat",
            "lng",
            "geocode_quality",
        )
    }
    data.update({"people-TOTAL_FORMS": "0", "people-INITIAL_FORMS": "0", "people-MIN_NUM_FORMS": "0"})
    data["people-MAX_NUM_FORMS"] = "1000"
    data.update(overrides)
    return data


def test_a_door_edited_in_the_admin_is_logged_for_the_phones_and_audited(world):
    door = world.doors[0]
    response = admin_client(world.organizer).post(
        f"/admin/turf/door/{door.pk}/change/", door_form(door, lat="33.995", lng="-118.465")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    door.refresh_from_db()
    assert (door.lat, door.geocode_quality) == (33.995, GeocodeQuality.MANUAL)
    assert list(SyncChange.objects.values_list("kind", "door_id")) == [("door", door.pk)]
    assert AuditLogEntry.objects.get(action="door.update").detail == {"fields": ["lat", "lng"]}


def test_a_door_with_half_a_location_is_refused_on_the_form(world):
    door = world.doors[0]
    response = admin_client(world.organizer).post(f"/admin/turf/door/{door.pk}/change/", door_form(door, lng=""))
    assert response.status_code == 200
    door.refresh_from_db()
    assert door.lng is not None and not SyncChange.objects.exists()


def test_people_edited_at_a_door_or_on_their_own_page_are_logged_for_the_phones(world):
    door = world.doors[0]
    pat = f.PersonFactory(door=door, first_name="Pat")
    client = admin_client(world.organizer)
    data = door_form(door)
    data.update(
        {
            "people-TOTAL_FORMS": "2",
            "people-INITIAL_FORMS": "1",
            "people-0-id": str(pat.pk),
            "people-0-door": str(door.pk),
            "people-0-first_name": "Patricia",
            "people-0-last_name": pat.last_name,
            "people-0-external_voter_id": pat.external_voter_id,
            "people-1-door": str(door.pk),
            "people-1-first_name": "Sam",
            "people-1-last_name": "Newcomer",
        }
    )
    response = client.post(f"/admin/turf/door/{door.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    sam = Person.objects.get(first_name="Sam")
    assert sam.organization_id == world.org.pk
    logged = set(SyncChange.objects.values_list("kind", "object_id", "door_id"))
    assert logged == {("person", str(pat.pk), door.pk), ("person", str(sam.pk), door.pk)}
    assert {e.action for e in AuditLogEntry.objects.all()} == {"person.update", "person.create"}

    SyncChange.objects.all().delete()
    assert client.post(f"/admin/turf/person/{sam.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(SyncChange.objects.values_list("kind", "object_id", "door_id")) == [("person", str(sam.pk), door.pk)]


def test_a_knocked_door_cannot_be_deleted_and_the_admin_says_why(world):
    door = world.doors[0]
    from tests.canvass.test_stats_invalidation import knock

    knock(world, door, timezone.now())
    response = admin_client(world.organizer).post(f"/admin/turf/door/{door.pk}/delete/", {"post": "yes"})
    assert response.status_code in (200, 302)
    assert Door.objects.filter(pk=door.pk).exists()
