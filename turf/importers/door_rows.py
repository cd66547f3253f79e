"""Parsing the rows of a door file: every row decoded, normalized (turf/addresses.py)
and checked on its own, rows of one normalized address merged into one door."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass

from fieldops.models import char_max_length
from turf import addresses as addr
from turf.importers.base import ImportAborted, ImportProblem, ImportReport, ProgressCallback
from turf.importers.decoding import EncodingError, decoded_lines
from turf.importers.door_columns import ADDRESS_FIELDS, FIELDS, PERSON_FIELDS, ColumnMapping, resolve_columns
from turf.models import Door, GeocodeQuality, Person

PROGRESS_EVERY_ROWS = 50_000
KM_PER_DEGREE_LAT = 110.57
KM_PER_DEGREE_LNG_EQUATOR = 111.32
# Grid cell (degrees) for the "far from every district" check: each cell is
# classified once as near, far or mixed; only points in mixed cells are measured.
FAR_CELLS_PER_DEGREE = 10


MAX_LENGTH = {name: char_max_length(Door, name) for name in ("number", "number_suffix", "street_name")}
MAX_LENGTH.update(
    {
        name: char_max_length(Door, name)
        for name in ("street_type", "unit_type", "unit", "city", "zip", "source", "source_id")
    }
)
MAX_LENGTH.update({"pre_dir": 8, "post_dir": 8, "state": 2, "address_key": 255})
_PERSON_MAX = {name: char_max_length(Person, name) for name in ("first_name", "last_name", "phone", "email", "party")}
_PERSON_MAX["voter_id"] = char_max_length(Person, "external_voter_id")
DEFAULT_STATE = Door._meta.get_field("state").default
# The building key is "b:" + the file's building id.
_MAX_BUILDING_ID = char_max_length(Door, "building_key") - len("b:")
# Plain strings: enum member access costs a descriptor call per row.
_SOURCE = str(GeocodeQuality.SOURCE.value)
_NONE = str(GeocodeQuality.NONE.value)


class DoorRow:
    """One door being imported: the merged rows of one normalized address."""

    __slots__ = (
        "line",
        "parts",
        "lat",
        "lng",
        "quality",
        "building_id",
        "source",
        "source_ids",
        "extra",
        "building_key",
        "aliases",
        "unread",
    )

    def __init__(
        self,
        line: int,
        parts: tuple[str, ...],
        lat: float | None,
        lng: float | None,
        building_id: str,
        source: str,
        source_id: str,
        extra: dict[str, str] | None,
    ) -> None:
        self.line = line
        self.parts = parts  # in ADDRESS_FIELDS order; a tuple, not a dataclass, for speed and memory
        self.lat = lat
        self.lng = lng
        self.quality = _SOURCE if lat is not None else _NONE
        self.building_id = building_id
        self.source = source
        self.source_ids: list[str] = [source_id] if source_id else []
        self.extra = extra
        self.building_key = ""
        # Other spellings of this door in the file (street-name aliases, see
        # door_aliases.py): (address key, (pre_dir, street_name, street_type, post_dir)).
        self.aliases: list[tuple[str, tuple[str, str, str, str]]] | None = None
        # Why usaddress could not read the row's single-line address, when it was read
        # word by word instead (addresses.loose_read): such a row only lands on a loaded
        # door (door_matching.py), it never makes one.
        self.unread = ""

    @property
    def address(self) -> addr.NormalizedAddress:
        return addr.NormalizedAddress(*self.parts)


@dataclass
class PersonRow:
    line: int
    door_key: str
    voter_id: str
    first_name: str
    last_name: str
    phone: str
    email: str
    birth_year: int | None
    party: str


class FarCheck:
    """Is a point more than far_km from every district of the organization?

    Measured against district bounding boxes (a point inside a box is near),
    through a 0.1° grid classified once per cell, so the per-row cost is a
    dict lookup for 1,000,000 rows.
    """

    def __init__(self, boxes: list[tuple[float, float, float, float]], far_km: float) -> None:
        self.boxes = boxes
        self.far_km = far_km
        self.cells: dict[tuple[int, int], int] = {}  # 0 near, 1 far, 2 mixed

    def distance_km(self, lng: float, lat: float) -> float:
        cos = math.cos(math.radians(lat))
        best = math.inf
        for min_lng, min_lat, max_lng, max_lat in self.boxes:
            dx = max(min_lng - lng, 0.0, lng - max_lng) * KM_PER_DEGREE_LNG_EQUATOR * cos
            dy = max(min_lat - lat, 0.0, lat - max_lat) * KM_PER_DEGREE_LAT
            best = min(best, math.hypot(dx, dy))
        return best

    def is_far(self, lng: float, lat: float) -> bool:
        cell = (math.floor(lng * FAR_CELLS_PER_DEGREE), math.floor(lat * FAR_CELLS_PER_DEGREE))
        state = self.cells.get(cell)
        if state is None:
            size = 1 / FAR_CELLS_PER_DEGREE
            center_lng = (cell[0] + 0.5) * size
            center_lat = (cell[1] + 0.5) * size
            half_diagonal = math.hypot(size / 2 * KM_PER_DEGREE_LNG_EQUATOR, size / 2 * KM_PER_DEGREE_LAT)
            distance = self.distance_km(center_lng, center_lat)
            if distance + half_diagonal <= self.far_km:
                state = 0
            elif distance - half_diagonal > self.far_km:
                state = 1
            else:
                state = 2
            self.cells[cell] = state
        if state == 2:
            return self.distance_km(lng, lat) > self.far_km
        return state == 1


def read_rows(
    binary: Iterable[bytes],
    mapping: ColumnMapping,
    far: FarCheck | None,
    default_source: str,
    report: ImportReport,
    progress: ProgressCallback,
) -> tuple[dict[str, DoorRow], list[PersonRow], int]:
    """Stream the rows: (doors by address key, people, rows merged into an earlier door).

    This loop runs once per row of a 1,000,000-row file, so it is written for
    speed: street, city and zip parts repeat across thousands of rows and are
    normalized (and length-checked) once each through dict caches; a plain
    numeric house number skips normalization; coordinates take a fast path
    when they parse and fall in a "near" cell.
    """
    nul_lines: set[int] = set()
    reader = csv.reader(decoded_lines(binary, nul_lines))
    problems = report.problems
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)
        if header is None:
            raise ImportAborted("the file is empty (no header line)")
        layout = resolve_columns(mapping, header, report)
        width = layout.width
        ix = layout.index
        # Absent fields read the empty string appended to every row at index `width`.
        at = {name: ix.get(name, width) for name in FIELDS}
        i_number, i_suffix, i_unit, i_unit_type = at["number"], at["number_suffix"], at["unit"], at["unit_type"]
        i_pre, i_name, i_type, i_post = at["pre_dir"], at["street_name"], at["street_type"], at["post_dir"]
        i_city, i_state, i_zip = at["city"], at["state"], at["zip"]
        i_lat, i_lng, i_source_id, i_source = at["lat"], at["lng"], at["source_id"], at["source"]
        i_building = at["building_id"]
        single_line = ix.get("address")
        with_people = "voter_id" in ix or "first_name" in ix or "last_name" in ix
        extra_columns = layout.extra
        streets: dict[tuple[str, str, str, str], tuple[str, str, str, str] | str] = {}
        places: dict[tuple[str, str, str], tuple[str, str, str] | str] = {}
        cells = far.cells if far is not None else None
        floor = math.floor
        max_number, max_unit, max_source_id = MAX_LENGTH["number"], MAX_LENGTH["unit"], MAX_LENGTH["source_id"]
        max_source = MAX_LENGTH["source"]
        doors: dict[str, DoorRow] = {}
        people: list[PersonRow] = []
        merged = rows = zero_points = 0
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            rows += 1
            line = reader.line_num
            if rows % PROGRESS_EVERY_ROWS == 0:
                progress(rows, None, "rows read")
            if len(row) != width and (len(row) < width or any(v.strip() for v in row[width:])):
                problems.append(
                    ImportProblem(
                        f"line {line}", f"has {len(row)} fields, the header has {width} (a stray comma or quote?)"
                    )
                )
                continue
            if nul_lines and any("\x00" in value for value in row):
                problems.append(
                    ImportProblem(f"line {line}", "contains a NUL character (a binary file or a broken export?)")
                )
                continue
            row.append("")
            messages: list[str] = []
            unread = ""
            if single_line is not None:
                try:
                    parsed = addr.parse_one_line(row[single_line])
                except ValueError as exc:
                    loose = addr.loose_read(row[single_line])
                    if loose is None:
                        problems.append(ImportProblem(f"line {line}", str(exc)))
                        continue
                    unread = str(exc)
                    parsed = addr.NormalizedAddress(
                        number=loose.number,
                        number_suffix=loose.number_suffix,
                        street_name=" ".join(loose.street),
                        unit_type="#" if loose.unit else "",
                        unit=loose.unit,
                    )
                # Columns beside the single line (city, zip) fill what it lacks.
                fill = {
                    name: row[at[name]]
                    for name in ("city", "state", "zip", "unit", "unit_type")
                    if not getattr(parsed, name) and row[at[name]].strip()
                }
                if fill:
                    parsed = addr.normalize_address(**{**_parts(parsed), **fill})
                parts = tuple(getattr(parsed, name) for name in ADDRESS_FIELDS)
                for name, value in zip(ADDRESS_FIELDS, parts, strict=True):
                    if len(value) > MAX_LENGTH[name]:
                        messages.append(f"{name} {value[:40]!r} is longer than {MAX_LENGTH[name]} characters")
                number, suffix, pre, name_, type_, post, unit_type, unit, city, state, zip_code = parts
            else:
                raw_street = (row[i_pre], row[i_name], row[i_type], row[i_post])
                street = streets.get(raw_street)
                if street is None:
                    street = streets[raw_street] = _street(raw_street)
                raw_place = (row[i_city], row[i_state], row[i_zip])
                place = places.get(raw_place)
                if place is None:
                    place = places[raw_place] = _place_parts(raw_place)
                if isinstance(street, str):
                    messages.append(street)
                    street = ("", "", "", "")
                if isinstance(place, str):
                    messages.append(place)
                    place = ("", "", "")
                pre, name_, type_, post = street
                city, state, zip_code = place
                number, suffix = row[i_number], row[i_suffix]
                if not (number.isdigit() and not suffix):
                    number, suffix = addr.normalize_number(number, suffix)
                unit, unit_type = row[i_unit], row[i_unit_type]
                if unit or unit_type:
                    unit = addr.normalize_unit(unit)
                    unit_type = addr.normalize_unit_type(unit_type)
                    if unit and not unit_type and row[i_unit].lstrip().startswith("#"):
                        unit_type = "#"
                    if len(unit) > max_unit:
                        messages.append(f"unit {unit[:40]!r} is longer than {max_unit} characters")
                if not number:
                    messages.append("the house number is empty")
                elif len(number) > max_number or len(suffix) > 16:
                    messages.append(f"house number {number[:40]!r} {suffix[:20]!r} is too long")
            if number and not number.isdigit() and not any(c.isdigit() for c in number):
                messages.append(f"the house number {number!r} has no digits")
            lat = lng = None
            lat_text, lng_text = row[i_lat], row[i_lng]
            if lat_text or lng_text:
                try:
                    lat, lng = float(lat_text), float(lng_text)
                    fast = -90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0
                    if lat == 0 and lng == 0:
                        # 0,0 is how many exports write "unknown": geocode instead.
                        lat = lng = None
                        zero_points += 1
                    elif fast and cells is not None:
                        fast = cells.get((floor(lng * FAR_CELLS_PER_DEGREE), floor(lat * FAR_CELLS_PER_DEGREE))) == 0
                except ValueError:
                    fast = False
                if not fast:
                    lat, lng, message = _coordinates(lat_text.strip(), lng_text.strip(), far)
                    if message:
                        messages.append(message)
            key = f"{number}|{suffix}|{pre}|{name_}|{type_}|{post}|{unit}|{zip_code}"
            person = None
            if with_people:
                person, person_messages = _person(row, ix, line, key)
                messages += person_messages
            source_id = row[i_source_id]
            row_source = row[i_source] or default_source
            if len(source_id) > max_source_id or len(row_source) > max_source:
                messages.append(f"source id {source_id[:40]!r} or source {row_source[:40]!r} is too long")
            if len(key) > MAX_LENGTH["address_key"]:
                messages.append("the address is too long")
            building_id = row[i_building]
            if len(building_id) > _MAX_BUILDING_ID:
                messages.append(f"building id {building_id[:40]!r} is longer than {_MAX_BUILDING_ID} characters")
            if messages:
                problems.append(ImportProblem(f"line {line}", "; ".join(messages)))
                continue
            door = doors.get(key)
            if door is None:
                extra = {name: row[i] for name, i in extra_columns if row[i]} if extra_columns else None
                doors[key] = DoorRow(
                    line,
                    (number, suffix, pre, name_, type_, post, unit_type, unit, city, state, zip_code),
                    lat,
                    lng,
                    building_id,
                    row_source,
                    source_id,
                    extra,
                )
                if unread:
                    doors[key].unread = unread
            else:
                merged += 1
                if door.unread and not unread:
                    door.unread = ""  # a row that usaddress read gives the same address
                # The first row wins; later rows only fill what it lacked.
                if door.lat is None and lat is not None:
                    door.lat, door.lng = lat, lng
                    door.quality = _SOURCE
                if not door.building_id and building_id:
                    door.building_id = building_id
                if source_id:
                    door.source_ids.append(source_id)
                for name, i in extra_columns:
                    if row[i] and (door.extra is None or name not in door.extra):
                        door.extra = {**(door.extra or {}), name: row[i]}
            if person is not None:
                people.append(person)
        if rows == 0:
            raise ImportAborted("the file has a header but no data rows")
        if zero_points:
            report.notes.append(f"{zero_points} row(s) had coordinates 0,0, read as 'no location'")
    except EncodingError as exc:
        raise ImportAborted(f"line {exc.line}: {exc.message}") from None
    except csv.Error as exc:
        raise ImportAborted(f"line {reader.line_num}: the CSV cannot be read: {exc}") from None
    report.rows_read = rows
    progress(rows, rows, "rows read")
    return doors, people, merged


def _street(raw: tuple[str, str, str, str]) -> tuple[str, str, str, str] | str:
    """Normalized (pre_dir, street_name, street_type, post_dir), or a problem message."""
    pre, name, type_, post = (
        addr.normalize_direction(raw[0]),
        addr.normalize_street_name(raw[1]),
        addr.normalize_street_type(raw[2]),
        addr.normalize_direction(raw[3]),
    )
    if not name:
        return "the street name is empty"
    for field_name, value in (("pre_dir", pre), ("street_name", name), ("street_type", type_), ("post_dir", post)):
        if len(value) > MAX_LENGTH[field_name]:
            return f"{field_name} {value[:40]!r} is longer than {MAX_LENGTH[field_name]} characters"
    return pre, name, type_, post


def _place_parts(raw: tuple[str, str, str]) -> tuple[str, str, str] | str:
    """Normalized (city, state, zip), or a problem message."""
    city, state, zip_code = addr.clean(raw[0]), addr.clean(raw[1]), addr.normalize_zip(raw[2])
    for field_name, value in (("city", city), ("state", state), ("zip", zip_code)):
        if len(value) > MAX_LENGTH[field_name]:
            return f"{field_name} {value[:40]!r} is longer than {MAX_LENGTH[field_name]} characters"
    return city, state, zip_code


def _parts(address: addr.NormalizedAddress) -> dict[str, str]:
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def _coordinates(lat_text: str, lng_text: str, far: FarCheck | None) -> tuple[float | None, float | None, str]:
    """(lat, lng, problem): a problem message names what is wrong and, when obvious, why."""
    if not lat_text or not lng_text:
        which = "latitude" if not lat_text else "longitude"
        return None, None, f"{which} is empty while the other coordinate is given"
    try:
        lat, lng = float(lat_text), float(lng_text)
    except ValueError:
        bad = lat_text if not _is_float(lat_text) else lng_text
        return None, None, f"coordinate {bad!r} is not a number"
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return None, None, f"coordinates {lat_text},{lng_text} are not finite numbers"
    if abs(lat) > 1000 or abs(lng) > 1000:
        return (
            None,
            None,
            (
                f"coordinates lat={lat_text} lng={lng_text} look like projected metres or feet "
                "(e.g. State Plane), not degrees: export the file in WGS84 (EPSG:4326)"
            ),
        )
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        if -90 <= lng <= 90 and -180 <= lat <= 180:
            return None, None, (f"latitude {lat_text} is out of range (-90..90); latitude and longitude look swapped")
        return None, None, f"coordinates lat={lat_text} lng={lng_text} are outside the world"
    if far is not None and far.is_far(lng, lat):
        distance = far.distance_km(lng, lat)
        hint = ""
        if -90 <= lng <= 90 and not far.is_far(lat, lng):
            hint = "; latitude and longitude look swapped"
        return (
            None,
            None,
            (
                f"location {lat:.6f},{lng:.6f} is {distance:,.0f} km from every loaded district "
                f"(more than {far.far_km:g} km): wrong coordinates?{hint}"
            ),
        )
    return lat, lng, ""


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _person(row: list[str], ix: dict[str, int], line: int, door_key: str) -> tuple[PersonRow | None, list[str]]:
    values = {name: (row[ix[name]].strip() if name in ix else "") for name in PERSON_FIELDS}
    if not (values["voter_id"] or values["first_name"] or values["last_name"]):
        return None, []
    messages = []
    for name, limit in _PERSON_MAX.items():
        if limit and len(values[name]) > limit:
            messages.append(f"{name} {values[name][:40]!r} is longer than {limit} characters")
    birth_year = None
    if values["birth_year"]:
        text = values["birth_year"]
        if text.isascii() and text.isdigit() and 1880 <= int(text) <= 2100:
            birth_year = int(text)
        else:
            messages.append(f"birth year {text!r} is not a year between 1880 and 2100")
    person = PersonRow(
        line=line,
        door_key=door_key,
        voter_id=values["voter_id"],
        first_name=values["first_name"],
        last_name=values["last_name"],
        phone=values["phone"],
        email=values["email"],
        birth_year=birth_year,
        party=values["party"],
    )
    return person, messages
