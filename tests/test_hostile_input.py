"""No input reaches a 500: every API operation, as each of the three standard users,
with ids beyond 64 bits in the path, the query and the body, a form-encoded body,
a text/plain body, an empty body, JSON that is not an object, and deeply nested JSON;
then every day, moment and range a request, the admin export page or a command
takes, at the calendar's edges (a 400, a form error or a CommandError naming it).

The operations come from the OpenAPI schema (tests/endpoints.py), not a list
kept here. Every 4xx carries the project's error shape: {"detail": str, "errors": ...}.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from canvass.field import services as field_services
from canvass.models import ShiftSignup, TurfCutJob
from canvass.stats import exports
from fieldops.services import device_token_create
from tests import factories as f
from tests.endpoints import api_operations, fill, path_parameters
from tests.factories import admin_client

HUGE = 2**70
USERS = ("organizer", "canvasser", "outsider")
# Every id field any endpoint takes, all beyond 64 bits.
HUGE_FIELDS = {
    "turf": HUGE,
    "turfs": [HUGE, HUGE + 1],
    "campaign": HUGE,
    "canvassers": [HUGE],
    "user": HUGE,
    "shift": HUGE,
    "layer": HUGE,
    "target_doors": HUGE,
    "parts": HUGE,
}
HUGE_QUERY = {"turf": HUGE, "campaign": HUGE, "layer": HUGE, "page": HUGE, "page_size": HUGE, "assignments": HUGE}


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _valid_body(world) -> dict:
    """A body that names real venice objects, to get past the first checks."""
    now = timezone.now().isoformat()
    return {
        "name": "x",
        "turf": world.turf.pk,
        "turfs": [world.turf.pk],
        "campaign": world.campaign.pk,
        "canvassers": [world.canvasser.pk],
        "user": world.canvasser.pk,
        "target_doors": 10,
        "starts_at": now,
        "ends_at": now,
        "device_id": "phone",
        "sent_at": now,
        "attempts": [{"id": "6f1c2b8e-0000-4000-8000-000000000001", "door": HUGE, "assignment": HUGE}],
    }


# name -> (path ids: "real" or "huge", how to send the body)
VARIANTS = {
    "huge-path-ids": ("huge", "json-valid"),
    "huge-json-ids": ("real", "json-huge"),
    "huge-form-ids": ("real", "form-huge"),
    "huge-query-ids": ("real", "query-huge"),
    "text-plain": ("real", "text"),
    "empty-body": ("real", "empty"),
    "json-not-an-object": ("real", "json-list"),
    "json-nested-deep": ("real", "json-deep"),
    "json-nested-very-deep": ("real", "json-very-deep"),
    "malformed-json": ("real", "json-malformed"),
    "unknown-content-type": ("real", "xml"),
}


@pytest.fixture
def real_ids(world):
    shift = f.ShiftFactory(organization=world.org, campaign=world.campaign)
    ShiftSignup.objects.create(shift=shift, user=world.canvasser)
    token = device_token_create(user=world.canvasser, device_id="carlos-phone").token
    job = TurfCutJob.objects.create(organization=world.org, campaign=world.campaign, target_doors=60)
    return {
        "shift_id": shift.pk,
        "assignment_id": world.assignment.pk,
        "turf_id": world.turf.pk,
        "campaign_id": world.campaign.pk,
        "job_id": job.pk,
        "token_id": token.pk,
    }


def _send(client, method: str, url: str, how: str, world):
    call = getattr(client, method.lower())
    if how == "query-huge":
        return call(url + "?" + "&".join(f"{k}={v}" for k, v in HUGE_QUERY.items()))
    if method == "GET":
        return call(url)
    if how == "json-valid":
        return call(url, _valid_body(world), format="json")
    if how == "json-huge":
        return call(url, {**_valid_body(world), **HUGE_FIELDS}, format="json")
    if how == "form-huge":
        form = "&".join(f"{k}={item}" for k, v in HUGE_FIELDS.items() for item in (v if isinstance(v, list) else [v]))
        return call(url, form, content_type="application/x-www-form-urlencoded")
    if how == "text":
        return call(url, "user=1180591620717411303424", content_type="text/plain")
    if how == "empty":
        return call(url)
    if how == "json-list":
        return call(url, json.dumps([HUGE, {"user": HUGE}]), content_type="application/json")
    if how == "json-deep":
        return call(
            url,
            json.dumps({"user": json.loads(_nested(200)), "polygon": json.loads(_nested(200))}),
            content_type="application/json",
        )
    if how == "json-very-deep":
        return call(url, '{"user": ' + _nested(100_000) + "}", content_type="application/json")
    if how == "json-malformed":
        return call(url, '{"user": 1,', content_type="application/json")
    if how == "xml":
        return call(url, "<user>1</user>", content_type="application/xml")
    raise AssertionError(how)


def _cases() -> list[tuple[str, str, str]]:
    """(method, path, variant): a GET tries its path and query; other methods every body."""
    cases = []
    for method, path in api_operations():
        for variant, (ids, how) in VARIANTS.items():
            if ids == "huge" and not path_parameters(path):
                continue  # no id in the path
            if method == "GET" and how not in ("query-huge", "json-valid"):
                continue  # a GET has no body
            if method != "GET" and how == "query-huge":
                continue
            cases.append((method, path, variant))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "variant"), _cases())
def test_no_input_reaches_a_server_error(world, real_ids, fresh_login_throttle, method, path, variant):
    ids, how = VARIANTS[variant]
    values = {name: HUGE for name in path_parameters(path)} if ids == "huge" else real_ids
    url = fill(path, values)
    for name in USERS:
        response = _send(_client(getattr(world, name)), method, url, how, world)
        assert response.status_code < 500, (name, method, url, variant, response.content[:300])
        if response.status_code >= 400:
            body = response.json()
            assert isinstance(body.get("detail"), str), (name, method, url, variant, body)
        if ids == "huge":
            assert response.status_code in (400, 403, 404), (name, method, url, response.status_code)


@pytest.mark.django_db
def test_a_form_encoded_no_show_with_a_huge_user_id_is_a_400(world, real_ids):
    """The case schemathesis found: a 500 for the organizer and the outsider."""
    url = f"/api/v1/shifts/{real_ids['shift_id']}/no-show/"
    response = _client(world.organizer).post(url, f"user={HUGE}", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"user"}
    assert (
        _client(world.outsider).post(url, f"user={HUGE}", content_type="application/x-www-form-urlencoded").status_code
        == 404
    )


@pytest.mark.django_db
def test_a_huge_id_in_the_path_is_a_json_404(world):
    response = _client(world.organizer).get(f"/api/v1/shifts/{HUGE}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


@pytest.mark.django_db
def test_deeply_nested_json_is_a_400_with_a_message(world):
    response = _client(world.canvasser).post(
        "/api/v1/sync/push/", '{"attempts": ' + _nested(100_000) + "}", content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.django_db
def test_an_unsupported_content_type_is_a_415_with_a_message(world):
    response = _client(world.organizer).post("/api/v1/turfs/merge/", "turfs=1", content_type="text/plain")
    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]


# --- Days, moments and ranges at the calendar's edges (fieldops/date_bounds.py) ------------

EDGE_MOMENTS = (
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59+00:00",
    "1969-12-31T23:59:59+00:00",
)


def _cursor(at: str, organization_id: int) -> str:
    raw = json.dumps({"v": 1, "o": organization_id, "s": 0, "t": at}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.django_db
@pytest.mark.parametrize("at", EDGE_MOMENTS)
def test_a_pull_cursor_at_the_edge_of_the_calendar_is_a_400_naming_the_cursor(world, at):
    response = _client(world.canvasser).get("/api/v1/sync/pull/", {"cursor": _cursor(at, world.org.pk)})
    assert response.status_code == 400, response.content
    assert "out of range" in str(response.json()["errors"]["cursor"])


@pytest.mark.django_db
def test_a_pull_cursor_in_range_still_works(world):
    response = _client(world.canvasser).get(
        "/api/v1/sync/pull/", {"cursor": _cursor("2026-01-01T00:00:00+00:00", world.org.pk)}
    )
    assert response.status_code == 200, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["districts", "days", "turfs", "canvassers"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, "date_from"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_from": "1970-01-01", "date_to": "2100-12-31"}, "date_to"),  # longer than MAX_RANGE_DAYS
    ],
)
def test_stats_dates_at_the_edge_of_the_calendar_are_a_400_naming_the_field(world, view, params, field):
    response = _client(world.organizer).get(f"/api/v1/stats/campaigns/{world.campaign.pk}/{view}/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "9999-12-31"}, "date_from"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_from": "2026-01-02", "date_to": "2026-01-01"}, "date_to"),
        ({"date_from": "1970-01-01", "date_to": "2100-12-31"}, "date_to"),
    ],
)
def test_the_van_export_page_answers_a_form_error_for_dates_out_of_bounds(world, fmt, params, field):
    client = admin_client(world.organizer)
    response = client.get(f"/admin/canvass/campaign/{world.campaign.pk}/export-van/", {"format": fmt, **params})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Content-Disposition" not in response


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "9999-12-31"], "--to: Give a day between 1970-01-01 and 2100-12-31."),
        (["--from", "0001-01-01"], "--from: Give a day between"),
        (["--from", "2000-01-01", "--to", "2020-01-01"], "--to: Ask for at most 3660 days"),
        (["--from", "2026-01-02", "--to", "2026-01-01"], "--to is before --from"),
    ],
)
def test_the_export_van_command_says_which_date_to_fix(world, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export_van", "--campaign", world.campaign.slug, *args)


@pytest.mark.django_db
def test_the_export_service_refuses_days_out_of_bounds(world):
    with pytest.raises(DjangoValidationError):
        exports.export_van_csv(campaign=world.campaign, actor=None, date_to=dt.date.max)


@pytest.mark.django_db
@pytest.mark.parametrize("at", [*EDGE_MOMENTS, "2101-01-01T00:00:00Z"])
def test_shift_and_assignment_times_beyond_the_calendars_bounds_are_a_400(world, at):
    client = _client(world.organizer)
    shift = client.post(
        "/api/v1/shifts/",
        {"campaign": world.campaign.pk, "name": "x", "starts_at": "2026-11-20T09:00:00Z", "ends_at": at},
        format="json",
    )
    assert shift.status_code == 400 and "ends_at" in shift.json()["errors"], shift.content
    assignment = client.post(
        "/api/v1/assignments/",
        {"turf": world.turf.pk, "canvassers": [world.canvasser.pk], "starts_at": at},
        format="json",
    )
    assert assignment.status_code == 400 and "starts_at" in assignment.json()["errors"], assignment.content


@pytest.mark.django_db
def test_the_field_services_refuse_times_beyond_the_calendars_bounds(world):
    """The admin and the commands write through the services: the same bound."""
    far = dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC)
    with pytest.raises(DjangoValidationError) as caught:
        field_services.assignment_update(
            assignment=world.assignment, actor=world.organizer, starts_at=world.assignment.starts_at, ends_at=far
        )
    assert set(caught.value.message_dict) == {"ends_at"}
