"""Geocoding adapters: the local geocoder's matching rules and the geopy wrapper's
cache, rate-limit and error handling. No test here touches the network: providers
are fakes, and the real geopy classes are only constructed."""

from __future__ import annotations

import random
import threading
import time

import pytest
from geopy.exc import GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable
from geopy.geocoders import GoogleV3, Nominatim
from geopy.location import Location

from turf.geocoding import (
    AddressQuery,
    ChainGeocoder,
    Geocoder,
    GeocodeResult,
    GeopyGeocoder,
    KnownAddress,
    LocalGeocoder,
    NullGeocoder,
    geocoder_from_config,
    house_number_value,
    quality_from_raw,
)

STREET = "S MAIN ST"


def known(number: str, lat: float, lng: float, street: str = STREET, zip: str = "90291") -> KnownAddress:
    return KnownAddress(number=number, street_key=street, zip=zip, lat=lat, lng=lng)


def main_st(number: str, zip: str = "90291", **extra: str) -> AddressQuery:
    return AddressQuery(number=number, pre_dir="S", street_name="MAIN", street_type="ST", zip=zip, **extra)


# --- AddressQuery -------------------------------------------------------------------------------


def test_street_key_joins_parts_upper_case_and_drops_empties():
    query = AddressQuery(number="1", pre_dir="", street_name=" abbot  kinney ", street_type="blvd", post_dir="")
    assert query.street_key == "ABBOT KINNEY BLVD"
    assert AddressQuery(pre_dir="S", street_name="MAIN", street_type="ST", post_dir="W").street_key == ("S MAIN ST W")


def test_one_line_reads_like_a_mailing_address():
    query = AddressQuery(
        number="123",
        number_suffix="1/2",
        pre_dir="S",
        street_name="MAIN",
        street_type="ST",
        unit="4",
        city="LOS ANGELES",
        state="CA",
        zip="90291",
    )
    assert query.one_line() == "123 1/2 S MAIN ST #4, LOS ANGELES, CA 90291"
    assert query.one_line(include_unit=False) == "123 1/2 S MAIN ST, LOS ANGELES, CA 90291"


def test_one_line_keeps_unit_designators_and_skips_missing_parts():
    assert AddressQuery(number="12", number_suffix="B", street_name="OCEAN", street_type="AVE").one_line() == (
        "12B OCEAN AVE"
    )
    assert AddressQuery(number="5", street_name="RAY", street_type="CT", unit="APT 2", zip="90291").one_line() == (
        "5 RAY CT APT 2, 90291"
    )


def test_house_number_value_uses_leading_digits():
    assert house_number_value("12B") == 12
    assert house_number_value(" 123 1/2") == 123
    assert house_number_value("B12") is None
    assert house_number_value("") is None


# --- LocalGeocoder ------------------------------------------------------------------------------


def test_exact_match_on_number_street_and_zip():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0), known("102", 34.1, -118.1)])
    assert geocoder.geocode(main_st("102")) == GeocodeResult(34.1, -118.1, "exact")


def test_exact_match_ignores_unit_fraction_and_zip_plus_four():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0)])
    for query in (
        main_st("100", unit="4"),
        main_st("100", number_suffix="1/2"),
        main_st("100", zip="90291-1234"),
        main_st("100B"),
    ):
        assert geocoder.geocode(query) == GeocodeResult(34.0, -118.0, "exact"), query


def test_interpolates_linearly_between_lower_and_higher_numbers():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0), known("200", 34.01, -118.02)])
    result = geocoder.geocode(main_st("150"))
    assert result is not None
    assert result.quality == "interpolated"
    assert result.lat == pytest.approx(34.005)
    assert result.lng == pytest.approx(-118.01)
    quarter = geocoder.geocode(main_st("124"))
    assert quarter is not None
    assert quarter.lat == pytest.approx(34.0024)


def test_interpolation_prefers_the_same_side_of_the_street():
    # Odd numbers on the west side (lng -118.001), even on the east (-118.000).
    geocoder = LocalGeocoder(
        [
            known("101", 34.000, -118.001),
            known("199", 34.010, -118.001),
            known("140", 34.004, -118.000),
            known("160", 34.006, -118.000),
        ]
    )
    odd = geocoder.geocode(main_st("151"))
    assert odd is not None and odd.quality == "interpolated"
    assert odd.lng == pytest.approx(-118.001)  # between 101 and 199, not between 140 and 160
    assert odd.lat == pytest.approx(34.0 + 0.01 * 50 / 98)
    even = geocoder.geocode(main_st("150"))
    assert even is not None
    assert even.lat == pytest.approx(34.005) and even.lng == pytest.approx(-118.000)


def test_interpolation_falls_back_to_the_other_side_when_one_side_is_unbracketed():
    # 151 has only an odd neighbour below; the nearest above is the even 160.
    geocoder = LocalGeocoder([known("141", 34.0, -118.0), known("160", 34.019, -118.0)])
    result = geocoder.geocode(main_st("151"))
    assert result is not None and result.quality == "interpolated"
    assert result.lat == pytest.approx(34.01)


def test_one_neighbour_within_200_numbers_is_approximate():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0)])
    assert geocoder.geocode(main_st("250")) == GeocodeResult(34.0, -118.0, "approximate")
    assert geocoder.geocode(main_st("300")) == GeocodeResult(34.0, -118.0, "approximate")
    assert geocoder.geocode(main_st("301")) is None


def test_approximate_prefers_a_same_side_neighbour():
    geocoder = LocalGeocoder([known("110", 34.0, -118.0), known("121", 34.5, -118.5)])
    # Both neighbours are below 130: bracket incomplete, so a neighbour stands in.
    assert geocoder.geocode(main_st("130")) == GeocodeResult(34.0, -118.0, "approximate")
    assert geocoder.geocode(main_st("131")) == GeocodeResult(34.5, -118.5, "approximate")


def test_no_match_gives_none():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0)])
    assert geocoder.geocode(main_st("100", zip="90066")) is None  # same street, other zip
    assert geocoder.geocode(AddressQuery(number="100", street_name="OCEAN", zip="90291")) is None
    assert geocoder.geocode(main_st("")) is None
    assert geocoder.geocode(main_st("B")) is None
    assert LocalGeocoder([]).geocode(main_st("100")) is None


def test_empty_zip_matches_when_the_street_is_unambiguous():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0), known("200", 34.01, -118.0)])
    assert geocoder.geocode(main_st("100", zip="")) == GeocodeResult(34.0, -118.0, "exact")
    interpolated = geocoder.geocode(main_st("150", zip=""))
    assert interpolated is not None and interpolated.quality == "interpolated"


def test_empty_zip_refuses_a_number_known_in_two_zips():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0, zip="90291"), known("100", 33.0, -117.0, zip="90405")])
    assert geocoder.geocode(main_st("100", zip="")) is None
    # With a zip it is plain again.
    assert geocoder.geocode(main_st("100", zip="90405")) == GeocodeResult(33.0, -117.0, "exact")


def test_empty_zip_takes_the_zip_that_places_the_address_best():
    # One long street across two zips: 1500 is known exactly only in 90292.
    geocoder = LocalGeocoder(
        [
            known("1350", 34.0, -118.0, zip="90291"),  # alone, 150 away: "approximate" there
            known("1400", 34.1, -118.1, zip="90292"),
            known("1500", 34.2, -118.2, zip="90292"),
        ]
    )
    assert geocoder.geocode(main_st("1500", zip="")) == GeocodeResult(34.2, -118.2, "exact")


def test_add_extends_the_index_after_construction():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0)])
    geocoder.add(known("200", 34.01, -118.0))
    result = geocoder.geocode(main_st("150"))
    assert result is not None and result.quality == "interpolated"
    assert len(geocoder) == 2


def test_street_keys_are_compared_normalized():
    geocoder = LocalGeocoder([known("100", 34.0, -118.0, street=" s  main st")])
    assert geocoder.geocode(main_st("100")) == GeocodeResult(34.0, -118.0, "exact")


def test_local_geocoder_is_fast_for_100k_known_addresses():
    rng = random.Random(7)
    addresses = [
        known(str(number), 34.0 + number * 1e-5, -118.0 - street * 1e-4, street=f"STREET {street} ST")
        for street in range(1000)
        for number in range(100, 300, 2)
    ]
    started = time.perf_counter()
    geocoder = LocalGeocoder(addresses)
    queries = [
        AddressQuery(
            number=str(rng.randrange(90, 320)),
            street_name=f"STREET {rng.randrange(1000)}",
            street_type="ST",
            zip="90291",
        )
        for _ in range(10_000)
    ]
    answers = [geocoder.geocode(query) for query in queries]
    elapsed = time.perf_counter() - started
    assert len(geocoder) == 100_000
    assert sum(answer is not None for answer in answers) > 9_000
    assert elapsed < 5, f"100k index + 10k lookups took {elapsed:.2f}s"


# --- GeopyGeocoder ------------------------------------------------------------------------------


class FakeProvider:
    """Stands in for a geopy geocoder: answers from a dict, records every call."""

    def __init__(self, answers: dict[str, Location | None] | None = None, error: Exception | None = None):
        self.answers = answers or {}
        self.error = error
        self.calls: list[tuple[str, dict]] = []

    def geocode(self, query: str, exactly_one: bool = True, timeout: float | None = None):
        self.calls.append((query, {"exactly_one": exactly_one, "timeout": timeout}))
        if self.error is not None:
            raise self.error
        return self.answers.get(query)


HOUSE = main_st("123", city="Los Angeles", state="CA", unit="4")
HOUSE_LINE = "123 S MAIN ST, LOS ANGELES, CA 90291"


def location(lat: float, lng: float, raw: dict | None = None) -> Location:
    return Location(HOUSE_LINE, (lat, lng), raw if raw is not None else {"place_rank": 30})


def fast(provider: FakeProvider, **kwargs) -> GeopyGeocoder:
    return GeopyGeocoder(provider, min_delay_seconds=0, error_wait_seconds=0, **kwargs)


def test_geopy_geocoder_maps_a_location_and_passes_timeout():
    provider = FakeProvider({HOUSE_LINE: location(34.0, -118.0)})
    geocoder = GeopyGeocoder(provider, min_delay_seconds=0, timeout=3)
    assert geocoder.geocode(HOUSE) == GeocodeResult(34.0, -118.0, "exact")
    assert provider.calls == [(HOUSE_LINE, {"exactly_one": True, "timeout": 3})]


def test_second_identical_query_hits_the_disk_cache_across_instances(tmp_path):
    cache = tmp_path / "cache" / "geocode.sqlite3"
    provider = FakeProvider({HOUSE_LINE: location(34.0, -118.0)})
    first = fast(provider, cache_path=cache)
    assert first.geocode(HOUSE) == GeocodeResult(34.0, -118.0, "exact")
    assert first.geocode(HOUSE) == GeocodeResult(34.0, -118.0, "exact")
    assert len(provider.calls) == 1
    first.close()

    second = fast(provider, cache_path=str(cache))
    assert second.geocode(HOUSE) == GeocodeResult(34.0, -118.0, "exact")
    assert len(provider.calls) == 1
    assert second.cache_hits == 1 and second.requests == 0


def test_units_of_one_building_share_one_request(tmp_path):
    provider = FakeProvider({HOUSE_LINE: location(34.0, -118.0)})
    geocoder = fast(provider, cache_path=tmp_path / "c.sqlite3")
    for unit in ("1", "2", "APT 3", ""):
        assert geocoder.geocode(main_st("123", city="LOS ANGELES", state="CA", unit=unit)) is not None
    assert len(provider.calls) == 1


def test_cache_key_is_normalized():
    provider = FakeProvider({HOUSE_LINE: location(34.0, -118.0)})
    geocoder = fast(provider)
    geocoder.geocode(HOUSE)
    geocoder.geocode(main_st("123", city=" los  angeles ", state="ca"))
    assert len(provider.calls) == 1


def test_a_none_answer_is_cached_too(tmp_path):
    cache = tmp_path / "geocode.sqlite3"
    provider = FakeProvider({})
    geocoder = fast(provider, cache_path=cache)
    assert geocoder.geocode(HOUSE) is None
    assert geocoder.geocode(HOUSE) is None
    assert fast(provider, cache_path=cache).geocode(HOUSE) is None
    assert len(provider.calls) == 1
    assert geocoder.failures == 0


def test_memory_cache_without_a_path():
    provider = FakeProvider({})
    geocoder = fast(provider)
    geocoder.geocode(HOUSE)
    geocoder.geocode(HOUSE)
    assert len(provider.calls) == 1


@pytest.mark.parametrize("error", [GeocoderTimedOut("slow"), GeocoderUnavailable("down"), GeocoderServiceError("500")])
def test_provider_errors_give_none_and_count_one_failure(tmp_path, error):
    cache = tmp_path / "geocode.sqlite3"
    provider = FakeProvider(error=error)
    geocoder = fast(provider, cache_path=cache)
    assert geocoder.geocode(HOUSE) is None
    assert geocoder.failures == 1
    assert len(provider.calls) == 3  # the rate limiter's two retries, then give up

    # An error is not an answer: it is not cached, and the address is asked again later.
    provider.error = None
    provider.answers = {HOUSE_LINE: location(34.0, -118.0)}
    assert geocoder.geocode(HOUSE) == GeocodeResult(34.0, -118.0, "exact")
    assert geocoder.failures == 1


def test_one_failing_address_does_not_stop_the_next():
    class Flaky(FakeProvider):
        def geocode(self, query, exactly_one=True, timeout=None):
            self.calls.append((query, {}))
            if query.startswith("1 "):
                raise GeocoderTimedOut("slow")
            return location(34.0, -118.0)

    geocoder = fast(Flaky())
    results = [geocoder.geocode(main_st(number)) for number in ("1", "2", "3")]
    assert results[0] is None
    assert results[1] == results[2] == GeocodeResult(34.0, -118.0, "exact")
    assert geocoder.failures == 1


@pytest.mark.parametrize(
    ("raw", "quality"),
    [
        ({"place_rank": 30, "class": "building", "type": "yes", "addresstype": "building"}, "exact"),
        ({"place_rank": 26, "class": "highway", "type": "residential", "addresstype": "road"}, "approximate"),
        ({"class": "highway", "type": "residential", "addresstype": "road"}, "approximate"),
        ({"class": "place", "type": "postcode", "addresstype": "postcode"}, "approximate"),
        ({"class": "place", "type": "house"}, "exact"),
        ({"class": "building", "type": "residential"}, "exact"),
        ({"class": "landuse", "type": "residential"}, "approximate"),
        ({"addresstype": "house"}, "exact"),
        ({"geometry": {"location_type": "ROOFTOP"}}, "exact"),
        ({"geometry": {"location_type": "RANGE_INTERPOLATED"}}, "interpolated"),
        ({"geometry": {"location_type": "GEOMETRIC_CENTER"}}, "approximate"),
        ({}, "exact"),
        (None, "exact"),
    ],
)
def test_quality_from_raw(raw, quality):
    assert quality_from_raw(raw) == quality


def test_a_street_match_from_the_provider_is_approximate():
    street = {"class": "highway", "type": "primary", "addresstype": "road", "place_rank": 26}
    provider = FakeProvider({HOUSE_LINE: location(34.0, -118.0, street)})
    assert fast(provider).geocode(HOUSE) == GeocodeResult(34.0, -118.0, "approximate")


def test_geopy_geocoder_is_safe_across_threads(tmp_path):
    provider = FakeProvider({f"{n} S MAIN ST, 90291": location(34.0, -118.0) for n in range(40)})
    geocoder = fast(provider, cache_path=tmp_path / "c.sqlite3")
    errors: list[BaseException] = []

    def work():
        try:
            for n in range(40):
                assert geocoder.geocode(main_st(str(n))) is not None
        except BaseException as exc:  # collected, so a failure in a thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert geocoder.requests + geocoder.cache_hits == 160


# --- ChainGeocoder and NullGeocoder --------------------------------------------------------------


class Fixed:
    def __init__(self, result: GeocodeResult | None):
        self.result = result
        self.calls = 0

    def geocode(self, query: AddressQuery) -> GeocodeResult | None:
        self.calls += 1
        return self.result


def test_chain_returns_the_first_hit_and_stops_there():
    first, second, third = Fixed(None), Fixed(GeocodeResult(1, 2, "exact")), Fixed(GeocodeResult(3, 4, "exact"))
    chain = ChainGeocoder(first, second, third)
    assert chain.geocode(HOUSE) == GeocodeResult(1, 2, "exact")
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)


def test_chain_of_misses_is_none():
    assert ChainGeocoder(Fixed(None), NullGeocoder()).geocode(HOUSE) is None
    assert ChainGeocoder().geocode(HOUSE) is None


def test_chain_rejects_a_list_passed_as_one_argument():
    with pytest.raises(TypeError, match="separate arguments"):
        ChainGeocoder([Fixed(None)])  # type: ignore[arg-type]  # the mistake under test


def test_local_then_remote_asks_the_network_only_for_what_local_cannot_place():
    local = LocalGeocoder([known("123", 34.0, -118.0)])
    provider = FakeProvider({"999 S MAIN ST, 90291": location(35.0, -119.0)})
    chain = ChainGeocoder(local, fast(provider))
    assert chain.geocode(main_st("123")) == GeocodeResult(34.0, -118.0, "exact")
    assert provider.calls == []
    assert chain.geocode(main_st("999")) == GeocodeResult(35.0, -119.0, "exact")
    assert len(provider.calls) == 1


# --- geocoder_from_config -----------------------------------------------------------------------


def test_config_local_and_none():
    local = LocalGeocoder([known("123", 34.0, -118.0)])
    assert geocoder_from_config("local", local=local) is local
    empty = geocoder_from_config("local", local=None)
    assert isinstance(empty, LocalGeocoder) and empty.geocode(main_st("123")) is None
    none = geocoder_from_config(" None ", local=local)
    assert none.geocode(main_st("123")) is None
    assert isinstance(none, Geocoder)


def test_config_nominatim_chains_local_first_and_keeps_to_one_request_per_second(tmp_path):
    local = LocalGeocoder([])
    chain = geocoder_from_config(
        "nominatim",
        local=local,
        user_agent="fieldops-test/1.0 test@example.org",
        min_delay_seconds=0.1,
        cache_path=tmp_path / "g.sqlite3",
    )
    assert isinstance(chain, ChainGeocoder)
    assert chain.geocoders[0] is local
    remote = chain.geocoders[1]
    assert isinstance(remote, GeopyGeocoder)
    assert isinstance(remote.provider, Nominatim)
    assert remote.min_delay_seconds == 1.0  # Nominatim's policy, whatever was asked
    remote.close()


def test_config_nominatim_needs_a_user_agent():
    with pytest.raises(ValueError, match="user agent"):
        geocoder_from_config("nominatim", local=None, user_agent="  ")


def test_config_google_needs_an_api_key():
    with pytest.raises(ValueError, match="API key"):
        geocoder_from_config("google", local=None)
    chain = geocoder_from_config("google", local=None, api_key="not-a-real-key")
    assert isinstance(chain, ChainGeocoder)
    (remote,) = chain.geocoders
    assert isinstance(remote, GeopyGeocoder) and isinstance(remote.provider, GoogleV3)


@pytest.mark.parametrize("name", ["census", "mapbox", ""])
def test_config_unknown_name_lists_the_allowed_ones(name):
    with pytest.raises(ValueError, match="local, none, nominatim, google"):
        geocoder_from_config(name, local=None)
