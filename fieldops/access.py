"""Access checks: the one place that says who may see and change what.

Every view and admin page scopes its queryset through these helpers before
looking up an id, and answers "not found" alike for missing and not-yours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from fieldops.models import Membership, Organization, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

M = TypeVar("M", bound=Model)

# Roles that run the campaign: they see everything of their organization.
MANAGER_ROLES = frozenset({Role.ADMIN, Role.ORGANIZER})
STAFF_ROLES = frozenset({Role.ADMIN, Role.ORGANIZER, Role.TEAM_LEAD})


def membership_for(user: AbstractBaseUser | AnonymousUser | None) -> Membership | None:
    """The user's active membership, or None. Cached on the user object."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_fieldops_membership", False)
    if cached is not False:
        return cached
    membership = Membership.objects.select_related("organization").filter(user=user, is_active=True).first()
    user._fieldops_membership = membership  # type: ignore[union-attr]
    return membership


def organization_for(user: AbstractBaseUser | AnonymousUser | None) -> Organization | None:
    membership = membership_for(user)
    return membership.organization if membership else None


def scope_to_organization(
    queryset: QuerySet[M], user: AbstractBaseUser | AnonymousUser | None, field: str = "organization"
) -> QuerySet[M]:
    """Rows of the user's organization; none at all for a user without one.

    Superusers see every organization (they run the server, not a chapter).
    """
    if user is not None and getattr(user, "is_superuser", False) and user.is_active:
        return queryset
    organization = organization_for(user)
    if organization is None:
        return queryset.none()
    return queryset.filter(**{field: organization})


def get_scoped_or_404(queryset: QuerySet[M], user: AbstractBaseUser | AnonymousUser | None, **lookup: object) -> M:
    """One row of the user's organization, or 404 for missing and foreign alike."""
    try:
        return scope_to_organization(queryset, user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
