"""Normalization of US street addresses (pure: no Django).

Doors are matched on a normalized key, not on source ids, because the same
address arrives from several sources spelled differently ("SOUTH ABBOT KINNEY
BOULEVARD" and "S Abbot Kinney Blvd"). Normalizing means: upper case, spaces
trimmed and collapsed, trailing periods dropped, USPS abbreviations for street
suffixes (Publication 28, appendix C1), directionals and unit designators
(appendix C2), zip cut to 5 digits. Street names themselves are left alone
("ABBOT KINNEY", "7TH", "PCH"): rewriting them would merge distinct streets.

Every function here is idempotent: normalizing a normalized value changes
nothing, so keys computed on import and keys computed later from stored doors
agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import usaddress

# USPS Publication 28, C1: the common suffixes, full name and variants -> abbreviation.
# The abbreviation maps to itself so a normalized value stays put.
_SUFFIX_VARIANTS: dict[str, tuple[str, ...]] = {
    "ALY": ("ALLEY", "ALLEE", "ALLY"),
    "ANX": ("ANNEX", "ANEX", "ANNX"),
    "ARC": ("ARCADE",),
    "AVE": ("AVENUE", "AV", "AVEN", "AVENU", "AVN", "AVNUE"),
    "BCH": ("BEACH",),
    "BLF": ("BLUFF",),
    "BLVD": ("BOULEVARD", "BOUL", "BOULV", "BLV"),
    "BND": ("BEND",),
    "BR": ("BRANCH", "BRNCH"),
    "BRG": ("BRIDGE", "BRDGE"),
    "BYP": ("BYPASS", "BYPA", "BYPAS", "BYPS"),
    "CIR": ("CIRCLE", "CIRC", "CIRCL", "CRCL", "CRCLE"),
    "CT": ("COURT", "CRT"),
    "CTR": ("CENTER", "CEN", "CENT", "CENTR", "CENTRE", "CNTER", "CNTR"),
    "CV": ("COVE",),
    "CRK": ("CREEK",),
    "CRES": ("CRESCENT", "CRSENT", "CRSNT"),
    "XING": ("CROSSING", "CRSSNG"),
    "CYN": ("CANYON", "CANYN", "CNYN"),
    "DR": ("DRIVE", "DRIV", "DRV"),
    "EST": ("ESTATE",),
    "EXPY": ("EXPRESSWAY", "EXP", "EXPR", "EXPRESS", "EXPW"),
    "EXT": ("EXTENSION", "EXTN", "EXTNSN"),
    "FWY": ("FREEWAY", "FREEWY", "FRWAY", "FRWY"),
    "GDNS": ("GARDENS", "GARDN", "GRDEN", "GRDN"),
    "GLN": ("GLEN",),
    "GRN": ("GREEN",),
    "GRV": ("GROVE", "GROV"),
    "HBR": ("HARBOR", "HARB", "HARBR", "HRBOR"),
    "HTS": ("HEIGHTS", "HT"),
    "HWY": ("HIGHWAY", "HIGHWY", "HIWAY", "HIWY", "HWAY"),
    "HL": ("HILL",),
    "HLS": ("HILLS",),
    "HOLW": ("HOLLOW", "HLLW", "HOLLOWS", "HOLWS"),
    "IS": ("ISLAND", "ISLND"),
    "JCT": ("JUNCTION", "JCTION", "JCTN", "JUNCTN", "JUNCTON"),
    "KY": ("KEY",),
    "LK": ("LAKE",),
    "LN": ("LANE",),
    "LNDG": ("LANDING", "LNDNG"),
    "LOOP": ("LOOPS",),
    "MALL": (),
    "MDW": ("MEADOW",),
    "MDWS": ("MEADOWS", "MEDOWS"),
    "ML": ("MILL",),
    "MNR": ("MANOR",),
    "MT": ("MOUNT", "MNT"),
    "MTN": ("MOUNTAIN", "MNTAIN", "MNTN", "MOUNTIN", "MTIN"),
    "OVAL": ("OVL",),
    "PARK": ("PRK", "PARKS"),
    "PKWY": ("PARKWAY", "PARKWY", "PKWAY", "PKY", "PARKWAYS", "PKWYS"),
    "PASS": (),
    "PATH": ("PATHS",),
    "PIKE": ("PIKES",),
    "PL": ("PLACE",),
    "PLZ": ("PLAZA", "PLZA"),
    "PT": ("POINT",),
    "PROM": ("PROMENADE",),
    "RDG": ("RIDGE", "RDGE"),
    "RD": ("ROAD",),
    "RDS": ("ROADS",),
    "ROW": (),
    "RTE": ("ROUTE",),
    "RUN": (),
    "SQ": ("SQUARE", "SQR", "SQRE", "SQU"),
    "ST": ("STREET", "STRT", "STR"),
    "STA": ("STATION", "STATN", "STN"),
    "TER": ("TERRACE", "TERR"),
    "TRL": ("TRAIL", "TRAILS", "TRLS"),
    "TRCE": ("TRACE", "TRACES"),
    "TPKE": ("TURNPIKE", "TRNPK", "TURNPK"),
    "VW": ("VIEW",),
    "VIS": ("VISTA", "VIST", "VST", "VSTA"),
    "VLG": ("VILLAGE", "VILL", "VILLAG", "VILLG", "VILLIAGE"),
    "WALK": ("WALKS",),
    "WAY": ("WY",),
}
SUFFIXES: dict[str, str] = {}
for _abbr, _variants in _SUFFIX_VARIANTS.items():
    SUFFIXES[_abbr] = _abbr
    for _variant in _variants:
        SUFFIXES[_variant] = _abbr

DIRECTIONALS: dict[str, str] = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "NORTH EAST": "NE",
    "NORTH WEST": "NW",
    "SOUTH EAST": "SE",
    "SOUTH WEST": "SW",
}
for _abbr in ("N", "S", "E", "W", "NE", "NW", "SE", "SW"):
    DIRECTIONALS[_abbr] = _abbr

# USPS Publication 28, C2: secondary unit designators.
UNIT_TYPES: dict[str, str] = {
    "APARTMENT": "APT",
    "APT": "APT",
    "UNIT": "UNIT",
    "#": "#",
    "NO": "#",
    "NUMBER": "#",
    "SUITE": "STE",
    "STE": "STE",
    "BUILDING": "BLDG",
    "BLDG": "BLDG",
    "FLOOR": "FL",
    "FL": "FL",
    "ROOM": "RM",
    "RM": "RM",
    "SPACE": "SPC",
    "SPC": "SPC",
    "LOT": "LOT",
    "TRAILER": "TRLR",
    "TRLR": "TRLR",
    "REAR": "REAR",
    "FRONT": "FRNT",
    "FRNT": "FRNT",
    "UPPER": "UPPR",
    "UPPR": "UPPR",
    "LOWER": "LOWR",
    "LOWR": "LOWR",
    "BASEMENT": "BSMT",
    "BSMT": "BSMT",
    "PENTHOUSE": "PH",
    "PH": "PH",
    "DEPARTMENT": "DEPT",
    "DEPT": "DEPT",
}

_SPACES = re.compile(r"\s+")
_FRACTION = re.compile(r"^\d+/\d+$")
_NUMBER_WITH_FRACTION = re.compile(r"^(\S+)\s+(\d+/\d+)$")


def clean(value: str | None) -> str:
    """Upper case, spaces trimmed and collapsed, periods and stray commas dropped."""
    if not value:
        return ""
    text = value.upper().replace(".", " ").replace(",", " ")
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def normalize_street_type(value: str | None) -> str:
    text = clean(value)
    return SUFFIXES.get(text, text)


@lru_cache(maxsize=256)
def normalize_direction(value: str | None) -> str:
    text = clean(value)
    return DIRECTIONALS.get(text, text)


@lru_cache(maxsize=256)
def normalize_unit_type(value: str | None) -> str:
    text = clean(value)
    return UNIT_TYPES.get(text, text)


@lru_cache(maxsize=65536)
def normalize_street_name(value: str | None) -> str:
    return clean(value)


def normalize_unit(value: str | None) -> str:
    """ "# 5", "#5" and "5" are one unit: the designator is kept in unit_type."""
    text = clean(value)
    while text.startswith("#"):
        text = text[1:].strip()
    return text


@lru_cache(maxsize=65536)
def normalize_zip(value: str | None) -> str:
    """The 5-digit zip: ZIP+4 is cut, and 3-4 digit zips regain the leading
    zeros that spreadsheets strip ("2134" was "02134"). Anything else is kept
    cleaned, so a bad zip stays visible rather than silently emptied."""
    text = clean(value).replace(" ", "")
    digits = text.split("-", 1)[0]
    if digits.isdigit():
        if len(digits) >= 5:
            return digits[:5]
        if len(digits) >= 3:
            return digits.zfill(5)
    return text


def normalize_number(number: str | None, number_suffix: str | None) -> tuple[str, str]:
    """House number and its suffix; "123 1/2" in the number column is split."""
    num = clean(number)
    suffix = clean(number_suffix)
    if not suffix and " " in num:
        match = _NUMBER_WITH_FRACTION.match(num)
        if match:
            num, suffix = match.group(1), match.group(2)
    if " " in suffix and not _FRACTION.match(suffix):
        suffix = suffix.replace(" ", "")
    return num, suffix


def street_key_of(pre_dir: str, street_name: str, street_type: str, post_dir: str) -> str:
    """The street of normalized parts, e.g. "S ABBOT KINNEY BLVD"; the geocoder matches on it."""
    return " ".join(part for part in (pre_dir, street_name, street_type, post_dir) if part)


@dataclass(frozen=True)
class NormalizedAddress:
    number: str = ""
    number_suffix: str = ""
    pre_dir: str = ""
    street_name: str = ""
    street_type: str = ""
    post_dir: str = ""
    unit_type: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""

    @property
    def address_key(self) -> str:
        """The unique key of a door in an organization.

        Unit type is left out: "APT 4" and "UNIT 4" at one address are one door.
        City is left out: postal cities vary for one address (VENICE, LOS ANGELES).
        """
        return "|".join(
            (
                self.number,
                self.number_suffix,
                self.pre_dir,
                self.street_name,
                self.street_type,
                self.post_dir,
                self.unit,
                self.zip,
            )
        )

    @property
    def street_key(self) -> str:
        return street_key_of(self.pre_dir, self.street_name, self.street_type, self.post_dir)


def normalize_address(
    *,
    number: str | None = "",
    number_suffix: str | None = "",
    pre_dir: str | None = "",
    street_name: str | None = "",
    street_type: str | None = "",
    post_dir: str | None = "",
    unit_type: str | None = "",
    unit: str | None = "",
    city: str | None = "",
    state: str | None = "",
    zip: str | None = "",
) -> NormalizedAddress:
    num, suffix = normalize_number(number, number_suffix)
    unit_text = normalize_unit(unit)
    utype = normalize_unit_type(unit_type)
    if unit_text and not utype and clean(unit).startswith("#"):
        utype = "#"
    return NormalizedAddress(
        number=num,
        number_suffix=suffix,
        pre_dir=normalize_direction(pre_dir),
        street_name=normalize_street_name(street_name),
        street_type=normalize_street_type(street_type),
        post_dir=normalize_direction(post_dir),
        unit_type=utype,
        unit=unit_text,
        city=clean(city),
        state=clean(state),
        zip=normalize_zip(zip),
    )


def normalize(address: NormalizedAddress) -> NormalizedAddress:
    """Normalize an address again (idempotent)."""
    return normalize_address(
        number=address.number,
        number_suffix=address.number_suffix,
        pre_dir=address.pre_dir,
        street_name=address.street_name,
        street_type=address.street_type,
        post_dir=address.post_dir,
        unit_type=address.unit_type,
        unit=address.unit,
        city=address.city,
        state=address.state,
        zip=address.zip,
    )


# usaddress labels -> our parts. Labels not listed (Recipient, LandmarkName,
# USPSBox*, IntersectionSeparator…) mean the text is not a door's street address.
_LABELS = {
    "AddressNumber": "number",
    "AddressNumberSuffix": "number_suffix",
    "StreetNamePreDirectional": "pre_dir",
    "StreetNamePreModifier": "street_name",
    "StreetNamePreType": "street_name",
    "StreetName": "street_name",
    "StreetNamePostType": "street_type",
    "StreetNamePostDirectional": "post_dir",
    "OccupancyType": "unit_type",
    "OccupancyIdentifier": "unit",
    "SubaddressType": "unit_type",
    "SubaddressIdentifier": "unit",
    "PlaceName": "city",
    "StateName": "state",
    "ZipCode": "zip",
}
_IGNORED_LABELS = {"AddressNumberPrefix", "NotAddress", "BuildingName"}


def parse_one_line(text: str) -> NormalizedAddress:
    """Parse "123 1/2 S Main St Apt 4, Venice, CA 90291" into normalized parts.

    Raises ValueError with a message fit for an import report when the text
    is empty, is not a street address (a PO box, an intersection, a name) or
    cannot be split into parts unambiguously.

    usaddress (a CRF tagger) parses about 1,000 addresses a second; a voter
    file repeats each address once per voter at it, so answers are cached.
    """
    return _parse_one_line((text or "").strip())


@lru_cache(maxsize=65536)
def _parse_one_line(original: str) -> NormalizedAddress:
    if not original:
        raise ValueError("the address is empty")
    text, fraction = split_leading_fraction(original)
    try:
        tagged, kind = usaddress.tag(text)
    except usaddress.RepeatedLabelError as exc:
        labels = sorted({label for _, label in exc.parsed_string if label})
        raise ValueError(
            f"cannot read the address {original!r}: it looks like more than one address "
            f"(repeated parts among {', '.join(labels)})"
        ) from None
    if kind != "Street Address":
        what = {"PO Box": "a PO box", "Intersection": "an intersection"}.get(kind, "not a street address")
        raise ValueError(f"cannot read the address {original!r}: it is {what}")
    parts: dict[str, str] = {}
    for label, value in tagged.items():
        field = _LABELS.get(label)
        if field is None:
            if label in _IGNORED_LABELS:
                continue
            raise ValueError(f"cannot read the address {original!r}: unexpected part {label} ({value!r})")
        parts[field] = f"{parts[field]} {value}" if field in parts else value
    if not parts.get("number"):
        raise ValueError(f"cannot read the address {original!r}: no house number")
    if not parts.get("street_name"):
        raise ValueError(f"cannot read the address {original!r}: no street name")
    if fraction:
        if parts.get("number_suffix"):
            raise ValueError(f"cannot read the address {original!r}: two number suffixes")
        parts["number_suffix"] = fraction
    return normalize_address(**parts)


# --- street-name aliases: route designations and their local names --------------------

# A street name that designates a route rather than naming a street: "1",
# "SR-1", "PCH", "SR-187", "HWY 1", "US-101", "I-10". The LA address points
# list an address on a state route under its local name and under these
# (every Lincoln Blvd address also as PCH, SR-1 and 1); walk lists show the
# local name. A deployment can replace the pattern (settings.DOOR_ROUTE_STREET_NAMES).
ROUTE_NAME_PATTERN = (
    r"\d+[A-Z]?"
    r"|(?:SR|CA|US|I|HWY|HIGHWAY|STATE ROUTE|STATE HIGHWAY|STATE HWY|ROUTE|RTE|RT)[- ]?\d+[A-Z]?"
    r"|PCH|PACIFIC COAST(?: HWY| HIGHWAY)?"
)
# Street types that make any name a highway: "PACIFIC COAST HWY".
ROUTE_STREET_TYPES = frozenset({"HWY", "FWY", "EXPY"})
_ROUTE_NUMBER = re.compile(r"^(?:SR|CA|HWY|HIGHWAY|STATE ROUTE|STATE HIGHWAY|STATE HWY|ROUTE|RTE|RT)[- ]?(\d+[A-Z]?)$")


@lru_cache(maxsize=8)
def route_name_regex(pattern: str | None = None) -> re.Pattern[str]:
    return re.compile(f"^(?:{pattern or ROUTE_NAME_PATTERN})$")


def is_route_name(street_name: str, street_type: str = "", pattern: str | None = None) -> bool:
    """Does this normalized street name designate a route ("SR-1", "PCH", "1")?"""
    return street_type in ROUTE_STREET_TYPES or route_name_regex(pattern).match(street_name) is not None


def route_canonical_street(street_name: str, street_type: str) -> tuple[str, str] | None:
    """One spelling for the ways a state route is written, or None for a plain street.

    "STATE ROUTE 1", "HWY 1", "CA-1", "SR 1" -> "SR-1"; "PACIFIC COAST HWY" ->
    "PCH" (the LA points' spelling). Used to find a door by an alias written
    another way, never to rename a door.
    """
    if street_name in {"PACIFIC COAST", "PACIFIC COAST HWY", "PACIFIC COAST HIGHWAY"} and street_type in (
        "",
        "HWY",
    ):
        return "PCH", ""
    match = _ROUTE_NUMBER.match(street_name)
    if match and not street_type:
        return f"SR-{match.group(1)}", ""
    if street_name == "PCH" or (street_name.startswith("SR-") and not street_type):
        return street_name, ""
    return None


def route_canonical_key(address_key: str) -> str | None:
    """The address key with its route name in one spelling (see route_canonical_street),
    or None when the key's street is not a route."""
    parts = address_key.split("|")
    if len(parts) != 8:
        return None
    canonical = route_canonical_street(parts[3], parts[4])
    if canonical is None:
        return None
    parts[3], parts[4] = canonical
    return "|".join(parts)


# --- loose matching: a single-line address against the loaded doors -------------------

_LEADING_FRACTION = re.compile(r"^\s*(\d+[A-Z]?)\s*(?:-\s*)?(\d+/\d+)\s+(\S.*)$", re.IGNORECASE)
_TOKEN_SPLIT = re.compile(r"[\s,]+")
_LOOSE_NUMBER = re.compile(r"^(\d+[A-Z]?)(?:-?(\d+/\d+))?$")
_UNIT_TOKENS = frozenset({k for k in UNIT_TYPES if " " not in k} - {"REAR", "FRONT", "FRNT", "NO", "NUMBER"})
_STREET_TYPES = frozenset(SUFFIXES.values())
_DIRECTION_ABBREVIATIONS = frozenset(DIRECTIONALS.values())


def split_leading_fraction(text: str) -> tuple[str, str]:
    """ "17 1/2 26th Pl" -> ("17 26th Pl", "1/2"): usaddress reads a fraction after the
    house number as a directional ("1/2 26TH") or as part of the street name ("3/4
    WASHINGTON"), so it is taken off before parsing and put back as the number suffix."""
    match = _LEADING_FRACTION.match(text)
    if not match:
        return text, ""
    return f"{match.group(1)} {match.group(3)}", match.group(2)


def match_token(token: str) -> str:
    """One word of a street in the form loose matching compares: directionals and
    street types in their USPS abbreviation, route names in one spelling."""
    token = DIRECTIONALS.get(token, token)
    return SUFFIXES.get(token, token)


def street_tokens(pre_dir: str, street_name: str, street_type: str, post_dir: str) -> tuple[str, ...]:
    """The words of a normalized street, route names in one spelling ("PACIFIC COAST HWY" -> "PCH")."""
    route = route_canonical_street(street_name, street_type)
    if route is not None:
        street_name, street_type = route
    words = [pre_dir, *street_name.split(), street_type, post_dir]
    return tuple(match_token(w) for w in words if w)


@dataclass(frozen=True)
class LooseAddress:
    """What can be read from a single-line address that usaddress could not split:
    the house number (and fraction), the street's words, the unit."""

    number: str
    number_suffix: str
    street: tuple[str, ...]
    unit: str


def loose_read(text: str) -> LooseAddress | None:
    """Read "825 1/2 Pch", "817 1/2 Sr-1 # 2" by words: a house number first, an optional
    fraction, the street's words, an optional unit designator and unit at the end.
    None when the text does not start with a house number (a PO box, a name)."""
    words = [w for w in _TOKEN_SPLIT.split(clean(text)) if w]
    if len(words) < 2:
        return None
    match = _LOOSE_NUMBER.match(words[0])
    if not match:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    rest = words[1:]
    if not suffix and rest and _FRACTION.match(rest[0]):
        suffix, rest = rest[0], rest[1:]
    unit = ""
    for i, word in enumerate(rest):
        if i == 0:
            continue
        if word.startswith("#") or (word in _UNIT_TOKENS and i + 1 < len(rest)):
            unit = normalize_unit(" ".join(rest[i + 1 :]) if word in _UNIT_TOKENS else " ".join(rest[i:]))
            rest = rest[:i]
            break
    if not rest:
        return None
    name = " ".join(rest)
    route = route_canonical_street(name, "")
    if route is None and len(rest) > 1:
        route = route_canonical_street(" ".join(rest[:-1]), match_token(rest[-1]))
    street = (route[0],) if route is not None else tuple(match_token(w) for w in rest)
    return LooseAddress(number=number, number_suffix=suffix, street=street, unit=unit)


def street_fit(
    row: tuple[str, ...], pre_dir: str, name: tuple[str, ...], street_type: str, post_dir: str
) -> list[str] | None:
    """Does a row's street (words from street_tokens or loose_read) fit a loaded street?

    The loaded street's name words must appear whole; before them at most a
    directional, after them at most a street type and a directional. Each of
    these may be missing on one side (a voter file that writes "3719 Esplanade"
    for "3719 ESPLANADE WEST"), never different ("PARK PL" is not "PARK AVE").
    Returns the differences ([] for none), or None when the street does not fit.
    """
    n = len(name)
    for start in (0, 1):
        if tuple(row[start : start + n]) != name:
            continue
        prefix, rest = row[:start], row[start + n :]
        if prefix and prefix[0] not in _DIRECTION_ABBREVIATIONS:
            continue
        row_pre = prefix[0] if prefix else ""
        row_type = row_post = ""
        if len(rest) == 1:
            if rest[0] in _DIRECTION_ABBREVIATIONS:
                row_post = rest[0]
            elif rest[0] in _STREET_TYPES:
                row_type = rest[0]
            else:
                continue
        elif len(rest) == 2:
            if rest[0] in _STREET_TYPES and rest[1] in _DIRECTION_ABBREVIATIONS:
                row_type, row_post = rest
            else:
                continue
        elif len(rest) > 2:
            continue
        differences: list[str] = []
        fits = True
        for what, mine, theirs in (
            ("pre-directional", row_pre, pre_dir),
            ("street type", row_type, street_type),
            ("post-directional", row_post, post_dir),
        ):
            if mine == theirs:
                continue
            if mine and theirs:
                fits = False
                break
            differences.append(f"{what} {theirs} missing" if theirs else f"extra {what} {mine}")
        if fits:
            return differences
    return None
