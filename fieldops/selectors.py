"""Reads of the core app: device tokens and members, scoped by the caller."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from fieldops.access import MANAGER_ROLES, User, has_role, one_or_404, scope_to_organization
from fieldops.models import DeviceToken, Membership


def device_tokens_visible_to(user: User, *, live_only: bool = True) -> QuerySet[DeviceToken]:
    """The access check of device tokens: managers (and the operator) see every token of their
    organization; anyone else their own."""
    if user is None or not user.is_authenticated:
        return DeviceToken.objects.none()  # as scoping would: no organization, no tokens
    tokens = scope_to_organization(DeviceToken.objects.all(), user)
    if not has_role(user, MANAGER_ROLES):
        tokens = tokens.filter(user=user)
    if live_only:
        tokens = tokens.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    return tokens.select_related("user").order_by("-created_at", "-id")


def device_token_for_user(user: User, token_id: object) -> DeviceToken:
    """One device token the user may revoke, live or not: 404 alike for missing and not-yours."""
    return one_or_404(device_tokens_visible_to(user, live_only=False), token_id)


def members_of_organization(user: User) -> QuerySet[Membership]:
    """The active members of the caller's organization (the operator: of every one), by username."""
    members = scope_to_organization(Membership.objects.all(), user)
    return members.filter(is_active=True, user__is_active=True).select_related("user").order_by("user__username")
