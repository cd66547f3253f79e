"""Campaign screens of the admin: campaigns and result codes."""

from __future__ import annotations

import pytest

from canvass.models import Campaign
from tests.factories import admin_client, populate


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
