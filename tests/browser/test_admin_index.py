"""The admin opens on the work (issue 16, item 1): the organizer logs in and reaches the
campaign's dashboard in one click; the campaign's screens lead to one another."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from canvass.stats import services as stats_services
from tests.browser.test_pages_policy import organizer_page
from tests.factories import PUSH, client_for, push_batch, push_item

pytestmark = pytest.mark.browser


def test_from_the_login_to_the_dashboard_in_one_click(app_world, make_phone, base_url, settings):
    settings.FIELDOPS_MAP_TILES_URL = ""  # no network here
    world = app_world
    now = timezone.now()
    items = [
        push_item(world, at=door, when=now - dt.timedelta(minutes=30 - i)) for i, door in enumerate(world.doors[:12])
    ]
    response = client_for(world.canvasser).post(PUSH, push_batch(*items), format="json")
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}
    stats_services.stats_rebuild(campaign=world.campaign)

    page = organizer_page(make_phone, world, base_url)
    lead = page.locator("#campaigns")
    row = lead.locator("tbody tr", has_text=world.campaign.name)
    assert f"12 of {world.campaign.goal_doors:,} doors" in row.inner_text()
    assert "Carlos" in row.inner_text()  # out now
    today = timezone.localtime(now, world.org.tzinfo).date()
    for shift in world.shifts:  # today's shifts (in the organization's time), not tomorrow's
        is_today = timezone.localtime(shift.starts_at, world.org.tzinfo).date() == today
        assert (shift.name in row.inner_text()) == is_today, shift.name
    row.get_by_role("link", name="Dashboard").click()
    page.wait_for_selector(".fo-headline")
    assert page.url.endswith(f"/admin/canvass/campaign/{world.campaign.pk}/dashboard/")
    assert "12" in page.locator(".fo-headline").inner_text()
    # From the dashboard, the campaign's other screens, one click each.
    nav = page.locator("nav.fo-campaign-nav")
    assert nav.locator('[aria-current="page"]').inner_text() == "Dashboard"
    nav.get_by_role("link", name="Turfs & walk sheets").click()
    page.wait_for_selector("#result_list")
    assert "/admin/canvass/turf/" in page.url
    assert page.evaluate("() => window.__violations") == []
