"""door_districts_assign: which district every door lies in, recomputed in bulk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shapely
from django.db import connection
from django.utils import timezone

from tests import factories as f
from tests.factories import square_polygon
from turf.bulk import bulk_insert
from turf.districting import districts_for_layer_shapes, door_districts_assign
from turf.importers.districts import import_districts
from turf.models import District, Door, DoorDistrict

LA = Path(__file__).resolve().parents[2] / "data" / "la"

pytestmark = pytest.mark.django_db


def make_district(layer, external_id: str, geometry: dict) -> District:
    shape = shapely.geometry.shape(geometry)
    min_lng, min_lat, max_lng, max_lat = shape.bounds
    return f.DistrictFactory(
        layer=layer,
        external_id=external_id,
        geojson=geometry,
        wkb=shapely.to_wkb(shape),
        min_lng=min_lng,
        min_lat=min_lat,
        max_lng=max_lng,
        max_lat=max_lat,
    )


def door_rows(org, points: list[tuple[str, float, float]]) -> tuple[list[str], list[tuple]]:
    """Columns and rows for bulk_insert of bare doors: COPY needs every NOT NULL column."""
    now = timezone.now()
    fields = [
        "organization_id", "address_key", "building_key", "number", "number_suffix", "pre_dir", "street_name",
        "street_type", "post_dir", "unit_type", "unit", "city", "state", "zip", "lat", "lng", "geocode_quality",
        "source", "source_id", "extra", "created_at", "updated_at",
    ]  # fmt: skip
    rows = [
        (org.pk, f"id:{key}", "", "", "", "", "MAIN", "", "", "", "", "", "CA", "", lat, lng, "source", "test", key,
         json.dumps({}) if connection.vendor == "postgresql" else {}, now, now)
        for key, lng, lat in points
    ]  # fmt: skip
    return fields, rows


@pytest.fixture
def org():
    return f.OrganizationFactory(slug="venice")


@pytest.fixture
def council(org):
    """West [-118.50, -118.48] and East [-118.48, -118.46] share the edge lng = -118.48."""
    layer = f.DistrictLayerFactory(organization=org, name="Council")
    return (
        layer,
        make_district(layer, "W", square_polygon(-118.50, 33.98)),
        make_district(layer, "E", square_polygon(-118.48, 33.98)),
    )


def links() -> set[tuple[int, str]]:
    return set(DoorDistrict.objects.values_list("door_id", "district__external_id"))


def door(org, lng: float | None, lat: float | None) -> Door:
    return f.DoorFactory(organization=org, lng=lng, lat=lat)


def test_doors_inside_outside_and_on_the_boundary(org, council):
    west = door(org, -118.49, 33.99)
    east = door(org, -118.47, 33.99)
    on_shared_edge = door(org, -118.48, 33.99)
    on_outer_edge = door(org, -118.50, 33.99)
    outside = door(org, -118.30, 34.05)

    count = door_districts_assign(organization=org)

    assert links() == {
        (west.pk, "W"),
        (east.pk, "E"),
        (on_shared_edge.pk, "W"),  # a door on a shared line is in both, never in neither
        (on_shared_edge.pk, "E"),
        (on_outer_edge.pk, "W"),
    }
    assert count == 5
    assert not DoorDistrict.objects.filter(door=outside).exists()


def test_a_door_without_coordinates_gets_no_link(org, council):
    nowhere = door(org, None, None)
    door_districts_assign(organization=org)
    assert not DoorDistrict.objects.filter(door=nowhere).exists()
    assert door_districts_assign(organization=org, door_ids=[nowhere.pk]) == 0


def test_rerunning_gives_the_same_links(org, council):
    for lng in (-118.49, -118.48, -118.47):
        door(org, lng, 33.99)
    first = door_districts_assign(organization=org)
    before = links()
    second = door_districts_assign(organization=org)
    assert first == second == 4
    assert links() == before
    assert DoorDistrict.objects.count() == 4


def test_a_door_that_moved_loses_its_old_link(org, council):
    moving = door(org, -118.49, 33.99)
    door_districts_assign(organization=org)
    Door.objects.filter(pk=moving.pk).update(lng=-118.47)
    door_districts_assign(organization=org, door_ids=[moving.pk])
    assert links() == {(moving.pk, "E")}


def test_only_the_given_doors_are_touched(org, council):
    given = door(org, -118.49, 33.99)
    other = door(org, -118.47, 33.99)
    _, west, _ = council
    # A stale link on the other door: it must survive, because that door is not in scope.
    DoorDistrict.objects.create(door=other, district=west)
    DoorDistrict.objects.create(door=given, district=west)  # already right, replaced by the same

    count = door_districts_assign(organization=org, door_ids=[given.pk, given.pk])

    assert count == 1
    assert links() == {(given.pk, "W"), (other.pk, "W")}


def test_only_the_given_layer_is_touched(org, council):
    layer, _, _ = council
    other_layer = f.DistrictLayerFactory(organization=org, name="Assembly")
    make_district(other_layer, "61", square_polygon(-118.52, 33.96, size=0.1))
    d = door(org, -118.49, 33.99)
    door_districts_assign(organization=org)
    assert links() == {(d.pk, "W"), (d.pk, "61")}

    District.objects.filter(external_id="W").update(
        wkb=shapely.to_wkb(shapely.geometry.shape(square_polygon(-119, 33)))
    )
    assert door_districts_assign(organization=org, layer=other_layer) == 1
    assert links() == {(d.pk, "W"), (d.pk, "61")}  # the council link was not recomputed
    assert door_districts_assign(organization=org, layer=layer) == 0
    assert links() == {(d.pk, "61")}


def test_many_door_ids_are_handled_in_chunks(org, council, monkeypatch):
    monkeypatch.setattr("turf.districting.DOOR_IDS_CHUNK", 3)
    lngs = [-118.495, -118.49, -118.485, -118.48, -118.475, -118.47, -118.465, -118.4975, -118.4725, -118.4625]
    doors = [door(org, lng, 33.99) for lng in lngs]
    count = door_districts_assign(organization=org, door_ids=[d.pk for d in doors])
    assert count == 10 + 1  # -118.48 lies on the shared edge: in both
    assert {pk for pk, _ in links()} == {d.pk for d in doors}


def test_all_doors_are_read_in_pages(org, council, monkeypatch):
    monkeypatch.setattr("turf.districting.ALL_DOORS_PAGE", 2)
    doors = [door(org, -118.495 + i * 0.002, 33.99) for i in range(7)]
    progress: list[tuple[int, int | None]] = []
    count = door_districts_assign(organization=org, progress=lambda done, total, _: progress.append((done, total)))
    assert count == 7
    assert {pk for pk, _ in links()} == {d.pk for d in doors}
    assert progress[-1] == (7, 7)


def test_another_organizations_doors_and_districts_are_left_alone(org, council):
    other = f.OrganizationFactory(slug="elsewhere")
    other_layer = f.DistrictLayerFactory(organization=other, name="Council")
    make_district(other_layer, "X", square_polygon(-118.50, 33.98))
    ours = door(org, -118.49, 33.99)
    theirs = door(other, -118.49, 33.99)
    door_districts_assign(organization=other)
    assert links() == {(theirs.pk, "X")}

    # Their door id given to our organization is ignored, and their links stay.
    assert door_districts_assign(organization=org, door_ids=[ours.pk, theirs.pk]) == 1
    assert links() == {(theirs.pk, "X"), (ours.pk, "W")}


def test_a_layer_of_another_organization_is_refused(org, council):
    other_layer = f.DistrictLayerFactory(organization=f.OrganizationFactory(slug="elsewhere"))
    with pytest.raises(ValueError, match="does not belong"):
        door_districts_assign(organization=org, layer=other_layer)


def test_no_districts_no_links(org):
    door(org, -118.49, 33.99)
    assert door_districts_assign(organization=org) == 0
    assert door_districts_assign(organization=org, door_ids=[]) == 0


def test_districts_for_layer_shapes_loads_geometries_from_wkb(org, council):
    layer, west, east = council
    ids, shapes = districts_for_layer_shapes(organization=org, layer=layer)
    assert ids == sorted([west.pk, east.pk])
    assert [s.bounds for s in shapes][ids.index(west.pk)] == pytest.approx((-118.50, 33.98, -118.48, 34.00))
    assert districts_for_layer_shapes(organization=f.OrganizationFactory(slug="empty")) == ([], [])


@pytest.mark.slow
def test_venice_addresses_fall_in_the_districts_the_data_readme_says(org):
    """All 16,159 Venice points against the real layers (facts from data/la/README.md)."""
    with open(LA / "venice_addresses.csv", newline="") as handle:
        points = [(r["address_id"], float(r["lon"]), float(r["lat"])) for r in csv.DictReader(handle)]
    assert len(points) == 16_159
    bulk_insert(Door, *door_rows(org, points))
    layers = {
        "Council": ("city_council.geojson", "District", "NAME"),
        "Assembly": ("assembly.geojson", "District", "NAME"),
        "Supervisors": ("supervisors.geojson", "District", "NAME"),
        "NC": ("neighborhood_council.geojson", None, "Name"),
    }
    for name, (filename, id_field, name_field) in layers.items():
        import_districts(
            organization=org, layer_name=name, id_field=id_field, name_field=name_field, source=LA / filename
        )

    def per_district(layer: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for external_id in DoorDistrict.objects.filter(district__layer__name=layer).values_list(
            "district__external_id", flat=True
        ):
            out[external_id] = out.get(external_id, 0) + 1
        return out

    assert per_district("Council") == {"11": 16_159}
    assert per_district("Assembly") == {"61": 15_729, "55": 430}
    assert per_district("Supervisors") == {"3": 13_226, "2": 2_933}
    nc = per_district("NC")
    assert (nc["Venice"], nc["Mar Vista"]) == (16_116, 48)
    in_none = Door.objects.filter(organization=org).exclude(district_links__district__layer__name="NC").count()
    assert in_none == 3

    # Recomputing everything at once gives the same links as the four imports did.
    before = set(DoorDistrict.objects.values_list("door_id", "district_id"))
    assert door_districts_assign(organization=org) == len(before)
    assert set(DoorDistrict.objects.values_list("door_id", "district_id")) == before
