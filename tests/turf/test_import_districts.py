"""The district importer: the four real LA layers, re-imports, repairs and every kind of bad file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import shapely
from django.core.management import CommandError, call_command

from fieldops.models import AuditLogEntry
from tests import factories as f
from tests.factories import square_polygon
from turf.importers.base import ImportAborted
from turf.importers.districts import import_districts
from turf.models import District, DistrictLayer, DoorDistrict

ROOT = Path(__file__).resolve().parents[2]
LA = ROOT / "data" / "la"
FIXTURES = ROOT / "tests" / "data" / "districts"

pytestmark = pytest.mark.django_db


def feature(geometry: dict | None, **properties: object) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def run(org, data: bytes, *, id_field: str | None = "District", name_field: str = "NAME", **kwargs):
    return import_districts(
        organization=org,
        layer_name=kwargs.pop("layer_name", "Council"),
        id_field=id_field,
        name_field=name_field,
        source=io.BytesIO(data),
        **kwargs,
    )


@pytest.fixture
def org():
    return f.OrganizationFactory(slug="venice")


# --- the real LA layers --------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "id_field", "name_field", "count", "some_id"),
    [
        ("city_council.geojson", "District", "NAME", 15, "11"),
        ("assembly.geojson", "District", "NAME", 13, "61"),
        ("supervisors.geojson", "District", "NAME", 5, "3"),
        ("neighborhood_council.geojson", None, "Name", 99, "Venice"),
    ],
)
def test_imports_each_real_la_layer(org, filename, id_field, name_field, count, some_id):
    report = import_districts(
        organization=org, layer_name=filename, id_field=id_field, name_field=name_field, source=LA / filename
    )

    assert (report.rows_read, report.created, report.skipped, report.problems) == (count, count, 0, [])
    layer = DistrictLayer.objects.get(organization=org, name=filename)
    assert layer.id_field == (id_field or "") and layer.name_field == name_field
    assert layer.districts.count() == count
    district = layer.districts.get(external_id=some_id)
    geometry = shapely.from_wkb(bytes(district.wkb))
    assert geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.is_valid
    assert district.geojson["type"] == geometry.geom_type
    assert (district.min_lng, district.min_lat, district.max_lng, district.max_lat) == pytest.approx(geometry.bounds)
    assert district.properties[name_field] == district.name
    assert -119 < district.min_lng < district.max_lng < -118 and 33.6 < district.min_lat < 34.4


def test_assembly_ids_are_the_district_numbers_as_text(org):
    import_districts(
        organization=org, layer_name="Assembly", id_field="District", name_field="NAME", source=LA / "assembly.geojson"
    )
    ids = set(District.objects.filter(layer__name="Assembly").values_list("external_id", flat=True))
    assert {"61", "55", "65"} <= ids
    assert all(i.isdigit() for i in ids)  # 61, not "61.0"


def test_reimport_updates_in_place_with_the_same_primary_keys(org):
    data = collection(
        feature(square_polygon(-118.50, 33.98), District=1, NAME="West"),
        feature(square_polygon(-118.48, 33.98), District=2, NAME="East"),
        feature(square_polygon(-118.46, 33.98), District=3, NAME="Far east"),
    )
    run(org, data)
    before = dict(District.objects.values_list("external_id", "pk"))

    changed = collection(
        feature(square_polygon(-118.50, 33.98), District=1, NAME="West"),  # unchanged
        feature(square_polygon(-118.48, 33.98, size=0.03), District=2, NAME="East, bigger"),  # updated
        feature(square_polygon(-118.40, 33.98), District=4, NAME="New"),  # created
    )  # district 3 is gone from the file
    report = run(org, changed)

    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    after = dict(District.objects.values_list("external_id", "pk"))
    assert {k: after[k] for k in ("1", "2", "3")} == before
    assert "district 3 (Far east) is not in the file; kept" in report.notes
    east = District.objects.get(external_id="2")
    assert east.name == "East, bigger"
    assert east.max_lng == pytest.approx(-118.45)
    assert shapely.from_wkb(bytes(east.wkb)).bounds == pytest.approx((-118.48, 33.98, -118.45, 34.01))
    assert DistrictLayer.objects.filter(organization=org).count() == 1


def test_reimport_of_the_same_file_changes_nothing(org):
    first = import_districts(
        organization=org, layer_name="NC", id_field=None, name_field="Name", source=LA / "neighborhood_council.geojson"
    )
    again = import_districts(
        organization=org, layer_name="NC", id_field=None, name_field="Name", source=LA / "neighborhood_council.geojson"
    )
    assert (first.created, again.created, again.updated, again.unchanged) == (99, 0, 0, 99)


def test_a_bow_tie_polygon_is_repaired_and_reported(org):
    report = import_districts(
        organization=org,
        layer_name="Council",
        id_field="District",
        name_field="NAME",
        source=FIXTURES / "bowtie.geojson",
    )

    assert report.created == 1 and report.problems == []
    assert len(report.notes) == 1
    assert report.notes[0].startswith("feature 1 (id 11): self-intersection at (")
    assert report.notes[0].endswith(") repaired")
    district = District.objects.get(external_id="11")
    assert district.repaired is True
    geometry = shapely.from_wkb(bytes(district.wkb))
    assert geometry.is_valid and geometry.area > 0
    assert shapely.geometry.shape(district.geojson).equals(geometry)


def test_imported_layer_gets_the_doors_already_loaded(org):
    inside_west = f.DoorFactory(organization=org, lng=-118.49, lat=33.99)
    inside_east = f.DoorFactory(organization=org, lng=-118.47, lat=33.99)
    outside = f.DoorFactory(organization=org, lng=-118.30, lat=34.05)

    report = import_districts(
        organization=org,
        layer_name="Council",
        id_field="District",
        name_field="NAME",
        source=FIXTURES / "two_squares.geojson",
    )

    assert report.counts["doors assigned (door-district links)"] == 2
    links = set(DoorDistrict.objects.values_list("door_id", "district__external_id"))
    assert links == {(inside_west.pk, "1"), (inside_east.pk, "2")}
    assert not DoorDistrict.objects.filter(door=outside).exists()


def test_import_writes_an_audit_entry(org):
    run(org, collection(feature(square_polygon(-118.5, 33.98), District=1, NAME="West")))
    entry = AuditLogEntry.objects.get(organization=org, action="districts.import")
    assert entry.object_type == "turf.DistrictLayer" and entry.detail["created"] == 1


def test_layers_are_scoped_to_their_organization(org):
    other = f.OrganizationFactory(slug="elsewhere")
    run(org, collection(feature(square_polygon(-118.5, 33.98), District=1, NAME="Ours")))
    run(other, collection(feature(square_polygon(-118.3, 34.0), District=1, NAME="Theirs")))

    ours = DistrictLayer.objects.get(organization=org, name="Council")
    theirs = DistrictLayer.objects.get(organization=other, name="Council")
    assert ours.pk != theirs.pk
    assert list(ours.districts.values_list("name", flat=True)) == ["Ours"]
    assert list(theirs.districts.values_list("name", flat=True)) == ["Theirs"]
    assert District.objects.get(layer=theirs).organization == other


def test_feature_id_can_come_from_the_geojson_feature_id(org):
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "id": 7, "properties": {"NAME": "Seven"}, "geometry": square_polygon(-118.5, 33.98)}
            ],
        }
    ).encode()
    run(org, data, id_field="id")
    assert District.objects.get().external_id == "7"


def test_utf8_names_and_a_byte_order_mark_are_accepted(org):
    data = "\ufeff".encode() + collection(
        feature(square_polygon(-118.5, 33.98), District=1, NAME="Boyle Heights – Año")
    )
    run(org, data)
    assert District.objects.get().name == "Boyle Heights – Año"


# --- whole-file problems: abort, write nothing ----------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n ", "the file is empty"),
        (b"this is not json", "the file is not valid JSON: Expecting value at line 1, column 1"),
        (b'{"type": "FeatureCollection", "features": [', "the file is not valid JSON"),
        (
            '{"type": "FeatureCollection", "features": [], "name": "Peñasco"}'.encode("latin-1"),
            "the file is not UTF-8 text (byte 0xf1",
        ),
        (b'{"type": "FeatureCollection", "features": []}', "the FeatureCollection has no features"),
        (b'{"type": "FeatureCollection"}', "the FeatureCollection has no 'features' list"),
        (b"[1, 2]", "the file is not a GeoJSON FeatureCollection (it is a JSON list)"),
        (
            json.dumps(feature(square_polygon(-118.5, 33.98), District=1, NAME="x")).encode(),
            "the file is not a GeoJSON FeatureCollection (type is 'Feature'); wrap it in a FeatureCollection",
        ),
        (b'{"type": "FeatureCollection", "features": [{"x": NaN}]}', "NaN is not allowed in JSON"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2229"}},
                    "features": [feature(square_polygon(-118.5, 33.98), District=1, NAME="x")],
                }
            ).encode(),
            "coordinate system is urn:ogc:def:crs:EPSG::2229, not WGS84",
        ),
    ],
    ids=[
        "empty",
        "whitespace",
        "not-json",
        "truncated-json",
        "latin-1",
        "zero-features",
        "no-features-key",
        "json-list",
        "single-feature",
        "nan",
        "projected-crs",
    ],
)
def test_whole_file_problems_abort_and_write_nothing(org, data, message):
    with pytest.raises(ImportAborted) as caught:
        run(org, data)
    assert message in str(caught.value)
    assert not DistrictLayer.objects.exists() and not District.objects.exists()


def test_wrong_id_field_lists_the_properties_that_exist(org):
    with pytest.raises(ImportAborted) as caught:
        import_districts(
            organization=org,
            layer_name="NC",
            id_field="District",
            name_field="Name",
            source=LA / "neighborhood_council.geojson",
        )
    message = str(caught.value)
    assert message.startswith("no feature has the property 'District'; the properties in this file are: FID, Name,")
    assert "GlobalID" in message
    assert not DistrictLayer.objects.exists()


def test_wrong_name_field_is_refused_too(org):
    with pytest.raises(
        ImportAborted, match="no feature has the property 'Nmae'; the properties in this file are: District, NAME"
    ):
        run(org, collection(feature(square_polygon(-118.5, 33.98), District=1, NAME="x")), name_field="Nmae")


def test_missing_file_is_a_clear_abort(org, tmp_path):
    with pytest.raises(ImportAborted, match="cannot read .*nope.geojson"):
        import_districts(
            organization=org, layer_name="x", id_field=None, name_field="NAME", source=tmp_path / "nope.geojson"
        )


def test_empty_layer_name_is_refused(org):
    with pytest.raises(ImportAborted, match="layer name is empty"):
        run(org, collection(feature(square_polygon(-118.5, 33.98), District=1, NAME="x")), layer_name="  ")


# --- per-feature problems: skip and list them ---------------------------------


GOOD = feature(square_polygon(-118.50, 33.98), District=1, NAME="Good")


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (
            feature({"type": "Point", "coordinates": [-118.47, 33.99]}, District=2, NAME="Point"),
            "feature 2 (id 2): geometry type is 'Point'; only Polygon and MultiPolygon are districts",
        ),
        (
            feature(square_polygon(-118.48, 33.98), NAME="No id"),
            "feature 2: missing id: property 'District' is absent or empty",
        ),
        (
            feature(square_polygon(-118.48, 33.98), District="", NAME="Empty id"),
            "feature 2: missing id: property 'District' is absent or empty",
        ),
        (
            feature(square_polygon(-118.48, 33.98), District=2),
            "feature 2 (id 2): missing name: property 'NAME' is absent or empty",
        ),
        (feature(None, District=2, NAME="No geometry"), "feature 2 (id 2): has no geometry (null or missing)"),
        (
            {"type": "Feature", "properties": {"District": 2, "NAME": "No geometry key"}},
            "feature 2 (id 2): has no geometry (null or missing)",
        ),
        (
            feature({"type": "Polygon", "coordinates": []}, District=2, NAME="Empty"),
            "feature 2 (id 2): geometry is empty",
        ),
        (
            # State Plane metres, the classic mistake of a file that was not reprojected.
            feature(square_polygon(6_400_000, 1_800_000, size=1000), District=2, NAME="Metres"),
            "feature 2 (id 2): coordinates outside the world",
        ),
        (
            feature({"type": "Polygon", "coordinates": [[["a", "b"], [1]]]}, District=2, NAME="Garbage"),
            "feature 2 (id 2): geometry coordinates cannot be read",
        ),
        (
            feature(square_polygon(-118.46, 33.98), District=1, NAME="Same id"),
            "feature 2 (id 1): duplicate id '1' (first in feature 1)",
        ),
        ({"type": "Point"}, "feature 2: not a GeoJSON Feature (type is 'Point')"),
        ("a string", "feature 2: not a GeoJSON Feature (type is 'str')"),
        (
            feature(square_polygon(-118.46, 33.98), District=2, NAME="Nul", note=["ok", {"x": "a\x00b"}]),
            "feature 2 (id 2): a property holds a NUL character (the database cannot store it)",
        ),
    ],
    ids=[
        "point",
        "missing-id",
        "empty-id",
        "missing-name",
        "null-geometry",
        "no-geometry-key",
        "empty-geometry",
        "projected-metres",
        "unreadable-coordinates",
        "duplicate-id",
        "not-a-feature",
        "not-an-object",
        "nul-character",
    ],
)
def test_bad_features_are_skipped_and_reported(org, bad, problem):
    report = run(org, collection(GOOD, bad))

    assert (report.rows_read, report.created, report.skipped) == (2, 1, 1)
    assert [str(p) for p in report.problems][0].startswith(problem)
    assert list(District.objects.values_list("name", flat=True)) == ["Good"]
    assert any(line.startswith("  feature 2") for line in report.lines())


def test_strict_mode_writes_nothing_when_any_feature_is_bad(org):
    data = collection(GOOD, feature(None, District=2, NAME="No geometry"))
    with pytest.raises(ImportAborted) as caught:
        run(org, data, strict=True)
    assert "strict mode: 1 feature(s) have problems; nothing was written" in str(caught.value)
    assert "feature 2 (id 2): has no geometry" in str(caught.value)
    assert caught.value.problems[0].where == "feature 2 (id 2)"
    assert not DistrictLayer.objects.exists() and not District.objects.exists()


def test_strict_mode_accepts_a_clean_file(org):
    report = run(org, collection(GOOD), strict=True)
    assert report.created == 1


def test_a_file_where_every_feature_is_bad_aborts(org):
    with pytest.raises(ImportAborted, match="no feature could be imported"):
        run(org, collection(feature(None, District=1, NAME="x"), feature(None, District=2, NAME="y")))
    assert not DistrictLayer.objects.exists()


# --- the management command ----------------------------------------------------


def test_command_imports_and_prints_the_report(org):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_districts",
        str(LA / "supervisors.geojson"),
        "--org=venice",
        "--layer=Supervisors",
        "--id-field=District",
        "--name-field=NAME",
        stdout=out,
        stderr=err,
    )
    assert "rows read: 5" in out.getvalue()
    assert "created: 5, updated: 0, unchanged: 0, skipped: 0" in out.getvalue()
    assert DistrictLayer.objects.get(organization=org, name="Supervisors").source == "supervisors.geojson"


def test_command_without_id_field_uses_the_name(org):
    call_command(
        "import_districts",
        str(LA / "neighborhood_council.geojson"),
        "--org=venice",
        "--layer=Neighborhood councils",
        "--name-field=Name",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert District.objects.filter(external_id="Venice", name="Venice").exists()


def test_command_unknown_org_says_how_to_create_it(db):
    with pytest.raises(CommandError, match="No organization with slug 'nowhere'; create it first with create_org"):
        call_command(
            "import_districts", str(FIXTURES / "two_squares.geojson"), "--org=nowhere", "--layer=x", "--name-field=NAME"
        )


def test_command_turns_an_abort_into_a_command_error_with_the_problems(org, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_bytes(collection(GOOD, feature(None, District=2, NAME="No geometry")))
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_districts",
            str(path),
            "--org=venice",
            "--layer=x",
            "--id-field=District",
            "--name-field=NAME",
            "--strict",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert "strict mode" in str(caught.value) and "feature 2 (id 2): has no geometry" in str(caught.value)
    assert not District.objects.exists()


def test_command_reports_skipped_features(org, tmp_path):
    path = tmp_path / "some-bad.geojson"
    path.write_bytes(collection(GOOD, feature(None, District=2, NAME="No geometry")))
    out = io.StringIO()
    call_command(
        "import_districts",
        str(path),
        "--org=venice",
        "--layer=x",
        "--id-field=District",
        "--name-field=NAME",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "1 problem(s), rows skipped:" in out.getvalue()
    assert "  feature 2 (id 2): has no geometry (null or missing)" in out.getvalue()
