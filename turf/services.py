"""Writes by hand (the admin): district layers and districts, doors and the
people at them. Each one is audited; doors and people are written to the change
log too, so the phones holding the door see it at their next pull (no phone
holds a district). Which district a door lies in is districting.py; imports
are importers/.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction

from fieldops.changelog import Change, sync_changes_record, sync_changes_record_many
from fieldops.models import Organization, SyncChange, char_max_length
from fieldops.services import audit_log
from turf.districting import districts_removed, door_placed_by_hand, organization_doors_lock
from turf.importers.districts import has_nul
from turf.models import District, DistrictLayer, Door, DoorAlias, DoorDistrict, Person

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
    if lng is not None and not -180 <= lng <= 180:  # type: ignore[operator]  # a number, from a form or a caller
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
def door_create(*, organization: Organization, actor: User, address_key: str, **fields: Any) -> Door:
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
def door_update(*, door: Door, actor: User, **changes: Any) -> Door:
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
def door_delete(*, door: Door, actor: User) -> None:
    """Delete a door nobody knocked (knocks are kept forever and point at their door).
    Phones drop it at their next pull (a tombstone)."""
    if door.attempts.exists():  # the reverse relation of canvass' ContactAttempt
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
def person_create(*, door: Door, actor: User, **fields: Any) -> Person:
    """A person added at a door by hand."""
    _only(PERSON_EDITABLE - {"door"}, fields, "person_create")
    _check_person(door.organization_id, door, fields)
    person = Person.objects.create(organization_id=door.organization_id, door=door, **fields)
    audit_log(organization=door.organization, actor=actor, action="person.create", obj=person, door_id=door.pk)
    _log_person(person, door.pk)
    return person


@transaction.atomic
def person_update(*, person: Person, actor: User, **changes: Any) -> Person:
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
def person_delete(*, person: Person, actor: User) -> None:
    """Delete a person; their knocks stay (without the person). Phones drop them at their next pull."""
    audit_log(organization=person.organization, actor=actor, action="person.delete", obj=person, door_id=person.door_id)
    person_id, door_id, organization_id = person.pk, person.door_id, person.organization_id
    person.delete()
    sync_changes_record(
        organization_id=organization_id, kind=SyncChange.Kind.PERSON, object_id=person_id, door_id=door_id
    )


# --- district layers and districts --------------------------------------------------
#
# Boundaries come from a file (importers/districts.py); by hand an organizer
# names and describes them, and deletes what was imported by mistake.

LAYER_EDITABLE = frozenset({"name", "source", "id_field", "name_field"})
DISTRICT_EDITABLE = frozenset({"external_id", "name", "properties"})


def _check_text(
    values: dict[str, Any], model: type[models.Model], names: tuple[str, ...], required: tuple[str, ...]
) -> None:
    for name in names:
        value = values.get(name, "")
        if name in required and not value.strip():
            raise ValidationError({name: "This field is required."})
        max_length = char_max_length(model, name)
        if len(value) > max_length:
            raise ValidationError({name: f"At most {max_length} characters."})
        if "\x00" in value:
            raise ValidationError({name: "A NUL character cannot be stored."})


def _check_layer(organization_id: int, values: dict[str, Any], layer_id: int | None = None) -> None:
    _check_text(values, DistrictLayer, ("name", "source", "id_field", "name_field"), required=("name",))
    taken = DistrictLayer.objects.filter(organization_id=organization_id, name=values["name"])
    if layer_id is not None:
        taken = taken.exclude(pk=layer_id)
    if taken.exists():
        raise ValidationError({"name": "The organization has a layer with this name."})


def _check_not_targeted(districts: Any, what: str) -> None:
    """A campaign's universe is the doors of its target districts: deleting one
    would shrink it silently. The organizer takes it out of the campaigns first."""
    targeted = districts.filter(campaigns__isnull=False).values_list("campaigns__name", flat=True).distinct()
    names = sorted(targeted[:6])
    if names:
        raise ValidationError(
            f"{what} is a target of the campaign(s) {', '.join(names[:5])}{'…' if len(names) > 5 else ''}; "
            "take it out of their target districts first."
        )


def _doors_losing_links(organization: Organization, districts: Any) -> list[int]:
    """The doors that lose a district link; the stats of their knocks are recounted after commit."""
    organization_doors_lock(organization=organization)
    door_ids = sorted(set(DoorDistrict.objects.filter(district__in=districts).values_list("door_id", flat=True)))
    return door_ids


@transaction.atomic
def district_layer_create(*, organization: Organization, actor: User | None, name: str, **fields: Any) -> DistrictLayer:
    """An empty layer, named by hand; its districts come from a boundary file."""
    _only(LAYER_EDITABLE - {"name"}, fields, "district_layer_create")
    values = {"name": name, "source": "", "id_field": "", "name_field": "", **fields}
    _check_layer(organization.pk, values)
    layer = DistrictLayer.objects.create(organization=organization, **values)
    audit_log(organization=organization, actor=actor, action="district_layer.create", obj=layer, name=name)
    return layer


@transaction.atomic
def district_layer_update(*, layer: DistrictLayer, actor: User | None, **changes: Any) -> DistrictLayer:
    """An organizer renames or describes a layer: only the fields given are written."""
    _only(LAYER_EDITABLE, changes, "district_layer_update")
    if not changes:
        return layer
    _check_layer(
        layer.organization_id, {name: changes.get(name, getattr(layer, name)) for name in LAYER_EDITABLE}, layer.pk
    )
    # save(update_fields) so updated_at (auto_now) moves with the change.
    for name, value in changes.items():
        setattr(layer, name, value)
    layer.save(update_fields=[*changes, "updated_at"])
    audit_log(
        organization=layer.organization, actor=actor, action="district_layer.update", obj=layer, fields=sorted(changes)
    )
    return layer


@transaction.atomic
def district_layer_delete(*, layer: DistrictLayer, actor: User | None) -> None:
    """Delete a layer with its districts; refused while a campaign targets one of them."""
    districts = District.objects.filter(layer=layer)
    _check_not_targeted(districts, f"A district of {layer.name}")
    door_ids = _doors_losing_links(layer.organization, districts)
    audit_log(
        organization=layer.organization,
        actor=actor,
        action="district_layer.delete",
        obj=layer,
        name=layer.name,
        districts=districts.count(),
        doors=len(door_ids),
    )
    organization_id = layer.organization_id
    layer.delete()
    districts_removed(organization_id=organization_id, door_ids=door_ids)


def _check_district(layer_id: int, values: dict[str, Any], district_id: int) -> None:
    _check_text(values, District, ("external_id", "name"), required=("external_id", "name"))
    properties = values["properties"]
    if not isinstance(properties, dict):
        raise ValidationError({"properties": 'Properties are a JSON object: {"name": value, …}.'})
    if has_nul(properties):
        raise ValidationError({"properties": "A property holds a NUL character (the database cannot store it)."})
    taken = District.objects.filter(layer_id=layer_id, external_id=values["external_id"]).exclude(pk=district_id)
    if taken.exists():
        raise ValidationError({"external_id": "The layer has a district with this id."})


@transaction.atomic
def district_update(*, district: District, actor: User | None, **changes: Any) -> District:
    """An organizer renames a district or corrects its id or properties (its
    geometry and layer come from the boundary file): only the fields given are written."""
    _only(DISTRICT_EDITABLE, changes, "district_update")
    if not changes:
        return district
    merged = {name: changes.get(name, getattr(district, name)) for name in DISTRICT_EDITABLE}
    _check_district(district.layer_id, merged, district.pk)
    for name, value in changes.items():
        setattr(district, name, value)
    district.save(update_fields=[*changes, "updated_at"])
    audit_log(
        organization=district.organization, actor=actor, action="district.update", obj=district, fields=sorted(changes)
    )
    return district


@transaction.atomic
def district_delete(*, district: District, actor: User | None) -> None:
    """Delete a district; refused while a campaign targets it. Turfs cut in it keep their doors."""
    districts = District.objects.filter(pk=district.pk)
    _check_not_targeted(districts, str(district))
    door_ids = _doors_losing_links(district.organization, districts)
    audit_log(
        organization=district.organization,
        actor=actor,
        action="district.delete",
        obj=district,
        layer_id=district.layer_id,
        external_id=district.external_id,
        name=district.name,
        doors=len(door_ids),
    )
    organization_id = district.organization_id
    district.delete()
    districts_removed(organization_id=organization_id, door_ids=door_ids)


# --- merging doors that are one physical door (street-name aliases) -------------------

# Door ids per IN (...) query: SQLite allows 999 parameters.
_IDS_CHUNK = 500

# Called inside the merge's transaction, before the merged doors are deleted,
# with (organization_id, {survivor id: [merged ids]}); returns the change-log
# entries of what it moved. canvass registers the one that moves knocks and
# turf memberships (turf must not import canvass): canvass/door_merges.py.
DoorsMergedListener = Callable[[int, Mapping[int, Sequence[int]]], list[Change]]
_MERGED: list[DoorsMergedListener] = []


def on_doors_merged(listener: DoorsMergedListener) -> DoorsMergedListener:
    """Register a function that moves what points at doors being merged; see _MERGED."""
    if listener not in _MERGED:
        _MERGED.append(listener)
    return listener


@dataclass
class DoorsMerged:
    doors_merged: int = 0
    people_moved: int = 0
    changes: list[Change] = field(default_factory=list)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _IDS_CHUNK] for i in range(0, len(ids), _IDS_CHUNK)]


@transaction.atomic
def doors_merge(
    *, organization: Organization, merges: Mapping[int, Sequence[int]], actor: User | None = None, reason: str = ""
) -> DoorsMerged:
    """Merge doors into a surviving door each: {survivor id: [ids merged into it]}.

    Everything that points at a merged door moves to its survivor: its people
    here, its knocks and turf memberships through the on_doors_merged listeners
    (canvass), its aliases; its own spelling becomes an alias of the survivor.
    Then the merged door is deleted (its district links with it: the survivor
    is at the same point). Audited per survivor; the change log gets the
    survivor (an update), each merged door (gone: phones drop it, the turfs
    that listed it are logged by the listener), and each moved person.
    """
    merges = {int(s): sorted({int(m) for m in ms} - {int(s)}) for s, ms in merges.items()}
    merges = {s: ms for s, ms in merges.items() if ms}
    result = DoorsMerged()
    if not merges:
        return result
    organization_doors_lock(organization=organization)
    merged_ids = sorted(m for ms in merges.values() for m in ms)
    if len(set(merged_ids)) != len(merged_ids) or set(merged_ids) & set(merges):
        raise ValueError("a door is merged twice, or merged and surviving")
    everyone = sorted([*merges, *merged_ids])
    spellings: dict[int, tuple[str, str, str, str, str]] = {}
    for chunk in _chunks(everyone):
        for pk, key, pre, name, type_, post in Door.objects.filter(organization=organization, pk__in=chunk).values_list(
            "pk", "address_key", "pre_dir", "street_name", "street_type", "post_dir"
        ):
            spellings[pk] = (key, pre, name, type_, post)
    if len(spellings) != len(everyone):
        raise ValueError("every door merged must exist and belong to the organization")

    changes: list[Change] = []
    for survivor, merged in merges.items():
        moved = list(Person.objects.filter(door_id__in=merged).values_list("pk", flat=True))
        if moved:
            Person.objects.filter(pk__in=moved).update(door_id=survivor)
        result.people_moved += len(moved)
        changes += [Change(kind=SyncChange.Kind.PERSON, object_id=pk, door_id=survivor) for pk in moved]
        DoorAlias.objects.filter(door_id__in=merged).update(door_id=survivor)
    for listener in _MERGED:
        changes += listener(organization.pk, merges)
    aliases = [
        DoorAlias(
            organization=organization,
            door_id=survivor,
            address_key=spellings[m][0],
            pre_dir=spellings[m][1],
            street_name=spellings[m][2],
            street_type=spellings[m][3],
            post_dir=spellings[m][4],
            merged_door_id=m,
        )
        for survivor, merged in merges.items()
        for m in merged
    ]
    for chunk in _chunks(merged_ids):
        # The merged doors' keys become the survivors' aliases once the doors are gone.
        DoorAlias.objects.filter(organization=organization, address_key__in=[spellings[m][0] for m in chunk]).delete()
        Door.objects.filter(pk__in=chunk).delete()
    DoorAlias.objects.bulk_create(aliases)
    for survivor, merged in merges.items():
        audit_log(
            organization=organization,
            actor=actor,
            action="doors.merge",
            obj=None,
            door=survivor,
            address_key=spellings[survivor][0],
            merged={str(m): spellings[m][0] for m in merged},
            reason=reason,
        )
        changes.append(Change(kind=SyncChange.Kind.DOOR, object_id=survivor, door_id=survivor))
        changes += [Change(kind=SyncChange.Kind.DOOR, object_id=m, door_id=m) for m in merged]
    result.doors_merged = len(merged_ids)
    result.changes = changes
    # Last: the change log's counter lock is held from here to commit.
    sync_changes_record_many(organization_id=organization.pk, changes=changes)
    return result


@transaction.atomic
def door_display_spelling_set(*, door: Door, alias: DoorAlias, actor: User | None) -> Door:
    """Show the door under one of its aliases (an organizer's choice over the
    rule of turf/addresses.py is_route_name): the two spellings swap, and the
    choice is pinned (extra["display_pinned"]) so that re-imports keep it."""
    if alias.door_id != door.pk:
        raise ValidationError({"alias": "This spelling is not an alias of the door."})
    organization_doors_lock(organization=door.organization)
    old = (door.address_key, door.pre_dir, door.street_name, door.street_type, door.post_dir)
    new = (alias.address_key, alias.pre_dir, alias.street_name, alias.street_type, alias.post_dir)
    extra = {**(door.extra or {}), "display_pinned": True}
    DoorAlias.objects.filter(pk=alias.pk).delete()
    fields = dict(
        zip(("address_key", "pre_dir", "street_name", "street_type", "post_dir"), new, strict=True), extra=extra
    )
    Door.objects.filter(pk=door.pk).update(**fields)
    for name, value in fields.items():
        setattr(door, name, value)
    DoorAlias.objects.create(
        organization_id=door.organization_id,
        door=door,
        address_key=old[0],
        pre_dir=old[1],
        street_name=old[2],
        street_type=old[3],
        post_dir=old[4],
    )
    audit_log(organization=door.organization, actor=actor, action="door.spelling", obj=door, shown=new[0], alias=old[0])
    _log_door(door)
    return door
