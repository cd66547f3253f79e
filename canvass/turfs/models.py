"""Turfs: a polygon plus an ordered walk list, cut from a campaign's universe, and the cutting runs.

Turf rows live in canvass/, not in turf/: a turf is cut from a campaign's universe,
so it points at a Campaign, and turf/ may not import canvass/. The geometry
and the cutting and walk-order algorithms stay in turf/ as pure modules.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from canvass.campaigns.models import Campaign
from fieldops.models import Organization
from turf.models import District, Door


class Turf(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="turfs")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="turfs")
    name = models.CharField(max_length=120)
    # What volunteers call the turf ("turf 7"): numbered from 1 within the campaign
    # by each cut (the lowest numbers no active turf holds), kept when the turf is
    # archived. Unique among the campaign's active turfs only: a re-cut after
    # archiving starts again at 1, and the archived turfs keep theirs.
    number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The turf's number in the campaign, as volunteers know it."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="turfs",
        help_text="The district the turf was cut within, if any.",
    )
    polygon = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry (WGS84).")
    doors = models.ManyToManyField(Door, through="TurfDoor", related_name="turfs")
    # Metrics, stored when the turf is cut or its walk order is computed.
    door_count = models.PositiveIntegerField(default=0)
    building_count = models.PositiveIntegerField(default=0)  # distinct Door.building_key among its doors
    person_count = models.PositiveIntegerField(default=0)
    walk_distance_m = models.FloatField(null=True, blank=True)
    walk_minutes = models.FloatField(null=True, blank=True)
    compactness = models.FloatField(null=True, blank=True, help_text="Polsby-Popper of the hull, 0..1.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "name"]
        constraints = [
            # Among active turfs only, as the numbers (an archived "Venice 001" and the re-cut's new one).
            models.UniqueConstraint(
                fields=["campaign", "name"], condition=Q(status="active"), name="turf_name_unique_among_active"
            ),
            models.UniqueConstraint(
                fields=["campaign", "number"], condition=Q(status="active"), name="turf_number_unique_among_active"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TurfDoor(models.Model):
    """A door of a turf, at its place in the walk order."""

    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="turf_doors")
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="turf_doors")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["turf", "position"]
        constraints = [
            models.UniqueConstraint(fields=["turf", "door"], name="turf_door_unique"),
            models.UniqueConstraint(fields=["turf", "position"], name="turf_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.turf_id} #{self.position}: door {self.door_id}"


class TurfCutJob(models.Model):
    """One run of the automatic turf cutter, started from the admin, the API or
    the command. A django-q2 worker runs it; the organizer watches `done` of
    `total` and reads the summary when it ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="turf_cut_jobs")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="turf_cut_jobs")
    target_doors = models.PositiveIntegerField()
    layer = models.ForeignKey(
        "turf.DistrictLayer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="No turf crosses a boundary of this layer; empty: the campaign's target districts.",
    )
    only_unknocked = models.BooleanField(default=False)
    replace = models.BooleanField(
        default=False, help_text="Archive the campaign's active turfs that nobody is assigned to, then cut."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(target_doors__gte=1), name="turf_cut_target_positive")]

    def __str__(self) -> str:
        return f"Cut of {self.campaign} into turfs of {self.target_doors} doors ({self.status})"
