"""The change log that phone pulls read: every change a phone must hear of, in commit order.

A core module: canvass (knocks, assignments, turfs) and turf (doors, people)
both write it, each in the transaction that makes the change. The protocol is
described in docs/sync-protocol.md ("The cursor"); the rule that matters here:
every entry gets a sequence number handed out under the organization's
counter lock, taken as the last write of the transaction, so commit order is
sequence order.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from fieldops.models import SyncChange, SyncCounter


@dataclass(frozen=True)
class Change:
    """One entry to write to the change log; see SyncChange for the fields."""

    kind: str
    object_id: str | int
    door_id: int | None = None
    assignment_id: int | None = None
    turf_id: int | None = None
    user_id: int | None = None
    device_id: str = ""  # a knock's phone


def sync_changes_record_many(*, organization_id: int, changes: Sequence[Change]) -> int:
    """Append changes to the organization's log; returns the last sequence number.

    Call it inside the transaction that makes the change, as late as you can:
    it takes the organization's counter row lock and holds it until commit,
    which is what makes commit order equal sequence order (concurrent writers
    of one organization wait here for each other, for as long as the rest of
    the transaction takes). Called outside a transaction it still is correct
    (the change was committed before its entry, so a reader who sees the entry
    sees the change); only the entry may then be missing if the process dies
    in between.
    """
    if not changes:
        return 0
    kinds = set(SyncChange.Kind.values)
    for change in changes:
        if change.kind not in kinds:
            raise ValueError(f"Unknown sync change kind {change.kind!r}")
    # Everything but the numbers is prepared before the counter lock is taken:
    # while it is held, other pushes of the organization wait, so the locked
    # part is two plain statements (no ORM compiling in between) and the commit.
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (
            change.kind,
            str(change.object_id),
            change.door_id,
            change.assignment_id,
            change.turf_id,
            change.user_id,
            change.device_id,
        )
        for change in changes
    ]
    unnest = _change_unnest()
    statements = []
    if unnest is None:
        limit = connection.features.max_query_params  # None on PostgreSQL; 999 on SQLite
        per_statement = CHANGE_ROWS_PER_INSERT if limit is None else max(1, limit // len(_CHANGE_COLUMNS))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            statements.append((start, chunk, _CHANGE_INSERT + "VALUES " + ", ".join([_CHANGE_VALUES] * len(chunk))))
    else:
        columns = [list(column) for column in zip(*rows, strict=True)]
    # No savepoint: a failure here fails the caller's transaction anyway, and a
    # savepoint is two more round trips on every push.
    with transaction.atomic(savepoint=False):
        last = _counter_advance(organization_id, len(changes))
        if last is None:
            # The row exists once per organization; ON CONFLICT DO NOTHING makes
            # the first writers of a new organization safe against each other.
            SyncCounter.objects.bulk_create([SyncCounter(organization_id=organization_id)], ignore_conflicts=True)
            last = _counter_advance(organization_id, len(changes))
            if last is None:  # pragma: no cover - the row was just made
                raise RuntimeError(f"No sync counter for organization {organization_id}")
        first = last - len(changes) + 1
        with connection.cursor() as cursor:
            if unnest is not None:
                # One parameter a column: the statement stays short, so psycopg does not rewrite
                # thousands of placeholders while the organization's pushes wait on the lock.
                cursor.execute(
                    unnest,
                    [organization_id, created_at, list(range(first, last + 1)), *columns],
                )
            for start, chunk, sql in statements:
                cursor.execute(
                    sql,
                    [
                        value
                        for offset, row in enumerate(chunk, first + start)
                        for value in (organization_id, offset, *row, created_at)
                    ],
                )
    return last


# SyncChange rows are written, on PostgreSQL, by one INSERT … SELECT FROM UNNEST (_change_unnest);
# elsewhere by plain INSERTs of up to this many rows (fewer where the database limits
# parameters: SQLite's 999). Either is built before the counter lock is taken.
CHANGE_ROWS_PER_INSERT = 1000
_CHANGE_COLUMNS = (
    "organization_id",
    "seq",
    "kind",
    "object_id",
    "door_id",
    "assignment_id",
    "turf_id",
    "user_id",
    "device_id",
    "created_at",
)
_CHANGE_INSERT = f"INSERT INTO {SyncChange._meta.db_table} ({', '.join(_CHANGE_COLUMNS)}) "  # noqa: S608
_CHANGE_VALUES = "(" + ", ".join(["%s"] * len(_CHANGE_COLUMNS)) + ")"


@functools.cache
def _change_unnest() -> str | None:
    """PostgreSQL: the log rows' INSERT with one array a column (kind … device_id), the
    organization, created_at and the numbers (an array, given under the lock) beside them,
    as Django 5.2's bulk_create inserts; None elsewhere (plain VALUES rows)."""
    if connection.vendor != "postgresql":
        return None
    varying = _CHANGE_COLUMNS[2:-1]  # kind, object_id, door_id, assignment_id, turf_id, user_id, device_id
    arrays = ", ".join(
        f"(%s)::{SyncChange._meta.get_field(name).db_type(connection).split('(')[0]}[]"  # type: ignore[union-attr]  # concrete fields have a db_type
        for name in varying
    )
    seq_type = SyncChange._meta.get_field("seq").db_type(connection)
    return (
        f"{_CHANGE_INSERT}SELECT %s, t.seq, {', '.join(f't.{name}' for name in varying)}, %s "
        f"FROM UNNEST((%s)::{seq_type}[], {arrays}) AS t(seq, {', '.join(varying)})"
    )


def _counter_advance(organization_id: int, count: int) -> int | None:
    """Take `count` numbers from the organization's counter; the new last_seq, or None without a row.

    One statement: the UPDATE takes the row lock (held until commit, which is
    what orders commits by number) and RETURNING hands back the value it wrote.
    A concurrent writer's UPDATE waits for that commit and then re-reads the
    row (READ COMMITTED), so numbers are never handed out twice. The same as
    SELECT … FOR UPDATE then UPDATE, in one round trip instead of two.
    SQLite has UPDATE … RETURNING since 3.35.
    """
    table = connection.ops.quote_name(SyncCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + %s WHERE organization_id = %s RETURNING last_seq",  # noqa: S608
            [count, organization_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def sync_changes_record(
    *,
    organization_id: int,
    kind: str,
    object_id: str | int,
    door_id: int | None = None,
    assignment_id: int | None = None,
    turf_id: int | None = None,
    user_id: int | None = None,
) -> int:
    """Record one change for pull. What other code must call, in its transaction:

    - an assignment created, edited (times, turf) or ended:
      kind="assignment", object_id=assignment.id, assignment_id=assignment.id;
    - a canvasser added to or removed from an assignment: the same, plus
      user_id=<that canvasser> (a removed canvasser is no longer a member and
      is found by this id);
    - a turf's doors or walk order changed: kind="turf", object_id=turf.id, turf_id=turf.id;
    - a door or a person edited: kind="door"/"person", object_id=its id, door_id=<the door>.

    Contact attempts are recorded by attempts_push itself.
    """
    return sync_changes_record_many(
        organization_id=organization_id,
        changes=[
            Change(
                kind=kind,
                object_id=object_id,
                door_id=door_id,
                assignment_id=assignment_id,
                turf_id=turf_id,
                user_id=user_id,
            )
        ],
    )


def changes_for_assignment(
    *, assignment_id: int, user_ids: Iterable[int] = (), turf_id: int | None = None
) -> list[Change]:
    """The log entries for an assignment change: one for the assignment and one
    per canvasser added or removed (who must hear of it even when removed).

    Before deleting an assignment, log it with all its canvassers and its
    turf: once the rows are gone, the entries are all that names them.
    """
    changes = [
        Change(kind=SyncChange.Kind.ASSIGNMENT, object_id=assignment_id, assignment_id=assignment_id, turf_id=turf_id)
    ]
    changes += [
        Change(
            kind=SyncChange.Kind.ASSIGNMENT,
            object_id=assignment_id,
            assignment_id=assignment_id,
            turf_id=turf_id,
            user_id=u,
        )
        for u in user_ids
    ]
    return changes


PRUNE_ROWS_PER_DELETE = 5000


def sync_changes_prune(*, now: dt.datetime | None = None, keep_days: int | None = None) -> int:
    """Delete change-log entries older than the horizon (SYNC_LOG_KEEP_DAYS); returns how many.

    Per organization, everything up to the last entry older than the horizon
    goes, and the counter's `pruned_seq` says so: a pull whose cursor is below
    it is told to start over with a snapshot (canvass/sync/selectors.py).
    `pruned_seq` is raised before any row is deleted (and each delete is its
    own short transaction, never holding the counter lock that pushes wait
    for), so a pull never reads a log with a hole it is not told of.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=keep_days if keep_days is not None else settings.SYNC_LOG_KEEP_DAYS)
    floors = dict(
        SyncChange.objects.filter(created_at__lt=cutoff)
        .order_by()
        .values("organization_id")
        .annotate(last=Max("seq"))
        .values_list("organization_id", "last")
    )
    deleted = 0
    for organization_id, floor in sorted(floors.items()):
        SyncCounter.objects.filter(organization_id=organization_id).update(pruned_seq=Greatest(F("pruned_seq"), floor))
        while True:
            ids = list(
                SyncChange.objects.filter(organization_id=organization_id, seq__lte=floor)
                .order_by("seq")
                .values_list("pk", flat=True)[:PRUNE_ROWS_PER_DELETE]
            )
            if not ids:
                break
            deleted += SyncChange.objects.filter(pk__in=ids).delete()[0]
    return deleted
