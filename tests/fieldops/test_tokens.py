"""Phone logins: device tokens, logout, revocation by the organizer, expiry, the login throttle."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from fieldops.logins import throttle_store
from fieldops.models import AuditLogEntry, DeviceToken, Membership, ThrottleCounter
from tests import factories as f
from tests.factories import client_for

PASSWORD = "pw-for-tests-1"  # tests/factories.py UserFactory
URL = "/api/v1/auth/token/"


pytestmark = pytest.mark.usefixtures("fresh_login_throttle")


def login(username="carlos", password=PASSWORD, device_id="phone-1", ip="10.0.0.1", **extra):
    client = APIClient(REMOTE_ADDR=ip)
    body = {"username": username, "password": password, "device_id": device_id, **extra}
    return client.post(URL, body, format="json")


def token_client(key: str, ip="10.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_login_returns_a_token_that_works_and_only_its_hash_is_stored(world):
    response = login(device_name="Carlos's Pixel")
    assert response.status_code == 201, response.content
    body = response.json()
    key = body["token"]
    assert key.startswith("fo_") and len(key) == 46
    assert body["token_type"] == "Token"
    assert body["me"]["username"] == "carlos" and body["me"]["role"] == "canvasser"
    assert body["me"]["organization"]["slug"] == "venice"
    assert body["device"]["device_id"] == "phone-1"
    assert body["device"]["device_name"] == "Carlos's Pixel"
    assert body["device"]["is_current"] is True
    # the organization's offset: an aware ISO 8601 time a person can read
    assert body["expires_at"].endswith(("-08:00", "-07:00"))

    token = DeviceToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.key_prefix == key[:8]
    row = DeviceToken.objects.filter(pk=token.pk).values().get()
    assert key not in {str(v) for v in row.values()}
    assert abs(token.expires_at - token.created_at - dt.timedelta(days=30)) < dt.timedelta(seconds=5)

    me = token_client(key).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "carlos"


@pytest.mark.django_db
def test_token_lifetime_comes_from_the_setting(world, settings):
    settings.FIELDOPS_TOKEN_TTL_DAYS = 7
    login()
    token = DeviceToken.objects.get()
    assert abs(token.expires_at - token.created_at - dt.timedelta(days=7)) < dt.timedelta(seconds=5)


@pytest.mark.django_db
def test_wrong_password_unknown_user_and_a_user_of_no_organization_get_one_answer(world):
    f.UserFactory(username="nomad")  # a login without a membership
    answers = [
        login(password="wrong"),
        login(username="nobody"),
        login(username="nomad"),
    ]
    for response in answers:
        assert response.status_code == 400
        assert response.json()["errors"] == {"non_field_errors": ["Wrong username or password."]}
    assert not DeviceToken.objects.exists()


@pytest.mark.django_db
def test_bad_login_bodies_are_400_naming_the_field(world):
    client = APIClient()
    missing = client.post(URL, {"username": "carlos"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"password", "device_id"}
    malformed = client.post(URL, "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert "detail" in malformed.json()
    wrong_type = client.post(URL, {"username": ["carlos"], "password": PASSWORD, "device_id": {"a": 1}}, format="json")
    assert wrong_type.status_code == 400
    assert {"username", "device_id"} <= set(wrong_type.json()["errors"])
    huge = client.post(URL, {"username": "carlos", "password": PASSWORD, "device_id": "x" * 5000}, format="json")
    assert huge.status_code == 400
    assert "device_id" in huge.json()["errors"]
    blank = client.post(URL, {"username": "carlos", "password": PASSWORD, "device_id": "   "}, format="json")
    assert blank.status_code == 400
    assert not DeviceToken.objects.exists()


@pytest.mark.django_db
def test_login_needs_no_csrf_token_even_with_a_session(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.canvasser)
    response = client.post(URL, {"username": "carlos", "password": PASSWORD, "device_id": "d"}, format="json")
    assert response.status_code == 201


@pytest.mark.django_db
def test_logging_in_again_on_a_device_replaces_its_token_other_devices_stay(world):
    first = login(device_id="phone-1").json()["token"]
    tablet = login(device_id="tablet").json()["token"]
    second = login(device_id="phone-1").json()["token"]
    assert token_client(first).get("/api/v1/me/").status_code == 401
    assert token_client(second).get("/api/v1/me/").status_code == 200
    assert token_client(tablet).get("/api/v1/me/").status_code == 200
    assert DeviceToken.objects.filter(revoked_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_logout_revokes_the_token_at_once_and_is_audited(world):
    key = login().json()["token"]
    client = token_client(key)
    assert client.get("/api/v1/me/").status_code == 200
    assert client.delete(URL).status_code == 204
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert "log in again" in response.json()["detail"]
    actions = list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["token.create", "token.revoke"]


@pytest.mark.django_db
def test_logout_needs_a_token_request(world):
    assert client_for(world.canvasser).delete(URL).status_code == 400
    assert APIClient().delete(URL).status_code == 401


@pytest.mark.django_db
def test_an_expired_token_is_refused(world):
    key = login().json()["token"]
    DeviceToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert token_client(key).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_a_deactivated_member_or_user_loses_their_tokens_at_once(world):
    key = login().json()["token"]
    Membership.objects.filter(user=world.canvasser).update(is_active=False)
    assert token_client(key).get("/api/v1/me/").status_code == 401
    Membership.objects.filter(user=world.canvasser).update(is_active=True)
    assert token_client(key).get("/api/v1/me/").status_code == 200
    type(world.canvasser).objects.filter(pk=world.canvasser.pk).update(is_active=False)
    assert token_client(key).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token not-a-fieldops-key", "Token fo_" + "x" * 43, "Token fo_" + "y" * 500],
)
def test_bad_token_headers_are_refused(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.django_db
def test_other_authorization_schemes_are_not_ours(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer something")
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_token_auth_costs_one_query_and_last_used_is_written_rarely(world, django_assert_num_queries):
    key = login().json()["token"]
    client = token_client(key)
    client.get("/api/v1/me/")  # first use writes last_used_at
    first_used = DeviceToken.objects.get().last_used_at
    assert first_used is not None
    # the token, its user and membership in one query; nothing written
    with django_assert_num_queries(1):
        assert client.get("/api/v1/me/").status_code == 200
    assert DeviceToken.objects.get().last_used_at == first_used
    DeviceToken.objects.update(last_used_at=timezone.now() - dt.timedelta(minutes=6))
    client.get("/api/v1/me/")
    last_used_at = DeviceToken.objects.get().last_used_at
    assert first_used is not None and last_used_at is not None and last_used_at > first_used


# --- devices: listed and revoked by their owner and the organizer ---------------------


@pytest.mark.django_db
def test_a_canvasser_lists_and_revokes_only_their_own_devices(world):
    carlos = login(device_id="carlos-phone").json()["token"]
    olivia = login(username="olivia", device_id="olivia-laptop").json()["token"]
    client = token_client(carlos)
    listing = client.get("/api/v1/auth/devices/").json()
    assert [d["device_id"] for d in listing["results"]] == ["carlos-phone"]
    assert listing["results"][0]["is_current"] is True
    assert "token" not in listing["results"][0] and "key_hash" not in listing["results"][0]
    olivia_token = DeviceToken.objects.get(user=world.organizer)
    assert client.delete(f"/api/v1/auth/devices/{olivia_token.pk}/").status_code == 404
    assert token_client(olivia).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_the_organizer_lists_the_organizations_devices_and_revokes_one_at_once(world):
    carlos = login(device_id="carlos-phone").json()["token"]
    olivia = login(username="olivia", device_id="olivia-laptop").json()["token"]
    login(username="oscar", device_id="oscar-phone")
    organizer = token_client(olivia)
    listing = organizer.get("/api/v1/auth/devices/").json()
    assert sorted(d["user"]["username"] for d in listing["results"]) == ["carlos", "olivia"]
    carlos_token = DeviceToken.objects.get(user=world.canvasser)
    assert organizer.delete(f"/api/v1/auth/devices/{carlos_token.pk}/").status_code == 204
    assert token_client(carlos).get("/api/v1/me/").status_code == 401
    # idempotent; the revocation is audited once, with the organizer as actor
    assert organizer.delete(f"/api/v1/auth/devices/{carlos_token.pk}/").status_code == 204
    entries = AuditLogEntry.objects.filter(action="token.revoke")
    assert [(e.actor_id, e.object_id) for e in entries] == [(world.organizer.pk, str(carlos_token.pk))]
    # the revoked device leaves the list
    assert [d["user"]["username"] for d in organizer.get("/api/v1/auth/devices/").json()["results"]] == ["olivia"]


@pytest.mark.django_db
def test_the_outsider_cannot_see_or_revoke_another_chapters_devices(world):
    carlos = login(device_id="carlos-phone").json()["token"]
    oscar = login(username="oscar", device_id="oscar-phone").json()["token"]
    outsider = token_client(oscar)
    assert [d["user"]["username"] for d in outsider.get("/api/v1/auth/devices/").json()["results"]] == ["oscar"]
    carlos_token = DeviceToken.objects.get(user=world.canvasser)
    for url in (f"/api/v1/auth/devices/{carlos_token.pk}/", "/api/v1/auth/devices/999999/"):
        assert outsider.delete(url).status_code == 404
    assert token_client(carlos).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_device_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    olivia = login(username="olivia", device_id="olivia-laptop").json()["token"]
    for i in range(5):
        login(device_id=f"carlos-{i}", ip=f"10.0.1.{i}")
    client = token_client(olivia)
    client.get("/api/v1/me/")  # the first use writes last_used_at
    with django_assert_max_num_queries(3):  # token, count, page
        response = client.get("/api/v1/auth/devices/")
    assert response.json()["count"] == 6


@pytest.mark.django_db
def test_the_admin_lists_device_tokens_of_the_organization_only(world):
    login(device_id="carlos-phone")
    login(username="oscar", device_id="oscar-phone")
    client = APIClient()
    client.force_login(world.organizer)
    page = client.get("/admin/fieldops/devicetoken/")
    assert page.status_code == 200
    assert b"carlos-phone" in page.content and b"oscar-phone" not in page.content
    assert b"fo_" in page.content  # the prefix, to tell tokens apart
    carlos_token = DeviceToken.objects.get(user=world.canvasser)
    change = client.get(f"/admin/fieldops/devicetoken/{carlos_token.pk}/change/")
    assert change.status_code == 200
    assert carlos_token.key_hash.encode() not in change.content
    assert client.get("/admin/fieldops/devicetoken/add/").status_code == 403
    response = client.post(
        "/admin/fieldops/devicetoken/",
        {"action": "revoke", "_selected_action": [carlos_token.pk]},
    )
    assert response.status_code == 302
    carlos_token.refresh_from_db()
    assert carlos_token.revoked_at is not None and carlos_token.revoked_by == world.organizer
    # a foreign token's id in the action changes nothing
    oscar_token = DeviceToken.objects.get(user=world.outsider)
    client.post("/admin/fieldops/devicetoken/", {"action": "revoke", "_selected_action": [oscar_token.pk]})
    oscar_token.refresh_from_db()
    assert oscar_token.revoked_at is None


# --- the login throttle ------------------------------------------------------------


@pytest.mark.django_db
def test_login_is_throttled_per_username_and_ip(world, settings):
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "3/15min", "ip": "100/15min"}
    for _ in range(3):
        assert login(password="wrong").status_code == 400
    blocked = login()  # even the right password, once over the limit
    assert blocked.status_code == 429
    assert blocked.json()["retry_after_seconds"] > 0
    # another user from the same address, and the same user from elsewhere, are counted apart
    assert login(username="olivia").status_code == 201
    assert login(ip="10.9.9.9").status_code == 201


@pytest.mark.django_db
def test_login_is_throttled_per_ip_across_usernames(world, settings):
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "100/15min", "ip": "4/15min"}
    for name in ("a", "b", "c", "d"):
        assert login(username=name).status_code == 400
    assert login(username="e").status_code == 429
    assert login(username="carlos", ip="10.0.0.2").status_code == 201


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_does_not_dodge_the_throttle(world, settings):
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "2/15min", "ip": "100/15min"}
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    body = {"username": "carlos", "password": "wrong", "device_id": "d"}
    codes = [client.post(URL, body, format="json", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}").status_code for i in range(4)]
    assert codes == [400, 400, 429, 429]


@pytest.mark.django_db
def test_the_throttle_counts_where_all_processes_share_it(world, settings):
    """A new throttle object (as in another worker process) sees the counts: they
    live in Redis or in the database, never in the process."""
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "2/15min", "ip": "100/15min"}
    assert login(password="wrong").status_code == 400
    assert login(password="wrong").status_code == 400
    assert login().status_code == 429  # each request makes a fresh LoginThrottle
    if throttle_store() == "database":
        counts = sorted(ThrottleCounter.objects.values_list("count", flat=True))
        # (carlos, 10.0.0.1) reached 3 and stopped the third request before the IP's count
        assert counts == [2, 3]
    else:
        assert type(caches["throttle"]).__name__ == "RedisCache"


@pytest.mark.django_db
def test_expired_throttle_windows_are_deleted(world):
    if throttle_store() != "database":
        pytest.skip("Redis expires its keys itself")
    ThrottleCounter.objects.create(key="old", count=9, expires_at=timezone.now() - dt.timedelta(seconds=1))
    login()
    assert not ThrottleCounter.objects.filter(key="old").exists()


@pytest.mark.django_db(transaction=True)
def test_the_throttle_holds_under_concurrent_logins(world, settings):
    """Twenty logins at once against a limit of five: exactly five get through."""
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "5/15min", "ip": "100/15min"}
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is not shared between threads")
    barrier = threading.Barrier(20)
    codes: list[int] = []
    lock = threading.Lock()

    def attempt():
        barrier.wait()
        try:
            code = login(password="wrong").status_code
        finally:
            connection.close()
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [400] * 5 + [429] * 15
