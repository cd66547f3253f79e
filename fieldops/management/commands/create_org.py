from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from fieldops.services import organization_create


class Command(BaseCommand):
    help = "Create an organization (a chapter), or update the name and time zone of an existing one."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Short id used in commands, e.g. venice")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="America/Los_Angeles", help="IANA zone, e.g. America/Chicago")

    def handle(self, *args, slug: str, name: str, timezone: str, **options):
        try:
            org = organization_create(slug=slug, name=name, timezone=timezone)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Organization {org.slug!r} ({org.name}, {org.timezone}) is ready.")
