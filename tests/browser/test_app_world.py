"""app_world, as a phone sees it through the live server: what the end-to-end tests rely on."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def test_the_canvasser_gets_the_turf_in_walk_order_with_its_buildings_and_people(app_world, api_token, phone):
    headers = {"Authorization": f"Token {api_token(app_world.canvasser)}"}

    response = phone.context.request.get(
        phone.url(f"/api/v1/assignments/{app_world.assignment.pk}/walk-list/"), headers=headers
    )

    assert response.status == 200, response.text()
    body = response.json()
    doors = body["doors"]
    assert [door["id"] for door in doors] == [door.pk for door in app_world.doors]
    assert len(doors) == 40
    units: dict[str, list[int]] = {}
    for door in doors:
        if door["unit"]:
            units.setdefault(door["building_key"], []).append(door["id"])
    assert units == {key: [door.pk for door in same] for key, same in app_world.buildings.items()}
    assert [len(same) for same in units.values()] == [6, 4, 3]
    with_people = {door["id"]: [person["id"] for person in door["people"]] for door in doors if door["people"]}
    assert with_people == {door_id: [person.pk for person in people] for door_id, people in app_world.people.items()}
    assert len(with_people) == 20
    assert [len(question["options"]) for question in body["script"]] == [3, 3]
    assert [code["code"] for code in body["result_codes"]] == [code.code for code in app_world.result_codes]


def test_the_first_shift_is_open_for_check_in_and_the_outsider_sees_none_of_it(app_world, api_token, phone):
    now = timezone.now()
    soon, later = app_world.shifts
    assert now < soon.starts_at <= now + dt.timedelta(hours=1)
    assert later.starts_at > now + dt.timedelta(hours=12)

    mine = phone.context.request.get(
        phone.url("/api/v1/shifts/"), headers={"Authorization": f"Token {api_token(app_world.canvasser)}"}
    )
    theirs = phone.context.request.get(
        phone.url("/api/v1/shifts/"), headers={"Authorization": f"Token {api_token(app_world.outsider)}"}
    )

    assert [shift["id"] for shift in mine.json()["results"]] == [soon.pk, later.pk]
    assert theirs.json()["results"] == []
