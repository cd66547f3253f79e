"""create_org and add_member: the commands a tech lead runs first."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from fieldops.models import Membership, Organization


@pytest.mark.django_db
def test_create_org_then_add_members_with_roles(capsys):
    call_command("create_org", slug="mar-vista", name="Mar Vista Chapter", timezone="America/Los_Angeles")
    call_command("add_member", org="mar-vista", username="lead", role="organizer", password="a-long-pass-1")
    call_command("add_member", org="mar-vista", username="vol", role="canvasser")
    out = capsys.readouterr().out
    assert "Organization 'mar-vista'" in out
    assert "No password set" in out
    lead = get_user_model().objects.get(username="lead")
    assert lead.check_password("a-long-pass-1")
    assert lead.is_staff
    vol = Membership.objects.get(user__username="vol")
    assert vol.role == "canvasser" and vol.organization.slug == "mar-vista"
    assert not vol.user.is_staff


@pytest.mark.django_db
def test_create_org_is_idempotent_and_updates_name():
    call_command("create_org", slug="mv", name="Old", timezone="America/Chicago")
    call_command("create_org", slug="mv", name="New", timezone="America/New_York")
    org = Organization.objects.get(slug="mv")
    assert (org.name, org.timezone) == ("New", "America/New_York")
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_bad_input_gets_a_clear_error_and_changes_nothing():
    with pytest.raises(CommandError, match="not a time zone"):
        call_command("create_org", slug="x", name="X", timezone="Pacific/Nowhere")
    assert not Organization.objects.exists()
    with pytest.raises(CommandError, match="create it first with create_org"):
        call_command("add_member", org="missing", username="u", role="canvasser")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("add_member", org="missing", username="u", role="boss")
    assert not get_user_model().objects.filter(username="u").exists()


@pytest.mark.django_db
def test_a_user_of_one_organization_cannot_be_added_to_another(world):
    with pytest.raises(CommandError, match="already belongs to venice"):
        call_command("add_member", org="elsewhere", username="carlos", role="organizer")
    assert Membership.objects.get(user=world.canvasser).organization == world.org
