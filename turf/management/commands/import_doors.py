"""manage.py import_doors: load doors (and people) from a CSV file; see docs/importing.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldops.commands import organization_or_error
from turf.importers.base import ConsoleProgress, ImportAborted
from turf.importers.door_columns import ColumnMapping
from turf.importers.doors import import_doors


class Command(BaseCommand):
    help = (
        "Import doors from a CSV file (the LA address points layout by default). Duplicate "
        "addresses merge into one door; re-importing updates doors in place and never deletes one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .csv file (UTF-8)")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--strict", action="store_true", help="abort on any bad row; nothing is written")
        parser.add_argument(
            "--columns",
            default="",
            help="column mapping our_field=their_column,… e.g. lat=Latitude,lng=Longitude,voter_id=VANID",
        )
        parser.add_argument(
            "--mapping", default=None, help='JSON file: {"columns": {our: theirs}, "extra": [column, …]}'
        )
        parser.add_argument(
            "--far-km",
            type=float,
            default=20.0,
            help="rows farther than this from every loaded district are refused (default 20)",
        )

    def handle(self, *args: object, **options: Any) -> None:
        slug = str(options["org"])
        organization = organization_or_error(slug)
        try:
            mapping = ColumnMapping()
            if options["mapping"]:
                mapping = ColumnMapping.from_json(str(options["mapping"]))
            if options["columns"]:
                mapping = mapping.merged(ColumnMapping.from_spec(str(options["columns"])))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        path = Path(str(options["file"]))
        try:
            report = import_doors(
                organization=organization,
                source=path,
                mapping=mapping,
                strict=bool(options["strict"]),
                progress=ConsoleProgress(self.stderr),
                far_km=float(options["far_km"]),
            )
        except ImportAborted as exc:
            raise CommandError(f"{path}: {exc}") from None
        for line in report.lines():
            self.stdout.write(line)
