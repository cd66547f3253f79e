"""Reads of the phone sync: what changed for a canvasser since their cursor.

A pull without a cursor is a snapshot, paged by door id: the canvasser's
current assignments, their doors with their people, and the other
canvassers' knocks at those doors. Its last page hands over an incremental
cursor, positioned at the head of the change log as it was *before* the
snapshot was read, so nothing committed meanwhile is missed (some of it may be
sent twice, which is harmless: everything is sent whole and keyed by id).

An incremental pull reads the change log after the cursor's sequence number,
keeps the entries that concern this canvasser, and sends each touched object
as it is now, or a tombstone when the canvasser may no longer see it. The
number of queries is constant per page. See docs/sync-protocol.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from canvass.field.models import Assignment, AssignmentCanvasser
from canvass.field.selectors import DOOR_FIELDS, current_assignment_q, local_time
from canvass.sync.models import ContactAttempt, Review
from canvass.turfs.models import TurfDoor
from fieldops.date_bounds import moment_problem
from fieldops.models import Membership, SyncChange, SyncCounter
from turf.models import Door, Person

CURSOR_VERSION = 1
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class BadCursor(Exception):
    pass


@dataclass(frozen=True)
class Cursor:
    """A position in one organization's change log (never a phone clock).

    `seq` is the last sequence number the phone has. `at` serves one thing
    only: assignments that run out by time (ends_at passes), a moment no
    write logs. It is the latest ends_at already dealt with (a server time,
    never the phone's), so it moves only when an assignment ran out, and a
    pull repeated with the same cursor and no change in between gives the
    same answer, cursor included.
    `snapshot_after` is set while a snapshot is being paged: the last door id sent.
    """

    organization_id: int
    seq: int
    at: dt.datetime
    snapshot_after: int | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {
            "v": CURSOR_VERSION,
            "o": self.organization_id,
            "s": self.seq,
            "t": self.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        }
        if self.snapshot_after is not None:
            data["d"] = self.snapshot_after
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, organization_id: int) -> Cursor:
        try:
            if len(text) > 512:
                raise ValueError
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
                raise ValueError
            seq, org, after = data["s"], data["o"], data.get("d")
            at = dt.datetime.fromisoformat(data["t"])
            if (
                type(seq) is not int
                or type(org) is not int
                or seq < 0
                or at.tzinfo is None
                or (after is not None and (type(after) is not int or after < 0))
            ):
                raise ValueError
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise BadCursor("Not a cursor this server gave; pull without a cursor to start over.")
        # The server only writes times between the epoch and now; a time near the
        # calendar's ends overflowed when it was converted to UTC (a 500).
        if moment_problem(at):
            raise BadCursor("This cursor's time is out of range; pull without a cursor to start over.")
        if org != organization_id:
            raise BadCursor("This cursor is of another organization; pull without a cursor to start over.")
        return cls(organization_id=org, seq=seq, at=at, snapshot_after=after)


_COUNTER_SQL = f"SELECT last_seq, pruned_seq FROM {SyncCounter._meta.db_table} WHERE organization_id = %s"  # noqa: S608


def _counter(organization_id: int) -> tuple[int, int]:
    """(last sequence number handed out, pruned up to) of the organization's log; (0, 0)
    before its first entry. Every entry up to the first is committed (it was handed out
    under the counter lock, held by its writer until commit). Plain SQL: every pull
    reads it, and the ORM's compiling of it cost more than the query."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNTER_SQL, [organization_id])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _head_seq(organization_id: int) -> int:
    """The last sequence number handed out (see _counter)."""
    return _counter(organization_id)[0]


def _current_assignments_for(*, user_id: int, organization_id: int, now: dt.datetime) -> QuerySet[Assignment]:
    """The user's current assignments. The canonical definition (phone-auth
    branch): not ended, not past ends_at, and the user is one of its canvassers."""
    return Assignment.objects.filter(
        current_assignment_q(now), organization_id=organization_id, members__user_id=user_id
    )


ASSIGNMENT_FIELDS = ("id", "campaign_id", "turf_id", "turf__name", "shift_id", "starts_at", "ends_at")
# The walk list's door fields: a door reads the same on the phone whichever way it came.


def _assignment_out(row: dict, door_lists: dict[int, list[int]]) -> dict:
    return {
        "id": row["id"],
        "campaign": row["campaign_id"],
        "turf": row["turf_id"],
        "turf_name": row["turf__name"],
        "shift": row["shift_id"],
        "starts_at": local_time(row["starts_at"]),
        "ends_at": local_time(row["ends_at"]),
        "doors": door_lists.get(row["turf_id"], []),
    }


def _doors_out(door_ids: set[int]) -> list[dict]:
    """Doors with their people nested (a door is always sent with all its people:
    the phone replaces the door's people, so a person removed is dropped too)."""
    if not door_ids:
        return []
    people: dict[int, list[dict]] = {}
    for person in (
        Person.objects.filter(door_id__in=door_ids)
        .order_by("door_id", "last_name", "first_name", "id")
        .values("id", "door_id", "first_name", "last_name")
    ):
        people.setdefault(person["door_id"], []).append(
            {"id": person["id"], "first_name": person["first_name"], "last_name": person["last_name"]}
        )
    doors = []
    for door in Door.objects.filter(pk__in=door_ids).order_by("pk").values(*DOOR_FIELDS):
        door["people"] = people.get(door["id"], [])
        doors.append(door)
    return doors


def _attempts_out(queryset: QuerySet[ContactAttempt]) -> list[dict]:
    """Other canvassers' knocks: enough not to knock a door twice, no notes."""
    return [
        {
            "id": str(row["id"]),
            "door": row["door_id"],
            "person": row["person_id"],
            "assignment": row["assignment_id"],
            "result": row["result_code__code"],
            "canvasser": row["canvasser_id"],
            "corrected_at": local_time(row["corrected_at"]),
        }
        for row in queryset.order_by("corrected_at", "id").values(
            "id", "door_id", "person_id", "assignment_id", "result_code__code", "canvasser_id", "corrected_at"
        )
    ]


def _empty_page(cursor: Cursor, *, has_more: bool, reset: bool) -> dict:
    return {
        "cursor": cursor.encode(),
        "has_more": has_more,
        "reset": reset,
        "assignments": [],
        "doors": [],
        "attempts": [],
        "tombstones": {"assignments": [], "doors": [], "people": []},
    }


def sync_pull(
    *,
    membership: Membership,
    cursor: Cursor | None,
    now: dt.datetime | None = None,
    page_size: int | None = None,
    held_assignments: frozenset[int] = frozenset(),
    device_id: str | None = None,
) -> dict:
    """One page of what changed for this canvasser since `cursor` (None: a snapshot).

    `device_id` is the phone that asks (its token's): an incremental pull then
    also sends the canvasser's own knocks made on their other phones. Without
    it (a browser session), the canvasser's own knocks are never echoed.

    `held_assignments` (optional) are the assignment ids the phone holds: any
    that is not a current assignment of the canvasser is tombstoned, whether
    or not the write that ended it was logged. A safety net for writers that
    do not call sync_changes_record; the phone drops the doors no assignment
    lists any more.
    """
    now = now or timezone.now()
    page_size = page_size or settings.SYNC_PULL_PAGE_SIZE
    if cursor is None:
        cursor = _cursor_at_head(membership=membership, now=now, snapshot_after=0)
        return _snapshot_page(membership=membership, cursor=cursor, now=now, page_size=page_size)
    if cursor.snapshot_after is not None:
        return _snapshot_page(membership=membership, cursor=cursor, now=now, page_size=page_size)
    return _incremental_page(
        membership=membership,
        cursor=cursor,
        now=now,
        page_size=page_size,
        held_assignments=held_assignments,
        device_id=device_id,
    )


def _cursor_at_head(*, membership: Membership, now: dt.datetime, snapshot_after: int | None) -> Cursor:
    """A cursor at the head of the log as it is now. Read it *before* what it covers:
    whatever commits after this is re-read from the log."""
    org_id = membership.organization_id
    # One statement: the head, and the latest ends_at already past of the user's assignments.
    # Plain SQL (the walk list and every snapshot read it; the ORM's compiling of it cost more
    # than the query).
    with connection.cursor() as cursor:
        cursor.execute(
            _HEAD_SQL,
            [org_id, org_id, membership.user_id, connection.ops.adapt_datetimefield_value(now)],
        )
        head, ran_out = cursor.fetchone()
    col, converters = _ends_at_converters()
    for converter in converters:
        ran_out = converter(ran_out, col, connection)
    head = head or 0  # no counter row: nothing logged yet in this organization
    return Cursor(organization_id=org_id, seq=head, at=ran_out or EPOCH, snapshot_after=snapshot_after)


_HEAD_SQL = (
    f"SELECT (SELECT last_seq FROM {SyncCounter._meta.db_table} WHERE organization_id = %s), "  # noqa: S608
    f"(SELECT MAX(a.ends_at) FROM {Assignment._meta.db_table} a "
    f"JOIN {AssignmentCanvasser._meta.db_table} ac ON ac.assignment_id = a.id "
    "WHERE a.organization_id = %s AND ac.user_id = %s AND a.ends_at <= %s)"
)


@functools.cache
def _ends_at_converters() -> tuple[Any, list]:
    """MAX(ends_at) read as the ORM reads the column (SQLite answers text): the column and its converters."""
    col = Assignment._meta.get_field("ends_at").get_col(Assignment._meta.db_table)
    return col, [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]


def sync_cursor_at_head(*, membership: Membership, now: dt.datetime | None = None) -> str:
    """An incremental pull cursor at the head of the change log, for a response that
    carries the phone's whole state of one assignment (the walk list): call it before
    reading that state. A phone that holds nothing else continues from it with
    incremental pulls and needs no snapshot (docs/sync-protocol.md, "The walk list's cursor")."""
    return _cursor_at_head(membership=membership, now=now or timezone.now(), snapshot_after=None).encode()


def _snapshot_page(*, membership: Membership, cursor: Cursor, now: dt.datetime, page_size: int) -> dict:
    user_id, org_id = membership.user_id, membership.organization_id
    after = cursor.snapshot_after or 0
    current = _current_assignments_for(user_id=user_id, organization_id=org_id, now=now)
    visible = TurfDoor.objects.filter(turf__assignments__in=current).values("door_id")
    door_ids = list(
        Door.objects.filter(pk__in=visible, pk__gt=after).order_by("pk").values_list("pk", flat=True)[: page_size + 1]
    )
    has_more = len(door_ids) > page_size
    door_ids = door_ids[:page_size]
    if has_more:
        next_cursor = Cursor(organization_id=org_id, seq=cursor.seq, at=cursor.at, snapshot_after=door_ids[-1])
    else:
        next_cursor = Cursor(organization_id=org_id, seq=cursor.seq, at=cursor.at)
        # Changes logged while the snapshot was read are waiting behind it.
        has_more = _head_seq(org_id) > cursor.seq
    page = _empty_page(next_cursor, has_more=has_more, reset=after == 0)
    if after == 0:
        rows = list(current.order_by("id").values(*ASSIGNMENT_FIELDS))
        door_lists = _door_lists({row["turf_id"] for row in rows})
        page["assignments"] = [_assignment_out(row, door_lists) for row in rows]
        campaign_ids = sorted({row["campaign_id"] for row in rows})
    else:
        campaign_ids = sorted(set(current.values_list("campaign_id", flat=True)))
    page["doors"] = _doors_out(set(door_ids))
    # Per door, its latest knock that counts in the campaigns of the canvasser's
    # assignments (what the phone shows: the door done or not, and its last
    # result), whoever made it: a snapshot's size does not grow with the day's
    # knocks. And the canvasser's own held knocks (a new phone must not knock
    # again what the old one did), which count nowhere else. Others' held or
    # rejected knocks never (docs/architecture.md, "Trust").
    own_held = ContactAttempt.objects.filter(door_id__in=door_ids, canvasser_id=user_id, review=Review.HELD)
    ids: QuerySet[Any, Any] = own_held.order_by().values("pk")
    if campaign_ids:
        # One set of ids, a UNION: with "latest OR own held" PostgreSQL scanned every knock of
        # the table (an OR of a subquery and a condition uses no index), 25 ms at 200,000 knocks.
        ids = _latest_counted_ids(door_ids=door_ids, campaign_ids=campaign_ids).union(ids, all=True)
    page["attempts"] = _attempts_out(ContactAttempt.objects.filter(pk__in=ids))
    return page


def _latest_counted_ids(*, door_ids: list[int], campaign_ids: list[int]) -> QuerySet[Any, Any]:
    """The ids of each door's latest knock that counts in these campaigns, whoever made it:
    what a phone shows of a door (done or not, its last result). One campaign (the usual case)
    as an equality: each door's latest knock is then the first entry of a backward scan of the
    (campaign, door, corrected_at, received_at) index; with campaign IN (…) PostgreSQL read and
    sorted every knock of the door."""
    in_campaigns = Q(campaign_id=campaign_ids[0]) if len(campaign_ids) == 1 else Q(campaign_id__in=campaign_ids)
    latest = (
        ContactAttempt.objects.counted()
        .filter(in_campaigns, door_id=OuterRef("pk"))
        .order_by("-corrected_at", "-received_at")
        .values("pk")[:1]
    )
    return Door.objects.filter(pk__in=door_ids).annotate(latest=Subquery(latest)).order_by().values("latest")


def _door_lists(turf_ids: set[int]) -> dict[int, list[int]]:
    lists: dict[int, list[int]] = {}
    if turf_ids:
        for turf_id, door_id in (
            TurfDoor.objects.filter(turf_id__in=turf_ids)
            .order_by("turf_id", "position")
            .values_list("turf_id", "door_id")
        ):
            lists.setdefault(turf_id, []).append(door_id)
    return lists


def _incremental_page(
    *,
    membership: Membership,
    cursor: Cursor,
    now: dt.datetime,
    page_size: int,
    held_assignments: frozenset[int] = frozenset(),
    device_id: str | None = None,
) -> dict:
    user_id, org_id = membership.user_id, membership.organization_id
    head, pruned = _counter(org_id)
    if cursor.seq > head:
        raise BadCursor("This cursor is ahead of the server; pull without a cursor to start over.")
    if cursor.seq < pruned:
        raise BadCursor(
            f"This cursor is older than the {settings.SYNC_LOG_KEEP_DAYS} days of changes the server keeps; "
            "pull without a cursor to start over."
        )

    # One read of the canvasser's assignments: the current ones, and those that
    # ran out (ends_at passed) since the cursor's mark; no write marks that
    # moment, so it is found by time, on the server's clock.
    current_rows: dict[int, dict] = {}
    ran_out: dict[int, dt.datetime] = {}
    for row in (
        Assignment.objects.filter(organization_id=org_id, members__user_id=user_id)
        .filter(current_assignment_q(now) | Q(ends_at__gt=cursor.at, ends_at__lte=now))
        .order_by()
        .values(*ASSIGNMENT_FIELDS, "ended_at")
    ):
        ends_at = row["ends_at"]
        if row["ended_at"] is None and (ends_at is None or ends_at > now):
            current_rows[row["id"]] = row
        if ends_at is not None and cursor.at < ends_at <= now:
            ran_out[row["id"]] = ends_at
    if cursor.seq == head and not ran_out:
        # Nothing logged since the cursor and no assignment ran out: the answer is empty but
        # for the held assignments that are no longer current (the same page the rest of this
        # function would build, without its queries). The pull of a phone that is up to date,
        # the most frequent request of a canvass day, costs these two small queries.
        page = _empty_page(cursor, has_more=False, reset=False)
        page["tombstones"]["assignments"] = sorted(held_assignments - current_rows.keys())
        return page
    current_turfs = {row["turf_id"] for row in current_rows.values()}
    visible_q = TurfDoor.objects.filter(turf_id__in=current_turfs).values("door_id")
    member_of = AssignmentCanvasser.objects.filter(user_id=user_id).values("assignment_id")
    K = SyncChange.Kind
    # Knocks at the turfs' doors: others', and with a device known the canvasser's own
    # from their other phones (this phone's own are dropped when the knocks are read).
    attempts_q = Q(kind=K.ATTEMPT, door_id__in=visible_q)
    if device_id is None:
        attempts_q &= ~Q(user_id=user_id)
    else:
        attempts_q &= ~Q(user_id=user_id, device_id=device_id)  # the phone's own: it has them
    relevant = (
        attempts_q
        | (Q(kind=K.ASSIGNMENT) & (Q(assignment_id__in=member_of) | Q(user_id=user_id)))
        | Q(kind=K.TURF, turf_id__in=current_turfs)
        | Q(kind__in=[K.DOOR, K.PERSON], door_id__in=visible_q)
    )
    entries = list(
        SyncChange.objects.filter(relevant, organization_id=org_id, seq__gt=cursor.seq, seq__lte=head)
        .order_by("seq")
        .values("seq", "kind", "object_id", "door_id", "assignment_id", "turf_id")[: page_size + 1]
    )
    has_more = len(entries) > page_size
    entries = entries[:page_size]
    next_seq = entries[-1]["seq"] if has_more else head

    touched = {e["assignment_id"] for e in entries if e["kind"] == K.ASSIGNMENT and e["assignment_id"] is not None}
    touched_turfs = {e["turf_id"] for e in entries if e["kind"] == K.TURF}
    touched |= {pk for pk, row in current_rows.items() if row["turf_id"] in touched_turfs}
    touched |= set(ran_out)
    mark = max([cursor.at, *ran_out.values()])
    page = _empty_page(Cursor(organization_id=org_id, seq=next_seq, at=mark), has_more=has_more, reset=False)
    send = sorted(pk for pk in touched if pk in current_rows)
    drop = sorted(pk for pk in touched if pk not in current_rows)

    sent_turfs = {current_rows[pk]["turf_id"] for pk in send}
    door_lists = _door_lists(sent_turfs)
    page["assignments"] = [_assignment_out(current_rows[pk], door_lists) for pk in send]
    doors_to_send = {d for turf in sent_turfs for d in door_lists.get(turf, [])}
    edited_doors = {e["door_id"] for e in entries if e["kind"] in (K.DOOR, K.PERSON) and e["door_id"] is not None}
    doors_to_send |= edited_doors

    if drop:
        # The turf of an assignment that was deleted is on its log entries.
        listed = set(Assignment.objects.filter(pk__in=drop).values_list("turf_id", flat=True))
        logged = {e["turf_id"] for e in entries if e["kind"] == K.ASSIGNMENT and e["assignment_id"] in drop}
        drop_turfs = {turf_id for turf_id in listed | logged if turf_id is not None}
        gone_doors = set(
            TurfDoor.objects.filter(turf_id__in=drop_turfs)
            .exclude(door_id__in=visible_q)
            .values_list("door_id", flat=True)
        )
        page["tombstones"] = {
            "assignments": drop,
            "doors": sorted(gone_doors),
            "people": sorted(Person.objects.filter(door_id__in=gone_doors).values_list("id", flat=True))
            if gone_doors
            else [],
        }

    # Held by the phone but not current: gone, logged or not. Only the id is
    # sent (the canvasser may never have been a member: no doors are named).
    unlogged = sorted(held_assignments - current_rows.keys() - set(drop))
    if unlogged:
        page["tombstones"]["assignments"] = sorted([*page["tombstones"]["assignments"], *unlogged])

    page["doors"] = _doors_out(doors_to_send)
    attempt_ids = [e["object_id"] for e in entries if e["kind"] == K.ATTEMPT]
    # Others' knocks that count, and the canvasser's own from another phone; a held
    # one is logged again when it is approved. No organization filter: the ids are of
    # this organization's log and the doors of its turfs, and with one SQLite read every
    # knock of the organization by its index instead of the few by id (38 ms at 200,000).
    others = ContactAttempt.objects.counted()
    if device_id is None:
        others = others.exclude(canvasser_id=user_id)
    else:
        others = others.exclude(canvasser_id=user_id, device_id=device_id)
    # A turf sent whole (an assignment new to the phone, or its turf changed): per door its
    # latest knock that counts, as a snapshot sends it, not every knock ever made there
    # (thousands on a heavy day).
    whole_turf_doors = sorted({d for turf in sent_turfs for d in door_lists.get(turf, [])})
    ids: QuerySet[Any, Any] | None = None
    if attempt_ids:
        ids = others.filter(pk__in=attempt_ids, door_id__in=visible_q).order_by().values("pk")
    if whole_turf_doors:
        campaigns = sorted({current_rows[pk]["campaign_id"] for pk in send})
        latest = _latest_counted_ids(door_ids=whole_turf_doors, campaign_ids=campaigns)
        ids = latest if ids is None else ids.union(latest, all=True)
    if ids is not None:
        page["attempts"] = _attempts_out(ContactAttempt.objects.filter(pk__in=ids))
    return page
