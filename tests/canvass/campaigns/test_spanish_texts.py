"""Spanish texts that organizers enter (questions, options, result codes) and the
phone reads in the walk list; the standard result codes' Spanish labels."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from canvass.campaigns import services
from canvass.campaigns.result_codes import STANDARD_RESULT_CODES
from canvass.models import ResultCode, SurveyOption, SurveyQuestion
from tests import factories as f
from tests.factories import admin_client, client_for

STANDARD_ES = {
    "canvassed": "Contactado",
    "not_home": "No está en casa",
    "come_back": "Volver más tarde",
    "refused": "Rechazó",
    "literature_dropped": "Folleto dejado",
    "language_barrier": "Barrera de idioma",
    "inaccessible": "Inaccesible",
    "moved": "Se mudó",
    "deceased": "Falleció",
    "hostile": "Hostil",
}


def walk_list(user, world):
    return client_for(user).get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/")


@pytest.fixture
def bilingual(world):
    """The world's campaign with a script given partly in Spanish, and the standard result codes."""
    services.script_replace(
        campaign=world.campaign,
        questions=[
            (("Support Measure X?", "¿Apoya la Medida X?"), [("Yes", "Sí"), ("No", "No"), "Undecided"]),
            ("Volunteer?", ["Yes", "No"]),  # English only, as before
        ],
    )
    services.result_codes_ensure_standard(organization=world.org)
    return world


# --- the walk list, as the phone reads it ----------------------------------------------


@pytest.mark.django_db
def test_the_walk_list_carries_the_spanish_texts_and_empty_strings_where_none(bilingual):
    response = walk_list(bilingual.canvasser, bilingual)
    assert response.status_code == 200, response.content
    support, volunteer = response.json()["script"]
    assert (support["text"], support["text_es"]) == ("Support Measure X?", "¿Apoya la Medida X?")
    assert [(o["label"], o["label_es"]) for o in support["options"]] == [
        ("Yes", "Sí"),
        ("No", "No"),
        ("Undecided", ""),
    ]
    assert set(support["options"][0]) == {"id", "position", "label", "label_es"}
    assert volunteer["text_es"] == ""
    assert [o["label_es"] for o in volunteer["options"]] == ["", ""]


@pytest.mark.django_db
def test_the_walk_list_gives_the_standard_result_codes_spanish_labels(bilingual):
    codes = walk_list(bilingual.canvasser, bilingual).json()["result_codes"]
    assert {c["code"]: c["label_es"] for c in codes} == STANDARD_ES
    assert {c["code"]: c["label"] for c in codes}["not_home"] == "Not home"


@pytest.mark.django_db
def test_a_code_without_a_spanish_label_reads_as_an_empty_string(bilingual):
    f.ResultCodeFactory(organization=bilingual.org, code="gated", label="Gated community", position=20)
    codes = {c["code"]: c for c in walk_list(bilingual.canvasser, bilingual).json()["result_codes"]}
    assert codes["gated"]["label_es"] == ""


@pytest.mark.django_db
def test_the_organizer_reads_the_same_spanish_and_the_outsider_nothing(bilingual):
    organizer = walk_list(bilingual.organizer, bilingual)
    assert organizer.status_code == 200
    assert organizer.json()["script"][0]["text_es"] == "¿Apoya la Medida X?"
    outsider = walk_list(bilingual.outsider, bilingual)
    assert outsider.status_code == 404
    assert "Apoya" not in outsider.content.decode()


@pytest.mark.django_db
def test_the_spanish_texts_add_no_query_to_the_walk_list(bilingual, django_assert_max_num_queries):
    # The count pinned by test_walk_list.py: membership, assignment, the pull cursor, doors, people,
    # questions, options, codes, audit insert.
    with django_assert_max_num_queries(9):
        assert walk_list(bilingual.canvasser, bilingual).status_code == 200


@pytest.mark.django_db
def test_the_schema_documents_the_spanish_fields(world):
    schema = client_for(world.canvasser).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    components = schema.json()["components"]["schemas"]
    assert "text_es" in components["Question"]["properties"]
    assert "label_es" in components["Option"]["properties"]
    assert "label_es" in components["ResultCode"]["properties"]


# --- the standard codes ----------------------------------------------------------------


def test_every_standard_code_has_a_spanish_label():
    assert {std.code: std.label_es for std in STANDARD_RESULT_CODES} == STANDARD_ES


@pytest.mark.django_db
def test_a_new_campaigns_organization_gets_the_spanish_labels(world):
    org = f.OrganizationFactory(slug="new-chapter")
    services.campaign_create_or_update(organization=org, slug="first", name="First")
    assert dict(ResultCode.objects.filter(organization=org).values_list("code", "label_es")) == STANDARD_ES


@pytest.mark.django_db
def test_codes_that_exist_are_left_as_the_organizer_made_them(world):
    f.ResultCodeFactory(organization=world.org, code="not_home", label="Nobody home", label_es="Nadie en casa")
    services.result_codes_ensure_standard(organization=world.org)
    assert ResultCode.objects.get(organization=world.org, code="not_home").label_es == "Nadie en casa"


@pytest.mark.django_db
def test_the_data_migration_fills_blank_spanish_labels_of_standard_codes_only(world):
    migration = importlib.import_module("canvass.migrations.0006_result_code_labels_es")
    f.ResultCodeFactory(organization=world.org, code="not_home", label="Not home")
    f.ResultCodeFactory(organization=world.org, code="refused", label="Refused", label_es="No quiso")
    f.ResultCodeFactory(organization=world.org, code="gated", label="Gated community")
    f.ResultCodeFactory(organization=world.other_org, code="moved", label="Moved")
    migration.fill_labels_es(django_apps, None)
    labels = {(c.organization_id, c.code): c.label_es for c in ResultCode.objects.all()}
    assert labels == {
        (world.org.pk, "not_home"): "No está en casa",
        (world.org.pk, "refused"): "No quiso",  # typed by an organizer: kept
        (world.org.pk, "gated"): "",  # not a standard code
        (world.other_org.pk, "moved"): "Se mudó",
    }
    assert migration.LABELS_ES == STANDARD_ES


# --- script_replace --------------------------------------------------------------------


@pytest.mark.django_db
def test_script_replace_still_takes_english_only_scripts(world):
    (question,) = services.script_replace(campaign=world.campaign, questions=[("Support?", ("Yes", "No"))])
    assert (question.text, question.text_es) == ("Support?", "")
    assert list(question.options.values_list("label", "label_es")) == [("Yes", ""), ("No", "")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "questions",
    [
        [(("Support?", "x" * 501), ["Yes"])],
        [("Support?", [("Yes", "s" * 201)])],
        [("x" * 501, ["Yes"])],
        [(("", "¿Apoya?"), ["Yes"])],
        [("Support?", [("", "Sí")])],
        [(("Support?", "¿Apoya?"), [])],
    ],
)
def test_script_replace_refuses_bad_texts_and_writes_nothing(world, questions):
    with pytest.raises(ValidationError) as error:
        services.script_replace(campaign=world.campaign, questions=[(("Fine?", "¿Bien?"), [("Yes", "Sí")]), *questions])
    assert "questions" in error.value.message_dict
    assert not SurveyQuestion.objects.filter(campaign=world.campaign).exists()


# --- the admin, where organizers type them ------------------------------------------------


def option_formset(question, rows: list[dict]) -> dict:
    data = {
        "options-TOTAL_FORMS": str(len(rows)),
        "options-INITIAL_FORMS": str(sum(1 for row in rows if "id" in row)),
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"options-{i}-{name}": value for name, value in row.items()})
        data[f"options-{i}-question"] = question.pk
    return data


def question_form(question, **overrides) -> dict:
    return {
        "campaign": question.campaign_id,
        "position": question.position,
        "text": question.text,
        "text_es": question.text_es,
        "is_active": "on",
        "van_survey_question_id": "",
        **overrides,
    }


@pytest.mark.django_db
def test_the_organizer_types_spanish_texts_of_a_question_and_its_options(world):
    question = f.SurveyQuestionFactory(campaign=world.campaign, text="Support Measure X?", position=0)
    yes = f.SurveyOptionFactory(question=question, label="Yes", position=0)
    client = admin_client(world.organizer)
    page = client.get(f"/admin/canvass/surveyquestion/{question.pk}/change/")
    assert page.status_code == 200
    assert 'name="text_es"' in page.content.decode() and 'name="options-0-label_es"' in page.content.decode()
    rows = [
        {"id": yes.pk, "position": 0, "label": "Yes", "label_es": "Sí", "van_survey_response_id": ""},
        {"position": 1, "label": "No", "label_es": "No", "van_survey_response_id": ""},
    ]
    response = client.post(
        f"/admin/canvass/surveyquestion/{question.pk}/change/",
        {**question_form(question, text_es="¿Apoya la Medida X?"), **option_formset(question, rows)},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    question.refresh_from_db()
    assert question.text_es == "¿Apoya la Medida X?"
    assert list(question.options.order_by("position").values_list("label", "label_es")) == [
        ("Yes", "Sí"),
        ("No", "No"),
    ]
    # and the phone reads them
    script = walk_list(world.canvasser, world).json()["script"]
    assert script[0]["text_es"] == "¿Apoya la Medida X?"
    assert [o["label_es"] for o in script[0]["options"]] == ["Sí", "No"]


@pytest.mark.django_db
def test_the_campaign_page_offers_the_spanish_text_of_its_questions(world):
    f.SurveyQuestionFactory(campaign=world.campaign, text="Support Measure X?")
    page = admin_client(world.organizer).get(f"/admin/canvass/campaign/{world.campaign.pk}/change/")
    assert page.status_code == 200
    assert 'name="questions-0-text_es"' in page.content.decode()


@pytest.mark.django_db
def test_the_admin_refuses_over_long_spanish_texts(world):
    question = f.SurveyQuestionFactory(campaign=world.campaign, text="Support?", position=0)
    client = admin_client(world.organizer)
    url = f"/admin/canvass/surveyquestion/{question.pk}/change/"
    long_text = client.post(url, {**question_form(question, text_es="x" * 501), **option_formset(question, [])})
    assert long_text.status_code == 200
    assert "text_es" in long_text.context["adminform"].form.errors
    rows = [{"position": 0, "label": "Yes", "label_es": "s" * 201, "van_survey_response_id": ""}]
    long_label = client.post(url, {**question_form(question), **option_formset(question, rows)})
    assert long_label.status_code == 200
    (formset,) = long_label.context["inline_admin_formsets"]
    assert "label_es" in formset.formset.errors[0]
    question.refresh_from_db()
    assert question.text_es == "" and not question.options.exists()


def result_code_form(code, **overrides) -> dict:
    return {
        "code": code.code,
        "label": code.label,
        "label_es": code.label_es,
        "position": code.position,
        "is_contact": "on" if code.is_contact else "",
        "is_refusal": "",
        "is_final": "",
        "van_result_code_id": "",
        "is_active": "on",
        **overrides,
    }


@pytest.mark.django_db
def test_the_organizer_changes_a_result_codes_spanish_label_and_not_past_80_characters(world):
    services.result_codes_ensure_standard(organization=world.org)
    code = ResultCode.objects.get(organization=world.org, code="not_home")
    client = admin_client(world.organizer)
    url = f"/admin/canvass/resultcode/{code.pk}/change/"
    assert 'name="label_es"' in client.get(url).content.decode()
    too_long = client.post(url, result_code_form(code, label_es="x" * 81))
    assert too_long.status_code == 200
    assert "label_es" in too_long.context["adminform"].form.errors
    code.refresh_from_db()
    assert code.label_es == "No está en casa"
    response = client.post(url, result_code_form(code, label_es="Nadie en casa"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    code.refresh_from_db()
    assert code.label_es == "Nadie en casa"
    codes = {c["code"]: c["label_es"] for c in walk_list(world.canvasser, world).json()["result_codes"]}
    assert codes["not_home"] == "Nadie en casa"


@pytest.mark.django_db
def test_the_canvasser_and_the_outsider_cannot_change_venices_spanish_texts(world):
    services.result_codes_ensure_standard(organization=world.org)
    code = ResultCode.objects.get(organization=world.org, code="not_home")
    question = f.SurveyQuestionFactory(campaign=world.campaign, text="Support?")
    for user in (world.canvasser, world.outsider):
        client = admin_client(user)
        response = client.post(
            f"/admin/canvass/resultcode/{code.pk}/change/", result_code_form(code, label_es="Hackeado")
        )
        assert response.status_code in (302, 403, 404)
        response = client.post(
            f"/admin/canvass/surveyquestion/{question.pk}/change/",
            {**question_form(question, text_es="Hackeado"), **option_formset(question, [])},
        )
        assert response.status_code in (302, 403, 404)
    code.refresh_from_db()
    question.refresh_from_db()
    assert code.label_es == "No está en casa" and question.text_es == ""
    assert not SurveyOption.objects.filter(label_es="Hackeado").exists()
