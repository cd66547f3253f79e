"""What the tests share, in one place: factory_boy factories for the whole data
model (a knock is a ContactAttemptFactory), clients logged in as a user, and the
builders of what a phone or an importer sends (push payloads, district squares,
the Los Angeles address file's header).

The fixtures built from these (the three standard users in `world`, the
located neighbourhood `hood`, the sync tests' `script`) are in the conftest.py
files: tests/conftest.py and tests/canvass/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from canvass.models import (
    Assignment,
    AssignmentCanvasser,
    Campaign,
    ContactAttempt,
    ResultCode,
    Shift,
    SurveyOption,
    SurveyQuestion,
    Turf,
    TurfDoor,
)
from fieldops.models import Membership, Organization, Role
from turf.models import District, DistrictLayer, Door, Person

M = TypeVar("M")


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """A factory whose call returns the model it makes (`DoorFactory()` is a Door)."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's metaclass makes the call return `create()`'s instance, and mypy reads
        # a call's result from __new__ alone.
        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]  # __new__ returning the model, not the factory, is the point


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-118.48, 33.98], [-118.44, 33.98], [-118.44, 34.01], [-118.48, 34.01], [-118.48, 33.98]]],
}


class OrganizationFactory(ModelFactory[Organization]):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: f"Chapter {o.slug}")
    timezone = "America/Los_Angeles"


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    # Hashed at build time and saved with the user, so session logins hold.
    password = factory.django.Password("pw-for-tests-1")


class MembershipFactory(ModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.CANVASSER


class DistrictLayerFactory(ModelFactory[DistrictLayer]):
    class Meta:
        model = DistrictLayer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Layer {n}")


class DistrictFactory(ModelFactory[District]):
    class Meta:
        model = District

    layer = factory.SubFactory(DistrictLayerFactory)
    organization = factory.SelfAttribute("layer.organization")
    external_id = factory.Sequence(lambda n: str(n))
    name = factory.LazyAttribute(lambda o: f"District {o.external_id}")
    geojson = SQUARE
    wkb = factory.LazyAttribute(
        lambda o: __import__("shapely").to_wkb(__import__("shapely.geometry").geometry.shape(o.geojson))
    )
    min_lng = -118.48
    min_lat = 33.98
    max_lng = -118.44
    max_lat = 34.01


class DoorFactory(ModelFactory[Door]):
    class Meta:
        model = Door

    organization = factory.SubFactory(OrganizationFactory)
    building_key = factory.Sequence(lambda n: f"b:{n}")
    number = factory.Sequence(lambda n: str(100 + n))
    street_name = "MAIN"
    street_type = "ST"
    zip = "90291"
    city = "LOS ANGELES"
    address_key = factory.LazyAttribute(lambda o: f"{o.number}|{o.street_name}|{o.street_type}|{o.zip}")
    lat = 33.99
    lng = -118.46
    source_id = factory.Sequence(lambda n: str(900000 + n))


class PersonFactory(ModelFactory[Person]):
    class Meta:
        model = Person

    door = factory.SubFactory(DoorFactory)
    organization = factory.SelfAttribute("door.organization")
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Voter"
    external_voter_id = factory.Sequence(lambda n: f"V{n:07d}")


class CampaignFactory(ModelFactory[Campaign]):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    goal_doors = 1000


class SurveyQuestionFactory(ModelFactory[SurveyQuestion]):
    class Meta:
        model = SurveyQuestion

    campaign = factory.SubFactory(CampaignFactory)
    text = "Will you vote for our candidate?"


class SurveyOptionFactory(ModelFactory[SurveyOption]):
    class Meta:
        model = SurveyOption

    question = factory.SubFactory(SurveyQuestionFactory)
    label = factory.Sequence(lambda n: f"Option {n}")


class ResultCodeFactory(ModelFactory[ResultCode]):
    class Meta:
        model = ResultCode
        django_get_or_create = ("organization", "code")

    organization = factory.SubFactory(OrganizationFactory)
    code = "canvassed"
    label = "Canvassed"
    is_contact = True


class TurfFactory(ModelFactory[Turf]):
    class Meta:
        model = Turf

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    name = factory.Sequence(lambda n: f"Turf {n}")


class TurfDoorFactory(ModelFactory[TurfDoor]):
    class Meta:
        model = TurfDoor

    turf = factory.SubFactory(TurfFactory)
    door = factory.SubFactory(DoorFactory, organization=factory.SelfAttribute("..turf.organization"))
    position = factory.Sequence(lambda n: n)


class ShiftFactory(ModelFactory[Shift]):
    class Meta:
        model = Shift

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Shift {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=3))
    capacity = 10


class AssignmentFactory(ModelFactory[Assignment]):
    class Meta:
        model = Assignment

    turf = factory.SubFactory(TurfFactory)
    campaign = factory.SelfAttribute("turf.campaign")
    organization = factory.SelfAttribute("turf.organization")
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))


class AssignmentCanvasserFactory(ModelFactory[AssignmentCanvasser]):
    class Meta:
        model = AssignmentCanvasser

    assignment = factory.SubFactory(AssignmentFactory)
    user = factory.SubFactory(UserFactory)


class ContactAttemptFactory(ModelFactory[ContactAttempt]):
    """A knock as the push stores it: made five minutes ago, received now, the
    phone's clock right (corrected_at = recorded_at). For a knock that goes
    through the push itself, send push_item() with a client instead."""

    class Meta:
        model = ContactAttempt

    id = factory.LazyFunction(uuid.uuid4)
    door = factory.SubFactory(DoorFactory)
    organization = factory.SelfAttribute("door.organization")
    campaign = factory.SubFactory(CampaignFactory, organization=factory.SelfAttribute("..organization"))
    canvasser = factory.SubFactory(UserFactory)
    result_code = factory.SubFactory(ResultCodeFactory, organization=factory.SelfAttribute("..organization"))
    recorded_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=5))
    received_at = factory.LazyFunction(timezone.now)
    corrected_at = factory.SelfAttribute("recorded_at")


def member(world, username: str, role: str = Role.CANVASSER) -> User:
    """A new user with this role in the world's chapter."""
    user = UserFactory(username=username)
    MembershipFactory(user=user, organization=world.org, role=role)
    return user


# --- clients ----------------------------------------------------------------------------


def client_for(user: User | None) -> APIClient:
    """An API client authenticated as `user` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def admin_client(user: User) -> Client:
    """A browser session of `user`, for the admin."""
    client = Client()
    # Log in the user as stored: UserFactory sets the password on the Python
    # object without saving it, and a session made from that object's password
    # hash is refused on the next request.
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


# --- a chapter in use -------------------------------------------------------------------


def populate(world) -> dict:
    """One row of every model for venice (and a few for elsewhere), linked as in real use."""
    from canvass.models import ShiftSignup, TurfCutJob
    from fieldops.models import AuditLogEntry
    from fieldops.services import device_token_create
    from turf.models import DoorDistrict

    layer = DistrictLayerFactory(organization=world.org, name="Council")
    district = DistrictFactory(layer=layer, name="CD11", external_id="11")
    for door in world.doors:
        DoorDistrict.objects.create(door=door, district=district)
    world.campaign.target_districts.add(district)
    person = PersonFactory(door=world.doors[0])
    question = SurveyQuestionFactory(campaign=world.campaign)
    option = SurveyOptionFactory(question=question)
    code = ResultCodeFactory(organization=world.org)
    shift = ShiftFactory(organization=world.org, campaign=world.campaign)
    ShiftSignup.objects.create(shift=shift, user=world.canvasser)
    attempt = ContactAttemptFactory(
        organization=world.org,
        campaign=world.campaign,
        door=world.doors[0],
        canvasser=world.canvasser,
        assignment=world.assignment,
        result_code=code,
        support_level=2,
        off_list=True,
        review="held",  # as the push stores a knock off the list: the review queue has a row
        held_reason="off_list",
    )
    entry = AuditLogEntry.objects.create(organization=world.org, actor=world.organizer, action="export")
    device_token_create(user=world.canvasser, device_id="carlos-phone")
    TurfCutJob.objects.create(organization=world.org, campaign=world.campaign, target_doors=60)
    other_layer = DistrictLayerFactory(organization=world.other_org, name="Elsewhere layer")
    other_district = DistrictFactory(layer=other_layer, name="Far district")
    other_campaign = CampaignFactory(organization=world.other_org, name="Secret elsewhere campaign")
    return {
        "layer": layer,
        "district": district,
        "person": person,
        "question": question,
        "option": option,
        "code": code,
        "shift": shift,
        "attempt": attempt,
        "entry": entry,
        "other_district": other_district,
        "other_campaign": other_campaign,
    }


# --- what a phone sends -----------------------------------------------------------------

PUSH = "/api/v1/sync/push/"
PULL = "/api/v1/sync/pull/"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def push_item(world, *, at=None, when: dt.datetime | None = None, **overrides) -> dict:
    """One pushed knock at door `at` (default: the world's first door) on the world's
    assignment, recorded `when` (default: 5 minutes ago); overrides replace fields."""
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


def push_items_of(attempts, *, assignment_id: int) -> list[dict]:
    """The push items a phone sends for these (unsaved) knocks, without a location."""
    return [
        {
            "id": str(a.id),
            "door": a.door_id,
            "assignment": assignment_id,
            "person": None,
            "result": a.result_code.code,
            "support_level": a.support_level,
            "answers": {str(q): str(o) for q, o in a.answers.items()},
            "notes": "",
            "recorded_at": iso(a.recorded_at),
            "lat": None,
            "lng": None,
            "accuracy_m": None,
        }
        for a in attempts
    ]


def pull_pages(client: APIClient, cursor: str | None = None) -> tuple[list[dict], str]:
    """Pull every waiting page from `cursor` (None: a snapshot) as a phone does: the pages and the last cursor."""
    pages = []
    while True:
        response = client.get(PULL, {"cursor": cursor} if cursor else {})
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append(page)
        cursor = page["cursor"]
        if not page["has_more"]:
            return pages, cursor


def push_batch(*items: dict, sent_at: dt.datetime | None = None, device_id: str = "phone-1") -> dict:
    """A push body; sent now by default (the phone's clock right)."""
    return {"device_id": device_id, "sent_at": iso(sent_at or timezone.now()), "attempts": list(items)}


# --- what an importer reads -------------------------------------------------------------

LA_HEADER = (
    "address_id,number,number_suffix,pre_dir,street_name,street_type,post_dir,unit_type,unit,"
    "zip,city,lon,lat,parcel_ain,building_id,block_group,source"
)


def rectangle(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A GeoJSON polygon from (x0, y0) south-west to (x1, y1) north-east (longitude, latitude)."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def square_polygon(min_lng: float, min_lat: float, size: float = 0.02) -> dict:
    """A GeoJSON square `size` degrees wide with its south-west corner at (min_lng, min_lat)."""
    return rectangle(min_lng, min_lat, min_lng + size, min_lat + size)
