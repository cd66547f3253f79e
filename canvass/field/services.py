"""Writes of field work: shifts and sign-ups, assignments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import dateformat, timezone

from canvass.campaigns.models import Campaign
from canvass.field.models import Assignment, AssignmentCanvasser, Shift, ShiftSignup
from canvass.turfs.models import Turf
from fieldops.changelog import changes_for_assignment, sync_changes_record_many
from fieldops.date_bounds import moment_problem
from fieldops.exceptions import StateConflict
from fieldops.models import Membership, Organization
from fieldops.services import audit_log


@transaction.atomic
def shift_ensure(
    *,
    organization: Organization,
    campaign: Campaign | None,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location_name: str = "",
    lat: float | None = None,
    lng: float | None = None,
    capacity: int = 10,
) -> Shift:
    """The shift of this organization starting at this time with this name; created if missing."""
    _check_times(starts_at, ends_at)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "A shift must end after it starts."})
    shift, _ = Shift.objects.get_or_create(
        organization=organization,
        name=name,
        starts_at=starts_at,
        defaults={
            "campaign": campaign,
            "ends_at": ends_at,
            "location_name": location_name,
            "lat": lat,
            "lng": lng,
            "capacity": capacity,
        },
    )
    return shift


# --- Shifts: sign-up, cancel, check in and out, no-shows ------------------------
#
# Shift.signup_count is the number of sign-ups with status "signed_up". It is
# changed only by conditional UPDATEs (`signup_count < capacity` to take a
# place), so two volunteers taking the last place at once cannot both get it;
# the CheckConstraint shift_not_overfilled is the backstop.

CHECK_IN_EARLY = dt.timedelta(hours=2)
MAX_SHIFT_CAPACITY = 1000


class ShiftFullError(StateConflict):
    """No place left on the shift (the API answers 409, as every StateConflict)."""


def _validate_location(lat: float | None, lng: float | None) -> None:
    if (lat is None) != (lng is None):
        raise ValidationError({"lat": "Give lat and lng together, or neither."})
    if lat is not None and not -90 <= lat <= 90:
        raise ValidationError({"lat": "Latitude must be between -90 and 90."})
    if lng is not None and not -180 <= lng <= 180:
        raise ValidationError({"lng": "Longitude must be between -180 and 180."})


@transaction.atomic
def shift_create(
    *,
    organization: Organization,
    actor: User,
    campaign: Campaign | None,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location_name: str = "",
    lat: float | None = None,
    lng: float | None = None,
    capacity: int = 10,
) -> Shift:
    """An organizer schedules a shift (the API and the admin)."""
    _check_shift(organization, campaign, starts_at, ends_at, capacity, lat, lng)
    shift = Shift.objects.create(
        organization=organization,
        campaign=campaign,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        location_name=location_name,
        lat=lat,
        lng=lng,
        capacity=capacity,
    )
    audit_log(organization=organization, actor=actor, action="shift.create", obj=shift, name=name)
    return shift


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime | None) -> None:
    """Times within 1970–2100 (fieldops/date_bounds.py), whoever writes them (API,
    admin, commands): an assignment ending 9999-12-31 overflowed every push to
    its doors, when the grace period was added to its end."""
    problems = {
        name: problem
        for name, moment in (("starts_at", starts_at), ("ends_at", ends_at))
        if moment is not None and (problem := moment_problem(moment))
    }
    if problems:
        raise ValidationError(problems)


def _check_shift(
    organization: Organization,
    campaign: Campaign | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    lat: float | None,
    lng: float | None,
) -> None:
    if campaign is not None and campaign.organization_id != organization.pk:
        raise ValidationError({"campaign": "No such campaign."})
    _check_times(starts_at, ends_at)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "A shift must end after it starts."})
    if not 1 <= capacity <= MAX_SHIFT_CAPACITY:
        raise ValidationError({"capacity": f"Capacity must be between 1 and {MAX_SHIFT_CAPACITY}."})
    _validate_location(lat, lng)


SHIFT_EDITABLE = frozenset({"name", "campaign", "starts_at", "ends_at", "location_name", "lat", "lng", "capacity"})


@transaction.atomic
def shift_update(*, shift: Shift, actor: User, **changes: object) -> Shift:
    """An organizer edits a shift: only the fields given are written.

    signup_count is never written from a loaded row (sign-ups change it by
    conditional UPDATEs meanwhile); a lower capacity is written by an UPDATE
    that checks the sign-ups at that moment, so it cannot fall below them.
    """
    unknown = set(changes) - SHIFT_EDITABLE
    if unknown:
        raise ValueError(f"shift_update cannot change {', '.join(sorted(unknown))}")
    if not changes:
        return shift
    merged: dict[str, Any] = {name: changes.get(name, getattr(shift, name)) for name in SHIFT_EDITABLE}
    _check_shift(
        shift.organization,
        merged["campaign"],
        merged["starts_at"],
        merged["ends_at"],
        merged["capacity"],
        merged["lat"],
        merged["lng"],
    )
    written = Shift.objects.filter(pk=shift.pk, signup_count__lte=merged["capacity"]).update(**changes)
    if not written:
        taken = Shift.objects.filter(pk=shift.pk).values_list("signup_count", flat=True).first() or 0
        raise StateConflict({"capacity": f"{taken} people are signed up; the capacity cannot be less."})
    for name, value in changes.items():
        setattr(shift, name, value)
    shift.refresh_from_db(fields=["signup_count"])
    audit_log(
        organization=shift.organization,
        actor=actor,
        action="shift.update",
        obj=shift,
        fields=sorted(changes),
    )
    return shift


@transaction.atomic
def shift_delete(*, shift: Shift, actor: User) -> None:
    """Delete a shift with its sign-ups; its assignments stay (without a shift)."""
    audit_log(
        organization=shift.organization,
        actor=actor,
        action="shift.delete",
        obj=shift,
        name=shift.name,
        signups=shift.signups.count(),
    )
    shift.delete()


def _take_place(shift: Shift) -> None:
    taken = Shift.objects.filter(pk=shift.pk, signup_count__lt=F("capacity")).update(signup_count=F("signup_count") + 1)
    if taken != 1:
        raise ShiftFullError({"shift": "This shift is full."})


def _free_place(shift: Shift) -> None:
    Shift.objects.filter(pk=shift.pk, signup_count__gt=0).update(signup_count=F("signup_count") - 1)


def shift_signup(*, shift: Shift, user: User, now: dt.datetime | None = None) -> ShiftSignup:
    """Sign the user up for the shift, or again after they cancelled.

    Idempotent: signing up twice keeps one place. Raises ShiftFullError when
    no place is left, StateConflict when the shift is over or the organizer
    marked the user a no-show.
    """
    now = now or timezone.now()
    if shift.ends_at <= now:
        raise StateConflict({"shift": "This shift is over; sign up for an upcoming one."})
    try:
        with transaction.atomic():
            existing = ShiftSignup.objects.select_for_update().filter(shift=shift, user=user).first()
            if existing is not None and existing.status == ShiftSignup.Status.SIGNED_UP:
                return existing
            if existing is not None and existing.status == ShiftSignup.Status.NO_SHOW:
                raise StateConflict({"shift": "You were marked a no-show; ask the organizer."})
            _take_place(shift)
            if existing is None:
                return ShiftSignup.objects.create(shift=shift, user=user)
            revived = ShiftSignup.objects.filter(pk=existing.pk, status=ShiftSignup.Status.CANCELLED).update(
                status=ShiftSignup.Status.SIGNED_UP
            )
            if revived != 1:  # changed since we read it: undo the place (rolls back)
                raise IntegrityError("sign-up changed concurrently")
            existing.refresh_from_db()
            return existing
    except IntegrityError:
        # Another request of the same user created or changed the row first, or
        # the CheckConstraint caught an overfill; both rolled back our place.
        current = ShiftSignup.objects.filter(shift=shift, user=user).first()
        if current is not None and current.status == ShiftSignup.Status.SIGNED_UP:
            return current
        if not Shift.objects.filter(pk=shift.pk, signup_count__lt=F("capacity")).exists():
            raise ShiftFullError({"shift": "This shift is full."}) from None
        raise StateConflict({"shift": "Your sign-up changed meanwhile; try again."}) from None


@transaction.atomic
def shift_cancel(*, shift: Shift, user: User) -> ShiftSignup:
    """Give the place back. Idempotent; refused once checked in."""
    signup = ShiftSignup.objects.select_for_update().filter(shift=shift, user=user).first()
    if signup is None:
        raise StateConflict({"shift": NOT_SIGNED_UP})
    if signup.checked_in_at is not None:
        raise StateConflict({"shift": "You have checked in; check out instead."})
    cancelled = ShiftSignup.objects.filter(pk=signup.pk, status=ShiftSignup.Status.SIGNED_UP).update(
        status=ShiftSignup.Status.CANCELLED
    )
    if cancelled:
        _free_place(shift)
    signup.refresh_from_db()
    return signup


NOT_SIGNED_UP = "You are not signed up for this shift; sign up first."


def _live_signup(shift: Shift, user: User) -> ShiftSignup:
    signup = ShiftSignup.objects.filter(shift=shift, user=user, status=ShiftSignup.Status.SIGNED_UP).first()
    if signup is None:
        raise StateConflict({"shift": NOT_SIGNED_UP})
    return signup


def _local_moment(shift: Shift, moment: dt.datetime, now: dt.datetime) -> str:
    """ "at 7:00 AM" today in the organization's zone, else "on Saturday, November 28 at 7:00 AM"."""
    zone = shift.organization.tzinfo
    local = timezone.localtime(moment, zone)
    at = dateformat.format(local, "g:i A")
    if local.date() != timezone.localtime(now, zone).date():
        return f"on {dateformat.format(local, 'l, F j')} at {at}"
    return f"at {at}"


def _no_show_opens_message(shift: Shift, now: dt.datetime) -> str:
    starts = _local_moment(shift, shift.starts_at, now)
    return f"The shift has not started yet; mark no-shows once it starts ({starts})."


def _check_in_opens_message(shift: Shift, now: dt.datetime) -> str:
    """When check-in opens, in the organization's local time, with the day when it is not today there:
    "Check-in opens at 7:00 AM, two hours before the shift starts."
    "Check-in opens on Saturday, November 28 at 7:00 AM, two hours before the shift starts." """
    opens = _local_moment(shift, shift.starts_at - CHECK_IN_EARLY, now)
    return f"Check-in opens {opens}, two hours before the shift starts."


@transaction.atomic
def shift_check_in(
    *,
    shift: Shift,
    user: User,
    lat: float | None = None,
    lng: float | None = None,
    now: dt.datetime | None = None,
) -> ShiftSignup:
    """Check in at the staging place, from two hours before the start to the end.

    With a location, the distance to the staging place (geodesic, metres) is
    kept in check_in_distance_m. Idempotent: a second check-in keeps the first.
    """
    from geopy.distance import geodesic

    now = now or timezone.now()
    _validate_location(lat, lng)
    signup = _live_signup(shift, user)
    if signup.checked_in_at is not None:
        return signup
    if now < shift.starts_at - CHECK_IN_EARLY:
        raise StateConflict({"shift": _check_in_opens_message(shift, now)})
    if now >= shift.ends_at:
        raise StateConflict({"shift": "This shift is over; check-in closed when it ended."})
    distance = None
    if lat is not None and shift.lat is not None and shift.lng is not None:
        distance = round(geodesic((shift.lat, shift.lng), (lat, lng)).meters, 1)
    ShiftSignup.objects.filter(pk=signup.pk, checked_in_at__isnull=True).update(
        checked_in_at=now, check_in_lat=lat, check_in_lng=lng, check_in_distance_m=distance
    )
    signup.refresh_from_db()
    return signup


@transaction.atomic
def shift_check_out(*, shift: Shift, user: User, now: dt.datetime | None = None) -> ShiftSignup:
    """Check out after checking in. Idempotent: the first check-out time stays."""
    now = now or timezone.now()
    signup = _live_signup(shift, user)
    if signup.checked_in_at is None:
        raise StateConflict({"shift": "You have not checked in; check in first."})
    ShiftSignup.objects.filter(pk=signup.pk, checked_out_at__isnull=True).update(
        checked_out_at=max(now, signup.checked_in_at)
    )
    signup.refresh_from_db()
    return signup


@transaction.atomic
def shift_mark_no_show(*, shift: Shift, user_id: int, actor: User, now: dt.datetime | None = None) -> ShiftSignup:
    """An organizer marks a signed-up volunteer who did not come. Their place is
    freed (a walk-in may take it). Only once the shift has started, only if they
    did not check in. Idempotent."""
    now = now or timezone.now()
    signup = ShiftSignup.objects.select_for_update().filter(shift=shift, user_id=user_id).first()
    if signup is None:
        raise StateConflict({"user": "This person is not signed up for this shift."})
    if signup.status == ShiftSignup.Status.NO_SHOW:
        return signup
    if signup.status != ShiftSignup.Status.SIGNED_UP:
        raise StateConflict({"user": "This person cancelled; their place is already free."})
    if signup.checked_in_at is not None:
        raise StateConflict({"user": "This person checked in."})
    if now < shift.starts_at:
        raise StateConflict({"shift": _no_show_opens_message(shift, now)})
    marked = ShiftSignup.objects.filter(pk=signup.pk, status=ShiftSignup.Status.SIGNED_UP).update(
        status=ShiftSignup.Status.NO_SHOW
    )
    if marked:
        _free_place(shift)
        audit_log(organization=shift.organization, actor=actor, action="shift.no_show", obj=signup, user_id=user_id)
    signup.refresh_from_db()
    return signup


# --- Assignments -------------------------------------------------------------------

MAX_CANVASSERS_PER_ASSIGNMENT = 50


def _validate_canvassers(organization: Organization, canvassers: Sequence[User]) -> list:
    unique = list({user.pk: user for user in canvassers}.values())
    if not unique:
        raise ValidationError({"canvassers": "Name at least one canvasser."})
    if len(unique) > MAX_CANVASSERS_PER_ASSIGNMENT:
        raise ValidationError({"canvassers": f"At most {MAX_CANVASSERS_PER_ASSIGNMENT} canvassers."})
    members = set(
        Membership.objects.filter(
            organization=organization, is_active=True, user__is_active=True, user__in=unique
        ).values_list("user_id", flat=True)
    )
    if any(user.pk not in members for user in unique):
        raise ValidationError({"canvassers": "Every canvasser must be an active member of the organization."})
    return unique


def assignment_changes_log(assignment: Assignment, user_ids: set[int]) -> None:
    """Tell the phones (sync pull): the assignment changed for these canvassers, added or removed."""
    sync_changes_record_many(
        organization_id=assignment.organization_id,
        changes=changes_for_assignment(
            assignment_id=assignment.pk, user_ids=sorted(user_ids), turf_id=assignment.turf_id
        ),
    )


@transaction.atomic
def assignment_create(
    *,
    organization: Organization,
    actor: User,
    turf: Turf,
    canvassers: Sequence[User],
    shift: Shift | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
) -> Assignment:
    """Give a turf to canvassers for a shift (its times, unless given) or a window.

    Without a shift or a start, it starts now; without an end, it runs until
    an organizer ends it.
    """
    if turf.organization_id != organization.pk:
        raise ValidationError({"turf": "No such turf."})
    # The turf's row lock, held to commit: a split, merge, archive or re-cut
    # (which lock it too) either archived it before (we see that here) or
    # waits for us and then finds the assignment and leaves the turf alone.
    turf = Turf.objects.select_for_update().get(pk=turf.pk)
    if turf.status != Turf.Status.ACTIVE:
        raise StateConflict({"turf": "This turf is archived; give an active turf."})
    if shift is not None and shift.organization_id != organization.pk:
        raise ValidationError({"shift": "No such shift."})
    if shift is not None and shift.campaign_id is not None and shift.campaign_id != turf.campaign_id:
        raise ValidationError({"shift": "This shift belongs to another campaign than the turf."})
    users = _validate_canvassers(organization, canvassers)
    if starts_at is None:
        starts_at = shift.starts_at if shift is not None else timezone.now()
    if ends_at is None and shift is not None:
        ends_at = shift.ends_at
    _check_times(starts_at, ends_at)
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": "An assignment must end after it starts."})
    assignment = Assignment.objects.create(
        organization=organization,
        campaign_id=turf.campaign_id,
        turf=turf,
        shift=shift,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
    )
    AssignmentCanvasser.objects.bulk_create(AssignmentCanvasser(assignment=assignment, user=user) for user in users)
    assignment_changes_log(assignment, {user.pk for user in users})
    audit_log(
        organization=organization,
        actor=actor,
        action="assignment.create",
        obj=assignment,
        turf_id=turf.pk,
        canvassers=sorted(user.pk for user in users),
        shift_id=shift.pk if shift is not None else None,
    )
    return assignment


@transaction.atomic
def assignment_end(*, assignment: Assignment, actor: User, now: dt.datetime | None = None) -> bool:
    """End it now: its canvassers lose it at once. Idempotent: False when it had ended already."""
    now = now or timezone.now()
    ended = Assignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(ended_at=now)
    if ended:
        assignment_changes_log(assignment, set(assignment.members.values_list("user_id", flat=True)))
        audit_log(organization=assignment.organization, actor=actor, action="assignment.end", obj=assignment)
    assignment.refresh_from_db(fields=["ended_at"])
    return bool(ended)


@transaction.atomic
def assignment_reassign(*, assignment: Assignment, canvassers: Sequence[User], actor: User) -> Assignment:
    """Replace the assignment's canvassers. Those removed lose it at once; the
    knocks they made stay theirs (attempts point at the canvasser, not here)."""
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.ended_at is not None:
        raise StateConflict({"non_field_errors": "This assignment has ended; create a new one."})
    users = _validate_canvassers(assignment.organization, canvassers)
    wanted = {user.pk for user in users}
    before = set(AssignmentCanvasser.objects.filter(assignment=assignment).values_list("user_id", flat=True))
    AssignmentCanvasser.objects.filter(assignment=assignment).exclude(user_id__in=wanted).delete()
    AssignmentCanvasser.objects.bulk_create(
        [AssignmentCanvasser(assignment=assignment, user_id=pk) for pk in wanted - before], ignore_conflicts=True
    )
    assignment_changes_log(assignment, wanted ^ before)
    audit_log(
        organization=assignment.organization,
        actor=actor,
        action="assignment.reassign",
        obj=assignment,
        added=sorted(wanted - before),
        removed=sorted(before - wanted),
    )
    return assignment


@transaction.atomic
def assignment_update(
    *,
    assignment: Assignment,
    actor: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
) -> Assignment:
    """Change the times of an assignment that has not ended. Its canvassers' phones
    hear of it at their next pull (the window decides which doors they hold)."""
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.ended_at is not None:
        raise StateConflict({"non_field_errors": "This assignment has ended; create a new one."})
    _check_times(starts_at, ends_at)
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": "An assignment must end after it starts."})
    if (locked.starts_at, locked.ends_at) == (starts_at, ends_at):
        return assignment
    Assignment.objects.filter(pk=assignment.pk).update(starts_at=starts_at, ends_at=ends_at)
    assignment.starts_at, assignment.ends_at = starts_at, ends_at
    assignment_changes_log(assignment, set(assignment.members.values_list("user_id", flat=True)))
    audit_log(
        organization=assignment.organization,
        actor=actor,
        action="assignment.update",
        obj=assignment,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat() if ends_at is not None else None,
    )
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment, actor: User) -> None:
    """Delete an assignment. Its canvassers lose it at their next pull; the knocks
    made under it stay (their assignment becomes empty)."""
    members = set(assignment.members.values_list("user_id", flat=True))
    # Logged before the delete: once the rows are gone, the entries are all that names them.
    assignment_changes_log(assignment, members)
    audit_log(
        organization=assignment.organization,
        actor=actor,
        action="assignment.delete",
        obj=assignment,
        turf_id=assignment.turf_id,
        canvassers=sorted(members),
    )
    assignment.delete()
