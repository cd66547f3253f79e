"""Geography screens of the admin: doors, districts, people."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.factories import admin_client, populate
from turf.admin import door_summary
from turf.models import District, Door, DoorDistrict, Person


@pytest.mark.django_db
def test_organizer_sees_own_doors_and_not_the_other_organizations(world):
    response = admin_client(world.organizer).get("/admin/turf/door/")
    assert response.status_code == 200
    shown = {door.pk for door in response.context["cl"].result_list}
    assert shown == {door.pk for door in world.doors}
    assert world.other_door.pk not in shown


@pytest.mark.django_db
def test_outsider_never_gets_a_venice_door(world):
    client = admin_client(world.outsider)
    listing = client.get("/admin/turf/door/")
    assert {d.pk for d in listing.context["cl"].result_list} == {world.other_door.pk}

    venice_door = world.doors[0]
    for path in (
        f"/admin/turf/door/{venice_door.pk}/change/",
        f"/admin/turf/door/{venice_door.pk}/delete/",
        f"/admin/turf/door/{venice_door.pk}/history/",
    ):
        response = client.get(path)
        assert response.status_code in (302, 403, 404), path
        assert venice_door.address_key.encode() not in response.content

    response = client.post(f"/admin/turf/door/{venice_door.pk}/change/", {"street_name": "HIJACKED"})
    assert response.status_code in (302, 403, 404)
    venice_door.refresh_from_db()
    assert venice_door.street_name == "MAIN"


@pytest.mark.django_db
def test_door_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    layer = f.DistrictLayerFactory(organization=world.org)
    district = f.DistrictFactory(layer=layer)
    client = admin_client(world.organizer)

    def add_doors(n: int) -> None:
        for _ in range(n):
            door = f.DoorFactory(organization=world.org)
            DoorDistrict.objects.create(door=door, district=district)

    add_doors(3)  # 5 doors with the world's two
    with django_assert_max_num_queries(20) as five:
        assert client.get("/admin/turf/door/").status_code == 200
    add_doors(45)
    with django_assert_max_num_queries(len(five.captured_queries)) as fifty:
        response = client.get("/admin/turf/door/")
    assert len(response.context["cl"].result_list) == 50
    assert len(fifty.captured_queries) == len(five.captured_queries)


@pytest.mark.django_db
def test_door_list_shows_building_keys_and_finds_a_building_by_its_key(world):
    neighbour = f.DoorFactory(organization=world.org, building_key=world.doors[0].building_key)
    client = admin_client(world.organizer)
    listing = client.get("/admin/turf/door/")
    assert world.doors[0].building_key in listing.content.decode()

    found = client.get("/admin/turf/door/", {"q": world.doors[0].building_key})
    assert {d.pk for d in found.context["cl"].result_list} == {world.doors[0].pk, neighbour.pk}
    page = client.get(f"/admin/turf/door/{neighbour.pk}/change/")
    assert 'name="building_key"' in page.content.decode()


@pytest.mark.django_db
def test_organization_page_says_how_many_doors_in_how_many_buildings(world, django_assert_num_queries):
    # The world's two doors have a building each; two more share one; one has no key
    # (no outline, no location) and counts as a door but not as a building.
    f.DoorFactory(organization=world.org, building_key="b:shared")
    f.DoorFactory(organization=world.org, building_key="b:shared")
    f.DoorFactory(organization=world.org, building_key="", lat=None, lng=None)
    f.DoorFactory(organization=world.other_org, building_key="b:shared")  # elsewhere: not counted

    with django_assert_num_queries(1):
        assert door_summary(world.org) == "5 doors in 3 buildings"
    page = admin_client(world.organizer).get(f"/admin/fieldops/organization/{world.org.pk}/change/")
    assert page.status_code == 200
    assert "5 doors in 3 buildings" in page.content.decode()


@pytest.mark.django_db
def test_district_filter_offers_own_districts_grouped_by_layer_and_filters(world):
    objects = populate(world)
    lonely = f.DoorFactory(organization=world.org)
    client = admin_client(world.organizer)
    response = client.get("/admin/turf/door/")
    html = response.content.decode()
    assert "Council: CD11" in html
    assert "Far district" not in html

    filtered = client.get(f"/admin/turf/door/?district={objects['district'].pk}")
    shown = {d.pk for d in filtered.context["cl"].result_list}
    assert shown == {d.pk for d in world.doors}
    assert lonely.pk not in shown
    # Another organization's district id finds nothing, it does not widen the list.
    foreign = client.get(f"/admin/turf/door/?district={objects['other_district'].pk}")
    assert list(foreign.context["cl"].result_list) == []
    # An id beyond 64 bits, or no number, finds nothing like a foreign one: no server error.
    for value in (str(2**70), "7a", "-1"):
        response = client.get(f"/admin/turf/door/?district={value}")
        assert response.status_code == 200 and list(response.context["cl"].result_list) == []


@pytest.mark.django_db
def test_door_page_lists_its_districts_read_only(world):
    populate(world)
    door = world.doors[0]
    page = admin_client(world.organizer).get(f"/admin/turf/door/{door.pk}/change/")
    html = page.content.decode()
    assert "<li>Council: CD11</li>" in html
    assert 'name="address_key"' not in html  # computed on import


@pytest.mark.django_db
def test_deleting_a_knocked_door_is_refused_cleanly(world):
    populate(world)  # a contact attempt at doors[0]
    door = world.doors[0]
    client = admin_client(world.organizer)
    confirm = client.get(f"/admin/turf/door/{door.pk}/delete/")
    assert confirm.status_code == 200
    # Django's own "Cannot delete" page, naming the knocks that protect the door.
    assert "Cannot delete door" in confirm.content.decode()
    assert confirm.context["protected"]
    response = client.post(f"/admin/turf/door/{door.pk}/delete/", {"post": "yes"})
    assert response.status_code in (200, 403)
    assert Door.objects.filter(pk=door.pk).exists()


@pytest.mark.django_db
def test_deleting_an_unknocked_door_works(world):
    door = world.doors[1]
    response = admin_client(world.organizer).post(f"/admin/turf/door/{door.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Door.objects.filter(pk=door.pk).exists()


@pytest.mark.django_db
def test_person_added_on_the_door_page_belongs_to_the_doors_organization(world):
    door = world.doors[1]
    client = admin_client(world.organizer)
    page = client.get(f"/admin/turf/door/{door.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(
        {
            "people-TOTAL_FORMS": "1",
            "people-INITIAL_FORMS": "0",
            "people-MIN_NUM_FORMS": "0",
            "people-MAX_NUM_FORMS": "1000",
            "people-0-first_name": "Ada",
            "people-0-last_name": "Lovelace",
            "people-0-external_voter_id": "V1",
        }
    )
    response = client.post(f"/admin/turf/door/{door.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    person = Person.objects.get(external_voter_id="V1")
    assert person.door == door
    assert person.organization == world.org


@pytest.mark.django_db
def test_district_page_draws_the_outline_and_keeps_wkb_off_the_form(world):
    objects = populate(world)
    district = objects["district"]
    client = admin_client(world.organizer)
    page = client.get(f"/admin/turf/district/{district.pk}/change/")
    html = page.content.decode()
    assert "<svg" in html
    assert "&quot;Polygon&quot;" in html or '"Polygon"' in html
    assert "wkb" not in page.context["adminform"].form.fields
    # Districts come from an import, not the add form.
    assert client.get("/admin/turf/district/add/").status_code == 403

    listing = client.get("/admin/turf/district/")
    (row,) = listing.context["cl"].result_list
    assert row._door_count == 2
    assert District.objects.filter(organization=world.other_org).exists()


@pytest.mark.django_db
def test_layer_list_counts_districts_and_doors(world):
    objects = populate(world)
    f.DistrictFactory(layer=objects["layer"], name="CD5", external_id="5")
    listing = admin_client(world.organizer).get("/admin/turf/districtlayer/")
    (layer,) = listing.context["cl"].result_list
    assert (layer._district_count, layer._door_count) == (2, 2)


@pytest.mark.django_db
def test_a_raw_id_field_never_names_another_organizations_row(world):
    """?door=<foreign id> on the person add page must not print that door's address."""
    client = admin_client(world.organizer)
    foreign = world.other_door
    page = client.get(f"/admin/turf/person/add/?door={foreign.pk}")
    assert page.status_code == 200
    assert f"/admin/turf/door/{foreign.pk}/change/" not in page.content.decode()
    posted = client.post("/admin/turf/person/add/", {"door": foreign.pk, "first_name": "X"})
    assert f"/admin/turf/door/{foreign.pk}/change/" not in posted.content.decode()
    # The organizer's own door is still named.
    own = world.doors[0]
    page = client.get(f"/admin/turf/person/add/?door={own.pk}")
    assert f"/admin/turf/door/{own.pk}/change/" in page.content.decode()


@pytest.mark.django_db
def test_moving_a_door_by_hand_redistricts_it_and_marks_it_manual(world):
    """A door moved in the admin leaves districts it is no longer in, and an import keeps the new spot."""
    layer = f.DistrictLayerFactory(organization=world.org, name="Council")
    district = f.DistrictFactory(layer=layer, name="CD11", external_id="11")  # the square around Venice
    door = world.doors[0]
    DoorDistrict.objects.create(door=door, district=district)
    client = admin_client(world.organizer)
    page = client.get(f"/admin/turf/door/{door.pk}/change/")
    form = page.context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update({"lat": "40.0", "lng": "-100.0"})
    data.update({"people-TOTAL_FORMS": "0", "people-INITIAL_FORMS": "0"})
    response = client.post(f"/admin/turf/door/{door.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    door.refresh_from_db()
    assert (door.lat, door.lng, door.geocode_quality) == (40.0, -100.0, "manual")
    assert not DoorDistrict.objects.filter(door=door).exists()
    # Back inside the square: linked again.
    data.update({"lat": "33.99", "lng": "-118.46"})
    client.post(f"/admin/turf/door/{door.pk}/change/", data)
    assert list(DoorDistrict.objects.filter(door=door).values_list("district_id", flat=True)) == [district.pk]
