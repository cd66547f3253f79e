from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from fieldops.commands import organization_or_error
from fieldops.models import Role
from fieldops.services import member_add


class Command(BaseCommand):
    help = "Add a user to an organization with a role (creates the user if new)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="Set this password (otherwise a new user cannot log in yet)")
        parser.add_argument("--email", default="")

    def handle(self, *args, org: str, username: str, role: str, password: str | None, email: str, **options):
        organization = organization_or_error(org)
        try:
            membership = member_add(
                organization=organization, username=username, role=role, password=password, email=email
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"{membership.user.username} is now {membership.get_role_display().lower()} of {organization.slug}."
        )
        if not password and not membership.user.has_usable_password():
            self.stdout.write("No password set: run again with --password to let them log in.")
