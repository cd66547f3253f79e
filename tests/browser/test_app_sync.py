"""The volunteer app end to end: knocks made offline reach the server exactly once.

Each test drives the app as a canvasser would (tests/browser/app_steps.py) and
then looks at two things: the server's database and what the screen says.
"""

from __future__ import annotations

from canvass.field.services import assignment_end
from canvass.models import ContactAttempt, ShiftSignup
from tests.browser import app_steps as steps

# What Chromium logs when the page's fetches fail with the network cut, or
# when a test aborts one on purpose.
OFFLINE_ERRORS = ["net::ERR_INTERNET_DISCONNECTED"]
ABORTED_ERRORS = ["net::ERR_FAILED"]

# IndexedDB "fieldops" as it is, opened without the app's modules (only once the
# app has made it: opening a missing database would make an empty one).
READ_PHONE = """async () => {
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("fieldops");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const read = (name, work) => new Promise((resolve, reject) => {
        const request = work(db.transaction(name).objectStore(name));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const knocks = await read("knocks", (s) => s.getAll());
    const doors = await read("doors", (s) => s.getAll());
    const phone = {
        token: (await read("kv", (s) => s.get("token"))) ?? null,
        assignments: await read("assignments", (s) => s.getAllKeys()),
        doors: doors.map((door) => door.id),
        people: doors.reduce((n, door) => n + (door.people || []).length, 0),
        knocks: knocks.map((k) => ({id: k.id, door: k.door, state: k.state, errors: k.errors || {}})),
    };
    db.close();
    return phone;
}"""

PENDING = """async (n) => {
    const outbox = await import("/static/volunteer/js/outbox.js");
    return (await outbox.counts()).pending === n;
}"""


def read_phone(phone) -> dict:
    return phone.page.evaluate(READ_PHONE)


def wait_for_pending(phone, n: int) -> None:
    """Until the outbox holds exactly n unsent knocks."""
    phone.page.wait_for_function(PENDING, arg=n, polling=100)


def status_text(phone) -> str:
    return phone.page.inner_text("#sync-status")


def attempts_of(user):
    return ContactAttempt.objects.filter(canvasser=user)


def go_online_and_sync(phone) -> None:
    """Give the network back (the app starts a round by itself), then Sync now,
    which also sends the knocks still inside their undo window; waits for all synced."""
    phone.set_offline(False)
    steps.sync_now(phone)
    steps.wait_for_status(phone, "synced")


def ready_offline(phone, world) -> None:
    """Log in as carlos, download the turf, and let the service worker take the page."""
    steps.log_in(phone, world.canvasser.username, world.password)
    steps.download_turf(phone, world.assignment.pk)
    phone.wait_for_service_worker()


# ---------------------------------------------------------------- the whole shift


def test_the_whole_shift_offline_every_knock_is_stored_exactly_once(phone, app_world):
    world = app_world
    doors = world.doors
    building_key, building = next(iter(world.buildings.items()))  # 632 Rose Ave: 6 units
    assert building == doors[8:14]
    q1, q2 = (q.pk for q in world.questions)
    yes, no, undecided = (o.pk for o in world.options[0])
    housing, safety, transit = (o.pk for o in world.options[1])
    first = {door.pk: people[0] for door in doors if (people := world.people.get(door.pk))}
    second = world.people[doors[0].pk][1]
    conversations = [  # door, person (None: someone not listed), answers, support level, note
        (doors[0], second, {q1: yes, q2: housing}, 1, "Wants a yard sign"),
        (doors[2], first[doors[2].pk], {q1: no}, 5, "Not interested, polite"),
        (doors[4], first[doors[4].pk], {q1: undecided, q2: transit}, 3, "Asks about bus lines"),
        (doors[1], None, {q2: safety}, 2, "Tenant, not on the list"),
    ]
    codes = ["not_home", "not_home", "refused", "not_home", "literature_dropped", "not_home", "come_back"]
    one_tap = [doors[3], doors[5], doors[6], doors[7], *doors[14:30]]
    assert len(one_tap) == 20

    ready_offline(phone, world)
    phone.set_offline(True)
    assert phone.page.reload().from_service_worker
    steps.screen(phone, "today")
    steps.wait_for_status(phone, "offline")
    steps.open_walk_list(phone, world.assignment.pk)

    for door, person, answers, support, note in conversations:
        steps.talk_to(
            phone, door.pk, person_id=person.pk if person else None, answers=answers, support=support, note=note
        )
    for i, door in enumerate(one_tap):
        steps.knock(phone, door.pk, codes[i % len(codes)])
    head = phone.page.locator(f'li.building[data-building="{building_key}"]')
    head.get_by_role("button", name=f"Nobody home at all {len(building)}").click()
    head.wait_for(state="detached")  # the Remaining filter: all its doors are done
    made = len(conversations) + len(one_tap) + len(building)
    assert made == 30

    wait_for_pending(phone, made)
    steps.wait_for_status(phone, "offline")
    assert f"{made} waiting" in status_text(phone)
    assert attempts_of(world.canvasser).count() == 0

    # Closed and opened again, still with no network: every knock is still there.
    assert phone.reopen().from_service_worker
    steps.screen(phone, "today")
    steps.wait_for_status(phone, "offline")
    assert f"{made} waiting" in status_text(phone)
    on_phone = read_phone(phone)
    assert len(on_phone["knocks"]) == made
    assert {k["state"] for k in on_phone["knocks"]} == {"pending"}
    steps.open_walk_list(phone, world.assignment.pk)
    steps.show_all_doors(phone)
    phone.page.wait_for_selector('a.door-row[data-done="true"]')
    rows = steps.list_rows(phone)  # scrolled from the top to the end: the list draws the rows near the screen
    assert [door for door, _ in rows] == [d.pk for d in doors]
    assert sum(done for _, done in rows) == made

    go_online_and_sync(phone)

    stored = list(attempts_of(world.canvasser).select_related("result_code"))
    assert len(stored) == made
    assert {str(a.id) for a in stored} == {k["id"] for k in on_phone["knocks"]}
    assert sorted(a.door_id for a in stored) == sorted(
        [d.pk for d, *_ in conversations] + [d.pk for d in one_tap] + [d.pk for d in building]
    )
    by_door = {a.door_id: a for a in stored}
    for door, person, answers, support, note in conversations:
        attempt = by_door[door.pk]
        assert attempt.result_code.code == "canvassed"
        assert attempt.person_id == (person.pk if person else None)
        assert {int(q): int(o) for q, o in attempt.answers.items()} == answers
        assert attempt.support_level == support
        assert attempt.notes == note
        assert attempt.lat is not None  # the phone allowed its position
    for i, door in enumerate(one_tap):
        assert by_door[door.pk].result_code.code == codes[i % len(codes)]
    assert {by_door[d.pk].result_code.code for d in building} == {"not_home"}
    assert {a.assignment_id for a in stored} == {world.assignment.pk}

    assert "All synced" in status_text(phone)
    assert {k["state"] for k in read_phone(phone)["knocks"]} == {"sent"}
    phone.assert_no_errors(ignore=OFFLINE_ERRORS)


# ---------------------------------------------------------------- a dropped response


def test_a_push_whose_answer_is_lost_is_retried_and_nothing_is_stored_twice(phone, app_world):
    world = app_world
    doors = world.doors[14:19]
    pushes = []
    receipts = []

    def drop_the_first_answer(route):
        pushes.append(route.request.post_data_json)
        response = route.fetch()  # the server stores the batch…
        if len(pushes) == 1:
            route.abort()  # …and the phone never hears the answer
        else:
            receipts.extend(response.json()["results"])
            route.fulfill(response=response)

    ready_offline(phone, world)
    steps.open_walk_list(phone, world.assignment.pk)
    phone.page.route("**/api/v1/sync/push/", drop_the_first_answer)
    for door in doors:
        steps.knock(phone, door.pk)

    steps.sync_now(phone)  # the answer is lost: the knocks stay on the phone
    phone.page.locator(".screen-sync .notice-error").wait_for()
    assert len(pushes) == 1
    assert attempts_of(world.canvasser).count() == len(doors)
    wait_for_pending(phone, len(doors))

    steps.sync_now(phone)  # the retry: every item is a duplicate
    steps.wait_for_status(phone, "synced")

    assert len(pushes) == 2
    first, second = ([item["id"] for item in push["attempts"]] for push in pushes)
    assert sorted(first) == sorted(second)
    assert len(set(first)) == len(doors)
    assert [r["status"] for r in receipts] == ["duplicate"] * len(doors)
    stored = attempts_of(world.canvasser)
    assert stored.count() == len(doors)
    assert {str(pk) for pk in stored.values_list("id", flat=True)} == set(first)
    assert {k["state"] for k in read_phone(phone)["knocks"]} == {"sent"}
    phone.assert_no_errors(ignore=ABORTED_ERRORS)


# ---------------------------------------------------------------- the organizer ends the assignment


def test_an_assignment_ended_while_offline_leaves_the_phone_and_its_knocks_are_kept(phone, app_world):
    world = app_world
    doors = world.doors[:3]
    ready_offline(phone, world)
    assert set(read_phone(phone)["doors"]) == {d.pk for d in world.doors}
    phone.set_offline(True)
    steps.open_walk_list(phone, world.assignment.pk)
    for door in doors:
        steps.knock(phone, door.pk)
    wait_for_pending(phone, len(doors))

    assert assignment_end(assignment=world.assignment, actor=world.organizer)

    # The network is back: the app's own round pulls the news, and the walk list closes.
    phone.set_offline(False)
    steps.screen(phone, "today")
    explanation = phone.page.locator(".screen-today .notice", has_text="taken off your list")
    explanation.wait_for()
    assert world.turf.name in explanation.inner_text()
    assert phone.page.locator(f'article.card[data-assignment="{world.assignment.pk}"]').count() == 0
    on_phone = read_phone(phone)
    assert on_phone["assignments"] == []
    assert on_phone["doors"] == []
    assert on_phone["people"] == 0
    assert phone.page.evaluate(
        """async (id) => (await (await import("/static/volunteer/js/sync.js")).walkFromPhone(id)) === null""",
        world.assignment.pk,
    )

    # Its knocks are still sent (Sync now: they may still be inside their undo window).
    steps.sync_now(phone)
    steps.wait_for_status(phone, "synced")
    stored = attempts_of(world.canvasser)
    assert sorted(stored.values_list("door_id", flat=True)) == sorted(d.pk for d in doors)
    assert set(stored.values_list("assignment_id", flat=True)) == {world.assignment.pk}
    assert {k["state"] for k in read_phone(phone)["knocks"]} == {"sent"}

    # The walk list of that assignment cannot be reached any more: the app goes back to Today,
    # where the explanation stays until the volunteer dismisses it.
    phone.page.evaluate("(id) => { location.hash = `#/walk/${id}`; }", world.assignment.pk)
    phone.page.wait_for_function("() => location.hash === '#/today'")
    steps.screen(phone, "today")
    explanation.wait_for()
    assert phone.page.locator("a.door-row").count() == 0
    phone.assert_no_errors(ignore=OFFLINE_ERRORS)


# ---------------------------------------------------------------- log out


def test_log_out_is_refused_while_knocks_are_unsent_then_forgets_everything(phone, app_world):
    world = app_world
    ready_offline(phone, world)
    phone.set_offline(True)
    steps.open_walk_list(phone, world.assignment.pk)
    steps.knock(phone, world.doors[0].pk)
    steps.knock(phone, world.doors[1].pk, "refused")

    phone.page.click("#sync-status")
    steps.screen(phone, "sync")
    sync_screen = phone.page.locator(".screen-sync")
    sync_screen.get_by_role("button", name="Log out").click()
    refusal = sync_screen.get_by_role("alert").filter(has_text="cannot log out")
    refusal.wait_for()
    assert "2 knocks are not sent" in refusal.inner_text()
    steps.screen(phone, "sync")  # still logged in
    assert read_phone(phone)["token"]
    assert len(read_phone(phone)["knocks"]) == 2

    go_online_and_sync(phone)
    assert attempts_of(world.canvasser).count() == 2
    phone.page.click("#sync-status")
    steps.screen(phone, "sync")
    phone.page.locator(".screen-sync").get_by_role("button", name="Log out").click()
    steps.screen(phone, "login")
    phone.page.wait_for_selector("#username")

    on_phone = read_phone(phone)
    assert on_phone["token"] is None
    assert on_phone["assignments"] == []
    assert on_phone["doors"] == []
    assert on_phone["people"] == 0
    assert on_phone["knocks"] == []
    assert attempts_of(world.canvasser).count() == 2
    phone.assert_no_errors(ignore=OFFLINE_ERRORS)


# ---------------------------------------------------------------- check-in and check-out


def test_check_in_with_the_position_then_check_out_sends_the_knocks_first(phone, app_world):
    world = app_world
    shift = world.shifts[0]
    ready_offline(phone, world)
    card = phone.page.locator(f'article.card[data-shift="{shift.pk}"]')
    card.get_by_role("button", name="Sign up").click()
    card.get_by_role("button", name="Check in").click()
    card.get_by_role("button", name="Check out").wait_for()

    signup = ShiftSignup.objects.get(shift=shift, user=world.canvasser)
    assert signup.checked_in_at is not None
    assert signup.check_in_distance_m is not None  # the phone's position was sent
    assert 50 < signup.check_in_distance_m < 150  # ~92 m from the staging place

    # Two knocks, online but still inside their undo window: not sent yet.
    steps.open_walk_list(phone, world.assignment.pk)
    steps.knock(phone, world.doors[0].pk)
    steps.knock(phone, world.doors[1].pk)
    wait_for_pending(phone, 2)
    phone.page.click("#tabs a[href='#/today']")
    steps.screen(phone, "today")
    assert attempts_of(world.canvasser).count() == 0

    card.get_by_role("button", name="Check out").click()
    card.locator(".notice-ok").wait_for()
    assert "All your knocks are sent" in card.locator(".notice-ok").inner_text()

    assert sorted(attempts_of(world.canvasser).values_list("door_id", flat=True)) == sorted(
        [world.doors[0].pk, world.doors[1].pk]
    )
    signup.refresh_from_db()
    assert signup.checked_out_at is not None
    steps.wait_for_status(phone, "synced")
    phone.assert_no_errors()


# ---------------------------------------------------------------- a knock the server rejects


def test_a_rejected_knock_does_not_hold_back_the_good_ones_beside_it(phone, app_world):
    world = app_world
    good = world.doors[20:23]
    ready_offline(phone, world)
    phone.set_offline(True)
    steps.open_walk_list(phone, world.assignment.pk)
    steps.knock(phone, good[0].pk)
    bad_id = phone.page.evaluate(
        """async ([door, assignment]) => {
            const outbox = await import("/static/volunteer/js/outbox.js");
            const [knock] = await outbox.recordKnocks([{door, assignment, person: null, result: "not_home",
                answers: {}, notes: "", support_level: null}]);
            return knock.id;
        }""",
        [world.other_door.pk, world.assignment.pk],
    )
    steps.knock(phone, good[1].pk, "refused")
    steps.knock(phone, good[2].pk, "literature_dropped")
    wait_for_pending(phone, 4)

    phone.set_offline(False)
    steps.sync_now(phone)
    steps.wait_for_status(phone, "attention")

    stored = attempts_of(world.canvasser)
    assert sorted(stored.values_list("door_id", flat=True)) == sorted(d.pk for d in good)
    assert not ContactAttempt.objects.filter(door=world.other_door).exists()
    assert "1 need attention" in status_text(phone)
    problem = phone.page.locator(f'li.problem[data-state="rejected"][data-knock="{bad_id}"]')
    problem.wait_for()
    assert "No such door." in problem.inner_text()
    knocks = {k["id"]: k for k in read_phone(phone)["knocks"]}
    assert knocks[bad_id]["state"] == "rejected"
    assert knocks[bad_id]["errors"] == {"door": ["No such door."]}
    assert {k["state"] for i, k in knocks.items() if i != bad_id} == {"sent"}
    phone.assert_no_errors(ignore=OFFLINE_ERRORS)


# ---------------------------------------------------------------- the walk list's cursor


def test_a_downloaded_turf_goes_on_with_incremental_pulls_and_no_snapshot(phone, app_world):
    """The walk list carries a cursor: the phone stores it and never asks for a snapshot; a
    partner's knock made afterwards then reaches it by an incremental pull."""
    from canvass.field.services import assignment_reassign
    from fieldops.models import Role
    from fieldops.services import member_add
    from tests.factories import PUSH, client_for, push_batch, push_item

    world = app_world
    pulls: list[str] = []
    phone.page.on("request", lambda request: pulls.append(request.url) if "/api/v1/sync/pull/" in request.url else None)
    steps.log_in(phone, world.canvasser.username, world.password)
    steps.download_turf(phone, world.assignment.pk)
    stored = phone.page.evaluate("""async () => (await import("/static/volunteer/js/store.js")).kv.get("cursor")""")
    assert stored, "the walk list's cursor is stored"
    assert all("cursor=" in url for url in pulls), pulls  # no pull without a cursor: no snapshot

    partner = member_add(organization=world.org, username="paula", role=Role.CANVASSER, password=world.password).user
    assignment_reassign(assignment=world.assignment, canvassers=[world.canvasser, partner], actor=world.organizer)
    door = world.doors[5]
    response = client_for(partner).post(PUSH, push_batch(push_item(world, at=door)), format="json")
    assert response.json()["results"][0]["status"] == "accepted", response.content

    steps.sync_now(phone)
    steps.wait_for_status(phone, "synced")
    phone.page.locator("a.tab[data-tab=today]").click()
    steps.screen(phone, "today")
    steps.open_walk_list(phone, world.assignment.pk)
    steps.show_all_doors(phone)
    phone.page.locator(f'a.door-row[data-door="{door.pk}"][data-done="true"]').wait_for()
    assert all("cursor=" in url for url in pulls), pulls
    phone.assert_no_errors()
