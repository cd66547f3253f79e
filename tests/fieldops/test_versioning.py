"""The server says its API version on every API answer and in pull; the app says its own (docs/api.md, "Versioning")."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from fieldops.services import device_token_create
from fieldops.versioning import API_VERSION, ApiVersionMiddleware, app_version
from tests.factories import client_for

USERS = ("organizer", "canvasser", "outsider")


def test_the_version_is_major_dot_minor_and_the_major_is_the_url_prefix():
    major, minor = API_VERSION.split(".")
    assert major == "1" and minor.isdigit()


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_every_api_answer_carries_the_api_version(world, user):
    client = client_for(getattr(world, user))
    answers = [
        client.get("/api/v1/me/"),  # 200
        client.get("/api/v1/sync/pull/"),  # 200
        client.get("/api/v1/assignments/99999999/"),  # 404 from the view
        client.get("/api/v1/no-such-route/"),  # 404 from the resolver
        client.post("/api/v1/sync/push/", "{", content_type="application/json"),  # 400
        APIClient().get("/api/v1/me/"),  # 401
    ]
    for response in answers:
        assert response["X-Fieldops-Api-Version"] == API_VERSION, (response.status_code, response.content[:200])


@pytest.mark.django_db
def test_pages_outside_the_api_do_not_carry_it(world):
    response = APIClient().get("/health/live/")
    assert "X-Fieldops-Api-Version" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
def test_pull_says_the_api_version(world, user):
    key = device_token_create(user=getattr(world, user), device_id="phone").key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FIELDOPS_APP_VERSION="0123456789abcdef")
    body = client.get("/api/v1/sync/pull/").json()
    assert body["api_version"] == API_VERSION
    again = client.get("/api/v1/sync/pull/", {"cursor": body["cursor"]}).json()
    assert again["api_version"] == API_VERSION


@pytest.mark.django_db
def test_an_unknown_or_odd_app_version_is_answered_as_any_other(world):
    """Nothing is refused by version yet (docs/api.md: when 426 would be answered)."""
    key = device_token_create(user=world.canvasser, device_id="phone").key
    for sent in ("0123456789abcdef", "", "x" * 5000, "1.0 <script>", "unknown"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FIELDOPS_APP_VERSION=sent)
        assert client.get("/api/v1/me/").status_code == 200, sent


def test_the_app_version_is_read_when_plausible_and_none_otherwise():
    assert app_version("0123456789abcdef") == "0123456789abcdef"
    assert app_version("2.3.1-beta+7") == "2.3.1-beta+7"
    for odd in (None, "", "x" * 65, "1.0 <script>", "1.0\n", "ünï"):
        assert app_version(odd) is None, odd


def test_the_middleware_keeps_the_app_version_on_the_request():
    seen = {}

    def view(request):
        from django.http import HttpResponse

        seen["version"] = request.fieldops_app_version
        return HttpResponse("ok")

    middleware = ApiVersionMiddleware(view)
    request = RequestFactory().get("/api/v1/me/", HTTP_X_FIELDOPS_APP_VERSION="abc123")
    response = middleware(request)
    assert seen["version"] == "abc123"
    assert response["X-Fieldops-Api-Version"] == API_VERSION
    middleware(RequestFactory().get("/api/v1/me/"))
    assert seen["version"] is None
