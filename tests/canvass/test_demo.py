"""The demo loads the real LA data: the facts of the issue's 'done when'."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from canvass.models import Assignment, Campaign, ResultCode, Shift, SurveyOption, Turf, TurfDoor
from fieldops.models import Membership, Organization
from turf.models import District, DistrictLayer, Door, DoorAlias, DoorDistrict


def _doors_per_district(org, layer_name):
    rows = (
        DoorDistrict.objects.filter(district__organization=org, district__layer__name=layer_name)
        .values("district__external_id")
        .annotate(doors=Count("door", distinct=True))
    )
    return {row["district__external_id"]: row["doors"] for row in rows}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_demo_loads_venice_and_is_idempotent(capsys):
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
    assert 7 <= shifts.count() <= 9
    # The campaign is cut into turfs of about 60 doors, every door in one turf.
    turfs = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE)
    assert 200 <= turfs.count() <= 320
    assert TurfDoor.objects.filter(turf__in=turfs).values("door").distinct().count() == 13_648
    assert "turfs of" in out
    # Two demo canvassers share the first turf, so the phone API has work to show.
    pair = Assignment.objects.get(campaign=campaign, ended_at__isnull=True)
    assert sorted(pair.canvassers.values_list("username", flat=True)) == ["canvasser1", "canvasser2"]
    roles = sorted(Membership.objects.filter(organization=org).values_list("role", flat=True))
    assert roles == ["canvasser", "canvasser", "organizer"]
    for username in ("organizer", "canvasser1", "canvasser2"):
        assert username in out
    # The organizer sees the same figures on the chapter's page.
    client = Client()
    client.force_login(get_user_model().objects.get(username="organizer"))
    page = client.get(f"/admin/fieldops/organization/{org.pk}/change/")
    assert "13,648 doors in 11,907 buildings" in page.content.decode()

    # A second run creates nothing twice.
    call_command("demo", quiet_progress=True)
    assert Door.objects.filter(organization=org).count() == 13_648
    assert District.objects.filter(organization=org).count() == 132
    assert Campaign.objects.filter(organization=org).count() == 1
    assert Shift.objects.filter(organization=org).count() == shifts.count()
    assert Membership.objects.filter(organization=org).count() == 3
    assert ResultCode.objects.filter(organization=org).count() == 10
    assert turfs.count() == Turf.objects.filter(campaign=campaign).count()
    assert turfs.count() == Turf.objects.filter(campaign=campaign).count()
    assert Assignment.objects.filter(campaign=campaign).count() == 1
