"""The demo's passwords file (canvass/demo/logins.py), its synthetic voter file (canvass/demo/voters.py)
and the days of its simulated weekend (canvass/demo/weekend.py)."""

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from canvass.demo.logins import demo_passwords
from canvass.demo.voters import VAN_ID_START, write_voter_file
from canvass.demo.weekend import canvassing_days

NAMES = ["organizer", "canvasser1", "canvasser2"]


def test_passwords_are_kept_between_runs_and_reset_on_request(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"  # created on first use
    first, new = demo_passwords(NAMES)
    assert new == set(NAMES) and len(set(first.values())) == 3
    assert all(len(p) >= 12 for p in first.values())
    path = tmp_path / "var" / "demo-logins.json"
    assert json.loads(path.read_text()) == first
    assert path.stat().st_mode & 0o777 == 0o600

    again, new = demo_passwords(NAMES)
    assert again == first and new == set()

    # A user added to the demo gets a password; the others keep theirs.
    more, new = demo_passwords([*NAMES, "canvasser3"])
    assert new == {"canvasser3"} and {n: more[n] for n in NAMES} == first

    reset, new = demo_passwords(NAMES, reset=True)
    assert new == set(NAMES) and all(reset[n] != first[n] for n in NAMES)
    assert json.loads(path.read_text()) == reset


def test_a_damaged_passwords_file_gives_new_passwords(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    for text in ("not json{", '["a list"]', '{"organizer": 5, "canvasser1": ""}'):
        (tmp_path / "demo-logins.json").write_text(text)
        passwords, new = demo_passwords(NAMES)
        assert new == set(NAMES) and all(isinstance(p, str) and p for p in passwords.values())
        assert json.loads((tmp_path / "demo-logins.json").read_text()) == passwords


def test_voter_file_is_synthetic_stable_and_names_every_door_once():
    addresses = Path(django_settings.BASE_DIR) / "data" / "la" / "venice_addresses.csv"
    out, again = io.StringIO(), io.StringIO()
    count = write_voter_file(addresses, out)
    write_voter_file(addresses, again)
    assert out.getvalue() == again.getvalue()  # the same file every run: a re-import updates nobody
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    voters = [r for r in rows if r["voter_id"]]
    assert len(voters) == count and 18_000 <= count <= 23_000
    ids = [int(r["voter_id"]) for r in voters]
    assert ids == list(range(VAN_ID_START, VAN_ID_START + count))  # unique, VAN-style numbers
    assert all(r["first_name"] and r["last_name"] and 1940 <= int(r["birth_year"]) <= 2007 for r in voters)
    # Every address row of the source is there (so the doors read as the demo loaded them), and an
    # address id is listed once (the importer lists each row's id on its door).
    with addresses.open(newline="", encoding="utf-8") as handle:
        source = [r for r in csv.DictReader(handle) if r["street_name"].strip()]
    assert {r["address_id"] for r in rows} - {""} == {r["address_id"] for r in source}
    listed = [r["address_id"] for r in rows if r["address_id"]]
    assert len(listed) == len(source)


def test_the_weekend_is_yesterday_and_today_once_today_has_begun():
    monday = dt.date(2026, 11, 30)
    sunday, saturday = monday - dt.timedelta(days=1), monday - dt.timedelta(days=2)
    assert canvassing_days(dt.datetime(2026, 11, 30, 15, 0)) == (sunday, monday)
    assert canvassing_days(dt.datetime(2026, 11, 30, 11, 30)) == (sunday, monday)
    # Early in the day, today has no canvassing yet: the two days before.
    assert canvassing_days(dt.datetime(2026, 11, 30, 11, 29)) == (saturday, sunday)
    assert canvassing_days(dt.datetime(2026, 11, 30, 0, 5)) == (saturday, sunday)


@pytest.mark.django_db
def test_the_weekend_is_skipped_with_a_reason_when_every_turf_is_held(world):
    """An organizer who handed out every turf (and a database whose knocks were cleared): no crash."""
    from django.utils import timezone

    from canvass.demo.weekend import weekend_simulate

    report = weekend_simulate(
        campaign=world.campaign,  # its one turf is held by carlos' assignment
        organizer=world.organizer,
        canvassers=[world.canvasser],
        now=timezone.now(),
        staging={},
    )
    assert report.no_free_turf and report.knocks == 0
