"""Geocoding adapters (no Django): address parts in, a location and its quality out.

Why a local geocoder exists: tests, CI and an organizer's laptop must never
touch the network, and most rows of a voter file name addresses that are
already loaded as address points (the county's address file, the doors of an
earlier import). `LocalGeocoder` answers those from memory, exactly or by
interpolating house numbers along the street; only what it cannot place goes
to a network provider (`GeopyGeocoder`), rate-limited and cached on disk so a
re-run of the same import never asks twice. `geocoder_from_config` builds the
chain from a setting.

Coordinates are WGS84 latitude/longitude. Quality says how far to trust a
point: "exact" (the address itself), "interpolated" (placed between known
house numbers on the street), "approximate" (a neighbour's or the street's
location). Turf cutting and walk order may treat them differently.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from geopy.exc import GeocoderServiceError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import GoogleV3, Nominatim

QUALITIES = ("exact", "interpolated", "approximate")
_QUALITY_RANK = {quality: rank for rank, quality in enumerate(QUALITIES)}

# How far (in house numbers) a lone neighbour may be and still stand in for
# the address: in US block numbering 100 numbers is one block, so 200 keeps
# the guess within about two blocks.
APPROXIMATE_MAX_DISTANCE = 200

_LEADING_DIGITS = re.compile(r"\s*(\d+)")


def _clean(value: str) -> str:
    return " ".join(value.split())


def _norm_zip(value: str) -> str:
    # ZIP+4 ("90291-1234") and ZIP5 name the same area for our purpose.
    return _clean(value)[:5]


def house_number_value(number: str) -> int | None:
    """The integer part of a house number: "12B" → 12, "123 1/2" → 123, "A" → None."""
    match = _LEADING_DIGITS.match(number)
    return int(match.group(1)) if match else None


def street_key_of(*parts: str) -> str:
    """Join street parts as the index key: upper case, single spaces, empties dropped."""
    return " ".join(" ".join(parts).upper().split())


@dataclass(frozen=True)
class AddressQuery:
    number: str = ""
    number_suffix: str = ""  # a fraction ("1/2") or a letter ("B")
    pre_dir: str = ""
    street_name: str = ""
    street_type: str = ""
    post_dir: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""

    @property
    def street_key(self) -> str:
        return street_key_of(self.pre_dir, self.street_name, self.street_type, self.post_dir)

    def one_line(self, *, include_unit: bool = True) -> str:
        """The address as one line for a provider: "123 1/2 S MAIN ST #4, LOS ANGELES, CA 90291"."""
        number = _clean(self.number)
        suffix = _clean(self.number_suffix)
        if suffix:
            # A fraction is written apart ("123 1/2"); a letter sticks ("12B").
            number = f"{number} {suffix}" if "/" in suffix or not number else f"{number}{suffix}"
        street = " ".join(
            part
            for part in (
                number,
                _clean(self.pre_dir),
                _clean(self.street_name),
                _clean(self.street_type),
                _clean(self.post_dir),
            )
            if part
        )
        unit = _clean(self.unit)
        if include_unit and unit:
            # A bare "4" reads as a house number to providers; "#4" and "APT 4" do not.
            street = f"{street} {unit if not unit[0].isdigit() else '#' + unit}"
        state_zip = " ".join(part for part in (_clean(self.state), _clean(self.zip)) if part)
        return ", ".join(part for part in (street, _clean(self.city), state_zip) if part)


@dataclass(frozen=True)
class GeocodeResult:
    lat: float
    lng: float
    quality: str  # one of QUALITIES


@runtime_checkable
class Geocoder(Protocol):
    def geocode(self, query: AddressQuery) -> GeocodeResult | None: ...


@dataclass(frozen=True)
class KnownAddress:
    number: str
    street_key: str
    zip: str
    lat: float
    lng: float


class NullGeocoder:
    """Places nothing: for imports whose rows already carry coordinates or must not be placed."""

    def geocode(self, query: AddressQuery) -> GeocodeResult | None:
        return None


@dataclass
class _Street:
    """Known numbers on one street in one zip, kept sorted per side for bisect."""

    # Even and odd numbers sit on opposite sides of a US street, so they are
    # kept apart: interpolating across sides would put a door mid-street.
    even: list[int] = field(default_factory=list)
    odd: list[int] = field(default_factory=list)
    # One location per integer house number: the first one seen. Address
    # points that share a number (12, 12A, 12 1/2) stand within one lot.
    points: dict[int, tuple[float, float]] = field(default_factory=dict)

    def add(self, value: int, lat: float, lng: float) -> None:
        if value in self.points:
            return
        self.points[value] = (lat, lng)
        insort(self.even if value % 2 == 0 else self.odd, value)

    def locate(self, value: int) -> GeocodeResult | None:
        point = self.points.get(value)
        if point is not None:
            return GeocodeResult(point[0], point[1], "exact")
        same = self.even if value % 2 == 0 else self.odd
        other = self.odd if value % 2 == 0 else self.even
        same_low, same_high = _neighbours(same, value)
        if same_low is not None and same_high is not None:
            return self._interpolate(value, same_low, same_high)
        other_low, other_high = _neighbours(other, value)
        low = _closest(value, same_low, other_low)
        high = _closest(value, same_high, other_high)
        if low is not None and high is not None:
            return self._interpolate(value, low, high)
        # Only one side of the number is known: stand in with the nearest
        # neighbour, same side of the street first, if it is close enough.
        for candidate in (_closest(value, same_low, same_high), _closest(value, other_low, other_high)):
            if candidate is not None and abs(candidate - value) <= APPROXIMATE_MAX_DISTANCE:
                lat, lng = self.points[candidate]
                return GeocodeResult(lat, lng, "approximate")
        return None

    def _interpolate(self, value: int, low: int, high: int) -> GeocodeResult:
        (lat_low, lng_low), (lat_high, lng_high) = self.points[low], self.points[high]
        share = (value - low) / (high - low)
        return GeocodeResult(
            lat_low + (lat_high - lat_low) * share,
            lng_low + (lng_high - lng_low) * share,
            "interpolated",
        )


def _neighbours(numbers: list[int], value: int) -> tuple[int | None, int | None]:
    """The greatest number below `value` and the least above it (`value` itself is not in the list)."""
    at = bisect_left(numbers, value)
    return (numbers[at - 1] if at else None, numbers[at] if at < len(numbers) else None)


def _closest(value: int, *candidates: int | None) -> int | None:
    present = [c for c in candidates if c is not None]
    return min(present, key=lambda c: abs(c - value)) if present else None


class LocalGeocoder:
    """Places addresses from known address points, without the network.

    Exact on (house number, street, zip), ignoring unit and fraction; else
    linear interpolation between the nearest known numbers on the same street
    (same side first); else a lone neighbour within 200 numbers as
    "approximate". Indexed once per street, each lookup is a dict hit and a
    few bisects, so 100k known addresses cost nothing per query.
    """

    def __init__(self, known: Iterable[KnownAddress] = ()) -> None:
        self._streets: dict[tuple[str, str], _Street] = {}
        # Which zips a street appears in, for queries that carry no zip.
        self._zips_by_street: dict[str, list[str]] = {}
        for address in known:
            self.add(address)

    def __len__(self) -> int:
        return sum(len(street.points) for street in self._streets.values())

    def add(self, known: KnownAddress) -> None:
        value = house_number_value(known.number)
        key = street_key_of(known.street_key)
        if value is None or not key:
            return  # an address point with no usable number or street cannot anchor anything
        zip_code = _norm_zip(known.zip)
        street = self._streets.get((key, zip_code))
        if street is None:
            street = self._streets[(key, zip_code)] = _Street()
            self._zips_by_street.setdefault(key, []).append(zip_code)
        street.add(value, known.lat, known.lng)

    def geocode(self, query: AddressQuery) -> GeocodeResult | None:
        value = house_number_value(query.number)
        key = query.street_key
        if value is None or not key:
            return None
        zip_code = _norm_zip(query.zip)
        if zip_code:
            street = self._streets.get((key, zip_code))
            return street.locate(value) if street is not None else None
        # No zip: the same street name may exist in several zips (and towns).
        # Answer only when exactly one of them places the address best;
        # a tie means we cannot tell which street was meant.
        best: list[GeocodeResult] = []
        for candidate_zip in self._zips_by_street.get(key, ()):
            result = self._streets[(key, candidate_zip)].locate(value)
            if result is None:
                continue
            if not best or _QUALITY_RANK[result.quality] < _QUALITY_RANK[best[0].quality]:
                best = [result]
            elif result.quality == best[0].quality:
                best.append(result)
        return best[0] if len(best) == 1 else None


class ChainGeocoder:
    """Asks each geocoder in order; the first answer wins (put cheap, local ones first)."""

    def __init__(self, *geocoders: Geocoder) -> None:
        for geocoder in geocoders:
            if not callable(getattr(geocoder, "geocode", None)):
                raise TypeError(f"ChainGeocoder takes geocoders as separate arguments, got {type(geocoder).__name__}")
        self.geocoders: tuple[Geocoder, ...] = geocoders

    def geocode(self, query: AddressQuery) -> GeocodeResult | None:
        for geocoder in self.geocoders:
            result = geocoder.geocode(query)
            if result is not None:
                return result
        return None


# Google: how precisely the point was placed.
_GOOGLE_LOCATION_TYPES = {
    "ROOFTOP": "exact",
    "RANGE_INTERPOLATED": "interpolated",
    "GEOMETRIC_CENTER": "approximate",
    "APPROXIMATE": "approximate",
}
# Nominatim: kinds of OSM object that are the house itself.
_NOMINATIM_HOUSE_TYPES = frozenset({"house", "building", "house_number"})
# Nominatim's address rank 30 is a house, building or point of interest;
# 26–27 are streets, lower ranks are areas (suburb, city, postcode…).
_NOMINATIM_HOUSE_RANK = 30


def quality_from_raw(raw: Any) -> str:
    """Read the provider's own word on how precise its answer is; "exact" when it says nothing."""
    if not isinstance(raw, dict):
        return "exact"
    geometry = raw.get("geometry")
    if isinstance(geometry, dict) and geometry.get("location_type") in _GOOGLE_LOCATION_TYPES:
        return _GOOGLE_LOCATION_TYPES[geometry["location_type"]]
    try:
        rank = int(raw["place_rank"])
    except (KeyError, TypeError, ValueError):
        rank = None
    if rank is not None:
        return "exact" if rank >= _NOMINATIM_HOUSE_RANK else "approximate"
    osm_class = raw.get("class", raw.get("category"))
    osm_type = raw.get("type")
    if osm_class == "building" or (osm_class == "place" and osm_type == "house"):
        return "exact"  # any building, whatever its type ("yes", "residential", …)
    addresstype = raw.get("addresstype")
    if addresstype is not None:
        return "exact" if addresstype in _NOMINATIM_HOUSE_TYPES else "approximate"
    if osm_type is not None:
        # By type alone: "residential" is a street on a highway and an area on landuse.
        return "exact" if osm_type in _NOMINATIM_HOUSE_TYPES else "approximate"
    return "exact"


class _MemoryCache:
    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], GeocodeResult | None] = {}
        self._lock = threading.Lock()

    def get(self, provider: str, address: str) -> tuple[bool, GeocodeResult | None]:
        with self._lock:
            key = (provider, address)
            return (key in self._rows, self._rows.get(key))

    def put(self, provider: str, address: str, result: GeocodeResult | None) -> None:
        with self._lock:
            self._rows[(provider, address)] = result

    def close(self) -> None:
        pass


class _SqliteCache:
    """Provider answers on disk, so a re-run of an import (or a crash halfway) asks nothing twice."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the threads of one process, serialised by a lock.
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS geocode_cache ("
                " provider TEXT NOT NULL, address TEXT NOT NULL,"
                " lat REAL, lng REAL, quality TEXT,"  # all NULL: the provider found nothing
                " fetched_at REAL NOT NULL,"
                " PRIMARY KEY (provider, address))"
            )

    def get(self, provider: str, address: str) -> tuple[bool, GeocodeResult | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT lat, lng, quality FROM geocode_cache WHERE provider = ? AND address = ?",
                (provider, address),
            ).fetchone()
        if row is None:
            return (False, None)
        lat, lng, quality = row
        return (True, None if lat is None else GeocodeResult(lat, lng, quality))

    def put(self, provider: str, address: str, result: GeocodeResult | None) -> None:
        values = (None, None, None) if result is None else (result.lat, result.lng, result.quality)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO geocode_cache VALUES (?, ?, ?, ?, ?, ?)",
                (provider, address, *values, time.time()),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


class GeopyGeocoder:
    """A geopy geocoder behind a rate limit and a cache; network errors cost one address, not the import.

    `provider` is any object with `.geocode(query, exactly_one=True, timeout=...)`
    returning a geopy Location (or None). Answers, including "not found", are
    cached under (provider class, normalized one-line address) — on disk when
    `cache_path` is given, else for the life of this object. Errors are not
    cached: a timeout says nothing about the address, so the next run asks again.
    """

    def __init__(
        self,
        provider: Any,
        *,
        min_delay_seconds: float = 1.0,
        cache_path: str | Path | None = None,
        timeout: float = 10,
        error_wait_seconds: float = 5.0,
    ) -> None:
        self.provider = provider
        self.timeout = timeout
        self.min_delay_seconds = min_delay_seconds
        # Results of different services differ; one cache file may serve several.
        self.provider_name = type(provider).__name__
        self._geocode = RateLimiter(
            provider.geocode,
            min_delay_seconds=min_delay_seconds,
            max_retries=2,
            # RateLimiter insists on waiting at least the normal delay after an error.
            error_wait_seconds=max(error_wait_seconds, min_delay_seconds),
            # We catch errors ourselves, to count them and to keep them out of the cache.
            swallow_exceptions=False,
        )
        self._cache: _MemoryCache | _SqliteCache = (
            _SqliteCache(Path(cache_path)) if cache_path is not None else _MemoryCache()
        )
        self._counter_lock = threading.Lock()
        self.failures = 0  # addresses given up on after errors and retries
        self.requests = 0  # addresses sent to the provider (retries not counted)
        self.cache_hits = 0

    @staticmethod
    def cache_key(query: AddressQuery) -> str:
        # The unit is left out: every unit of a building stands at the building's
        # location, and providers (Nominatim above all) often miss "#4" or "APT 4".
        # A 200-unit building thus costs one request, not 200.
        return _clean(query.one_line(include_unit=False)).upper()

    def geocode(self, query: AddressQuery) -> GeocodeResult | None:
        address = self.cache_key(query)
        if not address:
            return None
        found, cached = self._cache.get(self.provider_name, address)
        if found:
            with self._counter_lock:
                self.cache_hits += 1
            return cached
        with self._counter_lock:
            self.requests += 1
        try:
            # GeocoderTimedOut and GeocoderUnavailable are GeocoderServiceErrors.
            location = self._geocode(address, exactly_one=True, timeout=self.timeout)
        except GeocoderServiceError:
            with self._counter_lock:
                self.failures += 1
            return None
        result = None
        if location is not None:
            result = GeocodeResult(
                float(location.latitude),
                float(location.longitude),
                quality_from_raw(getattr(location, "raw", None)),
            )
        self._cache.put(self.provider_name, address, result)
        return result

    def close(self) -> None:
        self._cache.close()


GEOCODER_NAMES = ("local", "none", "nominatim", "google")

# Nominatim's usage policy: at most one request per second, whatever the caller asks.
NOMINATIM_MIN_DELAY_SECONDS = 1.0


def geocoder_from_config(
    name: str,
    *,
    local: LocalGeocoder | None,
    user_agent: str = "",
    api_key: str = "",
    min_delay_seconds: float = 1.0,
    cache_path: str | Path | None = None,
) -> Geocoder:
    """Build the geocoder a setting names. Network providers are asked only after `local`."""
    choice = name.strip().lower()
    if choice == "local":
        return local if local is not None else LocalGeocoder()
    if choice == "none":
        return NullGeocoder()
    if choice == "nominatim":
        if not user_agent.strip():
            raise ValueError(
                "the nominatim geocoder needs a user agent that identifies this deployment "
                "(e.g. 'fieldops-mychapter/1.0 admin@example.org'): Nominatim's usage policy "
                "blocks anonymous clients"
            )
        remote = GeopyGeocoder(
            Nominatim(user_agent=user_agent.strip()),
            min_delay_seconds=max(min_delay_seconds, NOMINATIM_MIN_DELAY_SECONDS),
            cache_path=cache_path,
        )
    elif choice == "google":
        if not api_key.strip():
            raise ValueError("the google geocoder needs an API key (Google Maps Geocoding API)")
        remote = GeopyGeocoder(
            GoogleV3(api_key=api_key.strip()), min_delay_seconds=min_delay_seconds, cache_path=cache_path
        )
    else:
        raise ValueError(f"unknown geocoder {name!r}; choose one of: {', '.join(GEOCODER_NAMES)}")
    return ChainGeocoder(local, remote) if local is not None else ChainGeocoder(remote)
