"""The organizer's turf API and commands: cut, draw, split, merge, list, export.

A small synthetic neighbourhood: two council districts side by side (west and
east half of the test square), five east-west streets with houses on both
sides and one apartment building of 12 units.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import shapely
from django.core.management import CommandError, call_command
from django_q.conf import Conf
from shapely.geometry import shape

from canvass.models import Turf, TurfCutJob, TurfDoor
from canvass.turfs import services as turf_services
from fieldops.models import AuditLogEntry
from tests import factories as f
from tests.factories import client_for


def _active_doors(campaign):
    return list(
        TurfDoor.objects.filter(turf__campaign=campaign, turf__status=Turf.Status.ACTIVE).values_list(
            "door_id", flat=True
        )
    )


# ------------------------------------------------------------------ cutting


@pytest.mark.django_db
def test_cut_puts_every_door_in_one_turf_without_crossing_districts_or_splitting_buildings(hood):
    summary = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30, actor=hood.organizer)
    in_turfs = _active_doors(hood.campaign)
    assert sorted(in_turfs) == sorted(d.pk for d in hood.hood_doors)
    assert summary.doors == len(hood.hood_doors)
    district_of = {d.pk: (hood.west.pk if d.lng < -118.46 else hood.east.pk) for d in hood.hood_doors}
    building_of = {d.pk: d.building_key for d in hood.hood_doors}
    turfs = Turf.objects.filter(campaign=hood.campaign, status=Turf.Status.ACTIVE).prefetch_related("turf_doors")
    buildings: dict[str, int] = {}
    for turf in turfs:
        door_ids = [td.door_id for td in turf.turf_doors.all()]
        assert {district_of[i] for i in door_ids} == {turf.district_id}
        assert sorted(td.position for td in turf.turf_doors.all()) == list(range(len(door_ids)))
        assert turf.door_count == len(door_ids)
        assert turf.walk_distance_m and turf.walk_distance_m > 0
        assert turf.walk_minutes and turf.walk_minutes > 0
        assert turf.compactness is not None and 0 < turf.compactness <= 1
        assert turf.district is not None and turf.polygon is not None
        assert turf.polygon["type"] in ("Polygon", "MultiPolygon")
        assert turf.name.startswith(turf.district.name)
        for i in door_ids:
            assert buildings.setdefault(building_of[i], turf.pk) == turf.pk
    # The 12 apartments walk together.
    apartment_turf = {buildings["b:apartments"]}
    assert len(apartment_turf) == 1
    assert AuditLogEntry.objects.filter(action="turfs.cut", organization=hood.org).count() == 1


@pytest.mark.django_db
def test_polygons_of_one_district_do_not_overlap_and_contain_their_doors(hood):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    for district in (hood.west, hood.east):
        turfs = list(Turf.objects.filter(district=district, status=Turf.Status.ACTIVE).prefetch_related("doors"))
        shapes = [shape(t.polygon or {}) for t in turfs]
        for i in range(len(shapes)):
            for j in range(i + 1, len(shapes)):
                assert shapes[i].intersection(shapes[j]).area < 1e-10
        for turf, polygon in zip(turfs, shapes, strict=True):
            for door in turf.doors.all():
                assert door.lng is not None and door.lat is not None
                assert polygon.buffer(1e-7).contains(shapely.Point(door.lng, door.lat))


@pytest.mark.django_db
def test_cut_twice_refuses_then_replace_archives_unassigned_turfs_only(hood):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=40)
    with pytest.raises(Exception, match="already in active turfs"):
        turf_services.turfs_cut(campaign=hood.campaign, target_doors=40)
    busy = Turf.objects.filter(campaign=hood.campaign, status=Turf.Status.ACTIVE).first()
    assert busy is not None
    assignment = f.AssignmentFactory(turf=busy, created_by=hood.organizer)
    f.AssignmentCanvasserFactory(assignment=assignment, user=hood.canvasser)
    busy_doors = set(busy.turf_doors.values_list("door_id", flat=True))
    summary = turf_services.turfs_cut(campaign=hood.campaign, target_doors=40, replace=True)
    busy.refresh_from_db()
    assert busy.status == Turf.Status.ACTIVE
    assert summary.archived >= 1
    assert summary.skipped_in_turfs == len(busy_doors)
    doors = _active_doors(hood.campaign)
    assert len(doors) == len(set(doors)) == len(hood.hood_doors)


@pytest.mark.django_db
def test_only_unknocked_leaves_out_doors_knocked_in_this_campaign(hood):
    knocked = hood.hood_doors[:5]
    code = f.ResultCodeFactory(organization=hood.org)
    for door in knocked:
        _attempt(hood, door, code)
    summary = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30, only_unknocked=True)
    assert summary.doors == len(hood.hood_doors) - 5
    assert not set(_active_doors(hood.campaign)) & {d.pk for d in knocked}


def _attempt(hood, door, code):
    f.ContactAttemptFactory(campaign=hood.campaign, door=door, canvasser=hood.canvasser, result_code=code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "message"),
    [(0, "1 or more"), (-5, "1 or more"), (10_000, "larger than the 132 doors")],
)
def test_cut_bad_targets_change_nothing(hood, target, message):
    with pytest.raises(Exception, match=message):
        turf_services.turfs_cut(campaign=hood.campaign, target_doors=target)
    assert not Turf.objects.filter(campaign=hood.campaign, status=Turf.Status.ACTIVE).exists()


@pytest.mark.django_db
def test_cut_of_an_empty_universe_says_what_to_fix(hood):
    hood.campaign.target_districts.clear()
    with pytest.raises(Exception, match="universe is empty"):
        turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)


@pytest.mark.django_db
def test_cut_turfs_command_prints_a_summary_and_export_writes_walk_order(hood, tmp_path):
    out = io.StringIO()
    call_command("cut_turfs", "--campaign", "venice-canvass", "--target-doors", "30", "--layer", "Council", stdout=out)
    text = out.getvalue()
    assert "turfs from 132 doors" in text
    assert "CD 1 001" in text
    path = tmp_path / "turfs.csv"
    call_command("export_turfs", "--campaign", "venice-canvass", "--output", str(path), stderr=io.StringIO())
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 132
    assert set(rows[0]) >= {"door_id", "source_id", "turf", "walk_order", "address"}
    by_turf: dict[str, list[int]] = {}
    for row in rows:
        by_turf.setdefault(row["turf"], []).append(int(row["walk_order"]))
    for orders in by_turf.values():
        assert orders == list(range(1, len(orders) + 1))
    assert any(r["source_id"].startswith("src-") for r in rows)
    assert AuditLogEntry.objects.filter(action="turfs.export", detail__rows=132).exists()


@pytest.mark.django_db
def test_cut_turfs_command_bad_input(hood):
    with pytest.raises(CommandError, match="No campaign"):
        call_command("cut_turfs", "--campaign", "nope", "--target-doors", "30")
    with pytest.raises(CommandError, match="No layer 'Assembly'; this organization has: Council"):
        call_command("cut_turfs", "--campaign", "venice-canvass", "--target-doors", "30", "--layer", "Assembly")
    with pytest.raises(CommandError, match="1 or more"):
        call_command("cut_turfs", "--campaign", "venice-canvass", "--target-doors", "0")


# ------------------------------------------------------------------ API: cut jobs


@pytest.fixture
def sync_tasks(monkeypatch):
    """Run django-q2 tasks in the request, as a worker would, so tests need no cluster."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.mark.django_db(transaction=True)
def test_cut_through_the_api_runs_a_job_and_reports_progress(hood, sync_tasks):
    client = client_for(hood.organizer)
    response = client.post(
        f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/",
        {"target_doors": 30, "layer": hood.layer.pk},
        format="json",
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    job = client.get(f"/api/v1/turf-cut-jobs/{job_id}/").json()
    assert job["status"] == "done", job
    assert job["summary"]["doors"] == 132
    assert job["summary"]["turfs"] == job["done"] == job["total"] > 1
    assert "turfs of" in job["message"]
    # A second delivery of the same task does nothing.
    assert turf_services.turf_cut_job_run(job_id=job_id) is None
    assert Turf.objects.filter(campaign=hood.campaign, status=Turf.Status.ACTIVE).count() == job["summary"]["turfs"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_cut_job_says_why_and_writes_nothing(hood, sync_tasks):
    client = client_for(hood.organizer)
    response = client.post(f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/", {"target_doors": 5000}, format="json")
    job = client.get(f"/api/v1/turf-cut-jobs/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert "larger than the 132 doors" in job["message"]
    assert not Turf.objects.filter(campaign=hood.campaign, status=Turf.Status.ACTIVE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "target_doors"),
        ({"target_doors": 0}, "target_doors"),
        ({"target_doors": "sixty"}, "target_doors"),
        ({"target_doors": 30, "layer": "x"}, "layer"),
        ({"target_doors": 30, "only_unknocked": "maybe"}, "only_unknocked"),
    ],
)
def test_cut_api_bad_input(hood, body, field):
    response = client_for(hood.organizer).post(f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not TurfCutJob.objects.exists()


@pytest.mark.django_db
def test_cut_api_refuses_foreign_campaigns_layers_and_non_organizers(hood):
    other_campaign = f.CampaignFactory(organization=hood.other_org, slug="theirs")
    other_layer = f.DistrictLayerFactory(organization=hood.other_org, name="Theirs")
    organizer = client_for(hood.organizer)
    assert (
        organizer.post(
            f"/api/v1/campaigns/{other_campaign.pk}/cut-turfs/", {"target_doors": 30}, format="json"
        ).status_code
        == 404
    )
    response = organizer.post(
        f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/", {"target_doors": 30, "layer": other_layer.pk}, format="json"
    )
    assert response.status_code == 400 and "layer" in response.json()["errors"]
    for user in (hood.canvasser, hood.outsider):
        response = client_for(user).post(
            f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/", {"target_doors": 30}, format="json"
        )
        assert response.status_code in (403, 404)
    assert client_for(None).post(
        f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/", {"target_doors": 30}
    ).status_code in (401, 403)
    assert not TurfCutJob.objects.exists()


@pytest.mark.django_db
def test_malformed_json_gets_a_json_400(hood):
    response = client_for(hood.organizer).post(
        f"/api/v1/campaigns/{hood.campaign.pk}/cut-turfs/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    response = client_for(hood.organizer).post("/api/v1/turfs/", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400


# ------------------------------------------------------------------ API: list


@pytest.mark.django_db
def test_turf_list_is_scoped_and_has_constant_queries(hood, django_assert_max_num_queries):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    organizer = client_for(hood.organizer)
    with django_assert_max_num_queries(6):
        response = organizer.get(f"/api/v1/turfs/?campaign={hood.campaign.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Turf.objects.filter(campaign=hood.campaign, status="active").count()
    first = body["results"][0]
    assert first["polygon"]["type"] in ("Polygon", "MultiPolygon")
    assert first["district"]["layer"] == "Council"
    assert (
        organizer.get("/api/v1/turfs/?status=all").json()["count"]
        == Turf.objects.filter(campaign=hood.campaign).count()
    )
    assert organizer.get("/api/v1/turfs/?campaign=abc").status_code == 400
    assert organizer.get("/api/v1/turfs/?status=gone").status_code == 400
    # The outsider sees none of venice's turfs, even by id.
    outsider = client_for(hood.outsider)
    assert outsider.get("/api/v1/turfs/?status=all").json()["count"] == 0
    assert outsider.get(f"/api/v1/turfs/{first['id']}/").status_code == 404
    assert outsider.get(f"/api/v1/turfs/geojson/?campaign={hood.campaign.pk}").json()["features"] == []
    # A canvasser uses the walk list, not the organizer's turf list.
    assert client_for(hood.canvasser).get("/api/v1/turfs/").status_code == 403


@pytest.mark.django_db
def test_turf_geojson_and_detail(hood):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    organizer = client_for(hood.organizer)
    collection = organizer.get(f"/api/v1/turfs/geojson/?campaign={hood.campaign.pk}").json()
    assert collection["type"] == "FeatureCollection"
    feature = collection["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["door_count"] > 0
    detail = organizer.get(f"/api/v1/turfs/{feature['id']}/").json()
    assert [d["walk_order"] for d in detail["doors"]] == list(range(1, feature["properties"]["door_count"] + 1))
    assert detail["doors"][0]["address"]
    assert organizer.get("/api/v1/turfs/999999/").status_code == 404


# ------------------------------------------------------------------ API: draw


@pytest.mark.django_db
def test_draw_a_turf_and_report_doors_already_in_turfs(hood):
    organizer = client_for(hood.organizer)
    first = organizer.post(
        "/api/v1/turfs/",
        {
            "campaign": hood.campaign.pk,
            "name": "Alpha west",
            "polygon": f.rectangle(-118.4755, 33.984, -118.468, 33.986),
        },
        format="json",
    )
    assert first.status_code == 201, first.content
    alpha_west = first.json()["turf"]
    assert alpha_west["name"] == "Alpha west"
    assert alpha_west["door_count"] > 0
    assert first.json()["already_in_turfs"] == []
    second = organizer.post(
        "/api/v1/turfs/",
        {"campaign": hood.campaign.pk, "polygon": f.rectangle(-118.4755, 33.984, -118.46, 33.986)},
        format="json",
    )
    assert second.status_code == 201
    reported = second.json()["already_in_turfs"]
    assert len(reported) == alpha_west["door_count"]
    assert {r["turf"] for r in reported} == {"Alpha west"}
    # Named after its number in the campaign: "Alpha west" is turf 1.
    assert second.json()["turf"]["name"] == "Drawn 002"
    doors = _active_doors(hood.campaign)
    assert len(doors) == len(set(doors))
    assert AuditLogEntry.objects.filter(action="turf.draw").count() == 2
    # Drawn again where every door is taken: the doors' turfs refuse it (409), saying what would work.
    taken = organizer.post(
        "/api/v1/turfs/",
        {"campaign": hood.campaign.pk, "polygon": f.rectangle(-118.4755, 33.984, -118.468, 33.986)},
        format="json",
    )
    assert taken.status_code == 409, taken.content
    assert taken.json()["errors"] == {
        "polygon": [
            f"All {alpha_west['door_count']} doors inside the polygon are already in active turfs of this campaign; "
            "archive or split those turfs first, or draw where doors are free."
        ]
    }
    assert AuditLogEntry.objects.filter(action="turf.draw").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("polygon", "message"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[-118.47, 33.98], [-118.46, 34.0], [-118.46, 33.98], [-118.47, 34.0], [-118.47, 33.98]]
                ],
            },
            "not valid",
        ),
        (f.rectangle(-118.40, 33.90, -118.39, 33.91), "contains no doors"),
        ({"type": "Point", "coordinates": [-118.46, 33.99]}, "only Polygon"),
        ("a polygon", "GeoJSON geometry object"),
        (f.rectangle(-200, 33.9, -118.39, 33.91), "outside the world"),
        ({"type": "Polygon", "coordinates": [[[0, 0]] * 25_000]}, "more than 20000 points"),
    ],
)
def test_draw_bad_polygons_are_refused_and_change_nothing(hood, polygon, message):
    response = client_for(hood.organizer).post(
        "/api/v1/turfs/", {"campaign": hood.campaign.pk, "polygon": polygon}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in json.dumps(response.json())
    assert not Turf.objects.filter(status=Turf.Status.ACTIVE).exists()


@pytest.mark.django_db
def test_draw_in_a_foreign_campaign_or_with_a_taken_name_is_refused(hood):
    other_campaign = f.CampaignFactory(organization=hood.other_org, slug="theirs")
    organizer = client_for(hood.organizer)
    square = f.rectangle(-118.4755, 33.984, -118.468, 33.986)
    response = organizer.post("/api/v1/turfs/", {"campaign": other_campaign.pk, "polygon": square}, format="json")
    assert response.status_code == 400 and "campaign" in response.json()["errors"]
    # Names are unique among the campaign's active turfs (the hood's Turf A is archived).
    f.TurfFactory(campaign=hood.campaign, name="Taken")
    response = organizer.post(
        "/api/v1/turfs/", {"campaign": hood.campaign.pk, "name": "Taken", "polygon": square}, format="json"
    )
    assert response.status_code == 400 and "name" in response.json()["errors"]
    response = client_for(hood.canvasser).post(
        "/api/v1/turfs/", {"campaign": hood.campaign.pk, "polygon": square}, format="json"
    )
    assert response.status_code == 403
    # A polygon is a GeoJSON object: a form cannot carry it, the body is JSON (415 otherwise).
    form = organizer.post("/api/v1/turfs/", {"campaign": hood.campaign.pk, "polygon": json.dumps(square)})
    assert form.status_code == 415 and form.json()["errors"] == {}
    assert not Turf.objects.filter(campaign=hood.campaign, name__startswith="Drawn").exists()


# ------------------------------------------------------------------ API: split, merge, archive


@pytest.mark.django_db
def test_split_and_merge(hood):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=60)
    organizer = client_for(hood.organizer)
    turf = (
        Turf.objects.filter(campaign=hood.campaign, status="active", district=hood.west).order_by("-door_count").first()
    )
    assert turf is not None
    doors = set(turf.turf_doors.values_list("door_id", flat=True))
    response = organizer.post(f"/api/v1/turfs/{turf.pk}/split/", {"parts": 2}, format="json")
    assert response.status_code == 201, response.content
    parts = response.json()["turfs"]
    assert len(parts) == 2
    turf.refresh_from_db()
    assert turf.status == Turf.Status.ARCHIVED
    split_doors = set(TurfDoor.objects.filter(turf_id__in=[p["id"] for p in parts]).values_list("door_id", flat=True))
    assert split_doors == doors
    response = organizer.post(
        "/api/v1/turfs/merge/", {"turfs": [p["id"] for p in parts], "name": "Together again"}, format="json"
    )
    assert response.status_code == 201, response.content
    merged = response.json()
    assert merged["name"] == "Together again"
    assert merged["door_count"] == len(doors)
    assert set(TurfDoor.objects.filter(turf_id=merged["id"]).values_list("door_id", flat=True)) == doors
    active = _active_doors(hood.campaign)
    assert len(active) == len(set(active)) == len(hood.hood_doors)


@pytest.mark.django_db
def test_split_merge_archive_bad_input(hood):
    turf_services.turfs_cut(campaign=hood.campaign, target_doors=30)
    organizer = client_for(hood.organizer)
    turfs = list(Turf.objects.filter(campaign=hood.campaign, status="active"))
    busy = turfs[0]
    assignment = f.AssignmentFactory(turf=busy, created_by=hood.organizer)
    f.AssignmentCanvasserFactory(assignment=assignment, user=hood.canvasser)
    response = organizer.post(f"/api/v1/turfs/{busy.pk}/split/", {"parts": 2}, format="json")
    # The turf's state refuses it (409), and the answer says what would work.
    assert response.status_code == 409
    assert response.json()["errors"] == {
        "turfs": [f"Canvassers are assigned to {busy.name}: end those assignments first."]
    }
    assert response.json()["detail"] == response.json()["errors"]["turfs"][0]
    archive_busy = organizer.post(f"/api/v1/turfs/{busy.pk}/archive/")
    assert archive_busy.status_code == 409 and "end those assignments first" in archive_busy.json()["detail"]
    assert organizer.post(f"/api/v1/turfs/{turfs[1].pk}/split/", {"parts": 1}, format="json").status_code == 400
    assert organizer.post(f"/api/v1/turfs/{turfs[1].pk}/split/", {"parts": 500}, format="json").status_code == 400
    assert organizer.post("/api/v1/turfs/merge/", {"turfs": [turfs[1].pk]}, format="json").status_code == 400
    assert (
        organizer.post("/api/v1/turfs/merge/", {"turfs": [turfs[1].pk, turfs[1].pk]}, format="json").status_code == 400
    )
    assert organizer.post("/api/v1/turfs/merge/", {"turfs": "1,2"}, format="json").status_code == 400
    foreign = f.TurfFactory(campaign=f.CampaignFactory(organization=hood.other_org, slug="theirs"))
    response = organizer.post("/api/v1/turfs/merge/", {"turfs": [turfs[1].pk, foreign.pk]}, format="json")
    assert response.status_code == 400 and str(foreign.pk) in json.dumps(response.json())
    assert organizer.post(f"/api/v1/turfs/{foreign.pk}/split/", {"parts": 2}, format="json").status_code == 404
    response = organizer.post(f"/api/v1/turfs/{turfs[1].pk}/archive/")
    assert response.status_code == 200 and response.json()["status"] == "archived"
    response = organizer.post("/api/v1/turfs/merge/", {"turfs": [turfs[1].pk, turfs[2].pk]}, format="json")
    assert response.status_code == 409
    archived = f"Turf {turfs[1].name!r} is archived; only active turfs can change."
    assert response.json()["errors"] == {"turfs": [archived]}
    again = organizer.post(f"/api/v1/turfs/{turfs[1].pk}/archive/")
    assert again.status_code == 409 and "is archived; only active turfs can change" in again.json()["detail"]
    split_archived = organizer.post(f"/api/v1/turfs/{turfs[1].pk}/split/", {"parts": 2}, format="json")
    assert split_archived.status_code == 409
    assert client_for(hood.canvasser).post(f"/api/v1/turfs/{turfs[2].pk}/archive/").status_code == 403
    assert client_for(hood.outsider).post(f"/api/v1/turfs/{turfs[2].pk}/archive/").status_code == 404
