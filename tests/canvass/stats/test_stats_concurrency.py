"""Two aggregation workers at once, while phones keep pushing through the API
(real threads, real transactions: PostgreSQL; SQLite serializes its writers anyway)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from unittest import mock

import pytest
from django.db import connection, connections
from django.db.models import Count

from canvass.models import ContactAttempt, StatsDirtyDay
from canvass.stats import queue as stats_queue
from canvass.stats import selectors as stats_selectors
from canvass.stats import services as stats_services
from tests.canvass import stats_world
from tests.canvass.stats_world import oracle, setup_script, simulated_day, stored

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent transactions: run with DATABASE_URL=postgres://… (CI runs both)",
)

DAY = dt.date(2026, 11, 20)


def _thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.fixture
def world3(transactional_db, hood):
    world = setup_script(hood)
    stats_world.hood_assignment(world)  # before the threads: the pushes need it committed
    return world


def test_two_workers_while_pushes_arrive(world3):
    batches = []
    for d in range(3):  # three days of knocks, one late: pushes interleave their days
        attempts = simulated_day(world3, day=DAY + dt.timedelta(days=d), n=150, seed=d)
        batches += [attempts[i : i + 25] for i in range(0, len(attempts), 25)]
    batches.sort(key=lambda batch: hash(batch[0].id))
    errors: list[Exception] = []
    pushing = threading.Event()
    pushing.set()
    processed = []

    def pusher():
        for batch in batches:
            stats_world.push(world3, batch)  # queues a sweeping task after its commit (mocked below)
            time.sleep(0.002)
        pushing.clear()

    def worker():
        # What the queued task and the schedule run, back to back: sweep, recompute.
        while True:
            was_pushing = pushing.is_set()
            processed.append(stats_services.stats_aggregate(sweep=True).processed)
            if not was_pushing and not StatsDirtyDay.objects.exists():
                return

    with mock.patch("django_q.tasks.async_task"):
        threads = [_thread(pusher, errors), _thread(worker, errors), _thread(worker, errors)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    assert not StatsDirtyDay.objects.exists()
    assert sum(processed) >= 3
    assert stored(world3.campaign) == oracle(world3.campaign)
    # What the dashboard and the API show per district equals a direct count, every layer.
    shown = {r["district"]: r for r in stats_selectors.district_stats(campaign=world3.campaign)}
    direct = (
        ContactAttempt.objects.filter(campaign=world3.campaign)
        .values("door__district_links__district")
        .annotate(attempts=Count("id"), doors=Count("door", distinct=True))
    )
    layers = set()
    for row in direct:
        entry = shown[row["door__district_links__district"]]
        assert (entry["attempts"], entry["doors_knocked"]) == (row["attempts"], row["doors"])
        layers.add(entry["layer"])
    assert layers == {world3.layer.pk, world3.layer2.pk}


def test_two_workers_on_the_same_backlog_and_a_rebuild(world3):
    for d in range(6):
        ContactAttempt.objects.bulk_create(simulated_day(world3, day=DAY + dt.timedelta(days=d), n=60, seed=d))
    stats_queue.stats_mark_campaign(campaign=world3.campaign)
    assert StatsDirtyDay.objects.count() == 6
    errors: list[Exception] = []
    counts: list[int] = []
    barrier = threading.Barrier(3)

    def worker():
        barrier.wait()
        counts.append(stats_services.stats_process_dirty())

    def rebuild():
        barrier.wait()
        stats_services.stats_rebuild(campaign=world3.campaign)

    threads = [_thread(worker, errors), _thread(worker, errors), _thread(rebuild, errors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    stats_services.stats_process_dirty()  # anything a worker held while the rebuild ran is done by then
    assert stored(world3.campaign) == oracle(world3.campaign)
