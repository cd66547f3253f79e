"""Writes of the phone sync: storing pushed knocks (the change log they are
written to is fieldops/changelog.py).

The protocol is described in docs/sync-protocol.md; the rules that matter here:

- a push is one transaction and a constant number of queries, whatever its
  size (no query per item);
- every knock is stored once: INSERT … ON CONFLICT DO NOTHING on the phone's
  UUID, then the stored rows are read back and each item is classified by
  who stored it (push_id) and by content hash;
- every knock stored that counts is written to the organization's change
  log (fieldops.changelog.sync_changes_record_many) as the last write of the
  push's transaction;
- a knock counts (review "trusted") when it is at a door of an assignment
  its canvasser held at the knock's time, with FIELDOPS_KNOCK_GRACE_HOURS of
  grace; any other knock of a member is stored "held" and counts nowhere until
  an organizer approves it (attempt_approve, attempt_reject below; the trust
  model is in docs/architecture.md, "Trust").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Field
from django.db.models.constants import OnConflict
from django.utils import timezone

from canvass.stats.days import local_day
from canvass.stats.queue import stats_enqueue, stats_enqueue_after_push
from canvass.sync.models import ContactAttempt, HeldReason, Review
from canvass.sync.serializers import AttemptItem, haversine_m
from fieldops.access import MANAGER_ROLES, is_operator, membership_for
from fieldops.api.errors import error_lists
from fieldops.changelog import (  # changes_for_assignment, sync_changes_record: see __all__
    Change,
    changes_for_assignment,
    sync_changes_record,
    sync_changes_record_many,
)
from fieldops.models import AuditLogEntry, Membership, Organization, SyncChange, SyncCounter
from turf.models import Door

__all__ = [
    "attempt_approve",
    "attempt_reject",
    "attempts_push",
    # Imported from here by code written before the change log moved to
    # fieldops/changelog.py (tests/canvass/sync/*); new code imports fieldops.changelog.
    "changes_for_assignment",
    "sync_changes_record",
    "sync_changes_record_many",
]

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
REJECTED = "rejected"

# One answer for a person id that does not exist, is another organization's, or is
# not at the door: an answer that differed would tell a canvasser who lives where.
NO_SUCH_PERSON = "No such person at this door."


# --- Push -------------------------------------------------------------------------


@dataclass
class Receipt:
    id: str
    status: str
    errors: dict = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    # For a stored knock (accepted, duplicate): its review state, and why it is held.
    review: str = ""
    held_reason: str = ""
    # For an item that failed validation: the fields that did parse, checked against the
    # server's data too (every problem of an item is reported at once). Not sent.
    partial: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        data: dict = {"id": self.id, "status": self.status, "errors": error_lists(self.errors)}
        if self.status in (ACCEPTED, DUPLICATE):
            data["flags"] = self.flags
            data["review"] = self.review
            if self.review == Review.HELD:
                data["held_reason"] = self.held_reason
        return data


class Span(NamedTuple):
    """The time one of the canvasser's assignments covers a door, for the trust test."""

    campaign_id: int
    starts_at: dt.datetime
    end: dt.datetime | None  # the earlier of ended_at and ends_at; None while open-ended


@dataclass(frozen=True)
class PushContext:
    """What attempts_push looked up for a batch, in a constant number of queries."""

    result_codes: dict[str, int]  # code -> id
    doors: dict[int, tuple[float | None, float | None]]  # door id -> (lat, lng), this organization's
    assignments: dict[int, tuple[int, int]]  # assignment id -> (campaign id, turf id), this canvasser's
    spans: dict[int, list[Span]]  # door id -> the canvasser's assignments whose turfs hold it
    visible_doors: set[int]  # doors in the turfs of the canvasser's current assignments
    people: dict[int, int]  # person id -> door id, this organization's
    options: dict[int, tuple[int, int]]  # option id -> (question id, campaign id)
    merged: dict[int, int]  # a door id of the batch merged into another door since -> that door


class StoredAttempt(NamedTuple):
    """What a push reads back of a stored knock to write its receipt."""

    canvasser_id: int
    content_hash: str
    push_id: uuid.UUID | None
    review: str
    held_reason: str
    off_list: bool
    far_from_door: bool
    too_fast: bool


def _read_back(ids: set[uuid.UUID]) -> dict[str, StoredAttempt]:
    """The stored knocks with these ids, by id as text: one plain query (no model instances)."""
    if not ids:
        return {}
    pk = ContactAttempt._meta.pk
    sql = (
        "SELECT id, canvasser_id, content_hash, push_id, review, held_reason, "  # noqa: S608
        f"off_list, far_from_door, too_fast FROM {ContactAttempt._meta.db_table} "
        f"WHERE id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk.get_db_prep_value(i, connection) for i in sorted(ids)])
        return {
            str(_as_uuid(row[0])): StoredAttempt(
                row[1],
                row[2],
                _as_uuid(row[3]) if row[3] is not None else None,
                row[4],
                row[5],
                *map(bool, row[6:]),
            )
            for row in cursor.fetchall()
        }


@dataclass(frozen=True)
class _InsertSql:
    fields: list[Field]
    head: str  # INSERT … INTO the table (its columns)
    tail: str  # ON CONFLICT DO NOTHING (SQLite: empty, INSERT OR IGNORE is in the head)
    unnest: str | None  # PostgreSQL: SELECT * FROM UNNEST(one array a column), as bulk_create does
    row: str  # otherwise: one row's placeholders, repeated for each row in VALUES
    per_statement: int  # the most rows a statement may carry (SQLite limits parameters)


@functools.cache
def _insert_sql() -> _InsertSql:
    """What bulk_create(ignore_conflicts=True) writes for knocks, built once per process."""
    fields = [f for f in ContactAttempt._meta.concrete_fields if f.column]
    ops = connection.ops
    head = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {ops.quote_name(ContactAttempt._meta.db_table)} "
        f"({', '.join(ops.quote_name(f.column) for f in fields if f.column)}) "
    )
    tail = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    unnest = None
    if connection.vendor == "postgresql":
        # One parameter a column, whatever the rows: the statement stays short, so psycopg does
        # not rewrite 13,000 placeholders on every push (a third of a 500-knock push's time),
        # and PostgreSQL plans one shape (Django 5.2's bulk_create does the same).
        arrays = ", ".join(f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in fields)  # type: ignore[union-attr]  # concrete fields have a db_type
        unnest = f"SELECT * FROM UNNEST({arrays})"
    limit = connection.features.max_query_params
    per_statement = 500 if limit is None else max(1, limit // len(fields))
    return _InsertSql(fields, head, tail, unnest, "(" + ", ".join(["%s"] * len(fields)) + ")", per_statement)


def _insert_ignoring_conflicts(rows: Sequence[ContactAttempt]) -> None:
    """INSERT … ON CONFLICT DO NOTHING (SQLite: INSERT OR IGNORE) of the knocks, as
    bulk_create(ignore_conflicts=True) does, values prepared by each field as it prepares
    them (pre_save, get_db_prep_save), without its machinery: every push runs it, and bulk_create's
    compiling cost a fifth of a small push's CPU."""
    if not rows:
        return
    sql = _insert_sql()
    fields = sql.fields
    with connection.cursor() as cursor:
        if sql.unnest is not None:
            columns = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in rows] for f in fields]
            cursor.execute(f"{sql.head}{sql.unnest} {sql.tail}", columns)
            return
        for start in range(0, len(rows), sql.per_statement):
            chunk = rows[start : start + sql.per_statement]
            params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in chunk for f in fields]
            cursor.execute(f"{sql.head}VALUES {', '.join([sql.row] * len(chunk))} {sql.tail}", params)


def _flags(attempt: StoredAttempt) -> list[str]:
    flags = [name for name in ("off_list", "far_from_door", "too_fast") if getattr(attempt, name)]
    return [*flags, "held"] if attempt.review == Review.HELD else flags


def _stored_receipt(item_id: str, status: str, attempt: StoredAttempt) -> Receipt:
    return Receipt(item_id, status, {}, _flags(attempt), attempt.review, attempt.held_reason)


def _authorize(item: AttemptItem | SimpleNamespace, ctx: PushContext) -> dict:
    """Field errors of an item against the server's data. An item that failed
    validation comes as a namespace of the fields that parsed (the others None):
    only those are checked."""
    errors: dict = {}
    if item.door is not None and item.door not in ctx.doors and item.door not in ctx.merged:
        errors["door"] = "No such door."
    assignment = ctx.assignments.get(item.assignment) if item.assignment is not None else None
    if item.assignment is not None and assignment is None:
        errors["assignment"] = "No such assignment of yours."
    if item.result is not None and item.result not in ctx.result_codes:
        errors["result"] = f"Unknown result code {item.result!r}."
    # A person not at the door is refused only at a door the canvasser may see
    # now (their current assignments' turfs: they have its people anyway). At
    # any other door the knock is stored without the person (attempts_push):
    # were it refused there, "stored" against "refused" would tell whether the
    # person lives at the door.
    if item.person is not None and item.door in ctx.visible_doors and ctx.people.get(item.person) != item.door:
        errors["person"] = NO_SUCH_PERSON
    if assignment is not None and item.answers:
        campaign_id = assignment[0]
        answer_errors = {}
        for question_id, option_id in item.answers.items():
            option = ctx.options.get(option_id)
            if option is None or option[1] != campaign_id:
                answer_errors[str(question_id)] = "Not an option of this campaign's questions."
            elif option[0] != question_id:
                answer_errors[str(question_id)] = "This option belongs to another question."
        if answer_errors:
            errors["answers"] = answer_errors
    return errors


def _in(ids: set[int]) -> tuple[str, list[int]]:
    """`IN (…)` placeholders and parameters; `IN (NULL)` (matches nothing) for no ids."""
    return ("(" + ", ".join(["%s"] * len(ids)) + ")", sorted(ids)) if ids else ("(NULL)", [])


def _context_sql(*, org_id: int, user_id: int, door_ids: set[int], assignment_ids: set[int]) -> tuple[str, list]:
    from canvass.campaigns.models import ResultCode
    from canvass.field.models import Assignment, AssignmentCanvasser
    from canvass.turfs.models import TurfDoor
    from turf.models import Door, DoorAlias

    doors_in, door_params = _in(door_ids)
    assignments_in, assignment_params = _in(assignment_ids)
    mine = (
        f"SELECT a.id, a.campaign_id, a.turf_id, a.starts_at, a.ends_at, a.ended_at FROM {Assignment._meta.db_table} a "
        f"JOIN {AssignmentCanvasser._meta.db_table} m ON m.assignment_id = a.id "
        "WHERE a.organization_id = %s AND m.user_id = %s"
    )
    # The 'l' rows (a door of the batch in a turf of one of the canvasser's
    # assignments, with that assignment's campaign and times) come first:
    # PostgreSQL types a UNION pairwise from the left, and the times' column is
    # NULL in every other branch (NULL UNION NULL would be text, then no match).
    sql = (
        f"SELECT 'l', td.door_id, NULL, y.campaign_id, y.id, y.starts_at, y.ends_at, y.ended_at "
        f"FROM {TurfDoor._meta.db_table} td JOIN ({mine}) y ON y.turf_id = td.turf_id WHERE td.door_id IN {doors_in} "
        f"UNION ALL SELECT 'r', id, code, NULL, NULL, NULL, NULL, NULL FROM {ResultCode._meta.db_table} "
        "WHERE organization_id = %s "
        f"UNION ALL SELECT 'd', id, NULL, lat, lng, NULL, NULL, NULL FROM {Door._meta.db_table} "
        f"WHERE organization_id = %s AND id IN {doors_in} "
        f"UNION ALL SELECT 'a', x.id, NULL, x.campaign_id, x.turf_id, NULL, NULL, NULL FROM ({mine}) x "
        f"WHERE x.id IN {assignments_in} "
        # A door id that is now another door's alias (merged since the phone downloaded it).
        f"UNION ALL SELECT 'm', merged_door_id, NULL, door_id, NULL, NULL, NULL, NULL FROM {DoorAlias._meta.db_table} "
        f"WHERE organization_id = %s AND merged_door_id IN {doors_in}"
    )
    params = [
        *(org_id, user_id, *door_params, org_id, org_id, *door_params),
        *(org_id, user_id, *assignment_params, org_id, *door_params),
    ]
    return sql, params


def _load_context(
    *, membership: Membership, items: Sequence[AttemptItem | SimpleNamespace], now: dt.datetime
) -> PushContext:
    from canvass.campaigns.models import SurveyOption
    from turf.models import Person

    org_id = membership.organization_id
    user_id = membership.user_id
    door_ids = {i.door for i in items if i.door is not None}
    assignment_ids = {i.assignment for i in items if i.assignment is not None}
    person_ids = {i.person for i in items if i.person is not None}
    option_ids = {o for i in items if i.answers for o in i.answers.values()}

    # Result codes, doors, the canvasser's assignments and the doors of their
    # turfs (with each assignment's times) in one plain statement: four ORM
    # queries cost most of a push's CPU (compiling them, not running them)
    # under the load test. Tagged rows, UNION ALL; the numeric columns come
    # back as numbers of one type.
    sql, params = _context_sql(org_id=org_id, user_id=user_id, door_ids=door_ids, assignment_ids=assignment_ids)
    result_codes: dict[str, int] = {}
    doors: dict[int, tuple[float | None, float | None]] = {}
    # Ended assignments are found too: a knock made offline before the
    # organizer ended the assignment must not be lost. Membership is what
    # finds the assignment; its times decide whether the knock is trusted.
    assignments: dict[int, tuple[int, int]] = {}
    spans: dict[int, list[Span]] = {}
    visible_doors: set[int] = set()
    merged: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for tag, pk, code, a, b, starts_at, ends_at, ended_at in cursor.fetchall():
            if tag == "r":
                result_codes[code] = pk
            elif tag == "d":
                doors[pk] = (a, b)
            elif tag == "a":
                assignments[pk] = (int(a), int(b))
            elif tag == "m":
                merged[int(pk)] = int(a)
            else:
                ends = [_as_aware(t) for t in (ends_at, ended_at) if t is not None]
                end = min(ends) if ends else None
                spans.setdefault(pk, []).append(Span(int(a), _as_aware(starts_at), end))
                if end is None or end > now:  # current: canvass.field.selectors.current_assignment_q
                    visible_doors.add(pk)
    people = (
        dict(Person.objects.filter(organization_id=org_id, pk__in=person_ids).order_by().values_list("pk", "door_id"))
        if person_ids
        else {}
    )
    options = (
        {
            pk: (question_id, campaign_id)
            for pk, question_id, campaign_id in SurveyOption.objects.filter(
                pk__in=option_ids, question__campaign__organization_id=org_id
            )
            .order_by()
            .values_list("pk", "question_id", "question__campaign_id")
        }
        if option_ids
        else {}
    )
    return PushContext(result_codes, doors, assignments, spans, visible_doors, people, options, merged)


# An item's fields that _authorize reads, for one that failed validation (those that parsed replace them).
_NO_FIELDS: dict = {"door": None, "assignment": None, "result": None, "person": None, "answers": None}


def _to_survivor(item: AttemptItem, merged: dict[int, int]) -> AttemptItem:
    survivor = merged.get(item.door)
    if survivor is None:
        return item
    return dataclasses.replace(item, door=survivor, merged_from=item.door)


def _review(
    *, ctx: PushContext, door_id: int, campaign_id: int, corrected_at: dt.datetime, received_at: dt.datetime
) -> tuple[str, str]:
    """(review state, held reason) of a knock: trusted when one of the canvasser's
    assignments of this campaign holds the door and was held at the knock's time.

    Held means from FIELDOPS_KNOCK_GRACE_HOURS before it starts (canvassers
    start early) to as long after it ends; and the knock must reach the server
    within that grace of the end, too: past it, the server cannot tell a phone
    that synced late from a recorded_at set back by hand (corrected_at is the
    phone's word), so an organizer decides.
    """
    grace = dt.timedelta(hours=settings.FIELDOPS_KNOCK_GRACE_HOURS)
    spans = [span for span in ctx.spans.get(door_id, ()) if span.campaign_id == campaign_id]
    if not spans:
        return Review.HELD, HeldReason.OFF_LIST
    for span in spans:
        # corrected_at <= received_at (_corrected): the end test covers both.
        if corrected_at >= span.starts_at - grace and (span.end is None or received_at <= span.end + grace):
            return Review.TRUSTED, ""
    return Review.HELD, HeldReason.OUTSIDE_TIME


def _corrected(recorded_at: dt.datetime, skew: dt.timedelta, received_at: dt.datetime) -> dt.datetime:
    # A knock cannot have happened after the server received it.
    return min(recorded_at + skew, received_at)


def clock_skew(*, sent_at: dt.datetime, received_at: dt.datetime) -> dt.timedelta:
    """How far the phone's clock is behind the server's (negative: ahead).

    A gap within SYNC_SKEW_TOLERANCE_SECONDS is network and queueing delay,
    not a wrong clock, and is ignored.
    """
    skew = received_at - sent_at
    if abs(skew.total_seconds()) <= settings.SYNC_SKEW_TOLERANCE_SECONDS:
        return dt.timedelta(0)
    return skew


def _as_uuid(value: object) -> uuid.UUID:
    # PostgreSQL's driver gives UUIDs; SQLite stores them as 32 hex characters.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _as_aware(value: object) -> dt.datetime:
    # PostgreSQL gives aware datetimes; SQLite naive UTC (or text).
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _flag_speed(
    *, user_id: int, new: list[ContactAttempt], doors: dict[int, tuple[float | None, float | None]]
) -> None:
    """Set too_fast on new knocks reached from the canvasser's previous knock
    (by corrected time, stored or in this batch) faster than a person walks.

    One query: of the canvasser's stored knocks, those inside the batch's time
    span and the last one before it (at most SYNC_SPEED_WINDOW_SECONDS
    earlier): every other stored knock is nobody's predecessor. (Reading the
    whole hour before the batch cost a busy canvasser's push hundreds of rows.)
    Stored knocks are not re-flagged when an earlier one arrives later
    (attempts are append-only).
    """
    if not new:
        return
    window = dt.timedelta(seconds=settings.SYNC_SPEED_WINDOW_SECONDS)
    first = min(a.corrected_at for a in new)
    last = max(a.corrected_at for a in new)
    new_ids = {a.pk for a in new}
    attempts, doors_table = ContactAttempt._meta.db_table, Door._meta.db_table
    columns = f"a.id, a.corrected_at, d.lat, d.lng FROM {attempts} a JOIN {doors_table} d ON d.id = a.door_id"
    sql = (
        f"SELECT * FROM (SELECT {columns} WHERE a.canvasser_id = %s "  # noqa: S608
        "AND a.corrected_at >= %s AND a.corrected_at <= %s) x "
        f"UNION ALL SELECT * FROM (SELECT {columns} WHERE a.canvasser_id = %s "
        "AND a.corrected_at >= %s AND a.corrected_at < %s ORDER BY a.corrected_at DESC, a.id DESC LIMIT 1) y"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, adapt(first), adapt(last), user_id, adapt(first - window), adapt(first)])
        stored = [(_as_uuid(pk), _as_aware(at), lat, lng) for pk, at, lat, lng in cursor.fetchall()]
    timeline: list[tuple[dt.datetime, str, float | None, float | None, ContactAttempt | None]] = [
        (corrected_at, str(pk), lat, lng, None) for pk, corrected_at, lat, lng in stored if pk not in new_ids
    ]
    for attempt in new:
        lat, lng = doors.get(attempt.door_id, (None, None))
        timeline.append((attempt.corrected_at, str(attempt.pk), lat, lng, attempt))
    timeline.sort(key=lambda row: (row[0], row[1]))
    max_speed = settings.SYNC_MAX_SPEED_CM_PER_S / 100.0
    for (before, _, lat0, lng0, _), (now, _, lat1, lng1, knock) in zip(timeline, timeline[1:], strict=False):
        if knock is None or lat0 is None or lng0 is None or lat1 is None or lng1 is None:
            continue
        seconds = (now - before).total_seconds()
        if seconds > settings.SYNC_SPEED_WINDOW_SECONDS:
            continue
        distance = haversine_m(lat0, lng0, lat1, lng1)
        if distance < settings.SYNC_MIN_SPEED_DISTANCE_M:
            continue
        if seconds <= 0 or distance / seconds > max_speed:
            knock.too_fast = True


@dataclass(frozen=True)
class PushResult:
    receipts: list[Receipt]
    # The change-log position after this push (its last entry, or the head
    # when it stored nothing). Informational: a pull cursor comes from pull.
    position: int


def attempts_push(
    *,
    membership: Membership,
    device_id: str,
    sent_at: dt.datetime,
    items: Sequence[AttemptItem | Receipt],
    received_at: dt.datetime | None = None,
) -> PushResult:
    """Store a batch of knocks; one receipt per item, in order.

    `items` holds, per position, either a validated AttemptItem or the
    Receipt of an item that failed validation (rejected). One transaction
    and a constant number of queries for the whole batch.
    """
    received_at = received_at or timezone.now()
    skew = clock_skew(sent_at=sent_at, received_at=received_at)
    push_id = uuid.uuid4()
    user_id = membership.user_id
    org_id = membership.organization_id
    receipts: list[Receipt | None] = [item if isinstance(item, Receipt) else None for item in items]
    valid = [(index, item) for index, item in enumerate(items) if isinstance(item, AttemptItem)]
    # Items that failed validation, as the fields that parsed: checked against the data too.
    partial = [
        (item, SimpleNamespace(**{**_NO_FIELDS, **item.partial}))
        for item in items
        if isinstance(item, Receipt) and item.partial
    ]

    with transaction.atomic():
        ctx = _load_context(
            membership=membership, items=[*(i for _, i in valid), *(p for _, p in partial)], now=received_at
        )
        if ctx.merged:
            # Knocks at doors merged into another since the phone downloaded them land on
            # the surviving door (rare: read everything again for the batch as it now is).
            valid = [(index, _to_survivor(item, ctx.merged)) for index, item in valid]
            ctx = _load_context(
                membership=membership, items=[*(i for _, i in valid), *(p for _, p in partial)], now=received_at
            )
        for receipt, fields in partial:
            for name, problem in _authorize(fields, ctx).items():
                receipt.errors.setdefault(name, problem)
        to_store: dict[str, tuple[int, AttemptItem]] = {}
        authorized: list[tuple[int, AttemptItem]] = []
        unauthorized: list[tuple[int, AttemptItem]] = []
        for index, item in valid:
            errors = _authorize(item, ctx)
            if errors:
                receipts[index] = Receipt(item.id, REJECTED, errors)
                unauthorized.append((index, item))
                continue
            authorized.append((index, item))
            # The first authorized copy of an id in the batch is the one stored.
            to_store.setdefault(item.id, (index, item))

        rows: list[ContactAttempt] = []
        for _, item in to_store.values():
            campaign_id, _turf_id = ctx.assignments[item.assignment]
            door_lat, door_lng = ctx.doors[item.door]
            distance = None
            if item.lat is not None and item.lng is not None and door_lat is not None and door_lng is not None:
                distance = round(haversine_m(item.lat, item.lng, door_lat, door_lng), 1)
            corrected_at = _corrected(item.recorded_at, skew, received_at)
            review, held_reason = _review(
                ctx=ctx, door_id=item.door, campaign_id=campaign_id, corrected_at=corrected_at, received_at=received_at
            )
            # A person not at the door passed _authorize only at a door the
            # canvasser cannot see: stored without the person, answered alike.
            person_id = item.person if item.person is None or ctx.people.get(item.person) == item.door else None
            rows.append(
                ContactAttempt(
                    id=uuid.UUID(item.id),
                    organization_id=org_id,
                    campaign_id=campaign_id,
                    door_id=item.door,
                    person_id=person_id,
                    canvasser_id=user_id,
                    assignment_id=item.assignment,
                    result_code_id=ctx.result_codes[item.result],
                    support_level=item.support_level,
                    answers={str(q): o for q, o in item.answers.items()},
                    notes=item.notes,
                    device_id=device_id,
                    recorded_at=item.recorded_at,
                    received_at=received_at,
                    corrected_at=corrected_at,
                    lat=item.lat,
                    lng=item.lng,
                    accuracy_m=item.accuracy_m,
                    distance_m=distance,
                    off_list=item.door not in ctx.spans,
                    review=review,
                    held_reason=held_reason,
                    far_from_door=distance is not None
                    and distance - (item.accuracy_m or 0) > settings.SYNC_FAR_FROM_DOOR_M,
                    content_hash=item.content_hash,
                    push_id=push_id,
                )
            )
        _flag_speed(user_id=user_id, new=rows, doors=ctx.doors)
        # Sorted by id: two pushes that share ids insert them in one order and
        # so cannot deadlock on each other's uncommitted rows.
        rows.sort(key=lambda a: a.pk)
        _insert_ignoring_conflicts(rows)

        # Read back every valid id, also the unauthorized ones: a retry of a
        # knock stored before the canvasser lost the assignment is still a
        # duplicate (statuses are final), not a rejection.
        stored = _read_back({uuid.UUID(i.id) for _, i in valid})
        changes: list[Change] = []
        for index, item in authorized:
            attempt = stored.get(item.id)
            if attempt is None:  # pragma: no cover - validation keeps every check constraint
                raise RuntimeError(f"Attempt {item.id} was neither stored nor found")
            ours = attempt.push_id == push_id and to_store[item.id][0] == index
            if ours:
                receipts[index] = _stored_receipt(item.id, ACCEPTED, attempt)
                if attempt.review == Review.TRUSTED:
                    # A held knock is logged when it is approved: until then no phone may see it.
                    changes.append(
                        Change(
                            kind=SyncChange.Kind.ATTEMPT,
                            object_id=item.id,
                            door_id=item.door,
                            user_id=user_id,
                            device_id=device_id,
                        )
                    )
            elif attempt.canvasser_id == user_id and attempt.content_hash == item.content_hash:
                receipts[index] = _stored_receipt(item.id, DUPLICATE, attempt)
            else:
                receipts[index] = Receipt(item.id, CONFLICT, {"id": "Another knock with this id is stored; it stands."})
        for index, item in unauthorized:
            attempt = stored.get(item.id)
            if attempt is not None and attempt.canvasser_id == user_id and attempt.content_hash == item.content_hash:
                receipts[index] = _stored_receipt(item.id, DUPLICATE, attempt)
        # The organizer's numbers follow after commit (one coalesced, throttled task that sweeps:
        # canvass/stats/services.py); nothing here waits on a worker.
        if changes:
            stats_enqueue_after_push()
        # Last: the counter lock is held from here to commit.
        position = sync_changes_record_many(organization_id=org_id, changes=changes)
        if not position:
            position = (
                SyncCounter.objects.filter(organization_id=org_id).values_list("last_seq", flat=True).first() or 0
            )
    return PushResult(receipts=[r for r in receipts if r is not None], position=position)


# --- Review of held knocks (the organizer's queue: canvass/sync/admin.py) ----------------

# Which states each decision takes a knock from. A rejection is only of a held
# knock: a counted one may already be on other canvassers' phones, and pull has
# no tombstone for a knock (docs/sync-protocol.md). An approval is of a held
# knock, or of one rejected before (the organizer changed their mind).
APPROVABLE = (Review.HELD, Review.REJECTED)
REJECTABLE = (Review.HELD,)


@dataclass(frozen=True)
class ReviewResult:
    decided: list[uuid.UUID]  # the knocks this decision changed
    skipped: int  # asked for but not in a state the decision takes (decided meanwhile, or never held)


def _check_reviewer(*, actor: User, organization: Organization) -> None:
    """Organizers and admins of the organization (and the server's operator) decide."""
    if is_operator(actor):
        return
    membership = membership_for(actor)
    if membership is None or membership.organization_id != organization.pk or membership.role not in MANAGER_ROLES:
        raise PermissionDenied("Only the organization's organizers review knocks.")


def _attempts_review(
    *,
    actor: User,
    organization: Organization,
    attempt_ids: Sequence[uuid.UUID | str],
    decision: str,
    from_states: Sequence[str],
) -> ReviewResult:
    _check_reviewer(actor=actor, organization=organization)
    try:
        ids = sorted({uuid.UUID(str(i)) for i in attempt_ids})
    except ValueError:
        raise ValidationError("Not a knock's id.")
    now = timezone.now()
    with transaction.atomic():
        # Locked in id order (two organizers deciding overlapping batches do not
        # deadlock); scoped to the organization before any id is looked at.
        rows = list(
            ContactAttempt.objects.select_for_update()
            .filter(organization_id=organization.pk, pk__in=ids, review__in=from_states)
            .order_by("pk")
            .values("pk", "review", "held_reason", "door_id", "campaign_id", "canvasser_id", "corrected_at")
        )
        decided = [row["pk"] for row in rows]
        if decided:
            ContactAttempt.objects.filter(pk__in=decided, review__in=from_states).update(
                review=decision, reviewed_by=actor, reviewed_at=now
            )
            AuditLogEntry.objects.bulk_create(
                [
                    AuditLogEntry(
                        organization=organization,
                        actor=actor if actor.is_authenticated else None,
                        action=f"attempt.{'approve' if decision == Review.APPROVED else 'reject'}",
                        object_type=ContactAttempt._meta.label,
                        object_id=str(row["pk"]),
                        detail={
                            "from": row["review"],
                            "held_reason": row["held_reason"],
                            "canvasser": row["canvasser_id"],
                            "door": row["door_id"],
                            "campaign": row["campaign_id"],
                        },
                    )
                    for row in rows
                ],
                batch_size=500,
            )
        if decision == Review.APPROVED and rows:
            # Now it counts: its day's stats are recomputed (the sweep looks at
            # received_at, long past for a held knock), and other canvassers'
            # phones hear of it at their next pull; the walk list reads it now.
            tz = organization.tzinfo
            buckets = {(row["campaign_id"], local_day(row["corrected_at"], tz)) for row in rows}
            transaction.on_commit(lambda: stats_enqueue(buckets=buckets), robust=True)
            sync_changes_record_many(
                organization_id=organization.pk,
                changes=[
                    Change(
                        kind=SyncChange.Kind.ATTEMPT,
                        object_id=str(row["pk"]),
                        door_id=row["door_id"],
                        user_id=row["canvasser_id"],
                    )
                    for row in rows
                ],
            )
    return ReviewResult(decided=decided, skipped=len(ids) - len(decided))


def attempt_approve(*, actor: User, organization: Organization, attempt_ids: Sequence[uuid.UUID | str]) -> ReviewResult:
    """Approve held (or rejected) knocks: from now on they count everywhere.

    One transaction: the state, one audit entry per knock, the change-log
    entries phones pull, and (after commit) the stats of their days queued.
    Knocks of another organization, or not in a state to approve, are skipped.
    """
    return _attempts_review(
        actor=actor,
        organization=organization,
        attempt_ids=attempt_ids,
        decision=Review.APPROVED,
        from_states=APPROVABLE,
    )


def attempt_reject(*, actor: User, organization: Organization, attempt_ids: Sequence[uuid.UUID | str]) -> ReviewResult:
    """Reject held knocks: kept (append-only, audited), counted nowhere."""
    return _attempts_review(
        actor=actor,
        organization=organization,
        attempt_ids=attempt_ids,
        decision=Review.REJECTED,
        from_states=REJECTABLE,
    )
