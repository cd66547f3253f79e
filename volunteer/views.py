"""Serve the volunteer app: the page, the manifest and the service worker.

No data is rendered into these responses: the app gets everything through the
documented API with the volunteer's device token, like any phone.
"""

from __future__ import annotations

import json

from csp.decorators import csp
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from volunteer.shell import PRELOAD, app_shell, static_base

# Only this origin: no CDN, no inline script or style, no tiles from elsewhere. Stricter than the
# rest of fieldops (settings.CONTENT_SECURITY_POLICY): no style="" attributes either.
APP_POLICY = csp(
    {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
)


def _app_headers(response: HttpResponse) -> HttpResponse:
    # Always ask the server (or the service worker) for the shell, so a new version is seen.
    response["Cache-Control"] = "no-cache"
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
@APP_POLICY
def app_page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    shell = app_shell()
    context = {"version": shell.version, "static_base": static_base(), "preload": shell.urls(PRELOAD)}
    return _app_headers(render(request, "volunteer/app.html", context))


@require_GET
@APP_POLICY
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = app_shell()
    body = render(
        request,
        "volunteer/sw.js",
        {"version": shell.version, "shell_json": json.dumps(["/app/", *shell.urls()])},
        content_type="text/javascript; charset=utf-8",
    )
    # The worker lives at /app/sw.js, so its scope is /app/ without Service-Worker-Allowed.
    return _app_headers(body)


@require_GET
@APP_POLICY
def manifest(request: HttpRequest) -> HttpResponse:
    icons = static_base() + "volunteer/icons/"
    data = {
        "name": "fieldops canvass",
        "short_name": "Canvass",
        "description": "Door-to-door canvassing, offline.",
        "id": "/app/",
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b3d2e",
        "icons": [
            {"src": icons + "icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": icons + "icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": icons + "icon-maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = HttpResponse(json.dumps(data, indent=1), content_type="application/manifest+json")
    return _app_headers(response)
