"""The walk list of a long turf, which the app draws only near the screen (a windowed list,
screens/walk.js): scrolling reaches every door in walk order, "Next door" reaches a door not
drawn yet, the filters and the keyboard work through the window, and the page stays accessible.

The turf is app_world's 40 doors and 260 more houses after them on the same street: 300 doors.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests import factories as f
from tests.browser import app_steps as steps
from tests.browser.conftest import VENICE
from turf.models import Door

MORE = 260
AXE = Axe()

# The rows drawn now, as door ids in document order.
DRAWN_JS = """() => [...document.querySelectorAll("#screen a.door-row")].map((row) => Number(row.dataset.door))"""


FRAMES_JS = """async (n) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}"""


@pytest.fixture
def long_turf(app_world):
    """app_world with 260 more houses at the end of its turf's walk (one person at every third)."""
    doors: list[Door] = list(app_world.doors)
    for k in range(MORE):
        number = str(800 + 2 * k)
        door = f.DoorFactory(
            organization=app_world.org,
            building_key=f"b:rose-{number}",
            address_key=f"{number} ROSE AVE 90291",
            number=number,
            street_name="ROSE",
            street_type="AVE",
            unit_type="",
            unit="",
            lat=VENICE[0],
            lng=app_world.doors[k % len(app_world.doors)].lng,
        )
        if k % 3 == 0:
            f.PersonFactory(door=door, first_name="Ana", last_name=f"Walker{k}")
        f.TurfDoorFactory(turf=app_world.turf, door=door, position=len(doors))
        doors.append(door)
    app_world.turf.door_count = len(doors)
    app_world.turf.save(update_fields=["door_count"])
    return app_world, doors


def start(phone, world) -> None:
    steps.log_in(phone, "carlos", world.password)
    steps.download_turf(phone, world.assignment.pk)
    steps.open_walk_list(phone, world.assignment.pk)


def frames(phone, n: int = 3) -> None:
    """Let the page draw `n` frames (the list draws the chunks that came near after a frame)."""
    phone.page.evaluate(FRAMES_JS, n)


def record_not_home(phone, world, doors: list[Door]) -> None:
    """Knocks at `doors` saved on the phone as the door screen saves them (outbox.recordKnocks)."""
    phone.page.evaluate(
        """async ({ assignment, doors }) => {
            const outbox = await import("/static/volunteer/js/outbox.js");
            await outbox.recordKnocks(doors.map((door) => ({ door, assignment, person: null, result: "not_home",
                                                             answers: {}, notes: "", support_level: null })));
        }""",
        {"assignment": world.assignment.pk, "doors": [d.pk for d in doors]},
    )


def in_view(phone, door_id: int) -> bool:
    return phone.page.evaluate(
        """(id) => {
            const row = document.querySelector(`#screen a.door-row[data-door="${id}"]`);
            if (!row) return false;
            const box = row.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }""",
        door_id,
    )


def test_a_long_walk_list_draws_the_rows_near_the_screen_and_scrolling_reaches_the_last_door(long_turf, phone):
    world, doors = long_turf
    start(phone, world)
    page = phone.page
    assert page.get_attribute(".screen-walk .buildings", "data-doors") == str(len(doors))
    assert phone.page.get_by_test_id("progress").inner_text().startswith("0")
    drawn = page.evaluate(DRAWN_JS)
    assert drawn == [d.pk for d in doors[: len(drawn)]]  # the top of the walk, in order
    assert 10 <= len(drawn) <= 100, len(drawn)

    rows = steps.list_rows(phone)  # a thumb scrolling to the end
    assert [door for door, _ in rows] == [d.pk for d in doors]
    assert not any(done for _, done in rows)
    last = doors[-1]
    assert in_view(phone, last.pk)
    assert last.number in page.locator(f'a.door-row[data-door="{last.pk}"] .door-address').inner_text()
    assert len(page.evaluate(DRAWN_JS)) <= 100  # the top of the list was let go on the way down

    # Back to the top: the first doors are drawn again, in place.
    page.evaluate("() => window.scrollTo(0, 0)")
    frames(phone)
    assert page.evaluate(DRAWN_JS)[:3] == [d.pk for d in doors[:3]]
    assert in_view(phone, doors[0].pk)

    # The last door, opened from its row and knocked: it leaves the list (Remaining), and the next door
    # not done, back at the top of the walk, is drawn again and brought into view.
    steps.knock(phone, last.pk)
    page.wait_for_selector(f'a.door-row[data-door="{last.pk}"]', state="detached")
    page.wait_for_function(
        "(id) => document.activeElement && document.activeElement.dataset.door === String(id)", arg=doors[0].pk
    )
    frames(phone)
    assert in_view(phone, doors[0].pk)
    phone.assert_no_errors()


def test_next_door_reaches_a_door_not_drawn_yet_and_the_list_follows(long_turf, phone):
    world, doors = long_turf
    start(phone, world)
    page = phone.page
    record_not_home(phone, world, doors[:200])
    steps.show_all_doors(phone)  # the list drawn again from the phone, 200 doors done
    page.wait_for_selector(f'a.door-row[data-door="{doors[0].pk}"][data-done="true"]')
    target = doors[200]
    assert page.locator(f'a.door-row[data-door="{target.pk}"]').count() == 0  # far below the window

    next_button = page.locator(".bottom-actions button")
    assert next_button.inner_text().startswith(f"Next door: {target.number} ")
    next_button.click()
    steps.screen(phone, "door")
    assert page.get_attribute(".screen-door", "data-door") == str(target.pk)
    page.click('button.result[data-code="not_home"]')
    steps.screen(phone, "walk")

    # The next door (201) is brought into view, focused; the one just knocked is drawn done above it.
    after = doors[201]
    page.wait_for_function(
        "(id) => document.activeElement && document.activeElement.dataset.door === String(id)", arg=after.pk
    )
    frames(phone)
    assert in_view(phone, after.pk)
    assert page.locator(f'a.door-row[data-door="{target.pk}"][data-done="true"]').count() == 1
    assert page.locator(f'a.door-row[data-door="{doors[0].pk}"]').count() == 0  # the top let go
    assert len(page.evaluate(DRAWN_JS)) <= 120
    assert next_button.inner_text().startswith(f"Next door: {after.number} ")
    assert page.get_by_test_id("progress").inner_text().startswith("201")
    phone.assert_no_errors()


def test_the_filters_work_through_the_window(long_turf, phone):
    world, doors = long_turf
    start(phone, world)
    page = phone.page
    done = doors[:5] + doors[150:200] + doors[-3:]
    record_not_home(phone, world, done)
    filters = page.locator(".screen-walk .segmented button")

    filters.nth(1).click()  # Done
    page.wait_for_selector('.segmented button:nth-child(2)[aria-pressed="true"]')
    rows = steps.list_rows(phone)
    assert [door for door, _ in rows] == [d.pk for d in done]
    assert all(is_done for _, is_done in rows)

    filters.nth(0).click()  # Remaining (kept from where the list was scrolled to)
    page.wait_for_selector('.segmented button:nth-child(1)[aria-pressed="true"]')
    rows = steps.list_rows(phone)
    assert [door for door, _ in rows] == [d.pk for d in doors if d not in done]
    assert not any(is_done for _, is_done in rows)

    # Under Remaining, a door knocked deep in the list leaves it; its neighbours stay where they were.
    knocked = doors[120]
    steps.knock(phone, knocked.pk)
    page.wait_for_selector(f'a.door-row[data-door="{knocked.pk}"]', state="detached")
    page.wait_for_function(
        "(id) => document.activeElement && document.activeElement.dataset.door === String(id)", arg=doors[121].pk
    )
    assert in_view(phone, doors[121].pk)
    rows = steps.list_rows(phone)
    assert [door for door, _ in rows] == [d.pk for d in doors if d not in done and d != knocked]
    phone.assert_no_errors()


def test_the_keyboard_goes_on_past_the_drawn_rows_and_the_long_list_stays_accessible(long_turf, phone):
    world, doors = long_turf
    start(phone, world)
    page = phone.page
    page.locator(f'a.door-row[data-door="{doors[0].pk}"]').focus()
    seen = [doors[0].pk]
    for _ in range(70):
        page.keyboard.press("Tab")
        frames(phone, 1)
        focused = page.evaluate("() => document.activeElement.dataset.door || document.activeElement.textContent")
        if focused.isdigit():
            seen.append(int(focused))
    walk = [d.pk for d in doors]
    assert seen == walk[: len(seen)]  # every door in walk order, none skipped
    assert len(seen) >= 60  # well past the rows first drawn
    assert in_view(phone, seen[-1])

    options = {"resultTypes": ["violations"], "rules": {"color-contrast-enhanced": {"enabled": True}}}
    violations = AXE.run(page, options=options).response["violations"]
    bad = [f"{v['id']} ({v['impact']}): {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    phone.assert_no_errors()


def test_a_door_address_of_another_turf_opens_no_row_and_leaves_the_list_whole(long_turf, phone):
    """Bad input: a door hash for a door of another chapter; the list afterwards still reaches its end."""
    world, doors = long_turf
    start(phone, world)
    page = phone.page
    page.evaluate("([a, d]) => { location.hash = `#/door/${a}/${d}`; }", [world.assignment.pk, world.other_door.pk])
    # Not a door of this turf: back to its walk list, which holds no row of it and still reaches its end.
    page.wait_for_function("(hash) => location.hash === hash", arg=f"#/walk/{world.assignment.pk}")
    steps.screen(phone, "walk")
    assert page.locator(f'a.door-row[data-door="{world.other_door.pk}"]').count() == 0
    rows = steps.list_rows(phone)
    assert [door for door, _ in rows] == [d.pk for d in doors]


def test_a_row_with_the_focus_is_kept_while_away_and_let_go_when_the_focus_leaves(long_turf, phone):
    world, doors = long_turf
    start(phone, world)
    page = phone.page
    first = page.locator(f'a.door-row[data-door="{doors[0].pk}"]')
    first.focus()
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    frames(phone)
    assert first.count() == 1  # far off screen, but the focus is there
    assert page.evaluate("() => document.activeElement.dataset.door") == str(doors[0].pk)

    page.locator(f'a.door-row[data-door="{doors[-1].pk}"]').focus()
    frames(phone)
    assert first.count() == 0
    assert len(page.evaluate(DRAWN_JS)) <= 100
    phone.assert_no_errors()
