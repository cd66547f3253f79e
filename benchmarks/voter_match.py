"""How many rows of a VAN-style voter export of Venice land on the right door.

    .venv/bin/python benchmarks/voter_match.py [--doors 13648] [--seed 15]

Sets up Django against a scratch SQLite database, imports the Venice address
points (data/la/venice_addresses.csv: the demo's doors, aliases included),
writes a voter export of `--doors` of its physical doors (all by default)
with tests/turf/voter_export.py (single-line addresses as voters and VAN
write them, the true door of each row known), imports it with the real
importer (the VAN column mapping of docs/importing.md) and prints the share
of valid rows placed at the right door, placed wrongly (must be 0), reported
ambiguous, made new doors (not found) or skipped, and whether any typo row
landed on a loaded door (must not). Goal: at least 99.5 % right.
Results: docs/importing.md ("Voter files").
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--doors", type=int, default=None, help="physical doors to write voters for (default: all)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--show", type=int, default=10, help="report lines to show of each kind")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fieldops-voters-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["FIELDOPS_VAR_DIR"] = str(scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldops.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from fieldops.services import organization_create
    from tests.turf.voter_export import VAN_COLUMNS, placement, venice_points, voter_export
    from turf.importers.door_columns import ColumnMapping
    from turf.importers.doors import import_doors
    from turf.models import Door

    call_command("migrate", verbosity=0)
    org = organization_create(slug="voters", name="Voters")
    import_doors(organization=org, source=ROOT / "data" / "la" / "venice_addresses.csv")
    loaded = set(Door.objects.filter(organization=org).values_list("id", flat=True))
    data, truth = voter_export(venice_points(), doors=args.doors, seed=args.seed)
    started = time.monotonic()
    report = import_doors(organization=org, source=_write(scratch, data), mapping=ColumnMapping.from_spec(VAN_COLUMNS))
    seconds = time.monotonic() - started
    p = placement(org, truth, loaded, report)

    def share(n: int) -> str:
        return f"{n:,} ({100 * n / p.valid:.2f} %)"

    print(f"voter export: {len(truth):,} rows for {len(loaded):,} loaded doors, imported in {seconds:.1f} s")
    print(f"valid rows: {p.valid:,}; typo rows: {p.typos} (placed on a loaded door: {p.typos_on_loaded_door})")
    print(f"right door:          {share(p.right)}")
    print(f"wrong door:          {share(p.wrong)}")
    print(f"ambiguous (report):  {share(p.ambiguous)}")
    print(f"not found (new door):{share(p.new_door)}")
    print(f"skipped otherwise:   {share(p.skipped)}")
    rows = data.decode().splitlines()
    for line in p.wrong_lines:
        print(f"  placed wrongly: line {line}: {rows[line - 1]}")
    for name, value in report.counts.items():
        if name.startswith("rows"):
            print(f"  report: {name}: {value:,}")
    print("examples of the report:")
    kinds: dict[str, int] = {}
    for item in [*report.matches, *report.problems]:
        kind = re.sub(r"[A-Z0-9/#-]+", "", item.message.split(": matched", 1)[-1])
        if kinds.get(kind, 0) < args.show:
            kinds[kind] = kinds.get(kind, 0) + 1
            print(f"  {item}")
    print("goal met" if p.right_share >= 0.995 and not p.wrong and not p.typos_on_loaded_door else "goal NOT met")


def _write(scratch: Path, data: bytes) -> Path:
    path = scratch / "van-export.csv"
    path.write_bytes(data)
    return path


if __name__ == "__main__":
    main()
