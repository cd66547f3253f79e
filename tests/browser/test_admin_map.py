"""The organizer's turf map in the admin, driven in Chromium: draw a turf and check the doors it
got in the database, split one by a line, merge two (canvass/turfs/admin_map.py, turf_map.js)."""

from __future__ import annotations

import pytest
import shapely
from django.urls import reverse
from shapely.geometry import box, mapping

from canvass.models import Turf
from canvass.turfs import services as turf_services
from tests import factories as f
from tests.browser.conftest import VENICE
from tests.browser.test_pages_policy import organizer_page
from turf.addresses import NormalizedAddress
from turf.models import DoorDistrict

pytestmark = pytest.mark.browser

# A street of 20 free houses 200 m north of the app world's Rose Ave turf (which is assigned).
NORTH = VENICE[0] + 0.0018
WEST = VENICE[1]
STEP = 0.00012


@pytest.fixture
def map_world(app_world, settings):
    """The app world's campaign targets a district holding Rose Ave and a free street north of it."""
    settings.FIELDOPS_MAP_TILES_URL = ""  # no network here: the layers must work without tiles
    org = app_world.org
    doors = []
    for i in range(20):
        number = str(700 + 2 * i)
        address = NormalizedAddress(number=number, street_name="MAIN", street_type="ST", zip="90291")
        doors.append(
            f.DoorFactory(
                organization=org,
                building_key=f"b:main-{number}",
                address_key=address.address_key,
                number=number,
                street_name="MAIN",
                street_type="ST",
                lat=NORTH,
                lng=round(WEST + STEP * i, 7),
            )
        )
    area = box(WEST - 0.002, VENICE[0] - 0.001, WEST + 0.006, NORTH + 0.001)
    layer = f.DistrictLayerFactory(organization=org, name="Council")
    district = f.DistrictFactory(
        organization=org,
        layer=layer,
        external_id="11",
        name="CD 11",
        geojson=mapping(area),
        wkb=shapely.to_wkb(area),
        min_lng=area.bounds[0],
        min_lat=area.bounds[1],
        max_lng=area.bounds[2],
        max_lat=area.bounds[3],
    )
    DoorDistrict.objects.bulk_create(
        [DoorDistrict(door=door, district=district) for door in [*app_world.doors, *doors]]
    )
    app_world.campaign.target_districts.set([district])
    app_world.main_street = doors
    return app_world


def rect(lng0, lat0, lng1, lat1):
    return {"type": "Polygon", "coordinates": [[[lng0, lat0], [lng1, lat0], [lng1, lat1], [lng0, lat1], [lng0, lat0]]]}


def open_map(make_phone, world, base_url):
    page = organizer_page(make_phone, world, base_url)
    page.goto(f"{base_url}{reverse('admin:canvass_campaign_turf_map', args=[world.campaign.pk])}")
    page.wait_for_selector("#fo-turf-map-app[data-loaded]")
    # Zoom to Main St, where the tests draw (the map opened on all the campaign's doors).
    page.evaluate(
        """([s, w, n, e]) =>
          document.getElementById("fo-turf-map").foMap.fitBounds([[s, w], [n, e]], {animate: false})""",
        [NORTH - 0.0012, WEST - 0.0004, NORTH + 0.0012, WEST + 22 * STEP],
    )
    page.wait_for_timeout(200)
    return page


def screen(page, lat, lng):
    """Where a point is on the page, for page.mouse."""
    return page.evaluate(
        """([lat, lng]) => {
          const map = document.getElementById("fo-turf-map").foMap;
          const p = map.latLngToContainerPoint([lat, lng]);
          const r = map.getContainer().getBoundingClientRect();
          return [r.left + p.x, r.top + p.y];
        }""",
        [lat, lng],
    )


def click_at(page, lat, lng):
    x, y = screen(page, lat, lng)
    page.mouse.move(x - 3, y - 3)
    page.mouse.click(x, y)
    page.wait_for_timeout(300)


def reload_count(page):
    return page.evaluate("() => Number(document.getElementById('fo-turf-map-app').dataset.loaded)")


def test_draw_a_turf_on_the_map_gets_the_doors_inside(map_world, make_phone, base_url):
    page = open_map(make_phone, map_world, base_url)
    assert page.evaluate("() => document.getElementById('fo-turf-map-app').dataset.doors") == "60"
    page.get_by_role("button", name="Draw a turf").click()
    # Around the first 10 houses of Main St (lng WEST … WEST + 9 STEP), not the 11th.
    corners = [
        (NORTH - 0.0003, WEST - STEP / 2),
        (NORTH - 0.0003, WEST + 9.5 * STEP),
        (NORTH + 0.0003, WEST + 9.5 * STEP),
        (NORTH + 0.0003, WEST - STEP / 2),
    ]
    for lat, lng in corners:
        click_at(page, lat, lng)
    # The count follows the drawing, before anything is saved.
    page.wait_for_function("() => document.getElementById('fo-turf-map-app').dataset.count === '10'")
    assert "10 doors" in page.locator("#fo-map-status").inner_text()
    page.fill("#fo-map-name", "Main St west")
    page.click("#fo-map-save")
    page.wait_for_function("() => document.getElementById('fo-map-status').textContent.includes('has 10 doors')")
    turf = Turf.objects.get(campaign=map_world.campaign, name="Main St west")
    assert set(turf.doors.values_list("pk", flat=True)) == {d.pk for d in map_world.main_street[:10]}
    assert turf.status == "active" and (turf.polygon or {}).get("type") == "Polygon"
    assert page.evaluate("() => window.__violations") == []


def test_split_a_turf_by_drawing_a_line(map_world, make_phone, base_url):
    turf = turf_services.turf_create_from_polygon(
        campaign=map_world.campaign,
        geojson=rect(WEST - STEP / 2, NORTH - 0.0003, WEST + 19.5 * STEP, NORTH + 0.0003),
        name="Main St",
    ).turf
    assert turf.door_count == 20
    page = open_map(make_phone, map_world, base_url)
    page.get_by_role("button", name="Split a turf by a line").click()
    click_at(page, NORTH + 0.0001, WEST + 3 * STEP)  # choose the turf
    middle = WEST + 7.5 * STEP  # between the 8th and 9th houses
    click_at(page, NORTH + 0.0006, middle)
    click_at(page, NORTH - 0.0006, middle)
    loaded = reload_count(page)
    page.click("#fo-map-save")
    page.wait_for_function(f"() => Number(document.getElementById('fo-turf-map-app').dataset.loaded) > {loaded}")
    assert "is split into" in page.locator("#fo-map-status").inner_text()
    turf.refresh_from_db()
    assert turf.status == "archived"
    parts = list(Turf.objects.filter(campaign=map_world.campaign, status="active", name__startswith="Main St /"))
    sizes = sorted(p.door_count for p in parts)
    assert sizes == [8, 12]
    west = min(parts, key=lambda p: p.door_count)
    assert set(west.doors.values_list("pk", flat=True)) == {d.pk for d in map_world.main_street[:8]}


def test_merge_two_turfs_on_the_map(map_world, make_phone, base_url):
    made = [
        turf_services.turf_create_from_polygon(
            campaign=map_world.campaign,
            geojson=rect(WEST + (lo - 0.5) * STEP, NORTH - 0.0003, WEST + (hi - 0.5) * STEP, NORTH + 0.0003),
            name=name,
        ).turf
        for name, lo, hi in (("Main A", 0, 10), ("Main B", 10, 20))
    ]
    page = open_map(make_phone, map_world, base_url)
    page.get_by_role("button", name="Merge turfs").click()
    click_at(page, NORTH + 0.0002, WEST + 4 * STEP)
    click_at(page, NORTH + 0.0002, WEST + 15 * STEP)
    assert "2 turfs chosen, 20 doors" in page.locator("#fo-map-status").inner_text()
    page.click("#fo-map-save")
    page.wait_for_function("() => document.getElementById('fo-map-status').textContent.includes('Merged into')")
    for turf in made:
        turf.refresh_from_db()
        assert turf.status == "archived"
    merged = Turf.objects.get(campaign=map_world.campaign, status="active", name__startswith="Main A +")
    assert merged.door_count == 20
    assert set(merged.doors.values_list("pk", flat=True)) == {d.pk for d in map_world.main_street}
    assert page.evaluate("() => window.__violations") == []


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag with the mouse from one point of the map to another (lat, lng)."""
    x0, y0 = screen(page, *start)
    x1, y1 = screen(page, *end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(x0 + (x1 - x0) * step / 5, y0 + (y1 - y0) * step / 5)
    page.mouse.up()
    page.wait_for_timeout(300)


def test_reshape_a_turf_by_dragging_its_corners(map_world, make_phone, base_url):
    west, east = WEST - STEP / 2, WEST + 9.5 * STEP  # around the first 10 houses of Main St
    south, north = NORTH - 0.0003, NORTH + 0.0003
    turf = turf_services.turf_create_from_polygon(
        campaign=map_world.campaign, geojson=rect(west, south, east, north), name="Main west"
    ).turf
    assert turf.door_count == 10
    page = open_map(make_phone, map_world, base_url)
    page.get_by_role("button", name="Reshape a turf").click()
    click_at(page, NORTH + 0.0001, WEST + 3 * STEP)  # choose the turf: its corners become handles
    page.wait_for_selector(".leaflet-editing-icon")
    wider = WEST + 14.5 * STEP  # the east side moved past five more houses
    drag(page, (south, east), (south, wider))
    drag(page, (north, east), (north, wider))
    # The count follows the drag, before anything is saved.
    page.wait_for_function("() => document.getElementById('fo-turf-map-app').dataset.count === '15'")
    page.click("#fo-map-save")
    page.wait_for_function("() => document.getElementById('fo-map-status').textContent.includes('has 15 doors')")
    turf.refresh_from_db()
    assert turf.status == "archived"  # a turf's doors are never edited in place: a new turf replaces it
    reshaped = Turf.objects.get(campaign=map_world.campaign, name__startswith="Main west ~", status="active")
    assert set(reshaped.doors.values_list("pk", flat=True)) == {d.pk for d in map_world.main_street[:15]}
    assert page.evaluate("() => window.__violations") == []
