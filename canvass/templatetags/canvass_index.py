"""The admin index's lead: the organizer's active campaigns, for each the doors knocked against
the goal, who is out now and today's shifts, and the way into each one's screens.

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
from django.utils import timezone

from canvass.access import campaigns_for_user
from canvass.stats import selectors as stats_selectors
from canvass.sync.models import ContactAttempt, HeldKnock, Review
from canvass.turfs.models import Turf

register = template.Library()


def _count(queryset: Any) -> Coalesce:
    # A subquery per figure: two joined Counts would multiply turfs by knocks.
    counted = queryset.filter(campaign=OuterRef("pk")).order_by().values("campaign").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def campaign_links(campaign_id: int) -> list[tuple[str, str]]:
    """(label, url) of every admin screen of one campaign, in the order an organizer works."""
    turfs = reverse("admin:canvass_turf_changelist") + f"?campaign__id__exact={campaign_id}&status__exact=active"
    return [
        ("Dashboard", reverse("admin:canvass_campaign_dashboard", args=[campaign_id])),
        ("Turf map", reverse("admin:canvass_campaign_turf_map", args=[campaign_id])),
        ("Cut turfs", reverse("admin:canvass_campaign_cut_turfs", args=[campaign_id])),
        ("Turfs & walk sheets", turfs),
        ("Assignments", reverse("admin:canvass_assignment_changelist") + f"?campaign__id__exact={campaign_id}"),
        ("Shifts", reverse("admin:canvass_shift_changelist") + f"?campaign__id__exact={campaign_id}"),
        ("Export for VAN", reverse("admin:canvass_campaign_export_van", args=[campaign_id])),
        ("Campaign & script", reverse("admin:canvass_campaign_change", args=[campaign_id])),
    ]


@register.inclusion_tag("admin/canvass/_campaign_nav.html", takes_context=True)
def campaign_nav(context: template.Context, campaign: Any) -> dict[str, Any]:
    """The campaign's screens as a bar at the top of each of them (the one shown is not a link)."""
    request = context.get("request")
    here = request.path if request is not None else ""
    links = [(label, url, url.split("?")[0] == here) for label, url in campaign_links(campaign.pk)]
    return {"campaign": campaign, "links": links}


@register.inclusion_tag("admin/canvass/_index_campaigns.html", takes_context=True)
def organizer_campaigns(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    campaigns = (
        campaigns_for_user(request.user)
        .filter(is_active=True)
        .select_related("organization")
        .annotate(
            active_turfs=_count(Turf.objects.filter(status=Turf.Status.ACTIVE)),
            held_knocks=_count(ContactAttempt.objects.filter(review=Review.HELD)),
        )
        .order_by("name")
    )
    held_admin = admin.site._registry.get(HeldKnock)
    sees_held = held_admin is not None and held_admin.has_view_permission(request)
    now = timezone.now()
    rows = []
    for campaign in campaigns:
        links = campaign_links(campaign.pk)
        held = None
        if sees_held:
            held = reverse("admin:canvass_heldknock_changelist") + f"?campaign__id__exact={campaign.pk}"
        # A few queries a campaign: an organization has a handful of active campaigns.
        progress = stats_selectors.campaign_progress(campaign=campaign, now=now)
        out = stats_selectors.out_now(campaign=campaign, now=now)
        tz = campaign.organization.tzinfo
        shifts = [
            {**shift, "starts": timezone.localtime(shift["starts_at"], tz)}
            for shift in stats_selectors.shifts_of_day(campaign=campaign, now=now)
        ]
        rows.append(
            {
                "campaign": campaign,
                "links": links,
                "held_url": held,
                "progress": progress,
                "out": [entry["name"] for entry in out],
                "shifts": shifts,
            }
        )
    return {"rows": rows, "sees_held": sees_held}
