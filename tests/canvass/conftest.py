"""Fixtures of the canvass tests.

script: the world with the standard result codes in both chapters, a
yes/no question on the campaign, a question of another campaign of venice,
and the world's two doors 20 m apart (a short walk): what the sync tests push.

no_broker: django-q2's async_task replaced by a mock: what was queued, and no broker.

hood: the world plus a small located neighbourhood in two council districts
side by side (west and east half of the test square): five east-west streets
with 24 houses each on both sides, and one apartment building of 12 units;
132 doors, all in the campaign's universe.
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

import pytest
import shapely
from shapely.geometry import box, mapping

from canvass.campaigns.services import result_codes_ensure_standard
from canvass.models import SurveyOption, SurveyQuestion, Turf
from tests import factories as f
from turf.models import Door, DoorDistrict


@dataclass
class Script:
    question: SurveyQuestion
    yes: SurveyOption
    no: SurveyOption
    other_question: SurveyQuestion  # of another campaign of the same organization
    other_option: SurveyOption


@pytest.fixture
def script(world) -> Script:
    result_codes_ensure_standard(organization=world.org)
    result_codes_ensure_standard(organization=world.other_org)
    question = f.SurveyQuestionFactory(campaign=world.campaign)
    yes = f.SurveyOptionFactory(question=question, label="Yes")
    no = f.SurveyOptionFactory(question=question, label="No")
    other_campaign = f.CampaignFactory(organization=world.org)
    other_question = f.SurveyQuestionFactory(campaign=other_campaign)
    other_option = f.SurveyOptionFactory(question=other_question)
    # Two doors 20 m apart: a short walk.
    world.doors[0].lat, world.doors[0].lng = 33.99000, -118.46000
    world.doors[1].lat, world.doors[1].lng = 33.99018, -118.46000
    for door in world.doors:
        door.save(update_fields=["lat", "lng"])
    return Script(question, yes, no, other_question, other_option)


@pytest.fixture
def no_broker():
    with mock.patch("django_q.tasks.async_task") as queued:
        yield queued


WEST = box(-118.48, 33.98, -118.46, 34.01)
EAST = box(-118.46, 33.98, -118.44, 34.01)


def _district(layer, external_id, geom):
    return f.DistrictFactory(
        organization=layer.organization,
        layer=layer,
        external_id=external_id,
        name=f"CD {external_id}",
        geojson=mapping(geom),
        wkb=shapely.to_wkb(geom),
        min_lng=geom.bounds[0],
        min_lat=geom.bounds[1],
        max_lng=geom.bounds[2],
        max_lat=geom.bounds[3],
    )


@pytest.fixture
def hood(world):
    """World plus 132 located doors in two districts, linked to them; the campaign targets both."""
    org = world.org
    layer = f.DistrictLayerFactory(organization=org, name="Council")
    west, east = _district(layer, "1", WEST), _district(layer, "2", EAST)
    world.campaign.target_districts.set([west, east])
    doors = []
    streets = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"]
    for s, street in enumerate(streets):
        lat = 33.985 + s * 0.004
        for i in range(24):
            number = 100 + i * 4 + (i % 2)  # odd and even sides, 12 doors a hundred-block side
            lng = -118.475 + i * 0.0012
            doors.append(
                Door(
                    organization=org,
                    address_key=f"{number}|{street}",
                    building_key=f"b:{street}-{number}",
                    number=str(number),
                    street_name=street,
                    street_type="ST",
                    lat=lat + (0.0002 if number % 2 else -0.0002),
                    lng=lng,
                    source_id=f"src-{street}-{number}",
                )
            )
    for unit in range(1, 13):
        doors.append(
            Door(
                organization=org,
                address_key=f"500|FOXTROT|{unit}",
                building_key="b:apartments",
                number="500",
                street_name="FOXTROT",
                street_type="AVE",
                unit=str(unit),
                lat=34.005,
                lng=-118.455,
            )
        )
    Door.objects.bulk_create(doors)
    doors = list(Door.objects.filter(organization=org, street_name__in=[*streets, "FOXTROT"]))
    links = [DoorDistrict(door=d, district=west if d.lng is not None and d.lng < -118.46 else east) for d in doors]
    DoorDistrict.objects.bulk_create(links)
    world.layer, world.west, world.east, world.hood_doors = layer, west, east, doors
    # The world's Turf A holds two unlocated factory doors outside the universe; archive it so
    # the universe is all free, and end its assignment (tests that need it make their own).
    Turf.objects.filter(pk=world.turf.pk).update(status=Turf.Status.ARCHIVED)
    world.assignment.ended_at = world.assignment.starts_at
    world.assignment.save(update_fields=["ended_at"])
    return world
