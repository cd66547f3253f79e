"""Walk sheets print on a portrait Letter or A4 page (issue 16, item 5).

The organizer opens the walk sheet of the test turf (40 Rose Ave doors, 13 of them
apartments, the campaign's two survey questions, the standard result codes) in Chromium
with the print stylesheet; the table must fit the narrower printable width of the two
papers and every address must sit on one line.
"""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from tests.browser.test_pages_policy import organizer_page

pytestmark = pytest.mark.browser

# A4 is 210 mm wide, Letter 8.5 in; less walk_sheets.css's 2 × 10 mm of @page margin, in CSS px (96/in).
A4_PRINTABLE_PX = int((210 - 20) / 25.4 * 96)

MEASURE = """() => {
  const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].map((rect) => Math.round(rect.top))).size; };
  return {
    page: document.documentElement.scrollWidth,
    table: document.querySelector("table").scrollWidth,
    wrapped: [...document.querySelectorAll("td.address")].filter((td) => lines(td) > 1).map((td) => td.textContent),
    heads: [...document.querySelectorAll("th.box")].map((th) => th.textContent),
    map: (() => { const svg = document.querySelector(".sheet .sheet-map svg");
      if (!svg) return null;
      const r = svg.getBoundingClientRect(), t = document.querySelector(".sheet table").getBoundingClientRect();
      return { left: r.left, right: r.right, bottom: r.bottom, tableTop: t.top,
               dots: svg.querySelectorAll("circle").length,
               route: (svg.querySelector("polyline.fieldops-route")?.getAttribute("points") || "").split(" ").length };
    })(),
  };
}"""


def test_walk_sheet_fits_a_portrait_page(app_world, make_phone, base_url):
    page = organizer_page(make_phone, app_world, base_url)
    page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1000})
    page.emulate_media(media="print")
    page.goto(f"{base_url}{reverse('admin:canvass_turf_walk_sheets')}?ids={app_world.turf.pk}")
    page.wait_for_selector("section.sheet")
    measured = page.evaluate(MEASURE)
    assert measured["page"] <= A4_PRINTABLE_PX and measured["table"] <= A4_PRINTABLE_PX, measured
    assert measured["wrapped"] == [], measured["wrapped"]
    assert "NH" in measured["heads"] and "not_home" not in measured["heads"]
    assert page.locator(".questions li").count() == 2
    # The turf's map on the first page, beside the legend, inside the page and above the doors.
    m = measured["map"]
    assert m is not None and m["left"] >= 0 and m["right"] <= A4_PRINTABLE_PX, measured
    assert m["bottom"] <= m["tableTop"] + 1, m
    # A dot per door and the start; the walk visits the 30 distinct points (units share theirs) in order.
    assert m["dots"] == 40 + 1 and m["route"] == 30, m
    if shot := os.environ.get("FIELDOPS_SCREENSHOT_DIR"):
        page.screenshot(path=f"{shot}/walk-sheet.png", full_page=True)
    pdf = page.pdf(format="Letter")
    assert b"/MediaBox [0 0 612 792]" in pdf
