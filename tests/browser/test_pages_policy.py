"""Every page an organizer opens works under the Content-Security-Policy (issue 14, item 5).

The organizer logs in at /admin/login/ in Chromium and opens the admin, the campaign's tools
(dashboard, the interactive turf map with its tiles, cutting, drawing, the VAN export page),
walk sheets and the API's two documentation page. On each, the page records every
`securitypolicyviolation` event from its first script on: none may fire, and what the page
exists to show must be there (a policy that blocked a page's own script would leave it blank,
with no error on the server).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def organizer_page(make_phone, world, base_url):
    phone = make_phone(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    page = phone.page
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", world.organizer.username)
    page.fill("#id_password", world.password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    return page


def test_the_organizers_pages_and_the_api_docs_work_under_the_policy(app_world, make_phone, base_url, settings):
    # The turf map's tiles from another origin (the live server by its IP, serving an image of
    # Leaflet's): the map page's policy must allow that host, and only that page's.
    port = base_url.rsplit(":", 1)[1]
    settings.FIELDOPS_MAP_TILES_URL = f"http://127.0.0.1:{port}/static/leaflet/images/layers.png?{{z}}/{{x}}/{{y}}"
    page = organizer_page(make_phone, app_world, base_url)
    campaign, turf = app_world.campaign.pk, app_world.turf.pk
    pages = [
        (reverse("admin:index"), "#content"),
        (reverse("admin:canvass_campaign_changelist"), "#result_list"),
        (reverse("admin:canvass_campaign_change", args=[campaign]), "#campaign_form"),
        (reverse("admin:canvass_campaign_dashboard", args=[campaign]), ".fo-dash, #content"),
        (
            reverse("admin:canvass_campaign_turf_map", args=[campaign]),
            "#fo-turf-map-app[data-loaded] .leaflet-tile-loaded",
        ),
        (reverse("admin:canvass_campaign_cut_turfs", args=[campaign]), "form"),
        (reverse("admin:canvass_campaign_draw_turf", args=[campaign]), "form"),
        (reverse("admin:canvass_campaign_export_van", args=[campaign]), "form"),
        (reverse("admin:canvass_turf_walk_sheets") + f"?ids={turf}", "section.sheet"),
        (reverse("api-v1:docs"), ".swagger-ui .information-container"),
    ]
    problems = []
    for path, shown in pages:
        response = page.goto(f"{base_url}{path}")
        assert response.status < 400, (path, response.status)
        assert "'self'" in (response.headers.get("content-security-policy") or ""), path
        page.wait_for_selector(shown, state="attached", timeout=15_000)
        page.wait_for_timeout(200)  # a violation is reported as an event a moment later
        problems += [f"{path}: {v}" for v in page.evaluate("() => window.__violations")]
    assert not problems, "\n".join(problems)


def test_the_walk_sheets_print_button_still_prints(app_world, make_phone, base_url):
    page = organizer_page(make_phone, app_world, base_url)
    page.goto(f"{base_url}{reverse('admin:canvass_turf_walk_sheets')}?ids={app_world.turf.pk}")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("() => window.__printed") == 1
    assert page.evaluate("() => window.__violations") == []
