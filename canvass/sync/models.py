"""What the phones send: the knocks (contact attempts). The change log that pull
reads is the core app's (fieldops/changelog.py, SyncChange in fieldops/models.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet

from canvass.campaigns.models import Campaign, ResultCode
from canvass.field.models import Assignment
from fieldops.models import Organization
from turf.models import Door, Person


class Review(models.TextChoices):
    """Whether a knock counts (docs/architecture.md, "Trust").

    A knock is trusted when the push finds it at a door of an assignment its
    canvasser held at the knock's time (with FIELDOPS_KNOCK_GRACE_HOURS of
    grace); any other knock of a member is stored held, and counts nowhere
    (walk lists, pull, stats, exports, dashboards) until an organizer approves it.
    """

    TRUSTED = "trusted", "Trusted"
    HELD = "held", "Held for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# The review states whose knocks count everywhere: what ContactAttempt.objects.counted() keeps.
COUNTED = (Review.TRUSTED, Review.APPROVED)


class HeldReason(models.TextChoices):
    """Why the push held a knock (the first that applies)."""

    # The door is in no turf of the canvasser's assignments of this campaign.
    OFF_LIST = "off_list", "Door outside the canvasser's assignments"
    # The door is in one, but the knock was made before it started, or made
    # (or received) more than the grace period after it ended.
    OUTSIDE_TIME = "outside_time", "Outside the time of the canvasser's assignment"


class ContactAttemptQuerySet(models.QuerySet["ContactAttempt"]):
    def counted(self) -> QuerySet[ContactAttempt]:
        """The knocks that count: trusted or approved. Every reader of knocks starts here
        (walk lists, pull, stats, exports, dashboards); held and rejected ones stay out."""
        return self.filter(review__in=COUNTED)

    def held(self) -> QuerySet[ContactAttempt]:
        return self.filter(review=Review.HELD)


def counted_sql(alias: str = "") -> str:
    """The counted() condition for hand-written SQL: `a.review IN ('trusted', 'approved')`.
    Literal values of a fixed enum, never input."""
    column = f"{alias}.review" if alias else "review"
    return f"{column} IN ({', '.join(repr(str(state)) for state in COUNTED)})"


class ContactAttempt(models.Model):
    """One knock at one door by one canvasser at one moment. Append-only.

    The primary key is the UUID the phone made, so a retried upload can never
    store the same knock twice. Only its review state changes after it is
    stored (canvass/sync/services.py: attempt_approve, attempt_reject).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="attempts")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attempts")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="attempts")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts")
    canvasser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    result_code = models.ForeignKey(ResultCode, on_delete=models.PROTECT, related_name="attempts")
    support_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 strong support … 5 strong oppose."
    )
    answers = models.JSONField(default=dict, blank=True, help_text="{question id: option id}")
    notes = models.TextField(blank=True)
    device_id = models.CharField(max_length=128, blank=True)
    recorded_at = models.DateTimeField(help_text="When the phone says the knock happened.")
    received_at = models.DateTimeField(help_text="When the server stored it.")
    corrected_at = models.DateTimeField(help_text="recorded_at corrected for the phone's clock skew.")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True, help_text="From the phone's location to the door.")
    off_list = models.BooleanField(default=False, help_text="The door is not in the canvasser's assigned turfs.")
    far_from_door = models.BooleanField(default=False)
    too_fast = models.BooleanField(default=False)
    review = models.CharField(max_length=16, choices=Review.choices, default=Review.TRUSTED)
    held_reason = models.CharField(max_length=16, choices=HeldReason.choices, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Digest of what the phone sent, to tell a duplicate from a conflict.",
    )
    # Two copies of one push can race (two web processes): both INSERT … ON
    # CONFLICT DO NOTHING, one row is stored, and each request reads the row
    # back; the request whose push_id is on the row is the one that stored it
    # ("accepted"), the other answers "duplicate". No RETURNING needed, so it
    # works alike on SQLite and PostgreSQL.
    push_id = models.UUIDField(null=True, blank=True, editable=False, help_text="The push request that stored it.")

    objects = ContactAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-corrected_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review__in=["trusted", "held", "approved", "rejected"]), name="attempt_review_state"
            ),
            models.CheckConstraint(
                condition=Q(support_level__isnull=True) | Q(support_level__gte=1, support_level__lte=5),
                name="attempt_support_level_range",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True) | Q(lat__gte=-90, lat__lte=90), name="attempt_lat_range"
            ),
            models.CheckConstraint(
                condition=Q(lng__isnull=True) | Q(lng__gte=-180, lng__lte=180), name="attempt_lng_range"
            ),
            models.CheckConstraint(
                condition=Q(accuracy_m__isnull=True) | Q(accuracy_m__gte=0),
                name="attempt_accuracy_nonnegative",
            ),
        ]
        indexes = [
            # A door's latest knock in a campaign (the walk list's last result, the snapshot's
            # latest knock): the first entry of a backward scan, no sort. It also serves every
            # lookup by (campaign, door), the index it replaced.
            models.Index(
                fields=["campaign", "door", "corrected_at", "received_at"], name="attempt_campaign_door_latest"
            ),
            # The stats recompute one campaign's local day at a time (docs/stats.md):
            # without it each recompute scanned every knock (2.5 s at a million).
            models.Index(fields=["campaign", "corrected_at"]),
            models.Index(fields=["canvasser", "corrected_at"]),
            models.Index(fields=["organization", "received_at"]),
            # Pull sends the attempts at a canvasser's doors; the (campaign,
            # door) index does not serve a lookup by door alone.
            models.Index(fields=["door", "corrected_at"], name="attempt_door_corrected"),
            # The review queue: an organization's held knocks, newest first. Held
            # knocks are few; a partial index stays small.
            models.Index(
                fields=["organization", "corrected_at"], condition=Q(review="held"), name="attempt_held_queue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.result_code_id} at door {self.door_id}"


class HeldKnock(ContactAttempt):
    """The organizer's review queue of knocks held for review (canvass/sync/admin.py):
    the same table, its own admin screen."""

    class Meta:
        proxy = True
        verbose_name = "knock to review"
        verbose_name_plural = "knocks to review"
