"""The walk list: one response, constant queries, minimal PII, audited, only for its canvassers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fieldops.models import AuditLogEntry, Role
from tests import factories as f
from tests.factories import client_for


def url(assignment) -> str:
    return f"/api/v1/assignments/{assignment.pk}/walk-list/"


def knock(world, door, code, minutes_ago: int, campaign=None):
    return f.ContactAttemptFactory(
        campaign=campaign or world.campaign,
        door=door,
        canvasser=world.canvasser,
        result_code=code,
        recorded_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def walk(world):
    """The world's turf with a script, result codes, people and earlier knocks."""
    world.turf.polygon = f.SQUARE
    world.turf.save(update_fields=["polygon"])
    question = f.SurveyQuestionFactory(campaign=world.campaign, text="Support Measure X?", position=0)
    for i, label in enumerate(["Yes", "No", "Undecided"]):
        f.SurveyOptionFactory(question=question, label=label, position=i)
    f.SurveyQuestionFactory(campaign=world.campaign, text="Retired question", is_active=False)
    not_home = f.ResultCodeFactory(organization=world.org, code="not_home", label="Not home", is_contact=False)
    canvassed = f.ResultCodeFactory(organization=world.org, code="canvassed", label="Canvassed", position=9)
    f.ResultCodeFactory(organization=world.other_org, code="secret_code", label="Secret")
    first, second = world.doors
    f.PersonFactory(
        door=first, first_name="Ana", last_name="Lopez", phone="310-555-0101", email="ana@example.org", party="DEM"
    )
    f.PersonFactory(door=first, first_name="Ben", last_name="Lopez", birth_year=1970)
    knock(world, first, not_home, minutes_ago=60)
    knock(world, first, canvassed, minutes_ago=5)  # the latest
    other_campaign = f.CampaignFactory(organization=world.org, slug="other")
    knock(world, second, canvassed, minutes_ago=1, campaign=other_campaign)  # not this campaign
    return world


@pytest.mark.django_db
def test_the_canvasser_gets_the_whole_walk_list_in_one_response(walk):
    response = client_for(walk.canvasser).get(url(walk.assignment))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"assignment", "turf", "campaign", "script", "result_codes", "doors", "cursor"}
    assert body["turf"] == {"id": walk.turf.pk, "name": "Turf A", "polygon": f.SQUARE, "door_count": 2}
    assert body["campaign"]["slug"] == "venice-canvass"
    assert [q["text"] for q in body["script"]] == ["Support Measure X?"]
    assert [o["label"] for o in body["script"][0]["options"]] == ["Yes", "No", "Undecided"]
    assert [c["code"] for c in body["result_codes"]] == ["not_home", "canvassed"]
    assert body["assignment"]["id"] == walk.assignment.pk

    first, second = body["doors"]
    assert [first["id"], second["id"]] == [d.pk for d in walk.doors]  # walk order
    assert [first["position"], second["position"]] == [0, 1]
    assert first["address"] == walk.doors[0].display_address
    assert first["building_key"] == walk.doors[0].building_key
    assert (first["lat"], first["lng"]) == (walk.doors[0].lat, walk.doors[0].lng)
    assert "unit" in first
    assert [(p["first_name"], p["last_name"]) for p in first["people"]] == [("Ana", "Lopez"), ("Ben", "Lopez")]
    # minimal PII: names only
    assert set(first["people"][0]) == {"id", "first_name", "last_name"}
    assert "310-555" not in response.content.decode() and "DEM" not in response.content.decode()
    assert first["last_result"]["result_code"] == "canvassed"
    assert first["last_result"]["at"].endswith(("-08:00", "-07:00"))
    assert second["people"] == [] and second["last_result"] is None  # the other campaign's knock does not count
    assert "secret_code" not in response.content.decode()


@pytest.mark.django_db
def test_walk_list_follows_the_walk_order_not_the_id_order(world):
    from canvass.models import TurfDoor

    TurfDoor.objects.filter(turf=world.turf).delete()
    for position, door in zip([5, 2], world.doors, strict=True):
        TurfDoor.objects.create(turf=world.turf, door=door, position=position)
    doors = client_for(world.canvasser).get(url(world.assignment)).json()["doors"]
    assert [d["id"] for d in doors] == [world.doors[1].pk, world.doors[0].pk]


@pytest.mark.django_db
def test_walk_list_queries_do_not_grow_with_doors(walk, django_assert_max_num_queries):
    client = client_for(walk.canvasser)
    # membership, assignment, the pull cursor, turf doors (+ latest knock), people, questions, options, codes,
    # audit insert
    with django_assert_max_num_queries(9) as small:
        assert len(client.get(url(walk.assignment)).json()["doors"]) == 2
    code = f.ResultCodeFactory(organization=walk.org, code="canvassed")
    for i in range(40):
        door = f.DoorFactory(organization=walk.org)
        f.TurfDoorFactory(turf=walk.turf, door=door, position=100 + i)
        f.PersonFactory(door=door)
        f.PersonFactory(door=door)
        knock(walk, door, code, minutes_ago=i)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(url(walk.assignment)).json()["doors"]) == 42


@pytest.mark.django_db
def test_reading_a_walk_list_is_audited_once_per_request(walk):
    client_for(walk.canvasser).get(url(walk.assignment))
    entry = AuditLogEntry.objects.get(action="walk_list.read")
    assert entry.actor == walk.canvasser and entry.organization == walk.org
    assert entry.object_id == str(walk.assignment.pk)
    assert entry.detail == {"turf_id": walk.turf.pk, "doors": 2}


@pytest.mark.django_db
def test_other_canvassers_and_the_outsider_get_404(walk):
    dana = f.UserFactory(username="dana")
    f.MembershipFactory(user=dana, organization=walk.org, role=Role.CANVASSER)
    for user in (dana, walk.outsider):
        response = client_for(user).get(url(walk.assignment))
        assert response.status_code == 404
        assert "Ana" not in response.content.decode()
    assert client_for(None).get(url(walk.assignment)).status_code == 401
    assert client_for(walk.canvasser).get("/api/v1/assignments/999999/walk-list/").status_code == 404
    assert not AuditLogEntry.objects.filter(action="walk_list.read").exists()


@pytest.mark.django_db
def test_organizer_and_team_lead_read_the_organizations_walk_lists(walk):
    lead = f.UserFactory(username="tess")
    f.MembershipFactory(user=lead, organization=walk.org, role=Role.TEAM_LEAD)
    for user in (walk.organizer, lead):
        assert client_for(user).get(url(walk.assignment)).status_code == 200
    assert AuditLogEntry.objects.filter(action="walk_list.read").count() == 2


@pytest.mark.django_db
def test_walk_list_with_a_device_token(walk):
    from rest_framework.test import APIClient

    login = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "carlos", "password": "pw-for-tests-1", "device_id": "phone"},
        format="json",
    )
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    assert phone.get("/api/v1/assignments/").json()["results"][0]["id"] == walk.assignment.pk
    assert phone.get(url(walk.assignment)).status_code == 200


@pytest.mark.django_db
def test_two_organizations_walk_lists_each_read_their_own_rows(walk):
    """The walk list's queries are compiled once per process and run again with each
    assignment's ids: a second organization's list, read after the first, has its own turf,
    doors, people, script and codes, and none of the first's."""
    first = client_for(walk.canvasser).get(url(walk.assignment)).json()
    campaign = f.CampaignFactory(organization=walk.other_org, slug="elsewhere")
    turf = f.TurfFactory(campaign=campaign, name="Turf E")
    door = f.DoorFactory(organization=walk.other_org)
    f.TurfDoorFactory(turf=turf, door=door, position=0)
    f.PersonFactory(door=door, first_name="Eva", last_name="Ruiz")
    question = f.SurveyQuestionFactory(campaign=campaign, text="Elsewhere?", position=0)
    f.SurveyOptionFactory(question=question, label="Sí", position=0)
    assignment = f.AssignmentFactory(turf=turf)
    eli = f.UserFactory(username="eli")
    f.MembershipFactory(user=eli, organization=walk.other_org, role=Role.CANVASSER)
    f.AssignmentCanvasserFactory(assignment=assignment, user=eli)
    second = client_for(eli).get(url(assignment)).json()
    assert [d["id"] for d in second["doors"]] == [door.pk]
    assert [p["first_name"] for p in second["doors"][0]["people"]] == ["Eva"]
    assert second["doors"][0]["last_result"] is None
    assert [(q["text"], [o["label"] for o in q["options"]]) for q in second["script"]] == [("Elsewhere?", ["Sí"])]
    assert [c["code"] for c in second["result_codes"]] == ["secret_code"]
    # And the first organization's list reads the same again.
    assert client_for(walk.canvasser).get(url(walk.assignment)).json()["doors"] == first["doors"]
