"""The campaign dashboard fits a laptop screen and a phone (issue 16, item 2).

The app world's campaign with 257 active turfs (as the Venice demo) and knocks pushed by
carlos through the real push API, aggregated by the stats task: at 1400 px the headline
and who is out now are above the fold and the page is a few screens, not 11,000 px;
the turf table shows a page of 25, pages on and sorts in the browser; figures are grouped
by thousands; on a phone nothing is wider than the screen.
"""

from __future__ import annotations

import datetime as dt
import os
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from shapely.geometry import box, mapping

from canvass.models import Turf
from canvass.stats import services as stats_services
from tests import factories as f
from tests.browser.conftest import VENICE
from tests.browser.test_pages_policy import organizer_page
from tests.factories import PUSH, client_for, push_batch, push_item

pytestmark = pytest.mark.browser

TURFS = 257
LAPTOP = {"width": 1400, "height": 900}

MEASURE = """() => {
  const box = (selector) => document.querySelector(selector).getBoundingClientRect();
  return {
    height: document.documentElement.scrollHeight,
    width: document.documentElement.scrollWidth,
    headline: box(".fo-headline").bottom,
    outNow: box("#fo-out-h").top,
    rows: [...document.querySelectorAll("#fo-turf-table tbody tr")].filter((tr) => !tr.hidden).length,
    numbers: [...document.querySelectorAll("#fo-turf-table tbody tr")]
      .filter((tr) => !tr.hidden).map((tr) => tr.cells[0].textContent),
  };
}"""


@pytest.fixture
def busy_campaign(app_world, settings):
    settings.FIELDOPS_MAP_TILES_URL = ""  # no network here: the map must work without tiles
    world = app_world
    campaign = world.campaign
    campaign.goal_doors = 12_000
    campaign.ends_on = timezone.localdate() + dt.timedelta(days=30)
    campaign.save(update_fields=["goal_doors", "ends_on"])
    Turf.objects.filter(pk=world.turf.pk).update(number=1)
    lat, lng = VENICE
    Turf.objects.bulk_create(
        [
            Turf(
                organization=world.org,
                campaign=campaign,
                number=n,
                name=f"Venice {n:03d}",
                door_count=40 + n % 30,
                polygon=mapping(
                    box(
                        lng + (n % 16) * 0.002,
                        lat + (n // 16) * 0.002,
                        lng + (n % 16 + 1) * 0.002,
                        lat + (n // 16 + 1) * 0.002,
                    )
                ),
            )
            for n in range(2, TURFS + 1)
        ]
    )
    layer = f.DistrictLayerFactory(organization=world.org, name="Neighborhood council")
    for name in ("Venice NC", "Mar Vista NC", "Del Rey NC"):
        f.DistrictFactory(organization=world.org, layer=layer, name=name)
    # Carlos knocks 30 doors of his turf, through the push API as his phone does.
    now = timezone.now()
    items = [
        push_item(world, at=door, result="canvassed" if i % 3 else "not_home", when=now - dt.timedelta(minutes=40 - i))
        for i, door in enumerate(world.doors[:30])
    ]
    with mock.patch("django_q.tasks.async_task"):
        response = client_for(world.canvasser).post(PUSH, push_batch(*items), format="json")
        assert response.status_code == 200, response.content
        assert {r["status"] for r in response.json()["results"]} == {"accepted"}
        stats_services.stats_aggregate(sweep=True)
    return world


def open_dashboard(make_phone, world, base_url, viewport=LAPTOP):
    page = organizer_page(make_phone, world, base_url)
    page.set_viewport_size(viewport)
    page.goto(f"{base_url}{reverse('admin:canvass_campaign_dashboard', args=[world.campaign.pk])}")
    page.wait_for_selector("#fo-turf-table")
    page.wait_for_function("() => document.querySelector('.fo-pager button') !== null")
    return page


def test_the_dashboard_fits_a_laptop_screen(busy_campaign, make_phone, base_url):
    page = open_dashboard(make_phone, busy_campaign, base_url)
    measured = page.evaluate(MEASURE)
    print(f"dashboard at 1400 px with {TURFS} turfs: {measured['height']} px tall")
    # Before: about 11,000 px, the 257-row table above everything.
    assert measured["height"] < 3000, measured
    assert measured["headline"] < LAPTOP["height"] and measured["outNow"] < LAPTOP["height"], measured
    assert measured["width"] <= LAPTOP["width"], measured
    assert measured["rows"] == 25
    text = page.locator("div.fo-dash").inner_text()
    assert "30" in page.locator("#fo-knocked").inner_text()
    assert "of 12,000" in text  # grouped by thousands
    # 30 doors in a day at most: the goal is out of reach by the campaign's end, and the page says what pace would do.
    projection = page.locator("#fo-projection").inner_text()
    assert "will not be reached by the campaign's end" in projection and "new doors a day" in projection, projection
    assert "20" not in projection.split("needs")[0][-8:]  # no far-future year
    out_now = page.locator("section[aria-labelledby='fo-out-h'] table").inner_text()
    assert "Carlos" in out_now and "30" in out_now
    # Carlos's turf (1) is assigned, so the free turfs come first: 2, 3, 4…
    assert measured["numbers"][:3] == ["2", "3", "4"], measured["numbers"][:5]
    # Page on, then sort by the turf number, descending on the second click.
    page.get_by_role("button", name="Next ›").click()
    assert page.evaluate(MEASURE)["numbers"][0] == "27"
    assert "Turfs 26–50 of 257" in page.locator(".fo-pager").inner_text()
    head = page.locator("#fo-turf-table th").first
    head.click()
    head.click()
    numbers = page.evaluate(MEASURE)["numbers"]
    assert numbers[:3] == ["257", "256", "255"] and len(numbers) == 25
    # The map is the turf map's component, read-only: every turf, numbers only once zoomed in.
    page.wait_for_selector("#fo-turf-map-app[data-loaded]")
    assert page.evaluate("() => document.getElementById('fo-turf-map-app').dataset.turfs") == str(TURFS)
    assert page.locator("[data-tool=draw]").count() == 0
    labels = (
        "() => [...document.querySelectorAll('.fo-turf-label span')].filter((el) => el.offsetParent !== null).length"
    )
    assert page.evaluate(labels) == 0  # the whole campaign: no label, none piled up
    page.evaluate(
        """([lat, lng]) => {
          document.getElementById("fo-turf-map").foMap.setView([lat, lng], 17, {animate: false});
        }""",
        [VENICE[0] + 0.003, VENICE[1] + 0.005],
    )
    page.wait_for_function(f"() => ({labels})() > 0")
    shown = page.evaluate(
        """() => {
          const frame = document.getElementById("fo-turf-map").getBoundingClientRect();
          return [...document.querySelectorAll(".fo-turf-label span")].filter((el) => {
            const r = el.getBoundingClientRect();
            return el.offsetParent !== null && r.right > frame.left && r.left < frame.right
              && r.bottom > frame.top && r.top < frame.bottom;
          }).map((el) => el.textContent);
        }"""
    )
    assert all(text.isdigit() for text in shown) and len(shown) < 20, shown
    assert page.evaluate("() => window.__violations") == []
    if shot := os.environ.get("FIELDOPS_SCREENSHOT_DIR"):
        page.screenshot(path=f"{shot}/dashboard-1400.png", full_page=True)


def test_the_dashboard_on_a_phone_is_no_wider_than_the_screen(busy_campaign, make_phone, base_url):
    page = open_dashboard(make_phone, busy_campaign, base_url, viewport={"width": 412, "height": 915})
    measured = page.evaluate(MEASURE)
    print(f"dashboard at 412 px: {measured['height']} px tall, {measured['width']} px wide")
    assert measured["width"] <= 412, measured
    assert measured["headline"] < 915 * 2, measured
