"""Every CSV fieldops writes is safe to open in a spreadsheet (issue 14, item 3).

Hostile text comes in through the real paths (a voter file through
import_doors, a turf name through the API, a question, a result label and a
door's address as an organizer or an import would write them), and each
export is read back as a spreadsheet reads it: cell by cell, no cell may
begin with a formula trigger unless it is the neutralised form ('=…).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from canvass.models import ContactAttempt, ResultCode
from canvass.stats import exports
from fieldops.csv_safety import FORMULA_TRIGGERS, safe_cell
from tests import factories as f
from tests.canvass.stats_world import LA, knock, setup_script
from tests.factories import admin_client
from turf.models import Door, Person

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://x","y")'
DAY = dt.date(2026, 11, 20)


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


# What a spreadsheet reads as a number, not a formula: the numbers the code writes.
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def assert_safe_to_open(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS) or NUMBER.fullmatch(cell), (cell, row)


def test_safe_cell_follows_owasp():
    for trigger in ("=", "+", "-", "@", "\t", "\r", "\n", "\0"):
        assert safe_cell(f"{trigger}1+2") == f"'{trigger}1+2"
    assert safe_cell("Venice 1") == "Venice 1"
    assert safe_cell("'=1+2") == "'=1+2"  # already text: unchanged
    assert safe_cell("") == ""
    # Numbers the code writes stay numbers, negative ones included.
    assert safe_cell(-118.4744) == -118.4744
    assert safe_cell(-5) == -5
    assert safe_cell(None) is None
    # Text that looks like a number is still text from someone else.
    assert safe_cell("-5") == "'-5"


@pytest.fixture
def hostile_van(hood, tmp_path: Path):
    """A voter file with a formula for a voter id and for a name, imported with
    the command; a question, a result label set to formulas; knocks by each."""
    world = setup_script(hood)
    voters = tmp_path / "voters.csv"
    voters.write_text(
        "voter_id,first_name,last_name,address,city,zip,lat,lng\n"
        + '"=HYPERLINK(""http://x"",""y"")",Ana,=1+2,201 Dimmick Ave,Los Angeles,90405,34.0001417,-118.4744164\n'
        "100300,@Ben,Lopez,203 Dimmick Ave,Los Angeles,90405,34.0002417,-118.4744164\n"
        "CA-1234,Cy,Lopez,205 Dimmick Ave,Los Angeles,90405,34.0003417,-118.4744164\n",
        encoding="utf-8",
    )
    call_command("import_doors", str(voters), "--org", world.org.slug, stdout=io.StringIO(), stderr=io.StringIO())
    hostile = Person.objects.get(organization=world.org, external_voter_id=HYPERLINK)
    plain = Person.objects.get(organization=world.org, external_voter_id="100300")
    state_id = Person.objects.get(organization=world.org, external_voter_id="CA-1234")
    q1 = world.questions[0]
    q1.text = "=cmd|' /C calc'!A0"
    q1.van_survey_question_id = 1001
    q1.save()
    ResultCode.objects.filter(organization=world.org, code="not_home").update(
        van_result_code_id=1, label="@SUM(1+1)*cmd"
    )
    at = dt.datetime.combine(DAY, dt.time(18, 30), tzinfo=LA)
    attempts = []
    for person in (hostile, plain, state_id):
        attempt = knock(world, door=person.door, code="not_home", at=at)
        attempt.person = person
        attempts.append(attempt)
    ContactAttempt.objects.bulk_create(attempts)
    return world


def test_van_csv_is_safe_to_open_and_reports_ids_that_are_not_van_ids(hostile_van):
    result = exports.export_van_csv(campaign=hostile_van.campaign, actor=hostile_van.organizer)
    rows = _cells(result.content)
    assert_safe_to_open(rows)
    header, body = rows[0], rows[1:]
    assert header[5] == "'=cmd|' /C calc'!A0 [SQ 1001]"
    # Only the plain VAN id is exported; the formula and the state id are problems.
    assert [row[0] for row in body] == ["100300"]
    assert body[0][3:5] == ["1", "'@SUM(1+1)*cmd"]
    assert result.problems["skipped"] == {exports.NOT_A_VAN_ID: 2}
    assert HYPERLINK not in result.content and "CA-1234" not in result.content


def test_van_json_takes_only_van_ids(hostile_van):
    result = exports.export_van_json(campaign=hostile_van.campaign, actor=None)
    assert [item["vanId"] for item in result.content["items"]] == [100300]
    assert result.content["problems"]["skipped"] == {exports.NOT_A_VAN_ID: 2}


def test_van_csv_download_from_the_admin_is_safe_to_open(hostile_van):
    client = admin_client(hostile_van.organizer)
    response = client.get(f"/admin/canvass/campaign/{hostile_van.campaign.pk}/export-van/", {"format": "csv"})
    assert response.status_code == 200
    assert response["X-Fieldops-Unmapped"] == "2"
    assert_safe_to_open(_cells(response.content.decode("utf-8")))


def test_export_van_command_says_what_was_left_out(hostile_van, capsys):
    call_command("export_van", "--campaign", hostile_van.campaign.slug)
    captured = capsys.readouterr()
    assert_safe_to_open(_cells(captured.out))
    assert f"left out: 2 × {exports.NOT_A_VAN_ID}" in captured.err


def test_turf_export_is_safe_to_open(hood, tmp_path: Path):
    """A turf name set through the API, an address and a source id from an
    import: all neutralised; latitudes and longitudes stay negative numbers."""
    client = APIClient()
    client.force_authenticate(hood.organizer)
    box = [[-118.48, 33.98], [-118.44, 33.98], [-118.44, 34.01], [-118.48, 34.01], [-118.48, 33.98]]
    response = client.post(
        "/api/v1/turfs/",
        {"campaign": hood.campaign.pk, "polygon": {"type": "Polygon", "coordinates": [box]}, "name": HYPERLINK},
        format="json",
    )
    assert response.status_code == 201, response.content
    door = Door.objects.filter(turf_doors__turf__name=HYPERLINK).order_by("pk")[0]
    Door.objects.filter(pk=door.pk).update(street_name="@SUM(A1)", source_id="-2+3", city="+CITY", number="=1")
    out = tmp_path / "turfs.csv"
    call_command("export_turfs", "--campaign", hood.campaign.slug, "--output", str(out), stderr=io.StringIO())
    rows = _cells(out.read_text(encoding="utf-8"))
    assert_safe_to_open(rows)
    header, body = rows[0], rows[1:]
    assert header == ["door_id", "source_id", "turf", "walk_order", "address", "city", "zip", "lat", "lng"]
    assert "'" + HYPERLINK in {row[2] for row in body}
    edited = next(row for row in body if row[0] == str(door.pk))
    assert edited[1] == "'-2+3" and edited[4].startswith("'=1 ") and edited[5] == "'+CITY"
    assert float(edited[8]) < 0 and not edited[8].startswith("'")  # a longitude, still a number


# Files that no spreadsheet opens: the demo's synthetic voter file is written to a temporary
# folder and read back only by the door importer, which must get the source's cells as they are
# (a longitude is text there, and "-118.47" would come back as "'-118.47").
NOT_FOR_SPREADSHEETS = {"canvass/demo/voters.py"}


def test_every_csv_writer_goes_through_csv_safety():
    """No module of fieldops writes CSV with the csv module's own writers."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("canvass", "turf", "fieldops", "volunteer"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if ("csv.writer(" in text or "csv.DictWriter(" in text) and path.name != "csv_safety.py":
                offenders.append(str(path.relative_to(root)))
    assert sorted(offenders) == sorted(NOT_FOR_SPREADSHEETS)


def test_a_factory_voter_id_with_a_formula_is_not_exported(hood):
    """The same through a factory, with a mapped canvass: the row is reported, not written."""
    world = setup_script(hood)
    ResultCode.objects.filter(organization=world.org, code="refused").update(van_result_code_id=2)
    person = f.PersonFactory(door=world.hood_doors[0], organization=world.org, external_voter_id="+1234")
    attempt = knock(world, door=person.door, code="refused", at=dt.datetime.combine(DAY, dt.time(12), tzinfo=LA))
    attempt.person = person
    ContactAttempt.objects.bulk_create([attempt])
    result = exports.export_van_csv(campaign=world.campaign, actor=None)
    assert result.rows == 0 and result.problems["skipped"] == {exports.NOT_A_VAN_ID: 1}
    assert len(_cells(result.content)) == 1
