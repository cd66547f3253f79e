"""Assignments in the admin: created, reassigned and ended by the organizer, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canvass.models import Assignment
from fieldops.models import AuditLogEntry, Role
from tests import factories as f
from tests.factories import admin_client


def inline(prefix: str, users: list, initial: int = 0, existing: list | None = None) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(users)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, user in enumerate(users):
        data[f"{prefix}-{i}-user"] = str(user.pk)
        if existing and i < len(existing):
            data[f"{prefix}-{i}-id"] = str(existing[i])
    return data


@pytest.mark.django_db
def test_organizer_creates_an_assignment_in_the_admin_and_it_is_audited(world):
    now = timezone.localtime(timezone.now(), world.org.tzinfo)
    data = {
        "campaign": world.campaign.pk,
        "turf": world.turf.pk,
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": now.strftime("%H:%M:%S"),
        **inline("members", [world.canvasser]),
    }
    response = admin_client(world.organizer).post("/admin/canvass/assignment/add/", data)
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    assignment = Assignment.objects.exclude(pk=world.assignment.pk).get()
    assert list(assignment.canvassers.all()) == [world.canvasser]
    entry = AuditLogEntry.objects.get(action="assignment.create")
    assert entry.object_id == str(assignment.pk) and entry.detail["canvassers"] == [world.canvasser.pk]


@pytest.mark.django_db
def test_the_admin_action_ends_assignments_once_and_only_the_organizations(world):
    other = f.AssignmentFactory(turf=f.TurfFactory(campaign=f.CampaignFactory(organization=world.other_org)))
    client = admin_client(world.organizer)
    for _ in range(2):
        response = client.post(
            "/admin/canvass/assignment/",
            {"action": "end_now", "_selected_action": [world.assignment.pk, other.pk]},
        )
        assert response.status_code == 302
    world.assignment.refresh_from_db()
    other.refresh_from_db()
    assert world.assignment.ended_at is not None
    assert other.ended_at is None
    assert AuditLogEntry.objects.filter(action="assignment.end").count() == 1


@pytest.mark.django_db
def test_a_team_lead_cannot_end_assignments_in_the_admin(world):
    lead = f.UserFactory(username="tess", is_staff=True)
    f.MembershipFactory(user=lead, organization=world.org, role=Role.TEAM_LEAD)
    admin_client(lead).post(
        "/admin/canvass/assignment/", {"action": "end_now", "_selected_action": [world.assignment.pk]}
    )
    world.assignment.refresh_from_db()
    assert world.assignment.ended_at is None


@pytest.mark.django_db
def test_the_assignment_admin_does_not_undo_an_end_made_meanwhile(world):
    from canvass.field.services import assignment_end

    change_url = f"/admin/canvass/assignment/{world.assignment.pk}/change/"
    starts = timezone.localtime(world.assignment.starts_at, world.org.tzinfo)
    ends = starts + dt.timedelta(hours=5)
    assignment_end(assignment=world.assignment, actor=world.organizer)  # the API ends it while the form is open
    ended_at = Assignment.objects.get(pk=world.assignment.pk).ended_at
    data = {
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
        **inline(
            "members",
            [world.canvasser],
            initial=1,
            existing=list(world.assignment.members.values_list("pk", flat=True)),
        ),
    }
    response = admin_client(world.organizer).post(change_url, data)
    assert response.status_code == 200  # the form again, with the service's refusal
    assert "This assignment has ended" in response.content.decode()
    world.assignment.refresh_from_db()
    assert world.assignment.ended_at == ended_at and world.assignment.ends_at is None
