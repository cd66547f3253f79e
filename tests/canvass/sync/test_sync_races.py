"""Concurrency: two copies of one push at once; commit order equals sequence order.

These tests use real transactions and threads (one database connection per
thread), so they need a database that lets two connections in at once.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from canvass.models import ContactAttempt, SyncChange
from canvass.sync.selectors import _head_seq
from canvass.sync.services import sync_changes_record
from tests.factories import PUSH, client_for, push_batch, push_item

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite's in-memory test database is one shared-cache file: its table locks fail at once instead "
        "of waiting, so two writers cannot be raced; SQLite admits one writer at a time anyway.",
    ),
]


def in_thread(target, results: list, index: int, *args) -> threading.Thread:
    def run():
        try:
            results[index] = target(*args)
        except Exception as exc:  # pragma: no cover - surfaced by the assertions
            results[index] = exc
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_copies_of_one_push_at_once_store_one_row_each(world, script):
    items = [push_item(world, at=world.doors[i % 2]) for i in range(50)]
    body = push_batch(*items)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def post():
        client = client_for(world.canvasser)
        barrier.wait()
        response = client.post(PUSH, body, format="json")
        return response.status_code, [r["status"] for r in response.json()["results"]]

    threads = [in_thread(post, results, i) for i in range(2)]
    for thread in threads:
        thread.join(30)
    assert all(not isinstance(r, Exception) for r in results), results
    assert [code for code, _ in results] == [200, 200]
    for position in range(50):
        assert sorted(statuses[position] for _, statuses in results) == ["accepted", "duplicate"]
    assert ContactAttempt.objects.count() == 50
    assert SyncChange.objects.filter(kind="attempt").count() == 50


def test_a_later_sequence_number_waits_for_the_earlier_ones_commit(world):
    """A takes sequence n and holds its transaction open; B, asking for n+1,
    waits; a reader meanwhile sees neither. Commit order is sequence order,
    so a reader that sees n+1 has already seen n."""
    door = world.doors[0]
    a_has_seq = threading.Event()
    a_may_commit = threading.Event()
    results: list = [None, None]

    def writer_a():
        with transaction.atomic():
            seq = sync_changes_record(organization_id=world.org.pk, kind="door", object_id=door.pk, door_id=door.pk)
            a_has_seq.set()
            a_may_commit.wait(10)
        return seq

    def writer_b():
        with transaction.atomic():
            return sync_changes_record(organization_id=world.org.pk, kind="door", object_id=door.pk, door_id=door.pk)

    thread_a = in_thread(writer_a, results, 0)
    assert a_has_seq.wait(10)
    thread_b = in_thread(writer_b, results, 1)
    time.sleep(0.5)
    assert thread_b.is_alive(), "B must wait for A's lock"
    assert _head_seq(world.org.pk) == 0
    assert not SyncChange.objects.exists()
    a_may_commit.set()
    thread_a.join(10)
    thread_b.join(10)
    assert results == [1, 2]
    assert list(SyncChange.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
