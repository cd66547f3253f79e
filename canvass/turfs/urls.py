"""Routes of the organizer's turf API (mounted under /api/v1/)."""

from django.urls import path

from canvass.turfs import apis as turf_apis

urlpatterns = [
    path("turfs/", turf_apis.TurfListApi.as_view(), name="turf-list"),
    path("turfs/geojson/", turf_apis.TurfGeoJsonApi.as_view(), name="turf-geojson"),
    path("turfs/merge/", turf_apis.TurfMergeApi.as_view(), name="turf-merge"),
    path("turfs/<int:turf_id>/", turf_apis.TurfDetailApi.as_view(), name="turf-detail"),
    path("turfs/<int:turf_id>/split/", turf_apis.TurfSplitApi.as_view(), name="turf-split"),
    path("turfs/<int:turf_id>/archive/", turf_apis.TurfArchiveApi.as_view(), name="turf-archive"),
    path("campaigns/<int:campaign_id>/cut-turfs/", turf_apis.CampaignCutTurfsApi.as_view(), name="campaign-cut-turfs"),
    path("turf-cut-jobs/<int:job_id>/", turf_apis.TurfCutJobApi.as_view(), name="turf-cut-job"),
]
