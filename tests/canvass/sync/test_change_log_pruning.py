"""The change log is pruned after SYNC_LOG_KEEP_DAYS; a cursor older than that starts over with a snapshot."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule

from fieldops.changelog import sync_changes_prune
from fieldops.models import SyncChange, SyncCounter
from fieldops.tasks import sync_log_prune
from tests.factories import PULL, PUSH, client_for, pull_pages, push_batch, push_item

pytestmark = pytest.mark.django_db


def pull(user, cursor=None):
    return client_for(user).get(PULL, {"cursor": cursor} if cursor else {})


def pull_all(user, cursor=None):
    """The last page and the cursor after it."""
    pages, cursor = pull_pages(client_for(user), cursor)
    return pages[-1], cursor


def knock(user, world, *, partner_door=0):
    response = client_for(user).post(PUSH, push_batch(push_item(world, at=world.doors[partner_door])), format="json")
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "accepted", response.content


def age(days: int) -> None:
    """Every entry logged so far was logged `days` ago."""
    SyncChange.objects.update(created_at=timezone.now() - dt.timedelta(days=days))


def test_old_entries_go_and_an_old_cursor_is_told_to_start_over(world, script, partner, settings):
    settings.SYNC_LOG_KEEP_DAYS = 30
    _, old_cursor = pull_all(world.canvasser)
    knock(partner, world)
    age(31)
    knock(partner, world, partner_door=1)  # today's: kept
    kept = SyncChange.objects.filter(organization=world.org).count()
    head = SyncCounter.objects.get(organization=world.org).last_seq

    deleted = sync_changes_prune()

    assert deleted >= 1
    assert SyncChange.objects.filter(organization=world.org).count() == kept - deleted
    counter = SyncCounter.objects.get(organization=world.org)
    assert 0 < counter.pruned_seq < head
    assert not SyncChange.objects.filter(organization=world.org, seq__lte=counter.pruned_seq).exists()
    # The phone whose cursor is older than the pruned entries: a 400 that says what to do ...
    response = pull(world.canvasser, old_cursor)
    assert response.status_code == 400
    message = response.json()["errors"]["cursor"]
    assert "30 days" in str(message) and "without a cursor" in str(message)
    # ... and the snapshot it starts over with has both knocks.
    page, fresh = pull_all(world.canvasser)
    assert {a["door"] for a in page["attempts"]} == {world.doors[0].pk, world.doors[1].pk}
    # A cursor at or after the pruned point goes on as ever.
    assert pull(world.canvasser, fresh).status_code == 200


def test_nothing_younger_than_the_horizon_is_pruned_and_other_chapters_are_untouched(world, script, partner):
    knock(partner, world)
    before = SyncChange.objects.count()
    assert sync_changes_prune() == 0
    assert SyncChange.objects.count() == before
    age(400)
    sync_changes_prune(keep_days=500)
    assert SyncChange.objects.count() == before
    assert sync_changes_prune(keep_days=30) == before
    assert SyncCounter.objects.filter(organization=world.other_org, pruned_seq__gt=0).count() == 0


def test_pruning_never_lowers_the_mark(world, script, partner):
    knock(partner, world)
    age(40)
    # A mark above every entry (an earlier prune that went further): pruning old entries
    # again must not bring it down to their last one.
    SyncCounter.objects.filter(organization=world.org).update(pruned_seq=F("last_seq") + 100)
    mark = SyncCounter.objects.get(organization=world.org).pruned_seq
    assert sync_changes_prune() >= 1
    assert SyncCounter.objects.get(organization=world.org).pruned_seq == mark


def test_the_daily_task_is_scheduled_and_prunes(world, script, partner):
    call_command("setup_schedules", stdout=io.StringIO())
    schedule = Schedule.objects.get(name="sync-log-prune")
    assert schedule.func == "fieldops.tasks.sync_log_prune" and schedule.schedule_type == Schedule.DAILY
    knock(partner, world)
    age(45)
    assert sync_log_prune() >= 1
