"""What a volunteer does in the app, step by step, for the end-to-end tests.

Each step drives the UI as a person would (labels and button texts), and waits
for what the screen shows afterwards. The app's DOM hooks used here:

- `#screen[data-screen=login|today|walk|door|sync]`: the screen shown;
- `#sync-status[data-state=synced|waiting|syncing|offline|attention]`: the status in view;
- `article.card[data-assignment=ID]`, `article.card[data-shift=ID]` on Today;
- `a.door-row[data-door=ID][data-done=true|false]` in the walk list, for the rows near the screen
  only (the list is windowed: `scroll_to_row` and `list_rows` scroll as a volunteer does);
  `li.building[data-building=KEY]` groups a building's doors;
- `button.result[data-code=CODE]`, `button.person[data-person=ID]`,
  `fieldset.question[data-question=ID]` on the door screen;
- `li.problem[data-state=conflict|rejected]` on the Sync screen;
- the app's modules can be imported in the page: `await import("/static/volunteer/js/outbox.js")`.
"""

from __future__ import annotations

from tests.browser.conftest import Phone


def screen(phone: Phone, name: str, timeout_ms: float = 15_000) -> None:
    phone.page.wait_for_selector(f'#screen[data-screen="{name}"]', timeout=timeout_ms)


def log_in(phone: Phone, username: str, password: str) -> None:
    """Open the app and log in; waits for Today."""
    phone.open("/app/")
    screen(phone, "login")
    phone.page.fill("#username", username)
    phone.page.fill("#password", password)
    phone.page.click("form.login button[type=submit]")
    screen(phone, "today")


def download_turf(phone: Phone, assignment_id: int) -> None:
    """Tap Download turf on the assignment's card; waits for "Ready offline"."""
    card = phone.page.locator(f'article.card[data-assignment="{assignment_id}"]')
    card.get_by_role("button", name="Download turf").click()
    card.get_by_role("link", name="Open walk list").wait_for()


def open_walk_list(phone: Phone, assignment_id: int) -> None:
    phone.page.locator(f'article.card[data-assignment="{assignment_id}"]').get_by_role(
        "link", name="Open walk list"
    ).click()
    screen(phone, "walk")


def show_all_doors(phone: Phone) -> None:
    """The walk list's filter: All (the default is Remaining)."""
    phone.page.locator(".screen-walk .segmented button").nth(2).click()


# Scroll the page by most of a screen (from the top, or on from where it is) until `done()` holds or the
# end of the page; after each step two frames, for the list to draw the rows that came near.
_SCROLL_JS = """async ({ fromTop, selector }) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  // The rows seen, in order: a row first seen goes right after the row before it in the page (a row far
  // away may be drawn already, e.g. the focused one, so the order first seen is not the walk's).
  const order = [];
  const done = new Map();
  if (fromTop) window.scrollTo(0, 0);
  for (let step = 0; step < 1000; step += 1) {
    await frame();
    await frame();
    let before = null;
    for (const row of document.querySelectorAll("#screen a.door-row")) {
      const door = Number(row.dataset.door);
      if (!done.has(door)) order.splice(before === null ? 0 : order.indexOf(before) + 1, 0, door);
      done.set(door, row.dataset.done === "true");
      before = door;
    }
    if (selector && document.querySelector(selector)) break;
    if (window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1) break;
    window.scrollBy(0, Math.round(window.innerHeight * 0.8));
  }
  return order.map((door) => [door, done.get(door)]);
}"""


def scroll_to_row(phone: Phone, door_id: int) -> None:
    """Scroll the walk list down from the top, as a thumb does, until the door's row is drawn."""
    selector = f'#screen a.door-row[data-door="{door_id}"]'
    if phone.page.locator(selector).count() == 0:
        phone.page.evaluate(_SCROLL_JS, {"fromTop": True, "selector": selector})


def list_rows(phone: Phone) -> list[tuple[int, bool]]:
    """Every row of the walk list as (door id, done), in order, seen by scrolling from its top to its end."""
    return [(door, done) for door, done in phone.page.evaluate(_SCROLL_JS, {"fromTop": True, "selector": None})]


def knock(phone: Phone, door_id: int, code: str = "not_home") -> None:
    """From the walk list: open the door, tap a one-tap result; waits until the walk list shows it done."""
    scroll_to_row(phone, door_id)
    phone.page.click(f'a.door-row[data-door="{door_id}"]')
    screen(phone, "door")
    phone.page.click(f'button.result[data-code="{code}"]')
    screen(phone, "walk")


def talk_to(
    phone: Phone,
    door_id: int,
    *,
    person_id: int | None,
    answers: dict[int, int],
    support: int | None = None,
    note: str = "",
) -> None:
    """From the walk list: open the door, talk to a person (or "someone at this door"),
    answer the survey ({question id: option id}), save the conversation."""
    page = phone.page
    scroll_to_row(phone, door_id)
    page.click(f'a.door-row[data-door="{door_id}"]')
    screen(phone, "door")
    if person_id is None:
        page.locator(".screen-door button.person:not([data-person])").click()
    else:
        page.click(f'button.person[data-person="{person_id}"]')
    for question_id, option_id in answers.items():
        page.locator(f'fieldset.question[data-question="{question_id}"] input[value="{option_id}"]').check()
    if support is not None:
        page.locator(f'input[name="support"][value="{support}"]').check()
    if note:
        page.fill("#notes", note)
    page.locator("form.survey button[type=submit]").click()
    screen(phone, "walk")


def status_state(phone: Phone) -> str:
    return phone.page.get_attribute("#sync-status", "data-state") or ""


def wait_for_status(phone: Phone, state: str, timeout_ms: float = 20_000) -> None:
    phone.page.wait_for_selector(f'#sync-status[data-state="{state}"]', timeout=timeout_ms)


def sync_now(phone: Phone) -> None:
    """Open the Sync screen and tap Sync now."""
    phone.page.click("#sync-status")
    screen(phone, "sync")
    phone.page.locator(".screen-sync").get_by_role("button", name="Sync now").click()
