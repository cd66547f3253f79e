"""manage.py export_turfs: one CSV row per door of a campaign's active turfs, in walk order.

Turf names (set through the API), addresses and source ids (from import files)
are text others wrote: every cell goes through fieldops.csv_safety, so none
opens as a formula in a spreadsheet.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandParser

from canvass.campaigns.commands import campaign_or_error
from canvass.campaigns.models import Campaign
from canvass.turfs.selectors import turf_export_rows
from fieldops.csv_safety import SafeCsvWriter
from fieldops.services import audit_log

COLUMNS = ["door_id", "source_id", "turf", "walk_order", "address", "city", "zip", "lat", "lng"]


class Command(BaseCommand):
    help = "Write door_id, source_id, turf, walk_order and the address of every door in the campaign's active turfs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, help="campaign slug")
        parser.add_argument("--org", default=None, help="organization slug, where two have the campaign slug")
        parser.add_argument("--output", required=True, help="the .csv file to write, or - for standard output")

    def handle(self, *args: object, **options: Any) -> None:
        campaign = campaign_or_error(str(options["campaign"]), options["org"])
        output = str(options["output"])
        if output == "-":
            count = self._write(sys.stdout, campaign)
        else:
            with Path(output).open("w", newline="", encoding="utf-8") as handle:
                count = self._write(handle, campaign)
        audit_log(
            organization=campaign.organization,
            actor=None,
            action="turfs.export",
            obj=campaign,
            rows=count,
            output=output,
        )
        self.stderr.write(self.style.SUCCESS(f"{count} doors written to {output}."))

    def _write(self, handle: TextIO, campaign: Campaign) -> int:
        writer = SafeCsvWriter(handle)
        writer.writerow(COLUMNS)
        count = 0
        for row in turf_export_rows(campaign=campaign):
            writer.writerow(row[column] for column in COLUMNS)
            count += 1
        return count
