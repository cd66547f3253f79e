"""Access checks of field work: one scoper and one lookup per object type.

    campaigns_for_user(user)   campaign_for_user(user, id)
    turfs_for_user(user)       turf_for_user(user, id)
    turf_cut_jobs_for_user     turf_cut_job_for_user
    assignments_for_user       assignment_for_user
    shifts_for_user            shift_for_user
    doors_for_user             door_for_user
    people_for_user            person_for_user

Every API view, dashboard and export finds its objects here (the admin's
screens too, through fieldops/admin_scoping.py), so the rule is written once
(fieldops/access.py and docs/architecture.md, "Access"):

- the operator (an active superuser) sees every organization's rows;
- staff (admin, organizer, team lead) see every row of their organization;
- a canvasser sees their organization's campaigns and shifts, and of the
  rest only what their own current assignments give them: those assignments,
  their turfs, and the doors and people on those turfs;
- anybody else sees nothing.

Each scoper takes an optional queryset to narrow (with its select_related,
annotations…) so that a view shapes its query and still goes through the
one rule. A lookup answers 404 alike for missing, foreign, not-yours and
malformed ids (2**70, "7a").
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from canvass.campaigns.models import Campaign
from canvass.field.models import Assignment, Shift
from canvass.field.selectors import assignments_current_for
from canvass.turfs.models import Turf, TurfCutJob, TurfDoor
from fieldops.access import STAFF_ROLES, User, has_role, one_or_404, scope_to_organization
from turf.models import Door, Person


def sees_whole_organization(user: User) -> bool:
    """Staff and the operator see every row of the organizations they see; a canvasser only their own work."""
    return has_role(user, STAFF_ROLES)


# --- Campaigns --------------------------------------------------------------------


def campaigns_for_user(user: User, campaigns: QuerySet[Campaign] | None = None) -> QuerySet[Campaign]:
    """Campaigns of the user's organization (any member); every one for the operator."""
    return scope_to_organization(Campaign.objects.all() if campaigns is None else campaigns, user)


def campaign_for_user(user: User, campaign_id: Any, campaigns: QuerySet[Campaign] | None = None) -> Campaign:
    """The access chokepoint for campaigns."""
    if campaigns is None:
        campaigns = Campaign.objects.select_related("organization")
    return one_or_404(campaigns_for_user(user, campaigns), campaign_id)


# --- Turfs ------------------------------------------------------------------------


def turfs_for_user(user: User, turfs: QuerySet[Turf] | None = None) -> QuerySet[Turf]:
    """Staff: their organization's turfs; a canvasser: the turfs of their current assignments."""
    turfs = Turf.objects.all() if turfs is None else turfs
    if sees_whole_organization(user):
        return scope_to_organization(turfs, user)
    return turfs.filter(pk__in=assignments_current_for(user).values("turf_id"))


def turf_for_user(user: User, turf_id: Any, turfs: QuerySet[Turf] | None = None) -> Turf:
    """The access chokepoint for turfs."""
    return one_or_404(turfs_for_user(user, turfs), turf_id)


def turf_cut_jobs_for_user(user: User, jobs: QuerySet[TurfCutJob] | None = None) -> QuerySet[TurfCutJob]:
    """Runs of the turf cutter: staff of the organization."""
    jobs = TurfCutJob.objects.all() if jobs is None else jobs
    return scope_to_organization(jobs, user) if sees_whole_organization(user) else jobs.none()


def turf_cut_job_for_user(user: User, job_id: Any) -> TurfCutJob:
    return one_or_404(turf_cut_jobs_for_user(user), job_id)


# --- Assignments ------------------------------------------------------------------


def assignments_for_user(user: User, assignments: QuerySet[Assignment] | None = None) -> QuerySet[Assignment]:
    """Staff: every assignment of their organization, ended ones too; a canvasser:
    their own current ones only (an ended assignment's walk list is gone for them)."""
    assignments = Assignment.objects.all() if assignments is None else assignments
    if sees_whole_organization(user):
        return scope_to_organization(assignments, user)
    return assignments.filter(pk__in=assignments_current_for(user).values("pk"))


def assignment_for_user(user: User, assignment_id: Any, assignments: QuerySet[Assignment] | None = None) -> Assignment:
    """The access chokepoint for assignments (turf, campaign, shift and organization joined unless
    `assignments` says)."""
    if assignments is None:
        assignments = Assignment.objects.select_related("turf", "campaign", "shift", "organization")
    return one_or_404(assignments_for_user(user, assignments), assignment_id)


# --- Shifts -----------------------------------------------------------------------


def shifts_for_user(user: User, shifts: QuerySet[Shift] | None = None) -> QuerySet[Shift]:
    """Shifts of the user's organization (any member signs up); every one for the operator."""
    return scope_to_organization(Shift.objects.all() if shifts is None else shifts, user)


def shift_for_user(user: User, shift_id: Any, shifts: QuerySet[Shift] | None = None) -> Shift:
    """The access chokepoint for shifts."""
    return one_or_404(shifts_for_user(user, shifts), shift_id)


# --- Doors and people -------------------------------------------------------------


def doors_for_user(user: User, doors: QuerySet[Door] | None = None) -> QuerySet[Door]:
    """Staff: their organization's doors; a canvasser: the doors of their current assignments' turfs."""
    doors = Door.objects.all() if doors is None else doors
    if sees_whole_organization(user):
        return scope_to_organization(doors, user)
    on_my_turfs = TurfDoor.objects.filter(turf_id__in=assignments_current_for(user).values("turf_id"))
    return doors.filter(pk__in=on_my_turfs.values("door_id"))


def door_for_user(user: User, door_id: Any) -> Door:
    """The access chokepoint for doors."""
    return one_or_404(doors_for_user(user), door_id)


def people_for_user(user: User, people: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """The people at the doors the user may see (doors_for_user)."""
    people = Person.objects.all() if people is None else people
    if sees_whole_organization(user):
        return scope_to_organization(people, user)
    return people.filter(door_id__in=doors_for_user(user).values("pk"))


def person_for_user(user: User, person_id: Any) -> Person:
    """The access chokepoint for people."""
    return one_or_404(people_for_user(user), person_id)
