"""Writes of campaigns: the standard result codes, a campaign, its script."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from canvass.campaigns.result_codes import STANDARD_RESULT_CODES
from fieldops.models import Organization
from turf.models import District


@transaction.atomic
def result_codes_ensure_standard(*, organization: Organization) -> int:
    """Give the organization the standard result codes it does not have yet.

    Existing codes are left as they are: an organizer may have relabelled them
    or mapped them to VAN ids. Returns how many were created.
    """
    existing = set(ResultCode.objects.filter(organization=organization).values_list("code", flat=True))
    new = [
        ResultCode(
            organization=organization,
            code=std.code,
            label=std.label,
            label_es=std.label_es,
            position=position,
            is_contact=std.is_contact,
            is_refusal=std.is_refusal,
            is_final=std.is_final,
        )
        for position, std in enumerate(STANDARD_RESULT_CODES)
        if std.code not in existing
    ]
    ResultCode.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def campaign_create_or_update(
    *,
    organization: Organization,
    slug: str,
    name: str,
    target_districts: Iterable[District] = (),
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    goal_doors: int = 0,
    description: str = "",
) -> Campaign:
    """Create the campaign with this slug, or update it; ensures result codes exist."""
    districts = list(target_districts)
    foreign = [d for d in districts if d.organization_id != organization.pk]
    if foreign:
        raise ValidationError({"target_districts": "Districts must belong to the campaign's organization."})
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": "The campaign cannot end before it starts."})
    if goal_doors < 0:
        raise ValidationError({"goal_doors": "The goal must be zero or more doors."})
    campaign, _ = Campaign.objects.update_or_create(
        organization=organization,
        slug=slug,
        defaults={
            "name": name,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "goal_doors": goal_doors,
            "description": description,
        },
    )
    campaign.target_districts.set(districts)
    result_codes_ensure_standard(organization=organization)
    return campaign


# A text of the script in English, or (English, Spanish).
ScriptText = str | tuple[str, str]


def _script_text(value: ScriptText, *, max_length: int, what: str) -> tuple[str, str]:
    """(English, Spanish) of a script text given either way, checked against the column's length."""
    text, text_es = (value, "") if isinstance(value, str) else value
    if not text.strip():
        raise ValidationError({"questions": f"Every {what} needs a text."})
    for given in (text, text_es):
        if len(given) > max_length:
            raise ValidationError({"questions": f"A {what} may be at most {max_length} characters: {given[:40]!r}…"})
    return text, text_es


@transaction.atomic
def script_replace(
    *, campaign: Campaign, questions: Sequence[tuple[ScriptText, Sequence[ScriptText]]]
) -> list[SurveyQuestion]:
    """Set the campaign's script when it has none yet: [(question, [options…]), …].

    Any question or option may be given as (English, Spanish) instead of its
    English text alone: [(("Support X?", "¿Apoya X?"), [("Yes", "Sí"), "No"]), …].

    A script that canvassers may already have answered is not rewritten: the
    answers point at option ids. Returns the campaign's questions.
    """
    if campaign.questions.exists():
        return list(campaign.questions.all())
    text_max = SurveyQuestion._meta.get_field("text").max_length
    label_max = SurveyOption._meta.get_field("label").max_length
    created = []
    for position, (question_text, options) in enumerate(questions):
        text, text_es = _script_text(question_text, max_length=text_max, what="question")
        if not options:
            raise ValidationError({"questions": f"Question {text!r} needs at least one option."})
        labels = [_script_text(option, max_length=label_max, what="option") for option in options]
        question = SurveyQuestion.objects.create(campaign=campaign, position=position, text=text, text_es=text_es)
        SurveyOption.objects.bulk_create(
            SurveyOption(question=question, position=i, label=label, label_es=label_es)
            for i, (label, label_es) in enumerate(labels)
        )
        created.append(question)
    return created
