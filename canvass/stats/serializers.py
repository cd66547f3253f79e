"""Input and output shapes of the organizer's stats API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fieldops.api.fields import IdField
from fieldops.date_bounds import day_range_problems


class StatsQueryInput(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="First local day, YYYY-MM-DD (inclusive).")
    date_to = serializers.DateField(required=False, help_text="Last local day, YYYY-MM-DD (inclusive).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Days within the calendar's bounds and a range of at most MAX_RANGE_DAYS
        # (fieldops/date_bounds.py): 9999-12-31 overflowed the day window.
        problems = day_range_problems(attrs.get("date_from"), attrs.get("date_to"))
        if problems:
            raise serializers.ValidationError({name: [message] for name, message in problems.items()})
        return attrs


class DistrictQueryInput(StatsQueryInput):
    layer = IdField(required=False, help_text="Only this district layer's districts.")


class TurfQueryInput(StatsQueryInput):
    include_archived = serializers.BooleanField(required=False, default=False)


class _Totals(serializers.Serializer):
    attempts = serializers.IntegerField()
    doors_knocked = serializers.IntegerField(
        help_text="Distinct doors whose first knock in the campaign falls in the period (no period: all doors knocked)."
    )
    door_visits = serializers.IntegerField(help_text="Sum over the days of each day's distinct doors.")
    contacts = serializers.IntegerField()
    refusals = serializers.IntegerField()
    contact_rate = serializers.FloatField(allow_null=True, help_text="contacts / attempts")
    supporters = serializers.IntegerField(help_text="Attempts with support level 1 or 2.")
    support_1 = serializers.IntegerField()
    support_2 = serializers.IntegerField()
    support_3 = serializers.IntegerField()
    support_4 = serializers.IntegerField()
    support_5 = serializers.IntegerField()
    literature_drops = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.IntegerField(), help_text="{survey option id: attempts}")


class DistrictStatsOutput(_Totals):
    district = serializers.IntegerField()
    name = serializers.CharField()
    external_id = serializers.CharField()
    layer = serializers.IntegerField()
    layer_name = serializers.CharField()
    doors_in_universe = serializers.IntegerField()


class TurfStatsOutput(_Totals):
    turf = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    door_count = serializers.IntegerField()
    completion = serializers.FloatField(allow_null=True, help_text="doors_knocked / door_count, at most 1")


class CanvasserStatsOutput(_Totals):
    canvasser = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    hours = serializers.FloatField(help_text="Shift check-in to check-out, the campaign's shifts in the period.")
    doors_per_hour = serializers.FloatField(allow_null=True)


class DayStatsOutput(serializers.Serializer):
    day = serializers.DateField()
    attempts = serializers.IntegerField()
    doors_knocked = serializers.IntegerField(help_text="Distinct doors knocked that day.")
    new_doors = serializers.IntegerField(help_text="Doors knocked for the first time in the campaign that day.")
    contacts = serializers.IntegerField()
    refusals = serializers.IntegerField()
    contact_rate = serializers.FloatField(allow_null=True)
    support_1 = serializers.IntegerField()
    support_2 = serializers.IntegerField()
    support_3 = serializers.IntegerField()
    support_4 = serializers.IntegerField()
    support_5 = serializers.IntegerField()
    literature_drops = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.IntegerField())
