"""A canvasser who logs into the admin with the right password is told the admin is for
organizers and sent to the volunteer app (issue 16); everyone else who may not come in still gets
Django's one message, so a wrong password never tells whether the login exists."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from fieldops.models import Membership
from tests.fieldops.test_tokens import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_login_throttle")]

ADMIN_LOGIN = "/admin/login/"
WRONG = "Please enter the correct username and password for a staff account."
ORGANIZERS = "The admin is for organizers."
LINK = re.compile(r'<a href="/app/">open it</a>')


def admin_login(username: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return client, response


def test_a_canvasser_with_the_right_password_is_sent_to_the_volunteer_app(world):
    client, response = admin_login("carlos")
    page = response.content.decode()
    assert response.status_code == 200
    assert ORGANIZERS in page and LINK.search(page)  # a real link, not escaped text
    assert WRONG not in page
    assert "_auth_user_id" not in client.session  # not logged in to the admin
    assert client.get("/admin/").status_code == 302
    # The link leads to the app, where the same login works.
    assert client.get("/app/").status_code == 200


def test_a_wrong_password_or_an_unknown_name_still_gets_the_one_message(world):
    for username, password in (("carlos", "guess"), ("nobody-here", "guess"), ("nobody-here", PASSWORD)):
        _, response = admin_login(username, password)
        page = response.content.decode()
        assert WRONG in page and ORGANIZERS not in page and not LINK.search(page)


def test_a_login_of_no_organization_or_a_deactivated_member_gets_the_one_message(world):
    stray = get_user_model().objects.create_user(username="stray", password=PASSWORD)
    _, response = admin_login(stray.username)
    assert WRONG in response.content.decode() and ORGANIZERS not in response.content.decode()
    Membership.objects.filter(user=world.canvasser).update(is_active=False)
    _, response = admin_login("carlos")
    assert WRONG in response.content.decode() and ORGANIZERS not in response.content.decode()


def test_organizers_still_come_in(world):
    client, response = admin_login("olivia")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_canvasser_is_throttled_like_any_login(world, settings):
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "3/15min", "ip": "100/15min"}
    for _ in range(3):
        _, response = admin_login("carlos", "guess")
        assert WRONG in response.content.decode()
    _, blocked = admin_login("carlos")  # the right password, over the limit: no hint either
    page = blocked.content.decode()
    assert "Too many login attempts from here" in page and ORGANIZERS not in page


def test_malformed_logins_get_the_one_message(world):
    for username, password in (("x" * 5000, PASSWORD), ("carlos\x00", PASSWORD), ("", ""), ("carlos", "p" * 5000)):
        client = Client(REMOTE_ADDR="10.0.0.2")
        response = client.post(ADMIN_LOGIN, {"username": username, "password": password})
        page = response.content.decode()
        assert response.status_code == 200 and ORGANIZERS not in page
        assert "_auth_user_id" not in client.session
