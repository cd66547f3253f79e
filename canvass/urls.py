from django.urls import include, path

urlpatterns = [path("", include("canvass.sync_urls"))]
