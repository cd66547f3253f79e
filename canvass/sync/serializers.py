"""Validation and canonical form of what phones push, and the shapes pull sends.

Plain functions, no DRF serializer and no query: a 500-item push is validated
in Python in a few milliseconds, then authorized in sync_services against the
database with a constant number of queries. A DRF ModelSerializer would run a
uniqueness query per item (DESIGN.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

ITEM_FIELDS = frozenset(
    {
        "id",
        "door",
        "assignment",
        "person",
        "result",
        "support_level",
        "answers",
        "notes",
        "recorded_at",
        "lat",
        "lng",
        "accuracy_m",
    }
)
DEVICE_ID_MAX = 128
REQUIRED = "This field is required."  # DRF's words, for every missing field of the API
RESULT_CODE_MAX = 32


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def parse_id(value: Any) -> int:
    """A database id: a positive integer, or a string of digits ("12" is 12)."""
    if isinstance(value, bool):
        raise Invalid("Must be an id (a positive whole number).")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        number = int(value)
    else:
        raise Invalid("Must be an id (a positive whole number).")
    if not 0 < number < 2**63:
        raise Invalid("Must be an id (a positive whole number).")
    return number


def parse_aware_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise Invalid("Must be an ISO 8601 date and time with a UTC offset.")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid("Must be an ISO 8601 date and time with a UTC offset.")
    if parsed.tzinfo is None:
        raise Invalid("Must carry a UTC offset (e.g. 2026-11-27T18:05:00Z).")
    try:
        utc = parsed.astimezone(dt.UTC)
    except OverflowError:
        raise Invalid("Is out of range.")
    if not 1900 < utc.year < 9000:  # far from datetime's limits, so skew arithmetic cannot overflow
        raise Invalid("Is out of range.")
    return utc


def _float(value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("Must be a number.")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise Invalid(f"Must be between {low:g} and {high:g}.")
    return number


@dataclass(frozen=True)
class AttemptItem:
    """One pushed knock, validated and normalized."""

    id: str  # the UUID, lower-case canonical text
    door: int
    assignment: int
    person: int | None
    result: str
    support_level: int | None
    answers: dict[int, int]  # question id -> option id
    notes: str
    recorded_at: dt.datetime  # UTC
    lat: float | None
    lng: float | None
    accuracy_m: float | None
    # The door id the phone sent, when that door was merged into `door` since
    # (canvass push); the hash stays that of what the phone sent.
    merged_from: int | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical form of what the phone sent.

        Counted: every field of the item, normalized (ids as numbers, times
        in UTC with microseconds, coordinates as floats, answers sorted, notes
        NFC). Not counted: device_id and sent_at, which a retry may change.
        """
        canonical = {
            "id": self.id,
            "door": self.door if self.merged_from is None else self.merged_from,
            "assignment": self.assignment,
            "person": self.person,
            "result": self.result,
            "support_level": self.support_level,
            "answers": sorted([q, o] for q, o in self.answers.items()),
            "notes": self.notes,
            "recorded_at": self.recorded_at.isoformat(timespec="microseconds"),
            "lat": self.lat,
            "lng": self.lng,
            "accuracy_m": self.accuracy_m,
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def parse_attempt(
    raw: Any, *, sent_at: dt.datetime, partial: dict[str, Any] | None = None
) -> tuple[str | None, AttemptItem | None, dict[str, Any]]:
    """(the id if readable, the item or None, field errors) for one pushed item.

    Every problem of the item is reported, not the first. `partial`, when
    given, receives the fields that did parse, so that the push can check
    those against the server's data too (a bad result code is reported beside
    a missing time offset).
    """
    if not isinstance(raw, dict):
        return None, None, {"non_field_errors": "Each attempt must be a JSON object."}
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}

    def check(name: str, parse, *, required: bool = True, nullable: bool = False) -> None:
        if name not in raw:
            if required:
                errors[name] = REQUIRED
            else:
                values[name] = None
            return
        value = raw[name]
        if value is None:
            if nullable:
                values[name] = None
            else:
                errors[name] = "This field may not be null."
            return
        try:
            values[name] = parse(value)
        except Invalid as exc:
            errors[name] = exc.message

    def parse_uuid(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("Must be a UUID.")
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise Invalid("Must be a UUID.")

    def parse_result(value: Any) -> str:
        if not isinstance(value, str) or not value or len(value) > RESULT_CODE_MAX:
            raise Invalid("Must be a result code.")
        return value

    def parse_support(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise Invalid("Must be a whole number from 1 to 5, or null.")
        if isinstance(value, str):
            if not (value.isascii() and value.isdigit()):
                raise Invalid("Must be a whole number from 1 to 5, or null.")
            value = int(value)
        if not 1 <= value <= 5:
            raise Invalid("Must be a whole number from 1 to 5, or null.")
        return value

    def parse_answers(value: Any) -> dict[int, int]:
        if not isinstance(value, dict):
            raise Invalid('Must be an object {"<question id>": <option id>}.')
        if len(value) > 100:
            raise Invalid("Too many answers.")
        answers: dict[int, int] = {}
        for key, option in value.items():
            try:
                answers[parse_id(key)] = parse_id(option)
            except Invalid:
                raise Invalid('Must be an object {"<question id>": <option id>}.')
        return answers

    def parse_notes(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("Must be text.")
        notes = unicodedata.normalize("NFC", value)
        if len(notes) > settings.SYNC_NOTES_MAX_CHARS:
            raise Invalid(f"At most {settings.SYNC_NOTES_MAX_CHARS} characters.")
        if "\x00" in notes:
            raise Invalid("May not contain NUL characters.")
        return notes

    def parse_recorded(value: Any) -> dt.datetime:
        recorded = parse_aware_datetime(value)
        if recorded > sent_at + dt.timedelta(seconds=settings.SYNC_FUTURE_TOLERANCE_SECONDS):
            raise Invalid("Is later than the batch's sent_at: the knock cannot be in the future.")
        if recorded < sent_at - dt.timedelta(days=settings.SYNC_MAX_AGE_DAYS):
            raise Invalid(f"Is more than {settings.SYNC_MAX_AGE_DAYS} days before the batch's sent_at.")
        return recorded

    check("id", parse_uuid)
    check("door", parse_id)
    check("assignment", parse_id)
    check("person", parse_id, required=False, nullable=True)
    check("result", parse_result)
    check("support_level", parse_support, required=False, nullable=True)
    check("answers", parse_answers, required=False, nullable=True)
    check("notes", parse_notes, required=False, nullable=True)
    check("recorded_at", parse_recorded)
    check("lat", lambda v: _float(v, -90, 90), required=False, nullable=True)
    check("lng", lambda v: _float(v, -180, 180), required=False, nullable=True)
    check("accuracy_m", lambda v: _float(v, 0, 100_000), required=False, nullable=True)
    unknown = sorted(k for k in raw if k not in ITEM_FIELDS)
    if unknown:
        errors["non_field_errors"] = f"Unknown fields: {', '.join(map(str, unknown))}."
    if "lat" not in errors and "lng" not in errors and (values.get("lat") is None) != (values.get("lng") is None):
        errors["lng" if values.get("lng") is None else "lat"] = "lat and lng come together."
    item_id = values.get("id")
    if errors:
        if partial is not None:
            partial.update({name: value for name, value in values.items() if name not in errors})
        return item_id, None, errors
    return (
        item_id,
        AttemptItem(
            id=values["id"],
            door=values["door"],
            assignment=values["assignment"],
            person=values["person"],
            result=values["result"],
            support_level=values["support_level"],
            answers=values["answers"] or {},
            notes=values["notes"] or "",
            recorded_at=values["recorded_at"],
            lat=values["lat"],
            lng=values["lng"],
            accuracy_m=values["accuracy_m"],
        ),
        {},
    )


def parse_push_envelope(data: Any) -> tuple[str, dt.datetime, list[Any]]:
    """device_id, sent_at and the raw items, or Invalid-per-field errors as a dict.

    Raises PushEnvelopeError with field errors; the whole request is refused.
    """
    if not isinstance(data, dict):
        raise PushEnvelopeError({"non_field_errors": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    for name in ("device_id", "sent_at", "attempts"):
        if data.get(name) is None:
            errors[name] = REQUIRED
    device_id = data.get("device_id")
    if "device_id" not in errors and (
        not isinstance(device_id, str) or not device_id.strip() or len(device_id) > DEVICE_ID_MAX
    ):
        errors["device_id"] = f"Must be the phone's id: text of 1 to {DEVICE_ID_MAX} characters."
    sent_at = None
    if "sent_at" not in errors:
        try:
            sent_at = parse_aware_datetime(data.get("sent_at"))
        except Invalid as exc:
            errors["sent_at"] = exc.message
    attempts = data.get("attempts")
    if "attempts" not in errors and not isinstance(attempts, list):
        errors["attempts"] = "Must be a list of attempts."
    if errors:
        raise PushEnvelopeError(errors)
    return device_id, sent_at, attempts  # type: ignore[return-value]  # no errors: each passed its check above


class PushEnvelopeError(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors
