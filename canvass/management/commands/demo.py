"""Load the real Los Angeles demo: districts, Venice doors, a campaign, shifts, users.

Idempotent: a second run updates in place and creates nothing twice. Layers
and doors already loaded are not imported again unless --reload is given.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from canvass.campaigns.services import campaign_create_or_update, script_replace
from canvass.field.selectors import assignments_current_for
from canvass.field.services import assignment_create, shift_ensure
from canvass.turfs.models import Turf
from canvass.turfs.services import turfs_cut
from fieldops.models import Organization, Role
from fieldops.services import member_add, organization_create
from turf.importers.base import ConsoleProgress
from turf.importers.districts import import_districts
from turf.importers.doors import import_doors
from turf.models import District, DistrictLayer, Door, DoorAlias

DATA = Path(settings.BASE_DIR) / "data" / "la"

# (layer name, file, id field, name field). The neighborhood council file has
# no id field: its name is its id.
LAYERS = (
    ("City Council", "city_council.geojson", "District", "District_Name"),
    ("Assembly", "assembly.geojson", "District", "District_Name"),
    ("Supervisorial", "supervisors.geojson", "District", "District_Name"),
    ("Neighborhood Council", "neighborhood_council.geojson", None, "Name"),
)
# 16,159 rows, 15,412 spellings (two rows without a street are refused), 13,648
# physical doors: 1,764 spellings are street-name aliases of another door
# (Lincoln Blvd also as PCH, SR-1 and 1; Venice Blvd also as SR-187 and 187).
VENICE_DOORS = 13_648

# Each text as (English, Spanish): volunteers whose app is in Spanish read the second.
SCRIPT = (
    (
        (
            "Can we count on your vote for our city council candidate?",
            "¿Podemos contar con su voto por nuestro candidato al concejo municipal?",
        ),
        (("Yes", "Sí"), ("Leaning yes", "Probablemente sí"), ("Undecided", "Indeciso"), ("No", "No")),
    ),
    (
        ("What matters most to you in Venice?", "¿Qué es lo que más le importa en Venice?"),
        (
            ("Housing costs", "El costo de la vivienda"),
            ("Homelessness", "Las personas sin hogar"),
            ("Traffic and safety", "El tráfico y la seguridad"),
            ("Beach and parks", "La playa y los parques"),
        ),
    ),
    (
        ("Would you volunteer or host a sign?", "¿Le gustaría ser voluntario o poner un letrero?"),
        (
            ("Volunteer", "Ser voluntario"),
            ("Host a sign", "Poner un letrero"),
            ("Both", "Ambos"),
            ("Not now", "Ahora no"),
        ),
    ),
)
STAGING: dict[str, Any] = {
    "location_name": "Venice Beach Recreation Center, 1800 Ocean Front Walk",
    "lat": 33.9851,
    "lng": -118.4729,
}
USERS = (
    ("organizer", Role.ORGANIZER, "Olivia", "Organizer"),
    ("canvasser1", Role.CANVASSER, "Carmen", "Canvasser"),
    ("canvasser2", Role.CANVASSER, "Cal", "Canvasser"),
)


User = get_user_model()


class Command(BaseCommand):
    help = "Create the Venice demo organization with real LA districts and doors, a campaign, shifts and users."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="venice-demo")
        parser.add_argument("--reload", action="store_true", help="Import districts and doors again")
        parser.add_argument("--quiet-progress", action="store_true")

    def handle(self, *args, slug: str, reload: bool, quiet_progress: bool, **options):
        progress = (lambda done, total, message: None) if quiet_progress else ConsoleProgress(self.stderr)
        org = organization_create(slug=slug, name="Venice Neighbors (demo)", timezone="America/Los_Angeles")
        self._load_layers(org, reload, progress)
        self._load_doors(org, reload, progress)
        campaign = self._campaign(org)
        self._shifts(org, campaign)
        self._turfs(campaign, progress)
        logins = self._users(org)
        self._assignments(org, campaign)
        self._summary(org, campaign, logins)

    def _load_layers(self, org: Organization, reload: bool, progress) -> None:
        for name, filename, id_field, name_field in LAYERS:
            if not reload and DistrictLayer.objects.filter(organization=org, name=name).exists():
                self.stdout.write(f"Layer {name}: already loaded.")
                continue
            self.stdout.write(f"Layer {name}: importing {filename}…")
            report = import_districts(
                organization=org,
                layer_name=name,
                id_field=id_field,
                name_field=name_field,
                source=DATA / filename,
                progress=progress,
                source_label=f"data/la/{filename}",
            )
            for line in report.lines():
                self.stdout.write(f"  {line}")

    def _load_doors(self, org: Organization, reload: bool, progress) -> None:
        # A demo loaded before aliases were one door has a door per spelling and
        # no aliases: importing again merges them (knocks and turfs kept).
        loaded = Door.objects.filter(organization=org).count() >= VENICE_DOORS
        if not reload and loaded and DoorAlias.objects.filter(organization=org).exists():
            self.stdout.write("Venice doors: already loaded.")
            return
        self.stdout.write("Venice doors: importing venice_addresses.csv…")
        report = import_doors(organization=org, source=DATA / "venice_addresses.csv", progress=progress)
        for line in report.lines():
            self.stdout.write(f"  {line}")

    def _campaign(self, org: Organization):
        cd11 = District.objects.get(organization=org, layer__name="City Council", external_id="11")
        today = timezone.localdate()
        campaign = campaign_create_or_update(
            organization=org,
            slug="venice-canvass",
            name="Venice canvass",
            target_districts=[cd11],
            starts_on=today,
            ends_on=today + dt.timedelta(days=60),
            goal_doors=12_000,
            description="Knock every door of Venice for our Council District 11 candidate.",
        )
        script_replace(campaign=campaign, questions=SCRIPT)
        return campaign

    def _turfs(self, campaign, progress) -> None:
        """Cut the campaign into turfs of about 60 doors, once."""
        if Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE).exists():
            self.stdout.write("Turfs: already cut.")
            return
        self.stdout.write("Turfs: cutting the campaign into turfs of about 60 doors…")
        summary = turfs_cut(campaign=campaign, target_doors=60, progress=progress)
        for note in summary.notes:
            self.stdout.write(f"  {note}")

    @transaction.atomic
    def _shifts(self, org: Organization, campaign) -> None:
        """A week of shifts from today: evenings on weekdays, mornings and afternoons at weekends."""
        tz = org.tzinfo
        today = timezone.localdate(timezone=tz)
        for offset in range(7):
            day = today + dt.timedelta(days=offset)
            slots = ((10, 13, "morning"), (14, 17, "afternoon")) if day.weekday() >= 5 else ((17, 20, "evening"),)
            for start, end, label in slots:
                starts = dt.datetime.combine(day, dt.time(start), tzinfo=tz)
                shift_ensure(
                    organization=org,
                    campaign=campaign,
                    name=f"{day:%a %b} {day.day} {label}",
                    starts_at=starts,
                    ends_at=starts.replace(hour=end),
                    capacity=12,
                    **STAGING,
                )

    def _users(self, org: Organization) -> list[tuple[str, str, str]]:
        """Create or reset the demo users; new random passwords each run, printed below."""
        logins: list[tuple[str, str, str]] = []
        for username, role, first, last in USERS:
            password = secrets.token_urlsafe(9)
            member_add(
                organization=org,
                username=username,
                role=role,
                password=password,
                first_name=first,
                last_name=last,
            )
            logins.append((username, role, password))
        return logins

    def _assignments(self, org: Organization, campaign) -> None:
        """canvasser1 and canvasser2 walk the first turf together, so the phone API has work to show."""
        users = {u.username: u for u in User.objects.filter(username__in=["organizer", "canvasser1", "canvasser2"])}
        pair = [users["canvasser1"], users["canvasser2"]]
        if assignments_current_for(pair[0]).exists():
            return
        turf = Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE).order_by("name").first()
        if turf is None:
            return
        assignment_create(organization=org, actor=users["organizer"], turf=turf, canvassers=pair)
        self.stdout.write(f"Assignment: canvasser1 and canvasser2 walk {turf.name} ({turf.door_count} doors).")

    def _summary(self, org: Organization, campaign, logins) -> None:
        doors = Door.objects.filter(organization=org)
        # A building is the set of doors that share a building key.
        buildings = doors.exclude(building_key="").values("building_key").distinct().count()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo organization {org.slug!r} is ready."))
        self.stdout.write(f"  {doors.count():,} doors in {buildings:,} buildings; campaign {campaign.name!r}")
        self.stdout.write("  Logins (passwords are new on every run of `demo`):")
        for username, role, password in logins:
            self.stdout.write(f"    {role:<10} {username:<11} {password}")
        self.stdout.write("  Organizers work in the admin at /admin/; volunteers in the app at /app/")
        self.stdout.write("  (http://127.0.0.1:8000/app/ with `dev.py run`): log in there as canvasser1, who walks")
        self.stdout.write("  the first turf with canvasser2.")
