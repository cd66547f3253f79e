"""The three standard users, set up in one place.

- organizer: organizer of the "venice" chapter (staff, works in the admin);
- canvasser: canvasser of the same chapter with a current assignment on a
  turf of two doors;
- outsider: organizer of another chapter, who must see nothing of venice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches

from canvass.models import Assignment, Campaign, Turf
from fieldops.logins import throttle_store
from fieldops.models import Organization, Role
from tests import factories as f
from tests.factories import client_for  # noqa: F401  (tests/test_authorization_matrix.py imports it from here)
from turf.models import Door


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, a test database in a file, not Django's shared in-memory one: there a second
    thread (live_server's, serving the browser tests' concurrent requests) gets "database table
    is locked" at once instead of waiting, so the WAL mode and busy timeout of settings.py never
    applied. A file database behaves as the embedded default does in production."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests read the dashboard right after changing the data: no shared render.
    settings.DASHBOARD_CACHE_SECONDS = 0
    # Tests do not run collectstatic: serve static names as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def fresh_login_throttle():
    """Login counts start from zero: tests that log in often stay under the limit.

    Redis outlives the test's transaction; the database counters do not.
    """
    if throttle_store() == "redis":
        caches["throttle"].clear()
    yield
    if throttle_store() == "redis":
        caches["throttle"].clear()


@dataclass
class World:
    org: Organization
    other_org: Organization
    organizer: User
    canvasser: User
    outsider: User
    campaign: Campaign
    turf: Turf
    doors: list[Door]
    assignment: Assignment
    other_door: Door


@pytest.fixture
def world(db) -> World:
    org = f.OrganizationFactory(slug="venice", name="Venice Chapter")
    other = f.OrganizationFactory(slug="elsewhere", name="Elsewhere Chapter")
    organizer = f.UserFactory(username="olivia", is_staff=True)
    f.MembershipFactory(user=organizer, organization=org, role=Role.ORGANIZER)
    canvasser = f.UserFactory(username="carlos")
    f.MembershipFactory(user=canvasser, organization=org, role=Role.CANVASSER)
    outsider = f.UserFactory(username="oscar", is_staff=True)
    f.MembershipFactory(user=outsider, organization=other, role=Role.ORGANIZER)
    campaign = f.CampaignFactory(organization=org, slug="venice-canvass", name="Venice canvass")
    turf = f.TurfFactory(campaign=campaign, name="Turf A")
    doors = [f.DoorFactory(organization=org) for _ in range(2)]
    for position, door in enumerate(doors):
        f.TurfDoorFactory(turf=turf, door=door, position=position)
    assignment = f.AssignmentFactory(turf=turf, created_by=organizer)
    f.AssignmentCanvasserFactory(assignment=assignment, user=canvasser)
    other_door = f.DoorFactory(organization=other)
    return World(org, other, organizer, canvasser, outsider, campaign, turf, doors, assignment, other_door)
