"""Access checks: the one place that says who may see and change what.

Every view, admin page, dashboard and export scopes its queryset through these
helpers before looking up an id, and answers "not found" alike for missing,
malformed and not-yours. This module holds the rule and the organization's
check; the checks of the other object types build on it (turf/access.py:
district layers and districts; canvass/access.py: campaigns, turfs,
assignments, shifts, doors and people).

The rule for superusers (docs/architecture.md, "Access"): an active superuser
runs the server, and every check treats them as an admin of every
organization: they see and manage every organization's rows, in the admin and
the API alike. What needs a membership still needs one: a phone login, a
knock, a walk list of one's own (a superuser's own assignments are those of
their membership, if any). Anybody else sees their one active membership's
organization, with its role; a user without one sees nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404

from fieldops.models import Membership, Organization, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import User as AuthUser

# Who asks: a user, an anonymous visitor, or nobody (a caller without a request).
User: TypeAlias = "AuthUser | AnonymousUser | None"

M = TypeVar("M", bound=Model)

# The attribute of a User object that caches its membership (membership_for, the token login).
_CACHED_MEMBERSHIP = "_fieldops_membership"

# Roles that run the campaign: they see everything of their organization.
MANAGER_ROLES = frozenset({Role.ADMIN, Role.ORGANIZER})
STAFF_ROLES = frozenset({Role.ADMIN, Role.ORGANIZER, Role.TEAM_LEAD})

# Database ids are 64-bit signed: a longer number is no id (SQLite cannot even bind it).
MAX_ID = 2**63 - 1


class _Server:
    """The server itself, for management commands and tasks: the operator, with no login."""

    pk = None
    is_active = True
    is_superuser = True
    is_authenticated = True

    def __repr__(self) -> str:
        return "SERVER"


# Who a management command acts as: `campaigns_for_user(SERVER)` is every organization's campaigns.
SERVER: Any = _Server()


def is_operator(user: User) -> bool:
    """An active superuser: the server's operator, an admin of every organization."""
    return bool(user is not None and getattr(user, "is_superuser", False) and user.is_active)


def membership_for(user: User) -> Membership | None:
    """The user's active membership, or None. Cached on the user object."""
    if user is None or not user.is_authenticated or user.pk is None:
        return None
    if hasattr(user, _CACHED_MEMBERSHIP):
        return getattr(user, _CACHED_MEMBERSHIP)
    membership = Membership.objects.select_related("organization").filter(user=user, is_active=True).first()
    remember_membership(user, membership)
    return membership


def remember_membership(user: User, membership: Membership | None) -> None:
    """Cache the user's active membership (or None) on the user object, for this request."""
    setattr(user, _CACHED_MEMBERSHIP, membership)


def organization_for(user: User) -> Organization | None:
    """The organization of the user's own membership (an operator's too: None without one)."""
    membership = membership_for(user)
    return membership.organization if membership else None


def has_role(user: User, roles: frozenset[str]) -> bool:
    """Does the user act with one of these roles? An operator acts as an admin everywhere."""
    if is_operator(user):
        return True
    membership = membership_for(user)
    return membership is not None and membership.role in roles


def is_member(user: User) -> bool:
    """An active member of an organization, or the operator."""
    return is_operator(user) or membership_for(user) is not None


def parse_id(value: Any) -> int | None:
    """A database id from a path, a query or a body; None for anything else (2**70, "7a", -1, True)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None


def scope_to_organization(queryset: QuerySet[M], user: User, field: str = "organization") -> QuerySet[M]:
    """Rows of the user's organization (`field` leads there); every row for the operator, none for a non-member."""
    if is_operator(user):
        return queryset
    organization = organization_for(user)
    if organization is None:
        return queryset.none()
    return queryset.filter(**{field: organization.pk})


def one_or_404(queryset: QuerySet[M], object_id: Any) -> M:
    """The row with this id of an already scoped queryset; 404 alike for missing, foreign and malformed."""
    pk = parse_id(object_id)
    if pk is None:
        raise Http404
    try:
        return queryset.get(pk=pk)
    except ObjectDoesNotExist:  # .get() raises the model's DoesNotExist
        raise Http404 from None


def get_scoped_or_404(queryset: QuerySet[M], user: User, **lookup: object) -> M:
    """One row of the user's organization, or 404 for missing and foreign alike."""
    if set(lookup) == {"pk"}:
        return one_or_404(scope_to_organization(queryset, user), lookup["pk"])
    try:
        return scope_to_organization(queryset, user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):  # .get() raises the model's DoesNotExist
        raise Http404 from None


# --- Organizations ---------------------------------------------------------------


def organizations_for_user(user: User, organizations: QuerySet[Organization] | None = None) -> QuerySet[Organization]:
    """The organizations the user may see (of `organizations`, default all): their own; every one for the operator."""
    if organizations is None:
        organizations = Organization.objects.all()
    return scope_to_organization(organizations, user, field="pk")


def organization_for_user(user: User, organization_id: Any) -> Organization:
    """The access chokepoint for organizations: 404 alike for missing and not-yours."""
    return one_or_404(organizations_for_user(user), organization_id)
