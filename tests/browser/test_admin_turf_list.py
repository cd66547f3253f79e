"""Handing out turf from the turf list (issue 16, item 4), in Chromium: the organizer filters
the free turfs, ticks one, chooses "Assign … to the canvasser chosen beside" and the canvasser,
and the list shows it assigned; the assignment is in the database, made by the service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from canvass.field.models import Assignment
from canvass.models import Turf
from fieldops.models import AuditLogEntry, Role
from fieldops.services import member_add
from tests import factories as f
from tests.browser.conftest import PASSWORD
from tests.browser.test_pages_policy import organizer_page

pytestmark = pytest.mark.browser


def test_hand_a_free_turf_to_a_canvasser_in_one_action(app_world, make_phone, base_url):
    Turf.objects.filter(pk=app_world.turf.pk).update(number=1)
    free = f.TurfFactory(campaign=app_world.campaign, name="Venice 002", number=2, door_count=55)
    f.TurfFactory(campaign=app_world.campaign, name="Venice 003", number=3, door_count=61)
    canvasser2 = member_add(
        organization=app_world.org, username="canvasser2", role=Role.CANVASSER, password=PASSWORD, first_name="Cora"
    ).user
    page = organizer_page(make_phone, app_world, base_url)
    page.goto(f"{base_url}{reverse('admin:canvass_turf_changelist')}")
    page.get_by_role("link", name="free (nobody assigned)").click()
    page.wait_for_url("**assignment=free**")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2 and "Turf 001" not in page.locator("#result_list").inner_text()
    row = rows.filter(has_text="Venice 002")
    assert "free" in row.inner_text().lower() and "0 of 55" in row.inner_text()
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "assign_to_canvasser")
    page.select_option("#fo-assign-canvasser", label="Cora")
    page.get_by_role("button", name="Go").click()
    page.wait_for_selector(".messagelist")
    assert "Assigned to Cora: turf 2 (Venice 002)." in page.locator(".messagelist").inner_text()
    # Back on the list (the filter kept): Venice 002 is no longer free.
    page.goto(f"{base_url}{reverse('admin:canvass_turf_changelist')}?assignment=assigned")
    assigned = page.locator("#result_list tbody tr").filter(has_text="Venice 002").inner_text()
    assert "Cora" in assigned
    assignment = Assignment.objects.get(turf=free, ended_at__isnull=True)
    assert list(assignment.canvassers.all()) == [canvasser2] and assignment.created_by == app_world.organizer
    assert AuditLogEntry.objects.filter(action="assignment.create", actor=app_world.organizer).exists()
    assert page.evaluate("() => window.__violations") == []
