"""Field work on the street: shifts and their sign-ups, assignments of turfs to canvassers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from canvass.campaigns.models import Campaign
from canvass.turfs.models import Turf
from fieldops.models import Organization


class Shift(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="shifts")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="shifts")
    name = models.CharField(max_length=120)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location_name = models.CharField(max_length=200, blank=True, help_text="The staging place.")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    capacity = models.PositiveIntegerField(default=10)
    signup_count = models.PositiveIntegerField(
        default=0, help_text="Places taken; kept by conditional update so the last place goes once."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.CheckConstraint(condition=Q(signup_count__lte=F("capacity")), name="shift_not_overfilled"),
        ]
        indexes = [models.Index(fields=["organization", "starts_at"])]

    def __str__(self) -> str:
        return self.name


class ShiftSignup(models.Model):
    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", "Signed up"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shift_signups")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SIGNED_UP)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_in_lat = models.FloatField(null=True, blank=True)
    check_in_lng = models.FloatField(null=True, blank=True)
    check_in_distance_m = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shift", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "user"], name="shift_signup_unique"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                name="signup_checkout_after_checkin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} for {self.shift_id} ({self.status})"

    @property
    def state(self) -> str:
        """The sign-up as the API says it: signed_up, checked_in, checked_out, cancelled or no_show."""
        return signup_state(self.status, self.checked_in_at, self.checked_out_at) or self.status


# What the API says of a sign-up: its status, and past "signed up" where the shift has got to.
SIGNUP_STATES = ("signed_up", "checked_in", "checked_out", "cancelled", "no_show")


def signup_state(status: str | None, checked_in_at: object, checked_out_at: object) -> str | None:
    """signed_up becomes checked_in after check-in and checked_out after check-out; the rest as stored."""
    if status == ShiftSignup.Status.SIGNED_UP:
        if checked_out_at is not None:
            return "checked_out"
        if checked_in_at is not None:
            return "checked_in"
    return status


class Assignment(models.Model):
    """A turf given to one or more canvassers for a shift or a time window."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="assignments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="assignments")
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    canvassers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="AssignmentCanvasser", related_name="canvass_assignments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Set when an organizer ends it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.turf} from {self.starts_at:%Y-%m-%d %H:%M}"


class AssignmentCanvasser(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "user"], name="assignment_canvasser_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.assignment_id}"
