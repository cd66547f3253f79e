"""Role checks for API views, from the caller's membership (fieldops.access)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from fieldops.access import MANAGER_ROLES, STAFF_ROLES, membership_for


def has_role(user, roles: frozenset[str]) -> bool:
    membership = membership_for(user)
    return membership is not None and membership.role in roles


class IsMember(BasePermission):
    """An active member of an organization (any role)."""

    message = "You are not a member of an organization."

    def has_permission(self, request, view) -> bool:
        return membership_for(request.user) is not None


class IsStaffMember(BasePermission):
    """Admin, organizer or team lead: may read their organization's rosters and assignments."""

    message = "Only organizers and team leads may do this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, STAFF_ROLES)


class IsManager(BasePermission):
    """Admin or organizer: may create and change their organization's shifts and assignments."""

    message = "Only organizers may do this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, MANAGER_ROLES)
