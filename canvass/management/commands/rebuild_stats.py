"""Recompute the stats tables from the attempts: every campaign, or one.

    python manage.py rebuild_stats [--campaign SLUG] [--organization SLUG]

Same numbers as the background aggregation (one code path for the queries);
run it after re-importing districts or re-cutting turfs, or to check.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from canvass.campaigns.models import Campaign
from canvass.stats.services import stats_rebuild


class Command(BaseCommand):
    help = "Recompute the stats of every campaign (or one) from the contact attempts."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="the campaign's slug")
        parser.add_argument("--organization", help="the organization's slug, where two have a campaign of that slug")

    def handle(self, *args, campaign: str | None, organization: str | None, **options):
        campaigns = Campaign.objects.select_related("organization").order_by("organization__slug", "slug")
        if organization:
            campaigns = campaigns.filter(organization__slug=organization)
        if campaign:
            campaigns = campaigns.filter(slug=campaign)
            if not campaigns:
                raise CommandError(f"No campaign with the slug {campaign!r}.")
            if len({c.organization_id for c in campaigns}) > 1:
                raise CommandError(f"Several organizations have a campaign {campaign!r}; add --organization.")
        for item in campaigns:
            result = stats_rebuild(campaign=item)
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.by_kind.items())) or "no knocks"
            self.stdout.write(
                f"{item.organization.slug}/{item.slug}: {result.days} days, {result.rows} rows ({kinds}) "
                f"in {result.seconds:.2f} s"
            )
