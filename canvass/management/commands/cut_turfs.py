"""manage.py cut_turfs: cut a campaign's universe into turfs of about N doors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from canvass.campaigns.commands import campaign_or_error
from canvass.turfs.services import turfs_cut, validation_message
from turf.importers.base import ConsoleProgress
from turf.models import DistrictLayer


class Command(BaseCommand):
    help = (
        "Cut a campaign's universe into turfs of about --target-doors doors: buildings and block faces "
        "whole, no turf across a district boundary, doors in walk order."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", required=True, help="campaign slug")
        parser.add_argument("--org", default=None, help="organization slug, where two have the campaign slug")
        parser.add_argument("--target-doors", type=int, required=True, help="doors per turf, e.g. 60")
        parser.add_argument(
            "--layer", default=None, help="no turf crosses this layer's boundaries (default: the target districts')"
        )
        parser.add_argument("--only-unknocked", action="store_true", help="leave out doors knocked in this campaign")
        parser.add_argument(
            "--replace", action="store_true", help="archive the active turfs nobody is assigned to, and cut again"
        )

    def handle(self, *args: object, **options: Any) -> None:
        campaign = campaign_or_error(str(options["campaign"]), options["org"])
        layer = None
        if options["layer"]:
            layer = DistrictLayer.objects.filter(organization=campaign.organization, name=options["layer"]).first()
            if layer is None:
                names = ", ".join(
                    DistrictLayer.objects.filter(organization=campaign.organization).values_list("name", flat=True)
                )
                raise CommandError(f"No layer {options['layer']!r}; this organization has: {names or 'none'}.")
        try:
            summary = turfs_cut(
                campaign=campaign,
                target_doors=int(options["target_doors"]),
                layer=layer,
                only_unknocked=bool(options["only_unknocked"]),
                replace=bool(options["replace"]),
                progress=ConsoleProgress(self.stderr),
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        data = summary.as_dict()
        out = self.stdout
        out.write(f"{'turf':<40} {'doors':>6} {'bldgs':>6} {'people':>6} {'walk km':>8} {'min':>6} {'PP':>5}")
        for turf in summary.turfs:
            out.write(
                f"{turf.name[:40]:<40} {turf.door_count:>6} {turf.building_count:>6} {turf.person_count:>6} "
                f"{(turf.walk_distance_m or 0) / 1000:>8.2f} {turf.walk_minutes or 0:>6.0f} "
                f"{turf.compactness or 0:>5.2f}"
            )
        out.write(
            self.style.SUCCESS(
                f"{data['turfs']} turfs from {data['doors']} doors: sizes {data['size_min']}–{data['size_max']} "
                f"(mean {data['size_mean']}, CV {data['size_cv']}); {data['archived']} turfs archived."
            )
        )
        for note in data["notes"]:
            out.write(f"  note: {note}")
