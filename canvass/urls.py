from django.urls import include, path

urlpatterns: list = [
    path("", include("canvass.turf_urls")),
]
