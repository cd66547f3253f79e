"""Shared pieces of management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from fieldops.models import Organization


def organization_or_error(slug: str) -> Organization:
    """The organization with this slug, or a CommandError that says how to create it."""
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"No organization with slug {slug!r}; create it first with create_org.")
    return organization
