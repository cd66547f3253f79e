"""Aggregation: a simulated day pushed through the API gives the oracle's numbers;
late syncs, re-runs, rebuilds, a worker dying mid-task, one task queued for many
pushes, and the sweep that marks what the pushes stored.

The knocks arrive as in production: POST /api/v1/sync/push/, which queues one
aggregation task that sweeps (stats_enqueue_after_push) and marks nothing
itself; the worker runs stats_aggregate(sweep=True), as the queued task and the
every-minute schedule both do."""

from __future__ import annotations

import datetime as dt
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from canvass.models import ContactAttempt, StatsDay, StatsDirtyDay, StatsDoor, StatsKind, StatsQueue
from canvass.stats import queue as stats_queue
from canvass.stats import services as stats_services
from tests import factories as f
from tests.canvass import stats_world
from tests.canvass.stats_world import LA, knock, oracle, setup_script, simulated_day, stored

DAY = dt.date(2026, 11, 20)


@pytest.fixture
def day_world(hood):
    return setup_script(hood)


@pytest.fixture
def push(django_capture_on_commit_callbacks):
    """The phones push (POST /api/v1/sync/push/); what they queue after commit is run."""

    def push(world, attempts):
        with django_capture_on_commit_callbacks(execute=True):
            stats_world.push(world, attempts)

    return push


def aggregate() -> stats_services.AggregateResult:
    """What a worker runs for the task a push queued (and the schedule, every minute)."""
    return stats_services.stats_aggregate(sweep=True)


def test_simulated_day_matches_the_oracle(day_world, no_broker, push):
    attempts = simulated_day(day_world, day=DAY)
    for start in range(0, len(attempts), 40):  # six pushes
        push(day_world, attempts[start : start + 40])
    assert no_broker.call_count == 1  # six pushes, one task
    assert no_broker.call_args.args == ("canvass.stats.tasks.stats_aggregate",)
    assert no_broker.call_args.kwargs["sweep"] is True
    assert not StatsDirtyDay.objects.exists()  # the push marks nothing: the task's sweep does
    assert stats_queue.stats_sweep() == 1
    # The knocks after 16:00 local are the next day in UTC, but the same local day: one bucket.
    assert set(StatsDirtyDay.objects.values_list("day", flat=True)) == {DAY}
    assert stats_services.stats_process_dirty() == 1
    expected = oracle(day_world.campaign)
    assert stored(day_world.campaign) == expected
    kinds = {key[0] for key in expected}
    assert kinds == {"campaign", "district", "turf", "canvasser"}
    # Both layers: a knock counts in its council district and in the neighborhood council.
    campaign_row = expected[("campaign", day_world.campaign.pk, DAY)]
    assert expected[("district", day_world.hood_nc.pk, DAY)]["attempts"] == campaign_row["attempts"] == 240
    council = sum(expected[("district", d.pk, DAY)]["attempts"] for d in (day_world.west, day_world.east))
    assert council == 240
    assert campaign_row["new_doors"] == campaign_row["doors_knocked"] == StatsDoor.objects.count()
    assert campaign_row["answers"] and campaign_row["literature_drops"] > 0


def test_late_sync_lands_on_its_day_and_moves_the_first_knock(day_world, no_broker, push):
    door = day_world.hood_doors[0]
    today = dt.datetime.combine(DAY, dt.time(11), tzinfo=LA)
    empty = f.client_for(day_world.canvasser).post(f.PUSH, f.push_batch(), format="json")
    assert empty.status_code == 200 and no_broker.call_count == 0  # nothing stored, nothing queued
    first = knock(day_world, door=door, at=today)
    push(day_world, [first])
    assert aggregate().processed == 1
    assert StatsDay.objects.get(kind="campaign", day=DAY).new_doors == 1
    # An hour later a phone syncs two days late a knock made at 23:30 local three days
    # before: 07:30 UTC the next day, received now.
    ContactAttempt.objects.update(received_at=F("received_at") - dt.timedelta(hours=1))
    late_at = dt.datetime.combine(DAY - dt.timedelta(days=3), dt.time(23, 30), tzinfo=LA)
    push(day_world, [knock(day_world, door=door, code="not_home", at=late_at)])
    assert stats_queue.stats_sweep() == 1
    assert list(StatsDirtyDay.objects.values_list("day", flat=True)) == [DAY - dt.timedelta(days=3)]
    assert stats_services.stats_process_dirty() == 2  # its day, then DAY whose first knock moved
    rows = stored(day_world.campaign)
    assert rows == oracle(day_world.campaign)
    assert rows[("campaign", day_world.campaign.pk, DAY - dt.timedelta(days=3))]["new_doors"] == 1
    assert rows[("campaign", day_world.campaign.pk, DAY)]["new_doors"] == 0
    assert rows[("campaign", day_world.campaign.pk, DAY)]["doors_knocked"] == 1


def test_rerun_and_rebuild_give_the_same_numbers(day_world, no_broker, push):
    push(day_world, simulated_day(day_world, day=DAY))
    push(day_world, simulated_day(day_world, day=DAY + dt.timedelta(days=1), seed=9, n=90))
    assert aggregate().processed == 2
    first = stored(day_world.campaign)
    assert first == oracle(day_world.campaign)
    # Re-run every bucket: same rows.
    stats_queue.stats_mark_campaign(campaign=day_world.campaign)
    assert stats_services.stats_process_dirty() == 2
    assert stored(day_world.campaign) == first
    # Rebuild from scratch (after garbage in the tables): same rows.
    StatsDay.objects.filter(kind="turf").update(attempts=999)
    StatsDoor.objects.all().delete()
    call_command("rebuild_stats", "--campaign", day_world.campaign.slug, stdout=io.StringIO())
    assert stored(day_world.campaign) == first


def test_a_worker_dying_mid_task_loses_nothing(day_world, no_broker, push):
    push(day_world, simulated_day(day_world, day=DAY, n=60))
    with mock.patch.object(stats_services, "_write_stats", side_effect=RuntimeError("worker killed")):
        with pytest.raises(RuntimeError):
            aggregate()
    # The sweep's mark stays; the claim and the half-written work rolled back together:
    # still dirty, nothing stored.
    assert StatsDirtyDay.objects.count() == 1
    assert not StatsDay.objects.exists() and not StatsDoor.objects.exists()
    assert stats_services.stats_process_dirty() == 1
    assert stored(day_world.campaign) == oracle(day_world.campaign)


def one_knock(world, n: int = 0):
    return knock(world, door=world.hood_doors[n], at=dt.datetime.combine(DAY, dt.time(11, n), tzinfo=LA))


def test_many_pushes_queue_one_task_and_the_flag(day_world, no_broker, push, settings):
    settings.STATS_TASK_MIN_INTERVAL = 0
    for n in range(5):
        push(day_world, [one_knock(day_world, n)])
    assert no_broker.call_count == 1
    # The task starts: the flag is released, so a push during its run queues the next one.
    assert aggregate().marked == 1  # five pushes, one bucket
    assert StatsQueue.objects.get().task_queued_at is None
    push(day_world, [one_knock(day_world, 5)])
    assert no_broker.call_count == 2
    # A flag left by a lost task goes stale and no longer blocks.
    StatsQueue.objects.update(task_queued_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    push(day_world, [one_knock(day_world, 6)])
    assert no_broker.call_count == 3


def test_a_steady_stream_of_pushes_queues_a_task_at_most_every_interval(day_world, no_broker, push, settings):
    settings.STATS_TASK_MIN_INTERVAL = 10
    push(day_world, [one_knock(day_world, 0)])
    assert no_broker.call_count == 1
    started = timezone.now()
    stats_queue.stats_queue_release(now=started)  # the task starts
    push(day_world, [one_knock(day_world, 1)])
    assert no_broker.call_count == 1  # within 10 s of the start: the knock waits for the next task
    StatsQueue.objects.update(task_queued_at=started - stats_queue.TASK_FLAG_STALE - dt.timedelta(seconds=1))
    push(day_world, [one_knock(day_world, 2)])  # the interval has passed
    assert no_broker.call_count == 2
    assert stats_queue.stats_sweep() == 1  # the next task's sweep finds all three knocks' bucket
    assert stats_services.stats_process_dirty() == 1
    assert StatsDay.objects.get(kind="campaign", day=DAY).attempts == 3


def test_a_slow_task_rests_in_proportion_before_the_next_push_queues_one(day_world, no_broker, push, settings):
    settings.STATS_TASK_MIN_INTERVAL = 10
    settings.STATS_TASK_REST_FACTOR = 3
    StatsQueue.objects.get_or_create(id=stats_queue.QUEUE_ID)
    started = timezone.now()
    released = stats_queue.stats_queue_release(now=started)
    # It took 8 s: no push-queued task before 8 + 3 x 8 = 32 s from its start (not 10 s).
    assert stats_queue.stats_queue_rest(started=started, released=released, now=started + dt.timedelta(seconds=8))
    flag = StatsQueue.objects.get().task_queued_at
    assert flag == started + dt.timedelta(seconds=32) - stats_queue.TASK_FLAG_STALE
    push(day_world, [one_knock(day_world)])
    assert no_broker.call_count == 0
    # A quick task leaves the interval alone, and a task queued meanwhile stays queued.
    released = stats_queue.stats_queue_release(now=started)
    assert not stats_queue.stats_queue_rest(started=started, released=released, now=started + dt.timedelta(seconds=2))
    StatsQueue.objects.update(task_queued_at=started + dt.timedelta(seconds=1))
    assert not stats_queue.stats_queue_rest(started=started, released=released, now=started + dt.timedelta(seconds=8))
    assert StatsQueue.objects.get().task_queued_at == started + dt.timedelta(seconds=1)


def test_broker_down_leaves_the_work_to_the_schedule(day_world, push):
    with mock.patch("django_q.tasks.async_task", side_effect=ConnectionError("broker down")):
        push(day_world, [one_knock(day_world)])  # the knock is stored all the same
    assert StatsQueue.objects.get().task_queued_at is None
    # The every-minute schedule runs the same task: its sweep finds the knock.
    assert (aggregate().marked, StatsDay.objects.get(kind="campaign", day=DAY).attempts) == (1, 1)


def test_the_sweep_finds_knocks_whose_mark_was_lost(day_world, no_broker):
    # A push committed, then its process died before the on_commit mark.
    ContactAttempt.objects.bulk_create(simulated_day(day_world, day=DAY, n=30))
    assert not StatsDirtyDay.objects.exists()
    result = stats_services.stats_aggregate(sweep=True)
    assert (result.marked, result.processed) == (1, 1)
    assert stored(day_world.campaign) == oracle(day_world.campaign)
    # The next sweep looks back only a little before the last one: knocks received
    # an hour ago are not marked again; one received since is.
    from django.utils import timezone

    ContactAttempt.objects.update(received_at=timezone.now() - dt.timedelta(hours=1))
    assert stats_queue.stats_sweep() == 0
    late = knock(day_world, door=day_world.hood_doors[1], at=dt.datetime.combine(DAY, dt.time(9), tzinfo=LA))
    late.save()
    assert stats_queue.stats_sweep() == 1


def test_the_task_function_and_the_schedule_command(day_world, no_broker, push):
    from django_q.models import Schedule

    from canvass.stats import tasks

    push(day_world, simulated_day(day_world, day=DAY, n=20))
    assert "1 recomputed" in tasks.stats_aggregate(sweep=True)
    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    schedule = Schedule.objects.get(name="stats-aggregate")
    assert (schedule.func, schedule.minutes, schedule.repeats) == ("canvass.stats.tasks.stats_aggregate", 1, -1)
    assert Schedule.objects.filter(name="stats-aggregate").count() == 1


def test_rebuild_command_rejects_an_unknown_campaign(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No campaign"):
        call_command("rebuild_stats", "--campaign", "nope")


def test_other_campaigns_and_days_are_untouched(day_world, no_broker, push):
    other = f.CampaignFactory(organization=day_world.org, slug="other")
    push(day_world, simulated_day(day_world, day=DAY, n=30))
    aggregate()
    before = stored(day_world.campaign)
    stats_services.stats_rebuild(campaign=other)
    assert stored(day_world.campaign) == before
    assert not StatsDay.objects.filter(campaign=other).exists()
    assert StatsDay.objects.filter(kind=StatsKind.CAMPAIGN).count() == 1
    assert connection.vendor in ("sqlite", "postgresql")
