"""Role checks for API views, from the caller's membership (fieldops.access: the operator passes all)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from fieldops.access import MANAGER_ROLES, STAFF_ROLES, has_role, is_member

__all__ = ["IsManager", "IsMember", "IsStaffMember", "has_role"]


class IsMember(BasePermission):
    """An active member of an organization (any role)."""

    message = "You are not a member of an organization."

    def has_permission(self, request, view) -> bool:
        return is_member(request.user)


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
