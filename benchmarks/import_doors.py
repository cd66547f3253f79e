"""Benchmark the door importer: the Venice file, then a synthetic N-row file.

    .venv/bin/python benchmarks/import_doors.py [--rows 1000000] [--database sqlite|postgres|both]

Sets up Django itself against a scratch database: a temporary SQLite file, or
a PostgreSQL database `fieldops_bench` on 127.0.0.1:5432 (user postgres, trust
auth) that it creates and drops. Loads the four LA district layers, imports
data/la/venice_addresses.csv, then writes and imports a synthetic file: the
Venice rows replicated with the street name, address id and building id
changed per replica (so every address is new) and the coordinates shifted
across Los Angeles (so district assignment has real work: points fall in
different council, assembly and supervisorial districts, some in none).

Prints rows/s, seconds per phase (parse, write, district assignment) and the
peak resident memory of the process (ru_maxrss). Goal: 1,000,000 rows in
under 60 s on PostgreSQL, peak memory under 2 GB. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LA = ROOT / "data" / "la"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_NAME = "fieldops_bench"
LAYERS = [
    ("City Council", "city_council.geojson", "District", "NAME"),
    ("Assembly", "assembly.geojson", "District", "NAME"),
    ("Supervisors", "supervisors.geojson", "District", "NAME"),
    ("Neighborhood Councils", "neighborhood_council.geojson", None, "Name"),
]
# Replica offsets in degrees: east and north of Venice only (west is the ocean),
# inside the city's extent (about -118.67..-118.15, 33.70..34.34).
STEP_LNG = 0.045
STEP_LAT = 0.04
COLUMNS_EAST = 7
ROWS_NORTH = 8


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def write_synthetic(path: Path, rows: int) -> int:
    """Venice replicated to `rows` rows; returns how many were written."""
    with open(LA / "venice_addresses.csv", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        source = list(reader)
    at = {name: i for i, name in enumerate(header)}
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        replica = 0
        while written < rows:
            dx = (replica % COLUMNS_EAST) * STEP_LNG
            dy = ((replica // COLUMNS_EAST) % ROWS_NORTH) * STEP_LAT - 0.12
            for row in source:
                if written >= rows:
                    break
                new = list(row)
                new[at["address_id"]] = f"{replica}-{row[at['address_id']]}"
                if row[at["street_name"]]:
                    new[at["street_name"]] = f"{row[at['street_name']]} R{replica}"
                if row[at["building_id"]]:
                    new[at["building_id"]] = f"{row[at['building_id']]}-r{replica}"
                new[at["lon"]] = f"{float(row[at['lon']]) + dx:.7f}"
                new[at["lat"]] = f"{float(row[at['lat']]) + dy:.7f}"
                writer.writerow(new)
                written += 1
            replica += 1
    return written


def run(database: str, rows: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="fieldops-bench-"))
    if database == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
            conn.execute(f"CREATE DATABASE {PG_NAME}")
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["FIELDOPS_VAR_DIR"] = str(scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldops.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fieldops.services import organization_create
    from turf.importers.districts import import_districts
    from turf.importers.doors import import_doors
    from turf.models import Door, DoorDistrict

    try:
        call_command("migrate", verbosity=0)
        org = organization_create(slug="bench", name="Benchmark")
        started = time.monotonic()
        for name, filename, id_field, name_field in LAYERS:
            import_districts(
                organization=org, layer_name=name, id_field=id_field, name_field=name_field, source=LA / filename
            )
        print(f"[{database}] four LA layers loaded in {time.monotonic() - started:.1f} s")

        def measure(label: str, path: Path) -> None:
            report = import_doors(organization=org, source=path)
            seconds = report.seconds
            c = report.counts
            print(
                f"[{database}] {label}: {report.rows_read:,} rows in {seconds:.1f} s = "
                f"{report.rows_read / seconds:,.0f} rows/s; parse {c['parse ms'] / 1000:.1f} s, "
                f"write {c['write ms'] / 1000:.1f} s, district assignment {c['district assignment ms'] / 1000:.1f} s; "
                f"created {report.created:,}, buildings {c['buildings in file']:,}, "
                f"links {c['door-district links written']:,}, problems {len(report.problems)}; "
                f"peak memory {peak_mb():,.0f} MB"
            )

        def baseline(label: str, path: Path) -> None:
            """The floor, measured in the same run: the file's raw rows into a bare
            table (text columns, no index, no key, no normalization, no merge),
            by COPY on PostgreSQL and executemany on SQLite."""
            with open(path, newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            columns = ", ".join(f'"{name}" text' for name in header)
            started = time.monotonic()
            count = 0
            with connection.cursor() as cursor, open(path, newline="", encoding="utf-8") as handle:
                cursor.execute("DROP TABLE IF EXISTS bench_raw")
                cursor.execute(f"CREATE TABLE bench_raw ({columns})")
                reader = csv.reader(handle)
                next(reader)
                if database == "postgres":
                    with cursor.cursor.copy("COPY bench_raw FROM STDIN") as copy:
                        for row in reader:
                            copy.write_row(row)
                            count += 1
                else:
                    marks = ", ".join("?" * len(header))
                    rows = list(reader)
                    count = len(rows)
                    cursor.executemany(f"INSERT INTO bench_raw VALUES ({marks})", rows)
                cursor.execute("DROP TABLE bench_raw")
            seconds = time.monotonic() - started
            print(
                f"[{database}] baseline {label}: raw rows into a bare table: {count:,} rows in {seconds:.1f} s"
                f" = {count / seconds:,.0f} rows/s"
            )

        baseline("venice", LA / "venice_addresses.csv")
        measure("venice", LA / "venice_addresses.csv")
        synthetic = scratch / "synthetic.csv"
        started = time.monotonic()
        written = write_synthetic(synthetic, rows)
        print(f"[{database}] synthetic file: {written:,} rows written in {time.monotonic() - started:.1f} s")
        baseline(f"synthetic {written:,}", synthetic)
        measure(f"synthetic {written:,}", synthetic)
        measure(f"re-import synthetic {written:,} (all unchanged)", synthetic)
        buildings = Door.objects.exclude(building_key="").values("building_key").distinct().count()
        print(
            f"[{database}] totals: doors {Door.objects.count():,}, buildings {buildings:,}, "
            f"links {DoorDistrict.objects.count():,}"
        )
    finally:
        connection.close()
        if database == "postgres":
            import psycopg

            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
        for path in sorted(scratch.glob("*"), reverse=True):
            path.unlink()
        scratch.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="postgres")
    args = parser.parse_args()
    if args.database == "both":
        # One process per database: Django's settings are fixed at setup, and
        # each run's peak memory must be its own.
        for database in ("postgres", "sqlite"):
            subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--database", database], check=True)
        return
    run(args.database, args.rows)


if __name__ == "__main__":
    main()
