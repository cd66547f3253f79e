"""The campaign dashboard in the admin: the numbers, who sees it, a fixed query count."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from canvass.models import ContactAttempt
from canvass.stats import services as stats_services
from canvass.stats.dashboard import svg_day_chart
from tests import factories as f
from tests.canvass.stats_world import setup_script, simulated_day
from tests.factories import admin_client
from turf.models import DoorDistrict

pytestmark = pytest.mark.django_db


@pytest.fixture
def dash(hood):
    world = setup_script(hood)
    world.today = timezone.localtime(timezone.now(), world.org.tzinfo).date()
    for back in (2, 1):
        ContactAttempt.objects.bulk_create(
            simulated_day(world, day=world.today - dt.timedelta(days=back), n=120, seed=back)
        )
    with mock.patch("django_q.tasks.async_task"):
        stats_services.stats_aggregate(sweep=True)
    from shapely.geometry import box, mapping

    for i, turf in enumerate(world.turfs):
        turf.polygon = mapping(box(-118.48 + i * 0.02, 33.98, -118.46 + i * 0.02, 34.01))
        turf.save(update_fields=["polygon"])
    world.campaign.goal_doors = 200
    world.campaign.save(update_fields=["goal_doors"])
    return world


def page(world, user=None):
    return admin_client(user or world.organizer).get(f"/admin/canvass/campaign/{world.campaign.pk}/dashboard/")


def test_per_district_numbers_equal_a_direct_count_for_every_layer(dash):
    response = page(dash)
    assert response.status_code == 200
    tables = dict((layer.pk, rows) for layer, rows in response.context["layer_tables"])
    assert set(tables) == {dash.layer.pk, dash.layer2.pk}
    for layer in (dash.layer, dash.layer2):
        direct = {
            row["door__district_links__district"]: row
            for row in ContactAttempt.objects.filter(
                campaign=dash.campaign, door__district_links__district__layer=layer
            )
            .values("door__district_links__district")
            .annotate(attempts=Count("id"), doors=Count("door", distinct=True))
        }
        shown = {r["district"]: r for r in tables[layer.pk] if r["attempts"]}
        assert set(shown) == set(direct)
        for district, row in direct.items():
            assert (shown[district]["doors_knocked"], shown[district]["attempts"]) == (row["doors"], row["attempts"])
    knocked = ContactAttempt.objects.filter(campaign=dash.campaign).values("door").distinct().count()
    progress = response.context["progress"]
    assert progress.knocked == knocked
    assert progress.pace_per_day == round(knocked / 7, 1)
    assert progress.projected_finish > dash.today
    text = response.content.decode()
    for heading in (
        "Doors knocked per day",
        "Council",
        "Neighborhood",
        "Turfs",
        "Canvassers",
        "Shifts",
        "Recent flagged",
    ):
        assert heading in text
    # The chart is inline SVG; the map is the turf map's component, read-only; nothing from a CDN.
    assert 'class="fieldops-chart"' in text and 'id="fo-turf-map-app"' in text and 'data-can-edit="0"' in text
    assert f"/admin/canvass/campaign/{dash.campaign.pk}/turf-map/layers/" in text
    assert '<script src="http' not in text and "cdn" not in text.lower()
    assert response.context["flagged"] and all(a.far_from_door or a.too_fast for a in response.context["flagged"])


def test_query_count_does_not_grow_with_the_data(dash):
    client = admin_client(dash.organizer)
    url = f"/admin/canvass/campaign/{dash.campaign.pk}/dashboard/"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    # Much more of everything: days, knocks, canvassers, turfs, layers, shifts.
    for back in range(3, 12):
        more = simulated_day(dash, day=dash.today - dt.timedelta(days=back), n=60, seed=back)
        for attempt in more[::7]:
            attempt.canvasser = f.UserFactory()
        ContactAttempt.objects.bulk_create(more)
    for n in range(5):
        f.TurfFactory(campaign=dash.campaign, name=f"Extra {n}", door_count=5)
        f.ShiftFactory(organization=dash.org, campaign=dash.campaign)
    layer = f.DistrictLayerFactory(organization=dash.org, name="Assembly")
    district = f.DistrictFactory(organization=dash.org, layer=layer)
    DoorDistrict.objects.bulk_create([DoorDistrict(door=d, district=district) for d in dash.hood_doors])
    stats_services.stats_rebuild(campaign=dash.campaign)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    assert len(small) <= 25, [q["sql"][:150] for q in small.captured_queries]


def test_who_sees_the_dashboard(dash):
    assert page(dash, dash.outsider).status_code == 404
    response = page(dash, dash.canvasser)  # not staff: the admin sends them to its login
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert admin_client(dash.organizer).get("/admin/canvass/campaign/999999/dashboard/").status_code == 404
    change = admin_client(dash.organizer).get(f"/admin/canvass/campaign/{dash.campaign.pk}/change/")
    assert "Dashboard: doors knocked" in change.content.decode()


def test_an_empty_campaign_renders(world):
    response = admin_client(world.organizer).get(f"/admin/canvass/campaign/{world.campaign.pk}/dashboard/")
    assert response.status_code == 200
    assert "No knocks yet" in response.content.decode()


def test_chart_helper():
    days = [
        {"day": dt.date(2026, 11, 1), "doors_knocked": 10, "new_doors": 10, "attempts": 12, "contacts": 3},
        {"day": dt.date(2026, 11, 4), "doors_knocked": 5, "new_doors": 1, "attempts": 5, "contacts": 1},
    ]
    svg = svg_day_chart(days)
    assert svg.count("<rect") == 4 and "01 Nov" in svg


def test_the_body_is_rendered_once_per_campaign_for_a_few_seconds_and_access_is_still_checked(dash, settings):
    from django.core.cache import caches

    caches["shared"].clear()
    settings.DASHBOARD_CACHE_SECONDS = 10
    url = f"/admin/canvass/campaign/{dash.campaign.pk}/dashboard/"
    client = admin_client(dash.organizer)
    with CaptureQueriesContext(connection) as first:
        page = client.get(url)
    with CaptureQueriesContext(connection) as second:
        again = client.get(url)
    assert page.status_code == again.status_code == 200
    assert len(second.captured_queries) < len(first.captured_queries)
    assert "fo-dash" in again.content.decode()
    # The shared body never reaches someone who may not see the campaign.
    assert admin_client(dash.outsider).get(url).status_code == 404
    caches["shared"].clear()


@pytest.fixture
def stale_body(dash, settings):
    """The campaign's shared body, a minute old: (its cache key, the page's url)."""
    import time

    from django.core.cache import caches

    caches["shared"].clear()
    settings.DASHBOARD_CACHE_SECONDS = 10
    settings.DASHBOARD_RENDER_IN_WORKER = True
    key = f"fieldops:dashboard:{dash.campaign.pk}"
    caches["shared"].set(key, (time.time() - 60, "<p>THE OLD BODY</p>"), 600)
    yield key, f"/admin/canvass/campaign/{dash.campaign.pk}/dashboard/"
    caches["shared"].clear()


def test_an_out_of_date_body_is_served_while_the_worker_renders_the_next(dash, stale_body):
    """The web request never renders a body that exists: it queues one render
    (one, however many organizers refresh) and serves the previous body."""
    from django.core.cache import caches

    from canvass.stats import tasks

    key, url = stale_body
    client = admin_client(dash.organizer)
    with mock.patch("django_q.tasks.async_task") as queue:
        first = client.get(url).content.decode()
        second = client.get(url).content.decode()
    assert "THE OLD BODY" in first and "THE OLD BODY" in second
    assert queue.call_count == 1
    assert queue.call_args.args == ("canvass.stats.tasks.dashboard_render", dash.campaign.pk)

    assert tasks.dashboard_render(dash.campaign.pk) == f"dashboard {dash.campaign.pk}: rendered"
    fresh = client.get(url).content.decode()
    assert "THE OLD BODY" not in fresh and "fo-dash" in fresh
    assert caches["shared"].get(f"{key}:rendering") is None  # the next time it is out of date, it is queued again
    assert tasks.dashboard_render(999_999) == "dashboard 999999: no such campaign"


def test_with_the_broker_down_the_request_renders_the_body_itself(dash, stale_body):
    from django.core.cache import caches

    key, url = stale_body
    with mock.patch("django_q.tasks.async_task", side_effect=ConnectionError("broker down")):
        page = admin_client(dash.organizer).get(url).content.decode()
    assert "THE OLD BODY" not in page and "fo-dash" in page
    assert caches["shared"].get(f"{key}:rendering") is None


def test_without_a_shared_cache_the_request_that_finds_the_body_old_renders_it(dash, stale_body, settings):
    """The embedded default (no Redis): a worker's render would stay in the worker's own memory."""
    settings.DASHBOARD_RENDER_IN_WORKER = False
    with mock.patch("django_q.tasks.async_task") as queue:
        page = admin_client(dash.organizer).get(stale_body[1]).content.decode()
    assert "THE OLD BODY" not in page and "fo-dash" in page
    assert queue.call_count == 0


def _progress(knocked, goal, pace, ends_on=None, today=dt.date(2026, 11, 30)):
    from canvass.stats.selectors import Progress

    finish = None
    if goal and knocked >= goal:
        finish = today
    elif goal and pace:
        import math

        finish = today + dt.timedelta(days=math.ceil((goal - knocked) / pace))
    return Progress(
        knocked=knocked,
        goal=goal,
        percent=round(100 * knocked / goal, 1) if goal else None,
        pace_per_day=pace,
        projected_finish=finish,
        today=today,
        ends_on=ends_on,
        on_track=None,
    )


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        # The pace of the "goal reached on Mon 22 May 2084": not a date, the pace it takes.
        (
            _progress(1_200, 35_000, 1.6),
            "At this pace (1.6 a day) the goal will not be reached within a year: it needs 93 new doors a day.",
        ),
        (
            _progress(1_200, 35_000, 400.0, ends_on=dt.date(2026, 12, 31)),
            "At this pace (400 a day) the goal will not be reached by the campaign's end on Thu 31 Dec 2026: "
            "it needs 1,057 new doors a day.",
        ),
        (
            _progress(1_200, 35_000, 2_000.0, ends_on=dt.date(2026, 12, 31)),
            "At this pace the goal is reached on Thu 17 Dec 2026, 14 days before the campaign ends.",
        ),
        (_progress(1_200, 5_000, 100.0), "At this pace the goal is reached on Thu 7 Jan 2027."),
        (
            _progress(1_200, 5_000, 0.0),
            "No new doors in the last 7 days. To reach the goal within a year: 11 new doors a day.",
        ),
        (_progress(5_000, 5_000, 3.0), "The goal is reached."),
        (_progress(10, 0, 3.0), "No goal set: set the campaign's goal (doors) to see a projection."),
        (
            _progress(1_200, 5_000, 10.0, ends_on=dt.date(2026, 11, 1)),
            "The campaign ended on Sun 1 Nov 2026 with 3,800 doors short of the goal.",
        ),
    ],
)
def test_projection_wording(progress, expected):
    from canvass.stats.dashboard import projection

    assert projection(progress) == expected


def test_the_page_groups_thousands_and_lists_turfs_by_what_needs_attention(dash):
    dash.campaign.goal_doors = 12_345
    dash.campaign.save(update_fields=["goal_doors"])
    turfs = list(dash.turfs)
    for number, turf in enumerate(turfs, start=1):
        turf.number = number
        turf.save(update_fields=["number"])
    response = page(dash)
    text = response.content.decode()
    assert "of 12,345" in text
    ordered = response.context["turfs"]
    groups = [0 if not t["assignees"] and (t["completion"] or 0) < 1 else 1 if t["assignees"] else 2 for t in ordered]
    assert groups == sorted(groups)
    # Another organization's turfs never appear.
    foreign = f.TurfFactory(campaign=f.CampaignFactory(organization=dash.other_org, slug="x"), name="Foreign turf")
    assert foreign.name not in page(dash).content.decode()


def test_figures_follow_the_chapters_locale(dash, settings):
    """LANGUAGE_CODE (from the environment) is the chapter's locale: Spanish groups thousands with a
    (non-breaking) space and writes decimals with a comma."""
    dash.campaign.goal_doors = 12_345
    dash.campaign.save(update_fields=["goal_doors"])
    settings.LANGUAGE_CODE = "es"
    settings.DASHBOARD_CACHE_SECONDS = 0  # rendered now, not the body cached in English
    text = page(dash).content.decode()
    assert "of 12\xa0345" in text
    assert "12,345" not in text


def test_todays_shifts_are_all_listed_however_full_the_week(world):
    """Today's shifts are read for the day, not picked out of the week's first twenty."""
    now = timezone.now()
    for days_back in range(1, 6):
        for hour in range(5):
            starts = now - dt.timedelta(days=days_back, hours=hour)
            f.ShiftFactory(
                organization=world.org, campaign=world.campaign, starts_at=starts, name=f"past {days_back}-{hour}"
            )
    tz = world.org.tzinfo
    start_of_today = timezone.localtime(now, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    f.ShiftFactory(
        organization=world.org,
        campaign=world.campaign,
        starts_at=start_of_today + (now - start_of_today) / 2,
        name="Morning walk",
    )
    response = page(world)
    assert response.status_code == 200
    assert "Morning walk" in response.content.decode()
