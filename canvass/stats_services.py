"""Aggregation of the knocks into the stats tables (design: docs/stats.md).

The unit of work is a bucket: one campaign on one local day (the day of the
knock's corrected time in the organization's timezone). A bucket is never
incremented; it is recomputed whole from the attempts, so a re-run, a retry
after a crash or two workers one after the other all write the same rows.

    push commits  ->  stats_enqueue_attempts()   marks the bucket dirty after commit,
                                                   queues one task unless one is queued
    worker        ->  stats_process_dirty()       claims a dirty bucket, locks the campaign,
                                                   recomputes it, deletes the mark, commits
    every minute  ->  stats_aggregate(sweep=True) also re-marks the buckets of recently
                                                   received knocks (a mark lost to a crash)
    command       ->  stats_rebuild()             recomputes a campaign from scratch
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from canvass.models import (
    Campaign,
    ContactAttempt,
    ResultCode,
    StatsDay,
    StatsDirtyDay,
    StatsDoor,
    StatsKind,
    StatsQueue,
    TurfDoor,
)
from fieldops.models import Organization
from turf.bulk import bulk_insert
from turf.models import DoorDistrict

logger = logging.getLogger(__name__)

LITERATURE_DROP_CODE = "literature_dropped"
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

METRIC_FIELDS = (
    "attempts",
    "doors_knocked",
    "contacts",
    "refusals",
    "support_1",
    "support_2",
    "support_3",
    "support_4",
    "support_5",
    "literature_drops",
)


# --- days ------------------------------------------------------------------------


def local_day(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    return moment.astimezone(tz).date()


def day_window(day_from: dt.date, day_to: dt.date, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of day_from, local midnight after day_to) as aware datetimes."""
    lo = dt.datetime.combine(day_from, dt.time(), tzinfo=tz)
    hi = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return lo, hi


def _db_datetime(moment: dt.datetime) -> object:
    """A datetime as a raw query parameter: SQLite compares UTC text, so convert like the ORM does."""
    return connection.ops.adapt_datetimefield_value(moment.astimezone(dt.UTC))


def _as_date(value: object) -> dt.date:
    # PostgreSQL returns dates; SQLite's date functions return 'YYYY-MM-DD' text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --- enqueue (called by the sync push) ----------------------------------------------


def stats_enqueue_attempts(*, attempts: Iterable[ContactAttempt], organization: Organization | None = None) -> None:
    """Have the stats recomputed for these new attempts once the transaction commits.

    The sync push calls this with the attempts it created, inside its
    transaction or after it: the buckets are marked and a task queued only
    after the commit (transaction.on_commit; at once outside a transaction),
    so a worker never looks for knocks that are not visible yet. Cheap: one
    query for the organizations' zones, then (after commit) one INSERT … ON
    CONFLICT DO NOTHING and one conditional UPDATE; a burst of pushes queues
    one task.
    """
    attempts = [a for a in attempts]
    if not attempts:
        return
    if organization is not None and all(a.organization_id == organization.pk for a in attempts):
        zones = {organization.pk: organization.timezone}  # the caller has it: no query
    else:
        zones = dict(
            Organization.objects.filter(pk__in={a.organization_id for a in attempts}).values_list("pk", "timezone")
        )
    buckets = {
        (a.campaign_id, local_day(a.corrected_at, zoneinfo.ZoneInfo(zones[a.organization_id]))) for a in attempts
    }
    transaction.on_commit(lambda: stats_enqueue(buckets=buckets), robust=True)


def stats_enqueue_after_push() -> None:
    """What the sync push calls, inside its transaction: after the commit, queue
    one aggregation task that sweeps (throttled by STATS_TASK_MIN_INTERVAL); no marks.

    Marking the push's buckets from the request (stats_enqueue_attempts) is
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

    Call after the attempts are committed. Returns whether a task was queued.
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
        async_task("canvass.tasks.stats_aggregate", sweep=sweep, task_name=f"stats-{now:%Y%m%d%H%M%S%f}")
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


# --- the safety net ----------------------------------------------------------------


def stats_sweep(*, now: dt.datetime | None = None) -> int:
    """Mark the buckets of every knock received since the last sweep (minus an overlap).

    Covers a push whose process died between its commit and its on_commit
    mark. The first sweep ever looks at every knock. Returns buckets marked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        StatsQueue.objects.bulk_create([StatsQueue(id=QUEUE_ID)], ignore_conflicts=True)
        queue = StatsQueue.objects.select_for_update().get(pk=QUEUE_ID)
        since = queue.swept_until - SWEEP_OVERLAP if queue.swept_until else None
        recent = ContactAttempt.objects.all()
        if since is not None:
            recent = recent.filter(received_at__gte=since)
        buckets: set[Bucket] = set()
        org_ids = list(recent.order_by().values_list("organization_id", flat=True).distinct())
        zones = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "timezone"))
        for org_id in org_ids:  # one query per organization with new knocks: a handful
            day_sql, day_params = connection.ops.datetime_cast_date_sql("a.corrected_at", (), zones[org_id])
            sql = (
                f"SELECT DISTINCT a.campaign_id, {day_sql} FROM {ContactAttempt._meta.db_table} a "  # noqa: S608
                "WHERE a.organization_id = %s" + (" AND a.received_at >= %s" if since is not None else "")
            )
            params = [*day_params, org_id, *([_db_datetime(since)] if since is not None else [])]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                buckets.update((campaign_id, _as_date(day)) for campaign_id, day in cursor.fetchall())
        StatsQueue.objects.filter(pk=QUEUE_ID).update(swept_until=now)
    return stats_mark_dirty(buckets=buckets)


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
    lo, hi = (_db_datetime(m) for m in day_window(day, day, tz))
    attempt_table = ContactAttempt._meta.db_table
    door_table = StatsDoor._meta.db_table
    knocked = f"SELECT a.door_id FROM {attempt_table} a WHERE a.campaign_id = %s AND a.corrected_at >= %s AND a.corrected_at < %s"  # noqa: E501, S608
    with connection.cursor() as cursor:
        # Doors knocked this day that were recorded as first knocked later: a
        # late sync. Their old first day loses them from its new_doors.
        cursor.execute(
            f"SELECT DISTINCT s.first_day FROM {door_table} s WHERE s.campaign_id = %s AND s.first_day > %s "  # noqa: S608
            f"AND s.door_id IN ({knocked})",
            [campaign.pk, day, campaign.pk, lo, hi],
        )
        later = [_as_date(row[0]) for row in cursor.fetchall()]
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

    Gives the same rows as the incremental path (tests/canvass/test_stats_*).
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
                "WHERE a.campaign_id = %s GROUP BY a.campaign_id, a.door_id",
                [*day_params, campaign.pk],
            )
        StatsDay.objects.filter(campaign=campaign).delete()
        span = ContactAttempt.objects.filter(campaign=campaign).aggregate(
            first=Min("corrected_at"), last=Max("corrected_at")
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


def _distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy's hash-based unique took 1.4 s for 5 million int64 here, a sort 0.4 s."""
    if len(values) == 0:
        return values
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for non-negative ids, by a lookup table instead of a sort."""
    top = int(values.max()) if len(values) else 0
    if top > 50_000_000:  # ids too sparse for a table: sort
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.reshape(-1)
    present = np.zeros(top + 1, dtype=bool)
    present[values] = True
    return np.flatnonzero(present), (np.cumsum(present) - 1)[values]


def _csr(pairs: np.ndarray, n_doors: int) -> tuple[np.ndarray, np.ndarray]:
    """(door index, key) pairs -> per door, where its keys start in `keys` and the keys."""
    order = np.argsort(pairs[:, 0], kind="stable")
    keys = pairs[order, 1]
    counts = np.bincount(pairs[:, 0], minlength=n_doors)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.stack([starts, counts]), keys


def _expand(items: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each item (a door index), each position of its CSR block starts[item] … +counts[item]."""
    reps = counts[items]
    out_rows = np.repeat(items, reps)
    offsets = np.arange(len(out_rows)) - np.repeat(np.cumsum(reps) - reps, reps)
    return out_rows, np.repeat(starts[items], reps) + offsets


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
    knocks = ContactAttempt.objects.filter(campaign=campaign, corrected_at__gte=lo, corrected_at__lt=hi)
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
        f"WHERE campaign_id = %s AND corrected_at >= %s AND corrected_at < %s"
    )
    day_of: dict[object, int] = {}
    days_raw, door_ids, canvassers, code_ids, supports = [], [], [], [], []
    answered: list[tuple[int, object]] = []
    n = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*day_params, campaign.pk, _db_datetime(lo), _db_datetime(hi)])
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
    days = [_as_date(value) for value in day_of]
    day_idx = np.asarray(days_raw, dtype=np.int64)
    doors_all, door_c = np.unique(np.asarray(door_ids, dtype=np.int64), return_inverse=True)
    code_arr = np.asarray(code_ids, dtype=np.int64)
    code_keys = np.asarray(sorted(codes), dtype=np.int64)
    flags = np.asarray([codes[int(c)] for c in code_keys], dtype=np.int64).reshape(-1, 3)
    code_pos = np.searchsorted(code_keys, code_arr)
    contact, refusal, literature = (flags[code_pos, i] for i in range(3))
    support = np.asarray(supports, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)

    # Per door: its districts and turfs, as CSR blocks over the compact door index.
    def door_pairs(values: Iterable[tuple[int, int]]) -> np.ndarray:
        pairs = np.asarray(list(values), dtype=np.int64).reshape(-1, 2)
        position = np.searchsorted(doors_all, pairs[:, 0])
        known = (position < len(doors_all)) & (doors_all[np.minimum(position, len(doors_all) - 1)] == pairs[:, 0])
        return np.column_stack([position[known], pairs[known, 1]])

    districts = door_pairs(
        DoorDistrict.objects.filter(door_id__in=knocked_doors).order_by().values_list("door_id", "district_id")
    )
    # All the campaign's turf doors, the knocked ones kept by door_pairs. Not "door
    # IN (the day's knocked doors)": today's knocks are newer than the planner's
    # statistics (an ever-growing corrected_at), it expected one row, and nested
    # loops over the turfs made this query 4-9 s of a 7-9 s recompute of a
    # 40,000-knock day under the load test. Reading the campaign's turf doors is
    # bounded by the campaign's size and takes milliseconds.
    turfs = door_pairs(
        TurfDoor.objects.filter(turf__campaign_id=campaign.pk).order_by().values_list("door_id", "turf_id")
    )
    first_day = dict(
        StatsDoor.objects.filter(campaign=campaign, first_day__gte=day_from, first_day__lte=day_to).values_list(
            "door_id", "first_day"
        )
    )
    day_number = {day: i for i, day in enumerate(days)}
    first_idx = np.full(len(doors_all), -1, dtype=np.int64)
    for door_id, day in first_day.items():
        position = int(np.searchsorted(doors_all, door_id))
        if position < len(doors_all) and doors_all[position] == door_id and day in day_number:
            first_idx[position] = day_number[day]

    # Answers: one (row, option) pair per answered question.
    opt_rows: list[int] = []
    opt_values: list[str] = []
    for row, answers in answered:
        if isinstance(answers, str):
            answers = json.loads(answers)
        if isinstance(answers, dict):
            for value in answers.values():
                if value is not None:
                    opt_rows.append(row)
                    opt_values.append(str(value))
    option_names, option_idx = np.unique(np.asarray(opt_values, dtype=object), return_inverse=True)
    opt_row_arr = np.asarray(opt_rows, dtype=np.int64)

    entries: list[tuple[str, np.ndarray, np.ndarray]] = [
        (StatsKind.CAMPAIGN, rows, np.full(n, campaign.pk, dtype=np.int64)),
        (StatsKind.CANVASSER, rows, np.asarray(canvassers, dtype=np.int64)),
    ]
    for kind, pairs in ((StatsKind.DISTRICT, districts), (StatsKind.TURF, turfs)):
        if len(pairs):
            (starts, counts), keys = _csr(pairs, len(doors_all))
            # One entry per (knock, key of its door), knocks in order.
            _, positions = _expand(door_c, starts, counts)
            knock_rows = np.repeat(rows, counts[door_c])
            entries.append((kind, knock_rows, keys[positions]))

    out: list[tuple] = []
    by_kind: dict[str, int] = defaultdict(int)
    for kind, entry_rows, entry_keys in entries:
        # One int64 per (day, key): 1-D uniques sort far faster than row-wise ones.
        key_values, key_idx = _dense(entry_keys)
        combined = day_idx[entry_rows] * len(key_values) + key_idx.reshape(-1)
        # (day, key) numbers are small (days x keys): a dense lookup instead of a sort.
        present = np.zeros(int(combined.max()) + 1, dtype=bool)
        present[combined] = True
        group_ids = np.flatnonzero(present)
        group = (np.cumsum(present) - 1)[combined]
        group = group.reshape(-1)
        g = len(group_ids)
        group_keys = np.column_stack([group_ids // len(key_values), key_values[group_ids % len(key_values)]])

        def total(weights: np.ndarray | None = None, group: np.ndarray = group, g: int = g) -> np.ndarray:
            return np.bincount(group, weights=weights, minlength=g).astype(np.int64)

        attempts = total()
        metrics = [
            attempts,
            None,  # doors knocked, below
            total(contact[entry_rows]),
            total(refusal[entry_rows]),
            *(total((support[entry_rows] == level).astype(np.int64)) for level in range(1, 6)),
            total(literature[entry_rows]),
        ]
        n_doors = len(doors_all)
        pair_ids = _distinct(group * n_doors + door_c[entry_rows])
        pairs = np.column_stack([pair_ids // n_doors, pair_ids % n_doors])
        metrics[1] = np.bincount(pairs[:, 0], minlength=g).astype(np.int64)
        if kind == StatsKind.CANVASSER:
            new = np.zeros(g, dtype=np.int64)
        else:
            is_new = first_idx[pairs[:, 1]] == group_keys[pairs[:, 0], 0]
            new = np.bincount(pairs[is_new, 0], minlength=g).astype(np.int64)
        answers_of: list[dict[str, int]] = [{} for _ in range(g)]
        if len(opt_row_arr):
            # Join the answered rows to this kind's entries (an entry per key of the row).
            # Entries come in knock order (each knock's keys together), so no sort is needed.
            first = np.searchsorted(entry_rows, opt_row_arr, side="left")
            last = np.searchsorted(entry_rows, opt_row_arr, side="right")
            reps = last - first
            exp_option = np.repeat(option_idx, reps)
            offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            exp_group = group[np.repeat(first, reps) + offsets]
            n_options = len(option_names)
            counted, counts = np.unique(exp_group * n_options + exp_option, return_counts=True)
            for pair, count in zip(counted.tolist(), counts.tolist(), strict=True):
                answers_of[pair // n_options][option_names[pair % n_options]] = count
        columns = [m.tolist() for m in metrics]
        new_list = new.tolist()
        for i, (d, key) in enumerate(group_keys.tolist()):
            out.append((campaign.pk, days[d], kind, key, *(c[i] for c in columns), new_list[i], answers_of[i]))
        by_kind[kind] += g

    columns = ("campaign_id", "day", "kind", "key_id", *METRIC_FIELDS, "new_doors", "answers")
    if connection.vendor == "postgresql":
        # COPY: a rebuild writes tens of thousands of rows.
        bulk_insert(StatsDay, columns, ((*v[:-1], json.dumps(v[-1])) for v in out))
    else:
        StatsDay.objects.bulk_create((StatsDay(**dict(zip(columns, v, strict=True))) for v in out), batch_size=500)
    return dict(by_kind)


class _Bucket:
    """Counts of one (kind, key) on the day being read: attempts, contacts,
    refusals, support 1-5, literature drops; its doors; its answers."""

    __slots__ = ("answers", "counts", "doors")

    def __init__(self) -> None:
        self.counts = [0] * 9
        self.doors: set[int] = set()
        self.answers: dict[str, int] = {}


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


def stats_mark_campaign(*, campaign: Campaign) -> int:
    """Mark every day of a campaign that has knocks or stats (after doors were
    re-districted or turfs re-cut: the day buckets join those tables)."""
    tz = campaign.organization.tzinfo
    span = ContactAttempt.objects.filter(campaign=campaign).aggregate(
        first=Min("corrected_at"), last=Max("corrected_at")
    )
    days = set(StatsDay.objects.filter(campaign=campaign).values_list("day", flat=True).distinct())
    if span["first"] is not None:
        first, last = local_day(span["first"], tz), local_day(span["last"], tz)
        days.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return stats_mark_dirty(buckets=[(campaign.pk, d) for d in days])
