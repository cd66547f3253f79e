"""Assignments through the API: organizers give turf to canvassers, end and reassign;
canvassers see their own current ones; the outsider sees nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canvass.field.selectors import assignments_current_for
from canvass.models import Assignment, AssignmentCanvasser
from fieldops.models import AuditLogEntry, Membership, Role
from tests import factories as f
from tests.factories import client_for

# --- the organizer's lookups: campaigns and members --------------------------------------


@pytest.mark.django_db
def test_campaigns_and_members_for_the_organizer(world):
    f.CampaignFactory(organization=world.other_org, name="Secret")
    organizer = client_for(world.organizer)
    campaigns = organizer.get("/api/v1/campaigns/").json()["results"]
    assert campaigns == [{"id": world.campaign.pk, "slug": "venice-canvass", "name": "Venice canvass"}]
    members = organizer.get("/api/v1/members/").json()["results"]
    assert [(m["username"], m["role"]) for m in members] == [("carlos", "canvasser"), ("olivia", "organizer")]
    assert members[0]["id"] == world.canvasser.pk
    assert set(members[0]) == {"id", "username", "full_name", "role"}


@pytest.mark.django_db
def test_campaigns_and_members_are_not_for_canvassers_and_scoped_for_the_outsider(world):
    for path in ("/api/v1/campaigns/", "/api/v1/members/"):
        assert client_for(world.canvasser).get(path).status_code == 403
        assert client_for(None).get(path).status_code == 401
    outsider = client_for(world.outsider)
    assert outsider.get("/api/v1/campaigns/").json()["results"] == []
    assert [m["username"] for m in outsider.get("/api/v1/members/").json()["results"]] == ["oscar"]


@pytest.mark.django_db
def test_members_leave_out_inactive_ones_and_query_count_is_pinned(world, django_assert_max_num_queries):
    gone = f.member(world, "gone")
    Membership.objects.filter(user=gone).update(is_active=False)
    client = client_for(world.organizer)
    for i in range(15):
        f.member(world, f"m{i:02d}")
    with django_assert_max_num_queries(3):
        body = client.get("/api/v1/members/").json()
    assert body["count"] == 17
    assert "gone" not in [m["username"] for m in body["results"]]


# --- creating ---------------------------------------------------------------------


@pytest.mark.django_db
def test_organizer_assigns_a_turf_to_canvassers_for_a_shift(world):
    shift = f.ShiftFactory(organization=world.org, campaign=world.campaign)
    dana = f.member(world, "dana")
    body = {"turf": world.turf.pk, "canvassers": [world.canvasser.pk, dana.pk, dana.pk], "shift": shift.pk}
    response = client_for(world.organizer).post("/api/v1/assignments/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assignment = Assignment.objects.get(pk=data["id"])
    assert assignment.starts_at == shift.starts_at and assignment.ends_at == shift.ends_at
    assert assignment.campaign == world.campaign and assignment.created_by == world.organizer
    assert sorted(c["username"] for c in data["canvassers"]) == ["carlos", "dana"]
    assert data["shift"]["id"] == shift.pk and data["turf"]["name"] == "Turf A"
    assert data["is_current"] is True
    entry = AuditLogEntry.objects.get(action="assignment.create")
    assert entry.object_id == str(assignment.pk) and entry.detail["canvassers"] == sorted([world.canvasser.pk, dana.pk])


@pytest.mark.django_db
def test_organizer_assigns_for_a_time_window_or_open_ended(world):
    client = client_for(world.organizer)
    window = client.post(
        "/api/v1/assignments/",
        {
            "turf": world.turf.pk,
            "canvassers": [world.canvasser.pk],
            "starts_at": "2030-01-05T10:00:00-08:00",
            "ends_at": "2030-01-05T14:00:00-08:00",
        },
        format="json",
    )
    assert window.status_code == 201
    assert window.json()["starts_at"] == "2030-01-05T10:00:00-08:00"
    open_ended = client.post(
        "/api/v1/assignments/", {"turf": world.turf.pk, "canvassers": [world.canvasser.pk]}, format="json"
    )
    assert open_ended.status_code == 201
    assert open_ended.json()["ends_at"] is None
    assert abs(dt.datetime.fromisoformat(open_ended.json()["starts_at"]) - timezone.now()) < dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_foreign_and_missing_ids_are_400_naming_the_field_alike(world):
    other_campaign = f.CampaignFactory(organization=world.other_org)
    other_turf = f.TurfFactory(campaign=other_campaign)
    other_shift = f.ShiftFactory(organization=world.other_org)
    client = client_for(world.organizer)
    base = {"turf": world.turf.pk, "canvassers": [world.canvasser.pk]}
    cases = {
        "turf": ({**base, "turf": other_turf.pk}, {**base, "turf": 10**9}),
        "shift": ({**base, "shift": other_shift.pk}, {**base, "shift": 10**9}),
        "canvassers": ({**base, "canvassers": [world.outsider.pk]}, {**base, "canvassers": [10**9]}),
    }
    for field, (foreign, missing) in cases.items():
        a = client.post("/api/v1/assignments/", foreign, format="json")
        b = client.post("/api/v1/assignments/", missing, format="json")
        assert a.status_code == b.status_code == 400, field
        assert list(a.json()["errors"]) == [field]
        # the same words for a foreign id as for a missing one, up to the number
        assert a.json()["errors"][field][0].split('"')[0] == b.json()["errors"][field][0].split('"')[0]
    assert Assignment.objects.count() == 1  # only the world's


@pytest.mark.django_db
def test_bad_assignment_bodies(world):
    client = client_for(world.organizer)
    archived = f.TurfFactory(campaign=world.campaign, name="Old", status="archived")
    inactive = f.member(world, "left")
    Membership.objects.filter(user=inactive).update(is_active=False)
    other_campaign_shift = f.ShiftFactory(
        organization=world.org, campaign=f.CampaignFactory(organization=world.org, slug="other")
    )
    base = {"turf": world.turf.pk, "canvassers": [world.canvasser.pk]}
    cases = [
        ({}, {"turf", "canvassers"}),
        ({**base, "canvassers": []}, {"canvassers"}),
        ({**base, "canvassers": "carlos"}, {"canvassers"}),
        ({**base, "turf": "A"}, {"turf"}),
        ({**base, "canvassers": [inactive.pk]}, {"canvassers"}),
        ({**base, "canvassers": list(range(1, 60))}, {"canvassers"}),
        ({**base, "shift": other_campaign_shift.pk}, {"shift"}),
        ({**base, "starts_at": "2030-01-05T10:00:00Z", "ends_at": "2030-01-05T09:00:00Z"}, {"ends_at"}),
        ({**base, "starts_at": "yesterday"}, {"starts_at"}),
    ]
    for body, fields in cases:
        response = client.post("/api/v1/assignments/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert set(response.json()["errors"]) == fields, body
    malformed = client.post("/api/v1/assignments/", "[", content_type="application/json")
    assert malformed.status_code == 400
    # An archived turf is the organization's, but its state refuses new work: 409, saying what would work.
    refused = client.post("/api/v1/assignments/", {**base, "turf": archived.pk}, format="json")
    assert refused.status_code == 409, refused.content
    assert refused.json() == {
        "detail": "This turf is archived; give an active turf.",
        "errors": {"turf": ["This turf is archived; give an active turf."]},
    }
    assert Assignment.objects.count() == 1


@pytest.mark.django_db
def test_only_organizers_create_end_and_reassign(world):
    lead = f.member(world, "tess", Role.TEAM_LEAD)
    body = {"turf": world.turf.pk, "canvassers": [world.canvasser.pk]}
    a = world.assignment.pk
    for user in (world.canvasser, lead, None):
        client = client_for(user)
        refused = 401 if user is None else 403  # not logged in: 401; logged in without the right: 403
        assert client.post("/api/v1/assignments/", body, format="json").status_code == refused
        assert client.post(f"/api/v1/assignments/{a}/end/").status_code == refused
        assert (
            client.post(f"/api/v1/assignments/{a}/reassign/", {"canvassers": [lead.pk]}, format="json").status_code
            == refused
        )
    # the outsider is an organizer, but of another chapter: venice's assignment does not exist for them
    outsider = client_for(world.outsider)
    assert outsider.post(f"/api/v1/assignments/{a}/end/").status_code == 404
    assert (
        outsider.post(
            f"/api/v1/assignments/{a}/reassign/", {"canvassers": [world.outsider.pk]}, format="json"
        ).status_code
        == 404
    )
    assert outsider.post("/api/v1/assignments/", body, format="json").status_code == 400
    world.assignment.refresh_from_db()
    assert world.assignment.ended_at is None


# --- listing and reading -----------------------------------------------------------


@pytest.mark.django_db
def test_canvasser_lists_only_their_own_current_assignments(world):
    dana = f.member(world, "dana")
    theirs = f.AssignmentFactory(turf=world.turf)
    f.AssignmentCanvasserFactory(assignment=theirs, user=dana)
    ended = f.AssignmentFactory(turf=world.turf, ended_at=timezone.now())
    f.AssignmentCanvasserFactory(assignment=ended, user=world.canvasser)
    expired = f.AssignmentFactory(
        turf=world.turf, starts_at=timezone.now() - dt.timedelta(days=2), ends_at=timezone.now() - dt.timedelta(days=1)
    )
    f.AssignmentCanvasserFactory(assignment=expired, user=world.canvasser)
    upcoming = f.AssignmentFactory(turf=world.turf, starts_at=timezone.now() + dt.timedelta(hours=5))
    f.AssignmentCanvasserFactory(assignment=upcoming, user=world.canvasser)

    listing = client_for(world.canvasser).get("/api/v1/assignments/").json()
    assert sorted(a["id"] for a in listing["results"]) == sorted([world.assignment.pk, upcoming.pk])
    client = client_for(world.canvasser)
    assert client.get(f"/api/v1/assignments/{world.assignment.pk}/").status_code == 200
    for other in (theirs, ended, expired):
        assert client.get(f"/api/v1/assignments/{other.pk}/").status_code == 404
    assert client.get("/api/v1/assignments/nope/").status_code == 404


@pytest.mark.django_db
def test_organizer_lists_the_organizations_current_assignments_or_their_own(world):
    other = f.AssignmentFactory(turf=f.TurfFactory(campaign=f.CampaignFactory(organization=world.other_org)))
    f.AssignmentCanvasserFactory(assignment=other, user=world.outsider)
    organizer = client_for(world.organizer)
    assert [a["id"] for a in organizer.get("/api/v1/assignments/").json()["results"]] == [world.assignment.pk]
    assert organizer.get("/api/v1/assignments/?mine=1").json()["results"] == []
    assert organizer.get(f"/api/v1/assignments/?turf={world.turf.pk}").json()["count"] == 1
    assert organizer.get("/api/v1/assignments/?turf=x").status_code == 400
    assert client_for(world.outsider).get("/api/v1/assignments/").json()["results"][0]["id"] == other.pk
    assert client_for(world.outsider).get(f"/api/v1/assignments/{world.assignment.pk}/").status_code == 404


@pytest.mark.django_db
def test_assignment_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    client = client_for(world.organizer)
    with django_assert_max_num_queries(4) as few:  # membership, count, page, canvassers
        client.get("/api/v1/assignments/")
    for i in range(15):
        a = f.AssignmentFactory(turf=world.turf, shift=f.ShiftFactory(organization=world.org))
        f.AssignmentCanvasserFactory(assignment=a, user=f.member(world, f"c{i}"))
        f.AssignmentCanvasserFactory(assignment=a, user=world.canvasser)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/assignments/").json()["count"] == 16


# --- ending and reassigning -----------------------------------------------------------


@pytest.mark.django_db
def test_ending_an_assignment_takes_it_from_the_canvasser_at_once_and_is_idempotent(world):
    organizer = client_for(world.organizer)
    a = world.assignment.pk
    first = organizer.post(f"/api/v1/assignments/{a}/end/")
    assert first.status_code == 200
    assert first.json()["ended_at"] is not None and first.json()["is_current"] is False
    second = organizer.post(f"/api/v1/assignments/{a}/end/")
    assert second.status_code == 200 and second.json()["ended_at"] == first.json()["ended_at"]
    assert AuditLogEntry.objects.filter(action="assignment.end").count() == 1
    canvasser = client_for(world.canvasser)
    assert canvasser.get("/api/v1/assignments/").json()["results"] == []
    assert canvasser.get(f"/api/v1/assignments/{a}/walk-list/").status_code == 404
    # the organizer still reads it
    assert organizer.get(f"/api/v1/assignments/{a}/").status_code == 200


@pytest.mark.django_db
def test_reassign_replaces_the_canvassers(world):
    dana = f.member(world, "dana")
    organizer = client_for(world.organizer)
    a = world.assignment.pk
    response = organizer.post(f"/api/v1/assignments/{a}/reassign/", {"canvassers": [dana.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert [c["username"] for c in response.json()["canvassers"]] == ["dana"]
    assert client_for(world.canvasser).get(f"/api/v1/assignments/{a}/walk-list/").status_code == 404
    assert client_for(dana).get(f"/api/v1/assignments/{a}/walk-list/").status_code == 200
    entry = AuditLogEntry.objects.get(action="assignment.reassign")
    assert entry.detail == {"added": [dana.pk], "removed": [world.canvasser.pk]}
    foreign = organizer.post(f"/api/v1/assignments/{a}/reassign/", {"canvassers": [world.outsider.pk]}, format="json")
    assert foreign.status_code == 400 and list(foreign.json()["errors"]) == ["canvassers"]
    empty = organizer.post(f"/api/v1/assignments/{a}/reassign/", {"canvassers": []}, format="json")
    assert empty.status_code == 400
    organizer.post(f"/api/v1/assignments/{a}/end/")
    ended = organizer.post(f"/api/v1/assignments/{a}/reassign/", {"canvassers": [world.canvasser.pk]}, format="json")
    assert ended.status_code == 409
    assert ended.json()["errors"] == {"non_field_errors": ["This assignment has ended; create a new one."]}
    assert list(AssignmentCanvasser.objects.filter(assignment_id=a).values_list("user_id", flat=True)) == [dana.pk]


# --- the one definition of "current" ----------------------------------------------------


@pytest.mark.django_db
def test_current_assignment_definition(world):
    now = timezone.now()
    assert list(assignments_current_for(world.canvasser)) == [world.assignment]
    # ends in the future: current; ended or run out: not
    Assignment.objects.filter(pk=world.assignment.pk).update(ends_at=now + dt.timedelta(minutes=1))
    assert assignments_current_for(world.canvasser).count() == 1
    assert assignments_current_for(world.canvasser, now=now + dt.timedelta(minutes=2)).count() == 0
    Assignment.objects.filter(pk=world.assignment.pk).update(ends_at=None, ended_at=now)
    assert assignments_current_for(world.canvasser).count() == 0
    Assignment.objects.filter(pk=world.assignment.pk).update(ended_at=None)
    # an inactive member has none; other people have none of carlos's
    Membership.objects.filter(user=world.canvasser).update(is_active=False)
    world.canvasser.__dict__.pop("_fieldops_membership", None)
    assert assignments_current_for(world.canvasser).count() == 0
    assert assignments_current_for(world.organizer).count() == 0
    assert assignments_current_for(world.outsider).count() == 0
