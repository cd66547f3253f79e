"""The fast write paths of big imports: COPY text lines, per-statement foreign keys, index rebuilds."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import IntegrityError, connection, transaction

from tests import factories as f
from turf import bulk
from turf.importers.doors import import_doors
from turf.models import Door, DoorDistrict

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's COPY and DDL: run with DATABASE_URL=postgres://…"
)

HEADER = [
    "address_id", "number", "number_suffix", "pre_dir", "street_name", "street_type", "post_dir", "unit_type",
    "unit", "zip", "city", "lon", "lat", "parcel_ain", "building_id", "block_group", "source",
]  # fmt: skip


def test_copy_text_line_escapes_only_what_copy_needs():
    assert bulk.copy_text_line(("a", "b c", "")) == "a\tb c\t"
    assert bulk.copy_text_line(("back\\slash", "tab\there", "new\nline", "cr\r")) == (
        "back\\\\slash\ttab\\there\tnew\\nline\tcr\\r"
    )
    assert bulk.copy_text_line(("ünïcode", '"quoted"')) == 'ünïcode\t"quoted"'


def test_awkward_characters_survive_the_import_exactly(db):
    org = f.OrganizationFactory(slug="awkward")
    awkward = ["back\\slash", "tab\there", "new\nline", "cr\rreturn", 'quote"d', "ünïcode ñ", "\\N", "a,b"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for n, value in enumerate(awkward, start=1):
        writer.writerow(
            [f"id{n}\\x", str(100 + n), "", "", "MAIN", "STREET", "", "", "", "90291", "VENICE",
             "-118.46", "33.99", value, "", value, "src"]
        )  # fmt: skip
    report = import_doors(organization=org, source=io.BytesIO(buffer.getvalue().encode()))

    assert (report.created, report.problems) == (len(awkward), [])
    doors = {door.number: door for door in Door.objects.filter(organization=org)}
    for n, value in enumerate(awkward, start=1):
        door = doors[str(100 + n)]
        assert door.source_id == f"id{n}\\x"
        assert door.extra["parcel_ain"] == value
        assert door.extra["block_group"] == value
        assert door.extra["source_ids"] == [f"id{n}\\x"]
        assert (door.lat, door.lng) == (33.99, -118.46)


def _index_definitions(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        return [row[0] for row in cursor.fetchall()]


@postgres_only
def test_indexes_rebuilt_puts_back_exactly_the_same_keys_and_indexes(db):
    door = f.DoorFactory()
    district = f.DistrictFactory(layer=f.DistrictLayerFactory(organization=door.organization))
    before = _index_definitions(DoorDistrict._meta.db_table)
    assert len(before) == 2  # the (door, district) primary key and the (district, door) index

    with transaction.atomic(), bulk.indexes_rebuilt(DoorDistrict):
        assert _index_definitions(DoorDistrict._meta.db_table) == []
        DoorDistrict.objects.create(door=door, district=district)

    assert _index_definitions(DoorDistrict._meta.db_table) == before
    assert DoorDistrict.objects.filter(door=door, district=district).count() == 1


@postgres_only
def test_a_rebuilt_key_that_the_rows_break_rolls_everything_back(db):
    door = f.DoorFactory()
    district = f.DistrictFactory(layer=f.DistrictLayerFactory(organization=door.organization))
    before = _index_definitions(DoorDistrict._meta.db_table)

    with pytest.raises(IntegrityError), transaction.atomic(), bulk.indexes_rebuilt(DoorDistrict):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO turf_doordistrict (door_id, district_id) VALUES (%s, %s), (%s, %s)",
                [door.pk, district.pk, door.pk, district.pk],
            )

    assert _index_definitions(DoorDistrict._meta.db_table) == before
    assert DoorDistrict.objects.count() == 0


@postgres_only
def test_rebuilds_only_for_big_writes_into_small_unreferenced_tables(db):
    assert not bulk.rebuild_indexes_if_worth_it(DoorDistrict, bulk.REBUILD_MIN_ROWS - 1)
    assert bulk.rebuild_indexes_if_worth_it(DoorDistrict, bulk.REBUILD_MIN_ROWS)
    # Doors are referenced by knocks, people and turfs: their keys stay.
    assert not bulk.rebuild_indexes_if_worth_it(Door, 10 * bulk.REBUILD_MIN_ROWS)


def test_nothing_is_rebuilt_off_postgresql(db):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite half of the rule")
    assert not bulk.rebuild_indexes_if_worth_it(DoorDistrict, 10 * bulk.REBUILD_MIN_ROWS)


@postgres_only
def test_foreign_keys_are_checked_at_the_statement_inside_and_deferred_again_after(db):
    org = f.OrganizationFactory()
    missing = org.pk + 10_000

    def insert_door(organization_id: int, key: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO turf_door (organization_id, address_key, building_key, number, number_suffix, pre_dir, "
                "street_name, street_type, post_dir, unit_type, unit, city, state, zip, geocode_quality, source, "
                "source_id, extra, created_at, updated_at) VALUES "
                "(%s, %s, '', '1', '', '', 'MAIN', '', '', '', '', '', 'CA', '', 'none', '', '', '{}', now(), now())",
                [organization_id, key],
            )

    with pytest.raises(IntegrityError), transaction.atomic(), bulk.foreign_keys_checked_per_statement(Door):
        insert_door(missing, "inside")  # fails here, not at commit

    with transaction.atomic():
        with bulk.foreign_keys_checked_per_statement(Door):
            insert_door(org.pk, "good")
        insert_door(missing, "after")  # deferred again: no error at the statement ...
        with pytest.raises(IntegrityError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ... only when checked
        transaction.set_rollback(True)  # the bad row goes with this block
