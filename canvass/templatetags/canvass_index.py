"""The admin index's lead: the organizer's active campaigns and the way into each one's screens.

The index template (canvass/templates/admin/canvass/index.html, set as the admin
site's index_template in canvass/admin.py) extends fieldops's own, so fieldops
stays unaware of canvass (DESIGN.md: dependencies point canvass → fieldops).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from canvass.access import campaigns_for_user
from canvass.sync.models import ContactAttempt, HeldKnock, Review
from canvass.turfs.models import Turf

register = template.Library()


def _count(queryset: Any) -> Coalesce:
    # A subquery per figure: two joined Counts would multiply turfs by knocks.
    counted = queryset.filter(campaign=OuterRef("pk")).order_by().values("campaign").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


@register.inclusion_tag("admin/canvass/_index_campaigns.html", takes_context=True)
def organizer_campaigns(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    campaigns = (
        campaigns_for_user(request.user)
        .filter(is_active=True)
        .annotate(
            active_turfs=_count(Turf.objects.filter(status=Turf.Status.ACTIVE)),
            held_knocks=_count(ContactAttempt.objects.filter(review=Review.HELD)),
        )
        .order_by("name")
    )
    held_admin = admin.site._registry.get(HeldKnock)
    sees_held = held_admin is not None and held_admin.has_view_permission(request)
    rows = []
    for campaign in campaigns:
        turfs = reverse("admin:canvass_turf_changelist") + f"?campaign__id__exact={campaign.pk}&status__exact=active"
        links = [
            ("Dashboard", reverse("admin:canvass_campaign_dashboard", args=[campaign.pk])),
            ("Turf map", reverse("admin:canvass_campaign_turf_map", args=[campaign.pk])),
            ("Cut turfs", reverse("admin:canvass_campaign_cut_turfs", args=[campaign.pk])),
            ("Turfs & walk sheets", turfs),
        ]
        held = None
        if sees_held:
            held = reverse("admin:canvass_heldknock_changelist") + f"?campaign__id__exact={campaign.pk}"
        rows.append({"campaign": campaign, "links": links, "held_url": held})
    return {"rows": rows, "sees_held": sees_held}
