"""Aggregation of the knocks into the stats tables (design: docs/stats.md): claiming
dirty buckets and recomputing them, rebuilding a campaign, and the task's body.
Queueing is in canvass/stats/queue.py, the counting in canvass/stats/counting.py.

The unit of work is a bucket: one campaign on one local day (the day of the
knock's corrected time in the organization's timezone). A bucket is never
incremented; it is recomputed whole from the attempts, so a re-run, a retry
after a crash or two workers one after the other all write the same rows.

    push commits  ->  stats_enqueue_after_push()   queues one aggregation task, unless one is
                                                    queued or resting; marks nothing itself
    worker        ->  stats_aggregate(sweep=True)  the sweep marks the buckets of the knocks
                                                    received since the last sweep, then
                      stats_process_dirty()        claims a dirty bucket, locks the campaign,
                                                    recomputes it, deletes the mark, commits
    every minute  ->  stats_aggregate(sweep=True)  the same run, from the schedule (a task
                                                    lost with the broker costs a minute)
    command       ->  stats_rebuild()              recomputes a campaign from scratch
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from canvass.campaigns.models import Campaign, ResultCode
from canvass.stats.counting import METRIC_FIELDS, Grouping, Knocks, count_knocks
from canvass.stats.days import as_date, day_window, db_datetime, local_day
from canvass.stats.models import StatsDay, StatsDirtyDay, StatsDoor, StatsKind
from canvass.stats.queue import stats_mark_dirty, stats_queue_release, stats_queue_rest, stats_sweep
from canvass.sync.models import ContactAttempt, counted_sql
from canvass.turfs.models import TurfDoor
from turf.bulk import bulk_insert
from turf.models import DoorDistrict

LITERATURE_DROP_CODE = "literature_dropped"


# --- processing ----------------------------------------------------------------------


def stats_process_dirty(*, max_buckets: int | None = None) -> int:
    """Recompute dirty buckets, one transaction each, until none is left. Returns how many.

    Safe with any number of workers at once: each claims a different bucket
    (SKIP LOCKED) and recomputes under its campaign's row lock.
    """
    done = 0
    while max_buckets is None or done < max_buckets:
        if not _process_one():
            break
        done += 1
    return done


def _process_one() -> bool:
    with transaction.atomic():
        # Lock (not yet delete) the mark: a push marking the same bucket now
        # finds it and adds nothing, and this worker's recompute, which starts
        # after that push committed its knocks, sees them.
        dirty = (
            StatsDirtyDay.objects.select_for_update(skip_locked=True)
            .order_by("day", "campaign_id")
            .only("pk", "campaign_id", "day")
            .first()
        )
        if dirty is None:
            return False
        campaign = _lock_campaign(dirty.campaign_id)
        # Delete the mark before reading the knocks: from here on, a push that
        # commits knocks of this bucket blocks on this deleted row and, once we
        # commit, inserts a new mark, so its knocks get their own recompute.
        StatsDirtyDay.objects.filter(pk=dirty.pk).delete()
        if campaign is not None:
            _recompute_day(campaign, dirty.day)
    return True


def _lock_campaign(campaign_id: int) -> Campaign | None:
    """Every recompute of a campaign holds its row lock: one at a time per campaign.

    FOR NO KEY UPDATE: pushes inserting knocks (which take FOR KEY SHARE on
    the campaign through the foreign key) are not blocked. On SQLite the
    IMMEDIATE write transaction already runs alone.
    """
    locked = Campaign.objects.select_for_update(
        no_key=connection.features.has_select_for_no_key_update,
        of=("self",) if connection.features.has_select_for_update_of else (),
    )
    return locked.select_related("organization").filter(pk=campaign_id).first()


def _recompute_day(campaign: Campaign, day: dt.date) -> None:
    tz = campaign.organization.tzinfo
    lo, hi = (db_datetime(m) for m in day_window(day, day, tz))
    attempt_table = ContactAttempt._meta.db_table
    door_table = StatsDoor._meta.db_table
    knocked = f"SELECT a.door_id FROM {attempt_table} a WHERE a.campaign_id = %s AND a.corrected_at >= %s AND a.corrected_at < %s AND {counted_sql('a')}"  # noqa: E501, S608
    with connection.cursor() as cursor:
        # Doors knocked this day that were recorded as first knocked later: a
        # late sync. Their old first day loses them from its new_doors.
        cursor.execute(
            f"SELECT DISTINCT s.first_day FROM {door_table} s WHERE s.campaign_id = %s AND s.first_day > %s "  # noqa: S608
            f"AND s.door_id IN ({knocked})",
            [campaign.pk, day, campaign.pk, lo, hi],
        )
        later = [as_date(row[0]) for row in cursor.fetchall()]
        cursor.execute(
            f"INSERT INTO {door_table} (campaign_id, door_id, first_day) "  # noqa: S608
            f"SELECT DISTINCT %s, k.door_id, %s FROM ({knocked}) k WHERE 1 = 1 "
            f"ON CONFLICT (campaign_id, door_id) DO UPDATE SET first_day = excluded.first_day "
            f"WHERE excluded.first_day < {door_table}.first_day",
            [campaign.pk, day, campaign.pk, lo, hi],
        )
    stats_mark_dirty(buckets=[(campaign.pk, d) for d in later])
    StatsDay.objects.filter(campaign=campaign, day=day).delete()
    _write_stats(campaign, day, day)


@dataclass
class RebuildResult:
    campaign: Campaign
    days: int = 0
    rows: int = 0
    attempts: int = 0
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)


def stats_rebuild(*, campaign: Campaign) -> RebuildResult:
    """Recompute all of a campaign's stats from its attempts, in one transaction.

    Gives the same rows as the incremental path (tests/canvass/stats/test_stats_*).
    """
    import time

    started = time.perf_counter()
    with transaction.atomic():
        locked = _lock_campaign(campaign.pk)
        if locked is None:
            return RebuildResult(campaign=campaign)
        campaign = locked
        # Pending marks are covered by this rebuild; one a worker holds is
        # skipped (it waits for the campaign lock and recomputes after us).
        held = list(
            StatsDirtyDay.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign)
            .values_list("pk", flat=True)
        )
        StatsDirtyDay.objects.filter(pk__in=held).delete()
        tz = campaign.organization.tzinfo
        StatsDoor.objects.filter(campaign=campaign).delete()
        day_sql, day_params = connection.ops.datetime_cast_date_sql(
            "MIN(a.corrected_at)", (), campaign.organization.timezone
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {StatsDoor._meta.db_table} (campaign_id, door_id, first_day) "  # noqa: S608
                f"SELECT a.campaign_id, a.door_id, {day_sql} FROM {ContactAttempt._meta.db_table} a "
                f"WHERE a.campaign_id = %s AND {counted_sql('a')} GROUP BY a.campaign_id, a.door_id",
                [*day_params, campaign.pk],
            )
        StatsDay.objects.filter(campaign=campaign).delete()
        span = (
            ContactAttempt.objects.counted()
            .filter(campaign=campaign)
            .aggregate(first=Min("corrected_at"), last=Max("corrected_at"))
        )
        result = RebuildResult(campaign=campaign)
        if span["first"] is not None:
            first, last = local_day(span["first"], tz), local_day(span["last"], tz)
            result.days = (last - first).days + 1
            result.by_kind = _write_stats(campaign, first, last)
            result.rows = sum(result.by_kind.values())
    result.seconds = time.perf_counter() - started
    return result


# --- the aggregation queries --------------------------------------------------------------


def _write_stats(campaign: Campaign, day_from: dt.date, day_to: dt.date) -> dict[str, int]:
    """Compute and insert the stats rows of days [day_from, day_to] (deleted by the caller).

    One read of the knocks in the window (index campaign, corrected_at), with
    the local day computed by the database, then counting with numpy: every
    (day, key) of every kind is a group; attempts, contacts, refusals, support
    levels and literature drops are bincounts, distinct and new doors are
    unique (group, door) pairs, answers are unique (group, option) pairs. A
    door in several districts, or turfs, counts in each (its knock is repeated
    once per key). The first version counted knock by knock in Python: 30 µs a
    knock, a 1,000,000-knock rebuild at 3.9x one GROUP BY (docs/performance.md).
    """
    tz = campaign.organization.tzinfo
    lo, hi = day_window(day_from, day_to, tz)
    # Only the knocks that count (trusted or approved: docs/architecture.md, "Trust").
    knocks = ContactAttempt.objects.counted().filter(campaign=campaign, corrected_at__gte=lo, corrected_at__lt=hi)
    knocked_doors = knocks.order_by().values("door_id")
    codes = {
        pk: (is_contact, is_refusal, code == LITERATURE_DROP_CODE)
        for pk, is_contact, is_refusal, code in ResultCode.objects.filter(
            organization_id=campaign.organization_id
        ).values_list("pk", "is_contact", "is_refusal", "code")
    }
    table = ContactAttempt._meta.db_table
    day_sql, day_params = connection.ops.datetime_cast_date_sql(
        f"{table}.corrected_at", (), campaign.organization.timezone
    )
    sql = (
        f"SELECT {day_sql}, door_id, canvasser_id, result_code_id, support_level, answers FROM {table} "  # noqa: S608
        f"WHERE campaign_id = %s AND corrected_at >= %s AND corrected_at < %s AND {counted_sql()}"
    )
    day_of: dict[object, int] = {}
    days_raw: list[object] = []
    door_ids: list[int] = []
    canvassers: list[int] = []
    code_ids: list[int | None] = []
    supports: list[int | None] = []
    answered: list[tuple[int, object]] = []
    n = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*day_params, campaign.pk, db_datetime(lo), db_datetime(hi)])
        while chunk := cursor.fetchmany(20000):
            day_column, door_column, canvasser_column, code_column, support_column, answer_column = zip(
                *chunk, strict=True
            )
            for value in set(day_column) - day_of.keys():
                day_of[value] = len(day_of)
            days_raw.extend(map(day_of.__getitem__, day_column))
            answered.extend((n + i, a) for i, a in enumerate(answer_column) if a and a != "{}")
            n += len(chunk)
            door_ids.extend(door_column)
            canvassers.extend(canvasser_column)
            code_ids.extend(code_column)
            supports.extend(support or 0 for support in support_column)
    if n == 0:
        return {}
    days = [as_date(value) for value in day_of]
    code_arr = np.asarray(code_ids, dtype=np.int64)
    code_keys = np.asarray(sorted(codes), dtype=np.int64)
    flags = np.asarray([codes[int(c)] for c in code_keys], dtype=np.int64).reshape(-1, 3)
    code_pos = np.searchsorted(code_keys, code_arr)
    contact, refusal, literature = (flags[code_pos, i] for i in range(3))
    read = Knocks(
        day=np.asarray(days_raw, dtype=np.int64),
        door=np.asarray(door_ids, dtype=np.int64),
        contact=contact,
        refusal=refusal,
        literature=literature,
        support=np.asarray(supports, dtype=np.int64),
        answered=answered,
    )

    def door_pairs(values: Iterable[tuple[int, int]]) -> np.ndarray:
        return np.asarray(list(values), dtype=np.int64).reshape(-1, 2)

    districts = door_pairs(
        DoorDistrict.objects.filter(door_id__in=knocked_doors).order_by().values_list("door_id", "district_id")
    )
    # All the campaign's turf doors, the knocked ones kept by the counting. Not "door
    # IN (the day's knocked doors)": today's knocks are newer than the planner's
    # statistics (an ever-growing corrected_at), it expected one row, and nested
    # loops over the turfs made this query 4-9 s of a 7-9 s recompute of a
    # 40,000-knock day under the load test. Reading the campaign's turf doors is
    # bounded by the campaign's size and takes milliseconds.
    turfs = door_pairs(
        TurfDoor.objects.filter(turf__campaign_id=campaign.pk).order_by().values_list("door_id", "turf_id")
    )
    day_number = {day: i for i, day in enumerate(days)}
    first_day = {
        door_id: day_number[day]
        for door_id, day in StatsDoor.objects.filter(
            campaign=campaign, first_day__gte=day_from, first_day__lte=day_to
        ).values_list("door_id", "first_day")
        if day in day_number
    }
    groupings = [
        Grouping(StatsKind.CAMPAIGN, np.full(n, campaign.pk, dtype=np.int64)),
        Grouping(StatsKind.CANVASSER, np.asarray(canvassers, dtype=np.int64), new_doors=False),
        Grouping(StatsKind.DISTRICT, districts, by_door=True),
        Grouping(StatsKind.TURF, turfs, by_door=True),
    ]
    out: list[tuple] = []
    by_kind: dict[str, int] = defaultdict(int)
    for row in count_knocks(read, groupings, first_day):
        out.append((campaign.pk, days[row.day], row.kind, row.key, *row.metrics, row.new_doors, row.answers))
        by_kind[row.kind] += 1

    columns = ("campaign_id", "day", "kind", "key_id", *METRIC_FIELDS, "new_doors", "answers")
    if connection.vendor == "postgresql":
        # COPY: a rebuild writes tens of thousands of rows.
        bulk_insert(StatsDay, columns, ((*v[:-1], json.dumps(v[-1])) for v in out))
    else:
        StatsDay.objects.bulk_create((StatsDay(**dict(zip(columns, v, strict=True))) for v in out), batch_size=500)
    return dict(by_kind)


# --- the task body ------------------------------------------------------------------------


@dataclass
class AggregateResult:
    marked: int = 0
    processed: int = 0


def stats_aggregate(*, sweep: bool = False, max_buckets: int | None = None) -> AggregateResult:
    """What a worker runs: release the queue flag, optionally sweep, recompute what is
    dirty, then rest in proportion to the time taken (stats_queue_rest)."""
    started = timezone.now()
    released = stats_queue_release(now=started)
    result = AggregateResult()
    if sweep:
        result.marked = stats_sweep()
    result.processed = stats_process_dirty(max_buckets=max_buckets)
    if result.processed:
        stats_queue_rest(started=started, released=released)
    return result
