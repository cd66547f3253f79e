"""Field-work API under /api/v1/ (see docs/api.md): each capability's routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("canvass.turfs.urls")),
    path("", include("canvass.sync.urls")),
    path("", include("canvass.campaigns.urls")),
    path("", include("canvass.field.urls")),
    path("", include("canvass.stats.urls")),
]
