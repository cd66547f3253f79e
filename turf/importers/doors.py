"""Import doors (and optionally the people at them) from a CSV file.

The file is streamed once: every row is decoded, normalized (turf/addresses.py)
and checked on its own; a bad row is listed with its line (line 1 is the
header) and skipped, or aborts the import in strict mode. Rows with the same
normalized address merge into one door: the Venice file has 16,159 rows for
15,413 addresses, because the county lists some addresses from two sources.
Doors are grouped into buildings by a key written on each door
(Door.building_key): the source's building outline id where a row gives one
("b:<id>"), else the door's location ("p:<lng>,<lat>", 7 decimals), so the
front and rear house at one point share a building. There is no building
table to write: a building is the set of doors with one key.

Rows without coordinates are geocoded: by the given geocoder, else by
settings.GEOCODER (local by default: interpolation over the doors already
loaded and the rows of this file). A door that cannot be placed is imported
with geocode_quality "none" and listed in the notes: it can still be knocked
from a paper list, but it lies in no district and no turf.

Re-importing updates doors in place, matched on the normalized address, so
their primary keys (and every knock recorded at them) survive. A door absent
from the new file is kept and counted, never deleted: canvass history PROTECTs
doors, and a shorter export is not a statement that a house was demolished.

New doors go to PostgreSQL as one COPY of joined text lines (turf.bulk.copy_lines;
turf.bulk.bulk_insert elsewhere), changed ones through a COPY into a temporary
table plus one UPDATE … FROM, all in one transaction; see docs/performance.md
for the figures.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from fieldops.models import Organization
from fieldops.services import audit_log
from turf import addresses as addr
from turf.bulk import COPY_NULL, bulk_insert, copy_lines, copy_text_line, foreign_keys_checked_per_statement
from turf.importers.base import ImportAborted, ImportProblem, ImportReport, ProgressCallback, no_progress
from turf.models import District, Door, GeocodeQuality, Person
from turf.services import door_districts_assign, door_districts_link_new, door_locations, organization_doors_lock

if TYPE_CHECKING:
    from turf.geocoding import Geocoder

# Our fields. Address parts, or one single-line `address` column parsed with usaddress.
ADDRESS_FIELDS = (
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
)
DOOR_FIELDS = (*ADDRESS_FIELDS, "address", "lat", "lng", "source_id", "source", "building_id")
PERSON_FIELDS = ("voter_id", "first_name", "last_name", "phone", "email", "birth_year", "party")
FIELDS = (*DOOR_FIELDS, *PERSON_FIELDS)

# Column names recognized without a mapping (lower case), besides our field names themselves.
ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("address_id", "id", "objectid"),
    "lng": ("lon", "long", "longitude"),
    "lat": ("latitude",),
    "zip": ("zip_code", "zipcode", "zip5", "postal_code", "postcode"),
    "number": ("house_number", "housenumber", "addr_number"),
    "street_name": ("street",),
    "voter_id": ("van_id", "vanid", "state_voter_id", "external_voter_id"),
    "birth_year": ("year_of_birth",),
}
# Columns of the LA address points kept in Door.extra when present.
DEFAULT_EXTRA_COLUMNS = ("parcel_ain", "block_group")

PROGRESS_EVERY_ROWS = 50_000
KM_PER_DEGREE_LAT = 110.57
KM_PER_DEGREE_LNG_EQUATOR = 111.32
# Grid cell (degrees) for the "far from every district" check: each cell is
# classified once as near, far or mixed; only points in mixed cells are measured.
FAR_CELLS_PER_DEGREE = 10

_MAX = {name: Door._meta.get_field(name).max_length for name in ("number", "number_suffix", "street_name")}
_MAX.update(
    {
        name: Door._meta.get_field(name).max_length
        for name in ("street_type", "unit_type", "unit", "city", "zip", "source", "source_id")
    }
)
_MAX.update({"pre_dir": 8, "post_dir": 8, "state": 2, "address_key": 255})
_PERSON_MAX = {
    name: Person._meta.get_field(name).max_length for name in ("first_name", "last_name", "phone", "email", "party")
}
_PERSON_MAX["voter_id"] = Person._meta.get_field("external_voter_id").max_length
_DEFAULT_STATE = Door._meta.get_field("state").default
# The building key is "b:" + the file's building id.
_MAX_BUILDING_ID = Door._meta.get_field("building_key").max_length - len("b:")
# Plain strings: enum member access costs a descriptor call per row.
_SOURCE = str(GeocodeQuality.SOURCE.value)
_NONE = str(GeocodeQuality.NONE.value)


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the file holds which of our fields.

    `columns` maps our field -> the file's column. Fields not mapped are
    looked up by their own name and the usual aliases (lon/longitude,
    address_id…), case-insensitively, so the LA address points and a
    `voter_id,first_name,last_name,address,city,zip,lat,lng` export need no
    mapping at all. `extra` lists columns copied into Door.extra (None: the LA
    ones, parcel_ain and block_group, when present).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field(s) in the column mapping: {', '.join(unknown)}; fields are: {', '.join(FIELDS)}"
            )

    @classmethod
    def from_spec(cls, spec: str) -> ColumnMapping:
        """Parse "our=theirs,our=theirs" (the --columns option)."""
        columns: dict[str, str] = {}
        for part in spec.split(","):
            if not part.strip():
                continue
            ours, sep, theirs = part.partition("=")
            if not sep or not ours.strip() or not theirs.strip():
                raise ValueError(f"bad column mapping {part.strip()!r}: write our_field=their_column")
            columns[ours.strip()] = theirs.strip()
        return cls(columns=columns)

    @classmethod
    def from_json(cls, source: str | Path | Mapping[str, Any]) -> ColumnMapping:
        """Read {"columns": {our: theirs}, "extra": [column, …]} or a plain {our: theirs}."""
        if isinstance(source, Mapping):
            data: Any = source
        else:
            try:
                data = json.loads(Path(source).read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"cannot read the mapping file {source}: {exc}") from None
        if not isinstance(data, Mapping):
            raise ValueError("the mapping must be a JSON object")
        columns = data.get("columns", data) if "columns" in data else data
        extra = data.get("extra") if "columns" in data else None
        if not isinstance(columns, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
        ):
            raise ValueError('"columns" must map field names to column names (strings)')
        if extra is not None and (not isinstance(extra, list) or not all(isinstance(e, str) for e in extra)):
            raise ValueError('"extra" must be a list of column names')
        return cls(columns=dict(columns), extra=tuple(extra) if extra is not None else None)

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with `other`'s entries winning (--mapping then --columns)."""
        return ColumnMapping(
            columns={**self.columns, **other.columns},
            extra=other.extra if other.extra is not None else self.extra,
        )


@dataclass
class _Layout:
    """A mapping resolved against a header: field -> column index."""

    index: dict[str, int]
    extra: list[tuple[str, int]]
    width: int

    def has(self, name: str) -> bool:
        return name in self.index


def _resolve(mapping: ColumnMapping, header: list[str], report: ImportReport) -> _Layout:
    names = [h.strip() for h in header]
    lowered = [n.lower() for n in names]
    found = ", ".join(repr(n) for n in names)
    duplicates = sorted({n for n in names if n and lowered.count(n.lower()) > 1})
    if duplicates:
        raise ImportAborted(f"line 1: column(s) named twice: {', '.join(duplicates)}; columns found: {found}")
    position = {n: i for i, n in enumerate(lowered)}
    index: dict[str, int] = {}
    missing_mapped: list[str] = []
    for ours, theirs in mapping.columns.items():
        if theirs.strip().lower() in position:
            index[ours] = position[theirs.strip().lower()]
        else:
            missing_mapped.append(f"{theirs!r} (for {ours})")
    if missing_mapped:
        raise ImportAborted(
            f"line 1: mapped column(s) not in the file: {', '.join(missing_mapped)}; columns found: {found}"
        )
    used = set(index.values())
    for ours in FIELDS:
        if ours in index:
            continue
        for candidate in (ours, *ALIASES.get(ours, ())):
            at = position.get(candidate)
            if at is not None and at not in used:
                index[ours] = at
                used.add(at)
                break
    # A single-line address is used only when the parts are not all there.
    if "address" in index and "number" in index and "street_name" in index:
        del index["address"]
    if "address" not in index:
        missing = [name for name in ("number", "street_name") if name not in index]
        if missing:
            raise ImportAborted(
                f"line 1: missing required column(s): {', '.join(missing)} "
                f"(or one single-line 'address' column); columns found: {found}. "
                "Name the columns with --columns our=theirs or --mapping FILE.json (docs/importing.md)."
            )
    if ("lat" in index) != ("lng" in index):
        have, lacks = ("lat", "lng") if "lat" in index else ("lng", "lat")
        raise ImportAborted(f"line 1: the file has a {have} column but no {lacks} column; columns found: {found}")
    extra_names = mapping.extra if mapping.extra is not None else DEFAULT_EXTRA_COLUMNS
    extra: list[tuple[str, int]] = []
    for name in extra_names:
        at = position.get(name.strip().lower())
        if at is not None:
            extra.append((names[at], at))
        elif mapping.extra is not None:
            raise ImportAborted(f"line 1: extra column {name!r} is not in the file; columns found: {found}")
    if "address" in index:
        report.notes.append(f"addresses read from the single-line column {names[index['address']]!r}")
    return _Layout(index=index, extra=extra, width=len(names))


class _Door:
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

    @property
    def address(self) -> addr.NormalizedAddress:
        return addr.NormalizedAddress(*self.parts)


@dataclass
class _Person:
    line: int
    door_key: str
    voter_id: str
    first_name: str
    last_name: str
    phone: str
    email: str
    birth_year: int | None
    party: str


class _EncodingError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _FarCheck:
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


def import_doors(
    *,
    organization: Organization,
    source: str | Path | IO[bytes],
    mapping: ColumnMapping | None = None,
    strict: bool = False,
    geocoder: Geocoder | None = None,
    progress: ProgressCallback = no_progress,
    far_km: float = 20,
) -> ImportReport:
    """Import the doors of a CSV file into the organization; see the module docstring.

    Raises ImportAborted (nothing written) when the file cannot be read as a
    whole, or in strict mode when any row has a problem. `geocoder` is any
    object with geocode(AddressQuery) -> GeocodeResult | None (turf.geocoding).
    """
    started = time.monotonic()
    report = ImportReport()
    mapping = mapping or ColumnMapping()
    timings: dict[str, float] = {}

    boxes = list(
        District.objects.filter(organization=organization).values_list("min_lng", "min_lat", "max_lng", "max_lat")
    )
    far = _FarCheck(boxes, far_km) if boxes else None
    default_source = (Path(source).name if isinstance(source, str | Path) else "")[: _MAX["source"]]

    with _open_binary(source) as binary:
        doors, people, merged = _read(binary, mapping, far, default_source, report, progress)
    timings["parse"] = time.monotonic() - started
    report.skipped = len({p.where for p in report.problems})
    if strict and report.problems:
        raise ImportAborted(
            f"strict mode: {len(report.problems)} problem(s) in {report.skipped} row(s); nothing was written",
            report.problems,
        )
    if not doors:
        raise ImportAborted("no row could be imported; nothing was written", report.problems)

    with transaction.atomic():
        write_started = time.monotonic()
        organization_doors_lock(organization=organization)
        existing = _existing_doors(organization)
        geocoded, unplaced = _place(organization, doors, existing, geocoder, report)
        buildings = _assign_building_keys(doors)
        created, updated, unchanged, moved, new_doors = _write_doors(organization, doors, existing, progress)
        people_created, people_updated = _write_people(organization, people, doors, existing)
        timings["write"] = time.monotonic() - write_started

        districts_started = time.monotonic()
        links = 0
        if boxes and len(new_doors[0]):
            ids, lngs, lats = new_doors
            links += door_districts_link_new(
                organization=organization, door_ids=ids, lngs=lngs, lats=lats, progress=progress
            )
        if boxes and moved:
            # Moved doors have links to compare against: recompute only what changed.
            links += door_districts_assign(organization=organization, door_ids=moved, progress=progress)
        timings["district assignment"] = time.monotonic() - districts_started

        absent = len(existing.keys() - doors.keys())
        report.created, report.updated, report.unchanged = created, updated, unchanged
        report.counts.update(
            {
                "doors in file": len(doors),
                "rows merged as duplicates": merged,
                "buildings in file": buildings,
                "geocoded": geocoded,
                "without location": len(unplaced),
                "door-district links written": links,
                "doors not in this file (kept)": absent,
            }
        )
        if people:
            report.counts["people created"] = people_created
            report.counts["people updated"] = people_updated
        if unplaced:
            shown = ", ".join(f"line {d.line} ({d.address.address_key})" for d in unplaced[:20])
            more = f" and {len(unplaced) - 20} more" if len(unplaced) > 20 else ""
            report.notes.append(
                f"{len(unplaced)} door(s) could not be placed and were imported without location "
                f"(in no district or turf until placed by hand): {shown}{more}"
            )
        if absent:
            report.notes.append(
                f"{absent} door(s) of this organization are not in this file; they were kept (an import "
                "never deletes doors)"
            )
        audit_log(
            organization=organization,
            actor=None,
            action="doors.import",
            source=default_source,
            rows=report.rows_read,
            created=created,
            updated=updated,
            unchanged=unchanged,
            skipped=report.skipped,
        )
    # Phase timings for benchmarks/import_doors.py, in milliseconds (counts are ints).
    report.counts.update({f"{name} ms": round(value * 1000) for name, value in timings.items()})
    report.seconds = time.monotonic() - started
    return report


class _open_binary:  # noqa: N801 - used as a context manager
    def __init__(self, source: str | Path | IO[bytes]) -> None:
        self.source = source
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> Iterable[bytes]:
        if isinstance(self.source, str | Path):
            try:
                self.handle = open(self.source, "rb")  # noqa: SIM115 - closed in __exit__
            except OSError as exc:
                raise ImportAborted(f"cannot open {self.source}: {exc.strerror or exc}") from None
            return self.handle
        if isinstance(self.source, io.TextIOBase):
            # A text stream was given: encode back so every source takes one path.
            return (line.encode("utf-8") for line in self.source)
        return self.source

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _decoded(binary: Iterable[bytes], nul_lines: set[int]) -> Iterator[str]:
    """Decode line by line so an encoding error names its line.

    Lines holding a NUL character are noted in nul_lines: no database text
    column can store one (PostgreSQL refuses it), so _read refuses the row.
    """
    for number, raw in enumerate(binary, start=1):
        if b"\x00" in raw:
            nul_lines.add(number)
        if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise _EncodingError(1, "the file is UTF-16 (Excel 'Unicode Text'); re-save it as 'CSV UTF-8'")
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise _EncodingError(
                number,
                f"line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1}); "
                "the file is probably Latin-1 / Windows-1252: re-save it as 'CSV UTF-8' and import again",
            ) from None


def _read(
    binary: Iterable[bytes],
    mapping: ColumnMapping,
    far: _FarCheck | None,
    default_source: str,
    report: ImportReport,
    progress: ProgressCallback,
) -> tuple[dict[str, _Door], list[_Person], int]:
    """Stream the rows: (doors by address key, people, rows merged into an earlier door).

    This loop runs once per row of a 1,000,000-row file, so it is written for
    speed: street, city and zip parts repeat across thousands of rows and are
    normalized (and length-checked) once each through dict caches; a plain
    numeric house number skips normalization; coordinates take a fast path
    when they parse and fall in a "near" cell.
    """
    nul_lines: set[int] = set()
    reader = csv.reader(_decoded(binary, nul_lines))
    problems = report.problems
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)
        if header is None:
            raise ImportAborted("the file is empty (no header line)")
        layout = _resolve(mapping, header, report)
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
        max_number, max_unit, max_source_id = _MAX["number"], _MAX["unit"], _MAX["source_id"]
        max_source = _MAX["source"]
        doors: dict[str, _Door] = {}
        people: list[_Person] = []
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
            if single_line is not None:
                try:
                    parsed = addr.parse_one_line(row[single_line])
                except ValueError as exc:
                    problems.append(ImportProblem(f"line {line}", str(exc)))
                    continue
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
                    if len(value) > _MAX[name]:
                        messages.append(f"{name} {value[:40]!r} is longer than {_MAX[name]} characters")
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
            if len(key) > _MAX["address_key"]:
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
                doors[key] = _Door(
                    line,
                    (number, suffix, pre, name_, type_, post, unit_type, unit, city, state, zip_code),
                    lat,
                    lng,
                    building_id,
                    row_source,
                    source_id,
                    extra,
                )
            else:
                merged += 1
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
    except _EncodingError as exc:
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
        if len(value) > _MAX[field_name]:
            return f"{field_name} {value[:40]!r} is longer than {_MAX[field_name]} characters"
    return pre, name, type_, post


def _place_parts(raw: tuple[str, str, str]) -> tuple[str, str, str] | str:
    """Normalized (city, state, zip), or a problem message."""
    city, state, zip_code = addr.clean(raw[0]), addr.clean(raw[1]), addr.normalize_zip(raw[2])
    for field_name, value in (("city", city), ("state", state), ("zip", zip_code)):
        if len(value) > _MAX[field_name]:
            return f"{field_name} {value[:40]!r} is longer than {_MAX[field_name]} characters"
    return city, state, zip_code


def _parts(address: addr.NormalizedAddress) -> dict[str, str]:
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def _coordinates(lat_text: str, lng_text: str, far: _FarCheck | None) -> tuple[float | None, float | None, str]:
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


def _person(row: list[str], ix: dict[str, int], line: int, door_key: str) -> tuple[_Person | None, list[str]]:
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
    person = _Person(
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


# --- writing -------------------------------------------------------------------------

_DOOR_COLUMNS = ("building_key", *ADDRESS_FIELDS, "lat", "lng", "geocode_quality", "source", "source_id", "extra")


# The door's string columns, compared through one digest (see _Existing).
_DIGEST_COLUMNS = ("building_key", *ADDRESS_FIELDS, "source", "source_id")


def _digest(strings: Iterable[str]) -> bytes:
    return hashlib.blake2b("\x1f".join(strings).encode(), digest_size=16).digest()


class _Existing(NamedTuple):
    """A door already in the database, as little of it as a re-import needs.

    A million of these are held at once: the fourteen string columns are one
    128-bit digest (changed or not is all the import asks of them), the JSON
    stays text until compared. 0.4 KB a door, against 1.8 KB for the row.
    """

    id: int
    lat: float | None
    lng: float | None
    quality: str
    extra: str  # JSON text
    digest: bytes  # of _DIGEST_COLUMNS

    def extra_dict(self) -> dict[str, Any]:
        return json.loads(self.extra) if self.extra else {}


def _existing_doors(organization: Organization) -> dict[str, _Existing]:
    rows = (
        Door.objects.filter(organization=organization)
        .annotate(extra_text=Cast("extra", TextField()))
        .values_list("address_key", "id", "lat", "lng", "geocode_quality", "extra_text", *_DIGEST_COLUMNS)
        .iterator(chunk_size=20_000)
    )
    qualities: dict[str, str] = {}
    return {
        row[0]: _Existing(row[1], row[2], row[3], qualities.setdefault(row[4], row[4]), row[5], _digest(row[6:]))
        for row in rows
    }


def _place(
    organization: Organization,
    doors: dict[str, _Door],
    existing: dict[str, _Existing],
    geocoder: Geocoder | None,
    report: ImportReport,
) -> tuple[int, list[_Door]]:
    """Locate doors without file coordinates; returns (how many geocoded, the ones left unplaced).

    A door already in the database keeps its location (hand-placed or
    geocoded before) when the file gives none, so a re-import never asks the
    geocoder twice. Hand-placed doors keep their location even when the file
    gives one: an organizer moved them for a reason.
    """
    pending: list[_Door] = []
    for key, door in doors.items():
        old = existing.get(key)
        keep_old = old is not None and old.lat is not None
        if keep_old and (door.lat is None or old.quality == GeocodeQuality.MANUAL):
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
    unplaced: list[_Door] = []
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
                state=a.state or _DEFAULT_STATE,
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


def _known_addresses(organization: Organization, doors: dict[str, _Door]) -> Iterator[Any]:
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
        street = addr.street_key_of(pre_dir, street_name, street_type, post_dir)
        yield KnownAddress(number=number, street_key=street, zip=zip_code, lat=lat, lng=lng)
    for door in doors.values():
        if door.lat is not None and door.quality == GeocodeQuality.SOURCE:
            number, _, pre, name, type_, post, _, _, _, _, zip_code = door.parts
            street = addr.street_key_of(pre, name, type_, post)
            yield KnownAddress(number=number, street_key=street, zip=zip_code, lat=door.lat, lng=door.lng)


def _assign_building_keys(doors: dict[str, _Door]) -> int:
    """Set the building key of every door (see Door.building_key); returns how many distinct keys.

    A door with neither an outline id nor a location keeps an empty key:
    there is nothing to group it on.
    """
    keys: set[str] = set()
    for door in doors.values():
        if door.building_id:
            key = f"b:{door.building_id}"
        elif door.lat is not None:
            key = f"p:{door.lng:.7f},{door.lat:.7f}"
        else:
            continue
        door.building_key = key
        keys.add(key)
    return len(keys)


def _write_doors(
    organization: Organization,
    doors: dict[str, _Door],
    existing: dict[str, _Existing],
    progress: ProgressCallback,
) -> tuple[int, int, int, list[int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Insert new doors, update changed ones.

    Returns (created, updated, unchanged, ids of existing doors that moved,
    (ids, lngs, lats) of the new doors that have a location).
    """
    now = timezone.now()
    postgres = connection.vendor == "postgresql"
    lat_at = _DOOR_COLUMNS.index("lat")
    quality_at = _DOOR_COLUMNS.index("geocode_quality")
    digest_at = [_DOOR_COLUMNS.index(name) for name in _DIGEST_COLUMNS]
    lng_at = _DOOR_COLUMNS.index("lng")
    extra_at = _DOOR_COLUMNS.index("extra")
    max_id = max((e.id for e in existing.values()), default=0)
    new_keys: list[str] = []
    updates: list[tuple[Any, ...]] = []
    moved: list[int] = []
    unchanged = 0

    def values(door: _Door, old_extra: dict[str, Any] | None) -> tuple[Any, ...]:
        extra = dict(old_extra) if old_extra else {}
        extra["source_ids"] = door.source_ids
        if door.extra:
            extra.update(door.extra)
        return (
            *_address_strings(door),
            door.lat,
            door.lng,
            door.quality,
            door.source,
            door.source_ids[0] if door.source_ids else "",
            extra,
        )

    def new_rows() -> Iterator[tuple[Any, ...]]:
        for done, key in enumerate(new_keys, start=1):
            row = values(doors[key], None)
            extra = json.dumps(row[extra_at]) if postgres else row[extra_at]
            yield (organization.pk, key, *row[:extra_at], extra, now, now)
            if done % PROGRESS_EVERY_ROWS == 0:
                progress(done, len(new_keys), "doors written")

    for key, door in doors.items():
        old = existing.get(key)
        if old is None:
            new_keys.append(key)
            continue
        old_extra = old.extra_dict()
        row = values(door, old_extra)
        if (
            row[lat_at] == old.lat
            and row[lng_at] == old.lng
            and row[quality_at] == old.quality
            and row[extra_at] == old_extra
            and _digest(row[i] for i in digest_at) == old.digest
        ):
            unchanged += 1
            continue
        updates.append((old.id, *row[:extra_at], json.dumps(row[extra_at]), now))
        if (row[lat_at], row[lng_at]) != (old.lat, old.lng):
            moved.append(old.id)

    # In key order: the unique (organization, address_key) index then grows at
    # its right edge instead of splitting pages all over (30% faster on a
    # million doors in PostgreSQL).
    new_keys.sort()
    if postgres:
        with foreign_keys_checked_per_statement(Door):
            lines = _copy_door_lines(organization, doors, new_keys, now, progress)
            created = copy_lines(Door, _COPY_DOOR_FIELDS, lines)
    else:
        created = bulk_insert(
            Door, ["organization_id", "address_key", *_DOOR_COLUMNS, "created_at", "updated_at"], new_rows()
        )
    progress(created, created, "doors written")
    if updates:
        _update_rows(Door, [*_DOOR_COLUMNS, "updated_at"], updates, json_fields={"extra"})
    new_located = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    if created:
        new_located = door_locations(organization=organization, after_id=max_id)
    return created, len(updates), unchanged, moved, new_located


def _address_strings(door: _Door) -> tuple[str, ...]:
    """The building key and the address parts (state defaulted), as written to the door's columns."""
    parts = door.parts  # in ADDRESS_FIELDS order: state is the tenth
    return (door.building_key, *parts[:9], parts[9] or _DEFAULT_STATE, parts[10])


# The COPY column order of _copy_door_lines: the text columns, then the typed tail.
_COPY_DOOR_FIELDS = [
    "address_key",
    "building_key",
    *ADDRESS_FIELDS,
    "geocode_quality",
    "source",
    "source_id",
    "extra",
    "organization_id",
    "lat",
    "lng",
    "created_at",
    "updated_at",
]


def _copy_door_lines(
    organization: Organization, doors: dict[str, _Door], keys: list[str], now: Any, progress: ProgressCallback
) -> Iterator[str]:
    """New doors as lines of COPY's text format, in _COPY_DOOR_FIELDS order.

    The hot loop of a million-door import: the strings are the normalizer's
    own, joined once (turf.bulk.copy_text_line escapes only when a value
    needs it); the organization and the timestamps are formatted once.
    """
    stamp = now.isoformat()
    head = f"\t{organization.pk}\t"
    tail = f"\t{stamp}\t{stamp}\n"
    unplaced = f"{COPY_NULL}\t{COPY_NULL}"
    dumps = json.dumps
    total = len(keys)
    for done, key in enumerate(keys, start=1):
        door = doors[key]
        source_ids = door.source_ids
        extra = {"source_ids": source_ids, **door.extra} if door.extra else {"source_ids": source_ids}
        text = copy_text_line(
            (
                key,
                *_address_strings(door),
                door.quality,
                door.source,
                source_ids[0] if source_ids else "",
                dumps(extra),
            )
        )
        where = unplaced if door.lat is None else f"{door.lat!r}\t{door.lng!r}"
        yield f"{text}{head}{where}{tail}"
        if done % PROGRESS_EVERY_ROWS == 0:
            progress(done, total, "doors written")


def _update_rows(
    model: type[Any],
    fields: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    json_fields: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """UPDATE rows (id, *values in `fields` order) in bulk.

    PostgreSQL: COPY into a temporary table and one UPDATE … FROM, which runs
    at COPY speed; elsewhere executemany of one UPDATE per row. JSON values
    arrive serialized.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in fields]
    quoted = [connection.ops.quote_name(c) for c in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            temp = connection.ops.quote_name(f"import_{model._meta.db_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")
            cursor.execute(
                f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT id, {', '.join(quoted)} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {temp} (id, {', '.join(quoted)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            assignments = ", ".join(f"{q} = t.{q}" for q in quoted)
            cursor.execute(f"UPDATE {table} AS d SET {assignments} FROM {temp} AS t WHERE d.id = t.id")
            cursor.execute(f"DROP TABLE {temp}")
        else:
            assignments = ", ".join(f"{q} = %s" for q in quoted)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", [(*row[1:], row[0]) for row in rows])


def _write_people(
    organization: Organization,
    people: list[_Person],
    doors: dict[str, _Door],
    existing: dict[str, _Existing],
) -> tuple[int, int]:
    """Create or update people, matched on the voter id (else on door and name)."""
    if not people:
        return 0, 0
    door_ids = {key: e.id for key, e in existing.items()}
    max_known = max(door_ids.values(), default=0)
    door_ids.update(Door.objects.filter(organization=organization, id__gt=max_known).values_list("address_key", "id"))
    fields = ("door_id", "first_name", "last_name", "phone", "email", "birth_year", "party")
    by_voter: dict[str, tuple[int, tuple[Any, ...]]] = {}
    by_name: dict[tuple[int, str, str], tuple[int, tuple[Any, ...]]] = {}
    for pk, voter_id, *rest in Person.objects.filter(organization=organization).values_list(
        "id", "external_voter_id", *fields
    ):
        if voter_id:
            by_voter[voter_id] = (pk, tuple(rest))
        else:
            by_name[(rest[0], rest[1].upper(), rest[2].upper())] = (pk, tuple(rest))
    now = timezone.now()
    new_rows: list[tuple[Any, ...]] = []
    updates: dict[int, tuple[Any, ...]] = {}
    seen: set[Any] = set()
    for p in people:
        door_id = door_ids[p.door_key]
        values = (door_id, p.first_name, p.last_name, p.phone, p.email, p.birth_year, p.party)
        identity: Any = p.voter_id or (door_id, p.first_name.upper(), p.last_name.upper())
        if identity in seen:
            continue  # a person listed twice in one file: the first row wins
        seen.add(identity)
        old = by_voter.get(p.voter_id) if p.voter_id else by_name.get(identity)
        if old is None:
            new_rows.append((organization.pk, p.voter_id, *values, now, now))
        elif old[1] != values:
            updates[old[0]] = (old[0], *values, now)
    created = bulk_insert(
        Person, ["organization_id", "external_voter_id", *fields, "created_at", "updated_at"], new_rows
    )
    if updates:
        _update_rows(Person, [*fields, "updated_at"], list(updates.values()))
    return created, len(updates)
