"""The organizer's stats API: numbers, scoping, bad parameters, query counts."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db.models import Count

from canvass.models import ContactAttempt
from canvass.stats import services as stats_services
from fieldops.models import Role
from tests import factories as f
from tests.canvass.stats_world import setup_script, simulated_day
from tests.factories import client_for
from turf.models import DoorDistrict

DAY = dt.date(2026, 11, 20)


@pytest.fixture
def stats_world(hood):
    world = setup_script(hood)
    ContactAttempt.objects.bulk_create(simulated_day(world, day=DAY))
    ContactAttempt.objects.bulk_create(simulated_day(world, day=DAY + dt.timedelta(days=1), n=80, seed=2))
    with mock.patch("django_q.tasks.async_task"):
        stats_services.stats_aggregate(sweep=True)
    return world


def url(world, view, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/stats/campaigns/{world.campaign.pk}/{view}/" + (f"?{query}" if query else "")


def test_districts_equal_a_direct_count_for_every_layer(stats_world, django_assert_max_num_queries):
    client = client_for(stats_world.organizer)
    for layer in (stats_world.layer, stats_world.layer2):
        with django_assert_max_num_queries(8):
            response = client.get(url(stats_world, "districts", layer=layer.pk))
        assert response.status_code == 200, response.content
        got = {row["district"]: row for row in response.json()["results"]}
        direct = (
            ContactAttempt.objects.filter(campaign=stats_world.campaign, door__district_links__district__layer=layer)
            .values("door__district_links__district")
            .annotate(attempts=Count("id"), doors=Count("door", distinct=True))
        )
        assert direct
        for row in direct:
            entry = got[row["door__district_links__district"]]
            assert (entry["attempts"], entry["doors_knocked"]) == (row["attempts"], row["doors"])
            assert entry["layer"] == layer.pk
    nc = next(r for r in client.get(url(stats_world, "districts")).json()["results"] if r["name"] == "Venice NC")
    assert nc["doors_in_universe"] == len(stats_world.hood_doors)
    assert nc["answers"] and 0 < nc["contact_rate"] < 1


def test_date_range_and_days(stats_world):
    client = client_for(stats_world.organizer)
    days = client.get(url(stats_world, "days")).json()["results"]
    assert [d["day"] for d in days] == [str(DAY), str(DAY + dt.timedelta(days=1))]
    assert [d["attempts"] for d in days] == [240, 80]
    only_second = client.get(url(stats_world, "districts", date_from=DAY + dt.timedelta(days=1))).json()["results"]
    assert sum(r["attempts"] for r in only_second if r["layer"] == stats_world.layer.pk) == 80
    empty = client.get(url(stats_world, "days", date_from="2030-01-01", date_to="2030-01-02")).json()["results"]
    assert empty == []


def test_turfs_and_canvassers(stats_world, django_assert_max_num_queries):
    client = client_for(stats_world.organizer)
    with django_assert_max_num_queries(8):
        turfs = client.get(url(stats_world, "turfs")).json()["results"]
    assert {t["name"] for t in turfs} == {"Turf B", "Turf C"}
    for turf in turfs:
        knocked = (
            ContactAttempt.objects.filter(campaign=stats_world.campaign, door__turf_doors__turf_id=turf["turf"])
            .values("door")
            .distinct()
            .count()
        )
        assert turf["doors_knocked"] == knocked
        assert turf["completion"] == round(knocked / turf["door_count"], 4)
        assert "_updated_at" not in turf
    # Hours from check-in to check-out.
    shift = f.ShiftFactory(organization=stats_world.org, campaign=stats_world.campaign)
    f_signup = shift.signups.create(
        user=stats_world.canvasser,
        checked_in_at=dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC),
        checked_out_at=dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.UTC),
    )
    assert f_signup.pk
    with django_assert_max_num_queries(8):
        people = client.get(url(stats_world, "canvassers")).json()["results"]
    by_name = {p["username"]: p for p in people}
    assert by_name["carlos"]["hours"] == 3.5 and by_name["cora"]["hours"] == 0.0
    assert by_name["carlos"]["attempts"] + by_name["cora"]["attempts"] == 320


@pytest.mark.parametrize("view", ["districts", "days", "turfs", "canvassers"])
def test_who_may_read(stats_world, view):
    assert client_for(stats_world.canvasser).get(url(stats_world, view)).status_code == 403
    assert client_for(stats_world.outsider).get(url(stats_world, view)).status_code == 404
    assert client_for(None).get(url(stats_world, view)).status_code in (401, 403)
    missing = f"/api/v1/stats/campaigns/999999/{view}/"
    assert client_for(stats_world.organizer).get(missing).status_code == 404
    lead = f.UserFactory(username="tessa", is_staff=True)
    f.MembershipFactory(user=lead, organization=stats_world.org, role=Role.TEAM_LEAD)
    assert client_for(lead).get(url(stats_world, view)).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-13-01"}, "date_to"),
        ({"date_from": "2026-11-20", "date_to": "2026-11-01"}, "date_to"),
        ({"date_from": "2000-01-01", "date_to": "2026-11-01"}, "date_to"),
        ({"layer": "council"}, "layer"),
        ({"layer": "0"}, "layer"),
    ],
)
def test_bad_parameters_name_the_field(stats_world, params, field):
    response = client_for(stats_world.organizer).get(url(stats_world, "districts", **params))
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_foreign_layer_is_refused(stats_world):
    foreign = f.DistrictLayerFactory(organization=stats_world.other_org)
    response = client_for(stats_world.organizer).get(url(stats_world, "districts", layer=foreign.pk))
    assert response.status_code == 400 and "layer" in response.json()["errors"]


def test_query_count_does_not_grow_with_the_data(stats_world, django_assert_num_queries):
    client = client_for(stats_world.organizer)
    for view in ("districts", "days", "turfs", "canvassers"):  # membership and universe then cached
        client.get(url(stats_world, view))
    counts = {}
    for view in ("districts", "days", "turfs", "canvassers"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as before:
            client.get(url(stats_world, view))
        counts[view] = len(before)
    more = simulated_day(stats_world, day=DAY + dt.timedelta(days=2), n=100, seed=3)
    for attempt in more[:50]:
        attempt.canvasser = f.UserFactory()
    ContactAttempt.objects.bulk_create(more)
    f.TurfFactory(campaign=stats_world.campaign, name="Turf D")
    layer = f.DistrictLayerFactory(organization=stats_world.org, name="Extra")
    extra = f.DistrictFactory(organization=stats_world.org, layer=layer)
    DoorDistrict.objects.bulk_create([DoorDistrict(door=d, district=extra) for d in stats_world.hood_doors])
    with mock.patch("django_q.tasks.async_task"):
        stats_services.stats_rebuild(campaign=stats_world.campaign)
    for view, n in counts.items():
        with django_assert_num_queries(n):
            assert client.get(url(stats_world, view)).status_code == 200
