"""factory_boy factories for the whole data model."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from canvass.models import (
    Assignment,
    AssignmentCanvasser,
    Campaign,
    ResultCode,
    Shift,
    SurveyOption,
    SurveyQuestion,
    Turf,
    TurfDoor,
)
from fieldops.models import Membership, Organization, Role
from turf.models import District, DistrictLayer, Door, Person

User = get_user_model()

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-118.48, 33.98], [-118.44, 33.98], [-118.44, 34.01], [-118.48, 34.01], [-118.48, 33.98]]],
}


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: f"Chapter {o.slug}")
    timezone = "America/Los_Angeles"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    # Hashed at build time and saved with the user, so session logins hold.
    password = factory.django.Password("pw-for-tests-1")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.CANVASSER


class DistrictLayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DistrictLayer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Layer {n}")


class DistrictFactory(factory.django.DjangoModelFactory):
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


class DoorFactory(factory.django.DjangoModelFactory):
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


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    door = factory.SubFactory(DoorFactory)
    organization = factory.SelfAttribute("door.organization")
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Voter"
    external_voter_id = factory.Sequence(lambda n: f"V{n:07d}")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    goal_doors = 1000


class SurveyQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyQuestion

    campaign = factory.SubFactory(CampaignFactory)
    text = "Will you vote for our candidate?"


class SurveyOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyOption

    question = factory.SubFactory(SurveyQuestionFactory)
    label = factory.Sequence(lambda n: f"Option {n}")


class ResultCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResultCode
        django_get_or_create = ("organization", "code")

    organization = factory.SubFactory(OrganizationFactory)
    code = "canvassed"
    label = "Canvassed"
    is_contact = True


class TurfFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Turf

    campaign = factory.SubFactory(CampaignFactory)
    organization = factory.SelfAttribute("campaign.organization")
    name = factory.Sequence(lambda n: f"Turf {n}")


class TurfDoorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TurfDoor

    turf = factory.SubFactory(TurfFactory)
    door = factory.SubFactory(DoorFactory, organization=factory.SelfAttribute("..turf.organization"))
    position = factory.Sequence(lambda n: n)


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Shift {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=3))
    capacity = 10


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    turf = factory.SubFactory(TurfFactory)
    campaign = factory.SelfAttribute("turf.campaign")
    organization = factory.SelfAttribute("turf.organization")
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))


class AssignmentCanvasserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentCanvasser

    assignment = factory.SubFactory(AssignmentFactory)
    user = factory.SubFactory(UserFactory)
