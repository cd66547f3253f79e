"""django-q2 tasks of the stats: they take ids, re-fetch, and call one service."""

from __future__ import annotations


def stats_aggregate(sweep: bool = False) -> str:
    """Queued after pushes (coalesced), and every minute by the schedule with sweep=True."""
    from canvass.stats import services as stats_services

    result = stats_services.stats_aggregate(sweep=sweep)
    return f"stats: {result.marked} buckets marked by the sweep, {result.processed} recomputed"


def dashboard_render(campaign_id: int) -> str:
    """Queued by a dashboard view that found the shared page body out of date."""
    from canvass.campaigns.models import Campaign
    from canvass.stats.dashboard import dashboard_body_refresh

    campaign = Campaign.objects.select_related("organization").filter(pk=campaign_id).first()
    if campaign is None:
        return f"dashboard {campaign_id}: no such campaign"
    dashboard_body_refresh(campaign)
    return f"dashboard {campaign_id}: rendered"
