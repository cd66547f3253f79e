"""An assignment and a split of its turf at once (real threads, real transactions:
PostgreSQL; SQLite runs one writer at a time anyway). assignment_create locks the
turf it checks, as split, merge and archive do, so whichever comes second sees
what the first did: never an assignment on an archived turf."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from canvass.field.models import Assignment
from canvass.field.services import assignment_create
from canvass.turfs import services as turf_services
from canvass.turfs.models import Turf, TurfDoor
from tests import factories as f

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent transactions: run with DATABASE_URL=postgres://… (CI runs both)",
)

HOLD = 1.0  # seconds the first transaction stays open after its write


@pytest.fixture
def free_turf(transactional_db, hood):
    """A turf of 40 located doors nobody is assigned to."""
    turf = f.TurfFactory(campaign=hood.campaign, name="Free", door_count=40)
    TurfDoor.objects.bulk_create([TurfDoor(turf=turf, door=d, position=i) for i, d in enumerate(hood.hood_doors[:40])])
    hood.free_turf = turf
    return hood


def _in_thread(target, errors: list, results: list) -> threading.Thread:
    def run():
        try:
            results.append(target())
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_an_assignment_waits_for_a_split_in_progress_and_is_refused(free_turf):
    world = free_turf
    stale = Turf.objects.get(pk=world.free_turf.pk)  # read before the split: still active
    split_done = threading.Event()

    def split():
        with transaction.atomic():
            new = turf_services.turf_split(turf=world.free_turf, parts=2)
            split_done.set()
            time.sleep(HOLD)  # the archive is not committed yet
        return new

    errors: list = []
    results: list = []
    thread = _in_thread(split, errors, results)
    thread.start()
    assert split_done.wait(10)
    started = time.monotonic()
    with pytest.raises(ValidationError, match="archived"):
        assignment_create(organization=world.org, actor=world.organizer, turf=stale, canvassers=[world.canvasser])
    waited = time.monotonic() - started
    thread.join(10)
    assert not errors, errors
    assert waited > HOLD / 2, "the assignment read the turf without waiting for the split's lock"
    assert not Assignment.objects.filter(turf=world.free_turf).exists()
    assert Turf.objects.get(pk=world.free_turf.pk).status == Turf.Status.ARCHIVED


def test_a_split_waits_for_an_assignment_in_progress_and_leaves_the_turf_alone(free_turf):
    world = free_turf
    created = threading.Event()

    def assign():
        with transaction.atomic():
            assignment = assignment_create(
                organization=world.org, actor=world.organizer, turf=world.free_turf, canvassers=[world.canvasser]
            )
            created.set()
            time.sleep(HOLD)
        return assignment

    errors: list = []
    results: list = []
    thread = _in_thread(assign, errors, results)
    thread.start()
    assert created.wait(10)
    with pytest.raises(ValidationError, match="Canvassers are assigned"):
        turf_services.turf_split(turf=world.free_turf, parts=2)
    thread.join(10)
    assert not errors, errors
    assert Turf.objects.get(pk=world.free_turf.pk).status == Turf.Status.ACTIVE
    assert Assignment.objects.filter(turf=world.free_turf).count() == 1


def test_a_recut_with_replace_and_an_assignment_at_once_never_archive_an_assigned_turf(free_turf):
    world = free_turf
    created = threading.Event()

    def assign():
        with transaction.atomic():
            assignment_create(
                organization=world.org, actor=world.organizer, turf=world.free_turf, canvassers=[world.canvasser]
            )
            created.set()
            time.sleep(HOLD)

    errors: list = []
    thread = _in_thread(assign, errors, [])
    thread.start()
    assert created.wait(10)
    with contextlib.suppress(ValidationError):  # "turfs changed while the cut ran": refused, nothing written
        turf_services.turfs_cut(campaign=world.campaign, target_doors=30, replace=True)
    thread.join(10)
    assert not errors, errors
    assert Turf.objects.get(pk=world.free_turf.pk).status == Turf.Status.ACTIVE
