"""Writes of the core app: organizations, members, the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from fieldops.access import STAFF_ROLES
from fieldops.models import AuditLogEntry, Membership, Organization, Role, validate_timezone

User = get_user_model()


@transaction.atomic
def organization_create(*, slug: str, name: str, timezone: str = "America/Los_Angeles") -> Organization:
    """Create an organization, or update the name and zone of the one with this slug."""
    validate_timezone(timezone)
    org, _ = Organization.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": timezone})
    org.full_clean()
    return org


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Create the user if new, and give them this role in the organization.

    A user already in another organization is refused: one login belongs to
    one chapter (see Membership).
    """
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first_name, "last_name": last_name}
    )
    existing = Membership.objects.filter(user=user).exclude(organization=organization).first()
    if existing is not None:
        raise ValidationError(
            {"username": f"{username!r} already belongs to {existing.organization.slug}; use another name."}
        )
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"organization": organization, "role": role, "is_active": True}
    )
    member_sync_staff_flag(membership=membership)
    return membership


def member_sync_staff_flag(*, membership: Membership) -> None:
    """Team leads and up work in the Django admin, which needs is_staff; canvassers do not.

    Call after a member's role or active flag changes. Superusers keep theirs.
    """
    user = membership.user
    if user.is_superuser:
        return
    should_be_staff = membership.is_active and membership.role in STAFF_ROLES
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])


def audit_log(
    *,
    organization: Organization,
    actor: AbstractBaseUser | None,
    action: str,
    obj: Any = None,
    **detail: Any,
) -> AuditLogEntry:
    """Write one audit entry (who, what, on which object, details)."""
    return AuditLogEntry.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail,
    )
