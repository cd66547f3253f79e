"""Every API endpoint, with every id of the venice chapter, as the outsider (an
organizer of another chapter) and as a venice canvasser of another turf:
nothing of Turf A's doors, people or knocks leaks, and nothing changes.

The endpoints are read from the URL configuration, so a new endpoint is tried
without anyone remembering to add it; an id parameter this file does not know
fails the test until it is mapped to its model below.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db.models import Model
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver
from django.utils import timezone

from canvass.models import Assignment, Campaign, ContactAttempt, Shift, ShiftSignup, Turf, TurfCutJob
from fieldops.admin_scoping import organization_path
from fieldops.models import AuditLogEntry, DeviceToken
from tests import factories as f
from tests.conftest import client_for
from turf.models import Door, Person

# Path parameter -> the model whose ids it takes.
ID_PARAMETERS: dict[str, type[Model]] = {
    "token_id": DeviceToken,
    "turf_id": Turf,
    "campaign_id": Campaign,
    "job_id": TurfCutJob,
    "shift_id": Shift,
    "assignment_id": Assignment,
}
SKIP = {"api/v1/schema/", "api/v1/docs/", "api/v1/redoc/"}
METHODS = ("get", "post", "put", "patch", "delete")
SECRET_STREET = "ZANZIBARSECRET"
SECRET_PERSON = "Zelda Quixotic"


def _routes() -> list[tuple[str, list[str]]]:
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if route.startswith("api/v1/") and route not in SKIP:
                    found.append((route, list(pattern.pattern.converters)))

    walk(get_resolver().url_patterns)
    return found


def _urls(route: str, params: list[str]) -> list[str]:
    unknown = [p for p in params if p not in ID_PARAMETERS]
    assert not unknown, f"{route}: map {unknown} to a model in ID_PARAMETERS"
    urls = ["/" + route]
    for param in params:
        ids = list(ID_PARAMETERS[param].objects.filter(**_venice(ID_PARAMETERS[param])).values_list("pk", flat=True))
        assert ids, f"the fixture has no venice {ID_PARAMETERS[param].__name__}"
        urls = [u.replace(f"<int:{param}>", str(i)) for u in urls for i in ids]
    return urls


def _venice(model: type[Model]) -> dict:
    path = organization_path(model)
    assert path is not None, f"{model.__name__} has no way to its organization"
    return {f"{path}__slug": "venice"}


def _fingerprint(models: list[type[Model]]) -> str:
    """A digest of every venice row of these tables: any write shows."""
    digest = hashlib.sha256()
    for model in models:
        rows = model.objects.filter(**_venice(model)).order_by("pk").values()
        digest.update(json.dumps(list(rows), default=str, sort_keys=True).encode())
    return digest.hexdigest()


@pytest.fixture
def secrets(world):
    """Turf A's door is on a street nobody else has, and a named person lives there;
    Turf B is another venice turf with its own canvasser, dana."""
    door = world.doors[0]
    door.street_name = SECRET_STREET
    door.address_key = f"1|{SECRET_STREET}"
    door.save(update_fields=["street_name", "address_key"])
    first, last = SECRET_PERSON.split()
    f.PersonFactory(organization=world.org, door=door, first_name=first, last_name=last)
    code = f.ResultCodeFactory(organization=world.org, code="not_home")
    now = timezone.now()
    ContactAttempt.objects.create(
        organization=world.org,
        campaign=world.campaign,
        door=door,
        canvasser=world.canvasser,
        assignment=world.assignment,
        result_code=code,
        notes=f"met {SECRET_PERSON}",
        recorded_at=now,
        received_at=now,
        corrected_at=now,
    )
    shift = f.ShiftFactory(organization=world.org, campaign=world.campaign)
    ShiftSignup.objects.create(shift=shift, user=world.canvasser)
    from fieldops.services import device_token_create

    device_token_create(user=world.canvasser, device_id="carlos-phone")
    TurfCutJob.objects.create(organization=world.org, campaign=world.campaign, target_doors=60)
    dana = f.UserFactory(username="dana")
    f.MembershipFactory(user=dana, organization=world.org, role="canvasser")
    turf_b = f.TurfFactory(campaign=world.campaign, name="Turf B")
    f.TurfDoorFactory(turf=turf_b, door=f.DoorFactory(organization=world.org, street_name="OPEN"), position=0)
    assignment_b = f.AssignmentFactory(turf=turf_b)
    f.AssignmentCanvasserFactory(assignment=assignment_b, user=dana)
    return dana


def _body(world) -> dict:
    """A body naming venice objects in every field an endpoint might take."""
    return {
        "turf": world.turf.pk,
        "turfs": [world.turf.pk, world.turf.pk + 1],
        "campaign": world.campaign.pk,
        "canvassers": [world.canvasser.pk],
        "user": world.canvasser.pk,
        "shift": None,
        "target_doors": 1,
        "parts": 2,
        "polygon": {"type": "Polygon", "coordinates": [[[-119, 33], [-118, 33], [-118, 35], [-119, 33]]]},
        "device_id": "x",
        "sent_at": timezone.now().isoformat(),
        "attempts": [
            {
                "id": "6f1c2b8e-0000-4000-8000-000000000001",
                "door": world.doors[0].pk,
                "assignment": world.assignment.pk,
                "person": None,
                "result": "not_home",
                "support_level": None,
                "answers": {},
                "notes": "",
                "recorded_at": timezone.now().isoformat(),
                "lat": None,
                "lng": None,
                "accuracy_m": None,
            }
        ],
    }


def _try_everything(client, world) -> list[tuple[str, str, int, str]]:
    answers = []
    for route, params in _routes():
        for url in _urls(route, params):
            for method in METHODS:
                if method == "get":
                    response = getattr(client, method)(url)
                else:
                    response = getattr(client, method)(url, _body(world), format="json")
                answers.append((method.upper(), url, response.status_code, response.content.decode(errors="replace")))
    return answers


PROTECTED = [Door, Person, Turf, Assignment, ContactAttempt, Campaign, Shift, ShiftSignup, DeviceToken, TurfCutJob]


@pytest.mark.django_db
def test_the_outsider_gets_nothing_of_venice_and_changes_nothing(world, secrets):
    before = _fingerprint(PROTECTED)
    answers = _try_everything(client_for(world.outsider), world)
    assert len(answers) > 150
    for method, url, status, body in answers:
        assert status < 500, (method, url, status, body[:300])
        for secret in (SECRET_STREET, SECRET_PERSON.split()[0], "Venice Chapter", "Turf A", "carlos", "olivia"):
            assert secret not in body, (method, url, status, secret)
    assert _fingerprint(PROTECTED) == before
    assert not AuditLogEntry.objects.filter(organization=world.org, actor=world.outsider).exists()


@pytest.mark.django_db
def test_a_canvasser_of_another_turf_sees_nothing_of_turf_a_and_cannot_change_it(world, secrets):
    dana = secrets
    # dana may sign up for her chapter's shifts and manage her own devices: leave those tables out.
    protected = [Door, Person, Turf, Assignment, ContactAttempt, Campaign, TurfCutJob]
    before = _fingerprint(protected)
    answers = _try_everything(client_for(dana), world)
    for method, url, status, body in answers:
        assert status < 500, (method, url, status, body[:300])
        for secret in (SECRET_STREET, SECRET_PERSON.split()[0], "carlos"):
            assert secret not in body, (method, url, status, secret)
        if method == "GET" and url == f"/api/v1/assignments/{world.assignment.pk}/walk-list/":
            assert status == 404
    assert _fingerprint(protected) == before
