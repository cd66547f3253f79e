"""Reads of the core app: device tokens and members, scoped by the caller."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from fieldops.access import MANAGER_ROLES, membership_for
from fieldops.models import DeviceToken, Membership


def device_tokens_visible_to(user: AbstractBaseUser, *, live_only: bool = True) -> QuerySet[DeviceToken]:
    """An organizer's or admin's view: every token of their organization; anyone else: their own."""
    membership = membership_for(user)
    if membership is None:
        return DeviceToken.objects.none()
    tokens = DeviceToken.objects.filter(organization=membership.organization)
    if membership.role not in MANAGER_ROLES:
        tokens = tokens.filter(user=user)
    if live_only:
        tokens = tokens.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    return tokens.select_related("user").order_by("-created_at", "-id")


def members_of_organization(user: AbstractBaseUser) -> QuerySet[Membership]:
    """The active members of the caller's organization, by username."""
    membership = membership_for(user)
    if membership is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(organization=membership.organization, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
