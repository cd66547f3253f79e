"""Which column of a door file holds which of our fields: the fields, their usual
aliases, a mapping given by the user, and the mapping resolved against a header."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from turf.importers.base import ImportAborted, ImportReport

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
class ColumnLayout:
    """A mapping resolved against a header: field -> column index."""

    index: dict[str, int]
    extra: list[tuple[str, int]]
    width: int

    def has(self, name: str) -> bool:
        return name in self.index


def resolve_columns(mapping: ColumnMapping, header: list[str], report: ImportReport) -> ColumnLayout:
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
    return ColumnLayout(index=index, extra=extra, width=len(names))
