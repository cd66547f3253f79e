"""Writes of campaigns: the standard result codes, a campaign, its script.

Every write is audited. None is written to the change log: a phone gets the
campaign's name, its script and the result codes with the walk list
(canvass/field/selectors.py `walk_list`), never by pull, so a pull has
nothing to learn of them (docs/sync-protocol.md, "Not (yet) covered").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from canvass.campaigns.result_codes import STANDARD_RESULT_CODES
from fieldops.models import Organization, char_max_length
from fieldops.services import audit_log
from turf.models import District

# The largest position a PositiveSmallIntegerField holds on every database.
MAX_POSITION = 32767
STANDARD_CODES = frozenset(std.code for std in STANDARD_RESULT_CODES)


def _only(allowed: frozenset[str], fields: dict[str, Any], what: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"{what} cannot set {', '.join(sorted(unknown))}")


def _check_position(position: int) -> None:
    if not 0 <= position <= MAX_POSITION:
        raise ValidationError({"position": f"The position must be between 0 and {MAX_POSITION}."})


def _check_external_id(name: str, value: int | None) -> None:
    # VAN ids are positive numbers; the column is a PositiveIntegerField (at most 2**31 - 1 everywhere).
    if value is not None and not 0 <= value <= 2_147_483_647:
        raise ValidationError({name: "Give the VAN id as a number from 0 to 2147483647, or leave it empty."})


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
    actor: User | None = None,
) -> Campaign:
    """Create the campaign with this slug, or update it; ensures result codes exist.

    The commands' and the demo's way in (actor None: the server). The admin
    creates with campaign_create, which refuses a slug in use instead.
    """
    districts = list(target_districts)
    _check_campaign(organization, slug, name, districts, starts_on, ends_on, goal_doors)
    campaign, created = Campaign.objects.update_or_create(
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
    audit_log(
        organization=organization,
        actor=actor,
        action="campaign.create" if created else "campaign.update",
        obj=campaign,
        slug=slug,
    )
    return campaign


def _check_campaign(
    organization: Organization,
    slug: str,
    name: str,
    districts: Sequence[District],
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    goal_doors: int,
) -> None:
    try:
        validate_slug(slug)
    except ValidationError:
        raise ValidationError({"slug": "A slug is letters, numbers, hyphens and underscores."}) from None
    if not name.strip():
        raise ValidationError({"name": "Name the campaign."})
    if any(d.organization_id != organization.pk for d in districts):
        raise ValidationError({"target_districts": "Districts must belong to the campaign's organization."})
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": "The campaign cannot end before it starts."})
    if goal_doors < 0:
        raise ValidationError({"goal_doors": "The goal must be zero or more doors."})


# What an organizer may set on a campaign (the admin's form).
CAMPAIGN_EDITABLE = frozenset(
    {"slug", "name", "description", "target_districts", "starts_on", "ends_on", "goal_doors", "is_active"}
)


@transaction.atomic
def campaign_create(*, organization: Organization, actor: User | None, slug: str, **fields: Any) -> Campaign:
    """A new campaign (a slug in use is refused); the organization gets the standard result codes."""
    _only(CAMPAIGN_EDITABLE - {"slug"}, fields, "campaign_create")
    districts = list(fields.pop("target_districts", ()))
    values = {"name": "", "description": "", "starts_on": None, "ends_on": None, "goal_doors": 0, **fields}
    _check_campaign(
        organization, slug, values["name"], districts, values["starts_on"], values["ends_on"], values["goal_doors"]
    )
    if Campaign.objects.filter(organization=organization, slug=slug).exists():
        raise ValidationError({"slug": "The organization has a campaign with this slug."})
    campaign = Campaign.objects.create(organization=organization, slug=slug, **values)
    campaign.target_districts.set(districts)
    result_codes_ensure_standard(organization=organization)
    audit_log(organization=organization, actor=actor, action="campaign.create", obj=campaign, slug=slug)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor: User | None, **changes: Any) -> Campaign:
    """An organizer edits a campaign: only the fields given are written."""
    _only(CAMPAIGN_EDITABLE, changes, "campaign_update")
    if not changes:
        return campaign
    districts = list(changes["target_districts"]) if "target_districts" in changes else None
    merged = {name: changes.get(name, getattr(campaign, name)) for name in CAMPAIGN_EDITABLE - {"target_districts"}}
    _check_campaign(
        campaign.organization,
        merged["slug"],
        merged["name"],
        districts or [],
        merged["starts_on"],
        merged["ends_on"],
        merged["goal_doors"],
    )
    if (
        "slug" in changes
        and Campaign.objects.filter(organization_id=campaign.organization_id, slug=changes["slug"])
        .exclude(pk=campaign.pk)
        .exists()
    ):
        raise ValidationError({"slug": "The organization has a campaign with this slug."})
    columns = {name: value for name, value in changes.items() if name != "target_districts"}
    if columns:
        Campaign.objects.filter(pk=campaign.pk).update(**columns)
        for name, value in columns.items():
            setattr(campaign, name, value)
    if districts is not None:
        campaign.target_districts.set(districts)
    audit_log(
        organization=campaign.organization, actor=actor, action="campaign.update", obj=campaign, fields=sorted(changes)
    )
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: User | None) -> None:
    """Delete a campaign nobody knocked for, with its turfs, script and stats.

    Knocks are kept forever (and would go with their campaign), and a current
    assignment is on a canvasser's phone: both are refused. An ended one goes
    with the campaign (its phones dropped it when it ended).
    """
    if campaign.attempts.exists():
        raise ValidationError(
            {"campaign": f"{campaign} has knocks recorded; a campaign with knocks is kept (make it inactive)."}
        )
    current = campaign.assignments.filter(ended_at__isnull=True).exclude(ends_at__lte=timezone.now())
    if current.exists():
        raise ValidationError({"campaign": f"{campaign} has current assignments; end them first."})
    audit_log(
        organization=campaign.organization,
        actor=actor,
        action="campaign.delete",
        obj=campaign,
        slug=campaign.slug,
        name=campaign.name,
    )
    campaign.delete()


# A text of the script in English, or (English, Spanish).
ScriptText = str | tuple[str, str]


def _text_problem(text: str, text_es: str, *, max_length: int, what: str) -> str | None:
    """What is wrong with a script text (English, Spanish), or None."""
    if not text.strip():
        return f"Every {what} needs a text."
    for given in (text, text_es):
        if len(given) > max_length:
            return f"A {what} may be at most {max_length} characters: {given[:40]!r}…"
    return None


def _script_text(value: ScriptText, *, max_length: int, what: str) -> tuple[str, str]:
    """(English, Spanish) of a script text given either way, checked against the column's length."""
    text, text_es = (value, "") if isinstance(value, str) else value
    problem = _text_problem(text, text_es, max_length=max_length, what=what)
    if problem:
        raise ValidationError({"questions": problem})
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
    text_max = char_max_length(SurveyQuestion, "text")
    label_max = char_max_length(SurveyOption, "label")
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


# --- one question or option at a time (the admin) -----------------------------------


def _check_answered(campaign: Campaign, what: str) -> None:
    """Knocks store answers as {question id: option id}: once the script was
    answered, its questions and options are deactivated, never deleted."""
    if campaign.attempts.exclude(answers={}).exists():
        raise ValidationError(f"Canvassers have answered this script; make the {what} inactive instead.")


QUESTION_EDITABLE = frozenset({"position", "text", "text_es", "is_active", "van_survey_question_id"})


def _check_question(values: dict[str, Any]) -> None:
    max_length = char_max_length(SurveyQuestion, "text")
    problem = _text_problem(values["text"], values["text_es"], max_length=max_length, what="question")
    if problem:
        raise ValidationError({"text": problem})
    _check_position(values["position"])
    _check_external_id("van_survey_question_id", values["van_survey_question_id"])


@transaction.atomic
def survey_question_create(*, campaign: Campaign, actor: User | None, **fields: Any) -> SurveyQuestion:
    """A question added to the campaign's script; walk lists downloaded from now on carry it."""
    _only(QUESTION_EDITABLE, fields, "survey_question_create")
    values = {"position": 0, "text": "", "text_es": "", "is_active": True, "van_survey_question_id": None, **fields}
    _check_question(values)
    question = SurveyQuestion.objects.create(campaign=campaign, **values)
    audit_log(
        organization=campaign.organization,
        actor=actor,
        action="survey_question.create",
        obj=question,
        campaign_id=campaign.pk,
    )
    return question


@transaction.atomic
def survey_question_update(*, question: SurveyQuestion, actor: User | None, **changes: Any) -> SurveyQuestion:
    """An organizer edits a question: only the fields given are written (its campaign never changes)."""
    _only(QUESTION_EDITABLE, changes, "survey_question_update")
    if not changes:
        return question
    _check_question({name: changes.get(name, getattr(question, name)) for name in QUESTION_EDITABLE})
    SurveyQuestion.objects.filter(pk=question.pk).update(**changes)
    for name, value in changes.items():
        setattr(question, name, value)
    audit_log(
        organization=question.campaign.organization,
        actor=actor,
        action="survey_question.update",
        obj=question,
        fields=sorted(changes),
    )
    return question


@transaction.atomic
def survey_question_delete(*, question: SurveyQuestion, actor: User | None) -> None:
    """Delete a question of a script nobody answered yet, with its options."""
    campaign = question.campaign
    _check_answered(campaign, "question")
    audit_log(
        organization=campaign.organization,
        actor=actor,
        action="survey_question.delete",
        obj=question,
        campaign_id=campaign.pk,
        text=question.text,
    )
    question.delete()


OPTION_EDITABLE = frozenset({"position", "label", "label_es", "van_survey_response_id"})


def _check_option(values: dict[str, Any]) -> None:
    max_length = char_max_length(SurveyOption, "label")
    problem = _text_problem(values["label"], values["label_es"], max_length=max_length, what="option")
    if problem:
        raise ValidationError({"label": problem})
    _check_position(values["position"])
    _check_external_id("van_survey_response_id", values["van_survey_response_id"])


@transaction.atomic
def survey_option_create(*, question: SurveyQuestion, actor: User | None, **fields: Any) -> SurveyOption:
    """An option added to a question."""
    _only(OPTION_EDITABLE, fields, "survey_option_create")
    values = {"position": 0, "label": "", "label_es": "", "van_survey_response_id": None, **fields}
    _check_option(values)
    option = SurveyOption.objects.create(question=question, **values)
    audit_log(
        organization=question.campaign.organization,
        actor=actor,
        action="survey_option.create",
        obj=option,
        question_id=question.pk,
    )
    return option


@transaction.atomic
def survey_option_update(*, option: SurveyOption, actor: User | None, **changes: Any) -> SurveyOption:
    """An organizer edits an option: only the fields given are written (its question never changes)."""
    _only(OPTION_EDITABLE, changes, "survey_option_update")
    if not changes:
        return option
    _check_option({name: changes.get(name, getattr(option, name)) for name in OPTION_EDITABLE})
    SurveyOption.objects.filter(pk=option.pk).update(**changes)
    for name, value in changes.items():
        setattr(option, name, value)
    audit_log(
        organization=option.question.campaign.organization,
        actor=actor,
        action="survey_option.update",
        obj=option,
        fields=sorted(changes),
    )
    return option


@transaction.atomic
def survey_option_delete(*, option: SurveyOption, actor: User | None) -> None:
    """Delete an option of a script nobody answered yet."""
    campaign = option.question.campaign
    _check_answered(campaign, "question")
    audit_log(
        organization=campaign.organization,
        actor=actor,
        action="survey_option.delete",
        obj=option,
        question_id=option.question_id,
        label=option.label,
    )
    option.delete()


# --- result codes ---------------------------------------------------------------------

RESULT_CODE_EDITABLE = frozenset(
    {"code", "label", "label_es", "position", "is_contact", "is_refusal", "is_final", "van_result_code_id", "is_active"}
)


def _check_result_code(organization_id: int, values: dict[str, Any], code_id: int | None = None) -> None:
    try:
        validate_slug(values["code"])
    except ValidationError:
        raise ValidationError({"code": "A code is letters, numbers, hyphens and underscores."}) from None
    max_code = char_max_length(ResultCode, "code")
    if len(values["code"]) > max_code:
        raise ValidationError({"code": f"A code may be at most {max_code} characters."})
    max_length = char_max_length(ResultCode, "label")
    problem = _text_problem(values["label"], values["label_es"], max_length=max_length, what="result code label")
    if problem:
        raise ValidationError({"label": problem})
    _check_position(values["position"])
    _check_external_id("van_result_code_id", values["van_result_code_id"])
    taken = ResultCode.objects.filter(organization_id=organization_id, code=values["code"])
    if code_id is not None:
        taken = taken.exclude(pk=code_id)
    if taken.exists():
        raise ValidationError({"code": "The organization has a result code with this code."})


def _check_code_kept(code: ResultCode, stored: str, what: str) -> None:
    """Phones push knocks by code, and knocks point at their code: a standard
    code, or one that knocks used, keeps its code (`stored`) and its row."""
    if stored in STANDARD_CODES:
        raise ValidationError({"code": f"{stored!r} is a standard result code; {what} (make it inactive instead)."})
    if code.attempts.exists():
        raise ValidationError({"code": f"Knocks were recorded with {stored!r}; {what} (make it inactive instead)."})


@transaction.atomic
def result_code_create(*, organization: Organization, actor: User | None, **fields: Any) -> ResultCode:
    """An organization's own result code, beside the standard ones."""
    _only(RESULT_CODE_EDITABLE, fields, "result_code_create")
    values = {
        "code": "",
        "label": "",
        "label_es": "",
        "position": 0,
        "is_contact": False,
        "is_refusal": False,
        "is_final": False,
        "van_result_code_id": None,
        "is_active": True,
        **fields,
    }
    _check_result_code(organization.pk, values)
    code = ResultCode.objects.create(organization=organization, **values)
    audit_log(organization=organization, actor=actor, action="result_code.create", obj=code, code=code.code)
    return code


@transaction.atomic
def result_code_update(*, result_code: ResultCode, actor: User | None, **changes: Any) -> ResultCode:
    """An organizer relabels, orders, maps (VAN id) or deactivates a result code: only the fields given are written."""
    _only(RESULT_CODE_EDITABLE, changes, "result_code_update")
    if not changes:
        return result_code
    if "code" in changes:
        # Read back: the admin's form has already put the new code on the instance.
        stored = ResultCode.objects.filter(pk=result_code.pk).values_list("code", flat=True).get()
        if changes["code"] != stored:
            _check_code_kept(result_code, stored, "its code cannot change")
    merged = {name: changes.get(name, getattr(result_code, name)) for name in RESULT_CODE_EDITABLE}
    _check_result_code(result_code.organization_id, merged, code_id=result_code.pk)
    ResultCode.objects.filter(pk=result_code.pk).update(**changes)
    for name, value in changes.items():
        setattr(result_code, name, value)
    audit_log(
        organization=result_code.organization,
        actor=actor,
        action="result_code.update",
        obj=result_code,
        fields=sorted(changes),
    )
    return result_code


@transaction.atomic
def result_code_delete(*, result_code: ResultCode, actor: User | None) -> None:
    """Delete an organization's own result code that no knock used."""
    _check_code_kept(result_code, result_code.code, "it cannot be deleted")
    audit_log(
        organization=result_code.organization,
        actor=actor,
        action="result_code.delete",
        obj=result_code,
        code=result_code.code,
    )
    result_code.delete()
