"""Who may do what: every API operation and every admin page, for the three standard users.

The API operations come from the OpenAPI schema (tests/endpoints.py), and the
schema must describe every route the URL resolver serves: a new endpoint fails
`test_the_matrix_names_every_operation` until its row is written below. The
admin pages come from the admin site's own URL patterns.

Each user calls each operation with the venice chapter's ids and a body naming
venice objects. The answer must be what the matrix says:

- OK: allowed (any answer but 401, 403, 404 and 5xx: a 400 for a body this
  operation does not like is still "allowed");
- DENIED: 403, the role may not do this (a 401, "log in again", is never right
  for these logged-in users);
- HIDDEN: 404, the object is not theirs (missing and foreign alike).

Whatever the answer, the outsider (an organizer of another chapter) reads
nothing of venice and changes nothing of it, and the canvasser reads nothing
of the doors and people of a turf not assigned to them.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.contrib import admin
from django.db.models import Model
from django.urls import NoReverseMatch, URLPattern, reverse
from django.utils import timezone

from canvass.models import Assignment, Campaign, ContactAttempt, Shift, ShiftSignup, Turf, TurfCutJob
from fieldops.admin_scoping import organization_path
from fieldops.models import AuditLogEntry, DeviceToken
from fieldops.services import device_token_create
from tests import factories as f
from tests.endpoints import api_operations, api_routes, fill
from turf.models import Door, Person

OK, DENIED, HIDDEN = "ok", "denied", "hidden"
USERS = ("organizer", "canvasser", "outsider")


def row(organizer: str, canvasser: str, outsider: str) -> dict[str, str]:
    return {"organizer": organizer, "canvasser": canvasser, "outsider": outsider}


EVERYONE = row(OK, OK, OK)
MANAGERS = row(OK, DENIED, OK)  # the outsider manages their own chapter: a list of theirs, a 400 for venice ids
MEMBERS_OF_VENICE = row(OK, OK, HIDDEN)
MANAGERS_OF_VENICE = row(OK, DENIED, HIDDEN)

MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/me/"): EVERYONE,
    ("POST", "/api/v1/auth/token/"): EVERYONE,
    ("DELETE", "/api/v1/auth/token/"): EVERYONE,
    ("GET", "/api/v1/auth/devices/"): EVERYONE,
    # carlos's phone: he and his organizer may revoke it.
    ("DELETE", "/api/v1/auth/devices/{token_id}/"): MEMBERS_OF_VENICE,
    ("GET", "/api/v1/members/"): MANAGERS,
    ("GET", "/api/v1/campaigns/"): MANAGERS,
    ("POST", "/api/v1/campaigns/{campaign_id}/cut-turfs/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/shifts/"): EVERYONE,
    ("POST", "/api/v1/shifts/"): MANAGERS,
    ("GET", "/api/v1/shifts/{shift_id}/"): MEMBERS_OF_VENICE,
    ("POST", "/api/v1/shifts/{shift_id}/signup/"): MEMBERS_OF_VENICE,
    ("POST", "/api/v1/shifts/{shift_id}/cancel/"): MEMBERS_OF_VENICE,
    ("POST", "/api/v1/shifts/{shift_id}/check-in/"): MEMBERS_OF_VENICE,
    ("POST", "/api/v1/shifts/{shift_id}/check-out/"): MEMBERS_OF_VENICE,
    ("GET", "/api/v1/shifts/{shift_id}/roster/"): MANAGERS_OF_VENICE,
    ("POST", "/api/v1/shifts/{shift_id}/no-show/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/assignments/"): EVERYONE,
    ("POST", "/api/v1/assignments/"): MANAGERS,
    # carlos's own assignment.
    ("GET", "/api/v1/assignments/{assignment_id}/"): MEMBERS_OF_VENICE,
    ("POST", "/api/v1/assignments/{assignment_id}/end/"): MANAGERS_OF_VENICE,
    ("POST", "/api/v1/assignments/{assignment_id}/reassign/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/assignments/{assignment_id}/walk-list/"): MEMBERS_OF_VENICE,
    ("GET", "/api/v1/stats/campaigns/{campaign_id}/districts/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/stats/campaigns/{campaign_id}/days/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/stats/campaigns/{campaign_id}/turfs/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/stats/campaigns/{campaign_id}/canvassers/"): MANAGERS_OF_VENICE,
    ("POST", "/api/v1/sync/push/"): EVERYONE,
    ("GET", "/api/v1/sync/pull/"): EVERYONE,
    ("GET", "/api/v1/turfs/"): MANAGERS,
    ("POST", "/api/v1/turfs/"): MANAGERS,
    ("GET", "/api/v1/turfs/geojson/"): MANAGERS,
    ("POST", "/api/v1/turfs/merge/"): MANAGERS,
    ("GET", "/api/v1/turfs/{turf_id}/"): MANAGERS_OF_VENICE,
    ("POST", "/api/v1/turfs/{turf_id}/split/"): MANAGERS_OF_VENICE,
    ("POST", "/api/v1/turfs/{turf_id}/archive/"): MANAGERS_OF_VENICE,
    ("GET", "/api/v1/turf-cut-jobs/{job_id}/"): MANAGERS_OF_VENICE,
}

# Turf A (carlos's) has a door on a street nobody else has, where Zelda lives; Turf B
# (dana's) has its own door and person, which carlos must never see.
SECRET_STREET, SECRET_PERSON = "ZANZIBARSECRET", "Zelda"
OTHER_TURF_STREET, OTHER_TURF_PERSON = "OPENSESAME", "Yolanda"
VENICE_SECRETS: tuple[str, ...] = (
    SECRET_STREET,
    SECRET_PERSON,
    OTHER_TURF_STREET,
    OTHER_TURF_PERSON,
    "Venice Chapter",
    "Turf A",
)
VENICE_SECRETS += ("carlos", "olivia", "dana")
NOT_CARLOS_SECRETS = (OTHER_TURF_STREET, OTHER_TURF_PERSON)

# Tables a user of the matrix must not change: the outsider none of venice's;
# carlos may knock, sign up and revoke his own phone, nothing else.
PROTECTED = [Door, Person, Turf, Assignment, ContactAttempt, Campaign, Shift, ShiftSignup, DeviceToken, TurfCutJob]
CARLOS_MAY_CHANGE = {ContactAttempt, ShiftSignup, DeviceToken}


def _venice(model: type[Model]) -> dict:
    path = organization_path(model)
    assert path is not None, f"{model.__name__} has no way to its organization"
    return {"slug": "venice"} if path == "pk" else {f"{path}__slug": "venice"}


def _fingerprint(models: list[type[Model]]) -> str:
    """A digest of every venice row of these tables: any write shows."""
    digest = hashlib.sha256()
    for model in models:
        rows = model._default_manager.filter(**_venice(model)).order_by("pk").values()
        digest.update(json.dumps(list(rows), default=str, sort_keys=True).encode())
    return digest.hexdigest()


@pytest.fixture
def venice(world):
    """The venice ids every path takes, with the secrets above in place."""
    door = world.doors[0]
    door.street_name = SECRET_STREET
    door.address_key = f"1|{SECRET_STREET}"
    door.save(update_fields=["street_name", "address_key"])
    f.PersonFactory(organization=world.org, door=door, first_name=SECRET_PERSON, last_name="Quixotic")
    code = f.ResultCodeFactory(organization=world.org, code="not_home")
    f.ContactAttemptFactory(
        organization=world.org,
        campaign=world.campaign,
        door=door,
        canvasser=world.canvasser,
        assignment=world.assignment,
        result_code=code,
        notes=f"met {SECRET_PERSON}",
    )
    shift = f.ShiftFactory(organization=world.org, campaign=world.campaign)
    ShiftSignup.objects.create(shift=shift, user=world.canvasser)
    token = device_token_create(user=world.canvasser, device_id="carlos-phone").token
    job = TurfCutJob.objects.create(organization=world.org, campaign=world.campaign, target_doors=60)
    dana = f.UserFactory(username="dana")
    f.MembershipFactory(user=dana, organization=world.org, role="canvasser")
    turf_b = f.TurfFactory(campaign=world.campaign, name="Turf B")
    other_door = f.DoorFactory(organization=world.org, street_name=OTHER_TURF_STREET)
    f.PersonFactory(organization=world.org, door=other_door, first_name=OTHER_TURF_PERSON, last_name="Beta")
    f.TurfDoorFactory(turf=turf_b, door=other_door, position=0)
    assignment_b = f.AssignmentFactory(turf=turf_b)
    f.AssignmentCanvasserFactory(assignment=assignment_b, user=dana)
    return {
        "token_id": token.pk,
        "campaign_id": world.campaign.pk,
        "shift_id": shift.pk,
        "assignment_id": world.assignment.pk,
        "turf_id": world.turf.pk,
        "job_id": job.pk,
        "turf_b": turf_b,
    }


def _body(world, venice) -> dict:
    """A body naming venice objects in every field an endpoint might take."""
    now = timezone.now().isoformat()
    return {
        "name": "matrix",
        "turf": world.turf.pk,
        "turfs": [world.turf.pk, venice["turf_b"].pk],
        "campaign": world.campaign.pk,
        "canvassers": [world.canvasser.pk],
        "user": world.canvasser.pk,
        "target_doors": 1,
        "parts": 2,
        "starts_at": now,
        "ends_at": now,
        "polygon": {"type": "Polygon", "coordinates": [[[-119, 33], [-118, 33], [-118, 35], [-119, 33]]]},
        "username": "carlos",
        "password": "wrong",
        "device_id": "x",
        "sent_at": now,
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
                "recorded_at": now,
                "lat": None,
                "lng": None,
                "accuracy_m": None,
            }
        ],
    }


def _verdict(status: int) -> str:
    assert status < 500
    # 401 is "log in again" (tests/fieldops/test_auth_401.py): a user who is
    # logged in is never answered so, whatever their role; it matches no cell.
    return {403: DENIED, 404: HIDDEN, 401: "unauthenticated"}.get(status, OK)


def test_the_matrix_names_every_operation():
    """A new endpoint (in the URL resolver or the schema) fails here until the matrix says who may use it."""
    operations = set(api_operations())
    assert api_routes() == {path for _, path in operations}, "a route the schema does not describe"
    assert set(MATRIX) == operations


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("operation", sorted(MATRIX), ids=" ".join)
def test_every_operation_answers_each_user_as_the_matrix_says(world, venice, fresh_login_throttle, operation, user):
    method, path = operation
    who = getattr(world, user)
    protected = [m for m in PROTECTED if user != "canvasser" or m not in CARLOS_MAY_CHANGE]
    before = _fingerprint(protected)
    client = f.client_for(who)
    url = fill(path, venice)
    if method == "GET":
        response = client.get(url)
    else:
        response = getattr(client, method.lower())(url, _body(world, venice), format="json")
    body = response.content.decode(errors="replace")
    assert _verdict(response.status_code) == MATRIX[operation][user], (user, method, url, response.status_code, body)
    if user == "outsider":
        for secret in VENICE_SECRETS:
            assert secret not in body, (method, url, secret)
        assert _fingerprint(protected) == before
        assert not AuditLogEntry.objects.filter(organization=world.org, actor=who).exists()
    if user == "canvasser":
        for secret in NOT_CARLOS_SECRETS:
            assert secret not in body, (method, url, secret)
        assert _fingerprint(protected) == before


@pytest.mark.django_db
def test_a_canvasser_of_another_turf_gets_404_for_carlos_assignment(world, venice):
    dana = f.client_for(f.UserFactory(username="dana"))
    assignment = venice["assignment_id"]
    for url in (f"/api/v1/assignments/{assignment}/", f"/api/v1/assignments/{assignment}/walk-list/"):
        assert dana.get(url).status_code == 404
    listed = dana.get("/api/v1/assignments/").json()["results"]
    assert [a["turf"]["name"] for a in listed] == ["Turf B"]


# --- The admin ------------------------------------------------------------------------


def _admin_pages() -> list[tuple[type[Model], str]]:
    """(model, pattern name) of every page of every ModelAdmin, the model's own extra pages included."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if isinstance(pattern, URLPattern) and pattern.name:
                pages.append((model, pattern.name))
    return sorted(pages, key=lambda page: (page[0]._meta.label, page[1]))


def _admin_url(model: type[Model], name: str) -> str | None:
    if organization_path(model) is None:  # the server's own tables: any row will do
        obj = model._default_manager.order_by("pk").first()
    else:
        obj = model._default_manager.filter(**_venice(model)).order_by("pk").first()
    query = ADMIN_QUERIES.get(name, "").format(pk=obj.pk if obj is not None else 0)
    try:
        return reverse(f"admin:{name}") + query
    except NoReverseMatch:  # the page takes the object's id
        return reverse(f"admin:{name}", args=[obj.pk]) + query if obj is not None else None


ADMIN_PAGES = _admin_pages()
# Pages that read their objects from the query string: {pattern name: query with {model}'s venice pk}.
ADMIN_QUERIES = {"canvass_turf_walk_sheets": "?ids={pk}"}


@pytest.mark.django_db
@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize(("model", "name"), ADMIN_PAGES, ids=lambda x: getattr(x, "__name__", x))
def test_every_admin_page_answers_each_user(world, venice, user, model, name):
    """Read-only GETs (an empty POST where a page takes only POSTs): the organizer opens
    venice's pages; the canvasser has no admin (a redirect to the login); the outsider gets
    no venice row, on a list or by its id.
    Tables of no organization (the task queue's, groups) are the operator's alone."""
    f.populate(world)
    url = _admin_url(model, name)
    if url is None:
        assert organization_path(model) is None, f"no venice {model.__name__} for {name}"
        pytest.skip(f"no {model.__name__} row to open")
    before = _fingerprint(PROTECTED)
    client = f.admin_client(getattr(world, user))
    response = client.get(url)
    posted = response.status_code == 405  # a POST-only page (the turf map's tools): posted an empty body
    if posted:
        response = client.post(url, "{}", content_type="application/json")
    body = response.content.decode(errors="replace")
    assert response.status_code < 500, (user, url, response.status_code)
    if user == "canvasser":
        assert response.status_code == 302 and "/login/" in response["Location"], (url, response.status_code)
    elif organization_path(model) is None:
        assert response.status_code == 403, (user, url, response.status_code)
    elif user == "organizer":
        assert response.status_code in ((200, 400) if posted else (200, 302, 403)), (url, response.status_code)
        if response.status_code == 302:
            assert "/login/" not in response["Location"], url
    else:
        assert response.status_code in ((403, 404) if posted else (200, 302, 403, 404)), (url, response.status_code)
        for secret in VENICE_SECRETS:
            assert secret not in body, (url, secret)
    assert _fingerprint(PROTECTED) == before
