"""/app/: the page, its manifest and its service worker (served here so that its scope covers /app/)."""

from django.urls import path, re_path

from volunteer import views

app_name = "volunteer"

urlpatterns = [
    path("sw.js", views.service_worker, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    # Every other path under /app/ is the same page: the app routes by the URL's hash.
    re_path(r"^(?:.*)$", views.app_page, name="page"),
]
