"""Writes of doors and the people at them, by hand (the admin): each one audited
and written to the change log, so the phones holding the door see it at their
next pull. Which district a door lies in is districting.py; imports are importers/.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from fieldops.changelog import sync_changes_record
from fieldops.models import Organization, SyncChange
from fieldops.services import audit_log
from turf.districting import door_placed_by_hand
from turf.models import Door, Person

# What an organizer may type on a door. The address key (its identity) is set
# when a door is added and never changed; the source fields come from the import.
DOOR_EDITABLE = frozenset(
    {
        "building_key",
        "number",
        "number_suffix",
        "pre_dir",
        "street_name",
        "street_type",
        "post_dir",
        "unit_type",
        "unit",
        "city",
        "state",
        "zip",
        "lat",
        "lng",
        "geocode_quality",
    }
)
PERSON_EDITABLE = frozenset(
    {"door", "first_name", "last_name", "external_voter_id", "phone", "email", "birth_year", "party"}
)


def _check_location(lat: object, lng: object) -> None:
    if (lat is None) != (lng is None):
        raise ValidationError({"lat": "Give lat and lng together, or neither."})
    if lat is not None and not -90 <= lat <= 90:  # type: ignore[operator]  # a number, from a form or a caller
        raise ValidationError({"lat": "Latitude must be between -90 and 90."})
    if lng is not None and not -180 <= lng <= 180:  # type: ignore[operator]
        raise ValidationError({"lng": "Longitude must be between -180 and 180."})


def _only(allowed: frozenset[str], fields: dict[str, Any], what: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"{what} cannot set {', '.join(sorted(unknown))}")


def _log_door(door: Door) -> None:
    # Last: the change log's counter lock is held from here to commit.
    sync_changes_record(
        organization_id=door.organization_id, kind=SyncChange.Kind.DOOR, object_id=door.pk, door_id=door.pk
    )


def _log_person(person: Person, door_id: int) -> None:
    sync_changes_record(
        organization_id=person.organization_id, kind=SyncChange.Kind.PERSON, object_id=person.pk, door_id=door_id
    )


@transaction.atomic
def door_create(*, organization: Organization, actor: AbstractBaseUser, address_key: str, **fields: Any) -> Door:
    """A door added by hand; placed in its districts when it has a location."""
    _only(DOOR_EDITABLE, fields, "door_create")
    _check_location(fields.get("lat"), fields.get("lng"))
    address_key = address_key.strip()
    if not address_key:
        raise ValidationError({"address_key": "Give the door's normalized address."})
    if Door.objects.filter(organization=organization, address_key=address_key).exists():
        raise ValidationError({"address_key": "The organization has a door with this address."})
    door = Door.objects.create(organization=organization, address_key=address_key, **fields)
    door_placed_by_hand(door=door)
    audit_log(organization=organization, actor=actor, action="door.create", obj=door, address_key=address_key)
    return door


@transaction.atomic
def door_update(*, door: Door, actor: AbstractBaseUser, **changes: Any) -> Door:
    """An organizer corrects a door: only the fields given are written. A new
    location is kept as placed by hand and the door re-districted."""
    _only(DOOR_EDITABLE, changes, "door_update")
    if not changes:
        return door
    if {"lat", "lng"} & set(changes):
        _check_location(changes.get("lat", door.lat), changes.get("lng", door.lng))
    Door.objects.filter(pk=door.pk).update(**changes)
    for name, value in changes.items():
        setattr(door, name, value)
    if {"lat", "lng"} & set(changes):
        door_placed_by_hand(door=door)
    audit_log(organization=door.organization, actor=actor, action="door.update", obj=door, fields=sorted(changes))
    _log_door(door)
    return door


@transaction.atomic
def door_delete(*, door: Door, actor: AbstractBaseUser) -> None:
    """Delete a door nobody knocked (knocks are kept forever and point at their door).
    Phones drop it at their next pull (a tombstone)."""
    if door.attempts.exists():  # type: ignore[attr-defined]  # the reverse relation of canvass' ContactAttempt
        raise ValidationError({"door": f"{door} has knocks recorded; a knocked door is kept."})
    audit_log(organization=door.organization, actor=actor, action="door.delete", obj=door, address_key=door.address_key)
    door_id, organization_id = door.pk, door.organization_id
    door.delete()
    sync_changes_record(organization_id=organization_id, kind=SyncChange.Kind.DOOR, object_id=door_id, door_id=door_id)


def _check_person(organization_id: int, door: Door, fields: dict[str, Any], person_id: int | None = None) -> None:
    if door.organization_id != organization_id:
        raise ValidationError({"door": "No such door."})
    birth_year = fields.get("birth_year")
    if birth_year is not None and not 1880 <= birth_year <= 2100:
        raise ValidationError({"birth_year": "Birth year must be between 1880 and 2100."})
    voter_id = fields.get("external_voter_id") or ""
    if voter_id:
        taken = Person.objects.filter(organization_id=organization_id, external_voter_id=voter_id)
        if person_id is not None:
            taken = taken.exclude(pk=person_id)
        if taken.exists():
            raise ValidationError({"external_voter_id": "Another person of the organization has this voter id."})


@transaction.atomic
def person_create(*, door: Door, actor: AbstractBaseUser, **fields: Any) -> Person:
    """A person added at a door by hand."""
    _only(PERSON_EDITABLE - {"door"}, fields, "person_create")
    _check_person(door.organization_id, door, fields)
    person = Person.objects.create(organization_id=door.organization_id, door=door, **fields)
    audit_log(organization=door.organization, actor=actor, action="person.create", obj=person, door_id=door.pk)
    _log_person(person, door.pk)
    return person


@transaction.atomic
def person_update(*, person: Person, actor: AbstractBaseUser, **changes: Any) -> Person:
    """An organizer corrects a person: only the fields given are written. Moved to
    another door, both doors' phones hear of it."""
    _only(PERSON_EDITABLE, changes, "person_update")
    if not changes:
        return person
    old_door_id = Person.objects.filter(pk=person.pk).values_list("door_id", flat=True).get()
    door = changes.get("door", person.door)
    _check_person(person.organization_id, door, {**changes}, person_id=person.pk)
    Person.objects.filter(pk=person.pk).update(**changes)
    for name, value in changes.items():
        setattr(person, name, value)
    audit_log(organization=person.organization, actor=actor, action="person.update", obj=person, fields=sorted(changes))
    if old_door_id != door.pk:
        _log_person(person, old_door_id)
    _log_person(person, door.pk)
    return person


@transaction.atomic
def person_delete(*, person: Person, actor: AbstractBaseUser) -> None:
    """Delete a person; their knocks stay (without the person). Phones drop them at their next pull."""
    audit_log(organization=person.organization, actor=actor, action="person.delete", obj=person, door_id=person.door_id)
    person_id, door_id, organization_id = person.pk, person.door_id, person.organization_id
    person.delete()
    sync_changes_record(
        organization_id=organization_id, kind=SyncChange.Kind.PERSON, object_id=person_id, door_id=door_id
    )
