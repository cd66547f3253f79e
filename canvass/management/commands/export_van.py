"""Export a campaign's knocks for VAN (audit-logged, as the command's run).

    python manage.py export_van --campaign SLUG --format csv|json [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                                [--organization SLUG] [--output FILE]

Prints what was left out and why (unmapped result codes, questions, options,
knocks without a voter id) on stderr; the file goes to --output or stdout.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from canvass.campaigns.models import Campaign
from canvass.stats import exports
from fieldops.date_bounds import day_range_problems


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Export a campaign's contact attempts as a VAN bulk-upload CSV or canvassResponses JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, help="the campaign's slug")
        parser.add_argument("--organization", help="the organization's slug, where two have a campaign of that slug")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--from", dest="date_from", type=_date, help="first local day")
        parser.add_argument("--to", dest="date_to", type=_date, help="last local day")
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, *args: object, **options: Any) -> None:
        campaign: str = options["campaign"]
        organization: str | None = options["organization"]
        format: str = options["format"]
        date_from: dt.date | None = options["date_from"]
        date_to: dt.date | None = options["date_to"]
        output: str | None = options["output"]
        campaigns = Campaign.objects.select_related("organization").filter(slug=campaign)
        if organization:
            campaigns = campaigns.filter(organization__slug=organization)
        found = list(campaigns[:2])
        if not found:
            raise CommandError(f"No campaign with the slug {campaign!r}.")
        if len(found) > 1:
            raise CommandError(f"Several organizations have a campaign {campaign!r}; add --organization.")
        # Days within the calendar's bounds, a range of at most MAX_RANGE_DAYS
        # (fieldops/date_bounds.py): --to 9999-12-31 overflowed.
        problems = day_range_problems(date_from, date_to, names=("--from", "--to"))
        if problems:
            raise CommandError(" ".join(f"{name}: {message}" for name, message in problems.items()))
        export = exports.export_van_csv if format == "csv" else exports.export_van_json
        result = export(campaign=found[0], actor=None, date_from=date_from, date_to=date_to)
        text = result.content if format == "csv" else json.dumps(result.content, indent=1)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
        self.stderr.write(f"{result.rows} knocks exported ({result.filename}).")
        for reason, count in sorted(result.problems.get("skipped", {}).items()):
            self.stderr.write(f"  left out: {count} × {reason}")
        for reason, count in sorted(result.problems.get("unmapped", {}).items()):
            self.stderr.write(f"  not sent: {count} × {reason}")
