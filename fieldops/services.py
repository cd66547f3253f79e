"""Writes of the core app: organizations, members, the audit log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone

from fieldops.access import STAFF_ROLES
from fieldops.models import (
    AuditLogEntry,
    DeviceToken,
    Membership,
    Organization,
    Role,
    char_max_length,
    validate_timezone,
)
from fieldops.tokens import generate_key, hash_key, token_ttl

logger = logging.getLogger(__name__)


def _check_organization(slug: str, name: str, zone: str) -> None:
    try:
        validate_slug(slug)
    except ValidationError:
        raise ValidationError({"slug": "A slug is letters, numbers, hyphens and underscores."}) from None
    if not name.strip():
        raise ValidationError({"name": "Name the organization."})
    try:
        validate_timezone(zone)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from None


@transaction.atomic
def organization_create(
    *, slug: str, name: str, timezone: str = "America/Los_Angeles", actor: User | None = None
) -> Organization:
    """Create an organization, or update the name and zone of the one with this slug."""
    _check_organization(slug, name, timezone)
    org, created = Organization.objects.update_or_create(slug=slug, defaults={"name": name, "timezone": timezone})
    org.full_clean()
    audit_log(
        organization=org,
        actor=actor,
        action="organization.create" if created else "organization.update",
        obj=org,
        slug=slug,
        timezone=timezone,
    )
    return org


ORGANIZATION_EDITABLE = frozenset({"slug", "name", "timezone"})


@transaction.atomic
def organization_update(*, organization: Organization, actor: User | None, **changes: Any) -> Organization:
    """Rename an organization or change its zone: only the fields given are written.
    (The slug names it in commands and URLs; the admin lets only the server's admin change it.)"""
    unknown = set(changes) - ORGANIZATION_EDITABLE
    if unknown:
        raise ValueError(f"organization_update cannot change {', '.join(sorted(unknown))}")
    if not changes:
        return organization
    merged = {name: changes.get(name, getattr(organization, name)) for name in ORGANIZATION_EDITABLE}
    _check_organization(merged["slug"], merged["name"], merged["timezone"])
    if "slug" in changes and Organization.objects.filter(slug=changes["slug"]).exclude(pk=organization.pk).exists():
        raise ValidationError({"slug": "Another organization has this slug."})
    Organization.objects.filter(pk=organization.pk).update(**changes)
    for name, value in changes.items():
        setattr(organization, name, value)
    audit_log(
        organization=organization,
        actor=actor,
        action="organization.update",
        obj=organization,
        fields=sorted(changes),
    )
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization, actor: User | None) -> None:
    """Delete an organization with everything it holds (the server's admin only).

    Its audit log goes with it, so the deletion is written to the server's log instead.
    """
    logger.warning(
        "organization deleted: %s (id %s) by %s",
        organization.slug,
        organization.pk,
        actor.get_username() if actor is not None else "the server",
    )
    # Its members' logins stay, without a membership: none of them works in the admin any more.
    users = list(User.objects.filter(membership__organization=organization, is_superuser=False))
    organization.delete()
    for user in users:
        if user.is_staff:
            user.is_staff = False
            user.save(update_fields=["is_staff"])


def member_login_name(organization: Organization, name: str) -> str:
    """The login an organizer's new member gets: the chapter's slug, a hyphen, the name they typed
    ("maria" in venice is "venice-maria"). Logins are one namespace across the server, so a name
    typed bare could only be refused by telling the chapter that another chapter uses it; in its
    own prefix a chapter meets only its own logins."""
    name = name.strip()
    prefix = f"{organization.slug}-"
    return name if name.startswith(prefix) else prefix + name


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
    phone: str = "",
    actor: User | None = None,
) -> Membership:
    """Create the user if new, and give them this role in the organization.

    A user already in another organization is refused: one login belongs to
    one chapter (see Membership).
    """
    _check_member(role, phone)
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
    defaults: dict[str, Any] = {"organization": organization, "role": role, "is_active": True}
    if phone:
        defaults["phone"] = phone
    membership, _ = Membership.objects.update_or_create(user=user, defaults=defaults)
    member_sync_staff_flag(membership=membership)
    audit_log(
        organization=organization,
        actor=actor,
        action="member.add",
        obj=membership,
        user_id=user.pk,
        username=username,
        role=role,
        new_login=created,
    )
    return membership


def _check_member(role: str, phone: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    max_phone = char_max_length(Membership, "phone")
    if len(phone) > max_phone:
        raise ValidationError({"phone": f"A phone number may be at most {max_phone} characters."})


MEMBER_EDITABLE = frozenset({"role", "is_active", "phone"})


@transaction.atomic
def member_update(*, membership: Membership, actor: User | None, **changes: Any) -> Membership:
    """An organizer changes a member's role, active flag or phone: only the fields given are written.

    The admin flag follows (team leads and up work in the admin). A member who
    is not active any more cannot log in on a phone nor pull (fieldops/tokens.py).
    """
    unknown = set(changes) - MEMBER_EDITABLE
    if unknown:
        raise ValueError(f"member_update cannot change {', '.join(sorted(unknown))}")
    if not changes:
        return membership
    _check_member(changes.get("role", membership.role), changes.get("phone", membership.phone))
    Membership.objects.filter(pk=membership.pk).update(**changes)
    for name, value in changes.items():
        setattr(membership, name, value)
    member_sync_staff_flag(membership=membership)
    audit_log(
        organization=membership.organization,
        actor=actor,
        action="member.update",
        obj=membership,
        user_id=membership.user_id,
        **{name: changes[name] for name in sorted(changes) if name != "phone"},
        fields=sorted(changes),
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: User | None) -> None:
    """Take a member out of the organization; their login stays, with no membership (and no admin)."""
    audit_log(
        organization=membership.organization,
        actor=actor,
        action="member.remove",
        obj=membership,
        user_id=membership.user_id,
        username=membership.user.get_username(),
        role=membership.role,
    )
    user = membership.user
    membership.delete()
    if user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


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
    actor: User | None,
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


@dataclass(frozen=True)
class IssuedToken:
    """A new device token and its key: the only moment the key exists in the clear."""

    token: DeviceToken
    key: str


def device_token_create(*, user: User, device_id: str, device_name: str = "", ip: str | None = None) -> IssuedToken:
    """Log a phone in: a new token for this user on this device.

    The user must be an active member of an organization (one login belongs to
    one chapter). A live token of the same device is revoked first: one device,
    one live token (the partial unique constraint device_token_one_live_per_device
    holds it even when two logins of one device race; the loser retries once).
    """
    membership = Membership.objects.select_related("organization").filter(user=user, is_active=True).first()
    if membership is None or not user.is_active:
        raise ValidationError({"non_field_errors": "This login is not a member of an organization."})
    device_id = device_id.strip()
    if not device_id:
        raise ValidationError({"device_id": "Name the device."})
    for attempt in range(2):
        key = generate_key()
        now = timezone.now()
        try:
            with transaction.atomic():
                replaced = DeviceToken.objects.filter(user=user, device_id=device_id, revoked_at__isnull=True).update(
                    revoked_at=now, revoked_by=user
                )
                token = DeviceToken.objects.create(
                    user=user,
                    organization=membership.organization,
                    key_hash=hash_key(key),
                    key_prefix=key[:8],
                    device_id=device_id,
                    device_name=device_name.strip(),
                    expires_at=now + token_ttl(),
                )
                audit_log(
                    organization=membership.organization,
                    actor=user,
                    action="token.create",
                    obj=token,
                    device_id=device_id,
                    device_name=token.device_name,
                    replaced=replaced,
                    ip=ip or "",
                )
        except IntegrityError:
            if attempt == 1:
                raise
            continue
        return IssuedToken(token=token, key=key)
    raise AssertionError("unreachable")


@transaction.atomic
def device_token_revoke(*, token: DeviceToken, actor: User) -> bool:
    """Revoke a token now. Idempotent: False when it was revoked already.

    A conditional update, so two revocations at once write one audit entry.
    """
    revoked = DeviceToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    if revoked:
        audit_log(
            organization=token.organization,
            actor=actor,
            action="token.revoke",
            obj=token,
            user_id=token.user_id,
            device_id=token.device_id,
        )
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return bool(revoked)
