"""The volunteer app's screens, as a volunteer meets them on a phone: Spanish,
accessibility (axe-core), knocks that need attention, undo, fit for a 360 px
screen, the map with no tiles, the shell's security, and the update offer.

The whole shift (offline, reload, sync) is tests/browser/test_app_sync.py's.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from canvass.models import ContactAttempt, ResultCode
from tests import factories as f
from tests.browser.app_steps import (
    download_turf,
    knock,
    list_rows,
    log_in,
    open_walk_list,
    screen,
    scroll_to_row,
    show_all_doors,
    sync_now,
    wait_for_status,
)
from tests.factories import PUSH, push_batch, push_item

AXE = Axe()
SERIOUS = ("serious", "critical")


def start(phone, world, *, walk: bool = True) -> None:
    """carlos logs in, downloads his turf and (by default) opens its walk list."""
    log_in(phone, "carlos", world.password)
    download_turf(phone, world.assignment.pk)
    if walk:
        open_walk_list(phone, world.assignment.pk)


def open_door(phone, door_id: int) -> None:
    scroll_to_row(phone, door_id)
    phone.page.click(f'a.door-row[data-door="{door_id}"]')
    screen(phone, "door")


def assert_accessible(phone, where: str) -> None:
    """axe-core finds no serious or critical violation on the page as it is now, text contrast
    checked at 7:1 (WCAG AAA, `color-contrast-enhanced`, off in axe by default): read in sunlight."""
    options = {"resultTypes": ["violations"], "rules": {"color-contrast-enhanced": {"enabled": True}}}
    violations = AXE.run(phone.page, options=options).response["violations"]
    bad = [v for v in violations if v["impact"] in SERIOUS]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']}: {node.get('failureSummary', '')}" for node in v["nodes"])
        for v in bad
    ]
    assert not bad, f"axe on {where}:\n" + "\n".join(report)


def screen_name(phone) -> str:
    return phone.page.get_attribute("#screen", "data-screen")


def texts(locator) -> list[str]:
    return [text.strip() for text in locator.all_inner_texts()]


def put_in_outbox(phone, *knocks: dict) -> None:
    """Put knocks in the phone's outbox as outbox.recordKnocks writes them (pending, with their UUIDs)."""
    phone.page.evaluate(
        """async (knocks) => {
            const store = await import("/static/volunteer/js/store.js");
            for (const knock of knocks) {
                await store.put("knocks", {...knock, createdAt: Date.now(), state: "pending", previousResult: null});
            }
        }""",
        list(knocks),
    )


def stored_knocks(phone) -> list[dict]:
    return phone.page.evaluate("""async () => (await (await import("/static/volunteer/js/store.js")).all("knocks"))""")


# ------------------------------------------------------------------ 1. Spanish


def test_a_spanish_phone_gets_the_app_and_the_organizers_texts_in_spanish(app_world, spanish_phone):
    phone = spanish_phone
    first, second = app_world.questions
    first.text_es = "¿Votará sí a la Medida V?"
    first.save(update_fields=["text_es"])
    yes = app_world.options[0][0]
    yes.label_es = "Sí"
    yes.save(update_fields=["label_es"])
    ResultCode.objects.filter(organization=app_world.org, code="not_home").update(label_es="Nadie abrió")
    page = phone.page

    phone.open("/app/")
    screen(phone, "login")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    assert page.inner_text("form.login button[type=submit]").strip() == "Entrar"
    assert page.inner_text('label[for="username"]').strip() == "Usuario"
    page.fill("#username", "carlos")
    page.fill("#password", app_world.password)
    page.click("form.login button[type=submit]")
    screen(phone, "today")
    assert texts(page.locator("#tabs a")) == ["Hoy", "Lista", "Sincronizar"]
    card = page.locator(f'article.card[data-assignment="{app_world.assignment.pk}"]')
    card.get_by_role("button", name="Descargar zona").click()
    card.get_by_role("link", name="Abrir lista").click()
    screen(phone, "walk")
    assert page.inner_text(".bottom-actions button").startswith("Siguiente puerta")
    door = app_world.doors[0]
    open_door(phone, door.pk)

    assert page.inner_text('button.result[data-code="not_home"]').strip() == "Nadie abrió"  # the organizer's
    assert page.inner_text('button.result[data-code="canvassed"]').strip() == "Contactado"  # the standard Spanish
    page.locator(".screen-door button.person:not([data-person])").click()  # "Alguien en esta puerta"
    asked = page.locator(f'fieldset.question[data-question="{first.pk}"]')
    assert asked.locator("legend").inner_text().strip() == "¿Votará sí a la Medida V?"
    # The options with a Spanish label show it; the others keep the organizer's English.
    assert texts(asked.locator("label.choice")) == ["Sí", "No", "Undecided"]
    untranslated = page.locator(f'fieldset.question[data-question="{second.pk}"]')
    assert untranslated.locator("legend").inner_text().strip() == second.text
    assert texts(untranslated.locator("label.choice")) == [option.label for option in app_world.options[1]]
    assert page.inner_text("form.survey button[type=submit]").strip() == "Guardar conversación"
    phone.assert_no_errors()


def test_an_english_phone_switched_to_spanish_shows_spanish_at_once_and_after_a_reload(app_world, phone):
    page = phone.page
    log_in(phone, "carlos", app_world.password)
    assert texts(page.locator("#tabs a")) == ["Today", "Walk list", "Sync"]
    page.click("#tabs a >> nth=2")
    screen(phone, "sync")

    page.get_by_label("Español", exact=True).check()

    page.wait_for_selector('.screen-sync h1:text-is("Sincronizar")')
    assert texts(page.locator("#tabs a")) == ["Hoy", "Lista", "Sincronizar"]
    assert page.inner_text(".screen-sync h1").strip() == "Sincronizar"
    assert page.locator(".screen-sync").get_by_role("button", name="Sincronizar ahora").is_visible()
    assert page.evaluate("() => document.documentElement.lang") == "es"

    page.reload()
    screen(phone, "sync")
    assert texts(page.locator("#tabs a")) == ["Hoy", "Lista", "Sincronizar"]
    assert page.inner_text(".screen-sync h1").strip() == "Sincronizar"
    assert page.get_by_label("Español", exact=True).is_checked()
    page.click("#tabs a >> nth=0")
    screen(phone, "today")
    assert page.inner_text(".screen-today h1").strip() == "Mis zonas"
    phone.assert_no_errors()


# ------------------------------------------------------------------ 2. accessibility


def test_axe_finds_no_serious_violation_on_any_screen(app_world, phone):
    page = phone.page
    phone.open("/app/")
    screen(phone, "login")
    assert_accessible(phone, "login")
    log_in(phone, "carlos", app_world.password)
    assert_accessible(phone, "today, nothing downloaded")
    download_turf(phone, app_world.assignment.pk)
    assert_accessible(phone, "today, turf downloaded")

    open_walk_list(phone, app_world.assignment.pk)
    assert_accessible(phone, "walk list")
    page.locator(".screen-walk .segmented button", has_text="Map").click()
    page.wait_for_selector("svg.turf-map")
    assert_accessible(phone, "walk list, map")
    page.locator(".screen-walk .segmented button", has_text="List").click()
    page.wait_for_selector(".buildings")

    door = app_world.doors[0]
    person = app_world.people[door.pk][0]
    open_door(phone, door.pk)
    assert_accessible(phone, "door")
    page.click(f'button.person[data-person="{person.pk}"]')
    page.wait_for_selector("form.survey")
    assert_accessible(phone, "door, survey open")

    # A knock the server refuses (a door of another organization), so the Sync screen lists one.
    put_in_outbox(phone, push_item(app_world, at=app_world.other_door))
    sync_now(phone)
    wait_for_status(phone, "attention")
    page.wait_for_selector('li.problem[data-state="rejected"]')
    assert_accessible(phone, "sync, a knock needs attention")

    page.get_by_label("Español", exact=True).check()
    page.wait_for_selector('.screen-sync h1:text-is("Sincronizar")')
    assert_accessible(phone, "sync, in Spanish")
    page.evaluate(f"() => {{ location.hash = '#/door/{app_world.assignment.pk}/{door.pk}'; }}")
    screen(phone, "door")
    page.click(f'button.person[data-person="{person.pk}"]')
    page.wait_for_selector("form.survey")
    assert_accessible(phone, "door in Spanish, survey open")


# ------------------------------------------------------------------ 3. conflict and rejected


def test_a_conflict_and_a_rejected_knock_are_shown_with_the_servers_reason(app_world, api_token, phone):
    page = phone.page
    first, second = app_world.doors[0], app_world.doors[1]
    # Another client of carlos's stored a knock under this UUID already.
    stored = push_item(app_world, at=first, result="not_home")
    answer = phone.context.request.post(
        phone.url(PUSH), data=push_batch(stored), headers={"Authorization": f"Token {api_token(app_world.canvasser)}"}
    )
    assert answer.json()["results"][0]["status"] == "accepted", answer.text()
    start(phone, app_world, walk=False)

    question = app_world.questions[0]
    conflicting = {**stored, "result": "refused"}  # same UUID, another result
    refused = push_item(app_world, at=second, result="canvassed", answers={str(question.pk): 987654})
    put_in_outbox(phone, conflicting, refused)
    sync_now(phone)

    wait_for_status(phone, "attention")
    assert page.inner_text("#sync-status").endswith("2 need attention")
    conflict = page.locator('li.problem[data-state="conflict"]')
    rejected = page.locator('li.problem[data-state="rejected"]')
    conflict.wait_for()
    rejected.wait_for()
    assert conflict.get_attribute("data-knock") == stored["id"]
    assert rejected.get_attribute("data-knock") == refused["id"]
    conflict_text = conflict.inner_text()
    assert first.display_address in conflict_text
    assert f"answers.{question.pk}: Not an option of this campaign's questions." in rejected.inner_text()

    conflict.get_by_role("button", name="Remove from phone").click()

    conflict.wait_for(state="detached")
    assert rejected.is_visible()
    page.wait_for_selector('#sync-status[data-state="attention"]:has-text("1 need attention")')
    assert [(k["id"], k["state"]) for k in stored_knocks(phone)] == [(refused["id"], "rejected")]
    # The stored knock stands; the refused one was never stored.
    assert ContactAttempt.objects.get(pk=stored["id"]).result_code.code == "not_home"
    assert not ContactAttempt.objects.filter(pk=refused["id"]).exists()
    # The server's reason for the conflict, as it gave it (canvass/sync_services.py), as for the rejected one.
    assert "Another knock with this id is stored; it stands." in conflict_text


# ------------------------------------------------------------------ 4. undo


def test_a_knock_held_for_review_is_shown_as_saved_and_waiting_for_the_organizer(app_world, phone, api_token):
    """A knock at a door of the chapter outside the canvasser's turf (issue 14: held, not counted):
    the phone marks it sent, and the Sync screen says it waits for the organizer, and why."""
    page = phone.page
    start(phone, app_world)
    elsewhere = f.DoorFactory(organization=app_world.org, street_name="Abbot Kinney")
    put_in_outbox(phone, push_item(app_world, at=elsewhere))
    sync_now(phone)
    wait_for_status(phone, "synced")
    item = page.locator("li.held-knock")
    item.wait_for()
    assert "a door outside your turf" in item.inner_text()
    assert "Waiting for your organizer" in page.locator(".screen-sync").inner_text()
    stored = ContactAttempt.objects.get(door=elsewhere)
    assert stored.review == "held"
    assert_accessible(phone, "sync, a knock held for review")


def test_undo_takes_the_knock_back_and_nothing_reaches_the_server(app_world, phone):
    page = phone.page
    start(phone, app_world)
    show_all_doors(phone)
    door = app_world.doors[1]

    knock(phone, door.pk, "not_home")

    toast = page.locator("#toast")
    assert "Saved: Not home" in toast.inner_text()
    page.wait_for_selector(f'a.door-row[data-door="{door.pk}"][data-done="true"]', state="attached")
    wait_for_status(phone, "waiting")
    toast.get_by_role("button", name="Undo").click()

    page.wait_for_selector('#toast:has-text("Undone")')
    row = page.locator(f'a.door-row[data-door="{door.pk}"][data-done="false"]')
    row.wait_for()
    assert "Not knocked yet" in row.inner_text()
    wait_for_status(phone, "synced")
    assert stored_knocks(phone) == []
    with page.expect_response(lambda response: "/api/v1/sync/pull/" in response.url):
        sync_now(phone)
    wait_for_status(phone, "synced")
    assert not ContactAttempt.objects.filter(canvasser=app_world.canvasser).exists()


def test_two_quick_taps_at_a_door_save_one_knock_and_back_does_not_reopen_the_saved_door(app_world, phone):
    page = phone.page
    start(phone, app_world)
    show_all_doors(phone)
    door = app_world.doors[2]
    walk_hash = f"#/walk/{app_world.assignment.pk}"
    open_door(phone, door.pk)

    # A thumb that taps twice, or taps one code then another, before the first is saved.
    page.evaluate(
        """() => {
            document.querySelector('button.result[data-code="not_home"]').click();
            document.querySelector('button.result[data-code="not_home"]').click();
            document.querySelector('button.result[data-code="refused"]').click();
        }"""
    )
    screen(phone, "walk")
    page.wait_for_selector(f'a.door-row[data-door="{door.pk}"][data-done="true"]', state="attached")
    knocks = stored_knocks(phone)
    assert [(k["door"], k["result"]) for k in knocks] == [(door.pk, "not_home")]

    # The saved door was left with history.back(): the address is the walk list's, and the phone's
    # Back button goes to where the volunteer was before the list, not to the door again.
    page.wait_for_function("(hash) => location.hash === hash", arg=walk_hash)
    page.go_back()
    page.wait_for_function("(hash) => location.hash !== hash", arg=walk_hash)
    assert page.evaluate("() => location.hash") != f"#/door/{app_world.assignment.pk}/{door.pk}"
    page.wait_for_selector('#screen:not([data-screen="door"]):not([data-screen="walk"])')


# ------------------------------------------------------------------ 5. fit for the street

NARROW = {"width": 360, "height": 740}

TAP_TARGETS = """() => [...document.querySelectorAll("button, a[href]")]
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
    .map((el) => {
        const box = el.getBoundingClientRect();
        return {what: el.outerHTML.slice(0, 90), height: box.height, width: box.width};
    })"""


def assert_no_sideways_scroll(phone, where: str) -> None:
    width = phone.page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= NARROW["width"], f"{where}: the page is {width} px wide on a {NARROW['width']} px screen"


def assert_tap_targets(phone, where: str) -> None:
    small = [t for t in phone.page.evaluate(TAP_TARGETS) if t["height"] < 48]
    assert not small, f"{where}: tap targets under 48 px:\n" + "\n".join(map(str, small))


def test_the_app_fits_a_360_px_screen_with_big_targets_and_main_actions_low(app_world, make_phone):
    phone = make_phone(viewport=NARROW)
    page = phone.page
    phone.open("/app/")
    screen(phone, "login")
    assert_no_sideways_scroll(phone, "login")
    start(phone, app_world, walk=False)
    assert_no_sideways_scroll(phone, "today")
    open_walk_list(phone, app_world.assignment.pk)

    for language in ("English", "Spanish"):
        assert_no_sideways_scroll(phone, f"walk list ({language})")
        assert_tap_targets(phone, f"walk list ({language})")
        next_door = page.locator(".bottom-actions button").bounding_box()
        tabs = page.locator("#tabs").bounding_box()
        assert next_door["y"] >= NARROW["height"] * 0.6, next_door
        assert next_door["y"] + next_door["height"] <= tabs["y"] + 1
        assert abs(tabs["y"] + tabs["height"] - NARROW["height"]) <= 1, tabs
        page.locator(".screen-walk .segmented button").nth(4).click()  # Map
        page.wait_for_selector("svg.turf-map")
        assert_no_sideways_scroll(phone, f"map ({language})")
        assert_tap_targets(phone, f"map ({language})")
        page.locator(".screen-walk .segmented button").nth(3).click()  # List
        page.wait_for_selector(".buildings")

        unit = next(iter(app_world.buildings.values()))[0]
        open_door(phone, unit.pk)
        assert_no_sideways_scroll(phone, f"door ({language})")
        assert_tap_targets(phone, f"door ({language})")
        page.locator(".screen-door button.person:not([data-person])").click()
        page.wait_for_selector("form.survey")
        assert_no_sideways_scroll(phone, f"door with the survey ({language})")
        assert_tap_targets(phone, f"door with the survey ({language})")
        tabs = page.locator("#tabs").bounding_box()
        assert abs(tabs["y"] + tabs["height"] - NARROW["height"]) <= 1, tabs  # the tabs stay at the bottom

        page.click("#sync-status")
        screen(phone, "sync")
        assert_no_sideways_scroll(phone, f"sync ({language})")
        if language == "English":
            page.get_by_label("Español", exact=True).check()
            page.wait_for_selector('#tabs a:text-is("Hoy")')
            page.click("#tabs a >> nth=1")
            screen(phone, "walk")
    phone.assert_no_errors()


# ------------------------------------------------------------------ 6. the map with no tiles


def test_the_map_works_offline_with_no_tiles_and_nothing_leaves_the_origin(app_world, phone):
    page = phone.page
    requests: list[str] = []
    phone.context.on("request", lambda request: requests.append(request.url))
    start(phone, app_world)
    phone.wait_for_service_worker()
    phone.set_offline(True)
    knock(phone, app_world.doors[0].pk, "not_home")

    page.locator(".screen-walk .segmented button", has_text="Map").click()

    page.wait_for_selector("svg.turf-map")
    # One mark a building (its units share a point); doors[0] is a house of its own, now done.
    buildings: dict[str, list] = {}
    for door in app_world.doors:
        buildings.setdefault(door.building_key or f"door:{door.pk}", []).append(door)
    assert len(buildings) < len(app_world.doors)
    assert page.locator("svg.turf-map circle.door-todo").count() == len(buildings) - 1
    assert page.locator("svg.turf-map rect.door-done").count() == 1
    assert page.locator("svg.turf-map polygon.turf-outline").count() == 1
    page.wait_for_selector('svg.turf-map g.you[visibility="visible"]', state="attached")
    assert page.locator("svg.turf-map image, .map-box img").count() == 0
    titles = page.locator("svg.turf-map :is(rect, circle) > title").all_text_contents()
    assert sorted(titles) == sorted(
        doors[0].display_address if len(doors) == 1 else f"{doors[0].display_address} ({len(doors)})"
        for doors in buildings.values()
    )
    # Tapping a door's mark opens it; saving it goes back to the map, the mark now done.
    page.locator("svg.turf-map circle.door-todo").first.dispatch_event("click")
    screen(phone, "door")
    page.click('button.result[data-code="not_home"]')
    screen(phone, "walk")
    page.wait_for_function("(hash) => location.hash === hash", arg=f"#/walk/{app_world.assignment.pk}")
    page.wait_for_timeout(300)  # the URL's change lands after the screen: the screen must stay
    assert page.get_attribute("#screen", "data-screen") == "walk"
    assert page.locator("svg.turf-map rect.door-done").count() == 2
    assert requests
    foreign = [url for url in requests if not url.startswith(phone.base_url + "/")]
    assert not foreign, foreign
    phone.assert_no_errors(ignore=["net::ERR_INTERNET_DISCONNECTED"])
    phone.set_offline(False)


# ------------------------------------------------------------------ 7. security of the shell

SAME_ORIGIN = {"'self'", "'none'", "data:"}


def test_the_shell_allows_only_its_origin_and_the_token_never_shows_in_a_url(app_world, phone):
    page = phone.page
    requests = []
    console: list[str] = []
    phone.context.on("request", lambda request: requests.append(request))
    page.on("console", lambda message: console.append(message.text))
    app_world.other_door.lat, app_world.other_door.lng = app_world.doors[0].lat, app_world.doors[0].lng
    app_world.other_door.save(update_fields=["lat", "lng"])  # a neighbour of another chapter

    response = phone.open("/app/")
    policy = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert all(set(sources) <= SAME_ORIGIN for sources in policy.values()), policy

    start(phone, app_world)
    knock(phone, app_world.doors[0].pk, "not_home")
    with page.expect_response(lambda r: "/api/v1/sync/pull/" in r.url):
        sync_now(phone)
    wait_for_status(phone, "synced")

    token = page.evaluate('async () => (await import("/static/volunteer/js/store.js")).kv.get("token")')
    assert token.startswith("fo_")
    urls = [request.url for request in requests]
    assert any("/api/v1/sync/push/" in url for url in urls)
    assert not [url for url in urls if "fo_" in url or token in url]
    assert not [text for text in console if token in text]
    api_calls = [r for r in requests if "/api/v1/" in r.url and "/auth/token/" not in r.url]
    assert api_calls and all(r.headers.get("authorization") == f"Token {token}" for r in api_calls)
    assert page.evaluate("() => [document.cookie, localStorage.length, sessionStorage.length]") == ["", 0, 0]
    # The phone holds the turf's doors and nothing of another chapter.
    held = page.evaluate(
        'async () => (await (await import("/static/volunteer/js/store.js")).all("doors")).map((door) => door.id)'
    )
    assert sorted(held) == sorted(d.pk for d in app_world.doors)
    page.click("#tabs a >> nth=1")
    screen(phone, "walk")
    show_all_doors(phone)
    page.wait_for_selector(f'a.door-row[data-door="{app_world.doors[0].pk}"]')  # knocked: listed under All only
    shown = [door for door, _ in list_rows(phone)]
    assert shown == [d.pk for d in app_world.doors]
    assert app_world.other_door.pk not in shown


def test_an_outsider_logging_into_the_app_sees_nothing_of_venice(app_world, phone):
    page = phone.page
    answers = []
    page.on("response", lambda r: answers.append(r) if "/api/v1/" in r.url else None)

    log_in(phone, "oscar", app_world.password)

    page.wait_for_selector(".screen-today :text('You have no turf right now')")
    assert page.locator("article.card[data-assignment]").count() == 0
    assert page.locator("article.card[data-shift]").count() == 0
    body = page.inner_text("#screen")
    assert app_world.turf.name not in body and "ROSE" not in body.upper()
    lists = {r.url.split("?")[0].rsplit("/", 2)[-2]: r.json() for r in answers if r.request.method == "GET"}
    assert lists["assignments"]["results"] == []
    assert lists["shifts"]["results"] == []
    # Asking for venice's turf by its id: the API says no, and the app goes back to Today.
    status = page.evaluate(
        """async (id) => {
            const {api} = await import("/static/volunteer/js/api.js");
            try { await api.walkList(id); return 200; } catch (error) { return error.status; }
        }""",
        app_world.assignment.pk,
    )
    assert status == 404
    page.evaluate(f"() => {{ location.hash = '#/walk/{app_world.assignment.pk}'; }}")
    page.wait_for_function("() => location.hash === '#/today'")
    screen(phone, "today")
    assert page.evaluate('async () => (await (await import("/static/volunteer/js/store.js")).all("doors")).length') == 0
    phone.assert_no_errors(ignore=["404"])


# ------------------------------------------------------------------ 8. the update flow

VERSION_OF_WORKER = """() => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    navigator.serviceWorker.controller.postMessage({type: "version"}, [channel.port2]);
})"""


def test_a_new_version_waits_while_a_door_is_open_and_updates_from_the_walk_list(app_world, phone, monkeypatch):
    import volunteer.views
    from volunteer.shell import Shell, app_shell

    page = phone.page
    start(phone, app_world)
    phone.wait_for_service_worker()
    old = page.evaluate("() => document.documentElement.dataset.version")
    assert old == app_shell().version
    assert page.evaluate(VERSION_OF_WORKER) == old
    page.evaluate("() => { window.beforeTheUpdate = true; }")

    new = Shell(version="0123456789abcdef", files=app_shell().files)
    monkeypatch.setattr(volunteer.views, "app_shell", lambda: new)
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration('/app/')).update()")

    banner = page.locator("#update-banner")
    banner.wait_for()
    assert "A new version of the app is ready" in banner.inner_text()
    update = banner.get_by_role("button", name="Update")

    open_door(phone, app_world.doors[0].pk)
    update.click()
    page.wait_for_selector('#toast:has-text("Finish this door first")')
    assert page.evaluate("() => window.beforeTheUpdate === true")
    assert page.evaluate("() => document.documentElement.dataset.version") == old
    assert page.evaluate("async () => (await navigator.serviceWorker.getRegistration('/app/')).waiting !== null")
    assert screen_name(phone) == "door"

    page.click(".screen-door a.back")
    screen(phone, "walk")
    with page.expect_navigation():
        banner.get_by_role("button", name="Update").click()

    page.wait_for_function(f"() => document.documentElement.dataset.version === {new.version!r}")
    assert page.evaluate("() => window.beforeTheUpdate === undefined")
    phone.wait_for_service_worker()
    assert page.evaluate(VERSION_OF_WORKER) == new.version
    screen(phone, "walk")
    assert page.locator("#update-banner").count() == 0
