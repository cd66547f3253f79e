"""Every entry point that changes what a phone shows reaches the phone by incremental pull.

From the change to the pull, per entry point: the admin's door and person
screens, a re-import (tests/turf/test_door_aliases.py), a door merge, a turf
renamed, an assignment edited and ended, a held knock approved, a knock on the
canvasser's other phone (test_two_phones.py). A re-cut leaves turfs in use
alone (canvass/turfs/services.py _turfs_staying): the phone's turf is unchanged.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.forms import MultiWidget
from django.utils import timezone

from canvass.turfs.services import turf_update
from tests import factories as f
from tests.factories import admin_client, client_for, pull_pages
from turf.models import Person
from turf.services import doors_merge

pytestmark = pytest.mark.django_db


def merged(pages: list[dict]) -> dict:
    out: dict = {"assignments": {}, "doors": {}, "attempts": {}, "tombstones": {"assignments": [], "doors": []}}
    for page in pages:
        for key in ("assignments", "doors", "attempts"):
            out[key].update({item["id"]: item for item in page[key]})
        for key in ("assignments", "doors"):
            out["tombstones"][key] += page["tombstones"][key]
    return out


@pytest.fixture
def phone(world, script):
    """carlos' phone, synced: its client and cursor."""
    client = client_for(world.canvasser)
    _, cursor = pull_pages(client)
    return client, cursor


def changes(phone) -> dict:
    client, cursor = phone
    pages, _ = pull_pages(client, cursor)
    return merged(pages)


def form_data(response) -> dict:
    """What the admin's change form would post unchanged: its fields and its inlines."""

    def put(data: dict, form, prefix_name) -> None:
        for name in form.fields:
            value = form[name].value()
            key = prefix_name(name)
            if value is None:
                continue
            widget = form.fields[name].widget
            if isinstance(widget, MultiWidget):  # a date and a time, as the split inputs post them
                for index, part in enumerate(widget.decompress(value) or []):
                    if part is not None:
                        data[f"{key}_{index}"] = str(part)
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)

    data: dict = {}
    put(data, response.context["adminform"].form, lambda name: name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(data, formset.management_form, lambda name, p=formset.prefix: f"{p}-{name}")
        for form in formset.forms:
            put(data, form, form.add_prefix)
    return data


def test_a_door_edited_in_the_admin(world, phone):
    door = world.doors[0]
    url = f"/admin/turf/door/{door.pk}/change/"
    organizer = admin_client(world.organizer)
    data = form_data(organizer.get(url))
    data["street_name"] = "OCEAN FRONT"
    response = organizer.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    sent = changes(phone)["doors"]
    assert sent[door.pk]["street_name"] == "OCEAN FRONT"
    assert world.doors[1].pk not in sent


def test_a_person_added_edited_and_removed_in_the_admin(world, phone):
    door = world.doors[1]
    url = f"/admin/turf/door/{door.pk}/change/"
    organizer = admin_client(world.organizer)
    data = form_data(organizer.get(url))
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    data[f"{prefix}-TOTAL_FORMS"] = "1"  # one row added, as "Add another person" does
    data[f"{prefix}-0-first_name"] = "Maya"
    data[f"{prefix}-0-last_name"] = "Angelou"
    response = organizer.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client, cursor = phone
    pages, cursor = pull_pages(client, cursor)
    assert [p["first_name"] for p in merged(pages)["doors"][door.pk]["people"]] == ["Maya"]

    person = Person.objects.get(door=door)
    url = f"/admin/turf/person/{person.pk}/change/"
    data = form_data(organizer.get(url))
    data["first_name"] = "Marguerite"
    assert organizer.post(url, data).status_code == 302
    pages, cursor = pull_pages(client, cursor)
    assert [p["first_name"] for p in merged(pages)["doors"][door.pk]["people"]] == ["Marguerite"]

    response = organizer.post(f"/admin/turf/person/{person.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    pages, _ = pull_pages(client, cursor)
    assert merged(pages)["doors"][door.pk]["people"] == []


def test_doors_merged_by_a_reimport(world, phone):
    survivor, gone = world.doors
    doors_merge(organization=world.org, merges={survivor.pk: [gone.pk]})
    sent = changes(phone)
    assert sent["assignments"][world.assignment.pk]["doors"] == [survivor.pk]
    assert survivor.pk in sent["doors"]


def test_a_turf_renamed(world, phone):
    turf_update(turf=world.turf, actor=world.organizer, name="Canals")
    sent = changes(phone)
    assert sent["assignments"][world.assignment.pk]["turf_name"] == "Canals"


def test_an_assignment_edited_then_ended_in_the_admin(world, phone):
    organizer = admin_client(world.organizer)
    url = f"/admin/canvass/assignment/{world.assignment.pk}/change/"
    data = form_data(organizer.get(url))
    ends = timezone.localtime(timezone.now() + dt.timedelta(hours=5))
    for key in [k for k in data if k.startswith("ends_at")]:
        del data[key]
    data["ends_at_0"], data["ends_at_1"] = ends.strftime("%Y-%m-%d"), ends.strftime("%H:%M:%S")
    response = organizer.post(url, data)
    assert response.status_code == 302, [str(e) for e in response.context["errors"]] if response.context else response
    client, cursor = phone
    pages, cursor = pull_pages(client, cursor)
    sent = merged(pages)["assignments"][world.assignment.pk]
    assert dt.datetime.fromisoformat(sent["ends_at"]).replace(microsecond=0) == ends.replace(microsecond=0)

    from canvass.field.services import assignment_end

    assignment_end(assignment=world.assignment, actor=world.organizer)
    pages, _ = pull_pages(client, cursor)
    assert merged(pages)["tombstones"]["assignments"] == [world.assignment.pk]


def test_a_recut_leaves_the_phones_turf_alone(world, phone):
    from canvass.turfs.models import Turf
    from canvass.turfs.services import turfs_cut
    from turf.models import DoorDistrict

    district = f.DistrictFactory(layer=f.DistrictLayerFactory(organization=world.org), name="CD11")
    fresh = [f.DoorFactory(organization=world.org, lat=33.99 + i / 1000, lng=-118.46) for i in range(3)]
    for door in [*world.doors, *fresh]:
        DoorDistrict.objects.create(door=door, district=district)
    world.campaign.target_districts.add(district)
    turfs_cut(campaign=world.campaign, target_doors=1, replace=True, actor=world.organizer)
    assert Turf.objects.filter(campaign=world.campaign, status=Turf.Status.ACTIVE).count() > 1  # new turfs made
    assert Turf.objects.get(pk=world.turf.pk).status == Turf.Status.ACTIVE  # the one in use is kept
    sent = changes(phone)
    assert sent["assignments"] == {} and sent["tombstones"]["assignments"] == []
