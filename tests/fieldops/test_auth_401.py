"""Authentication answers: 401 "log in again" for missing or refused credentials, 403 "not allowed" for a right.

docs/api.md, "Authentication answers". Every operation of the schema but the
login itself answers a request without credentials with 401 and a
WWW-Authenticate header; each way a token can be no good (malformed, unknown,
revoked, expired, inactive) has its own `code`; a valid token or session
lacking the right gets 403. Sessions (the browsable API) keep working.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from fieldops.models import DeviceToken, Membership
from fieldops.services import device_token_create
from tests.endpoints import api_operations, fill, path_parameters

pytestmark = pytest.mark.usefixtures("fresh_login_throttle")
USERS = ("organizer", "canvasser", "outsider")
PASSWORD = "pw-for-tests-1"  # tests/factories.py UserFactory


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def key_of(user, device_id="phone") -> str:
    return device_token_create(user=user, device_id=device_id).key


def assert_log_in_again(response, code: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["errors"] == {}
    assert "log in" in body["detail"].lower(), body
    header = response["WWW-Authenticate"]
    assert header.startswith('Token realm="fieldops"'), header
    # RFC 6750: error="invalid_token" when a token was sent and refused, no error when none was sent.
    assert ('error="invalid_token"' in header) == (code != "not_authenticated"), header


OPERATIONS = [op for op in api_operations() if op != ("POST", "/api/v1/auth/token/")]


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_every_operation_answers_no_credentials_with_401(world, operation):
    method, path = operation
    url = fill(path, dict.fromkeys(path_parameters(path), 1))
    response = getattr(APIClient(), method.lower())(url, {}, format="json")
    assert_log_in_again(response, "not_authenticated")
    assert "authentication credentials were not provided" in response.json()["detail"].lower()


@pytest.mark.django_db
def test_a_login_needs_no_credentials(world):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "carlos", "password": PASSWORD, "device_id": "d"}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token not-a-fieldops-key", "Token fo_" + "y" * 500, "token  "],
)
def test_a_malformed_token_header_is_401(world, user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_log_in_again(client.get("/api/v1/me/"), "token_malformed")
    # The user's real token still works: nothing was revoked by the bad header.
    assert token_client(key_of(getattr(world, user))).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_a_token_of_bytes_that_are_not_text_is_401(world):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=b"Token fo_\xff\xfe".decode("latin-1"))
    assert_log_in_again(response, "token_malformed")


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_an_unknown_token_is_401(world, user):
    real = key_of(getattr(world, user))
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    assert_log_in_again(token_client(forged).get("/api/v1/me/"), "token_unknown")
    assert token_client(real).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_a_revoked_token_is_401_and_says_revoked(world, user):
    key = key_of(getattr(world, user))
    client = token_client(key)
    assert client.get("/api/v1/me/").status_code == 200
    assert client.delete("/api/v1/auth/token/").status_code == 204  # log out
    response = client.get("/api/v1/me/")
    assert_log_in_again(response, "token_revoked")
    assert "revoked" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_an_expired_token_is_401_and_says_expired(world, user):
    key = key_of(getattr(world, user))
    DeviceToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = token_client(key).get("/api/v1/sync/pull/")
    assert_log_in_again(response, "token_expired")
    assert "expired" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_a_token_of_an_inactive_membership_is_401(world, user):
    who = getattr(world, user)
    key = key_of(who)
    Membership.objects.filter(user=who).update(is_active=False)
    assert_log_in_again(token_client(key).get("/api/v1/me/"), "token_inactive")


@pytest.mark.django_db
def test_a_push_with_a_revoked_token_is_401_and_stores_nothing(world):
    key = key_of(world.canvasser)
    DeviceToken.objects.update(revoked_at=timezone.now())
    response = token_client(key).post(
        "/api/v1/sync/push/", {"device_id": "phone", "sent_at": timezone.now().isoformat(), "attempts": []}
    )
    assert_log_in_again(response, "token_revoked")


@pytest.mark.django_db
def test_a_valid_token_without_the_right_is_403_not_401(world):
    client = token_client(key_of(world.canvasser))
    for method, url in (("get", "/api/v1/members/"), ("get", "/api/v1/campaigns/"), ("post", "/api/v1/shifts/")):
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (url, response.content)
        body = response.json()
        assert "code" not in body and "log in again" not in body["detail"]
        assert "WWW-Authenticate" not in response
    # The same token is still good: a 403 is no reason to log in again.
    assert client.get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_the_outsiders_valid_token_on_venice_objects_is_404_not_401(world):
    client = token_client(key_of(world.outsider))
    assert client.get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/").status_code == 404


def session_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_a_session_login_still_works(world, user):
    who = getattr(world, user)
    client = session_client(who)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == who.username
    # The browsable API for a person signed in to the admin.
    page = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"<html" in page.content.lower()


@pytest.mark.django_db
def test_a_session_without_the_right_is_403_and_csrf_still_holds(world):
    client = session_client(world.canvasser)
    assert client.get("/api/v1/members/").status_code == 403
    # An unsafe request without the CSRF token: refused (403), the session is not a way around CSRF.
    response = client.post(f"/api/v1/shifts/{1}/signup/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "csrf" in response.json()["detail"].lower()


@pytest.mark.django_db
def test_a_bad_token_is_401_even_with_a_session(world):
    """Sent credentials are checked: a session does not hide a token that is no good."""
    client = session_client(world.organizer)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token fo_" + "x" * 43)
    assert_log_in_again(response, "token_unknown")


@pytest.mark.django_db
def test_other_authorization_schemes_are_read_as_no_credentials(world):
    response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer something")
    assert_log_in_again(response, "not_authenticated")
