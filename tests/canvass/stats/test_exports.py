"""VAN exports: the CSV layout, canvassResponses bodies (a result code or responses,
never both), unmapped codes reported, the audit log, the admin page and the command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from canvass.models import ContactAttempt, ResultCode
from canvass.stats import exports
from fieldops.models import AuditLogEntry
from tests import factories as f
from tests.canvass.stats_world import LA, knock, setup_script
from tests.factories import admin_client

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 20)


@pytest.fixture
def van(hood):
    world = setup_script(hood)
    q1, q2 = world.questions
    q1.van_survey_question_id = 1001
    q1.save()
    for i, option in enumerate(world.options[q1.pk]):
        option.van_survey_response_id = 2000 + i
        option.save()
    # q2 and its options stay unmapped.
    ResultCode.objects.filter(organization=world.org, code="not_home").update(van_result_code_id=1)
    ResultCode.objects.filter(organization=world.org, code="refused").update(van_result_code_id=2)
    doors = world.hood_doors
    people = [
        f.PersonFactory(door=d, organization=world.org, external_voter_id=str(100200 + i))
        for i, d in enumerate(doors[:5])
    ]
    at = dt.datetime.combine(DAY, dt.time(18, 30), tzinfo=LA)  # 02:30 UTC the next day
    y = world.options[q1.pk][0]
    v2 = world.options[q2.pk][1]
    world.knocks = [
        knock(world, door=doors[0], at=at, answers={str(q1.pk): y.pk, str(q2.pk): v2.pk}, support=1),
        knock(world, door=doors[1], code="not_home", at=at),
        knock(world, door=doors[2], code="refused", at=at),
        knock(world, door=doors[3], code="moved", at=at),  # no VAN id for "moved"
        knock(world, door=doors[4], code="canvassed", at=at, answers={str(q2.pk): v2.pk}),  # only unmapped answers
        knock(world, door=doors[5], code="not_home", at=at),  # no person at this door
        knock(world, door=doors[1], code="not_home", at=at - dt.timedelta(days=3)),  # outside a one-day range
    ]
    for attempt, person in zip(world.knocks, [*people, None, people[1]], strict=True):
        attempt.person = person
    ContactAttempt.objects.bulk_create(world.knocks)
    return world


def test_csv_layout(van):
    result = exports.export_van_csv(campaign=van.campaign, actor=van.organizer, date_from=DAY, date_to=DAY)
    assert result.content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(result.content.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["VANID", "Date Canvassed", "Contact Type", "Result Code ID", "Result"]
    assert header[5:7] == ["Support? [SQ 1001]", "Volunteer? [not mapped]"]
    assert result.rows == len(body) == 3
    by_voter = {row[0]: row for row in body}
    assert by_voter["100200"][1:7] == ["11/20/2026", "Walk", "", "Canvassed", "2000", ""]
    assert by_voter["100201"][3:5] == ["1", "Not home"]
    assert by_voter["100202"][3] == "2"
    skipped = result.problems["skipped"]
    assert skipped == {
        "result code without a VAN result code id: moved": 1,
        "canvassed with no answer mapped to VAN": 1,
        "no voter id (knock not linked to a person with a VAN id)": 1,
    }
    assert result.problem_count == 3
    assert "question without a VAN survey question id: Volunteer?" in result.problems["unmapped"]


def test_canvass_responses_json_is_a_result_or_responses_never_both(van):
    result = exports.export_van_json(campaign=van.campaign, actor=van.organizer)
    items = result.content["items"]
    assert result.rows == len(items) == 4  # the late not-home is in: no date range
    for item in items:
        body = item["body"]
        assert (body["resultCodeId"] is None) != (body["responses"] is None)
        assert body["canvassContext"]["contactTypeId"] == 2
        assert isinstance(item["vanId"], int)
    canvassed = next(i for i in items if i["vanId"] == 100200)["body"]
    assert canvassed["responses"] == [{"type": "SurveyResponse", "surveyQuestionId": 1001, "surveyResponseId": 2000}]
    # The local time of the knock, with its offset: 18:30 in Los Angeles.
    assert canvassed["canvassContext"]["dateCanvassed"] == "2026-11-20T18:30:00-08:00"
    not_home = [i["body"] for i in items if i["vanId"] == 100201]
    assert {b["resultCodeId"] for b in not_home} == {1}
    json.dumps(result.content)


def test_every_export_is_audited(van):
    exports.export_van_csv(campaign=van.campaign, actor=van.organizer, date_from=DAY, date_to=DAY)
    exports.export_van_json(campaign=van.campaign, actor=None)
    entries = list(AuditLogEntry.objects.filter(action__startswith="export.").order_by("created_at", "id"))
    assert [(e.action, e.actor, e.detail["rows"]) for e in entries] == [
        ("export.van_csv", van.organizer, 3),
        ("export.van_json", None, 4),
    ]
    assert entries[0].detail["date_from"] == "2026-11-20" and entries[0].detail["skipped"] == 3
    assert entries[0].object_id == str(van.campaign.pk) and entries[0].organization == van.org


def test_admin_export_page_and_download(van):
    client = admin_client(van.organizer)
    url = f"/admin/canvass/campaign/{van.campaign.pk}/export-van/"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Moved" in text and "Volunteer?" in text  # what is not mapped yet
    download = client.get(url, {"format": "csv", "date_from": "2026-11-20", "date_to": "2026-11-20"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert 'filename="venice-canvass-van-2026-11-20-2026-11-20.csv"' in download["Content-Disposition"]
    assert download["X-Fieldops-Rows"] == "3"
    as_json = client.get(url, {"format": "json"})
    assert json.loads(as_json.content)["count"] == 4
    bad = client.get(url, {"format": "xml"})
    assert bad.status_code == 200 and "format" in bad.context["form"].errors
    backwards = client.get(url, {"format": "csv", "date_from": "2026-11-21", "date_to": "2026-11-20"})
    assert backwards.context["form"].errors
    assert AuditLogEntry.objects.filter(action__startswith="export.").count() == 2
    assert admin_client(van.outsider).get(url, {"format": "csv"}).status_code == 404
    assert AuditLogEntry.objects.filter(action__startswith="export.").count() == 2


def test_export_command(van, tmp_path, capsys):
    out = tmp_path / "van.csv"
    call_command("export_van", "--campaign", van.campaign.slug, "--from", "2026-11-20", "--output", str(out))
    assert out.read_text(encoding="utf-8").count("\n") == 4
    err = capsys.readouterr().err
    assert "3 knocks exported" in err and "left out: 1 × result code without a VAN result code id: moved" in err
    call_command("export_van", "--campaign", van.campaign.slug, "--format", "json")
    assert json.loads(capsys.readouterr().out)["count"] == 4
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_van", "--campaign", "nope")
    with pytest.raises(CommandError):
        call_command("export_van", "--campaign", van.campaign.slug, "--from", "2026-11-21", "--to", "2026-11-20")
