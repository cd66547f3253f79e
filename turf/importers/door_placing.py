"""Placing the doors of a file that gave no coordinates: kept from the database, or geocoded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings

from fieldops.models import Organization
from turf import addresses as addr
from turf.importers.base import ImportAborted
from turf.importers.door_rows import DEFAULT_STATE, DoorRow
from turf.importers.door_writing import ExistingDoor
from turf.models import Door, GeocodeQuality

if TYPE_CHECKING:
    from turf.geocoding import Geocoder


def place_doors(
    organization: Organization,
    doors: dict[str, DoorRow],
    existing: dict[str, ExistingDoor],
    geocoder: Geocoder | None,
) -> tuple[int, list[DoorRow]]:
    """Locate doors without file coordinates; returns (how many geocoded, the ones left unplaced).

    A door already in the database keeps its location (hand-placed or
    geocoded before) when the file gives none, so a re-import never asks the
    geocoder twice. Hand-placed doors keep their location even when the file
    gives one: an organizer moved them for a reason.
    """
    pending: list[DoorRow] = []
    for key, door in doors.items():
        old = existing.get(key)
        keep_old = old is not None and old.lat is not None
        if keep_old and old is not None and (door.lat is None or old.quality == GeocodeQuality.MANUAL):
            door.lat, door.lng = old.lat, old.lng
            door.quality = old.quality
            continue
        if door.lat is None:
            pending.append(door)
    if not pending:
        return 0, []
    from turf import geocoding  # noqa: PLC0415 - only imports that need it pay for geopy

    if geocoder is None:
        local = geocoding.LocalGeocoder(_known_addresses(organization, doors))
        try:
            geocoder = geocoding.geocoder_from_config(
                settings.GEOCODER,
                local=local,
                user_agent=settings.GEOCODER_USER_AGENT,
                api_key=settings.GEOCODER_API_KEY,
                min_delay_seconds=settings.GEOCODER_MIN_DELAY_SECONDS,
                cache_path=settings.GEOCODER_CACHE_PATH,
            )
        except ValueError as exc:
            raise ImportAborted(f"geocoder: {exc}") from None
    geocoded = 0
    unplaced: list[DoorRow] = []
    for door in pending:
        a = door.address
        result = geocoder.geocode(
            geocoding.AddressQuery(
                number=a.number,
                number_suffix=a.number_suffix,
                pre_dir=a.pre_dir,
                street_name=a.street_name,
                street_type=a.street_type,
                post_dir=a.post_dir,
                unit=a.unit,
                city=a.city,
                state=a.state or DEFAULT_STATE,
                zip=a.zip,
            )
        )
        if result is None:
            unplaced.append(door)
            continue
        door.lat, door.lng, door.quality = result.lat, result.lng, result.quality
        geocoded += 1
    close = getattr(geocoder, "close", None)
    if callable(close):
        close()
    return geocoded, unplaced


def _known_addresses(organization: Organization, doors: dict[str, DoorRow]) -> Iterator[Any]:
    from turf.geocoding import KnownAddress  # noqa: PLC0415

    # Only points from the source or placed by hand anchor interpolation:
    # anchoring on earlier guesses would compound their error.
    anchors = (GeocodeQuality.SOURCE, GeocodeQuality.MANUAL, GeocodeQuality.EXACT)
    rows = (
        Door.objects.filter(organization=organization, lat__isnull=False, geocode_quality__in=anchors)
        .values_list("number", "pre_dir", "street_name", "street_type", "post_dir", "zip", "lat", "lng")
        .iterator(chunk_size=20_000)
    )
    for number, pre_dir, street_name, street_type, post_dir, zip_code, lat, lng in rows:
        if lat is None or lng is None:  # never: a door has both or neither (door_lat_lng_together)
            continue
        street = addr.street_key_of(pre_dir, street_name, street_type, post_dir)
        yield KnownAddress(number=number, street_key=street, zip=zip_code, lat=lat, lng=lng)
    for door in doors.values():
        if door.lat is not None and door.lng is not None and door.quality == GeocodeQuality.SOURCE:
            number, _, pre, name, type_, post, _, _, _, _, zip_code = door.parts
            street = addr.street_key_of(pre, name, type_, post)
            yield KnownAddress(number=number, street_key=street, zip=zip_code, lat=door.lat, lng=door.lng)
