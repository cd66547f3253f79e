"""The turf list hands out turf (issue 16, item 4): who holds each turf, its progress and
last knock, a filter for free turfs, and "assign to a canvasser" in one action, through
assignment_create and the admin's access checks; and turf numbers that a re-cut starts
again from 1."""

from __future__ import annotations

import re

import pytest

from canvass.field.models import Assignment
from canvass.models import Turf
from canvass.turfs import services as turf_services
from fieldops.models import AuditLogEntry, Role
from tests import factories as f
from tests.factories import admin_client

pytestmark = pytest.mark.django_db

LIST = "/admin/canvass/turf/"


@pytest.fixture
def turfs(world):
    """The world's Turf A (assigned to carlos) and three free turfs, numbered."""
    Turf.objects.filter(pk=world.turf.pk).update(number=1)
    free = [f.TurfFactory(campaign=world.campaign, name=f"Venice {n:03d}", number=n, door_count=50) for n in (2, 3, 4)]
    world.free = free
    world.canvasser2 = f.UserFactory(username="cora", first_name="Cora", last_name="Diaz")
    f.MembershipFactory(user=world.canvasser2, organization=world.org, role=Role.CANVASSER)
    return world


def assign(world, turf_ids, canvasser_id, user=None):
    return admin_client(user or world.organizer).post(
        LIST,
        {"action": "assign_to_canvasser", "_selected_action": [str(i) for i in turf_ids], "canvasser": canvasser_id},
        follow=True,
    )


def current_canvassers(turf):
    return {
        m.user.username
        for a in Assignment.objects.filter(turf=turf, ended_at__isnull=True)
        for m in a.members.select_related("user")
    }


def test_the_list_shows_who_holds_each_turf_and_filters_the_free_ones(turfs, django_assert_max_num_queries):
    client = admin_client(turfs.organizer)
    with django_assert_max_num_queries(20):
        response = client.get(LIST)
    text = response.content.decode()
    assert response.status_code == 200
    lower = text.lower()
    for head in ("assigned to", "doors knocked", "last knock", "walk"):
        assert head in lower
    assert "carlos" in text and text.count("fo-free") == 3
    # The canvasser choice beside the action: the organization's members, nobody else's.
    assert 'name="canvasser"' in text and "Cora Diaz" in text and "oscar" not in text
    free = client.get(LIST + "?assignment=free").content.decode()
    assert all(t.name in free for t in turfs.free) and "Turf A" not in free
    assigned = client.get(LIST + "?assignment=assigned").content.decode()
    assert "Turf A" in assigned and "Venice 002" not in assigned


def test_assign_a_free_turf_in_one_action(turfs):
    response = assign(turfs, [turfs.free[0].pk, turfs.free[1].pk], turfs.canvasser2.pk)
    assert response.status_code == 200
    assert "Assigned to Cora Diaz: turf 2 (Venice 002), 3 (Venice 003)." in response.content.decode()
    assert current_canvassers(turfs.free[0]) == current_canvassers(turfs.free[1]) == {"cora"}
    assert AuditLogEntry.objects.filter(action="assignment.create").count() == 2
    # Now assigned on the list, and no longer among the free.
    free = admin_client(turfs.organizer).get(LIST + "?assignment=free").content.decode()
    assert "Venice 002" not in free and "Venice 004" in free


def test_a_turf_already_assigned_is_left_as_it_is(turfs):
    response = assign(turfs, [turfs.turf.pk, turfs.free[0].pk], turfs.canvasser2.pk)
    text = response.content.decode()
    assert "Already assigned, left as they are: turf 1 (Turf A)" in text
    assert current_canvassers(turfs.turf) == {"carlos"}
    assert current_canvassers(turfs.free[0]) == {"cora"}


@pytest.mark.parametrize("canvasser", ["", "abc", "999999", "-1", "1e9", "outsider"])
def test_a_missing_or_foreign_canvasser_assigns_nothing(turfs, canvasser):
    if canvasser == "outsider":
        canvasser = str(turfs.outsider.pk)  # a member of another organization
    response = assign(turfs, [turfs.free[0].pk], canvasser)
    assert response.status_code == 200
    assert "Choose a canvasser of your organization" in response.content.decode()
    assert not Assignment.objects.filter(turf=turfs.free[0]).exists()


def test_foreign_turf_ids_are_not_assigned(turfs):
    theirs = f.TurfFactory(campaign=f.CampaignFactory(organization=turfs.other_org, slug="theirs"), number=1)
    response = assign(turfs, [theirs.pk, "nope", 10**12], turfs.canvasser2.pk)
    assert response.status_code == 200
    assert not Assignment.objects.filter(turf=theirs).exists()
    # The other organization's turfs never appear in the list either.
    assert theirs.name not in admin_client(turfs.organizer).get(LIST).content.decode()


def test_an_archived_turf_is_refused_with_the_reason(turfs):
    Turf.objects.filter(pk=turfs.free[2].pk).update(status=Turf.Status.ARCHIVED)
    response = assign(turfs, [turfs.free[2].pk], turfs.canvasser2.pk)
    assert "Not assigned: turf 4 (Venice 004): " in response.content.decode()
    assert not Assignment.objects.filter(turf=turfs.free[2]).exists()


def test_canvassers_and_outsiders_cannot_reach_the_list_or_the_action(turfs):
    for user in (turfs.canvasser, turfs.outsider):
        assign(turfs, [turfs.free[0].pk], turfs.canvasser2.pk, user=user)
        assert not Assignment.objects.filter(turf=turfs.free[0]).exists()
    assert admin_client(turfs.canvasser).get(LIST).status_code == 302  # not staff: to the login
    outsider_list = admin_client(turfs.outsider).get(LIST).content.decode()
    assert "Venice 002" not in outsider_list and "Turf A" not in outsider_list


def test_the_turf_page_draws_the_turf_and_dumps_no_coordinates(turfs):
    turf = turfs.free[0]
    turf.polygon = f.square_polygon(-118.47, 33.99, 0.001)
    turf.walk_distance_m = 1_437.0
    turf.walk_minutes = 21.4
    turf.save()
    text = admin_client(turfs.organizer).get(f"{LIST}{turf.pk}/change/").content.decode()
    assert 'class="fieldops-map"' in text
    assert "-118.47" not in text and "coordinates" not in text
    assert "1.4 km, about 21 min" in text


def numbers(turfs) -> list[int]:
    return sorted(t.number or 0 for t in turfs)


def test_a_recut_numbers_its_turfs_from_1_and_archived_turfs_keep_theirs(hood):
    first = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30).turfs
    assert numbers(first) == list(range(1, len(first) + 1))
    again = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30, replace=True).turfs
    assert numbers(again) == list(range(1, len(again) + 1))
    archived = Turf.objects.filter(pk__in=[t.pk for t in first])
    assert {t.status for t in archived} == {"archived"}
    assert numbers(archived) == numbers(first)
    # Names follow the numbers, and repeat only between an archived turf and an active one.
    active = Turf.objects.filter(campaign=hood.campaign, status="active")
    assert active.values("name").distinct().count() == active.count()
    assert all(t.name.endswith(f"{t.number:03d}") for t in again)


def test_a_recut_that_keeps_an_assigned_turf_numbers_around_it(hood):
    first = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30).turfs
    kept = next(t for t in first if t.number == 2)
    f.AssignmentCanvasserFactory(assignment=f.AssignmentFactory(turf=kept), user=hood.canvasser)
    again = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30, replace=True).turfs
    got = numbers(again)
    assert 2 not in got and got == [n for n in range(1, len(again) + 2) if n != 2]
    kept.refresh_from_db()
    assert kept.status == "active" and kept.number == 2


# ------------------------------------------------------------------ the cut form's defaults


def cut_page(world):
    return admin_client(world.organizer).get(f"/admin/canvass/campaign/{world.campaign.pk}/cut-turfs/")


def test_the_cut_form_cuts_the_free_doors_when_there_are_some(hood):
    response = cut_page(hood)
    assert response.status_code == 200
    assert response.context["form"].initial["replace"] is False
    text = response.content.decode()
    assert "doors</strong> of the universe are in no active turf" in text


def test_the_cut_form_defaults_to_re_cutting_when_every_door_is_in_a_turf(hood, no_broker, settings):
    first = turf_services.turfs_cut(campaign=hood.campaign, target_doors=30).turfs
    kept = first[0]
    f.AssignmentCanvasserFactory(assignment=f.AssignmentFactory(turf=kept), user=hood.canvasser)
    response = cut_page(hood)
    text = " ".join(response.content.decode().split())
    assert response.context["form"].initial["replace"] is True
    assert re.search(r'<input type="checkbox" name="replace"[^>]* checked', text)
    assert "are already in the" in text and f"the {len(first) - 1} turfs nobody is assigned to" in text
    assert "(the 1 somebody holds stay as they are)" in text
    # Submitting the defaults as they are works: the job is queued, the cut replaces the free turfs.
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    posted = admin_client(hood.organizer).post(f"/admin/canvass/campaign/{hood.campaign.pk}/cut-turfs/", data)
    assert posted.status_code == 302, posted.content.decode()[:2000]
    from canvass.turfs.models import TurfCutJob

    job = TurfCutJob.objects.get(campaign=hood.campaign)
    assert job.replace is True
    turf_services.turf_cut_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.message
    page = admin_client(hood.organizer).get(f"/admin/canvass/turfcutjob/{job.pk}/change/").content.decode()
    assert f"/admin/canvass/campaign/{hood.campaign.pk}/turf-map/" in page and "new turfs on the map" in page
    assert "assignment=free" in page


def test_the_cut_form_of_an_empty_universe_says_what_to_do(world):
    text = cut_page(world).content.decode()
    assert "The universe is empty" in text and "target districts" in text
