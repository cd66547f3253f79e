"""Routes of the organizer's stats API (mounted under /api/v1/)."""

from django.urls import path

from canvass.stats import apis as stats_apis

urlpatterns = [
    path(
        "stats/campaigns/<int:campaign_id>/districts/",
        stats_apis.CampaignDistrictStatsApi.as_view(),
        name="stats-campaign-districts",
    ),
    path(
        "stats/campaigns/<int:campaign_id>/days/", stats_apis.CampaignDayStatsApi.as_view(), name="stats-campaign-days"
    ),
    path(
        "stats/campaigns/<int:campaign_id>/turfs/",
        stats_apis.CampaignTurfStatsApi.as_view(),
        name="stats-campaign-turfs",
    ),
    path(
        "stats/campaigns/<int:campaign_id>/canvassers/",
        stats_apis.CampaignCanvasserStatsApi.as_view(),
        name="stats-campaign-canvassers",
    ),
]
