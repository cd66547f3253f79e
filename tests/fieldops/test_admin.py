"""The organizer's admin: who may open what, through the admin URLs."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from canvass import access as canvass_access
from canvass.models import Assignment, Campaign, Shift, Turf, TurfCutJob
from fieldops import access as fieldops_access
from fieldops.admin_scoping import OrganizationScopedAdmin
from fieldops.models import AuditLogEntry, Membership, Organization, Role
from fieldops.services import device_token_create
from tests import factories as f
from tests.factories import admin_client, populate
from turf import access as turf_access
from turf.models import District, DistrictLayer

OUR_APPS = ("fieldops", "turf", "canvass")


def our_model_admins():
    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in OUR_APPS
        ),
        key=lambda pair: pair[0]._meta.label,
    )


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [model for model, _ in our_model_admins()], ids=lambda m: m._meta.label)
def test_every_screen_renders_for_the_organizer(world, model):
    populate(world)
    client = admin_client(world.organizer)
    model_admin = admin.site._registry[model]

    changelist = client.get(url(model, "changelist"))
    assert changelist.status_code == 200
    # Every screen lists at least the venice row we made, and nothing of elsewhere.
    assert changelist.context["cl"].result_count >= 1
    assert b"Secret elsewhere campaign" not in changelist.content

    obj = model_admin.get_queryset(changelist.wsgi_request).first()
    assert obj is not None
    change = client.get(url(model, "change", obj.pk))
    assert change.status_code == 200

    add = client.get(url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(changelist.wsgi_request) else 403)


@pytest.mark.django_db
def test_index_says_what_each_section_is_for(world):
    response = admin_client(world.organizer).get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your chapter, its members and roles, and the audit log of who did what" in html
    assert "district layers you loaded, every knockable door and the voters at it" in html
    assert "Field work: campaigns, turfs, shifts and knocks" in html
    for label in OUR_APPS:
        assert f"/admin/{label}/" in html


@pytest.mark.django_db
def test_canvasser_cannot_use_the_admin(world):
    client = admin_client(world.canvasser)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/turf/door/").status_code == 302


@pytest.mark.django_db
def test_staff_user_without_a_role_sees_no_section(world):
    world.canvasser.is_staff = True
    world.canvasser.save()
    nobody = f.UserFactory(username="nobody", is_staff=True)
    for user in (world.canvasser, nobody):
        client = admin_client(user)
        index = client.get("/admin/")
        assert index.status_code == 200
        assert index.context["app_list"] == []
        assert client.get("/admin/turf/door/").status_code == 403
        assert client.get("/admin/canvass/campaign/").status_code == 403


@pytest.mark.django_db
def test_team_lead_can_view_but_not_change(world):
    lead = f.UserFactory(username="tina", is_staff=True)
    f.MembershipFactory(user=lead, organization=world.org, role=Role.TEAM_LEAD)
    client = admin_client(lead)
    door = world.doors[0]

    assert client.get("/admin/turf/door/").status_code == 200
    page = client.get(url(type(door), "change", door.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert b'name="street_name"' not in page.content  # shown read-only, no input

    response = client.post(url(type(door), "change", door.pk), {"street_name": "CHANGED"})
    assert response.status_code == 403
    door.refresh_from_db()
    assert door.street_name == "MAIN"
    assert client.get(url(type(door), "add")).status_code == 403
    assert client.post(url(type(door), "delete", door.pk), {"post": "yes"}).status_code == 403
    assert type(door).objects.filter(pk=door.pk).exists()


@pytest.mark.django_db
def test_organizer_sees_only_their_own_organization(world):
    client = admin_client(world.organizer)
    response = client.get("/admin/fieldops/organization/")
    assert [o.slug for o in response.context["cl"].result_list] == ["venice"]
    other = url(Organization, "change", world.other_org.pk)
    assert client.get(other).status_code == 302  # "does not exist", back to the index
    assert client.get(url(Organization, "add")).status_code == 403
    assert client.get(url(Organization, "delete", world.org.pk)).status_code == 403


@pytest.mark.django_db
def test_organizer_can_rename_the_chapter_but_not_its_slug(world):
    client = admin_client(world.organizer)
    page = client.get(url(Organization, "change", world.org.pk))
    assert page.status_code == 200
    assert b'name="slug"' not in page.content


@pytest.mark.django_db
def test_members_list_filters_by_role_and_searches_usernames(world):
    client = admin_client(world.organizer)
    everyone = client.get("/admin/fieldops/membership/")
    usernames = {m.user.username for m in everyone.context["cl"].result_list}
    assert usernames == {"olivia", "carlos"}
    canvassers = client.get("/admin/fieldops/membership/?role__exact=canvasser")
    assert [m.user.username for m in canvassers.context["cl"].result_list] == ["carlos"]
    found = client.get("/admin/fieldops/membership/?q=carl")
    assert [m.user.username for m in found.context["cl"].result_list] == ["carlos"]


@pytest.mark.django_db
def test_organizer_adds_a_member_to_their_own_organization(world):
    client = admin_client(world.organizer)
    response = client.post(
        url(Membership, "add"),
        {"username": "tom", "first_name": "Tom", "role": Role.TEAM_LEAD, "phone": "555", "password": "x-long-pw"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(user__username="venice-tom")  # the chapter's prefix
    assert membership.organization == world.org
    assert membership.role == Role.TEAM_LEAD
    assert membership.phone == "555"
    assert membership.user.is_staff


@pytest.mark.django_db
def test_adding_a_member_never_tells_whether_another_chapter_has_the_name(world):
    """Issue 14: the form said "This username is taken" for oscar, another chapter's organizer.
    Now the login is made in the chapter's own prefix, whatever other chapters hold."""
    client = admin_client(world.organizer)
    for name in ("oscar", "nobody-anywhere"):
        response = client.post(url(Membership, "add"), {"username": name, "role": Role.CANVASSER})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Membership.objects.get(user__username=f"venice-{name}").organization == world.org
    assert Membership.objects.get(user__username="oscar").organization == world.other_org
    # A login of one's own chapter is refused by its full name: nothing about elsewhere.
    again = client.post(url(Membership, "add"), {"username": "oscar", "role": Role.CANVASSER})
    assert "The login venice-oscar exists already" in again.content.decode()
    typed_in_full = client.post(url(Membership, "add"), {"username": "venice-oscar", "role": Role.CANVASSER})
    assert "The login venice-oscar exists already" in typed_in_full.content.decode()


@pytest.mark.django_db
def test_changing_a_role_keeps_the_staff_flag_in_step(world):
    client = admin_client(world.organizer)
    membership = Membership.objects.get(user=world.canvasser)
    response = client.post(
        url(Membership, "change", membership.pk),
        {"role": Role.TEAM_LEAD, "is_active": "on", "phone": ""},
    )
    assert response.status_code == 302
    world.canvasser.refresh_from_db()
    assert world.canvasser.is_staff


@pytest.mark.django_db
def test_outsider_cannot_open_venice_memberships(world):
    client = admin_client(world.outsider)
    membership = Membership.objects.get(user=world.canvasser)
    response = client.get(url(Membership, "change", membership.pk))
    assert response.status_code == 302
    assert b"carlos" not in client.get("/admin/fieldops/membership/").content


@pytest.mark.django_db
def test_audit_log_is_read_only(world):
    entry = AuditLogEntry.objects.create(organization=world.org, actor=world.organizer, action="export")
    device_token_create(user=world.canvasser, device_id="carlos-phone")
    TurfCutJob.objects.create(organization=world.org, campaign=world.campaign, target_doors=60)
    client = admin_client(world.organizer)
    listing = client.get("/admin/fieldops/auditlogentry/?action=export")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [entry]
    assert client.get(url(AuditLogEntry, "add")).status_code == 403
    page = client.get(url(AuditLogEntry, "change", entry.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.post(url(AuditLogEntry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_superuser_sees_every_organization(world):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client = admin_client(root)
    response = client.get("/admin/fieldops/organization/")
    assert {o.slug for o in response.context["cl"].result_list} == {"venice", "elsewhere"}
    assert client.get(url(Organization, "add")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", [model for model, _ in our_model_admins()], ids=lambda m: m._meta.label)
def test_every_screen_renders_for_a_superuser(world, model):
    populate(world)
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    client = admin_client(root)
    assert client.get(url(model, "changelist")).status_code == 200
    model_admin = admin.site._registry[model]
    obj = model._default_manager.first()
    assert client.get(url(model, "change", obj.pk)).status_code == 200
    add = client.get(url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403)


@pytest.mark.django_db
def test_changing_a_role_in_the_organization_page_keeps_the_staff_flag_in_step(world):
    """The members inline on the organization page goes through the same staff rule."""
    client = admin_client(world.organizer)
    page = client.get(url(Organization, "change", world.org.pk))
    assert page.status_code == 200
    formset = next(fs for fs in page.context["inline_admin_formsets"] if fs.formset.model is Membership)
    prefix = formset.formset.prefix
    data = {"name": world.org.name, "timezone": world.org.timezone}
    data.update({f"{prefix}-{key}": value for key, value in formset.formset.management_form.initial.items()})
    for i, form in enumerate(formset.formset.forms):
        member = form.instance
        role = Role.TEAM_LEAD if member.user_id == world.canvasser.pk else member.role
        data.update(
            {
                f"{prefix}-{i}-id": member.pk,
                f"{prefix}-{i}-organization": world.org.pk,
                f"{prefix}-{i}-user": member.user_id,
                f"{prefix}-{i}-role": role,
                f"{prefix}-{i}-is_active": "on",
                f"{prefix}-{i}-phone": "",
            }
        )
    response = client.post(url(Organization, "change", world.org.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    world.canvasser.refresh_from_db()
    assert Membership.objects.get(user=world.canvasser).role == Role.TEAM_LEAD
    assert world.canvasser.is_staff


def test_each_screen_finds_its_rows_through_the_access_check_of_its_type():
    expected = {
        Organization: fieldops_access.organizations_for_user,
        Campaign: canvass_access.campaigns_for_user,
        Shift: canvass_access.shifts_for_user,
        Assignment: canvass_access.assignments_for_user,
        Turf: canvass_access.turfs_for_user,
        TurfCutJob: canvass_access.turf_cut_jobs_for_user,
        DistrictLayer: turf_access.layers_for_user,
        District: turf_access.districts_for_user,
    }
    for model, scoper in expected.items():
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, OrganizationScopedAdmin) and model_admin.access_scope is scoper, model


@pytest.mark.django_db
def test_the_operator_sees_every_organizations_campaigns_and_districts(world):
    populate(world)
    operator = get_user_model().objects.create_superuser("operator", "op@example.org", "pw")
    client = admin_client(operator)
    for model, name in (("canvass.Campaign", "Secret elsewhere campaign"), ("turf.District", "Far district")):
        page = client.get(reverse(f"admin:{model.lower().replace('.', '_')}_changelist"))
        assert page.status_code == 200 and name in page.content.decode(), model
