"""One write path per action, for the rest of the organizer's screens: campaigns,
their scripts and result codes, district layers and districts, the chapter and
its members. Each admin save and delete calls the service the commands and the
demo call, so both refuse the same bad input and write the same audit entries;
a service's refusal is shown on the form or as a message, never a 500.

No pull carries a script, a result code or a district (the walk list does, and
it is read fresh): these writes add nothing to the change log, which is checked.

The three standard users (tests/conftest.py `world`).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from canvass.campaigns import services as campaigns
from canvass.campaigns.models import Campaign, ResultCode, SurveyOption, SurveyQuestion
from fieldops import services as core
from fieldops.models import AuditLogEntry, Membership, Organization, Role, SyncChange
from tests import factories as f
from turf import services as turf_services
from turf.models import District, DistrictLayer

pytestmark = pytest.mark.django_db


def audit(action: str) -> list[tuple]:
    return list(AuditLogEntry.objects.filter(action=action).values_list("actor_id", "object_id", "detail"))


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{name}": value for name, value in row.items()})
    return data


# --- campaigns --------------------------------------------------------------------------


def campaign_form(campaign: Campaign, questions: list[dict] | None = None, initial: int = 0, **overrides) -> dict:
    data = {
        "slug": campaign.slug,
        "name": campaign.name,
        "description": campaign.description,
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else "",
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else "",
        "goal_doors": str(campaign.goal_doors),
        "is_active": "on" if campaign.is_active else "",
        **inline("questions", questions or [], initial),
    }
    data.update(overrides)
    return data


def test_a_campaign_added_in_the_admin_is_audited_as_the_commands_one(world):
    new = Campaign(slug="spring", name="Spring push", goal_doors=500)
    response = f.admin_client(world.organizer).post("/admin/canvass/campaign/add/", campaign_form(new))
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Campaign.objects.get(slug="spring")
    assert created.organization_id == world.org.pk
    ((actor, object_id, detail),) = audit("campaign.create")
    assert (actor, object_id, detail) == (world.organizer.pk, str(created.pk), {"slug": "spring"})
    # The command's way in (campaign_create_or_update) writes the same entry, by the server.
    campaigns.campaign_create_or_update(organization=world.org, slug="summer", name="Summer")
    assert sorted(d["slug"] for _, _, d in audit("campaign.create")) == ["spring", "summer"]
    # The organization got the standard codes either way.
    assert ResultCode.objects.filter(organization=world.org, code="not_home").exists()
    assert not SyncChange.objects.exists()


def test_editing_a_campaign_in_the_admin_writes_only_what_changed(world):
    district = f.DistrictFactory(layer=f.DistrictLayerFactory(organization=world.org))
    data = campaign_form(world.campaign, name="Venice, spring", target_districts=str(district.pk))
    response = f.admin_client(world.organizer).post(f"/admin/canvass/campaign/{world.campaign.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    world.campaign.refresh_from_db()
    assert world.campaign.name == "Venice, spring"
    assert list(world.campaign.target_districts.all()) == [district]
    ((actor, _, detail),) = audit("campaign.update")
    assert (actor, detail) == (world.organizer.pk, {"fields": ["name", "target_districts"]})


def test_a_campaign_with_knocks_or_a_current_assignment_is_kept(world):
    client = f.admin_client(world.organizer)
    # Its turfs, which nobody deletes on these screens, already keep it there (Django's own check).
    response = client.post(f"/admin/canvass/campaign/{world.campaign.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    with pytest.raises(ValidationError, match="has current assignments; end them first"):
        campaigns.campaign_delete(campaign=world.campaign, actor=world.organizer)
    f.ContactAttemptFactory(door=world.doors[0], campaign=world.campaign, canvasser=world.canvasser)
    with pytest.raises(ValidationError, match="has knocks recorded"):
        campaigns.campaign_delete(campaign=world.campaign, actor=None)
    assert Campaign.objects.filter(pk=world.campaign.pk).exists()
    assert not audit("campaign.delete")


def test_an_unused_campaign_is_deleted_and_audited(world):
    spare = f.CampaignFactory(organization=world.org, slug="spare")
    response = f.admin_client(world.organizer).post(f"/admin/canvass/campaign/{spare.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Campaign.objects.filter(pk=spare.pk).exists()
    assert audit("campaign.delete")[0][2]["slug"] == "spare"


def test_the_outsider_cannot_edit_venice_campaigns(world):
    client = f.admin_client(world.outsider)
    url = f"/admin/canvass/campaign/{world.campaign.pk}/change/"
    response = client.post(url, campaign_form(world.campaign, name="Taken"))
    assert response.status_code in (302, 404)
    world.campaign.refresh_from_db()
    assert world.campaign.name == "Venice canvass" and not audit("campaign.update")


# --- the script: questions and options --------------------------------------------------


def walk_list(world) -> dict:
    response = f.client_for(world.canvasser).get(f"/api/v1/assignments/{world.assignment.pk}/walk-list/")
    assert response.status_code == 200, response.content
    return response.json()


def question_row(question: SurveyQuestion, **overrides) -> dict:
    row = {
        "id": str(question.pk),
        "campaign": str(question.campaign_id),
        "position": str(question.position),
        "text": question.text,
        "text_es": question.text_es,
        "is_active": "on" if question.is_active else "",
    }
    row.update(overrides)
    return {k: v for k, v in row.items() if v != ""}


def test_questions_added_and_edited_on_the_campaign_reach_the_walk_list_audited(world, script):
    rows = [
        question_row(script.question, text="Will you vote for Measure A?"),
        {"position": "1", "text": "May we call you?", "is_active": "on"},
    ]
    data = campaign_form(world.campaign, rows, initial=1)
    response = f.admin_client(world.organizer).post(f"/admin/canvass/campaign/{world.campaign.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    texts = [q["text"] for q in walk_list(world)["script"]]
    assert texts == ["Will you vote for Measure A?", "May we call you?"]
    assert audit("survey_question.update")[0][2] == {"fields": ["text"]}
    added = SurveyQuestion.objects.get(text="May we call you?")
    assert audit("survey_question.create") == [(world.organizer.pk, str(added.pk), {"campaign_id": world.campaign.pk})]
    assert not SyncChange.objects.exists()


def test_an_answered_question_is_not_deleted_on_either_screen(world, script):
    f.ContactAttemptFactory(
        door=world.doors[0],
        campaign=world.campaign,
        canvasser=world.canvasser,
        answers={str(script.question.pk): script.yes.pk},
    )
    client = f.admin_client(world.organizer)
    rows = [question_row(script.question, DELETE="on")]
    response = client.post(
        f"/admin/canvass/campaign/{world.campaign.pk}/change/", campaign_form(world.campaign, rows, initial=1)
    )
    assert response.status_code == 200, "the form again, with the service's refusal"
    assert "Canvassers have answered this script" in response.content.decode()
    response = client.post(f"/admin/canvass/surveyquestion/{script.question.pk}/delete/", {"post": "yes"}, follow=True)
    assert "Canvassers have answered this script" in response.content.decode()
    response = client.post(f"/admin/canvass/surveyoption/{script.yes.pk}/delete/", {"post": "yes"}, follow=True)
    assert "Canvassers have answered this script" in response.content.decode()
    assert SurveyQuestion.objects.filter(pk=script.question.pk).exists()
    assert SurveyOption.objects.filter(pk=script.yes.pk).exists()
    assert not audit("survey_question.delete") and not audit("survey_option.delete")


def test_options_edited_on_their_question_are_audited_and_an_unanswered_one_deleted(world, script):
    data = {
        "position": str(script.question.position),
        "text": script.question.text,
        "is_active": "on",
        **inline(
            "options",
            [
                {"id": str(script.yes.pk), "question": str(script.question.pk), "position": "0", "label": "Yes!"},
                {"id": str(script.no.pk), "question": str(script.question.pk), "position": "1", "label": "No"},
            ],
            initial=2,
        ),
        "options-1-DELETE": "on",
    }
    response = f.admin_client(world.organizer).post(f"/admin/canvass/surveyquestion/{script.question.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert audit("survey_option.update")[0][2] == {"fields": ["label"]}
    assert audit("survey_option.delete")[0][1] == str(script.no.pk)
    (question,) = walk_list(world)["script"]
    assert [o["label"] for o in question["options"]] == ["Yes!"]


# --- result codes -----------------------------------------------------------------------


def code_form(result_code: ResultCode, **overrides) -> dict:
    code = result_code
    data = {
        "code": code.code,
        "label": code.label,
        "label_es": code.label_es,
        "position": str(code.position),
        "is_contact": "on" if code.is_contact else "",
        "is_refusal": "on" if code.is_refusal else "",
        "is_final": "on" if code.is_final else "",
        "is_active": "on" if code.is_active else "",
        "van_result_code_id": "" if code.van_result_code_id is None else str(code.van_result_code_id),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_a_standard_code_keeps_its_code_on_the_form_and_in_the_service(world, script):
    not_home = ResultCode.objects.get(organization=world.org, code="not_home")
    url = f"/admin/canvass/resultcode/{not_home.pk}/change/"
    client = f.admin_client(world.organizer)
    response = client.post(url, code_form(not_home, code="away"))
    assert response.status_code == 200
    assert "is a standard result code; its code cannot change" in response.content.decode()
    with pytest.raises(ValidationError, match="is a standard result code"):
        campaigns.result_code_update(result_code=not_home, actor=world.organizer, code="away")
    assert not audit("result_code.update")
    # Its label may change: the walk list shows the new one.
    assert client.post(url, code_form(not_home, label="Nobody home")).status_code == 302
    assert "Nobody home" in [c["label"] for c in walk_list(world)["result_codes"]]
    assert audit("result_code.update")[0][2] == {"fields": ["label"]}
    assert not SyncChange.objects.exists()


def changelist_form(codes: list[ResultCode], van_ids: dict[int, str]) -> dict:
    data = {
        "form-TOTAL_FORMS": str(len(codes)),
        "form-INITIAL_FORMS": str(len(codes)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, code in enumerate(codes):
        data[f"form-{i}-id"] = str(code.pk)
        data[f"form-{i}-van_result_code_id"] = van_ids.get(code.pk, "")
    return data


def test_the_lists_van_column_is_saved_through_the_service(world, script):
    codes = list(ResultCode.objects.filter(organization=world.org).order_by("position", "code"))
    client = f.admin_client(world.organizer)
    response = client.post("/admin/canvass/resultcode/", changelist_form(codes, {codes[0].pk: "101"}))
    assert response.status_code == 302, response.content.decode()[:3000]
    codes[0].refresh_from_db()
    assert codes[0].van_result_code_id == 101
    ((actor, object_id, detail),) = audit("result_code.update")
    assert (actor, object_id, detail) == (world.organizer.pk, str(codes[0].pk), {"fields": ["van_result_code_id"]})
    # A VAN id beyond the column: refused (by the form or by the service), never a 500.
    response = client.post("/admin/canvass/resultcode/", changelist_form(codes, {codes[1].pk: "3000000000"}))
    assert response.status_code in (200, 302)
    codes[1].refresh_from_db()
    assert codes[1].van_result_code_id is None
    with pytest.raises(ValidationError):
        campaigns.result_code_update(result_code=codes[1], actor=world.organizer, van_result_code_id=3_000_000_000)


def test_a_code_knocks_used_is_not_deleted(world, script):
    own = ResultCode.objects.create(organization=world.org, code="dog", label="Dog in the yard", position=20)
    f.ContactAttemptFactory(door=world.doors[0], campaign=world.campaign, canvasser=world.canvasser, result_code=own)
    response = f.admin_client(world.organizer).post(
        f"/admin/canvass/resultcode/{own.pk}/delete/", {"post": "yes"}, follow=True
    )
    # The knocks' foreign key protects it (Django's page says so); the service refuses alike.
    assert response.status_code == 200 and "Cannot delete result code" in response.content.decode()
    with pytest.raises(ValidationError, match="Knocks were recorded with 'dog'"):
        campaigns.result_code_delete(result_code=own, actor=world.organizer)
    assert ResultCode.objects.filter(pk=own.pk).exists() and not audit("result_code.delete")


# --- district layers and districts --------------------------------------------------------


def test_a_layer_is_added_renamed_and_deleted_through_the_services(world):
    client = f.admin_client(world.organizer)
    response = client.post("/admin/turf/districtlayer/add/", {"name": "Council", "source": "city"})
    assert response.status_code == 302, response.content.decode()[:3000]
    layer = DistrictLayer.objects.get(name="Council")
    assert layer.organization_id == world.org.pk
    assert audit("district_layer.create") == [(world.organizer.pk, str(layer.pk), {"name": "Council"})]
    response = client.post(f"/admin/turf/districtlayer/{layer.pk}/change/", {"name": "City council", "source": "city"})
    assert response.status_code == 302
    assert audit("district_layer.update")[0][2] == {"fields": ["name"]}
    f.DistrictFactory(layer=layer)
    assert client.post(f"/admin/turf/districtlayer/{layer.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not District.objects.filter(layer_id=layer.pk).exists()
    assert audit("district_layer.delete")[0][2] == {"name": "City council", "districts": 1, "doors": 0}
    assert not SyncChange.objects.exists()


def district_form(district: District, **overrides) -> dict:
    # A field with a callable default is posted with its hidden initial value, as a browser does.
    data = {"external_id": district.external_id, "name": district.name, "properties": "{}", "initial-properties": "{}"}
    data.update(overrides)
    return data


def test_district_properties_that_are_no_object_are_refused_on_the_form(world):
    district = f.DistrictFactory(layer=f.DistrictLayerFactory(organization=world.org))
    url = f"/admin/turf/district/{district.pk}/change/"
    client = f.admin_client(world.organizer)
    response = client.post(url, district_form(district, properties="[1, 2]"))
    assert response.status_code == 200
    assert "Properties are a JSON object" in response.content.decode()
    with pytest.raises(ValidationError, match="Properties are a JSON object"):
        turf_services.district_update(district=district, actor=world.organizer, properties=[1, 2])
    assert client.post(url, district_form(district, name="Venice")).status_code == 302
    assert audit("district.update")[0][2] == {"fields": ["name"]}


def test_a_district_a_campaign_targets_is_not_deleted(world):
    layer = f.DistrictLayerFactory(organization=world.org)
    district = f.DistrictFactory(layer=layer)
    world.campaign.target_districts.add(district)
    client = f.admin_client(world.organizer)
    for url in (f"/admin/turf/district/{district.pk}/delete/", f"/admin/turf/districtlayer/{layer.pk}/delete/"):
        response = client.post(url, {"post": "yes"}, follow=True)
        assert response.status_code == 200
        assert "take it out of their target districts first" in response.content.decode()
    assert District.objects.filter(pk=district.pk).exists()
    assert not audit("district.delete") and not audit("district_layer.delete")


# --- the chapter and its members ----------------------------------------------------------


def test_members_added_on_the_screen_are_audited_as_by_the_command(world):
    data = {"username": "dana", "role": Role.TEAM_LEAD, "phone": "555-0100"}
    response = f.admin_client(world.organizer).post("/admin/fieldops/membership/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    dana = Membership.objects.select_related("user").get(user__username="venice-dana")
    assert (dana.organization_id, dana.phone, dana.user.is_staff) == (world.org.pk, "555-0100", True)
    core.member_add(organization=world.org, username="eli", role=Role.CANVASSER)  # manage.py add_member
    (by_admin,) = AuditLogEntry.objects.filter(action="member.add", actor=world.organizer)
    (by_command,) = AuditLogEntry.objects.filter(action="member.add", actor=None)
    assert set(by_admin.detail) == set(by_command.detail) == {"user_id", "username", "role", "new_login"}
    assert by_admin.object_id == str(dana.pk)


def test_a_role_changed_on_the_members_screen_moves_the_admin_flag_and_is_audited(world):
    membership = Membership.objects.get(user=world.canvasser)
    url = f"/admin/fieldops/membership/{membership.pk}/change/"
    data = {"role": Role.TEAM_LEAD, "is_active": "on", "phone": ""}
    response = f.admin_client(world.organizer).post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    world.canvasser.refresh_from_db()
    assert world.canvasser.is_staff
    ((actor, _, detail),) = audit("member.update")
    assert (actor, detail) == (
        world.organizer.pk,
        {"user_id": world.canvasser.pk, "role": Role.TEAM_LEAD, "fields": ["role"]},
    )


def test_a_role_is_refused_alike_by_the_screen_and_the_service(world):
    membership = Membership.objects.get(user=world.canvasser)
    url = f"/admin/fieldops/membership/{membership.pk}/change/"
    response = f.admin_client(world.organizer).post(url, {"role": "boss", "is_active": "on"})
    assert response.status_code == 200
    with pytest.raises(ValidationError, match="Unknown role"):
        core.member_update(membership=membership, actor=world.organizer, role="boss")
    membership.refresh_from_db()
    assert membership.role == Role.CANVASSER and not audit("member.update")


def test_members_changed_and_removed_on_the_chapter_page_go_through_the_services(world):
    organizer = Membership.objects.get(user=world.organizer)
    canvasser = Membership.objects.get(user=world.canvasser)
    rows = [
        {"id": str(organizer.pk), "organization": str(world.org.pk), "role": Role.ORGANIZER, "is_active": "on"},
        {
            "id": str(canvasser.pk),
            "organization": str(world.org.pk),
            "role": Role.CANVASSER,
            "is_active": "on",
            "phone": "555-0199",
            "DELETE": "on",
        },
    ]
    data = {"name": "Venice Neighbors", "timezone": world.org.timezone, **inline("memberships", rows, initial=2)}
    response = f.admin_client(world.organizer).post(f"/admin/fieldops/organization/{world.org.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Membership.objects.filter(pk=canvasser.pk).exists()
    assert audit("member.remove")[0][2]["user_id"] == world.canvasser.pk
    assert audit("organization.update")[0][2] == {"fields": ["name"]}
    assert Organization.objects.get(pk=world.org.pk).name == "Venice Neighbors"


def test_the_outsider_cannot_change_the_venice_chapter(world):
    data = {"name": "Taken", "timezone": world.org.timezone, **inline("memberships", [])}
    response = f.admin_client(world.outsider).post(f"/admin/fieldops/organization/{world.org.pk}/change/", data)
    assert response.status_code in (302, 404)
    assert Organization.objects.get(pk=world.org.pk).name == "Venice Chapter"
    assert not audit("organization.update")
