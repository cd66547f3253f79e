"""A canvasser with two phones: the knocks made on one reach the other by incremental pull."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from fieldops.services import device_token_create
from tests.factories import PUSH, client_for, pull_pages, push_batch, push_item

pytestmark = pytest.mark.django_db


def phone(user, device_id: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {device_token_create(user=user, device_id=device_id).key}")
    return client


def pull_all(client, cursor=None):
    """The knocks of every page, and the last cursor."""
    pages, cursor = pull_pages(client, cursor)
    return [attempt for page in pages for attempt in page["attempts"]], cursor


def test_a_knock_on_phone_a_reaches_phone_b_and_is_not_echoed_to_phone_a(world, script):
    a, b = phone(world.canvasser, "phone-a"), phone(world.canvasser, "phone-b")
    _, cursor_a = pull_all(a)
    _, cursor_b = pull_all(b)
    item = push_item(world, at=world.doors[1])
    response = a.post(PUSH, push_batch(item, device_id="phone-a"), format="json")
    assert response.json()["results"][0]["status"] == "accepted"

    on_b, _ = pull_all(b, cursor_b)
    assert [x["id"] for x in on_b] == [item["id"]]
    assert on_b[0]["canvasser"] == world.canvasser.pk and on_b[0]["door"] == world.doors[1].pk
    on_a, _ = pull_all(a, cursor_a)
    assert on_a == []  # phone A has it already


def test_another_canvassers_phone_still_gets_it_and_a_session_client_gets_no_echo(world, script):
    b = phone(world.canvasser, "phone-b")
    _, cursor_b = pull_all(b)
    session = client_for(world.canvasser)  # no device: the canvasser's own knocks are never echoed
    _, cursor_s = pull_all(session)
    item = push_item(world)
    a = phone(world.canvasser, "phone-a")
    assert a.post(PUSH, push_batch(item, device_id="phone-a"), format="json").status_code == 200
    assert [x["id"] for x in pull_all(b, cursor_b)[0]] == [item["id"]]
    assert pull_all(session, cursor_s)[0] == []
    # The outsider's phone never sees it.
    outsider = phone(world.outsider, "oscar-phone")
    assert pull_all(outsider)[0] == []


def test_a_phone_does_not_page_through_its_own_knocks(world, script, settings):
    """The log names each knock's phone: the phone that pushed them skips them in the database,
    so 3 knocks with a page size of 1 are still one page for it (and three for the other phone)."""
    settings.SYNC_PULL_PAGE_SIZE = 1
    a, b = phone(world.canvasser, "phone-a"), phone(world.canvasser, "phone-b")
    _, cursor_a = pull_all(a)
    _, cursor_b = pull_all(b)
    items = [push_item(world, at=world.doors[i % 2]) for i in range(3)]
    assert a.post(PUSH, push_batch(*items, device_id="phone-a"), format="json").status_code == 200
    pages_a, _ = pull_pages(a, cursor_a)
    assert len(pages_a) == 1 and pages_a[0]["attempts"] == []
    pages_b, _ = pull_pages(b, cursor_b)
    assert sorted(x["id"] for page in pages_b for x in page["attempts"]) == sorted(i["id"] for i in items)
    assert len(pages_b) == 3
