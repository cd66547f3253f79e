"""Stats: what the aggregation tasks compute from the knocks (docs/stats.md)."""

from __future__ import annotations

from django.db import models

from canvass.campaigns.models import Campaign
from turf.models import Door


class StatsKind(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign"
    DISTRICT = "district", "District"
    TURF = "turf", "Turf"
    CANVASSER = "canvasser", "Canvasser"


class StatsDay(models.Model):
    """The knocks of one campaign on one day (the org's local day of
    corrected_at), for one campaign, district, turf or canvasser.

    Derived data, always recomputed whole for a (campaign, day) from the
    attempts (canvass/stats/services.py), never incremented: re-running a
    recompute writes the same row. `key_id` is the district, turf or user id
    (the campaign's id for kind=campaign); no foreign key, so one table holds
    every kind and a rebuild is one delete and one bulk insert.

    Counts of attempts (attempts, contacts, refusals, support levels,
    literature drops, answers) add up over days. `doors_knocked` is the
    distinct doors knocked that day: it does not add up over days (a door
    knocked Monday and Tuesday counts on both). `new_doors` counts the doors
    whose first knock in the campaign was that day: its sum over days is the
    number of distinct doors ever knocked.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=StatsKind.choices)
    key_id = models.BigIntegerField()
    attempts = models.PositiveIntegerField(default=0)
    doors_knocked = models.PositiveIntegerField(default=0)
    new_doors = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0, help_text="Attempts where someone answered the door.")
    refusals = models.PositiveIntegerField(default=0)
    support_1 = models.PositiveIntegerField(default=0)
    support_2 = models.PositiveIntegerField(default=0)
    support_3 = models.PositiveIntegerField(default=0)
    support_4 = models.PositiveIntegerField(default=0)
    support_5 = models.PositiveIntegerField(default=0)
    literature_drops = models.PositiveIntegerField(default=0)
    answers = models.JSONField(default=dict, blank=True, help_text="{survey option id: attempts that chose it}")

    class Meta:
        ordering = ["campaign", "kind", "key_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind", "key_id", "day"], name="stats_day_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "day"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.key_id} on {self.day}"


class StatsDoor(models.Model):
    """The local day of a door's first knock in a campaign: what `new_doors` counts.

    Knocks are append-only, so the first day can only move earlier, and it
    does when a phone syncs an older knock late; the day it moved from is
    then recomputed too.
    """

    pk = models.CompositePrimaryKey("campaign", "door")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    first_day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "first_day"])]

    def __str__(self) -> str:
        return f"door {self.door_id} first knocked {self.first_day}"


class StatsDirtyDay(models.Model):
    """A (campaign, day) whose stats must be recomputed: marked after a push
    commits (INSERT … ON CONFLICT DO NOTHING, so a burst of pushes leaves one
    row), claimed and deleted by the worker that recomputes it, in the same
    transaction: a worker that dies leaves the row for the next one."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="stats_dirty_day_unique")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} on {self.day}"


class StatsQueue(models.Model):
    """One row (id 1): whether an aggregation task is already queued, and how
    far the every-minute sweep has looked at received knocks."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    task_queued_at = models.DateTimeField(null=True, blank=True)
    swept_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"stats queue (task queued at {self.task_queued_at})"
