from django.urls import include, path

urlpatterns: list = [
    path("", include("canvass.turf_urls")),
    path("", include("canvass.stats_urls")),
]
