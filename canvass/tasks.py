"""django-q2 task functions: they take ids, re-fetch, and call one service."""

from __future__ import annotations

from canvass import turf_services


def turf_cut_job_run(job_id: int) -> str:
    job = turf_services.turf_cut_job_run(job_id=job_id)
    if job is None:
        return f"turf cut {job_id}: already taken by another worker"
    return f"turf cut {job_id}: {job.status}: {job.message}"


def stats_aggregate(sweep: bool = False) -> str:
    """Queued after pushes (coalesced), and every minute by the schedule with sweep=True."""
    from canvass import stats_services

    result = stats_services.stats_aggregate(sweep=sweep)
    return f"stats: {result.marked} buckets marked by the sweep, {result.processed} recomputed"


def dashboard_render(campaign_id: int) -> str:
    """Queued by a dashboard view that found the shared page body out of date."""
    from canvass.dashboard import dashboard_body_refresh
    from canvass.models import Campaign

    campaign = Campaign.objects.select_related("organization").filter(pk=campaign_id).first()
    if campaign is None:
        return f"dashboard {campaign_id}: no such campaign"
    dashboard_body_refresh(campaign)
    return f"dashboard {campaign_id}: rendered"
