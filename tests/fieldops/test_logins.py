"""Every door with a password is throttled alike (issue 14, item 2): the organizers' admin login
shares the phone login's windows per username and per address, answers an unknown name like a
wrong password, and a slow password hash cannot take the server's threads: past the per-process
number of password checks at once, an attempt is answered "busy" without a hash."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from fieldops.logins import password_check_slot
from tests.fieldops.test_tokens import PASSWORD, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_login_throttle")]

ADMIN_LOGIN = "/admin/login/"
WRONG = "Please enter the correct username and password for a staff account."


def admin_login(username: str = "olivia", password: str = PASSWORD, ip: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_the_admin_login_stops_guesses_even_before_the_right_password(world, settings):
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "3/15min", "ip": "100/15min"}
    for _ in range(3):
        wrong = admin_login(password="guess")
        assert wrong.status_code == 200 and WRONG in wrong.content.decode()
    blocked = admin_login()  # the right password, once over the limit: still no way in
    assert blocked.status_code == 200
    assert re.search(r"Too many login attempts from here\. Try again in \d+ minute\(s\)\.", blocked.content.decode())
    assert "_auth_user_id" not in blocked.wsgi_request.session
    # Another organizer from this address, and olivia from elsewhere, are counted apart.
    assert admin_login(ip="10.9.9.9").status_code == 302


def test_both_doors_count_against_one_limit(world, settings):
    settings.FIELDOPS_LOGIN_RATES = {"user_ip": "3/15min", "ip": "100/15min"}
    assert login(username="olivia", password="guess").status_code == 400  # the phone's door
    assert WRONG in admin_login(password="guess").content.decode()  # the organizers' door
    assert login(username="olivia", password="guess").status_code == 400
    assert login(username="olivia").status_code == 429  # the budget is shared, the API says so
    assert "Too many login attempts" in admin_login().content.decode()


def test_an_unknown_name_is_answered_like_a_wrong_password(world):
    unknown = admin_login(username="nobody-here", password="guess").content.decode()
    wrong = admin_login(password="guess").content.decode()
    assert WRONG in unknown and WRONG in wrong
    assert "nobody-here" not in unknown.replace('value="nobody-here"', "")  # only echoed in its own field


def test_past_the_password_checks_at_once_a_login_is_told_to_wait_and_no_hash_runs(world, settings):
    settings.FIELDOPS_LOGIN_CONCURRENCY = 1
    settings.FIELDOPS_LOGIN_WAIT_SECONDS = 0
    with password_check_slot():  # another login's hash in progress in this process
        busy = admin_login()
        assert "The server is busy checking other logins" in busy.content.decode()
        assert "_auth_user_id" not in busy.wsgi_request.session
        api = login(username="carlos")
        assert api.status_code == 429 and "busy" in api.json()["detail"]
    assert admin_login(ip="10.0.0.2").status_code == 302  # the slot is free again
    assert login(username="carlos", ip="10.0.0.2").status_code == 201
