"""Address normalization: USPS abbreviations, keys, single-line parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turf.addresses import (
    NormalizedAddress,
    normalize,
    normalize_address,
    normalize_number,
    normalize_zip,
    parse_one_line,
    street_key_of,
)


def test_parts_are_upper_cased_trimmed_and_abbreviated():
    address = normalize_address(
        number=" 1010 ",
        pre_dir="south",
        street_name="  abbot   kinney ",
        street_type="Boulevard",
        post_dir="",
        unit_type="Apartment",
        unit="4b",
        city="venice",
        state="ca",
        zip="90291-1234",
    )
    assert address == NormalizedAddress(
        number="1010",
        pre_dir="S",
        street_name="ABBOT KINNEY",
        street_type="BLVD",
        unit_type="APT",
        unit="4B",
        city="VENICE",
        state="CA",
        zip="90291",
    )
    assert address.street_key == "S ABBOT KINNEY BLVD"
    assert address.address_key == "1010||S|ABBOT KINNEY|BLVD||4B|90291"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AVENUE", "AVE"),
        ("BOULEVARD", "BLVD"),
        ("STREET", "ST"),
        ("St.", "ST"),
        ("COURT", "CT"),
        ("PLACE", "PL"),
        ("WALK", "WALK"),
        ("WAY", "WAY"),
        ("DRIVE", "DR"),
        ("MALL", "MALL"),
        ("CIRCLE", "CIR"),
        ("LANE", "LN"),
        ("", ""),
        ("ESPLANADE", "ESPLANADE"),  # unknown suffixes are kept, not guessed
    ],
)
def test_street_suffixes_use_usps_abbreviations(raw, expected):
    assert normalize_address(number="1", street_name="X", street_type=raw).street_type == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("NORTH", "N"), ("south", "S"), ("East", "E"), ("WEST", "W"), ("NORTHWEST", "NW"), ("N.", "N")],
)
def test_directionals_are_abbreviated(raw, expected):
    address = normalize_address(number="1", pre_dir=raw, street_name="X", post_dir=raw)
    assert (address.pre_dir, address.post_dir) == (expected, expected)


def test_unit_designators_and_hash_units():
    assert normalize_address(number="1", street_name="X", unit_type="APARTMENT", unit="2").unit_type == "APT"
    assert normalize_address(number="1", street_name="X", unit_type="unit", unit="2").unit_type == "UNIT"
    hashed = normalize_address(number="1", street_name="X", unit="# 5")
    assert (hashed.unit_type, hashed.unit) == ("#", "5")
    # The designator is not part of the key: APT 5 and # 5 at one address are one door.
    assert hashed.address_key == normalize_address(number="1", street_name="X", unit_type="APT", unit="5").address_key


def test_house_number_fraction_is_kept_and_split_from_the_number():
    assert normalize_number("123", "1/2") == ("123", "1/2")
    assert normalize_number("123 1/2", "") == ("123", "1/2")
    assert normalize_number("12b", "") == ("12B", "")
    key_split = normalize_address(number="123 1/2", street_name="MAIN").address_key
    key_apart = normalize_address(number="123", number_suffix="1/2", street_name="MAIN").address_key
    assert key_split == key_apart == "123|1/2||MAIN||||"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("90291", "90291"), ("90291-1234", "90291"), ("902911234", "90291"), ("2134", "02134"), ("", ""), ("n/a", "N/A")],
)
def test_zip_is_cut_to_five_digits(raw, expected):
    assert normalize_zip(raw) == expected


def test_street_key_joins_parts_without_empties():
    assert street_key_of("S", "ABBOT KINNEY", "BLVD", "") == "S ABBOT KINNEY BLVD"
    assert street_key_of("", "PCH", "", "") == "PCH"


def test_parse_one_line_splits_a_full_address():
    address = parse_one_line("123 1/2 South Main Street Apt. 4, Venice, CA 90291-1234")
    assert address == NormalizedAddress(
        number="123",
        number_suffix="1/2",
        pre_dir="S",
        street_name="MAIN",
        street_type="ST",
        unit_type="APT",
        unit="4",
        city="VENICE",
        state="CA",
        zip="90291",
    )


def test_parse_one_line_agrees_with_the_parts_layout():
    parsed = parse_one_line("201 Dimmick Avenue, Venice CA 90405")
    parts = normalize_address(number="201", street_name="DIMMICK", street_type="AVENUE", zip="90405")
    assert parsed.address_key == parts.address_key


def test_parse_one_line_reads_hash_units():
    address = parse_one_line("12 Main St #5 Venice CA 90291")
    assert (address.number, address.street_name, address.unit_type, address.unit) == ("12", "MAIN", "#", "5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("PO Box 123, Venice CA 90291", "PO box"),
        ("hello world", "not a street address"),
        ("Main Street, Venice CA", "not a street address"),
        ("123 Main St, 456 Oak Ave, Venice, CA 90291, Venice, CA 90291", "more than one address"),
    ],
)
def test_parse_one_line_refuses_garbage_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        parse_one_line(text)


_part = st.text(alphabet=st.sampled_from(list("abcNSEW stre.#-/ 0123456789AVEBLVD")), max_size=14)


@given(
    number=_part,
    suffix=_part,
    pre_dir=_part,
    street_name=_part,
    street_type=_part,
    post_dir=_part,
    unit_type=_part,
    unit=_part,
    zip_code=_part,
)
def test_normalize_is_idempotent(
    number, suffix, pre_dir, street_name, street_type, post_dir, unit_type, unit, zip_code
):
    once = normalize_address(
        number=number,
        number_suffix=suffix,
        pre_dir=pre_dir,
        street_name=street_name,
        street_type=street_type,
        post_dir=post_dir,
        unit_type=unit_type,
        unit=unit,
        zip=zip_code,
    )
    assert normalize(once) == once
    assert normalize(once).address_key == once.address_key


_words = st.lists(st.sampled_from(["abbot", "KINNEY", "Main", "7th", "Ocean", "front"]), min_size=1, max_size=3)


@given(
    number=st.integers(min_value=1, max_value=99999),
    words=_words,
    street_type=st.sampled_from(["avenue", "AVE", "Boulevard", "st", "Street", "", "walk"]),
    pre_dir=st.sampled_from(["", "south", "S", "North", "n"]),
    upper=st.booleans(),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_key_is_stable_under_case_and_space_changes(number, words, street_type, pre_dir, upper, pad):
    plain = normalize_address(
        number=str(number), pre_dir=pre_dir, street_name=" ".join(words), street_type=street_type, zip="90291"
    )
    name = (pad + "  ".join(words) + pad).upper() if upper else (pad + " ".join(w.lower() for w in words) + pad)
    noisy = normalize_address(
        number=f"{pad}{number}{pad}",
        pre_dir=f"{pad}{pre_dir.swapcase()}",
        street_name=name,
        street_type=f"{street_type.swapcase()}{pad}",
        zip=f"{pad}90291",
    )
    assert noisy.address_key == plain.address_key
    assert noisy.street_key == plain.street_key
