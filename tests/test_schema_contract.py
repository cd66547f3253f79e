"""The OpenAPI schema and the code agree: push items the schema allows are accepted, values it refuses are refused.

The push is validated by hand (canvass/sync/serializers.py); its schema
(canvass/sync/schemas.py) is written beside it. Here:

- items generated from the schema's PushItem (`from_schema` below) pass the
  validator, and envelopes generated from PushRequest pass the envelope check;
  two rules JSON Schema cannot state are applied to the generated item, as its
  description states them: recorded_at lies in the window around the batch's
  sent_at, and lat and lng come together;
- for every constrained field, the values just inside each bound are accepted
  by both, the values just outside (and values of the wrong type) refused by both;
- the batch limit is the setting's, in the schema and in the API (413);
- answers of push, pull (snapshot and incremental) and the walk list conform to their schemas.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import uuid
from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from canvass.sync.serializers import ITEM_FIELDS, parse_attempt, parse_push_envelope
from fieldops.services import device_token_create

SENT_AT = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)


def openapi() -> dict:
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def json_schema(document: dict, name: str) -> dict:
    """components.schemas[name] as plain JSON Schema: $refs inlined, OpenAPI 3.0's nullable and
    x-propertyNames turned into JSON Schema's null type and propertyNames."""
    components = document["components"]["schemas"]

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return convert(components[node["$ref"].rsplit("/", 1)[1]])
        out = {key: convert(value) for key, value in node.items() if key not in ("nullable", "x-propertyNames")}
        out.pop("description", None)
        if "x-propertyNames" in node:
            out["propertyNames"] = node["x-propertyNames"]
        if node.get("nullable"):
            out = {"anyOf": [out, {"type": "null"}]}
        return out

    return convert(copy.deepcopy(components[name]))


# The two formats the schemas use, checked as their RFCs define them (jsonschema checks
# them only with optional packages this project does not install).
FORMAT_CHECKER = jsonschema.FormatChecker([])
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # a format says nothing about other types
    if not RFC3339.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(UUID.match(value))


def conforms(schema: dict, value: Any) -> bool:
    return jsonschema.Draft7Validator(schema, format_checker=FORMAT_CHECKER).is_valid(value)


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return openapi()


def item_errors(item: dict) -> dict:
    _, parsed, errors = parse_attempt(item, sent_at=SENT_AT)
    assert (parsed is None) == bool(errors)
    return errors


def valid_item(**changes) -> dict:
    item = {
        "id": str(uuid.uuid4()),
        "door": 1,
        "assignment": 1,
        "result": "not_home",
        "recorded_at": (SENT_AT - dt.timedelta(minutes=5)).isoformat(),
    }
    item.update(changes)
    return item


# --- Generated from the schema -----------------------------------------------------------
#
# A generator of the JSON Schema subset the API's schemas use. hypothesis-jsonschema
# 0.23 fails against this project's hypothesis 6.170 ("'many' object has no
# attribute 'more'"), and schemathesis pins hypothesis differently (requirements-bench.txt).

FORMATS = {
    "uuid": st.uuids().map(str),
    # RFC 3339: any date, any time, Z or an offset within a day.
    "date-time": st.tuples(
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
        st.sampled_from(["Z", "+00:00", "-08:00", "+05:30", "+14:00", "-12:00"]),
    ).map(lambda pair: pair[0].isoformat() + pair[1]),
}


def from_schema(schema: dict) -> st.SearchStrategy:
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.integers(
            None if low is None else math.ceil(low), None if high is None else math.floor(high)
        )
    if kind == "string":
        if "format" in schema:
            text = FORMATS[schema["format"]]
        else:
            low, high = schema.get("minLength", 0), schema.get("maxLength")
            text = st.text(min_size=low, max_size=min(high, low + 40) if high is not None else low + 40)
            if high is not None:  # the longest string too
                text = text | st.text(min_size=high, max_size=high)
        if "pattern" in schema:
            text = text.filter(re.compile(schema["pattern"]).search)
        return text
    if kind == "array":
        if schema.get("maxItems") == 0:
            return st.just([])
        return st.lists(from_schema(schema.get("items", {})), max_size=min(schema.get("maxItems", 5), 5))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        fixed = st.fixed_dictionaries(
            {name: from_schema(sub) for name, sub in properties.items() if name in required},
            optional={name: from_schema(sub) for name, sub in properties.items() if name not in required},
        )
        extra = schema.get("additionalProperties", True)
        if properties or extra is False:
            return fixed
        keys = schema.get("propertyNames", {})
        names = st.from_regex(keys["pattern"], fullmatch=True) if "pattern" in keys else st.text(max_size=10)
        size = schema.get("maxProperties", 10)
        return st.dictionaries(names, from_schema(extra) if isinstance(extra, dict) else st.integers(), max_size=size)
    raise AssertionError(f"a schema the generator does not know: {schema}")


@st.composite
def in_window(draw) -> str:
    """A recorded_at the description allows: up to 365 days before sent_at, up to 300 s after, any offset."""
    seconds = draw(st.integers(-365 * 86400 + 1, 300))
    offset = draw(st.integers(-14 * 60, 14 * 60))
    zone = dt.timezone(dt.timedelta(minutes=offset))
    return (SENT_AT + dt.timedelta(seconds=seconds)).astimezone(zone).isoformat()


def test_the_schema_names_exactly_the_validators_fields(document):
    schema = document["components"]["schemas"]["PushItem"]
    assert set(schema["properties"]) == ITEM_FIELDS
    assert schema["additionalProperties"] is False
    # Required in the schema <=> "This field is required." from the validator.
    for name in ITEM_FIELDS:
        item = valid_item()
        item.pop(name, None)
        missing = "required" in " ".join(map(str, _messages(item_errors(item).get(name))))
        assert missing == (name in schema["required"]), name


def _messages(found: Any) -> list:
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def test_generated_push_items_are_accepted_by_the_validator(document):
    schema = json_schema(document, "PushItem")

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(item=from_schema(schema), recorded_at=in_window(), place=st.booleans())
    def check(item, recorded_at, place):
        item["recorded_at"] = recorded_at  # the window around sent_at (described, not expressible)
        if place and item.get("lat") is not None:
            item["lng"] = item.get("lng") if item.get("lng") is not None else 0.0
        else:  # lat and lng come together (described, not expressible)
            item["lat"] = item["lng"] = None
        assert conforms(schema, item)
        assert item_errors(item) == {}, item

    check()


def test_generated_envelopes_are_accepted(document):
    schema = json_schema(document, "PushRequest")
    schema["properties"]["attempts"] = {"type": "array", "maxItems": 0}  # the items are checked above

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=from_schema(schema))
    def check(body):
        device_id, sent_at, attempts = parse_push_envelope(body)
        assert device_id == body["device_id"] and attempts == []

    check()


# --- Boundaries: just inside is accepted by both, just outside refused by both ------------

BIG = 2**63 - 1
BOUNDARIES: list[tuple[str, Any, bool]] = [
    # (field, value, allowed)
    ("door", 1, True),
    ("door", BIG, True),
    ("door", 0, False),
    ("door", -1, False),
    ("door", BIG + 1, False),
    ("door", 1.5, False),
    ("door", True, False),
    ("door", None, False),
    ("assignment", 0, False),
    ("assignment", [], False),
    ("person", None, True),
    ("person", 0, False),
    ("person", "x", False),
    ("result", "x", True),
    ("result", "r" * 32, True),
    ("result", "", False),
    ("result", "r" * 33, False),
    ("result", 5, False),
    ("support_level", 1, True),
    ("support_level", 5, True),
    ("support_level", None, True),
    ("support_level", 0, False),
    ("support_level", 6, False),
    ("support_level", 2.5, False),
    ("support_level", False, False),
    ("answers", {}, True),
    ("answers", None, True),
    ("answers", {"1": 2, "999999999999999999": BIG}, True),
    ("answers", {str(n): 1 for n in range(1, 101)}, True),
    ("answers", {str(n): 1 for n in range(1, 102)}, False),
    ("answers", {"0": 1}, False),
    ("answers", {"x": 1}, False),
    ("answers", {"1": 0}, False),
    ("answers", {"1": "one"}, False),
    ("answers", [1, 2], False),
    ("notes", "", True),
    ("notes", "n" * 2000, True),
    ("notes", None, True),
    ("notes", "n" * 2001, False),
    ("notes", "a\x00b", False),
    ("notes", 12, False),
    ("id", "not-a-uuid", False),
    ("id", 12, False),
    ("recorded_at", "2026-11-28 17:00", False),  # no offset
    ("recorded_at", "yesterday", False),
    ("recorded_at", 1764352800, False),
    ("lat", -90, True),
    ("lat", 90, True),
    ("lat", 90.0001, False),
    ("lat", -90.0001, False),
    ("lat", "1", False),
    ("lng", 180, True),
    ("lng", -180.5, False),
    ("accuracy_m", 0, True),
    ("accuracy_m", 100000, True),
    ("accuracy_m", -0.1, False),
    ("accuracy_m", 100000.1, False),
    ("unknown_field", 1, False),
]


@pytest.mark.parametrize(("field", "value", "allowed"), BOUNDARIES, ids=lambda v: repr(v)[:30])
def test_boundaries_agree(document, field, value, allowed):
    schema = json_schema(document, "PushItem")
    item = valid_item(**{field: value})
    if field in ("lat", "lng"):  # the other half of the pair, valid
        item.setdefault("lat", 0.0)
        item.setdefault("lng", 0.0)
    assert conforms(schema, item) is allowed, ("schema", field, value)
    errors = item_errors(item)
    assert (errors == {}) is allowed, ("validator", field, value, errors)
    if not allowed:
        assert field in errors or "non_field_errors" in errors, errors


def test_the_envelope_boundaries_agree(document):
    schema = json_schema(document, "PushRequest")
    now = SENT_AT.isoformat()
    cases = [
        ({"device_id": "d", "sent_at": now, "attempts": []}, True),
        ({"device_id": "d" * 128, "sent_at": now, "attempts": []}, True),
        ({"device_id": "d" * 129, "sent_at": now, "attempts": []}, False),
        ({"device_id": "", "sent_at": now, "attempts": []}, False),
        ({"device_id": "   ", "sent_at": now, "attempts": []}, False),
        ({"sent_at": now, "attempts": []}, False),
        ({"device_id": "d", "attempts": []}, False),
        ({"device_id": "d", "sent_at": "2026-11-28T18:00:00", "attempts": []}, False),
        ({"device_id": "d", "sent_at": "1900-06-01T00:00:00Z", "attempts": []}, False),
        ({"device_id": "d", "sent_at": "9500-06-01T00:00:00Z", "attempts": []}, False),
        ({"device_id": "d", "sent_at": now}, False),
        ({"device_id": "d", "sent_at": now, "attempts": {}}, False),
    ]
    for body, allowed in cases:
        assert conforms(schema, body) is allowed, ("schema", body)
        try:
            parse_push_envelope(body)
            accepted = True
        except Exception:  # PushEnvelopeError
            accepted = False
        assert accepted is allowed, ("validator", body)


# --- The batch limit, and answers that conform -------------------------------------------


@pytest.mark.django_db
def test_the_batch_limit_is_the_settings_in_the_schema_and_the_api(world, settings):
    settings.SYNC_PUSH_MAX_ITEMS = 3
    document = openapi()
    assert document["components"]["schemas"]["PushRequest"]["properties"]["attempts"]["maxItems"] == 3
    schema = json_schema(document, "PushRequest")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + device_token_create(user=world.canvasser, device_id="p").key)
    for count, status in ((3, 200), (4, 413)):
        body = {"device_id": "p", "sent_at": SENT_AT.isoformat(), "attempts": [valid_item() for _ in range(count)]}
        assert conforms(schema, body) is (status == 200)
        response = client.post("/api/v1/sync/push/", body, format="json")
        assert response.status_code == status, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["organizer", "canvasser", "outsider"])
def test_push_pull_and_walk_list_answers_conform(world, document, user):
    who = getattr(world, user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + device_token_create(user=who, device_id="p").key)
    from tests import factories as f

    f.ResultCodeFactory(organization=world.org, code="not_home")
    if user == "canvasser":
        door = world.doors[0]
        item = valid_item(
            door=door.pk, assignment=world.assignment.pk, recorded_at=dt.datetime.now(dt.UTC).isoformat(), lat=1, lng=2
        )
        bad = {"id": str(uuid.uuid4()), "door": 0, "result": ""}
        body = {"device_id": "p", "sent_at": dt.datetime.now(dt.UTC).isoformat(), "attempts": [item, bad, "x"]}
        pushed = client.post("/api/v1/sync/push/", body, format="json")
        assert pushed.status_code == 200, pushed.content
        answer = pushed.json()
        assert [r["status"] for r in answer["results"]] == ["accepted", "rejected", "rejected"]
        assert conforms(json_schema(document, "PushResponse"), answer), answer
        walk = client.get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/")
        assert walk.status_code == 200
        assert conforms(json_schema(document, "WalkList"), walk.json())
    pull_schema = json_schema(document, "PullResponse")
    page = client.get("/api/v1/sync/pull/", {"assignments": "1,2"}).json()
    assert conforms(pull_schema, page), page
    if user == "canvasser":
        assert page["doors"] and page["assignments"] and page["attempts"]
    world.assignment.ended_at = dt.datetime.now(dt.UTC)
    world.assignment.save(update_fields=["ended_at"])
    later = client.get("/api/v1/sync/pull/", {"cursor": page["cursor"], "assignments": str(world.assignment.pk)})
    assert later.status_code == 200
    assert conforms(pull_schema, later.json()), later.json()
    if user == "canvasser":
        assert world.assignment.pk in later.json()["tombstones"]["assignments"]


def response_schema(document: dict, method: str, path: str, status: int) -> dict:
    """The operation's answer schema for `status`, as plain JSON Schema."""
    answer = document["paths"][path][method.lower()]["responses"][str(status)]
    document = {**document, "components": {"schemas": {**document["components"]["schemas"], "_": {}}}}
    document["components"]["schemas"]["_"] = answer["content"]["application/json"]["schema"]
    return json_schema(document, "_")


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["organizer", "canvasser"])
def test_every_get_answers_as_its_schema_says(world, document, user):
    """Each GET of the schema that this user may read, with the world's ids: its 200 conforms."""
    from tests.endpoints import api_operations, fill, path_parameters

    ids = {"assignment_id": world.assignment.pk, "turf_id": world.turf.pk, "campaign_id": world.campaign.pk}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + device_token_create(user=getattr(world, user), device_id="p").key)
    checked = []
    for method, path in api_operations():
        if method != "GET" or not set(path_parameters(path)) <= set(ids):
            continue
        response = client.get(fill(path, ids))
        if response.status_code != 200:
            assert response.status_code in (403, 404), (path, response.status_code)
            continue
        assert conforms(response_schema(document, method, path, 200), response.json()), (path, response.json())
        checked.append(path)
    assert "/api/v1/sync/pull/" in checked and "/api/v1/assignments/" in checked
    if user == "organizer":
        assert {"/api/v1/turfs/geojson/", "/api/v1/turfs/", "/api/v1/members/"} <= set(checked)


@pytest.mark.django_db
def test_request_times_carry_the_calendars_bounds_and_the_api_agrees(world, document):
    """fieldops/date_bounds.py: a shift outside 1970-2100 is refused; the schema says so."""
    schema = json_schema(document, "ShiftInput")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + device_token_create(user=world.organizer, device_id="p").key)
    for year, allowed in ((2026, True), (2099, True), (1969, False), (2101, False), (9999, False)):
        body = {"name": "Saturday", "starts_at": f"{year}-06-01T09:00:00Z", "ends_at": f"{year}-06-01T12:00:00Z"}
        assert conforms(schema, body) is allowed, year
        response = client.post("/api/v1/shifts/", body, format="json")
        assert (response.status_code == 201) is allowed, (year, response.content)
        if not allowed:
            assert response.status_code == 400


STATE_REFUSALS = {
    ("POST", "/api/v1/shifts/{shift_id}/signup/"),
    ("POST", "/api/v1/shifts/{shift_id}/cancel/"),
    ("POST", "/api/v1/shifts/{shift_id}/check-in/"),
    ("POST", "/api/v1/shifts/{shift_id}/check-out/"),
    ("POST", "/api/v1/shifts/{shift_id}/no-show/"),
    ("POST", "/api/v1/assignments/"),
    ("POST", "/api/v1/assignments/{assignment_id}/reassign/"),
    ("POST", "/api/v1/turfs/"),
    ("POST", "/api/v1/turfs/merge/"),
    ("POST", "/api/v1/turfs/{turf_id}/split/"),
    ("POST", "/api/v1/turfs/{turf_id}/archive/"),
}


def test_state_refusals_are_documented_as_409_in_the_error_shape(document):
    """Every operation whose object's state can refuse it lists its 409 with the one error body;
    no other operation claims one."""
    declared = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation.get("responses", {}).get("409")
            if answer is None:
                continue
            declared.add((method.upper(), path))
            assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, path
            assert answer["description"].startswith("Refused by the current state"), path
    assert declared == STATE_REFUSALS


@pytest.mark.django_db
def test_free_text_rules_are_in_the_schema_and_the_api_agrees(world, document):
    """DRF refuses a NUL in any text and a shift's name that is only spaces; the schema says both."""
    schema = json_schema(document, "ShiftInput")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + device_token_create(user=world.organizer, device_id="p").key)
    times = {"starts_at": "2030-06-01T09:00:00Z", "ends_at": "2030-06-01T12:00:00Z"}
    cases = [
        ({"name": "Saturday"}, True),
        ({"name": "  Saturday  "}, True),
        ({"name": "Sat\x00urday"}, False),
        ({"name": "   "}, False),
        ({"name": ""}, False),
        ({"name": "Saturday", "location_name": "Library\x00"}, False),
        ({"name": "Saturday", "location_name": ""}, True),
    ]
    for fields, allowed in cases:
        body = {**fields, **times}
        assert conforms(schema, body) is allowed, fields
        response = client.post("/api/v1/shifts/", body, format="json")
        assert response.status_code == (201 if allowed else 400), (fields, response.content)
    merge = json_schema(document, "TurfMergeInput")
    assert conforms(merge, {"turfs": [1, 2]}) and not conforms(merge, {"turfs": [1, 1]})
    assert not conforms(merge, {"turfs": [1, 2], "name": "a\x00"})
