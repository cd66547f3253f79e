"""A phone's whole day through the real API, with a real device token:
log in, find the assignment, download the walk list, pull, knock offline and
push (twice: the retry is harmless), then lose the assignment when the
organizer ends it or hands it to somebody else, and lose the token when it is
revoked. The pieces are tested in depth elsewhere; this checks they fit."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from canvass.models import ContactAttempt
from tests import factories as f
from tests.factories import PULL, PUSH, client_for, pull_pages, push_batch, push_item


def _login(user, device: str) -> APIClient:
    user.set_password("correct horse battery")
    user.save(update_fields=["password"])
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": "correct horse battery", "device_id": device},
        format="json",
    )
    assert response.status_code == 201, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def _pull_all(phone: APIClient, cursor: str = "") -> tuple[str, list[dict]]:
    pages, cursor = pull_pages(phone, cursor or None)
    return cursor, pages


@pytest.mark.django_db
def test_a_phone_day_from_login_to_losing_the_assignment(world, script):
    phone = _login(world.canvasser, "carlos-pixel")
    assignments = phone.get("/api/v1/assignments/").json()["results"]
    assert [a["id"] for a in assignments] == [world.assignment.pk]
    walk = phone.get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/").json()
    assert [d["id"] for d in walk["doors"]] == [d.pk for d in world.doors]

    cursor, pages = _pull_all(phone)
    assert {d["id"] for page in pages for d in page["doors"]} == {d.pk for d in world.doors}

    items = [push_item(world), push_item(world, at=world.doors[1])]
    first = phone.post(PUSH, push_batch(*items), format="json")
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "accepted"]
    again = phone.post(PUSH, push_batch(*items), format="json")  # the response was lost; the app retries
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert ContactAttempt.objects.filter(assignment=world.assignment).count() == 2

    # The organizer ends the assignment: the next pull takes its doors off the phone.
    organizer = client_for(world.organizer)
    assert organizer.post(f"/api/v1/assignments/{world.assignment.pk}/end/").status_code == 200
    cursor, pages = _pull_all(phone, cursor)
    tombstones: dict[str, set[int]] = {key: set() for key in ("assignments", "doors", "people")}
    for page in pages:
        for key in tombstones:
            tombstones[key] |= set(page["tombstones"][key])
    assert world.assignment.pk in tombstones["assignments"]
    assert {d.pk for d in world.doors} <= tombstones["doors"]
    assert phone.get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/").status_code == 404


@pytest.mark.django_db
def test_a_canvasser_moved_off_an_assignment_hears_of_it_and_a_revoked_token_stops_at_once(world, script):
    partner = f.UserFactory(username="paula")
    f.MembershipFactory(user=partner, organization=world.org, role="canvasser")
    phone = _login(world.canvasser, "carlos-pixel")
    cursor, _ = _pull_all(phone)
    organizer = client_for(world.organizer)
    response = organizer.post(
        f"/api/v1/assignments/{world.assignment.pk}/reassign/", {"canvassers": [partner.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    cursor, pages = _pull_all(phone, cursor)
    assert world.assignment.pk in {a for page in pages for a in page["tombstones"]["assignments"]}
    partner_phone = _login(partner, "paula-phone")
    _, partner_pages = _pull_all(partner_phone)
    assert {d["id"] for page in partner_pages for d in page["doors"]} == {d.pk for d in world.doors}

    devices = organizer.get("/api/v1/auth/devices/").json()["results"]
    paula = next(d for d in devices if d["device_id"] == "paula-phone")
    assert organizer.delete(f"/api/v1/auth/devices/{paula['id']}/").status_code == 204
    assert partner_phone.get(PULL).status_code in (401, 403)
    assert partner_phone.post(PUSH, push_batch(push_item(world)), format="json").status_code in (401, 403)
