"""The knocks' screen of the admin."""

from __future__ import annotations

import factory
import pytest

from canvass.models import ContactAttempt
from tests import factories as f
from tests.factories import admin_client, populate


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
        f.ContactAttemptFactory.create_batch(
            n,
            campaign=world.campaign,
            door=factory.SubFactory(f.DoorFactory, organization=world.org),
            result_code=objects["code"],
        )

    knock(4)
    with django_assert_max_num_queries(30) as few:
        assert client.get("/admin/canvass/contactattempt/").status_code == 200
    knock(45)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/admin/canvass/contactattempt/")
    assert len(response.context["cl"].result_list) == 50
