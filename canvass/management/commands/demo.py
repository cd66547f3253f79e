"""Load the real Los Angeles demo: districts, Venice doors, synthetic voters, a
campaign mapped to VAN ids, shifts, users, and a simulated weekend of knocks.

Idempotent: a second run updates in place and creates nothing twice. Layers,
doors and voters already loaded are not imported again unless --reload is
given; the weekend is simulated once (canvass/demo/weekend.py). The demo
users' passwords are kept in var/demo-logins.json (canvass/demo/logins.py) and
printed on every run; --reset-passwords makes new ones.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from canvass.campaigns.models import ResultCode, SurveyOption, SurveyQuestion
from canvass.campaigns.services import (
    campaign_create_or_update,
    result_code_update,
    script_replace,
    survey_option_update,
    survey_question_update,
)
from canvass.demo.logins import demo_passwords, logins_path
from canvass.demo.voters import write_voter_file
from canvass.demo.weekend import SESSIONS, demo_shift, weekend_simulate
from canvass.field.selectors import assignments_current_for
from canvass.field.services import assignment_create
from canvass.turfs.models import Turf
from canvass.turfs.services import turfs_cut
from fieldops.models import Organization, Role
from fieldops.services import member_add, organization_create
from turf.importers.base import ConsoleProgress
from turf.importers.districts import import_districts
from turf.importers.doors import import_doors
from turf.models import District, DistrictLayer, Door, DoorAlias, Person

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
# The canvassers who walked the simulated weekend (canvasser1 and 2 keep the
# live turf for the app). Simulated: they have no password and cannot log in.
WALKERS = (
    ("walker01", "Dana"),
    ("walker02", "Eli"),
    ("walker03", "Fatima"),
    ("walker04", "Gus"),
    ("walker05", "Hana"),
    ("walker06", "Ivan"),
    ("walker07", "Jade"),
    ("walker08", "Kofi"),
    ("walker09", "Lena"),
    ("walker10", "Mateo"),
)
WEEKEND_CANVASSERS = tuple(username for username, _ in WALKERS)
# Demo VAN ids (a committee's real ones come from its VAN: an organizer maps
# them in the admin). Set only where none is set, so a mapping made by hand stays.
VAN_RESULT_CODES = {
    "canvassed": 14,
    "not_home": 1,
    "come_back": 13,
    "refused": 2,
    "literature_dropped": 19,
    "language_barrier": 12,
    "inaccessible": 7,
    "moved": 5,
    "deceased": 4,
    "hostile": 16,
}
VAN_SURVEY_QUESTION_START = 310_001
VAN_SURVEY_RESPONSE_START = 1_310_001


User = get_user_model()


class Command(BaseCommand):
    help = (
        "Create the Venice demo organization with real LA districts and doors, synthetic voters, a campaign, "
        "shifts, users and a simulated weekend of knocks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="venice-demo")
        parser.add_argument("--reload", action="store_true", help="Import districts, doors and voters again")
        parser.add_argument("--quiet-progress", action="store_true")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo users new passwords (kept in var/demo-logins.json and printed)",
        )
        parser.add_argument(
            "--canvassers",
            type=int,
            default=len(WEEKEND_CANVASSERS),
            choices=range(1, len(WEEKEND_CANVASSERS) + 1),
            metavar=f"1-{len(WEEKEND_CANVASSERS)}",
            help=f"How many canvassers walk the simulated weekend (default {len(WEEKEND_CANVASSERS)})",
        )

    def handle(
        self,
        *args,
        slug: str,
        reload: bool,
        quiet_progress: bool,
        reset_passwords: bool,
        canvassers: int,
        **options,
    ):
        progress = (lambda done, total, message: None) if quiet_progress else ConsoleProgress(self.stderr)
        org = organization_create(slug=slug, name="Venice Neighbors (demo)", timezone="America/Los_Angeles")
        self._load_layers(org, reload, progress)
        self._load_doors(org, reload, progress)
        self._load_voters(org, reload, progress)
        campaign = self._campaign(org)
        self._van_ids(org, campaign)
        self._shifts(org, campaign)
        self._turfs(campaign, progress)
        logins = self._users(org, reset_passwords)
        self._assignments(org, campaign)
        self._weekend(campaign, canvassers)
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
            slots = SESSIONS if day.weekday() >= 5 else ((17, 20, "evening"),)
            for slot in slots:
                demo_shift(org, campaign, tz, day, slot, STAGING)

    def _users(self, org: Organization, reset: bool) -> list[tuple[str, str, str]]:
        """Create the demo users; their passwords are kept from run to run (canvass/demo/logins.py).

        A password is set only when it is new, or the user is new or has none:
        hashing is slow on purpose, and nine of them would cost every run seconds.
        """
        passwords, new = demo_passwords([username for username, *_ in USERS], reset=reset)
        usable = {user.username for user in User.objects.filter(username__in=passwords) if user.has_usable_password()}
        logins: list[tuple[str, str, str]] = []
        for username, role, first, last in USERS:
            password = passwords[username]
            member_add(
                organization=org,
                username=username,
                role=role,
                password=password if username in new or username not in usable else None,
                first_name=first,
                last_name=last,
            )
            logins.append((username, role, password))
        for username, first in WALKERS:
            member_add(organization=org, username=username, role=Role.CANVASSER, first_name=first, last_name="Walker")
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

    def _load_voters(self, org: Organization, reload: bool, progress) -> None:
        """Synthetic voters at the doors, imported as a chapter imports its VAN export (canvass/demo/voters.py)."""
        if not reload and Person.objects.filter(organization=org).exists():
            self.stdout.write("Voters: already loaded.")
            return
        self.stdout.write("Voters: importing a synthetic voter file (made-up names, VAN-style ids)…")
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "venice_voters.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                write_voter_file(DATA / "venice_addresses.csv", handle)
            report = import_doors(organization=org, source=path, progress=progress)
        people = Person.objects.filter(organization=org).count()
        self.stdout.write(
            f"  {report.counts.get('people created', 0):,} voters created, "
            f"{report.counts.get('people updated', 0):,} updated; "
            f"{people:,} people at the doors ({time.monotonic() - started:.1f} s)"
        )

    def _van_ids(self, org: Organization, campaign) -> None:
        """Map the result codes and the script to (demo) VAN ids, so the VAN export has rows."""
        for code in ResultCode.objects.filter(organization=org, van_result_code_id__isnull=True):
            if code.code in VAN_RESULT_CODES:
                result_code_update(result_code=code, actor=None, van_result_code_id=VAN_RESULT_CODES[code.code])
        questions = SurveyQuestion.objects.filter(campaign=campaign).order_by("position", "pk")
        for n, question in enumerate(questions):
            if question.van_survey_question_id is None:
                survey_question_update(
                    question=question, actor=None, van_survey_question_id=VAN_SURVEY_QUESTION_START + n
                )
            options = SurveyOption.objects.filter(question=question, van_survey_response_id__isnull=True)
            for option in options.select_related("question__campaign__organization").order_by("position", "pk"):
                survey_option_update(
                    option=option,
                    actor=None,
                    van_survey_response_id=VAN_SURVEY_RESPONSE_START + 10 * n + option.position,
                )

    def _weekend(self, campaign, canvassers: int) -> None:
        users = {u.username: u for u in User.objects.filter(username__in=["organizer", *WEEKEND_CANVASSERS])}
        started = time.monotonic()
        report = weekend_simulate(
            campaign=campaign,
            organizer=users["organizer"],
            canvassers=[users[name] for name in WEEKEND_CANVASSERS[:canvassers]],
            now=timezone.now(),
            staging=STAGING,
        )
        if report.done_before:
            self.stdout.write("Weekend: already simulated.")
            return
        if report.no_free_turf:
            self.stdout.write("Weekend: not simulated: every active turf is assigned (end some assignments first).")
            return
        first, last = (f"{day:%a %b} {day.day}" for day in report.days)
        self.stdout.write(
            f"Weekend: {report.canvassers} canvassers knocked {report.knocks:,} doors in {report.turfs} turfs "
            f"on {first} and {last} ({report.pushes} pushes, {report.held} knocks held for review); "
            f"stats computed ({time.monotonic() - started:.1f} s)."
        )

    def _summary(self, org: Organization, campaign, logins) -> None:
        doors = Door.objects.filter(organization=org)
        # A building is the set of doors that share a building key.
        buildings = doors.exclude(building_key="").values("building_key").distinct().count()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo organization {org.slug!r} is ready."))
        self.stdout.write(f"  {doors.count():,} doors in {buildings:,} buildings; campaign {campaign.name!r}")
        self.stdout.write(f"  Logins (kept in {logins_path()}; `manage.py demo --reset-passwords` makes new ones):")
        for username, role, password in logins:
            self.stdout.write(f"    {role:<10} {username:<11} {password}")
        self.stdout.write(
            f"  {WALKERS[0][0]} … {WALKERS[-1][0]} walked the simulated weekend (made up: they have no password)."
        )
        self.stdout.write("  Organizers work in the admin at /admin/; volunteers in the app at /app/")
        self.stdout.write("  (http://127.0.0.1:8000/app/ with `dev.py run`): log in there as canvasser1, who walks")
        self.stdout.write("  the first turf with canvasser2.")
