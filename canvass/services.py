"""Writes of field work: result codes, campaigns and their scripts, shifts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from canvass.models import Campaign, ResultCode, Shift, SurveyOption, SurveyQuestion
from canvass.result_codes import STANDARD_RESULT_CODES
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


@transaction.atomic
def script_replace(*, campaign: Campaign, questions: Sequence[tuple[str, Sequence[str]]]) -> list[SurveyQuestion]:
    """Set the campaign's script when it has none yet: [(question, [options…]), …].

    A script that canvassers may already have answered is not rewritten: the
    answers point at option ids. Returns the campaign's questions.
    """
    if campaign.questions.exists():
        return list(campaign.questions.all())
    created = []
    for position, (text, options) in enumerate(questions):
        if not options:
            raise ValidationError({"questions": f"Question {text!r} needs at least one option."})
        question = SurveyQuestion.objects.create(campaign=campaign, position=position, text=text)
        SurveyOption.objects.bulk_create(
            SurveyOption(question=question, position=i, label=label) for i, label in enumerate(options)
        )
        created.append(question)
    return created


@transaction.atomic
def shift_ensure(
    *,
    organization: Organization,
    campaign: Campaign | None,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location_name: str = "",
    lat: float | None = None,
    lng: float | None = None,
    capacity: int = 10,
) -> Shift:
    """The shift of this organization starting at this time with this name; created if missing."""
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "A shift must end after it starts."})
    shift, _ = Shift.objects.get_or_create(
        organization=organization,
        name=name,
        starts_at=starts_at,
        defaults={
            "campaign": campaign,
            "ends_at": ends_at,
            "location_name": location_name,
            "lat": lat,
            "lng": lng,
            "capacity": capacity,
        },
    )
    return shift
