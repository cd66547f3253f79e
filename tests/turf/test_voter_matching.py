"""Voter files land on the right door: rows without location matched against the
loaded Venice points (a slice of the real file, every spelling of each point kept)."""

from __future__ import annotations

import csv
import io

import pytest

from tests import factories as f
from tests.turf.voter_export import LA, VAN_COLUMNS, placement, venice_points, voter_export
from turf import addresses as addr
from turf.importers.base import ImportAborted
from turf.importers.door_columns import ColumnMapping
from turf.importers.doors import import_doors
from turf.models import Door, DoorAlias, Person

# Points the cases below name, plus their neighbours that make some ambiguous.
_WANTED = {
    ("17", "1/2", "26TH"),
    ("1704", "3/4", "WASHINGTON"),
    ("3719", "", "ESPLANADE"),
    ("825", "1/2", "LINCOLN"),
    ("817", "1/2", "LINCOLN"),
    ("301", "", "VENICE"),
    ("2109", "", "SHELL"),
    ("310", "", "4TH"),
}


def _slice() -> bytes:
    with (LA / "venice_addresses.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or ())
        rows = list(reader)
    wanted_points = {
        (r["lon"], r["lat"], r["number"])
        for r in rows
        if (r["number"], r["number_suffix"], r["street_name"]) in _WANTED
    }
    chosen = [r for r in rows if (r["lon"], r["lat"], r["number"]) in wanted_points]
    chosen += [r for r in rows if r["street_name"] == "DIMMICK"][:5]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(chosen)
    return out.getvalue().encode()


@pytest.fixture
def org(db):
    organization = f.OrganizationFactory(slug="voters", name="Voters")
    import_doors(organization=organization, source=io.BytesIO(_slice()))
    return organization


def _van(*addresses: str) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["VANID", "FirstName", "LastName", "Address", "City", "State", "Zip5"])
    for i, address in enumerate(addresses, start=1):
        writer.writerow([str(1000 + i), "Ana", f"Voter{i}", address, "Venice", "CA", "90291"])
    return io.BytesIO(out.getvalue().encode())


def _import(org, *addresses: str, strict: bool = False):
    return import_doors(
        organization=org, source=_van(*addresses), mapping=ColumnMapping.from_spec(VAN_COLUMNS), strict=strict
    )


def _door_of(org, voter: int) -> Door | None:
    person = Person.objects.filter(organization=org, external_voter_id=str(1000 + voter)).first()
    return person.door if person else None


def _key_of(org, voter: int) -> str:
    door = _door_of(org, voter)
    return door.address_key if door else ""


def test_fraction_after_the_house_number_is_the_number_suffix():
    assert addr.parse_one_line("17 1/2 26th Pl").address_key == "17|1/2||26TH|PL|||"
    assert addr.parse_one_line("1704 3/4 Washington Way Apt 3").address_key == "1704|3/4||WASHINGTON|WAY||3|"
    assert addr.parse_one_line("12 Main St").number_suffix == ""


def test_unreadable_addresses_are_read_word_by_word():
    assert addr.loose_read("825 1/2 Pch") == addr.LooseAddress("825", "1/2", ("PCH",), "")
    assert addr.loose_read("817 1/2 Sr-1 # 2") == addr.LooseAddress("817", "1/2", ("SR-1",), "2")
    assert addr.loose_read("PO Box 12") is None


def test_street_fit_allows_a_missing_part_never_a_different_one():
    assert addr.street_fit(("ESPLANADE",), "", ("ESPLANADE",), "", "W") == ["post-directional W missing"]
    assert addr.street_fit(("ESPLANADE", "W"), "", ("ESPLANADE",), "", "W") == []
    assert addr.street_fit(("PARK", "PL"), "", ("PARK",), "AVE", "") is None
    assert addr.street_fit(("E", "ESPLANADE"), "", ("ESPLANADE",), "", "W") == [
        "extra pre-directional E",
        "post-directional W missing",
    ]


def test_fractions_land_on_their_door(org):
    doors = Door.objects.filter(organization=org).count()
    report = _import(org, "17 1/2 26th Pl", "1704 3/4 Washington Way", "1704 3/4 WASHINGTON WAY Unit 3")
    assert Door.objects.filter(organization=org).count() == doors  # no new door
    assert _key_of(org, 1).startswith("17|1/2||26TH|")
    assert _key_of(org, 2).startswith("1704|3/4||WASHINGTON|WAY|")
    assert _door_of(org, 3) == _door_of(org, 2)
    assert any("unit 3 is not among the loaded doors" in m.message for m in report.matches)


def test_missing_post_directional_matches_the_only_candidate(org):
    report = _import(org, "3719 Esplanade", "3719 Esplanade West")
    door = _door_of(org, 1)
    assert door is not None and (door.street_name, door.post_dir) == ("ESPLANADE", "W")
    assert _door_of(org, 2) == door
    assert any("3719 ESPLANADE" in m.message and "post-directional W missing" in m.message for m in report.matches)


def test_missing_pre_directional_or_type_matches_when_one_fits(org):
    report = _import(org, "2109 Shell", "2109 Shell Ave")
    assert _door_of(org, 1) == _door_of(org, 2) is not None
    assert _key_of(org, 1).startswith("2109||S|SHELL|AVE|")
    assert report.counts["rows matched loosely (see below)"] == 2


def test_ambiguous_address_is_reported_not_placed(org):
    doors = Door.objects.filter(organization=org).count()
    report = _import(org, "301 Venice Blvd", "3719 Esplanade")
    assert _door_of(org, 1) is None
    assert _door_of(org, 2) is not None
    assert Door.objects.filter(organization=org).count() == doors
    (problem,) = report.problems
    assert problem.where == "line 2" and "ambiguous" in problem.message
    assert "301 N VENICE BLVD" in problem.message and "301 S VENICE BLVD" in problem.message
    assert report.counts["rows ambiguous (not placed)"] == 1


def test_ambiguous_address_aborts_strict_mode(org):
    with pytest.raises(ImportAborted, match="strict mode"):
        _import(org, "301 Venice Blvd", strict=True)
    assert not Person.objects.filter(organization=org).exists()


def test_route_names_and_unreadable_addresses_match_the_loaded_points(org):
    lincoln = Door.objects.get(organization=org, number="825", number_suffix="1/2", street_name="LINCOLN")
    lincoln_817 = Door.objects.get(organization=org, number="817", number_suffix="1/2", street_name="LINCOLN")
    assert DoorAlias.objects.filter(door=lincoln, street_name="PCH").exists()
    report = _import(org, "825 1/2 Pch", "817 1/2 Sr-1", "825 1/2 Pacific Coast Hwy", "825 1/2 Lincoln Blvd")
    assert [_door_of(org, i) for i in (1, 2, 3, 4)] == [lincoln, lincoln_817, lincoln, lincoln]
    assert report.counts["rows matched by an alias"] == 3
    assert any("the route written another way" in m.message for m in report.matches)
    assert not report.problems
    # usaddress reads "310 4th" as no street address: read word by word, it fits 310 4TH AVE only.
    with pytest.raises(ValueError, match="not a street address"):
        addr.parse_one_line("310 4th")
    report = _import(org, "310 4th")
    assert _key_of(org, 1).startswith("310|||4TH|AVE|")
    assert "read word by word" in report.matches[0].message


def test_unreadable_address_no_door_fits_is_skipped_with_the_reason(org):
    doors = Door.objects.filter(organization=org).count()
    report = _import(org, "999 4th", "3719 Esplanade")
    assert Door.objects.filter(organization=org).count() == doors
    assert _door_of(org, 1) is None
    assert "no loaded door fits it" in report.problems[0].message


def test_typo_is_not_matched(org):
    report = _import(org, "3719 Esplande")
    door = _door_of(org, 1)
    assert door is not None and door.street_name == "ESPLANDE"  # a new door, not 3719 ESPLANADE W
    assert any("not among the loaded doors" in m.message for m in report.matches)
    assert any("address(es) not matched exactly" in line for line in report.lines())


def test_generated_export_of_the_slice_lands_on_the_right_doors(org):
    loaded = set(Door.objects.filter(organization=org).values_list("id", flat=True))
    keys = set(Door.objects.filter(organization=org).values_list("address_key", flat=True))
    keys |= set(DoorAlias.objects.filter(organization=org).values_list("address_key", flat=True))
    points = [p for p in venice_points() if p.key in keys]
    data, truth = voter_export(points, seed=3, typo_share=0.05)
    report = import_doors(organization=org, source=io.BytesIO(data), mapping=ColumnMapping.from_spec(VAN_COLUMNS))
    result = placement(org, truth, loaded, report)
    assert result.wrong == 0 and result.typos_on_loaded_door == 0
    assert result.right + result.ambiguous == result.valid
