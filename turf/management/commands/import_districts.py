"""manage.py import_districts: load a layer of district boundaries from GeoJSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldops.commands import organization_or_error
from turf.importers.base import ConsoleProgress, ImportAborted
from turf.importers.districts import import_districts


class Command(BaseCommand):
    help = (
        "Import district boundaries (a GeoJSON FeatureCollection in WGS84) into a layer of an "
        "organization, then assign its doors to them. Re-importing updates districts in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .geojson file")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--layer", required=True, help='layer name, e.g. "City Council"')
        parser.add_argument("--id-field", default=None, help="property holding the district id (omit to use the name)")
        parser.add_argument("--name-field", required=True, help="property holding the district name")
        parser.add_argument("--strict", action="store_true", help="abort on any bad feature")

    def handle(self, *args: object, **options: Any) -> None:
        slug = str(options["org"])
        organization = organization_or_error(slug)
        path = Path(str(options["file"]))
        try:
            report = import_districts(
                organization=organization,
                layer_name=str(options["layer"]),
                id_field=options["id_field"] or None,
                name_field=str(options["name_field"]),
                source=path,
                strict=bool(options["strict"]),
                progress=ConsoleProgress(self.stderr),
                source_label=path.name,
            )
        except ImportAborted as exc:
            raise CommandError(f"{path}: {exc}") from None
        for line in report.lines():
            self.stdout.write(line)
