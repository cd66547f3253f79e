"""The access checks (fieldops/access.py, turf/access.py, canvass/access.py): one rule per object type.

- the operator (an active superuser) sees every organization's rows, in the API as in the admin;
- staff see their organization's rows; a canvasser their organization's campaigns and shifts,
  and only the assignments, turfs, doors and people of their own current assignments;
- the outsider sees nothing of venice; a lookup answers 404 alike for missing, foreign and malformed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from canvass import access
from canvass.models import Assignment, Shift
from fieldops.access import (
    SERVER,
    has_role,
    is_operator,
    organization_for_user,
    organizations_for_user,
    parse_id,
    scope_to_organization,
)
from tests import factories as f
from turf.access import district_for_user, districts_for_user, layer_for_user, layers_for_user
from turf.models import Door, Person

HUGE = 2**70


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")


@pytest.fixture
def both(world):
    """One of every type in venice and in elsewhere, and a door and a person of venice on no turf of carlos."""
    venice: dict[str, Any] = {}
    elsewhere: dict[str, Any] = {}
    for org, into in ((world.org, venice), (world.other_org, elsewhere)):
        layer = f.DistrictLayerFactory(organization=org)
        into["layer"] = layer
        into["district"] = f.DistrictFactory(layer=layer, organization=org)
        campaign = world.campaign if org == world.org else f.CampaignFactory(organization=org)
        into["campaign"] = campaign
        into["turf"] = world.turf if org == world.org else f.TurfFactory(campaign=campaign)
        into["assignment"] = world.assignment if org == world.org else f.AssignmentFactory(turf=into["turf"])
        into["shift"] = f.ShiftFactory(organization=org, campaign=campaign)
        into["door"] = world.doors[0] if org == world.org else world.other_door
        into["person"] = f.PersonFactory(organization=org, door=into["door"])
    venice["far_door"] = f.DoorFactory(organization=world.org)
    venice["far_person"] = f.PersonFactory(organization=world.org, door=venice["far_door"])
    return venice, elsewhere


SCOPERS: dict[str, tuple[Callable[..., QuerySet[Any]], Callable[..., Any]]] = {
    "organization": (organizations_for_user, organization_for_user),
    "layer": (layers_for_user, layer_for_user),
    "district": (districts_for_user, district_for_user),
    "campaign": (access.campaigns_for_user, access.campaign_for_user),
    "turf": (access.turfs_for_user, access.turf_for_user),
    "assignment": (access.assignments_for_user, access.assignment_for_user),
    "shift": (access.shifts_for_user, access.shift_for_user),
    "door": (access.doors_for_user, access.door_for_user),
    "person": (access.people_for_user, access.person_for_user),
}


def _obj(side: dict, kind: str, world, org):
    return org if kind == "organization" else side[kind]


def _sees(user, kind: str, obj) -> bool:
    scoper, lookup = SCOPERS[kind]
    in_scope = scoper(user).filter(pk=obj.pk).exists()
    try:
        found = lookup(user, obj.pk) == obj
    except Http404:
        found = False
    assert in_scope == found, f"the scoper and the lookup of {kind} disagree"
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(SCOPERS))
def test_each_type_one_rule_for_the_three_users_and_the_operator(world, both, root, kind):
    venice, elsewhere = both
    mine = _obj(venice, kind, world, world.org)
    theirs = _obj(elsewhere, kind, world, world.other_org)
    # The organizer: all of venice, nothing of elsewhere; the outsider: the reverse.
    assert _sees(world.organizer, kind, mine) and not _sees(world.organizer, kind, theirs)
    assert _sees(world.outsider, kind, theirs) and not _sees(world.outsider, kind, mine)
    # The operator: everything, with or without a membership.
    assert _sees(root, kind, mine) and _sees(root, kind, theirs)
    f.MembershipFactory(user=root, organization=world.org, role="canvasser")
    root = get_user_model().objects.get(pk=root.pk)
    assert _sees(root, kind, mine) and _sees(root, kind, theirs)
    # Nobody: nothing.
    assert not _sees(None, kind, mine)
    # The canvasser: nothing of elsewhere; of venice, only what his assignment gives him.
    assert not _sees(world.canvasser, kind, theirs)
    assert _sees(world.canvasser, kind, mine)
    if kind in ("door", "person"):
        assert not _sees(world.canvasser, kind, venice[f"far_{kind}"])


@pytest.mark.django_db
def test_a_canvasser_sees_the_doors_and_people_of_his_current_assignments_only(world, both):
    venice, _ = both
    assert set(access.doors_for_user(world.canvasser)) == set(world.doors)
    assert set(access.people_for_user(world.canvasser)) == {venice["person"]}
    assert list(access.turfs_for_user(world.canvasser)) == [world.turf]
    Assignment.objects.filter(pk=world.assignment.pk).update(ended_at=timezone.now() - dt.timedelta(minutes=1))
    for scoper in (access.doors_for_user, access.people_for_user, access.turfs_for_user, access.assignments_for_user):
        assert not scoper(world.canvasser).exists()
    # Staff keep seeing the ended assignment.
    assert access.assignments_for_user(world.organizer).filter(pk=world.assignment.pk).exists()


@pytest.mark.django_db
def test_roles_the_operator_acts_as_an_admin_everywhere(world, root):
    from fieldops.access import MANAGER_ROLES, STAFF_ROLES

    assert is_operator(root) and has_role(root, MANAGER_ROLES)
    assert has_role(world.organizer, MANAGER_ROLES) and not has_role(world.canvasser, STAFF_ROLES)
    root.is_active = False
    assert not is_operator(root) and not has_role(root, STAFF_ROLES)


@pytest.mark.django_db
def test_commands_act_as_the_server(world, both):
    _, elsewhere = both
    assert set(access.campaigns_for_user(SERVER)) >= {world.campaign, elsewhere["campaign"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("42", 42), (2**63 - 1, 2**63 - 1), (2**63, None), (HUGE, None), (str(HUGE), None), (0, None)]
    + [(-1, None), ("-1", None), ("7a", None), ("²", None), (True, None), (None, None), (1.0, None), ([1], None)],
)
def test_parse_id(value, expected):
    assert parse_id(value) == expected


@pytest.mark.django_db
def test_a_lookup_with_an_id_beyond_64_bits_is_a_404_without_a_query(world, django_assert_num_queries):
    world.organizer._fieldops_membership = None  # no membership query either: a cache hit
    for lookup in (access.campaign_for_user, access.shift_for_user, access.door_for_user, organization_for_user):
        with django_assert_num_queries(0), pytest.raises(Http404):
            lookup(world.organizer, HUGE)


@pytest.mark.django_db
def test_scope_to_organization_follows_the_same_rule(world, root):
    doors = Door.objects.all()
    assert set(scope_to_organization(doors, root)) == set(Door.objects.all())
    assert world.other_door not in scope_to_organization(doors, world.organizer)
    assert not scope_to_organization(Person.objects.all(), None).exists()


# --- Through the API -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_operator_reads_every_organization_through_the_api(world, both, root):
    _, elsewhere = both
    client = f.client_for(root)
    campaigns = {c["id"] for c in client.get("/api/v1/campaigns/").json()["results"]}
    assert {world.campaign.pk, elsewhere["campaign"].pk} <= campaigns
    for campaign in (world.campaign, elsewhere["campaign"]):
        assert client.get(f"/api/v1/stats/campaigns/{campaign.pk}/days/").status_code == 200
    walk = client.get(f"/api/v1/assignments/{elsewhere['assignment'].pk}/walk-list/")
    assert walk.status_code == 200
    # Knocks and pulls are a member's own work: the operator without a membership has none.
    assert client.get("/api/v1/sync/pull/").status_code == 403


@pytest.mark.django_db
def test_the_operator_schedules_a_shift_in_the_campaigns_organization(world, both, root):
    _, elsewhere = both
    client = f.client_for(root)
    start = timezone.now() + dt.timedelta(days=1)
    body = {"name": "Sat", "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=3)).isoformat()}
    refused = client.post("/api/v1/shifts/", body, format="json")
    assert refused.status_code == 400 and "campaign" in refused.json()["errors"]
    made = client.post("/api/v1/shifts/", {**body, "campaign": elsewhere["campaign"].pk}, format="json")
    assert made.status_code == 201
    assert Shift.objects.get(pk=made.json()["id"]).organization == world.other_org


@pytest.mark.django_db
def test_an_organizer_cannot_name_another_chapters_campaign_for_a_shift(world, both):
    _, elsewhere = both
    start = timezone.now() + dt.timedelta(days=1)
    body = {
        "name": "Sat",
        "campaign": elsewhere["campaign"].pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=3)).isoformat(),
    }
    response = f.client_for(world.organizer).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 400 and "campaign" in response.json()["errors"]
