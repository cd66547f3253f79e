"""Shared pieces of the sync tests: a scripted campaign and push payloads."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from canvass.campaigns.services import result_codes_ensure_standard
from canvass.models import SurveyOption, SurveyQuestion
from tests import factories as f

PUSH = "/api/v1/sync/push/"
PULL = "/api/v1/sync/pull/"


@dataclass
class Script:
    question: SurveyQuestion
    yes: SurveyOption
    no: SurveyOption
    other_question: SurveyQuestion  # of another campaign of the same organization
    other_option: SurveyOption


@pytest.fixture(name="script")
def script_fixture(world) -> Script:
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


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def knock(world, *, at=None, when: dt.datetime | None = None, **overrides) -> dict:
    """One pushed knock at door `at` (default: the turf's first door) recorded `when`
    (default: 5 minutes ago); overrides replace fields."""
    door = at or world.doors[0]
    item = {
        "id": str(uuid.uuid4()),
        "door": door.pk,
        "assignment": world.assignment.pk,
        "person": None,
        "result": "not_home",
        "support_level": None,
        "answers": {},
        "notes": "",
        "recorded_at": iso(when or timezone.now() - dt.timedelta(minutes=5)),
        "lat": door.lat,
        "lng": door.lng,
        "accuracy_m": 8.0,
    }
    item.update(overrides)
    return item


def batch(*items: dict, sent_at: dt.datetime | None = None, device_id: str = "phone-1") -> dict:
    return {"device_id": device_id, "sent_at": iso(sent_at or timezone.now()), "attempts": list(items)}
