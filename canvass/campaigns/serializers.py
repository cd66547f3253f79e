"""Output shapes of campaigns and their scripts (plain Serializers): the campaign list, and the
script and result codes as a walk list carries them."""

from __future__ import annotations

from rest_framework import serializers


class CampaignRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


SPANISH_HELP = "The Spanish text the organizer entered; empty when none (show the English one)."


class OptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # DRF's metaclass takes declared fields off the class: no clash with Field.label
    label_es = serializers.CharField(allow_blank=True, help_text=SPANISH_HELP)


class QuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    text = serializers.CharField()
    text_es = serializers.CharField(allow_blank=True, help_text=SPANISH_HELP)
    options = OptionSerializer(many=True)


class ResultCodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # DRF's metaclass takes declared fields off the class: no clash with Field.label
    label_es = serializers.CharField(allow_blank=True, help_text=SPANISH_HELP)
    is_contact = serializers.BooleanField()
    is_refusal = serializers.BooleanField()
    is_final = serializers.BooleanField()
