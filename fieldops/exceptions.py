"""Exceptions the services raise that every entry point (the API, the admin, the commands) understands."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """Raised by a service: the request is valid, but the current state of the object refuses it
    now (check-in before it opens, check-out before check-in, cancel without a sign-up, an archived
    or assigned turf). It is a ValidationError, so the admin's forms and the commands show it as
    any; the API answers it **409 Conflict**, the message both as `detail` and in `errors`, and
    the message says what would work ("Check-in opens at 7:00 AM, …", "You have not checked in; check in first.")."""
