"""The admin's interactive turf map: its page, its layers and its JSON operations (canvass/turfs/admin_map.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from canvass.models import Turf
from canvass.turfs import services as turf_services
from fieldops.models import AuditLogEntry
from tests import factories as f
from tests.factories import admin_client

# Around the west half of the hood's ALPHA and BRAVO streets (tests/canvass/conftest.py).
BOX: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [[-118.4755, 33.984], [-118.468, 33.984], [-118.468, 33.9895], [-118.4755, 33.9895], [-118.4755, 33.984]]
    ],
}


def url(hood, tail: str) -> str:
    return f"/admin/canvass/campaign/{hood.campaign.pk}/turf-map/{tail}"


def post(client, path, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json")


@pytest.mark.django_db
def test_the_map_page_has_no_inline_script_and_allows_the_tile_host_only_there(hood):
    client = admin_client(hood.organizer)
    with override_settings(FIELDOPS_MAP_TILES_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png"):
        page = client.get(url(hood, ""))
        other = client.get(f"/admin/canvass/campaign/{hood.campaign.pk}/draw-turf/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "leaflet/leaflet.js" in text and "canvass/turf_map.js" in text
    assert "<script>" not in text and "<script>\n" not in text
    assert 'data-tiles-url="https://{s}.tiles.example.org/{z}/{x}/{y}.png"' in text
    assert "https://*.tiles.example.org" in page["Content-Security-Policy"]
    assert "tiles.example.org" not in other["Content-Security-Policy"]
    with override_settings(FIELDOPS_MAP_TILES_URL="", FIELDOPS_MAP_TILES_ATTRIBUTION=""):
        page = client.get(url(hood, ""))
    assert 'data-tiles-url=""' in page.content.decode()
    assert (
        "img-src 'self' data:" in page["Content-Security-Policy"]
        and "example.org" not in page["Content-Security-Policy"]
    )


@pytest.mark.django_db
def test_layers_give_districts_turfs_by_completion_and_doors_knocked_or_not(hood, django_assert_max_num_queries):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    turf = Turf.objects.filter(campaign=hood.campaign, status="active").order_by("name")[0]
    door = turf.doors.all()[0]
    f.ContactAttemptFactory(campaign=hood.campaign, door=door, organization=hood.org)
    client = admin_client(hood.organizer)
    with django_assert_max_num_queries(15):
        layers = client.get(url(hood, "layers/")).json()
    assert {d["properties"]["name"] for d in layers["districts"]["features"]} == {"CD 1", "CD 2"}
    active = Turf.objects.filter(campaign=hood.campaign, status="active").count()
    assert len(layers["turfs"]["features"]) == active
    knocked = {row[0]: row[3] for row in layers["doors"]}
    assert knocked[door.pk] == 1 and sum(knocked.values()) == 1
    props = next(t["properties"] for t in layers["turfs"]["features"] if t["properties"]["id"] == turf.pk)
    assert props["knocked"] == 1 and props["completion"] == round(1 / turf.door_count, 3)


@pytest.mark.django_db
def test_count_the_doors_in_a_drawn_polygon(hood):
    client = admin_client(hood.organizer)
    response = post(client, url(hood, "count/"), {"polygon": BOX})
    assert response.status_code == 200
    counted = response.json()
    assert counted["doors"] > 0 and counted["free"] == counted["doors"] and counted["in_turfs"] == 0
    drawn = turf_services.turf_create_from_polygon(campaign=hood.campaign, geojson=BOX)
    again = post(client, url(hood, "count/"), {"polygon": BOX}).json()
    assert again == {"doors": counted["doors"], "free": 0, "in_turfs": counted["doors"]}
    # While reshaping a turf, its own doors count as free.
    reshaping = post(client, url(hood, "count/"), {"polygon": BOX, "turf": drawn.turf.pk}).json()
    assert reshaping["free"] == counted["doors"]


@pytest.mark.django_db
def test_count_is_refused_to_a_canvasser_an_outsider_and_the_anonymous(hood):
    body = {"polygon": BOX}
    assert post(admin_client(hood.outsider), url(hood, "count/"), body).status_code == 404
    canvasser = post(admin_client(hood.canvasser), url(hood, "count/"), body)
    assert canvasser.status_code in (302, 403) and b"doors" not in canvasser.content
    from django.test import Client

    anonymous = post(Client(), url(hood, "count/"), body)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert admin_client(hood.organizer).get(url(hood, "count/")).status_code == 405


@pytest.mark.django_db
def test_a_team_lead_may_count_but_not_draw(hood):
    lead = f.UserFactory(username="tina", is_staff=True)
    f.MembershipFactory(user=lead, organization=hood.org, role="team_lead")
    client = admin_client(lead)
    before = Turf.objects.filter(campaign=hood.campaign).count()
    assert post(client, url(hood, "count/"), {"polygon": BOX}).status_code == 200
    assert post(client, url(hood, "draw/"), {"polygon": BOX}).status_code == 403
    assert Turf.objects.filter(campaign=hood.campaign).count() == before


HOSTILE = [
    "not json",
    "[[[[[[[[[[" * 20_000,
    '"a string"',
    "[1, 2]",
    {},
    {"polygon": None},
    {"polygon": "POLYGON((0 0, 1 1, 1 0, 0 0))"},
    {"polygon": {"type": "Point", "coordinates": [0, 0]}},
    {"polygon": {"type": "Polygon", "coordinates": "x"}},
    {"polygon": {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], ["a", "b"]]]}},
    {"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}},
    {"polygon": {"type": "Polygon", "coordinates": []}},
    {"polygon": {"type": "Polygon", "coordinates": [[[500, 0], [501, 1], [502, 0], [500, 0]]]}},
    '{"polygon": {"type": "Polygon", "coordinates": [[[NaN, 0], [1, Infinity], [2, 0], [NaN, 0]]]}}',
    '{"polygon": {"type": "Polygon", "coordinates": [[[1e400, 0], [1, 1], [2, 0], [1e400, 0]]]}}',
    # A bow tie: it crosses itself, and is refused rather than guessed at.
    {
        "polygon": {
            "type": "Polygon",
            "coordinates": [
                [[-118.476, 33.984], [-118.468, 33.99], [-118.468, 33.984], [-118.476, 33.99], [-118.476, 33.984]]
            ],
        }
    },
    {"polygon": {"type": "Polygon", "coordinates": [[[0.0001 * i, (i % 2) * 0.0001] for i in range(21_000)]]}},
    {"polygon": BOX, "turf": "7a"},
    {"polygon": BOX, "turf": 2**70},
    {"polygon": BOX, "turf": [1]},
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_answer_400_with_a_message(hood, body):
    response = post(admin_client(hood.organizer), url(hood, "count/"), body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["detail"]


@pytest.mark.django_db
def test_draw_reshape_split_and_merge_through_the_map(hood):
    client = admin_client(hood.organizer)
    drawn = post(client, url(hood, "draw/"), {"polygon": BOX, "name": "Alpha west"})
    assert drawn.status_code == 201, drawn.content
    turf = Turf.objects.get(campaign=hood.campaign, name="Alpha west")
    assert turf.door_count == post(client, url(hood, "count/"), {"polygon": BOX, "turf": turf.pk}).json()["free"]
    # Reshape: a smaller box holds fewer doors; the old turf is archived.
    small = {"type": "Polygon", "coordinates": [[[min(x, -118.472), y] for x, y in BOX["coordinates"][0]]]}
    reshaped = post(client, url(hood, "reshape/"), {"turf": turf.pk, "polygon": small})
    assert reshaped.status_code == 201, reshaped.content
    turf.refresh_from_db()
    assert turf.status == "archived"
    new = Turf.objects.get(pk=reshaped.json()["turfs"][0]["id"])
    assert 0 < new.door_count < turf.door_count
    # Split along a north-south line through the middle.
    line = {"type": "LineString", "coordinates": [[-118.4744, 33.983], [-118.4744, 33.991]]}
    split = post(client, url(hood, "split/"), {"turf": new.pk, "line": line})
    assert split.status_code == 201, split.content
    parts = [Turf.objects.get(pk=t["id"]) for t in split.json()["turfs"]]
    assert len(parts) == 2 and sum(p.door_count for p in parts) == new.door_count
    west = [x for x in parts[0].doors.values_list("lng", flat=True) if x is not None]
    east = [x for x in parts[1].doors.values_list("lng", flat=True) if x is not None]
    assert max(west) < -118.4744 < min(east) or max(east) < -118.4744 < min(west)
    merged = post(client, url(hood, "merge/"), {"turfs": [p.pk for p in parts]})
    assert merged.status_code == 201, merged.content
    assert Turf.objects.get(pk=merged.json()["turfs"][0]["id"]).door_count == new.door_count
    actions = set(AuditLogEntry.objects.filter(organization=hood.org).values_list("action", flat=True))
    assert {"turf.draw", "turf.reshape", "turf.split", "turf.merge"} <= actions


@pytest.mark.django_db
def test_a_line_that_misses_the_turf_and_another_campaigns_turf_are_refused(hood):
    client = admin_client(hood.organizer)
    turf = turf_services.turf_create_from_polygon(campaign=hood.campaign, geojson=BOX).turf
    miss = {"type": "LineString", "coordinates": [[-118.40, 33.90], [-118.40, 33.91]]}
    response = post(client, url(hood, "split/"), {"turf": turf.pk, "line": miss})
    assert response.status_code == 400 and "cross" in response.json()["detail"]
    foreign = f.TurfFactory(campaign=f.CampaignFactory(organization=hood.other_org))
    response = post(client, url(hood, "merge/"), {"turfs": [turf.pk, foreign.pk]})
    assert response.status_code == 400
    for bad in (
        {"turf": turf.pk, "line": None},
        {"turf": turf.pk, "line": {"type": "LineString", "coordinates": [[1e400, 0], [0, 0]]}},
    ):
        assert post(client, url(hood, "split/"), bad).status_code == 400
    turf.refresh_from_db()
    assert turf.status == "active"
