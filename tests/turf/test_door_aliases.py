"""Street-name aliases: one physical door under several street names is one door.

With the real Venice points: every Lincoln Blvd address is also listed as PCH,
SR-1 and 1, every Venice Blvd one also as SR-187 and 187.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest

from canvass.sync.models import ContactAttempt
from canvass.turfs.models import TurfDoor
from fieldops.models import AuditLogEntry, SyncChange
from tests import factories as f
from turf import addresses as addr
from turf.importers.doors import import_doors
from turf.models import Door, DoorAlias, Person
from turf.services import door_display_spelling_set

LA = Path(__file__).resolve().parents[2] / "data" / "la"
LINCOLN_SPELLINGS = {"LINCOLN", "PCH", "SR-1", "1"}
VENICE_SPELLINGS = {"VENICE", "SR-187", "187"}


def venice_slice(points: int = 25) -> bytes:
    """The rows of the first `points` Lincoln and Venice Blvd points, every spelling, plus a few plain rows."""
    with (LA / "venice_addresses.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or ())
        rows = list(reader)
    by_point: dict[tuple[str, ...], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_point[(row["lon"], row["lat"], row["number"], row["number_suffix"], row["unit"])].append(row)
    chosen: list[dict[str, str]] = []
    lincoln = venice = 0
    for group in by_point.values():
        names = {r["street_name"] for r in group}
        if names == LINCOLN_SPELLINGS and lincoln < points:
            lincoln += 1
            chosen += group
        elif names == VENICE_SPELLINGS and venice < points:
            venice += 1
            chosen += group
    chosen += [r for r in rows if r["street_name"] == "DIMMICK"][:10]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(chosen)
    return out.getvalue().encode()


def physical_doors(data: bytes) -> int:
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    return len({(r["lon"], r["lat"], r["number"], r["number_suffix"], r["unit"]) for r in rows})


@pytest.fixture
def org(db):
    return f.OrganizationFactory(slug="aliases", name="Aliases")


def test_route_names_and_their_local_equivalents():
    assert addr.is_route_name("SR-1") and addr.is_route_name("PCH") and addr.is_route_name("1")
    assert addr.is_route_name("PACIFIC COAST", "HWY") and addr.is_route_name("SR-187")
    assert not addr.is_route_name("LINCOLN", "BLVD") and not addr.is_route_name("7TH", "AVE")
    assert addr.route_canonical_street("PACIFIC COAST", "HWY") == ("PCH", "")
    assert addr.route_canonical_street("STATE ROUTE 1", "") == ("SR-1", "")
    assert addr.route_canonical_street("HIGHWAY 1", "") == ("SR-1", "")
    assert addr.route_canonical_street("LINCOLN", "BLVD") is None


def test_alias_points_import_as_one_door_with_aliases(org):
    data = venice_slice()
    report = import_doors(organization=org, source=io.BytesIO(data))
    assert Door.objects.filter(organization=org).count() == physical_doors(data) == report.created
    assert report.counts["spellings kept as aliases"] == DoorAlias.objects.filter(organization=org).count() > 0
    # Lincoln is shown under its local name, its other spellings kept.
    lincoln = Door.objects.filter(organization=org, street_name="LINCOLN")
    assert lincoln.count() == 25
    assert not Door.objects.filter(organization=org, street_name__in=["PCH", "SR-1", "1", "SR-187", "187"]).exists()
    door = lincoln.first()
    assert door is not None
    assert {a.street_name for a in door.aliases.all()} >= {"PCH", "SR-1", "1"}
    assert "LINCOLN BLVD" in door.display_address
    assert Door.objects.filter(organization=org, street_name="VENICE").count() == 25
    # The source ids of every spelling are kept on the door.
    assert len(door.extra["source_ids"]) >= 4

    # Re-importing the same file changes nothing.
    again = import_doors(organization=org, source=io.BytesIO(data))
    assert again.created == 0 and again.counts["alias doors merged"] == 0
    assert Door.objects.filter(organization=org).count() == physical_doors(data)


def test_voter_rows_written_with_any_spelling_land_on_the_same_door(org):
    import_doors(organization=org, source=io.BytesIO(venice_slice()))
    door = Door.objects.filter(organization=org, street_name="LINCOLN").order_by("pk").first()
    assert door is not None
    number, zip_code = door.number, door.zip
    doors_before = Door.objects.filter(organization=org).count()
    voters = "voter_id,first_name,last_name,address,zip\n" + "".join(
        f"V{i},A{i},B{i},{number} {street},{zip_code}\n"
        for i, street in enumerate(
            ["Pacific Coast Hwy", "Lincoln Blvd", "SR-1", "Pch", "State Route 1", "Lincoln Boulevard"]
        )
    )
    report = import_doors(organization=org, source=io.BytesIO(voters.encode()))
    assert report.counts["rows matched by an alias"] >= 3
    assert Door.objects.filter(organization=org).count() == doors_before
    assert set(Person.objects.filter(organization=org).values_list("door_id", flat=True)) == {door.pk}
    assert Person.objects.filter(door=door).count() == 6


def test_an_organizer_can_pin_another_spelling_and_a_reimport_keeps_it(org):
    data = venice_slice(points=3)
    import_doors(organization=org, source=io.BytesIO(data))
    door = Door.objects.filter(organization=org, street_name="LINCOLN").order_by("pk").first()
    assert door is not None
    alias = door.aliases.get(street_name="PCH")
    door_display_spelling_set(door=door, alias=alias, actor=None)
    door.refresh_from_db()
    assert door.street_name == "PCH" and door.aliases.filter(street_name="LINCOLN").exists()
    import_doors(organization=org, source=io.BytesIO(data))
    door.refresh_from_db()
    assert door.street_name == "PCH"
    assert Door.objects.filter(organization=org).count() == physical_doors(data)


def test_reimport_over_old_alias_doors_merges_them_keeping_history(org, monkeypatch):
    data = venice_slice(points=5)
    # The old importer: one door per spelling.
    with monkeypatch.context() as m:
        m.setattr("turf.importers.doors.group_spellings", lambda *args: None)
        import_doors(organization=org, source=io.BytesIO(data))
    old_count = Door.objects.filter(organization=org).count()
    assert old_count > physical_doors(data)
    lincoln = Door.objects.filter(organization=org, street_name="LINCOLN").order_by("pk").first()
    assert lincoln is not None
    same_point = Door.objects.filter(
        organization=org, lat=lincoln.lat, lng=lincoln.lng, number=lincoln.number, unit=lincoln.unit
    )
    spellings = {d.street_name: d for d in same_point}
    assert set(spellings) == LINCOLN_SPELLINGS
    pch, sr1, one, lincoln = spellings["PCH"], spellings["SR-1"], spellings["1"], spellings["LINCOLN"]
    assert len({pch.building_key, sr1.building_key, one.building_key}) == 1
    campaign = f.CampaignFactory(organization=org)
    knocks = [
        f.ContactAttemptFactory(door=door, organization=org, campaign=campaign) for door in (pch, sr1, sr1, lincoln)
    ]
    person = f.PersonFactory(door=one, organization=org, external_voter_id="OLD1")
    turf = f.TurfFactory(campaign=campaign, organization=org)
    f.TurfDoorFactory(turf=turf, door=pch, position=0)
    f.TurfDoorFactory(turf=turf, door=one, position=1)
    other = f.TurfFactory(campaign=campaign, organization=org)
    f.TurfDoorFactory(turf=other, door=sr1, position=0)
    seq_before = max(SyncChange.objects.filter(organization=org).values_list("seq", flat=True), default=0)

    report = import_doors(organization=org, source=io.BytesIO(data))

    assert Door.objects.filter(organization=org).count() == physical_doors(data)
    assert report.counts["alias doors merged"] == old_count - physical_doors(data)
    survivor = Door.objects.get(pk=lincoln.pk)  # the local spelling's door survives
    assert survivor.street_name == "LINCOLN"
    assert not Door.objects.filter(pk__in=[pch.pk, sr1.pk, one.pk]).exists()
    assert {a.street_name for a in survivor.aliases.all()} == {"PCH", "SR-1", "1"}
    # Every knock kept, at the survivor.
    assert ContactAttempt.objects.filter(pk__in=[k.pk for k in knocks], door=survivor).count() == 4
    person.refresh_from_db()
    assert person.door_id == survivor.pk
    # Turf memberships: one door per turf, sizes follow.
    assert list(TurfDoor.objects.filter(turf=turf).values_list("door_id", flat=True)) == [survivor.pk]
    assert list(TurfDoor.objects.filter(turf=other).values_list("door_id", flat=True)) == [survivor.pk]
    turf.refresh_from_db()
    assert turf.door_count == 1 and turf.person_count == 1
    # Audited, and phones hear of it: the survivor updated, the merged doors
    # gone, the knocks, the person and the turfs logged.
    entry = AuditLogEntry.objects.filter(organization=org, action="doors.merge", detail__door=survivor.pk).get()
    assert set(entry.detail["merged"]) == {str(pch.pk), str(sr1.pk), str(one.pk)}
    changes = SyncChange.objects.filter(organization=org, seq__gt=seq_before)
    assert changes.filter(kind="door", object_id=str(survivor.pk)).exists()
    assert {int(c) for c in changes.filter(kind="door").values_list("object_id", flat=True)} >= {
        pch.pk,
        sr1.pk,
        one.pk,
    }
    assert {c for c in changes.filter(kind="attempt").values_list("object_id", flat=True)} >= {
        str(k.pk) for k in knocks[:3]
    }
    assert changes.filter(kind="person", object_id=str(person.pk), door_id=survivor.pk).exists()
    assert {int(t) for t in changes.filter(kind="turf").values_list("object_id", flat=True)} == {turf.pk, other.pk}

    # A voter row written as a merged-away spelling still finds the door.
    voters = f"voter_id,first_name,last_name,address,zip\nV9,Ana,Lee,{survivor.number} SR-1,{survivor.zip}\n"
    import_doors(organization=org, source=io.BytesIO(voters.encode()))
    assert Person.objects.get(external_voter_id="V9").door_id == survivor.pk


def test_the_admin_finds_a_door_by_any_of_its_spellings_and_lists_them(world):
    from tests.factories import admin_client

    door = f.DoorFactory(organization=world.org, number=2500, street_name="LINCOLN", street_type="BLVD")
    DoorAlias.objects.create(
        organization=world.org, door=door, address_key="2500|SR-1|90291", street_name="SR-1", merged_door_id=None
    )
    hidden = f.DoorFactory(organization=world.other_org, number=2500, street_name="SR-1")
    client = admin_client(world.organizer)
    page = client.get("/admin/turf/door/", {"q": "2500 SR-1"}).content.decode()
    assert f"/admin/turf/door/{door.pk}/change/" in page
    assert f"/admin/turf/door/{hidden.pk}/change/" not in page  # another chapter's door never shows
    detail = client.get(f"/admin/turf/door/{door.pk}/change/").content.decode()
    assert "Other spellings" in detail and "SR-1" in detail


def test_a_reimport_that_changes_a_door_or_its_people_reaches_the_phones(world):
    """A voter file re-imported: a new voter at a door of carlos' turf arrives on his phone by incremental pull."""
    from tests.factories import PULL, client_for

    door = world.doors[0]
    # Keyed as the importer keys it (number|fraction|pre|street|type|post|unit|zip).
    door.address_key = "|".join((door.number, "", "", door.street_name, door.street_type, "", "", door.zip))
    door.save(update_fields=["address_key"])
    client = client_for(world.canvasser)
    cursor = None
    while True:
        page = client.get(PULL, {"cursor": cursor} if cursor else {}).json()
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    voters = (
        "voter_id,first_name,last_name,address,zip,lat,lng\n"
        f"V77,Rosa,Parks,{door.number} {door.street_name} {door.street_type},{door.zip},{door.lat},{door.lng}\n"
    )
    report = import_doors(organization=world.org, source=io.BytesIO(voters.encode()))
    assert report.counts["people created"] == 1, report.counts
    page = client.get(PULL, {"cursor": cursor}).json()
    [sent] = [d for d in page["doors"] if d["id"] == door.pk]
    assert [p["first_name"] for p in sent["people"]] == ["Rosa"]
    # The outsider's phone hears nothing of it.
    assert client_for(world.outsider).get(PULL).json()["doors"] == []
    # The same file again changes nothing, and logs nothing.
    before = SyncChange.objects.filter(organization=world.org).count()
    import_doors(organization=world.org, source=io.BytesIO(voters.encode()))
    assert SyncChange.objects.filter(organization=world.org).count() == before
