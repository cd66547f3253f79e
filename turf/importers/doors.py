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

One point, house number, fraction and unit under several street names (every
Lincoln Blvd address is also listed as PCH, SR-1 and 1) is one door, shown
under its local street name, the other spellings kept as aliases that later
rows and voter files are matched through; an organization loaded before this
has its alias doors merged by the re-import (door_aliases.py).

Re-importing updates doors in place, matched on the normalized address, so
their primary keys (and every knock recorded at them) survive. A door absent
from the new file is kept and counted, never deleted: canvass history PROTECTs
doors, and a shorter export is not a statement that a house was demolished.

New doors go to PostgreSQL as one COPY of joined text lines (turf.bulk.copy_lines;
turf.bulk.bulk_insert elsewhere), changed ones through a COPY into a temporary
table plus one UPDATE … FROM, all in one transaction; see docs/performance.md
for the figures.

The steps, one module each: door_columns (which column is which field),
decoding (bytes to lines), door_rows (parsing and merging rows), door_placing
(geocoding doors without coordinates), door_writing (the bulk writes).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.db import transaction

from fieldops.changelog import Change, sync_changes_record_many
from fieldops.models import Organization, SyncChange
from fieldops.services import audit_log
from turf.districting import door_districts_assign, door_districts_link_new, organization_doors_lock
from turf.importers.base import ImportAborted, ImportReport, ProgressCallback, no_progress
from turf.importers.decoding import open_binary
from turf.importers.door_aliases import (
    AliasResult,
    group_spellings,
    known_aliases,
    match_by_alias,
    merge_alias_doors,
    pinned_keys,
    write_aliases,
)
from turf.importers.door_columns import ColumnMapping
from turf.importers.door_matching import match_loosely
from turf.importers.door_placing import place_doors
from turf.importers.door_rows import MAX_LENGTH, FarCheck, read_rows
from turf.importers.door_writing import assign_building_keys, existing_doors, write_doors, write_people
from turf.models import District

if TYPE_CHECKING:
    from turf.geocoding import Geocoder


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
    far = FarCheck(boxes, far_km) if boxes else None
    default_source = (Path(source).name if isinstance(source, str | Path) else "")[: MAX_LENGTH["source"]]

    with open_binary(source) as binary:
        doors, people, merged = read_rows(binary, mapping, far, default_source, report, progress)
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
        existing = existing_doors(organization)
        aliases = known_aliases(organization)
        spelled = AliasResult()
        group_spellings(doors, people, pinned_keys(existing), spelled)
        if merge_alias_doors(organization, doors, existing, aliases, spelled):
            existing, aliases = existing_doors(organization), known_aliases(organization)
        matched = match_by_alias(doors, people, existing, aliases, spelled)
        loose = match_loosely(doors, people, existing, aliases, spelled, report)
        matched |= loose.matched_keys
        report.skipped = len({p.where for p in report.problems})
        if strict and report.problems:
            raise ImportAborted(
                f"strict mode: {len(report.problems)} problem(s) in {report.skipped} row(s); nothing was written",
                report.problems,
            )
        if not doors and not matched:
            raise ImportAborted("no row could be imported; nothing was written", report.problems)
        geocoded, unplaced = place_doors(organization, doors, existing, geocoder)
        buildings = assign_building_keys(doors)
        touched: set[int] = set()  # existing doors changed, or whose people changed: phones hear of them
        created, updated, unchanged, moved, new_doors = write_doors(organization, doors, existing, progress, touched)
        alias_rows = write_aliases(organization, doors)
        people_created, people_updated = write_people(organization, people, existing, touched)
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

        absent = len(existing.keys() - doors.keys() - matched)
        report.created, report.updated, report.unchanged = created, updated, unchanged
        report.counts.update(
            {
                "doors in file": len(doors),
                "rows merged as duplicates": merged,
                "spellings kept as aliases": spelled.aliases,
                "aliases written": alias_rows,
                "rows matched by an alias": spelled.matched_by_alias,
                "rows matched loosely (see below)": loose.loose,
                "rows ambiguous (not placed)": loose.ambiguous,
                "rows unreadable and unmatched": loose.unreadable,
                "rows not among the loaded doors (new doors)": loose.not_found,
                "alias doors merged": spelled.merged.doors_merged,
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
            aliases=spelled.aliases,
            alias_doors_merged=spelled.merged.doors_merged,
        )
        # Last: the change log's counter lock is held from here to commit. A door is
        # always pulled with all its people, so one entry per door covers its people too.
        sync_changes_record_many(
            organization_id=organization.pk,
            changes=[Change(kind=SyncChange.Kind.DOOR, object_id=d, door_id=d) for d in sorted(touched)],
        )
    # Phase timings for benchmarks/import_doors.py, in milliseconds (counts are ints).
    report.counts.update({f"{name} ms": round(value * 1000) for name, value in timings.items()})
    report.seconds = time.monotonic() - started
    return report
