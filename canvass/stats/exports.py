"""Contact attempts exported for VAN: a CSV for a bulk upload, and the JSON
bodies of VAN's canvassResponses endpoint. Every export is audit-logged.

VAN's rule (POST /people/{vanId}/canvassResponses): a canvass response has a
resultCodeId (the person was not reached: Not Home, Moved…) OR an array of
responses (survey responses; "a result of Canvassed is implied"), never both.
So a knock with our "canvassed" result is sent as its mapped survey
responses; any other result as its mapped VAN result code. The mapping lives
in the database, editable in the admin: ResultCode.van_result_code_id,
SurveyQuestion.van_survey_question_id, SurveyOption.van_survey_response_id.

A knock VAN cannot take (no voter id, a voter id that is not a VAN id, a
result with no VAN code, a canvass with no mapped answer) is left out and
counted, by reason, in the export's report, which the admin page, the command
and the audit log all show: nothing is dropped silently.

A VAN id (VANID) is a number: VAN's API takes it as an integer. A voter id of
anything else (a state voter id, or `=HYPERLINK(...)` from a hostile voter
file) is not a VAN id and is reported, never exported. Every cell of the CSV
also goes through fieldops.csv_safety, so no text from the database (a
question's text in a header) opens as a formula in a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from canvass.stats.days import day_window
from canvass.sync.models import ContactAttempt
from fieldops.csv_safety import SafeCsvWriter
from fieldops.date_bounds import day_range_problems
from fieldops.services import audit_log

CANVASSED = "canvassed"
# VAN's contact type for door-to-door ("Walk" is 2 in VAN's canvassResponses/contactTypes);
# a committee whose VAN differs sets VAN_CONTACT_TYPE_ID. inputTypeId is optional and
# sent only when VAN_INPUT_TYPE_ID is set.
DEFAULT_CONTACT_TYPE_ID = 2
# A VAN id: digits only (ASCII: str.isdigit() takes "²"), at most 18 so it
# fits the 64-bit integer VAN's API and a spreadsheet's number take.
VAN_ID = re.compile(r"[0-9]{1,18}")
NOT_A_VAN_ID = "voter id that is not a VAN id (digits only)"


@dataclass
class ExportResult:
    content: Any
    rows: int
    filename: str
    problems: dict[str, Any] = field(default_factory=dict)

    @property
    def problem_count(self) -> int:
        return sum(self.problems.get("skipped", {}).values())


@dataclass
class _Mapping:
    codes: dict[int, ResultCode]
    questions: list[SurveyQuestion]
    options: dict[str, SurveyOption]  # str(option id) -> option


def _mapping(campaign: Campaign) -> _Mapping:
    codes = {c.pk: c for c in ResultCode.objects.filter(organization_id=campaign.organization_id)}
    questions = list(SurveyQuestion.objects.filter(campaign=campaign).order_by("position", "pk"))
    options = {
        str(o.pk): o for o in SurveyOption.objects.filter(question__campaign=campaign).select_related("question")
    }
    return _Mapping(codes, questions, options)


def _attempts(campaign: Campaign, date_from: dt.date | None, date_to: dt.date | None) -> Iterator[ContactAttempt]:
    attempts = ContactAttempt.objects.counted().filter(campaign=campaign)  # held knocks wait for review
    tz = campaign.organization.tzinfo
    if date_from is not None:
        attempts = attempts.filter(corrected_at__gte=day_window(date_from, date_from, tz)[0])
    if date_to is not None:
        attempts = attempts.filter(corrected_at__lt=day_window(date_to, date_to, tz)[1])
    return (
        attempts.select_related("person")
        .only("pk", "corrected_at", "result_code_id", "answers", "canvasser_id", "person__external_voter_id", "door_id")
        .order_by("corrected_at", "pk")
        .iterator(chunk_size=2000)
    )


@dataclass
class _Row:
    attempt: ContactAttempt
    voter_id: str
    local_time: dt.datetime
    result_code_id: int | None
    responses: list[tuple[SurveyQuestion, SurveyOption]]


def _rows(
    campaign: Campaign, date_from: dt.date | None, date_to: dt.date | None, problems: dict[str, Counter]
) -> Iterator[_Row]:
    """The knocks VAN can take, each as a result code or responses; the others counted by reason."""
    mapping = _mapping(campaign)
    tz = campaign.organization.tzinfo
    for attempt in _attempts(campaign, date_from, date_to):
        code = mapping.codes[attempt.result_code_id]
        voter_id = attempt.person.external_voter_id if attempt.person else ""
        if not voter_id:
            problems["skipped"]["no voter id (knock not linked to a person with a VAN id)"] += 1
            continue
        if not VAN_ID.fullmatch(voter_id):
            problems["skipped"][NOT_A_VAN_ID] += 1
            continue
        responses = []
        for option_id in (attempt.answers or {}).values():
            option = mapping.options.get(str(option_id))
            if option is None:
                problems["unmapped"]["answer with an option not in the script"] += 1
            elif option.question.van_survey_question_id is None:
                problems["unmapped"][f"question without a VAN survey question id: {option.question.text}"] += 1
            elif option.van_survey_response_id is None:
                problems["unmapped"][
                    f"option without a VAN survey response id: {option.question.text} / {option.label}"
                ] += 1
            else:
                responses.append((option.question, option))
        result_code_id = None
        if code.code == CANVASSED and responses:
            pass  # sent as responses: VAN implies "Canvassed"
        elif code.van_result_code_id is not None:
            result_code_id = code.van_result_code_id
            if responses:
                problems["unmapped"][f"answers not sent with result {code.code} (VAN takes a result or answers)"] += 1
                responses = []
        else:
            reason = (
                "canvassed with no answer mapped to VAN"
                if code.code == CANVASSED
                else f"result code without a VAN result code id: {code.code}"
            )
            problems["skipped"][reason] += 1
            continue
        yield _Row(attempt, voter_id, attempt.corrected_at.astimezone(tz), result_code_id, responses)


def _check_range(date_from: dt.date | None, date_to: dt.date | None) -> None:
    """Days the day window can be computed for (the admin form, the API and the
    command check first and say so in their own words; this is the last guard)."""
    problems = day_range_problems(date_from, date_to)
    if problems:
        raise ValidationError({name: [message] for name, message in problems.items()})


def _new_problems() -> dict[str, Counter]:
    return {"skipped": Counter(), "unmapped": Counter()}


def _finish(
    campaign: Campaign, actor, kind: str, rows: int, problems: dict[str, Counter], date_from, date_to
) -> dict[str, Any]:
    report = {name: dict(counter) for name, counter in problems.items()}
    audit_log(
        organization=campaign.organization,
        actor=actor,
        action=f"export.{kind}",
        obj=campaign,
        rows=rows,
        date_from=date_from.isoformat() if date_from else None,
        date_to=date_to.isoformat() if date_to else None,
        skipped=sum(problems["skipped"].values()),
        problems=report,
    )
    return report


def _filename(campaign: Campaign, ext: str, date_from, date_to) -> str:
    span = "-".join(d.isoformat() for d in (date_from, date_to) if d) or "all"
    return f"{campaign.slug}-van-{span}.{ext}"


def export_van_csv(
    *,
    campaign: Campaign,
    actor: User | None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> ExportResult:
    """The knocks as a VAN bulk-upload CSV: VANID, Date Canvassed, Contact Type, Result,
    one column per survey question (the VAN survey response id), then our ids for tracing."""
    _check_range(date_from, date_to)
    questions = list(SurveyQuestion.objects.filter(campaign=campaign).order_by("position", "pk"))
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    question_headers = [
        f"{q.text} [SQ {q.van_survey_question_id}]" if q.van_survey_question_id else f"{q.text} [not mapped]"
        for q in questions
    ]
    writer.writerow(
        ["VANID", "Date Canvassed", "Contact Type", "Result Code ID", "Result", *question_headers, "fieldops attempt"]
    )
    problems = _new_problems()
    count = 0
    codes = {c.van_result_code_id: c.label for c in ResultCode.objects.filter(organization_id=campaign.organization_id)}
    for row in _rows(campaign, date_from, date_to, problems):
        by_question = {q.pk: o.van_survey_response_id for q, o in row.responses}
        writer.writerow(
            [
                row.voter_id,
                f"{row.local_time:%m/%d/%Y}",
                "Walk",
                row.result_code_id or "",
                codes.get(row.result_code_id, "") if row.result_code_id else "Canvassed",
                *(by_question.get(q.pk, "") for q in questions),
                str(row.attempt.pk),
            ]
        )
        count += 1
    report = _finish(campaign, actor, "van_csv", count, problems, date_from, date_to)
    # A byte-order mark so that Excel opens the UTF-8 file with its accents right.
    return ExportResult("\ufeff" + buffer.getvalue(), count, _filename(campaign, "csv", date_from, date_to), report)


def export_van_json(
    *,
    campaign: Campaign,
    actor: User | None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> ExportResult:
    """The knocks as VAN canvassResponses requests: [{vanId, body}], one POST
    /people/{vanId}/canvassResponses each."""
    _check_range(date_from, date_to)
    context: dict[str, Any] = {"contactTypeId": getattr(settings, "VAN_CONTACT_TYPE_ID", DEFAULT_CONTACT_TYPE_ID)}
    input_type = getattr(settings, "VAN_INPUT_TYPE_ID", None)
    if input_type:
        context["inputTypeId"] = input_type
    problems = _new_problems()
    items = []
    for row in _rows(campaign, date_from, date_to, problems):
        van_id = int(row.voter_id)  # _rows let only VAN ids through
        body: dict[str, Any]
        if row.result_code_id is not None:
            body = {
                "canvassContext": {**context},
                "resultCodeId": row.result_code_id,
                "responses": None,
            }
        else:
            body = {
                "canvassContext": {**context},
                "resultCodeId": None,
                "responses": [
                    {
                        "type": "SurveyResponse",
                        "surveyQuestionId": q.van_survey_question_id,
                        "surveyResponseId": o.van_survey_response_id,
                    }
                    for q, o in row.responses
                ],
            }
        body["canvassContext"]["dateCanvassed"] = row.local_time.isoformat(timespec="seconds")
        items.append({"vanId": van_id, "attempt": str(row.attempt.pk), "body": body})
    report = _finish(campaign, actor, "van_json", len(items), problems, date_from, date_to)
    content = {
        "campaign": campaign.slug,
        "endpoint": "POST /v4/people/{vanId}/canvassResponses",
        "count": len(items),
        "problems": report,
        "items": items,
    }
    return ExportResult(content, len(items), _filename(campaign, "json", date_from, date_to), report)


def export_mapping_report(*, campaign: Campaign) -> dict[str, list[str]]:
    """What is not mapped to VAN yet, for the export page. Three queries."""
    codes = ResultCode.objects.filter(organization_id=campaign.organization_id, is_active=True)
    questions = SurveyQuestion.objects.filter(campaign=campaign, is_active=True)
    options = SurveyOption.objects.filter(question__campaign=campaign, van_survey_response_id__isnull=True)
    return {
        "result_codes": [
            c.label for c in codes.filter(van_result_code_id__isnull=True).exclude(code=CANVASSED).order_by("position")
        ],
        "questions": [q.text for q in questions.filter(van_survey_question_id__isnull=True)],
        "options": [f"{o.question.text} / {o.label}" for o in options.select_related("question")],
    }
