"""Headers on every answer (issue 14, item 5): `Cache-Control: no-store` wherever fieldops
computes the answer (voters' names must not stay in a phone's or a proxy's cache), and a
Content-Security-Policy that allows only this server. The pages themselves are opened under
the policy in a browser by tests/browser/test_pages_policy.py."""

from __future__ import annotations

import pytest
from django.test import Client

from fieldops.services import device_token_create
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def assert_not_stored(response, what: str) -> None:
    cache = response.get("Cache-Control", "")
    assert "no-store" in cache and "private" in cache, f"{what}: Cache-Control is {cache!r}"


def assert_policy(response, what: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, f"{what}: {policy!r}"
    assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy, f"{what}: {policy!r}"


def test_what_a_phone_downloads_is_never_stored(world):
    phone = client_for(world.canvasser)
    walk = phone.get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/")
    assert walk.status_code == 200 and walk.json()["doors"], walk.content[:200]
    assert_not_stored(walk, "walk list")
    pull = phone.get("/api/v1/sync/pull/")
    assert pull.status_code == 200
    assert_not_stored(pull, "pull")
    # With a device token, as the app sends it, and when the answer is an error.
    token = device_token_create(user=world.canvasser, device_id="phone-1", device_name="test").key
    raw = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert_not_stored(raw.get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/"), "walk list, token")
    assert_not_stored(raw.get("/api/v1/assignments/999999/walk-list/"), "a 404")
    assert_not_stored(Client().get("/api/v1/me/"), "a 401")


def test_the_organizers_pages_and_exports_are_never_stored_and_carry_the_policy(world):
    browser = Client()
    browser.force_login(world.organizer)
    for what, url in [
        ("admin index", "/admin/"),
        ("people", "/admin/turf/person/"),
        ("dashboard", f"/admin/canvass/campaign/{world.campaign.pk}/dashboard/"),
        ("VAN export", f"/admin/canvass/campaign/{world.campaign.pk}/export-van/?format=csv"),
        ("walk sheets", f"/admin/canvass/turf/walk-sheets/?ids={world.turf.pk}"),
        ("API docs", "/api/v1/docs/"),
    ]:
        response = browser.get(url)
        assert response.status_code == 200, (what, response.status_code)
        assert_not_stored(response, what)
        assert_policy(response, what)


def test_the_login_page_carries_the_policy_and_redoc_is_gone(world):
    login = Client().get("/admin/login/")
    assert_policy(login, "admin login")
    assert_not_stored(login, "admin login")
    # Redoc fetched its logo and fonts from other hosts; its address leads to the Swagger page.
    assert Client().get("/api/v1/redoc/")["Location"].endswith("/api/v1/docs/")


def test_the_volunteer_app_keeps_its_own_policy_and_cache_rules():
    page = Client().get("/app/")
    assert "manifest-src 'self'" in page["Content-Security-Policy"]
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    assert page["Cache-Control"] == "no-cache"  # revalidated, so a new version is seen; it holds no voter
