"""What the phones send: the knocks (contact attempts). The change log that pull
reads is the core app's (fieldops/changelog.py, SyncChange in fieldops/models.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from canvass.campaigns.models import Campaign, ResultCode
from canvass.field.models import Assignment
from fieldops.models import Organization
from turf.models import Door, Person


class ContactAttempt(models.Model):
    """One knock at one door by one canvasser at one moment. Append-only.

    The primary key is the UUID the phone made, so a retried upload can never
    store the same knock twice.
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

    class Meta:
        ordering = ["-corrected_at"]
        constraints = [
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
            models.Index(fields=["campaign", "door"]),
            # The stats recompute one campaign's local day at a time (docs/stats.md):
            # without it each recompute scanned every knock (2.5 s at a million).
            models.Index(fields=["campaign", "corrected_at"]),
            models.Index(fields=["canvasser", "corrected_at"]),
            models.Index(fields=["organization", "received_at"]),
            # Pull sends the attempts at a canvasser's doors; the (campaign,
            # door) index does not serve a lookup by door alone.
            models.Index(fields=["door", "corrected_at"], name="attempt_door_corrected"),
        ]

    def __str__(self) -> str:
        return f"{self.result_code_id} at door {self.door_id}"
