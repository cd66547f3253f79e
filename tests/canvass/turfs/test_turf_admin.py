"""The organizer's turf screens: cut as a job, draw from GeoJSON, the map, walk sheets."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.conf import Conf

from canvass.campaigns.result_codes import STANDARD_RESULT_CODES
from canvass.models import Turf, TurfCutJob
from canvass.turfs import services as turf_services
from canvass.turfs.admin import short_labels
from fieldops.models import AuditLogEntry
from tests import factories as f
from tests.factories import admin_client, populate


@pytest.mark.django_db
def test_campaign_page_links_the_turf_tools(hood):
    page = admin_client(hood.organizer).get(f"/admin/canvass/campaign/{hood.campaign.pk}/change/")
    text = page.content.decode()
    for label in ("Cut turfs…", "Draw a turf…", "Map of turfs"):
        assert label in text


@pytest.mark.django_db
def test_cut_from_the_admin_queues_a_job_that_a_worker_runs(hood, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(Conf, "SYNC", True)
    client = admin_client(hood.organizer)
    url = f"/admin/canvass/campaign/{hood.campaign.pk}/cut-turfs/"
    form = client.get(url)
    assert form.status_code == 200
    assert list(form.context["form"].fields["layer"].queryset) == [hood.layer]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"target_doors": "30", "layer": str(hood.layer.pk)})
    job = TurfCutJob.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/canvass/turfcutjob/{job.pk}/change/")
    page = client.get(response["Location"])
    job.refresh_from_db()
    assert job.status == TurfCutJob.Status.DONE, job.message
    assert "turfs of" in page.content.decode()
    assert job.created_by == hood.organizer


@pytest.mark.django_db
def test_cut_form_bad_input_queues_nothing(hood):
    client = admin_client(hood.organizer)
    url = f"/admin/canvass/campaign/{hood.campaign.pk}/cut-turfs/"
    for data in ({"target_doors": "0"}, {"target_doors": "many"}, {}):
        response = client.post(url, data)
        assert response.status_code == 200
        assert "target_doors" in response.context["form"].errors
    other_layer = f.DistrictLayerFactory(organization=hood.other_org, name="Theirs")
    response = client.post(url, {"target_doors": "30", "layer": str(other_layer.pk)})
    assert "layer" in response.context["form"].errors
    assert not TurfCutJob.objects.exists()


@pytest.mark.django_db
def test_turf_tools_of_another_organization_are_not_found(hood):
    outsider = admin_client(hood.outsider)
    for tool in ("cut-turfs", "draw-turf", "turf-map"):
        assert outsider.get(f"/admin/canvass/campaign/{hood.campaign.pk}/{tool}/").status_code == 404
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    ids = ",".join(str(pk) for pk in Turf.objects.filter(campaign=hood.campaign).values_list("pk", flat=True))
    assert outsider.get(f"/admin/canvass/turf/walk-sheets/?ids={ids}").status_code == 404
    # A canvasser has no admin at all.
    response = admin_client(hood.canvasser).get(f"/admin/canvass/campaign/{hood.campaign.pk}/cut-turfs/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_team_lead_may_see_the_map_but_not_cut(hood):
    lead = f.UserFactory(username="tina", is_staff=True)
    f.MembershipFactory(user=lead, organization=hood.org, role="team_lead")
    client = admin_client(lead)
    assert client.get(f"/admin/canvass/campaign/{hood.campaign.pk}/turf-map/").status_code == 200
    assert client.get(f"/admin/canvass/campaign/{hood.campaign.pk}/cut-turfs/").status_code == 403


@pytest.mark.django_db
def test_draw_a_turf_by_upload_or_paste(hood):
    client = admin_client(hood.organizer)
    url = f"/admin/canvass/campaign/{hood.campaign.pk}/draw-turf/"
    feature = {"type": "Feature", "properties": {}, "geometry": f.rectangle(-118.4755, 33.984, -118.468, 33.986)}
    upload = SimpleUploadedFile("alpha.geojson", json.dumps(feature).encode(), content_type="application/geo+json")
    response = client.post(url, {"name": "Alpha west", "geojson_file": upload})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    turf = Turf.objects.get(name="Alpha west")
    assert turf.door_count > 0
    pasted = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": f.rectangle(-118.4755, 33.984, -118.46, 33.986)}],
        }
    )
    response = client.post(url, {"geojson": pasted})
    assert response.status_code == 302
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("stay in their turfs (Alpha west)" in m for m in messages)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"geojson": "{oops"}, "not valid JSON (line 1"),
        ({"geojson": ""}, "Upload a GeoJSON file or paste a polygon"),
        ({"geojson": json.dumps({"type": "FeatureCollection", "features": []})}, "has 0 features"),
        ({"geojson": json.dumps(f.rectangle(-118.40, 33.90, -118.39, 33.91))}, "contains no doors"),
        ({"geojson_file": SimpleUploadedFile("x.geojson", "é".encode("latin-1"))}, "not UTF-8"),
    ],
)
def test_draw_bad_input_says_what_to_fix(hood, data, message):
    response = admin_client(hood.organizer).post(f"/admin/canvass/campaign/{hood.campaign.pk}/draw-turf/", data)
    assert response.status_code == 200
    assert message in " ".join(str(e) for e in response.context["form"].non_field_errors())
    assert not Turf.objects.filter(status="active").exists()


@pytest.mark.django_db
def test_turf_map_and_turf_page_draw_svg(hood, django_assert_max_num_queries):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    client = admin_client(hood.organizer)
    page = client.get(f"/admin/canvass/campaign/{hood.campaign.pk}/turf-map/")
    text = page.content.decode()
    assert "<svg" in text and "<path" in text
    turf = Turf.objects.filter(campaign=hood.campaign, status="active").first()
    assert turf is not None and turf.name in text
    turf_page = client.get(f"/admin/canvass/turf/{turf.pk}/change/").content.decode()
    assert "<svg" in turf_page and "<circle" in turf_page
    assert "Print the walk sheet" in turf_page


@pytest.mark.django_db
def test_walk_sheets_print_people_and_result_boxes_and_are_audited(hood, django_assert_max_num_queries):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    turfs = list(Turf.objects.filter(campaign=hood.campaign, status="active").order_by("name"))
    door = turfs[0].turf_doors.order_by("position")[0].door
    f.PersonFactory(organization=hood.org, door=door, first_name="Rosa", last_name="Parks")
    f.ResultCodeFactory(organization=hood.org, code="not_home", label="Not home")
    f.ResultCodeFactory(organization=hood.org, code="literature_dropped", label="Literature dropped")
    question = f.SurveyQuestionFactory(campaign=hood.campaign, text="Will you vote yes on Measure V?")
    for position, label in enumerate(["Yes", "No", "Undecided"]):
        f.SurveyOptionFactory(question=question, position=position, label=label)
    f.SurveyQuestionFactory(campaign=hood.campaign, text="A retired question", is_active=False)
    client = admin_client(hood.organizer)
    ids = ",".join(str(t.pk) for t in turfs)
    with django_assert_max_num_queries(16):
        page = client.get(f"/admin/canvass/turf/walk-sheets/?ids={ids}")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count('class="sheet"') == len(turfs)
    assert "Rosa Parks" in text
    # Result boxes are headed by short labels that the legend spells out; no raw codes.
    assert "not_home" not in text and "literature_dropped" not in text
    assert "<b>NH</b> Not home" in text and "<b>LD</b> Literature dropped" in text
    assert '<th scope="col" class="box" title="Not home">NH</th>' in text
    # The script once per sheet, with a box per option, and a box per option in each door's cell.
    assert text.count("Will you vote yes on Measure V?") == len(turfs)
    assert "A retired question" not in text
    assert '<span class="tick">☐</span>c Undecided' in text
    assert text.count('<span class="answer">1 <span class="tick">☐</span>a') == 132
    assert door.display_address in text
    entry = AuditLogEntry.objects.get(action="walk_sheets.print")
    assert entry.actor == hood.organizer and entry.detail["doors"] == 132
    assert client.get("/admin/canvass/turf/walk-sheets/?ids=abc").status_code == 404
    # An id beyond 64 bits is no id (parse_id): a 404, not a server error, alone or among good ones.
    assert client.get(f"/admin/canvass/turf/walk-sheets/?ids={2**70}").status_code == 404
    assert client.get(f"/admin/canvass/turf/walk-sheets/?ids={turfs[0].pk},{2**70}").status_code == 404
    # The changelist action leads to the same page.
    response = client.post(
        "/admin/canvass/turf/", {"action": "print_walk_sheets", "_selected_action": [t.pk for t in turfs[:2]]}
    )
    assert response.status_code == 302 and "walk-sheets/?ids=" in response["Location"]


@pytest.mark.django_db
def test_turf_campaign_filter_offers_only_own_campaigns(world):
    populate(world)
    html = admin_client(world.organizer).get("/admin/canvass/turf/").content.decode()
    assert "Venice canvass" in html
    assert "Secret elsewhere campaign" not in html


def test_short_labels_head_the_result_boxes_and_never_clash():
    standard = [code.label for code in STANDARD_RESULT_CODES]
    assert short_labels(standard) == ["C", "NH", "CB", "R", "LD", "LB", "I", "M", "D", "H"]
    assert short_labels(["Moved", "Maybe", "Not home", "No help", ""]) == ["Mo", "Ma", "NHo", "NHe", "?"]
    heads = short_labels(["Moved", "Moved"])
    assert len(set(heads)) == 2
