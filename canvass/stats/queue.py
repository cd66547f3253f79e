"""Queueing the stats work (design: docs/stats.md): (campaign, local day) buckets
marked dirty, at most one aggregation task queued at a time (a flag row, released
when the task starts and held for a rest after it), and the sweep that marks the
buckets of the knocks received since the last one (run by the task a push queues
and by the every-minute schedule).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from canvass.campaigns.models import Campaign
from canvass.stats.days import as_date, db_datetime, local_day
from canvass.stats.models import StatsDay, StatsDirtyDay, StatsQueue
from canvass.sync.models import ContactAttempt, counted_sql
from fieldops.models import Organization

logger = logging.getLogger(__name__)

QUEUE_ID = 1
# A "task queued" flag older than this is taken as lost (broker down, task
# dropped) and the next push queues again; the schedule runs regardless.
TASK_FLAG_STALE = dt.timedelta(minutes=5)
# The sweep looks back this far before where it stopped last time, so a push
# whose transaction set received_at a while before it committed is still seen.
SWEEP_OVERLAP = dt.timedelta(minutes=2)
# Rests shorter than this are not written (stats_queue_rest).
MIN_REST = dt.timedelta(seconds=1)

Bucket = tuple[int, dt.date]  # (campaign id, local day)


# --- enqueue (the sync push; stats_enqueue for other writers) ----------------------


def stats_enqueue_after_push() -> None:
    """What the sync push calls, inside its transaction: after the commit, queue
    one aggregation task that sweeps (throttled by STATS_TASK_MIN_INTERVAL); no marks.

    Marking the push's buckets from the request (as pushes once did) is
    correct but makes the push wait whenever a worker is recomputing the same
    day: the mark's INSERT … ON CONFLICT waits on the mark the worker is
    deleting, for the whole recompute. Under the load test that put the push's
    median at 1.9 s server-side with only 100 canvassers. The task's sweep marks
    every bucket received since the last sweep instead (received_at, with its
    2-minute overlap), in the worker, where waiting costs no phone anything.
    """
    transaction.on_commit(lambda: _queue_task(sweep=True), robust=True)


def stats_enqueue(*, buckets: Iterable[Bucket]) -> bool:
    """Mark the buckets dirty and queue one aggregation task unless one is queued.

    Call after the change that invalidates them is committed (benchmarks/aggregate.py
    uses it to time a recompute). Returns whether a task was queued.
    """
    stats_mark_dirty(buckets=buckets)
    return _queue_task()


def stats_mark_dirty(*, buckets: Iterable[Bucket]) -> int:
    rows = [StatsDirtyDay(campaign_id=campaign_id, day=day) for campaign_id, day in sorted(set(buckets))]
    if rows:
        # ON CONFLICT DO NOTHING: a bucket already waiting stays one row.
        StatsDirtyDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _queue_task(*, sweep: bool = False) -> bool:
    now = timezone.now()
    idle = Q(task_queued_at__isnull=True) | Q(task_queued_at__lt=now - TASK_FLAG_STALE)
    won = StatsQueue.objects.filter(pk=QUEUE_ID).filter(idle).update(task_queued_at=now)
    if not won and not StatsQueue.objects.filter(pk=QUEUE_ID).exists():
        StatsQueue.objects.bulk_create([StatsQueue(id=QUEUE_ID)], ignore_conflicts=True)
        won = StatsQueue.objects.filter(pk=QUEUE_ID).filter(idle).update(task_queued_at=now)
    if not won:
        return False  # a task is queued and has not started: it will see these marks
    from django_q.tasks import async_task

    try:
        async_task("canvass.stats.tasks.stats_aggregate", sweep=sweep, task_name=f"stats-{now:%Y%m%d%H%M%S%f}")
    except Exception:  # the broker is down: the every-minute schedule does the work
        logger.exception("Could not queue the stats task; the schedule will run it.")
        StatsQueue.objects.filter(pk=QUEUE_ID, task_queued_at=now).update(task_queued_at=None)
        return False
    return True


def stats_queue_release(*, now: dt.datetime | None = None) -> dt.datetime | None:
    """A task starting: marks from now on queue the next task, but not before
    STATS_TASK_MIN_INTERVAL seconds from this start (these marks it will see itself).

    Without the interval, a steady stream of pushes keeps a worker recomputing
    the day's bucket back to back: measured 250 tasks in 10 minutes, 1.5 s each,
    two cores' worth, under the load test. With it, the dashboard is at most
    that many seconds behind the street (plus one recompute), and the worker's
    cost no longer grows with the number of phones. The flag is set to look
    queued until start + interval; after that it reads as stale (idle).
    """
    now = now or timezone.now()
    interval = dt.timedelta(seconds=settings.STATS_TASK_MIN_INTERVAL)
    held = None if not interval else now + interval - TASK_FLAG_STALE
    StatsQueue.objects.filter(pk=QUEUE_ID).update(task_queued_at=held)
    return held


def stats_queue_rest(*, started: dt.datetime, released: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """A task finished: hold off the next push-queued task for STATS_TASK_REST_FACTOR
    times as long as this one took, when that is later than the interval allows.

    Today's bucket is recomputed whole, so a recompute grows with the day's
    knocks (under the load test it reached seconds of database CPU while
    1,000 phones pushed). Resting in proportion keeps the worker's share of
    the machine at most 1 / (1 + factor) of a core, however big the day: the
    dashboard falls further behind instead of the phones slowing down. Only
    the flag this task set when it started is changed; a task already queued
    since then stays queued. Returns whether the rest was lengthened.
    """
    factor = settings.STATS_TASK_REST_FACTOR
    if not factor:
        return False
    now = now or timezone.now()
    rest = (now - started) * factor
    if rest < MIN_REST:
        return False  # a quick task: the interval is enough
    rest_until = now + rest
    if released is not None and rest_until - TASK_FLAG_STALE <= released:
        return False  # the interval already holds it that long
    return bool(
        StatsQueue.objects.filter(pk=QUEUE_ID, task_queued_at=released).update(
            task_queued_at=rest_until - TASK_FLAG_STALE
        )
    )


# --- the sweep ----------------------------------------------------------------------


def stats_sweep(*, now: dt.datetime | None = None) -> int:
    """Mark the buckets of every knock received since the last sweep (minus an overlap).

    How pushed knocks reach the stats: the push marks nothing, the task it
    queues (and the every-minute schedule) sweeps. A push whose process died
    before queueing is covered by the next scheduled sweep. The first sweep
    ever looks at every knock. Returns buckets marked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        StatsQueue.objects.bulk_create([StatsQueue(id=QUEUE_ID)], ignore_conflicts=True)
        queue = StatsQueue.objects.select_for_update().get(pk=QUEUE_ID)
        since = queue.swept_until - SWEEP_OVERLAP if queue.swept_until else None
        # Held knocks change no stats: their days are marked when they are approved.
        recent = ContactAttempt.objects.counted()
        if since is not None:
            recent = recent.filter(received_at__gte=since)
        buckets: set[Bucket] = set()
        org_ids = list(recent.order_by().values_list("organization_id", flat=True).distinct())
        zones = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "timezone"))
        for org_id in org_ids:  # one query per organization with new knocks: a handful
            day_sql, day_params = connection.ops.datetime_cast_date_sql("a.corrected_at", (), zones[org_id])
            sql = (
                f"SELECT DISTINCT a.campaign_id, {day_sql} FROM {ContactAttempt._meta.db_table} a "  # noqa: S608
                f"WHERE a.organization_id = %s AND {counted_sql('a')}"
                + (" AND a.received_at >= %s" if since is not None else "")
            )
            params = [*day_params, org_id, *([db_datetime(since)] if since is not None else [])]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                buckets.update((campaign_id, as_date(day)) for campaign_id, day in cursor.fetchall())
        StatsQueue.objects.filter(pk=QUEUE_ID).update(swept_until=now)
    return stats_mark_dirty(buckets=buckets)


def stats_mark_campaign(*, campaign: Campaign) -> int:
    """Mark every day of a campaign that has knocks or stats (after doors were
    re-districted or turfs re-cut: the day buckets join those tables)."""
    tz = campaign.organization.tzinfo
    span = (
        ContactAttempt.objects.counted()
        .filter(campaign=campaign)
        .aggregate(first=Min("corrected_at"), last=Max("corrected_at"))
    )
    days = set(StatsDay.objects.filter(campaign=campaign).values_list("day", flat=True).distinct())
    if span["first"] is not None:
        first, last = local_day(span["first"], tz), local_day(span["last"], tz)
        days.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return stats_mark_dirty(buckets=[(campaign.pk, d) for d in days])


# --- what else invalidates buckets ---------------------------------------------------------

# Door ids per query when marking the days of knocks at given doors (SQLite's 999 parameters).
DOOR_IDS_CHUNK = 500


def _mark_knock_days(attempts: QuerySet[ContactAttempt], tz: dt.tzinfo) -> int:
    """Mark the (campaign, local day) of these knocks: one query for the buckets, one insert."""
    days = attempts.annotate(local=TruncDate("corrected_at", tzinfo=tz)).order_by()
    return stats_mark_dirty(buckets=set(days.values_list("campaign_id", "local").distinct()))


def stats_enqueue_turfs(*, turf_ids: Iterable[int]) -> None:
    """New turfs (cut, drawn, split, merged): after the commit, mark the days of the
    knocks at their doors and queue a task. A knock counts in every turf holding
    its door, archived ones too, so the old turfs' numbers stay as they are."""
    ids = sorted(set(turf_ids))
    if ids:
        transaction.on_commit(lambda: _enqueue_turfs(ids), robust=True)


def _enqueue_turfs(turf_ids: list[int]) -> None:
    from canvass.turfs.models import Turf, TurfDoor

    campaigns = dict(
        Turf.objects.filter(pk__in=turf_ids).values_list("campaign_id", "organization__timezone").distinct()
    )
    marked = 0
    for campaign_id, zone in campaigns.items():
        doors = TurfDoor.objects.filter(turf_id__in=turf_ids, turf__campaign_id=campaign_id).values("door_id")
        knocks = ContactAttempt.objects.counted().filter(campaign_id=campaign_id, door_id__in=doors)
        marked += _mark_knock_days(knocks, zoneinfo.ZoneInfo(zone))
    if marked:
        _queue_task()


def stats_enqueue_redistricted(organization_id: int, door_ids: list[int] | None) -> None:
    """Doors' district links were recomputed (turf/districting.py, after its commit):
    mark the days of the knocks at those doors (all the organization's when None)
    in every campaign, and queue a task."""
    zone = Organization.objects.filter(pk=organization_id).values_list("timezone", flat=True).first()
    if zone is None:
        return
    tz = zoneinfo.ZoneInfo(zone)
    knocks = ContactAttempt.objects.counted().filter(organization_id=organization_id)
    marked = 0
    if door_ids is None:
        marked = _mark_knock_days(knocks, tz)
    else:
        for start in range(0, len(door_ids), DOOR_IDS_CHUNK):
            marked += _mark_knock_days(knocks.filter(door_id__in=door_ids[start : start + DOOR_IDS_CHUNK]), tz)
    if marked:
        _queue_task()
