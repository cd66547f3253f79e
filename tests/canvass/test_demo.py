"""The demo loads the real LA data: the facts of the issue's 'done when'."""

import csv
import datetime as dt
import io
import json
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from canvass.models import Assignment, Campaign, ContactAttempt, ResultCode, Shift, SurveyOption, Turf, TurfDoor
from fieldops.models import Membership, Organization
from turf.models import District, DistrictLayer, Door, DoorAlias, DoorDistrict, Person


def _doors_per_district(org, layer_name):
    rows = (
        DoorDistrict.objects.filter(district__organization=org, district__layer__name=layer_name)
        .values("district__external_id")
        .annotate(doors=Count("door", distinct=True))
    )
    return {row["district__external_id"]: row["doors"] for row in rows}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_demo_loads_venice_and_is_idempotent(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo's passwords file goes there, not into the checkout's var/
    call_command("demo", quiet_progress=True)
    out = capsys.readouterr().out
    org = Organization.objects.get(slug="venice-demo")

    # 16,159 rows hold 15,413 distinct address keys, but one of those keys is
    # the empty address of two rows with house number 0 and no street (lines
    # 16159-16160, two different points): they are reported and skipped, so
    # 15,412 spellings in 11,907 buildings; 1,764 of them are street-name
    # aliases (Lincoln Blvd also as PCH, SR-1 and 1; Venice Blvd also as SR-187
    # and 187) of another door: 13,648 physical doors.
    assert Door.objects.filter(organization=org).count() == 13_648
    assert DoorAlias.objects.filter(organization=org).count() == 1_764
    doors = Door.objects.filter(organization=org)
    assert doors.exclude(building_key="").values("building_key").distinct().count() == 11_907
    assert "13,648 doors in 11,907 buildings" in out
    assert "line 16159: the street name is empty" in out
    # It says where the volunteers' app is and who to log in as.
    assert "volunteers in the app at /app/" in out
    assert "log in there as canvasser1" in out
    assert {layer.name: layer.districts.count() for layer in DistrictLayer.objects.filter(organization=org)} == {
        "City Council": 15,
        "Assembly": 13,
        "Supervisorial": 5,
        "Neighborhood Council": 99,
    }
    # Every door is in Council District 11; Assembly splits 61 / 55.
    assert _doors_per_district(org, "City Council") == {"11": 13_648}
    assembly = _doors_per_district(org, "Assembly")
    assert set(assembly) == {"61", "55"}
    assert sum(assembly.values()) == 13_648
    assert assembly["61"] > assembly["55"] > 100

    campaign = Campaign.objects.get(organization=org, slug="venice-canvass")
    assert campaign.name == "Venice canvass"
    assert list(campaign.target_districts.values_list("layer__name", "external_id")) == [("City Council", "11")]
    assert campaign.questions.count() == 3
    assert all(q.options.count() >= 2 for q in campaign.questions.all())
    # The script and the result codes also speak Spanish, for volunteers whose app does.
    assert all(q.text_es for q in campaign.questions.all())
    assert not SurveyOption.objects.filter(question__campaign=campaign, label_es="").exists()
    assert ResultCode.objects.filter(organization=org).count() == 10
    assert ResultCode.objects.get(organization=org, code="not_home").label_es == "No está en casa"
    shifts = Shift.objects.filter(organization=org)
    # A week from today, and the simulated weekend's sessions before it.
    assert 9 <= shifts.count() <= 14
    # The campaign is cut into turfs of about 60 doors, every door in one turf.
    turfs = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
    assert 200 <= turfs.count() <= 320
    assert TurfDoor.objects.filter(turf__in=turfs).values("door").distinct().count() == 13_648
    assert "turfs of" in out
    # Two demo canvassers share the first turf, so the phone API has work to show.
    pair = Assignment.objects.get(campaign=campaign, ends_at__isnull=True)
    assert sorted(pair.canvassers.values_list("username", flat=True)) == ["canvasser1", "canvasser2"]
    roles = Counter(Membership.objects.filter(organization=org).values_list("role", flat=True))
    assert roles == {"organizer": 1, "canvasser": 12}
    for username in ("organizer", "canvasser1", "canvasser2"):
        assert username in out

    # Voters at the doors: made-up names, VAN-style ids, imported like a VAN export.
    people = Person.objects.filter(organization=org)
    voters = people.count()
    assert 18_000 <= voters <= 23_000
    assert not people.exclude(external_voter_id__regex=r"^[0-9]{9}$").exists()
    assert people.values("door").distinct().count() > 0.8 * 13_648
    assert Door.objects.filter(organization=org).count() == 13_648  # the voter file made no door
    # Result codes and the script are mapped to VAN ids.
    assert not ResultCode.objects.filter(organization=org, van_result_code_id__isnull=True).exists()
    assert not SurveyOption.objects.filter(question__campaign=campaign, van_survey_response_id__isnull=True).exists()
    assert not campaign.questions.filter(van_survey_question_id__isnull=True).exists()

    # The simulated weekend: knocks on two days, by several canvassers, across many turfs.
    knocks = ContactAttempt.objects.filter(campaign=campaign)
    counted = knocks.filter(review="trusted")
    tz = org.tzinfo
    days = {a.astimezone(tz).date() for a in counted.values_list("corrected_at", flat=True)}
    assert len(days) == 2 and max(days) - min(days) == dt.timedelta(days=1)
    assert max(days) >= dt.datetime.now(tz).date() - dt.timedelta(days=1)
    assert all(10 <= a.astimezone(tz).hour < 17 for a in counted.values_list("corrected_at", flat=True))
    assert counted.values("canvasser").distinct().count() == 10
    assert counted.values("assignment__turf").distinct().count() >= 15
    assert counted.count() >= 500
    codes = Counter(counted.values_list("result_code__code", flat=True))
    assert codes.most_common(1)[0][0] == "not_home" and codes["canvassed"] > 0.15 * counted.count()
    contacts = counted.filter(result_code__code="canvassed")
    assert not contacts.filter(support_level__isnull=True).exists()
    assert not contacts.filter(answers={}).exists()
    assert counted.exclude(person=None).count() > 0.7 * counted.count()
    # A few held for review: off the list, and from a phone that synced too late.
    held = Counter(knocks.filter(review="held").values_list("held_reason", flat=True))
    assert held["off_list"] >= 3 and held["outside_time"] == 4
    assert "knocks held for review" in out

    organizer = get_user_model().objects.get(username="organizer")
    client = Client()
    client.force_login(organizer)
    # The dashboard's figures are there at once (the stats are computed, not left to the worker).
    day_stats = client.get(f"/api/v1/stats/campaigns/{campaign.pk}/days/").json()["results"]
    assert {row["day"] for row in day_stats} == {day.isoformat() for day in days}
    assert sum(row["attempts"] for row in day_stats) == counted.count()
    assert sum(row["contacts"] for row in day_stats) > 0
    walkers = client.get(f"/api/v1/stats/campaigns/{campaign.pk}/canvassers/").json()["results"]
    assert len(walkers) == 10 and all(row["hours"] > 0 for row in walkers)
    # The review queue lists the held knocks.
    queue = client.get("/admin/canvass/heldknock/")
    assert queue.status_code == 200
    page = queue.content.decode()
    for pk in knocks.filter(review="held").values_list("pk", flat=True):
        assert f"/admin/canvass/heldknock/{pk}/change/" in page
    trusted = counted.values_list("pk", flat=True)[0]
    assert f"/admin/canvass/heldknock/{trusted}/change/" not in page
    # The VAN export has rows: knocks with a voter, by VAN id.
    export = tmp_path / "van.csv"
    call_command("export_van", campaign="venice-canvass", output=str(export))
    rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8-sig"))))
    assert len(rows) > 0.6 * counted.count()
    assert all(row["VANID"].isdigit() for row in rows)
    assert any(row["Result Code ID"] for row in rows)
    assert any(value for row in rows for name, value in row.items() if "[SQ 310001]" in name)
    capsys.readouterr()

    # The passwords are kept in var/ and printed: a second run prints the same ones.
    logins = json.loads((tmp_path / "demo-logins.json").read_text())
    assert set(logins) == {"organizer", "canvasser1", "canvasser2"}
    assert (tmp_path / "demo-logins.json").stat().st_mode & 0o077 == 0
    assert Client().login(username="canvasser1", password=logins["canvasser1"])
    assert logins["organizer"] in out
    # The organizer sees the same figures on the chapter's page.
    client = Client()
    client.force_login(get_user_model().objects.get(username="organizer"))
    chapter = client.get(f"/admin/fieldops/organization/{org.pk}/change/")
    assert "13,648 doors in 11,907 buildings" in chapter.content.decode()

    # A second run creates nothing twice.
    shift_count = shifts.count()
    assignments = Assignment.objects.filter(campaign=campaign).count()
    knock_count = knocks.count()
    call_command("demo", quiet_progress=True)
    out = capsys.readouterr().out
    assert Door.objects.filter(organization=org).count() == 13_648
    assert District.objects.filter(organization=org).count() == 132
    assert Campaign.objects.filter(organization=org).count() == 1
    assert Shift.objects.filter(organization=org).count() == shift_count
    assert Membership.objects.filter(organization=org).count() == 13
    assert ResultCode.objects.filter(organization=org).count() == 10
    assert turfs.count() == Turf.objects.filter(campaign=campaign).count()
    assert Assignment.objects.filter(campaign=campaign).count() == assignments
    assert people.count() == voters
    assert knocks.count() == knock_count
    assert "Weekend: already simulated." in out
    # Same passwords, printed again; they still log in.
    assert json.loads((tmp_path / "demo-logins.json").read_text()) == logins
    assert all(password in out for password in logins.values())
    assert Client().login(username="organizer", password=logins["organizer"])

    # Asked to, it makes new ones: the old password no longer logs in.
    call_command("demo", quiet_progress=True, reset_passwords=True)
    out = capsys.readouterr().out
    fresh = json.loads((tmp_path / "demo-logins.json").read_text())
    assert set(fresh) == set(logins) and all(fresh[name] != logins[name] for name in logins)
    assert fresh["canvasser1"] in out and logins["canvasser1"] not in out
    assert not Client().login(username="canvasser1", password=logins["canvasser1"])
    assert Client().login(username="canvasser1", password=fresh["canvasser1"])
    assert knocks.count() == knock_count
