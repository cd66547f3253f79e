"""Campaigns and their scripts: survey questions with options, and the result codes of a knock."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from fieldops.models import Organization
from turf.models import District


class Campaign(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target_districts = models.ManyToManyField(
        District,
        blank=True,
        related_name="campaigns",
        help_text="The campaign's universe is the doors in these districts.",
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    goal_doors = models.PositiveIntegerField(default=0, help_text="Doors to knock.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="campaign_slug_unique_per_org"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="campaign_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    """One question of a campaign's script; answered by choosing one option."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    text_es = models.CharField(
        "text (Spanish)", max_length=500, blank=True, help_text="Shown to volunteers whose app is in Spanish."
    )
    is_active = models.BooleanField(default=True)
    van_survey_question_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The VAN survey question id this maps to, for exports."
    )

    class Meta:
        ordering = ["campaign", "position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyOption(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=200)
    label_es = models.CharField(
        "label (Spanish)", max_length=200, blank=True, help_text="Shown to volunteers whose app is in Spanish."
    )
    van_survey_response_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The VAN survey response id this maps to, for exports."
    )

    class Meta:
        ordering = ["question", "position", "id"]

    def __str__(self) -> str:
        return self.label


class ResultCode(models.Model):
    """What happened at a door. Each organization has the standard set
    (canvass/campaigns/result_codes.py) and maps each code to its VAN result code id."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="result_codes")
    code = models.SlugField(max_length=32)
    label = models.CharField(max_length=80)
    label_es = models.CharField(
        "label (Spanish)", max_length=80, blank=True, help_text="Shown to volunteers whose app is in Spanish."
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_contact = models.BooleanField(default=False, help_text="Someone answered the door.")
    is_refusal = models.BooleanField(default=False)
    # A door with a final result (moved, deceased, hostile…) is not knocked again.
    is_final = models.BooleanField(default=False)
    van_result_code_id = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="result_code_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.label
