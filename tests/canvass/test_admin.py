"""Field-work screens of the admin: campaigns, turfs, assignments, knocks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canvass.models import Assignment, Campaign, ContactAttempt
from tests import factories as f
from tests.fieldops.test_admin import admin_client, populate


def campaign_form(**overrides) -> dict:
    data = {
        "name": "Spring push",
        "slug": "spring-push",
        "description": "",
        "starts_on": "",
        "ends_on": "",
        "goal_doors": "500",
        "is_active": "on",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_new_campaign_gets_the_organizers_organization(world):
    objects = populate(world)
    client = admin_client(world.organizer)
    page = client.get("/admin/canvass/campaign/add/")
    form = page.context["adminform"].form
    assert "organization" not in form.fields
    choices = set(form.fields["target_districts"].queryset)
    assert objects["district"] in choices
    assert objects["other_district"] not in choices

    response = client.post("/admin/canvass/campaign/add/", campaign_form(target_districts=[objects["district"].pk]))
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="spring-push")
    assert campaign.organization == world.org
    assert list(campaign.target_districts.all()) == [objects["district"]]


@pytest.mark.django_db
def test_campaign_cannot_target_another_organizations_district(world):
    objects = populate(world)
    response = admin_client(world.organizer).post(
        "/admin/canvass/campaign/add/", campaign_form(target_districts=[objects["other_district"].pk])
    )
    assert response.status_code == 200
    assert "target_districts" in response.context["adminform"].form.errors
    assert not Campaign.objects.filter(slug="spring-push").exists()


@pytest.mark.django_db
def test_duplicate_campaign_slug_is_a_form_error_not_a_crash(world):
    response = admin_client(world.organizer).post(
        "/admin/canvass/campaign/add/", campaign_form(slug=world.campaign.slug)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    # The other organization may use the same slug.
    other = admin_client(world.outsider).post("/admin/canvass/campaign/add/", campaign_form(slug=world.campaign.slug))
    assert other.status_code == 302
    assert Campaign.objects.get(organization=world.other_org, slug=world.campaign.slug)


@pytest.mark.django_db
def test_campaign_list_counts_turfs_and_universe(world):
    populate(world)
    listing = admin_client(world.organizer).get("/admin/canvass/campaign/")
    (campaign,) = listing.context["cl"].result_list
    assert (campaign._turf_count, campaign._universe) == (1, 2)


@pytest.mark.django_db
def test_turf_campaign_filter_offers_only_own_campaigns(world):
    populate(world)
    html = admin_client(world.organizer).get("/admin/canvass/turf/").content.decode()
    assert "Venice canvass" in html
    assert "Secret elsewhere campaign" not in html


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
def test_contact_attempts_are_read_only(world):
    objects = populate(world)
    attempt = objects["attempt"]
    client = admin_client(world.organizer)
    listing = client.get("/admin/canvass/contactattempt/?off_list__exact=1")
    assert list(listing.context["cl"].result_list) == [attempt]
    assert "action_checkbox" not in listing.context["cl"].list_display  # no delete action

    assert client.get("/admin/canvass/contactattempt/add/").status_code == 403
    page = client.get(f"/admin/canvass/contactattempt/{attempt.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert b'name="notes"' not in page.content
    assert client.post(f"/admin/canvass/contactattempt/{attempt.pk}/change/", {"notes": "x"}).status_code == 403
    assert client.post(f"/admin/canvass/contactattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ContactAttempt.objects.filter(pk=attempt.pk).exists()


@pytest.mark.django_db
def test_outsider_cannot_see_venice_knocks(world):
    objects = populate(world)
    client = admin_client(world.outsider)
    listing = client.get("/admin/canvass/contactattempt/")
    assert list(listing.context["cl"].result_list) == []
    response = client.get(f"/admin/canvass/contactattempt/{objects['attempt'].pk}/change/")
    assert response.status_code in (302, 403, 404)


@pytest.mark.django_db
def test_contact_attempt_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    objects = populate(world)
    client = admin_client(world.organizer)

    def knock(n: int) -> None:
        now = timezone.now()
        for _ in range(n):
            ContactAttempt.objects.create(
                organization=world.org,
                campaign=world.campaign,
                door=f.DoorFactory(organization=world.org),
                canvasser=f.UserFactory(),
                result_code=objects["code"],
                recorded_at=now,
                received_at=now,
                corrected_at=now,
            )

    knock(4)
    with django_assert_max_num_queries(30) as few:
        assert client.get("/admin/canvass/contactattempt/").status_code == 200
    knock(45)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/admin/canvass/contactattempt/")
    assert len(response.context["cl"].result_list) == 50


@pytest.mark.django_db
def test_result_code_van_ids_are_edited_in_the_list(world):
    objects = populate(world)
    code = objects["code"]
    client = admin_client(world.organizer)
    response = client.post(
        "/admin/canvass/resultcode/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": code.pk,
            "form-0-van_result_code_id": "17",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.van_result_code_id == 17


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
