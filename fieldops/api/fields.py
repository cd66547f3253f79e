"""Serializer fields for ids: a number beyond 64 bits is a 400 naming the field, never a query.

A database id is a 64-bit signed integer. DRF's IntegerField takes any size,
and its PrimaryKeyRelatedField hands the number to the database, where SQLite
cannot bind it (OverflowError: a 500) and PostgreSQL compares it in vain.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fieldops.access import MAX_ID, parse_id
from fieldops.date_bounds import moment_problem


class IdField(serializers.IntegerField):
    """A positive 64-bit id."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A PrimaryKeyRelatedField that checks the id is one before it asks the database.

    Its queryset is scoped by the caller (canvass.access…); a missing, foreign
    and oversized id answer alike: 'Invalid pk "…" - object does not exist.'
    """

    def to_internal_value(self, data: Any) -> Any:
        if parse_id(data) is None:
            looks_like_a_number = isinstance(data, int) or (isinstance(data, str) and data.lstrip("-").isdigit())
            if isinstance(data, bool) or not looks_like_a_number:
                self.fail("incorrect_type", data_type=type(data).__name__)
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class BoundedDateTimeField(serializers.DateTimeField):
    """A DateTimeField that takes only moments between 1970 and 2100
    (fieldops/date_bounds.py): an assignment ending 9999-12-31 was stored, and
    every push to its doors then overflowed adding the grace period to its end."""

    def to_internal_value(self, value: Any) -> Any:
        moment = super().to_internal_value(value)
        problem = moment_problem(moment)
        if problem:
            raise serializers.ValidationError(problem)
        return moment
