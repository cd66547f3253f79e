"""Unit tests of the app's own logic, run in the browser with no API behind it.

model.js is pure (plain data in, plain data out): one page of the live server
imports it and each test calls a function and looks at the answer in Python.
outbox.js is tried against the phone's real IndexedDB with the network cut:
nothing it does before a push may need the server.
"""

from __future__ import annotations

import pytest

MODEL = "/static/volunteer/js/model.js"


@pytest.fixture(scope="module")
def model_page(browser, base_url, django_db_blocker):
    """One page of the app's origin (the login screen: no token, so no sync runs) for the pure functions."""
    context = browser.new_context(base_url=base_url, service_workers="block")
    context.set_default_timeout(15_000)
    page = context.new_page()
    # The live server's request handling touches the database connection; a module fixture is set up
    # before the test's own database fixture lets it.
    with django_db_blocker.unblock():
        assert page.goto("/app/").status == 200
        page.wait_for_selector('#screen[data-screen="login"]')
        page.evaluate(f"() => import({MODEL!r})")
    yield page
    context.close()


def model(page, expression: str, arg=None):
    """Evaluate `expression` with `m` bound to model.js and `arg` to the JSON value given."""
    return page.evaluate(f"async (arg) => {{ const m = await import({MODEL!r}); return {expression}; }}", arg)


def ids(doors) -> list[int]:
    return [door["id"] for door in doors]


def door(id: int, *, building: str = "", unit: str = "", result: str | None = None, at: str = "2025-06-01T10:00:00Z"):
    return {
        "id": id,
        "building_key": building,
        "unit": unit,
        "last_result": {"result_code": result, "at": at} if result else None,
    }


# ------------------------------------------------------------------ walk list


def test_group_by_building_joins_consecutive_doors_of_a_building_in_natural_unit_order(model_page):
    doors = [
        door(1, building="b:a", unit="10"),
        door(2, building="b:a", unit="2"),
        door(3, building="b:a", unit="1"),
        door(4, building="b:b"),
        door(5, building="b:a", unit="3"),  # the same building again, later in the walk: a group of its own
        door(6),  # no building key: never joined to the next door without one
        door(7),
        door(8, building="b:c", unit="B"),
        door(9, building="b:c", unit="a"),
        door(10, building="b:c", unit="A2"),
    ]

    groups = model(model_page, "m.groupByBuilding(arg)", doors)

    assert [(group["key"], ids(group["doors"]), group["isMultiUnit"]) for group in groups] == [
        ("b:a", [3, 2, 1], True),  # 1 < 2 < 10, not "1" < "10" < "2"
        ("b:b", [4], False),
        ("b:a", [5], False),
        ("door:6", [6], False),
        ("door:7", [7], False),
        ("b:c", [9, 10, 8], True),  # letters regardless of case: a < A2 < B
    ]


def test_compare_units_orders_numbers_by_value(model_page):
    units = ["10", "2", "1B", "1A", "", "100", "9"]

    ordered = model(model_page, "arg.map((unit) => ({unit})).sort(m.compareUnits).map((door) => door.unit)", units)

    assert ordered == ["", "1A", "1B", "2", "9", "10", "100"]


def test_progress_counts_done_doors_and_contacts(model_page):
    codes = [
        {"code": "not_home", "is_contact": False},
        {"code": "canvassed", "is_contact": True},
        {"code": "refused", "is_contact": True},
    ]
    doors = [
        door(1, result="not_home"),
        door(2, result="canvassed"),
        door(3),
        door(4, result="refused"),
        door(5, result="gone_from_the_codes"),  # done, and no contact it can vouch for
        door(6),
    ]

    assert model(model_page, "m.progress(arg.doors, arg.codes)", {"doors": doors, "codes": codes}) == {
        "done": 4,
        "total": 6,
        "contacts": 2,
    }
    assert model(model_page, "m.progress([], arg)", codes) == {"done": 0, "total": 0, "contacts": 0}


def test_next_door_skips_done_doors_and_wraps_round(model_page):
    doors = [door(1), door(2, result="not_home"), door(3), door(4, result="refused"), door(5, result="moved")]

    def next_after(after, which=doors):
        found = model(model_page, "m.nextDoor(arg.doors, arg.after)", {"doors": which, "after": after})
        return found and found["id"]

    assert next_after(None) == 1
    assert next_after(1) == 3  # 2 is done
    assert next_after(3) == 1  # 4 and 5 are done: round to the start
    assert next_after(5) == 1
    assert next_after(99) == 1  # a door no longer on the list: from the start
    only_three = [door(1, result="x"), door(2, result="x"), door(3)]
    assert next_after(3, only_three) == 3  # the only door left is the one just left
    assert next_after(None, [door(1, result="x"), door(2, result="x")]) is None
    assert next_after(None, []) is None


def test_filter_doors(model_page):
    doors = [door(1), door(2, result="not_home"), door(3), door(4, result="canvassed")]

    def shown(name):
        return ids(model(model_page, "m.filterDoors(arg.doors, arg.name)", {"doors": doors, "name": name}))

    assert shown("remaining") == [1, 3]
    assert shown("done") == [2, 4]
    assert shown("all") == [1, 2, 3, 4]


def test_later_result_compares_instants_not_strings(model_page):
    def later(current, candidate):
        return model(model_page, "m.laterResult(arg[0], arg[1])", [current, candidate])

    early = {"result_code": "not_home", "at": "2025-06-01T10:00:00Z"}
    late = {"result_code": "canvassed", "at": "2025-06-01T11:00:00Z"}
    # 03:30 in Los Angeles is 10:30 UTC: later than `early`, although "03" < "10" as text.
    local = {"result_code": "refused", "at": "2025-06-01T03:30:00-07:00"}
    same_instant = {"result_code": "come_back", "at": "2025-06-01T03:00:00-07:00", "mine": True}

    assert later(None, None) is None
    assert later(early, None) == early
    assert later(None, late) == late
    assert later(early, late) == late
    assert later(late, early) == late
    assert later(early, local) == local
    assert later(local, early) == local
    assert later(early, same_instant) == same_instant  # a tie goes to the candidate


# ------------------------------------------------------------------ sync status


def test_sync_status_says_attention_before_offline_before_waiting_before_synced(model_page):
    def status(**counts):
        state = {"pending": 0, "attention": 0, "online": True, "syncing": False, "lastSyncedAt": None, **counts}
        return model(model_page, "m.syncStatus(arg)", state)

    at = "2025-06-01T10:00:00Z"
    assert status(attention=2, pending=3, online=False, syncing=True)["state"] == "attention"
    assert status(attention=2, pending=3)["count"] == 2
    assert status(pending=3, online=False) == {"state": "offline", "count": 3}
    assert status(online=False) == {"state": "offline", "count": 0}
    assert status(pending=3, syncing=True) == {"state": "syncing", "count": 3}
    assert status(pending=3) == {"state": "waiting", "count": 3}
    assert status(syncing=True, lastSyncedAt=at) == {"state": "synced", "count": 0, "at": at}
    assert status() == {"state": "synced", "count": 0, "at": None}


# ------------------------------------------------------------------ outbox logic


def knock(id: str, created_at: int, state: str = "pending") -> dict:
    return {"id": id, "createdAt": created_at, "state": state}


def test_batches_hold_knocks_inside_the_undo_window_unless_forced(model_page):
    now = 1_000_000
    knocks = [
        knock("fresh", now - 2_000),
        knock("old", now - 60_000),
        knock("exactly-ten-seconds", now - 10_000),
        knock("older", now - 120_000),
        knock("sent", now - 500_000, "sent"),
        knock("conflict", now - 500_000, "conflict"),
        knock("rejected", now - 500_000, "rejected"),
    ]

    def batched(force):
        options = {"now": now, "holdMs": 10_000, "force": force, "size": 500}
        return [
            [k["id"] for k in batch]
            for batch in model(model_page, "m.batches(arg.knocks, arg.options)", {"knocks": knocks, "options": options})
        ]

    assert batched(False) == [["older", "old", "exactly-ten-seconds"]]
    assert batched(True) == [["older", "old", "exactly-ten-seconds", "fresh"]]


def test_batches_split_at_the_server_limit_oldest_first(model_page):
    # 1,201 knocks made in reverse order of their ids, with ties on createdAt broken by id.
    sizes_and_edges = model(
        model_page,
        """(() => {
            const knocks = [];
            for (let i = 0; i < 1201; i += 1) {
                const id = `k${String(1200 - i).padStart(4, "0")}`;
                knocks.push({id, createdAt: 1000 + Math.floor(i / 2), state: "pending"});
            }
            const out = m.batches(knocks, {now: 10 ** 9, holdMs: 10000, force: false, size: 500});
            const flat = out.flat();
            const ordered = flat.every((k, i) => i === 0 || flat[i - 1].createdAt < k.createdAt
                || (flat[i - 1].createdAt === k.createdAt && flat[i - 1].id < k.id));
            return {sizes: out.map((b) => b.length), first: flat[0].id, last: flat[flat.length - 1].id, ordered,
                    unique: new Set(flat.map((k) => k.id)).size};
        })()""",
    )

    assert sizes_and_edges == {
        "sizes": [500, 500, 201],
        "first": "k1199",
        "last": "k0000",
        "ordered": True,
        "unique": 1201,
    }
    assert model(model_page, "m.batches([], {now: 0, holdMs: 0, force: true, size: 500})") == []


def test_apply_receipt(model_page):
    stored = {"id": "k1", "state": "pending", "result": "not_home", "createdAt": 5}

    def applied(receipt):
        return model(model_page, "m.applyReceipt(arg.knock, arg.receipt)", {"knock": stored, "receipt": receipt})

    accepted = applied({"id": "k1", "status": "accepted", "errors": {}, "flags": ["far_from_door"]})
    assert accepted["state"] == "sent"
    assert accepted["flags"] == ["far_from_door"]
    assert isinstance(accepted["sentAt"], int | float)
    assert accepted["result"] == "not_home"
    assert accepted["review"] is None and accepted["heldReason"] is None
    receipt = {"id": "k1", "status": "accepted", "errors": {}, "flags": ["off_list", "held"]}
    held = applied({**receipt, "review": "held", "held_reason": "off_list"})
    assert held["state"] == "sent"  # stored on the server: never sent again
    assert (held["review"], held["heldReason"]) == ("held", "off_list")
    duplicate = applied({"id": "k1", "status": "duplicate", "errors": {}})
    assert duplicate["state"] == "sent"
    assert duplicate["flags"] == []
    reason = {"id": "Another knock with this id is stored; it stands."}
    assert applied({"id": "k1", "status": "conflict", "errors": reason}) == {
        **stored,
        "state": "conflict",
        "errors": reason,
    }
    refused = {"answers": {"12": "Not an option of this campaign's questions."}}
    assert applied({"id": "k1", "status": "rejected", "errors": refused}) == {
        **stored,
        "state": "rejected",
        "errors": refused,
    }
    assert applied({"id": "k1", "status": "rejected"})["errors"] == {}
    # A status this app does not know (a newer server): the knock stays pending and is sent again.
    assert applied({"id": "k1", "status": "postponed", "errors": {}}) == stored


def test_error_lines_flatten_nested_errors(model_page):
    errors = {
        "door": "No such door.",
        "answers": {
            "12": "Not an option of this campaign's questions.",
            "13": "This option belongs to another question.",
        },
        "recorded_at": ["Enter a valid date/time.", "Required."],
    }

    assert model(model_page, "m.errorLines(arg)", errors) == [
        "door: No such door.",
        "answers.12: Not an option of this campaign's questions.",
        "answers.13: This option belongs to another question.",
        "recorded_at: Enter a valid date/time. Required.",
    ]
    assert model(model_page, "m.errorLines(null)") == []
    assert model(model_page, "m.errorLines({})") == []


def test_backoff_doubles_from_five_seconds_to_five_minutes_with_jitter(model_page):
    def backoff(failures, r):
        return model(model_page, "m.backoffMs(arg[0], () => arg[1])", [failures, r])

    assert [backoff(n, 0.5) for n in (0, 1, 2, 3, 4, 5, 6, 7, 8, 20)] == [
        5_000,
        5_000,
        10_000,
        20_000,
        40_000,
        80_000,
        160_000,
        300_000,
        300_000,
        300_000,
    ]
    assert (backoff(1, 0), backoff(1, 0.999999)) == (4_000, 6_000)
    assert (backoff(9, 0), backoff(9, 0.999999)) == (240_000, 360_000)
    # With Math.random: within ±20%, and not all the same (phones must not retry in step).
    samples = model(model_page, "Array.from({length: 200}, () => m.backoffMs(3))")
    assert all(16_000 <= value <= 24_000 for value in samples)
    assert len(set(samples)) > 20


def test_the_sync_timer_is_jittered_by_a_tenth(model_page):
    assert model(
        model_page, "[m.jittered(30000, () => 0), m.jittered(30000, () => 0.5), m.jittered(30000, () => 0.999999)]"
    ) == [
        27_000,
        30_000,
        33_000,
    ]
    samples = model(model_page, "Array.from({length: 200}, () => m.jittered(30000))")
    assert all(27_000 <= value <= 33_000 for value in samples)
    assert len(set(samples)) > 20


DOCUMENTED = {"id", "door", "assignment", "person", "result", "support_level", "answers", "notes", "recorded_at"}


def test_push_item_sends_only_the_documented_fields(model_page):
    stored = {
        "id": "5c7e8f6a-1111-4222-8333-944455556666",
        "door": 7,
        "assignment": 3,
        "person": 12,
        "result": "canvassed",
        "support_level": 2,
        "answers": {"4": 9},
        "notes": "Call back about the bus",
        "recorded_at": "2025-06-01T10:00:00.000Z",
        "lat": 33.9925,
        "lng": -118.4695,
        "accuracy_m": 12.5,
        # The phone's own bookkeeping, never sent:
        "state": "pending",
        "createdAt": 1748772000000,
        "previousResult": {"result_code": "not_home", "at": "2025-05-31T10:00:00Z"},
        "errors": {},
        "flags": [],
        "sentAt": None,
    }

    item = model(model_page, "m.pushItem(arg)", stored)

    assert set(item) == DOCUMENTED | {"lat", "lng", "accuracy_m"}
    assert item == {key: stored[key] for key in item}


def test_push_item_sends_a_position_only_with_both_coordinates(model_page):
    bare = {"id": "k", "door": 1, "assignment": 2, "result": "not_home", "recorded_at": "2025-06-01T10:00:00Z"}

    def item(**position):
        return model(model_page, "m.pushItem(arg)", {**bare, **position})

    assert item() == {**bare, "person": None, "support_level": None, "answers": {}, "notes": ""}
    assert set(item(lat=33.99)) == DOCUMENTED
    assert set(item(lng=-118.46, accuracy_m=5)) == DOCUMENTED
    assert set(item(lat=33.99, lng=None, accuracy_m=5)) == DOCUMENTED
    assert set(item(lat="33.99", lng="-118.46")) == DOCUMENTED  # not numbers: not a position
    both = item(lat=33.99, lng=-118.46)
    assert (both["lat"], both["lng"]) == (33.99, -118.46)
    assert "accuracy_m" not in both
    assert item(lat=0, lng=0, accuracy_m=3)["accuracy_m"] == 3  # 0 is a coordinate, not a missing one


# ------------------------------------------------------------------ outbox.js on IndexedDB, offline

OUTBOX = """
const outbox = await import("/static/volunteer/js/outbox.js");
const store = await import("/static/volunteer/js/store.js");
const api = await import("/static/volunteer/js/api.js");
"""


@pytest.fixture
def offline_page(make_phone):
    """The app's page on a phone of its own (a fresh IndexedDB), with two doors stored and the network cut."""
    phone = make_phone(service_workers="block")  # no worker to install: a faster start
    phone.open("/app/")
    phone.page.wait_for_selector('#screen[data-screen="login"]')
    phone.set_offline(True)
    phone.page.evaluate(
        """async () => {
            const store = await import("/static/volunteer/js/store.js");
            await store.put("doors", {id: 1, address: "600 ROSE AVE", people: [], last_result: null});
            await store.put("doors", {id: 2, address: "604 ROSE AVE", people: [],
                last_result: {result_code: "refused", at: "2025-06-01T10:00:00Z"}});
            await store.kv.set("deviceId", "unit-test-device");
        }"""
    )
    yield phone.page
    phone.set_offline(False)


def run(page, body: str, arg=None):
    return page.evaluate(f"async (arg) => {{ {OUTBOX} {body} }}", arg)


def draft(door: int, result: str = "not_home", **extra) -> dict:
    return {
        "door": door,
        "assignment": 5,
        "person": None,
        "result": result,
        "support_level": None,
        "answers": {},
        "notes": "",
        **extra,
    }


def test_record_knocks_is_durable_before_it_resolves_and_marks_the_door(offline_page):
    answer = run(
        offline_page,
        """
        const made = await outbox.recordKnocks(arg);
        // Read back through a connection of our own: what recordKnocks resolved on is committed.
        const db = await new Promise((resolve, reject) => {
            const request = indexedDB.open("fieldops");
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
        });
        const read = (name, key) => new Promise((resolve, reject) => {
            const request = db.transaction(name).objectStore(name).get(key);
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
        });
        const stored = await Promise.all(made.map((k) => read("knocks", k.id)));
        const doors = [await read("doors", 1), await read("doors", 2)];
        db.close();
        return {made, stored, doors};
        """,
        [draft(1, lat=33.99, lng=-118.46, accuracy_m=9), draft(2, "canvassed", person=3, answers={"4": 9})],
    )

    made, stored, doors = answer["made"], answer["stored"], answer["doors"]
    assert stored == made
    assert [k["state"] for k in made] == ["pending", "pending"]
    assert len({k["id"] for k in made}) == 2
    for k in made:
        assert len(k["id"]) == 36 and k["id"][14] == "4"  # a version 4 UUID, made on the phone
    assert made[0]["lat"] == 33.99 and made[1]["answers"] == {"4": 9}
    assert made[0]["previousResult"] is None
    assert made[1]["previousResult"] == {"result_code": "refused", "at": "2025-06-01T10:00:00Z"}
    assert doors[0]["last_result"] == {"result_code": "not_home", "at": made[0]["recorded_at"], "mine": True}
    assert doors[1]["last_result"] == {"result_code": "canvassed", "at": made[1]["recorded_at"], "mine": True}


def test_undo_knocks_restores_the_doors_and_spares_sent_knocks(offline_page):
    answer = run(
        offline_page,
        """
        const [first, second] = await outbox.recordKnocks(arg.slice(0, 2));
        await new Promise((resolve) => setTimeout(resolve, 5));  // a later millisecond: a later knock
        const [third] = await outbox.recordKnocks(arg.slice(2));
        // The third was sent meanwhile: it is the server's now, undo leaves it.
        await store.put("knocks", {...third, state: "sent"});
        const undone = await outbox.undoKnocks([first.id, second.id, third.id, "no-such-knock"]);
        return {
            undone,
            knocks: (await store.all("knocks")).map((k) => [k.id === third.id, k.state]),
            doors: [(await store.get("doors", 1)).last_result, (await store.get("doors", 2)).last_result],
        };
        """,
        [draft(1), draft(2, "come_back"), draft(1, "canvassed")],
    )

    assert answer["undone"] == 2
    assert answer["knocks"] == [[True, "sent"]]
    # Door 1's last result is the sent knock's (undoing the older knock does not wipe it);
    # door 2 has its result from before the undone knock back.
    assert answer["doors"][0]["result_code"] == "canvassed"
    assert answer["doors"][1] == {"result_code": "refused", "at": "2025-06-01T10:00:00Z"}


def test_undo_of_the_only_knock_leaves_the_door_not_knocked(offline_page):
    answer = run(
        offline_page,
        """
        const [k] = await outbox.recordKnocks(arg);
        const before = (await store.get("doors", 1)).last_result;
        const undone = await outbox.undoKnocks([k.id]);
        const after = (await store.get("doors", 1)).last_result;
        return {before, undone, after, left: (await store.all("knocks")).length};
        """,
        [draft(1)],
    )

    assert answer["before"]["result_code"] == "not_home"
    assert (answer["undone"], answer["after"], answer["left"]) == (1, None, 0)


def test_counts_tells_pending_from_attention(offline_page):
    answer = run(
        offline_page,
        """
        const before = await outbox.counts();
        const made = await outbox.recordKnocks(arg);
        await store.put("knocks", {...made[2], state: "conflict", errors: {id: "stored"}});
        await store.put("knocks", {...made[3], state: "rejected", errors: {door: "No such door."}});
        await store.put("knocks", {...made[4], state: "sent"});
        const after = await outbox.counts();
        const problems = (await outbox.knocksInState("conflict", "rejected")).map((k) => k.state).sort();
        await outbox.discardKnock(made[0].id);  // pending: not the volunteer's to drop
        await outbox.discardKnock(made[2].id);
        return {before, after, problems, end: await outbox.counts(), total: (await store.all("knocks")).length};
        """,
        [draft(1), draft(2), draft(1), draft(2), draft(1)],
    )

    assert answer["before"] == {"pending": 0, "attention": 0}
    assert answer["after"] == {"pending": 2, "attention": 2}
    assert answer["problems"] == ["conflict", "rejected"]
    assert answer["end"] == {"pending": 2, "attention": 1}
    assert answer["total"] == 4


def test_push_while_offline_keeps_every_knock_pending_with_its_id(offline_page):
    answer = run(
        offline_page,
        """
        const made = await outbox.recordKnocks(arg);
        // Inside the undo window and not forced: nothing is ready, so nothing is tried.
        const held = await outbox.push();
        let error = null;
        try {
            await outbox.push({force: true});
        } catch (e) {
            error = {network: e instanceof api.NetworkError, api: e instanceof api.ApiError};
        }
        // Out of the undo window (an hour old): sent without force, and still offline.
        for (const k of made) await store.put("knocks", {...k, createdAt: k.createdAt - 3600 * 1000});
        let later = null;
        try {
            await outbox.push();
        } catch (e) {
            later = e instanceof api.NetworkError;
        }
        const stored = await store.all("knocks");
        return {
            held, error, later,
            made: made.map((k) => k.id).sort(),
            stored: stored.map((k) => [k.id, k.state, k.recorded_at === made.find((m) => m.id === k.id).recorded_at]),
            counts: await outbox.counts(),
        };
        """,
        [draft(1), draft(2), draft(1, "canvassed")],
    )

    assert answer["held"] == {"sent": 0, "attention": 0}
    assert answer["error"]["network"] is True and answer["error"]["api"] is False
    assert answer["later"] is True
    assert sorted(row[0] for row in answer["stored"]) == answer["made"]
    assert all(state == "pending" and same_time for _, state, same_time in answer["stored"])
    assert answer["counts"] == {"pending": 3, "attention": 0}
