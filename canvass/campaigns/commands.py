"""Helpers shared by the canvass management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from canvass.access import campaigns_for_user
from canvass.campaigns.models import Campaign
from fieldops.access import SERVER


def campaign_or_error(slug: str, org: str | None) -> Campaign:
    """The campaign a command names: commands run on the server, for every organization (fieldops.access.SERVER)."""
    campaigns = campaigns_for_user(SERVER, Campaign.objects.select_related("organization")).filter(slug=slug)
    if org:
        campaigns = campaigns.filter(organization__slug=org)
    found = list(campaigns[:2])
    if not found:
        raise CommandError(f"No campaign with the slug {slug!r}" + (f" in {org!r}" if org else "") + ".")
    if len(found) > 1:
        raise CommandError(f"Several organizations have a campaign {slug!r}: add --org SLUG.")
    return found[0]
