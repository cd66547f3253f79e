"""Field-work screens of the admin: assignments and shifts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canvass.models import Assignment
from tests import factories as f
from tests.factories import admin_client, populate


@pytest.mark.django_db
def test_assignment_choices_come_from_the_organization(world):
    populate(world)
    other_turf = f.TurfFactory(campaign=f.CampaignFactory(organization=world.other_org))
    page = admin_client(world.organizer).get("/admin/canvass/assignment/add/")
    form = page.context["adminform"].form
    assert set(form.fields["turf"].queryset) == {world.turf}
    assert other_turf not in form.fields["campaign"].queryset
    inline_form = page.context["inline_admin_formsets"][0].formset.empty_form
    users = {u.username for u in inline_form.fields["user"].queryset}
    assert users == {"olivia", "carlos"}


@pytest.mark.django_db
def test_organizer_creates_an_assignment_with_canvassers(world):
    client = admin_client(world.organizer)
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=1), world.org.tzinfo)
    response = client.post(
        "/admin/canvass/assignment/add/",
        {
            "campaign": world.campaign.pk,
            "turf": world.turf.pk,
            "shift": "",
            "starts_at_0": starts.strftime("%Y-%m-%d"),
            "starts_at_1": starts.strftime("%H:%M:%S"),
            "ends_at_0": "",
            "ends_at_1": "",
            "ended_at_0": "",
            "ended_at_1": "",
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-user": world.canvasser.pk,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assignment = Assignment.objects.exclude(pk=world.assignment.pk).get()
    assert assignment.organization == world.org
    assert assignment.created_by == world.organizer
    assert list(assignment.canvassers.all()) == [world.canvasser]
    # Typed in the chapter's zone, stored as the same instant.
    assert abs((assignment.starts_at - starts).total_seconds()) < 1


@pytest.mark.django_db
def test_shift_times_are_shown_in_the_organizations_zone(world):
    world.org.timezone = "Asia/Tokyo"
    world.org.save()
    starts = dt.datetime(2030, 1, 1, 0, 0, tzinfo=dt.UTC)
    f.ShiftFactory(organization=world.org, name="New year", starts_at=starts, ends_at=starts + dt.timedelta(hours=2))
    html = admin_client(world.organizer).get("/admin/canvass/shift/").content.decode()
    assert "Jan. 1, 2030, 9 a.m." in html  # midnight UTC is 9 in the morning in Tokyo


@pytest.mark.django_db
def test_assignment_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    client = admin_client(world.organizer)

    def assign(n: int) -> None:
        for _ in range(n):
            assignment = f.AssignmentFactory(turf=f.TurfFactory(campaign=world.campaign))
            f.AssignmentCanvasserFactory(assignment=assignment, user=world.canvasser)
            f.AssignmentCanvasserFactory(assignment=assignment)

    assign(2)
    with django_assert_max_num_queries(30) as few:
        assert client.get("/admin/canvass/assignment/").status_code == 200
    assign(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/admin/canvass/assignment/")
    assert len(response.context["cl"].result_list) == 23
    assert "carlos" in response.content.decode()
