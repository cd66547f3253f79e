"""The door importer: layouts, merging, buildings, geocoding, bad input, re-import, the command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from tests import factories as f
from tests.factories import LA_HEADER
from turf.importers.base import ImportAborted
from turf.importers.districts import import_districts
from turf.importers.door_columns import ColumnMapping
from turf.importers.doors import import_doors
from turf.models import District, Door, DoorAlias, DoorDistrict, GeocodeQuality, Person

DATA = Path(__file__).resolve().parent.parent / "data" / "doors"
LA = Path(__file__).resolve().parents[2] / "data" / "la"


@pytest.fixture
def org(db):
    return f.OrganizationFactory(slug="importers", name="Importers")


@pytest.fixture
def square(org):
    """One district (a square over Venice, see factories.SQUARE) so the far check and links are live."""
    return f.DistrictFactory(layer=f.DistrictLayerFactory(organization=org, name="Square"), external_id="SQ")


def la_csv(*rows: str) -> io.BytesIO:
    return io.BytesIO((LA_HEADER + "\n" + "\n".join(rows) + "\n").encode())


def building_sizes(org) -> dict[str, int]:
    """Building key -> how many doors share it (doors without a key left out)."""
    rows = (
        Door.objects.filter(organization=org)
        .exclude(building_key="")
        .values("building_key")
        .annotate(doors=Count("pk"))
        .values_list("building_key", "doors")
    )
    return dict(rows)


def la_row(
    address_id: str = "1",
    number: str = "100",
    street: str = "MAIN",
    street_type: str = "STREET",
    zip_code: str = "90291",
    lon: str = "-118.46",
    lat: str = "33.99",
    building_id: str = "",
    suffix: str = "",
) -> str:
    return (
        f"{address_id},{number},{suffix},,{street},{street_type},,,,{zip_code},VENICE,{lon},{lat},,"
        f"{building_id},,LACITY.A"
    )


# --- the real Venice file --------------------------------------------------------------


@pytest.mark.slow
def test_venice_file_imports_with_districts_and_reimports_idempotently(org):
    import_districts(
        organization=org, layer_name="City Council", id_field="District", name_field="NAME",
        source=LA / "city_council.geojson",
    )  # fmt: skip
    import_districts(
        organization=org, layer_name="Assembly", id_field="District", name_field="NAME",
        source=LA / "assembly.geojson",
    )  # fmt: skip

    report = import_doors(organization=org, source=LA / "venice_addresses.csv")

    assert report.rows_read == 16_159
    # 15,413 distinct spellings, less one: the last two rows (ids 2849481/2849482) are
    # house number 0 with no street at all, refused as "street name is empty".
    assert [str(p) for p in report.problems] == [
        "line 16159: the street name is empty",
        "line 16160: the street name is empty",
    ]
    # 15,412 spellings, 13,648 doors: 1,764 spellings are street-name aliases of
    # another door at the same point (Lincoln Blvd also as PCH, SR-1 and 1;
    # Venice Blvd also as SR-187 and 187; a few canal walks under two names).
    assert report.created == Door.objects.filter(organization=org).count() == 13_648
    assert report.counts["spellings kept as aliases"] == DoorAlias.objects.filter(organization=org).count() == 1_764
    assert report.counts["rows merged as duplicates"] == 16_159 - 2 - 15_412
    assert report.counts["buildings in file"] == 11_907
    assert "buildings created" not in report.counts
    buildings = building_sizes(org)
    assert len(buildings) == 11_907
    assert sum(buildings.values()) == 13_648  # every door has a key
    council = DoorDistrict.objects.filter(district__layer__name="City Council")
    assert council.count() == 13_648
    assert set(council.values_list("district__external_id", flat=True)) == {"11"}
    assembly = DoorDistrict.objects.filter(district__layer__name="Assembly")
    assert assembly.filter(district__external_id="61").count() == 13_498
    assert assembly.filter(district__external_id="55").count() == 150
    assert assembly.count() == 13_648
    door = Door.objects.get(organization=org, source_id="930707")
    assert door.display_address == "201 DIMMICK AVE"
    assert door.geocode_quality == GeocodeQuality.SOURCE
    assert door.building_key == "b:060372733001-160"
    assert door.extra["parcel_ain"] == "4240005021"

    pks = dict(Door.objects.filter(organization=org).values_list("address_key", "id"))
    keys = dict(Door.objects.filter(organization=org).values_list("address_key", "building_key"))
    again = import_doors(organization=org, source=LA / "venice_addresses.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 13_648)
    assert again.counts["buildings in file"] == 11_907
    assert dict(Door.objects.filter(organization=org).values_list("address_key", "id")) == pks
    assert dict(Door.objects.filter(organization=org).values_list("address_key", "building_key")) == keys
    assert DoorDistrict.objects.filter(door__organization=org).count() == 2 * 13_648


# --- merging, buildings, re-import -------------------------------------------------------


def test_duplicate_rows_merge_into_one_door_and_doors_group_into_buildings(org):
    report = import_doors(organization=org, source=DATA / "la_sample.csv")

    assert (report.rows_read, report.created, report.problems) == (6, 5, [])
    assert report.counts["rows merged as duplicates"] == 1
    merged = Door.objects.get(organization=org, address_key="201|||DIMMICK|AVE|||90405")
    assert merged.source_id == "1"
    assert merged.extra["source_ids"] == ["1", "2"]
    assert merged.source == "LACITY.A"
    assert (merged.lat, merged.lng) == (34.0001417, -118.4744164)  # the first row's point
    assert report.counts["buildings in file"] == 3
    assert building_sizes(org) == {
        "b:bld-1": 2,
        "p:-118.4690000,33.9850000": 2,  # front and rear house (10 and 10 1/2) at one point
        "p:-118.4790000,33.9900000": 1,
    }
    rear = Door.objects.get(organization=org, number="10", number_suffix="1/2")
    assert rear.display_address == "10 1/2 S VENICE BLVD"


def test_reimport_updates_a_changed_row_in_place_and_leaves_the_rest(org, square):
    import_doors(organization=org, source=la_csv(la_row("1", "100"), la_row("2", "102", lat="33.991")))
    before = dict(Door.objects.filter(organization=org).values_list("number", "id"))

    report = import_doors(
        organization=org, source=la_csv(la_row("1", "100", lon="-118.455"), la_row("2", "102", lat="33.991"))
    )

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert dict(Door.objects.filter(organization=org).values_list("number", "id")) == before
    moved = Door.objects.get(pk=before["100"])
    assert moved.lng == -118.455
    # A moved door without an outline id moves to the building at its new point.
    assert moved.building_key == "p:-118.4550000,33.9900000"
    assert building_sizes(org) == {"p:-118.4550000,33.9900000": 1, "p:-118.4600000,33.9910000": 1}
    assert DoorDistrict.objects.filter(door=moved, district=square).exists()


def test_a_knocked_door_absent_from_a_reimport_is_kept_with_its_building_key(org):
    import_doors(organization=org, source=la_csv(la_row("1", "100", building_id="bld-9"), la_row("2", "102")))
    door = Door.objects.get(organization=org, number="100")
    campaign = f.CampaignFactory(organization=org)
    f.ContactAttemptFactory(door=door, campaign=campaign)

    report = import_doors(organization=org, source=la_csv(la_row("2", "102")))

    assert Door.objects.get(pk=door.pk).building_key == "b:bld-9"
    assert report.counts["doors not in this file (kept)"] == 1
    assert any("not in this file" in note for note in report.notes)


def test_a_door_placed_by_hand_keeps_its_location_on_reimport(org):
    import_doors(organization=org, source=la_csv(la_row("1", "100")))
    Door.objects.filter(organization=org).update(lat=33.995, lng=-118.465, geocode_quality=GeocodeQuality.MANUAL)

    import_doors(organization=org, source=la_csv(la_row("1", "100")))

    door = Door.objects.get(organization=org)
    assert (door.lat, door.lng, door.geocode_quality) == (33.995, -118.465, GeocodeQuality.MANUAL)


# --- other layouts ----------------------------------------------------------------------


def test_voter_file_with_single_line_addresses_creates_people_at_doors(org):
    report = import_doors(organization=org, source=DATA / "voters.csv")

    assert report.rows_read == 4
    assert [p.where for p in report.problems] == ["line 5"]
    assert "PO box" in report.problems[0].message
    assert report.created == 2
    assert report.counts["people created"] == 3
    dimmick = Door.objects.get(organization=org, street_name="DIMMICK")
    assert (dimmick.street_type, dimmick.zip, dimmick.city) == ("AVE", "90405", "LOS ANGELES")
    assert sorted(dimmick.people.values_list("external_voter_id", flat=True)) == ["V001", "V002"]
    walk = Door.objects.get(organization=org, street_name="OCEAN FRONT")
    assert (walk.unit_type, walk.unit) == ("APT", "3")

    # Re-import: people are matched on the voter id, not duplicated; a changed name is updated.
    changed = (DATA / "voters.csv").read_bytes().replace(b"V003,Cy,Ng", b"V003,Cyrus,Ng")
    again = import_doors(organization=org, source=io.BytesIO(changed))
    assert (again.counts["people created"], again.counts["people updated"]) == (0, 1)
    assert Person.objects.filter(organization=org).count() == 3
    assert Person.objects.get(organization=org, external_voter_id="V003").first_name == "Cyrus"


def test_custom_columns_from_a_mapping(org):
    mapping = ColumnMapping.from_json(DATA / "custom_mapping.json")
    report = import_doors(organization=org, source=DATA / "custom.csv", mapping=mapping)

    assert (report.created, report.problems) == (2, [])
    door = Door.objects.get(organization=org, source_id="a1")
    assert (door.number, door.street_name, door.street_type, door.lat, door.lng) == (
        "100",
        "MAIN",
        "ST",
        33.99,
        -118.46,
    )
    assert door.extra["Ward"] == "4"


def test_column_spec_parsing_and_errors():
    assert ColumnMapping.from_spec("lat=Y, lng=X").columns == {"lat": "Y", "lng": "X"}
    with pytest.raises(ValueError, match="our_field=their_column"):
        ColumnMapping.from_spec("lat")
    with pytest.raises(ValueError, match="unknown field"):
        ColumnMapping.from_spec("latitude=Y")


# --- geocoding -----------------------------------------------------------------------------


def test_rows_without_coordinates_are_geocoded_locally_or_kept_without_location(org, square):
    report = import_doors(
        organization=org,
        source=la_csv(
            la_row("1", "100", lon="-118.4600", lat="33.9900"),
            la_row("2", "200", lon="-118.4500", lat="33.9950"),
            la_row("3", "150", lon="", lat=""),  # between the two: interpolated
            la_row("4", "9", street="NOWHERE", lon="", lat=""),  # an unknown street
        ),
    )

    assert report.problems == []
    assert (report.counts["geocoded"], report.counts["without location"]) == (1, 1)
    placed = Door.objects.get(organization=org, number="150")
    assert placed.geocode_quality == GeocodeQuality.INTERPOLATED
    assert placed.lat == pytest.approx(33.9925, abs=1e-4)
    assert placed.lng == pytest.approx(-118.455, abs=1e-4)
    assert DoorDistrict.objects.filter(door=placed).exists()
    lost = Door.objects.get(organization=org, street_name="NOWHERE")
    assert (lost.lat, lost.lng, lost.geocode_quality, lost.building_key) == (None, None, GeocodeQuality.NONE, "")
    assert not DoorDistrict.objects.filter(door=lost).exists()
    assert any("line 5" in note and "without location" in note for note in report.notes)


def test_a_given_geocoder_is_used(org):
    from turf.geocoding import GeocodeResult

    class Fixed:
        def __init__(self) -> None:
            self.queries: list[str] = []

        def geocode(self, query):
            self.queries.append(query.one_line())
            return GeocodeResult(lat=33.98, lng=-118.47, quality="approximate")

    geocoder = Fixed()
    import_doors(organization=org, source=la_csv(la_row("1", "7", lon="", lat="")), geocoder=geocoder)

    assert geocoder.queries == ["7 MAIN ST, VENICE, CA 90291"]
    assert Door.objects.get(organization=org).geocode_quality == GeocodeQuality.APPROXIMATE


# --- bad input -------------------------------------------------------------------------------


def test_missing_required_columns_abort_naming_them_and_the_columns_found(org):
    with pytest.raises(ImportAborted) as caught:
        import_doors(organization=org, source=io.BytesIO(b"id,num,road,zip\n1,2,MAIN,90291\n"))
    message = str(caught.value)
    assert "missing required column(s): number, street_name" in message
    assert "columns found: 'id', 'num', 'road', 'zip'" in message
    assert not Door.objects.filter(organization=org).exists()


def test_a_mapped_column_absent_from_the_file_aborts(org):
    with pytest.raises(ImportAborted, match=r"'Latitude' \(for lat\)"):
        import_doors(organization=org, source=la_csv(la_row()), mapping=ColumnMapping(columns={"lat": "Latitude"}))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (LA_HEADER.encode() + b"\n", "header but no data rows"),
        (b"\xff\xfeu\x00", "UTF-16"),
    ],
)
def test_files_that_cannot_be_imported_at_all(org, content, message):
    with pytest.raises(ImportAborted, match=message):
        import_doors(organization=org, source=io.BytesIO(content))


def test_a_latin1_file_names_the_line_and_suggests_utf8(org):
    with pytest.raises(ImportAborted) as caught:
        import_doors(organization=org, source=DATA / "latin1.csv")
    assert "line 3" in str(caught.value)
    assert "UTF-8" in str(caught.value)
    assert not Door.objects.filter(organization=org).exists()


def test_a_utf8_bom_is_accepted(org):
    report = import_doors(organization=org, source=io.BytesIO(b"\xef\xbb\xbf" + la_csv(la_row()).getvalue()))
    assert (report.created, report.problems) == (1, [])


def test_a_missing_file_aborts(org, tmp_path):
    with pytest.raises(ImportAborted, match="cannot open"):
        import_doors(organization=org, source=tmp_path / "nope.csv")


def test_bad_rows_are_skipped_and_listed_with_their_line(org, square):
    report = import_doors(
        organization=org,
        source=la_csv(
            la_row("1", "100"),  # line 2: fine
            la_row("2", "102") + ",surplus",  # line 3
            la_row("3", "104", street=""),  # line 4
            la_row("4", "106", lat="abc"),  # line 5
            la_row("5", "108", lat="95", lon="-118.46"),  # line 6
            la_row("6", "110", lat="1840000", lon="6480000"),  # line 7: State Plane metres
            la_row("7", "112", lat="-118.46", lon="33.99"),  # line 8: swapped
            la_row("8", "114", lat="40.7128", lon="-74.0060"),  # line 9: New York
            la_row("9", "116", lat="33.99", lon=""),  # line 10
            la_row("10", ""),  # line 11
            la_row("11", "ABC"),  # line 12
            la_row("12", "118", lat="nan", lon="-118.46"),  # line 13
            la_row("13", "120", building_id="B" * 119),  # line 14: longer than a building key holds
        ),
    )

    problems = {p.where: p.message for p in report.problems}
    assert sorted(problems, key=lambda w: int(w.split()[1])) == [f"line {n}" for n in range(3, 15)]
    assert "has 18 fields, the header has 17" in problems["line 3"]
    assert problems["line 4"] == "the street name is empty"
    assert "'abc' is not a number" in problems["line 5"]
    assert "outside the world" in problems["line 6"] or "out of range" in problems["line 6"]
    assert "projected metres" in problems["line 7"]
    assert "look swapped" in problems["line 8"]
    assert "km from every loaded district" in problems["line 9"]
    assert "longitude is empty" in problems["line 10"]
    assert "house number is empty" in problems["line 11"]
    assert "has no digits" in problems["line 12"]
    assert "not finite" in problems["line 13"]
    assert "building id 'BBBB" in problems["line 14"] and "longer than 118 characters" in problems["line 14"]
    assert (report.created, report.skipped) == (1, 12)
    assert list(Door.objects.filter(organization=org).values_list("number", flat=True)) == ["100"]


def test_swapped_coordinates_in_range_are_caught_by_the_far_check(org):
    # Lat/lng swapped where both still fit (a district near 10°N 20°E); the far check hints at it.
    f.DistrictFactory(
        layer=f.DistrictLayerFactory(organization=org),
        geojson={"type": "Polygon", "coordinates": [[[20, 10], [20.1, 10], [20.1, 10.1], [20, 10.1], [20, 10]]]},
        min_lng=20, min_lat=10, max_lng=20.1, max_lat=10.1,
    )  # fmt: skip
    report = import_doors(
        organization=org, source=la_csv(la_row("1", lat="20.05", lon="10.05"), la_row("2", lat="10.05", lon="20.05"))
    )
    assert report.created == 1
    assert "look swapped" in report.problems[0].message


def test_without_districts_there_is_no_far_check(org):
    report = import_doors(organization=org, source=la_csv(la_row(lat="40.7128", lon="-74.0060")))
    assert (report.created, report.problems) == (1, [])


def test_zero_zero_coordinates_mean_no_location(org, square):
    report = import_doors(organization=org, source=la_csv(la_row(lat="0", lon="0")))
    assert report.problems == []
    assert Door.objects.get(organization=org).geocode_quality == GeocodeQuality.NONE
    assert any("0,0" in note for note in report.notes)


def test_strict_mode_aborts_and_writes_nothing(org):
    with pytest.raises(ImportAborted) as caught:
        import_doors(organization=org, source=la_csv(la_row("1", "100"), la_row("2", "102", street="")), strict=True)
    assert "strict mode" in str(caught.value)
    assert [str(p) for p in caught.value.problems] == ["line 3: the street name is empty"]
    assert not Door.objects.filter(organization=org).exists()


def test_every_row_bad_aborts(org):
    with pytest.raises(ImportAborted, match="no row could be imported"):
        import_doors(organization=org, source=la_csv(la_row(street="")))


def test_progress_is_reported(org):
    calls = []
    import_doors(organization=org, source=DATA / "la_sample.csv", progress=lambda *a: calls.append(a))
    assert (6, 6, "rows read") in calls


# --- the command ---------------------------------------------------------------------------


def test_command_imports_and_prints_the_report(org):
    out = io.StringIO()
    call_command("import_doors", str(DATA / "la_sample.csv"), "--org", org.slug, stdout=out, stderr=io.StringIO())
    assert "rows read: 6" in out.getvalue()
    assert "created: 5" in out.getvalue()


def test_command_takes_columns_and_a_mapping_file(org):
    out = io.StringIO()
    call_command(
        "import_doors", str(DATA / "custom.csv"), "--org", org.slug,
        "--mapping", str(DATA / "custom_mapping.json"), "--columns", "source_id=Ward",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    # --columns wins over the mapping file: both rows now carry source id "4" (the ward).
    assert set(Door.objects.filter(organization=org).values_list("source_id", flat=True)) == {"4"}


def test_command_errors_are_clear(org, tmp_path):
    with pytest.raises(CommandError, match="No organization with slug 'nope'; create it first"):
        call_command("import_doors", str(DATA / "la_sample.csv"), "--org", "nope")
    with pytest.raises(CommandError, match="our_field=their_column"):
        call_command("import_doors", str(DATA / "la_sample.csv"), "--org", org.slug, "--columns", "lat")
    bad = tmp_path / "bad.csv"
    bad.write_text(LA_HEADER + "\n" + la_row(street="") + "\n" + la_row("2", "5") + "\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_doors", str(bad), "--org", org.slug, "--strict", stderr=io.StringIO())
    assert "line 2: the street name is empty" in str(caught.value)
    assert not Door.objects.filter(organization=org).exists()


def test_districts_loaded_by_the_factory_are_used(org, square):
    import_doors(organization=org, source=DATA / "la_sample.csv")
    assert DoorDistrict.objects.filter(district=square).count() == 5
    assert District.objects.filter(organization=org).count() == 1


def test_a_nul_character_is_a_bad_row_not_a_crash(org, square):
    report = import_doors(
        organization=org,
        source=la_csv(
            la_row(address_id="1", number="100"), la_row(address_id="2", number="102").replace("VENICE", "VEN\x00ICE")
        ),
    )

    assert report.created == 1
    assert [(p.where, p.message) for p in report.problems] == [
        ("line 3", "contains a NUL character (a binary file or a broken export?)")
    ]
