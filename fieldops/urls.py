"""Root URLs. The API is versioned from day one: /api/v1/."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from fieldops import health
from fieldops.admin_login import ThrottledAdminLoginForm
from fieldops.apis import DeviceListApi, DeviceRevokeApi, MeApi, MemberListApi, TokenApi

admin.site.login_form = ThrottledAdminLoginForm  # the phone login's limits (fieldops/logins.py)
admin.site.site_header = "fieldops — organizer dashboard"
admin.site.site_title = "fieldops"
admin.site.index_title = "Your organization"

api_v1: list[URLPattern | URLResolver] = [
    path("me/", MeApi.as_view(), name="me"),
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/devices/", DeviceListApi.as_view(), name="auth-devices"),
    path("auth/devices/<int:token_id>/", DeviceRevokeApi.as_view(), name="auth-device"),
    path("members/", MemberListApi.as_view(), name="members"),
    path("", include("turf.urls")),
    path("", include("canvass.urls")),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-v1:schema"), name="docs"),
    # Redoc fetched its logo and fonts from other hosts: the one documentation page is Swagger UI.
    path("redoc/", RedirectView.as_view(pattern_name="api-v1:docs", permanent=True), name="redoc"),
]

urlpatterns = [
    path("health/", health.full, name="health"),
    path("health/live/", health.live, name="health-live"),
    path("api/v1/", include((api_v1, "api-v1"))),
    path("admin/", admin.site.urls),
    path("app/", include("volunteer.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]

handler404 = "fieldops.api.errors.not_found"
handler500 = "fieldops.api.errors.server_error"
