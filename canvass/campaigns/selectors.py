"""Reads of campaigns."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from canvass.campaigns.models import Campaign
from fieldops.access import membership_for


def campaigns_of(user: AbstractBaseUser) -> QuerySet[Campaign]:
    membership = membership_for(user)
    if membership is None:
        return Campaign.objects.none()
    return Campaign.objects.filter(organization_id=membership.organization_id).order_by("name", "id")
