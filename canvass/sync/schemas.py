"""The OpenAPI description of push and pull (docs/sync-protocol.md); schema only.

Push is validated by the plain functions of canvass/sync/serializers.py (fast,
no DRF serializer); these components state the same constraints, read from
the same settings and constants, so a client generator and schemathesis know
them. Pull is built as dicts by canvass/sync/selectors.py; its components
describe them. tests/test_schema_contract.py checks that push items generated
from the schema are accepted by the validator and that out-of-constraint
values are refused by both.

Request schemas are strict (an unknown field in an item is refused); response
schemas are open (a field added within v1 does not break a client,
docs/api.md "Versioning"), and response strings that may gain values (flags,
held reasons) are documented, not enums.

OpenAPI 3.0 cannot state a pattern for object keys: `x-propertyNames` carries
the JSON-Schema `propertyNames` of `answers` (read by the contract test).
"""

from __future__ import annotations

from django.conf import settings

from canvass.field.selectors import DOOR_FIELDS
from canvass.sync.serializers import DEVICE_ID_MAX, ITEM_FIELDS, RESULT_CODE_MAX
from fieldops.api.schema import SchemaComponent, nullable, ref

DB_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
# parse_aware_datetime: ISO 8601 with an offset, whose UTC year is after 1900
# and before 9000. The pattern keeps a day's margin at both ends (an offset
# can move the UTC date across a new year).
MOMENT = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^(190[2-9]|19[1-9][0-9]|[2-7][0-9]{3}|8[0-8][0-9]{2}|89[0-8][0-9]|899[0-8])-",
    "description": "ISO 8601 with a UTC offset (`Z` or `±hh:mm`), years 1902 to 8998.",
}
ANSWER_KEY = r"^[1-9][0-9]{0,17}$"


def _push_item_schema() -> dict:
    notes_max = settings.SYNC_NOTES_MAX_CHARS
    future = settings.SYNC_FUTURE_TOLERANCE_SECONDS
    max_age = settings.SYNC_MAX_AGE_DAYS
    properties = {
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "The knock's UUID, made on the phone; the same id pushed again is a duplicate.",
        },
        "door": {**DB_ID, "description": "The door (its id in the walk list)."},
        "assignment": {**DB_ID, "description": "The assignment the knock was made under."},
        "person": nullable({**DB_ID, "description": "The person at the door who answered, if any."}),
        "result": {
            "type": "string",
            "minLength": 1,
            "maxLength": RESULT_CODE_MAX,
            "description": "A result code of the organization (the walk list's `result_codes[].code`).",
        },
        "support_level": nullable(
            {"type": "integer", "minimum": 1, "maximum": 5, "description": "1 (strong yes) to 5."}
        ),
        "answers": nullable(
            {
                "type": "object",
                "maxProperties": 100,
                "additionalProperties": {**DB_ID, "description": "The chosen option's id."},
                "x-propertyNames": {"pattern": ANSWER_KEY},
                "description": '`{"<question id>": <option id>}`, at most 100; keys are question ids '
                f"(digits, pattern `{ANSWER_KEY}`).",
            }
        ),
        "notes": nullable(
            {
                "type": "string",
                "maxLength": notes_max,
                "pattern": "^[^\\u0000]*$",
                "description": f"At most {notes_max} characters (after Unicode NFC normalization); no NUL.",
            }
        ),
        "recorded_at": {
            **MOMENT,
            "description": "When the knock was made, on the phone's clock: not later than the batch's `sent_at` "
            f"plus {future} seconds, not more than {max_age} days before it (SYNC_FUTURE_TOLERANCE_SECONDS, "
            "SYNC_MAX_AGE_DAYS). ISO 8601 with a UTC offset.",
        },
        "lat": nullable({"type": "number", "minimum": -90, "maximum": 90, "description": "With `lng`, or neither."}),
        "lng": nullable({"type": "number", "minimum": -180, "maximum": 180, "description": "With `lat`, or neither."}),
        "accuracy_m": nullable({"type": "number", "minimum": 0, "maximum": 100000, "description": "Metres."}),
    }
    assert set(properties) == ITEM_FIELDS  # the validator's list of fields, and no other
    return {
        "type": "object",
        "description": "One knock. Fields besides these are refused; `lat` and `lng` come together.",
        "properties": properties,
        "required": ["id", "door", "assignment", "result", "recorded_at"],
        "additionalProperties": False,
    }


class PushItem(SchemaComponent):
    @classmethod
    def build(cls) -> dict:
        return _push_item_schema()


class PushRequest(SchemaComponent):
    @classmethod
    def build(cls) -> dict:
        limit = settings.SYNC_PUSH_MAX_ITEMS
        return {
            "type": "object",
            "properties": {
                "device_id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": DEVICE_ID_MAX,
                    "pattern": r"\S",
                    "description": "The phone's id (the one it logged in with); not only spaces.",
                },
                "sent_at": {
                    **MOMENT,
                    "description": "The phone's clock when it sent the batch. " + MOMENT["description"],
                },
                "attempts": {
                    "type": "array",
                    "maxItems": limit,
                    "items": ref(PushItem),
                    "description": f"At most {limit} (SYNC_PUSH_MAX_ITEMS): a bigger batch is refused whole "
                    "(413); split it. Each item gets a receipt, in order.",
                },
            },
            "required": ["device_id", "sent_at", "attempts"],
        }


FIELD_ERRORS = {
    "type": "object",
    "description": "DRF's convention: `{field: [message, …]}`; `answers` nests `{question_id: [message, …]}`; "
    "`non_field_errors` is about the item as a whole. Every problem of the item is reported.",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            {"type": "string"},
        ]
    },
}


class PushReceipt(SchemaComponent):
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": 'The item\'s id as sent (canonical UUID), or "" if unreadable.'},
            "status": {
                "type": "string",
                "enum": ["accepted", "duplicate", "conflict", "rejected"],
                "description": "accepted: stored now; duplicate: stored before, same content; conflict: the id "
                "was stored with other content; rejected: not stored, see errors.",
            },
            "errors": FIELD_ERRORS,
            "flags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "accepted and duplicate only: what the server noticed (off_list, far_from_door, "
                "too_fast, held; more may be added).",
            },
            "review": {
                "type": "string",
                "enum": ["trusted", "held", "approved", "rejected"],
                "description": "accepted and duplicate only: whether the knock counts.",
            },
            "held_reason": {
                "type": "string",
                "description": "When review is held: off_list or outside_time (more may be added).",
            },
        },
        "required": ["id", "status", "errors"],
    }


class PushResponse(SchemaComponent):
    schema = {
        "type": "object",
        "properties": {
            "results": {"type": "array", "items": ref(PushReceipt), "description": "One receipt per item, in order."},
            "cursor": {
                "type": "string",
                "description": "The change-log position after this push, for logs; not a pull cursor.",
            },
        },
        "required": ["results"],
    }


# --- Pull ------------------------------------------------------------------------------------


class PullPerson(SchemaComponent):
    schema = {
        "type": "object",
        "properties": {"id": DB_ID, "first_name": {"type": "string"}, "last_name": {"type": "string"}},
        "required": ["id", "first_name", "last_name"],
    }


_TEXT = {"type": "string"}


class PullDoor(SchemaComponent):
    schema = {
        "type": "object",
        "description": "A door as it is now, with all its people (the phone replaces the door's people).",
        "properties": {
            "id": DB_ID,
            # The walk list's door fields (canvass.field.selectors.DOOR_FIELDS): the text ones.
            **{name: _TEXT for name in DOOR_FIELDS if name not in ("id", "lat", "lng")},
            "lat": nullable({"type": "number"}),
            "lng": nullable({"type": "number"}),
            "people": {"type": "array", "items": ref(PullPerson)},
        },
        "required": ["id", "people"],
    }


class PullAssignment(SchemaComponent):
    schema = {
        "type": "object",
        "description": "A current assignment of the canvasser, sent whole.",
        "properties": {
            "id": DB_ID,
            "campaign": DB_ID,
            "turf": DB_ID,
            "turf_name": _TEXT,
            "shift": nullable(DB_ID),
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": nullable({"type": "string", "format": "date-time"}),
            "doors": {"type": "array", "items": DB_ID, "description": "The turf's doors in walk order."},
        },
        "required": ["id", "turf", "doors"],
    }


class PullAttempt(SchemaComponent):
    schema = {
        "type": "object",
        "description": "A knock at one of the canvasser's doors: in a snapshot each door's latest that counts, and "
        "the canvasser's own held ones; in incremental pulls others' that count and the canvasser's own from their "
        "other phones.",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "door": DB_ID,
            "person": nullable(DB_ID),
            "assignment": nullable(DB_ID),
            "result": _TEXT,
            "canvasser": nullable(DB_ID),
            "corrected_at": {"type": "string", "format": "date-time"},
        },
        "required": ["id", "door", "result"],
    }


class PullTombstones(SchemaComponent):
    schema = {
        "type": "object",
        "description": "Ids the phone must drop: the canvasser may no longer see them.",
        "properties": {
            "assignments": {"type": "array", "items": DB_ID},
            "doors": {"type": "array", "items": DB_ID},
            "people": {"type": "array", "items": DB_ID},
        },
        "required": ["assignments", "doors", "people"],
    }


class PullResponse(SchemaComponent):
    schema = {
        "type": "object",
        "description": "One page of changes, or of a snapshot (docs/sync-protocol.md).",
        "properties": {
            "api_version": {"type": "string", "description": "The server's API version (docs/api.md, Versioning)."},
            "cursor": {
                "type": "string",
                "maxLength": 512,
                "description": "Opaque: send it back as ?cursor= for the next page. Never parse it.",
            },
            "has_more": {"type": "boolean", "description": "Pull again with the new cursor at once."},
            "reset": {"type": "boolean", "description": "A snapshot's first page: replace what the phone holds."},
            "assignments": {"type": "array", "items": ref(PullAssignment)},
            "doors": {"type": "array", "items": ref(PullDoor)},
            "attempts": {"type": "array", "items": ref(PullAttempt)},
            "tombstones": ref(PullTombstones),
        },
        "required": ["cursor", "has_more", "reset", "assignments", "doors", "attempts", "tombstones"],
    }
