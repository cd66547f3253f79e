"""No silent staleness: what changes the tables a stats bucket joins queues its
recompute, after its commit, and once the queued work runs the numbers are
right again (the same as counting the knocks from scratch).

- new turfs (a re-cut, a drawn turf, a split, a merge): their turf rows;
- doors re-districted (a door moved by hand, districts re-imported): the
  district rows;
- a turf renamed: nothing to redo (nothing queued).
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import shapely
from shapely.geometry import box, mapping

from canvass.campaigns.models import ResultCode
from canvass.campaigns.services import result_codes_ensure_standard
from canvass.stats import services as stats_services
from canvass.stats.models import StatsDirtyDay
from canvass.sync.models import ContactAttempt
from canvass.turfs import services as turf_services
from canvass.turfs.models import Turf
from tests.canvass.stats_world import oracle, stored
from turf import services as door_services
from turf.districting import door_districts_assign
from turf.models import District

LA = dt.timezone(dt.timedelta(hours=-8))
DAYS = [dt.datetime(2026, 11, 20, 11, tzinfo=LA), dt.datetime(2026, 11, 21, 23, 30, tzinfo=LA)]


def knock(world, door, at: dt.datetime, code: str = "canvassed") -> ContactAttempt:
    """A stored knock at `door` made `at` by the world's canvasser."""
    result_codes_ensure_standard(organization=world.org)
    return ContactAttempt.objects.create(
        organization=world.org,
        campaign=world.campaign,
        door=door,
        canvasser=world.canvasser,
        result_code=ResultCode.objects.get(organization=world.org, code=code),
        recorded_at=at,
        corrected_at=at,
        received_at=at,
    )


@pytest.fixture
def knocked(hood):
    """The neighbourhood with knocks on two days at every third door, the stats up to date."""
    for i, door in enumerate(hood.hood_doors[::3]):
        knock(hood, door, DAYS[i % 2] + dt.timedelta(minutes=i), code="canvassed" if i % 4 else "not_home")
    stats_services.stats_rebuild(campaign=hood.campaign)
    assert stored(hood.campaign) == oracle(hood.campaign)
    return hood


def run_queued(captured) -> None:
    """What the worker does with the queued task: recompute the marked buckets."""
    assert captured, "nothing was queued after the commit"
    stats_services.stats_process_dirty()


@pytest.fixture
def no_broker():
    with mock.patch("django_q.tasks.async_task") as queued:
        yield queued


@pytest.mark.django_db
def test_a_recut_queues_the_new_turfs_stats(knocked, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as captured:
        summary = turf_services.turfs_cut(campaign=knocked.campaign, target_doors=30, replace=True)
    assert summary.turfs
    assert stored(knocked.campaign) != oracle(knocked.campaign), "the new turfs have knocks: stale until the task"
    assert no_broker.called
    run_queued(captured)
    assert stored(knocked.campaign) == oracle(knocked.campaign)


@pytest.mark.django_db
def test_a_split_a_merge_and_a_drawn_turf_queue_their_stats(knocked, no_broker, django_capture_on_commit_callbacks):
    turf_services.turfs_cut(campaign=knocked.campaign, target_doors=40)
    stats_services.stats_rebuild(campaign=knocked.campaign)
    first, second = Turf.objects.filter(campaign=knocked.campaign, status=Turf.Status.ACTIVE).order_by("pk")[:2]
    with django_capture_on_commit_callbacks(execute=True) as captured:
        parts = turf_services.turf_split(turf=first, parts=2)
    run_queued(captured)
    assert stored(knocked.campaign) == oracle(knocked.campaign)

    with django_capture_on_commit_callbacks(execute=True) as captured:
        turf_services.turfs_merge(turfs=[parts[0], second])
    run_queued(captured)
    assert stored(knocked.campaign) == oracle(knocked.campaign)

    # A drawn turf takes the free doors: archive one turf to free its doors first.
    loose = Turf.objects.filter(campaign=knocked.campaign, status=Turf.Status.ACTIVE).order_by("pk").last()
    assert loose is not None
    turf_services.turf_archive(turf=loose)
    with django_capture_on_commit_callbacks(execute=True) as captured:
        turf_services.turf_create_from_polygon(
            campaign=knocked.campaign, geojson=mapping(box(-118.48, 33.98, -118.44, 34.01)), name="Everything"
        )
    run_queued(captured)
    assert stored(knocked.campaign) == oracle(knocked.campaign)


@pytest.mark.django_db
def test_a_door_moved_by_hand_queues_its_district_stats(knocked, no_broker, django_capture_on_commit_callbacks):
    door = knocked.hood_doors[0]  # knocked, in the west district
    assert ContactAttempt.objects.filter(door=door).exists()
    with django_capture_on_commit_callbacks(execute=True) as captured:
        door_services.door_update(door=door, actor=knocked.organizer, lat=33.995, lng=-118.445)  # to the east
    assert stored(knocked.campaign) != oracle(knocked.campaign)
    run_queued(captured)
    assert stored(knocked.campaign) == oracle(knocked.campaign)


@pytest.mark.django_db
def test_districts_redrawn_queue_every_knocked_day(knocked, no_broker, django_capture_on_commit_callbacks):
    west = District.objects.get(organization=knocked.org, external_id="1")
    layer = west.layer
    # The west district grows over the east half: re-districting every door of the layer.
    grown = box(-118.48, 33.98, -118.45, 34.01)
    District.objects.filter(pk=west.pk).update(geojson=mapping(grown), wkb=shapely.to_wkb(grown), max_lng=-118.45)
    with django_capture_on_commit_callbacks(execute=True) as captured:
        door_districts_assign(organization=knocked.org, layer=layer)
    assert stored(knocked.campaign) != oracle(knocked.campaign)
    run_queued(captured)
    assert stored(knocked.campaign) == oracle(knocked.campaign)


@pytest.mark.django_db
def test_a_turf_renamed_queues_nothing(knocked, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        turf_services.turf_update(turf=knocked.turf, actor=knocked.organizer, name="Turf A (north)")
    assert not StatsDirtyDay.objects.exists() and not no_broker.called
    assert stored(knocked.campaign) == oracle(knocked.campaign)


@pytest.mark.django_db
def test_new_turfs_without_knocks_queue_no_task(hood, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    assert not StatsDirtyDay.objects.exists() and not no_broker.called
