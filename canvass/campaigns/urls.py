"""Routes of the campaign API (mounted under /api/v1/)."""

from django.urls import path

from canvass.campaigns import apis

urlpatterns = [
    path("campaigns/", apis.CampaignListApi.as_view(), name="campaigns"),
]
