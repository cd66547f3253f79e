"""Shifts through the API: list with places left, sign up, cancel, check in and out,
the roster and no-shows, with the capacity held under races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from canvass.field import services
from canvass.models import Shift, ShiftSignup
from fieldops.models import AuditLogEntry, Role
from tests import factories as f
from tests.factories import client_for

STAGING = (33.9900, -118.4600)


def make_shift(world, *, capacity=10, starts_in=dt.timedelta(days=1), hours=3, **extra) -> Shift:
    starts = timezone.now() + starts_in
    return f.ShiftFactory(
        organization=world.org,
        campaign=world.campaign,
        name=extra.pop("name", "Saturday morning"),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
        capacity=capacity,
        location_name="Venice library",
        lat=STAGING[0],
        lng=STAGING[1],
        **extra,
    )


# --- listing -------------------------------------------------------------------------


@pytest.mark.django_db
def test_canvasser_lists_upcoming_shifts_of_their_organization_with_places_left(world):
    upcoming = make_shift(world, capacity=3)
    make_shift(world, name="Over", starts_in=-dt.timedelta(days=2))  # ended
    f.ShiftFactory(organization=world.other_org, name="Elsewhere shift")
    services.shift_signup(shift=upcoming, user=world.organizer)
    body = client_for(world.canvasser).get("/api/v1/shifts/").json()
    assert [s["name"] for s in body["results"]] == ["Saturday morning"]
    shift = body["results"][0]
    assert shift["places_left"] == 2 and shift["signup_count"] == 1 and shift["capacity"] == 3
    assert shift["my_status"] is None
    assert shift["campaign"] == {"id": world.campaign.pk, "slug": "venice-canvass", "name": "Venice canvass"}
    # aware ISO 8601 in the organization's zone (Los Angeles)
    assert shift["starts_at"].endswith(("-08:00", "-07:00"))
    assert dt.datetime.fromisoformat(shift["starts_at"]) == upcoming.starts_at


@pytest.mark.django_db
def test_the_outsider_sees_none_of_venices_shifts(world):
    shift = make_shift(world)
    client = client_for(world.outsider)
    assert client.get("/api/v1/shifts/").json()["results"] == []
    for path in ("", "signup/", "roster/"):
        method = client.post if path == "signup/" else client.get
        assert method(f"/api/v1/shifts/{shift.pk}/{path}").status_code == 404


@pytest.mark.django_db
def test_anonymous_gets_nothing(world):
    shift = make_shift(world)
    assert client_for(None).get("/api/v1/shifts/").status_code == 401
    assert client_for(None).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 401


@pytest.mark.django_db
def test_shift_list_query_count_does_not_grow(world, django_assert_max_num_queries):
    for i in range(3):
        make_shift(world, name=f"S{i}")
    client = client_for(world.canvasser)
    with django_assert_max_num_queries(3) as few:  # membership, count, page
        client.get("/api/v1/shifts/")
    for i in range(3, 25):
        services.shift_signup(shift=make_shift(world, name=f"S{i}"), user=world.canvasser)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get("/api/v1/shifts/").json()
    assert body["count"] == 25
    assert {s["my_status"] for s in body["results"]} == {None, "signed_up"}


# --- sign-up and cancel ------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_up_cancel_and_sign_up_again(world):
    shift = make_shift(world, capacity=2)
    client = client_for(world.canvasser)
    first = client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert first.status_code == 201
    assert first.json()["status"] == "signed_up" and first.json()["places_left"] == 1
    again = client.post(f"/api/v1/shifts/{shift.pk}/signup/")  # a retried request
    assert again.status_code == 200 and again.json()["places_left"] == 1
    cancel = client.post(f"/api/v1/shifts/{shift.pk}/cancel/")
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "cancelled" and cancel.json()["places_left"] == 2
    assert client.post(f"/api/v1/shifts/{shift.pk}/cancel/").json()["places_left"] == 2  # idempotent
    back = client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert back.status_code == 201 and back.json()["places_left"] == 1
    assert ShiftSignup.objects.filter(shift=shift).count() == 1
    shift.refresh_from_db()
    assert shift.signup_count == 1


@pytest.mark.django_db
def test_a_full_shift_answers_409(world):
    shift = make_shift(world, capacity=1)
    assert client_for(world.organizer).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 201
    full = client_for(world.canvasser).post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert full.status_code == 409
    assert full.json()["detail"] == "This shift is full."
    assert not ShiftSignup.objects.filter(user=world.canvasser).exists()
    # a cancelled place can be taken
    client_for(world.organizer).post(f"/api/v1/shifts/{shift.pk}/cancel/")
    assert client_for(world.canvasser).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 201


@pytest.mark.django_db
def test_the_last_place_goes_once_even_to_a_stale_read(world):
    """The race in slow motion: both requests read the shift with one place left;
    the conditional UPDATE lets only the first take it."""
    shift = make_shift(world, capacity=1)
    stale_a = Shift.objects.get(pk=shift.pk)
    stale_b = Shift.objects.get(pk=shift.pk)
    assert stale_a.signup_count == stale_b.signup_count == 0
    services.shift_signup(shift=stale_a, user=world.canvasser)
    with pytest.raises(services.ShiftFullError):
        services.shift_signup(shift=stale_b, user=world.organizer)
    shift.refresh_from_db()
    assert shift.signup_count == 1
    assert ShiftSignup.objects.filter(shift=shift, status="signed_up").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_an_overfilled_shift(world):
    from django.db import IntegrityError, transaction

    shift = make_shift(world, capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Shift.objects.filter(pk=shift.pk).update(signup_count=2)


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_at_once_cannot_both_get_it(world):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is not shared between threads; the stale-read test covers it")
    shift = make_shift(world, capacity=1)
    users = [f.member(world, f"racer{i}") for i in range(8)]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def take(user):
        barrier.wait()
        try:
            services.shift_signup(shift=Shift.objects.get(pk=shift.pk), user=user)
            result = "ok"
        except services.ShiftFullError:
            result = "full"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=take, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["full"] * 7 + ["ok"]
    shift.refresh_from_db()
    assert shift.signup_count == 1
    assert ShiftSignup.objects.filter(shift=shift).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_person_signing_up_twice_at_once_takes_one_place(world):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is not shared between threads")
    shift = make_shift(world, capacity=5)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def take():
        barrier.wait()
        try:
            services.shift_signup(shift=Shift.objects.get(pk=shift.pk), user=world.canvasser)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shift.refresh_from_db()
    assert shift.signup_count == 1
    assert ShiftSignup.objects.filter(shift=shift).count() == 1


@pytest.mark.django_db
def test_no_sign_up_for_a_shift_that_is_over(world):
    shift = make_shift(world, starts_in=-dt.timedelta(hours=5), hours=3)
    response = client_for(world.canvasser).post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert response.status_code == 409
    assert response.json()["errors"]["shift"] == ["This shift is over; sign up for an upcoming one."]
    assert response.json()["detail"] == "This shift is over; sign up for an upcoming one."


@pytest.mark.django_db
def test_cancel_without_a_sign_up_is_409(world):
    shift = make_shift(world)
    response = client_for(world.canvasser).post(f"/api/v1/shifts/{shift.pk}/cancel/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "You are not signed up for this shift; sign up first.",
        "errors": {"shift": ["You are not signed up for this shift; sign up first."]},
    }


@pytest.mark.django_db
def test_malformed_ids_are_404(world):
    client = client_for(world.canvasser)
    assert client.post("/api/v1/shifts/abc/signup/").status_code == 404
    assert client.post("/api/v1/shifts/999999/signup/").status_code == 404


# --- check in and out ----------------------------------------------------------------


@pytest.mark.django_db
def test_check_in_records_the_distance_to_the_staging_place_and_check_out(world):
    shift = make_shift(world, starts_in=-dt.timedelta(minutes=10))
    client = client_for(world.canvasser)
    client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    # about 111 m north of the staging place
    response = client.post(
        f"/api/v1/shifts/{shift.pk}/check-in/", {"lat": STAGING[0] + 0.001, "lng": STAGING[1]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert 105 < body["check_in_distance_m"] < 115
    assert body["checked_in_at"] is not None and body["checked_out_at"] is None
    # a second check-in keeps the first
    again = client.post(f"/api/v1/shifts/{shift.pk}/check-in/", {}, format="json").json()
    assert (
        again["checked_in_at"] == body["checked_in_at"] and again["check_in_distance_m"] == body["check_in_distance_m"]
    )
    out = client.post(f"/api/v1/shifts/{shift.pk}/check-out/")
    assert out.status_code == 200 and out.json()["checked_out_at"] is not None
    # once checked in, cancelling is refused: the state conflicts, and the answer says what to do instead
    cancel = client.post(f"/api/v1/shifts/{shift.pk}/cancel/")
    assert cancel.status_code == 409
    assert cancel.json()["errors"] == {"shift": ["You have checked in; check out instead."]}


@pytest.mark.django_db
def test_check_in_without_location_and_its_bad_inputs(world):
    shift = make_shift(world, starts_in=dt.timedelta(minutes=30))
    client = client_for(world.canvasser)
    not_signed_up = client.post(f"/api/v1/shifts/{shift.pk}/check-in/")
    assert not_signed_up.status_code == 409
    assert not_signed_up.json()["errors"] == {"shift": ["You are not signed up for this shift; sign up first."]}
    client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    for bad in ({"lat": 91, "lng": 0}, {"lat": 33.9}, {"lat": "north", "lng": 1}):
        response = client.post(f"/api/v1/shifts/{shift.pk}/check-in/", bad, format="json")
        assert response.status_code == 400, bad
        assert "lat" in response.json()["errors"]
    malformed = client.post(f"/api/v1/shifts/{shift.pk}/check-in/", "{", content_type="application/json")
    assert malformed.status_code == 400
    ok = client.post(f"/api/v1/shifts/{shift.pk}/check-in/")
    assert ok.status_code == 200 and ok.json()["check_in_distance_m"] is None


@pytest.mark.django_db
def test_check_in_opens_two_hours_before_and_closes_at_the_end(world):
    early = make_shift(world, starts_in=dt.timedelta(hours=3), name="Early")
    client = client_for(world.canvasser)
    client.post(f"/api/v1/shifts/{early.pk}/signup/")
    too_early = client.post(f"/api/v1/shifts/{early.pk}/check-in/")
    assert too_early.status_code == 409
    assert too_early.json()["detail"].startswith("Check-in opens ")
    out = client.post(f"/api/v1/shifts/{early.pk}/check-out/")
    assert out.status_code == 409
    assert out.json()["errors"] == {"shift": ["You have not checked in; check in first."]}


@pytest.mark.django_db
def test_too_early_says_when_check_in_opens_in_the_organizations_local_time(world):
    """Another day than today there: the day too; the organization's zone, not the server's."""
    world.org.timezone = "Asia/Tokyo"
    world.org.save(update_fields=["timezone"])
    tokyo = world.org.tzinfo
    shift = make_shift(world, name="Tokyo morning")
    shift.starts_at = dt.datetime(2030, 7, 6, 9, 0, tzinfo=tokyo)  # a Saturday
    shift.ends_at = shift.starts_at + dt.timedelta(hours=3)
    shift.save(update_fields=["starts_at", "ends_at"])
    client = client_for(world.canvasser)
    client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    response = client.post(f"/api/v1/shifts/{shift.pk}/check-in/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Check-in opens on Saturday, July 6 at 7:00 AM, two hours before the shift starts.",
        "errors": {"shift": ["Check-in opens on Saturday, July 6 at 7:00 AM, two hours before the shift starts."]},
    }
    assert client.get(f"/api/v1/shifts/{shift.pk}/").json()["my_checked_in_at"] is None


@pytest.mark.django_db
def test_too_early_on_the_day_itself_gives_the_time_only(world):
    la = world.org.tzinfo
    starts = dt.datetime(2030, 11, 30, 9, 0, tzinfo=la)
    shift = make_shift(world, name="Saturday morning")
    Shift.objects.filter(pk=shift.pk).update(starts_at=starts, ends_at=starts + dt.timedelta(hours=3))
    shift.refresh_from_db()
    services.shift_signup(shift=shift, user=world.canvasser, now=starts - dt.timedelta(days=1))
    for now in (dt.datetime(2030, 11, 30, 6, 30, tzinfo=la), dt.datetime(2030, 11, 30, 0, 1, tzinfo=la)):
        with pytest.raises(ValidationError) as error:
            services.shift_check_in(shift=shift, user=world.canvasser, now=now)
        assert error.value.message_dict["shift"] == ["Check-in opens at 7:00 AM, two hours before the shift starts."]
    # the evening before, in Los Angeles, is another day there even though it is the same day in UTC
    with pytest.raises(ValidationError) as error:
        services.shift_check_in(shift=shift, user=world.canvasser, now=dt.datetime(2030, 11, 29, 20, 0, tzinfo=la))
    assert error.value.message_dict["shift"] == [
        "Check-in opens on Saturday, November 30 at 7:00 AM, two hours before the shift starts."
    ]
    # at 7:00 sharp it is open
    signup = services.shift_check_in(shift=shift, user=world.canvasser, now=dt.datetime(2030, 11, 30, 7, 0, tzinfo=la))
    assert signup.checked_in_at == dt.datetime(2030, 11, 30, 7, 0, tzinfo=la)


# --- my check-in and check-out on the shift, for the phone's "Check in" / "Check out" ----------


def my_times(client, shift) -> tuple[tuple, tuple]:
    """(my_checked_in_at, my_checked_out_at) from the list and from the detail."""
    listed = {s["id"]: s for s in client.get("/api/v1/shifts/").json()["results"]}[shift.pk]
    detail = client.get(f"/api/v1/shifts/{shift.pk}/").json()
    return (
        (listed["my_checked_in_at"], listed["my_checked_out_at"]),
        (detail["my_checked_in_at"], detail["my_checked_out_at"]),
    )


@pytest.mark.django_db
def test_the_shift_says_whether_the_caller_checked_in_and_out(world):
    shift = make_shift(world, starts_in=-dt.timedelta(minutes=10))
    client = client_for(world.canvasser)
    assert my_times(client, shift) == ((None, None), (None, None))  # never signed up
    client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert my_times(client, shift) == ((None, None), (None, None))  # "Check in"

    answer = client.post(f"/api/v1/shifts/{shift.pk}/check-in/").json()
    checked_in = answer["checked_in_at"]
    assert answer["status"] == "checked_in"
    assert client.get(f"/api/v1/shifts/{shift.pk}/").json()["my_status"] == "checked_in"
    listed, detail = my_times(client, shift)
    assert listed == detail == (checked_in, None)  # "Check out"
    assert checked_in.endswith(("-08:00", "-07:00"))  # the organization's zone (Los Angeles)

    answer = client.post(f"/api/v1/shifts/{shift.pk}/check-out/").json()
    checked_out = answer["checked_out_at"]
    assert answer["status"] == "checked_out"
    listed, detail = my_times(client, shift)
    assert listed == detail == (checked_in, checked_out)  # done
    assert dt.datetime.fromisoformat(checked_out) >= dt.datetime.fromisoformat(checked_in)
    body = client.get(f"/api/v1/shifts/{shift.pk}/").json()
    assert body["my_status"] == "checked_out"  # the status follows check-in and check-out


@pytest.mark.django_db
def test_my_check_in_is_the_callers_own_not_anyone_elses(world):
    shift = make_shift(world, starts_in=-dt.timedelta(minutes=10))
    services.shift_signup(shift=shift, user=world.canvasser)
    services.shift_check_in(shift=shift, user=world.canvasser)
    organizer = client_for(world.organizer)
    assert my_times(organizer, shift) == ((None, None), (None, None))
    outsider = client_for(world.outsider)
    assert outsider.get(f"/api/v1/shifts/{shift.pk}/").status_code == 404
    assert outsider.get("/api/v1/shifts/").json()["results"] == []
    assert client_for(None).get(f"/api/v1/shifts/{shift.pk}/").status_code == 401


@pytest.mark.django_db
def test_the_shift_list_with_check_ins_keeps_its_query_count(world, django_assert_max_num_queries):
    client = client_for(world.canvasser)
    for i in range(3):
        make_shift(world, name=f"S{i}")
    with django_assert_max_num_queries(3) as few:  # membership, count, page
        client.get("/api/v1/shifts/")
    for i in range(3, 25):
        shift = make_shift(world, name=f"S{i}", starts_in=-dt.timedelta(minutes=10))
        services.shift_signup(shift=shift, user=world.canvasser)
        services.shift_check_in(shift=shift, user=world.canvasser)
        if i % 2:
            services.shift_check_out(shift=shift, user=world.canvasser)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get("/api/v1/shifts/").json()
    assert body["count"] == 25
    assert sum(s["my_checked_in_at"] is not None for s in body["results"]) == 22
    assert sum(s["my_checked_out_at"] is not None for s in body["results"]) == 11


# --- organizers: create, roster, no-shows --------------------------------------------


@pytest.mark.django_db
def test_organizer_creates_a_shift_with_local_times(world):
    body = {
        "name": "Sunday",
        "campaign": world.campaign.pk,
        "starts_at": "2030-03-10T09:00:00-07:00",
        "ends_at": "2030-03-10T12:00:00-07:00",
        "location_name": "Library",
        "lat": STAGING[0],
        "lng": STAGING[1],
        "capacity": 12,
    }
    response = client_for(world.organizer).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 201, response.content
    shift = Shift.objects.get(name="Sunday")
    assert shift.organization == world.org and shift.capacity == 12
    assert response.json()["starts_at"] == "2030-03-10T09:00:00-07:00"
    assert AuditLogEntry.objects.filter(action="shift.create", object_id=str(shift.pk)).exists()


@pytest.mark.django_db
def test_shift_creation_is_for_organizers_and_checks_its_input(world):
    body = {"name": "X", "starts_at": "2030-03-10T09:00:00Z", "ends_at": "2030-03-10T12:00:00Z"}
    assert client_for(world.canvasser).post("/api/v1/shifts/", body, format="json").status_code == 403
    organizer = client_for(world.organizer)
    backwards = organizer.post("/api/v1/shifts/", {**body, "ends_at": "2030-03-10T08:00:00Z"}, format="json")
    assert backwards.status_code == 400 and "ends_at" in backwards.json()["errors"]
    other_campaign = f.CampaignFactory(organization=world.other_org)
    foreign = organizer.post("/api/v1/shifts/", {**body, "campaign": other_campaign.pk}, format="json")
    assert foreign.status_code == 400 and "campaign" in foreign.json()["errors"]
    zero = organizer.post("/api/v1/shifts/", {**body, "capacity": 0}, format="json")
    assert zero.status_code == 400 and "capacity" in zero.json()["errors"]
    naive = organizer.post("/api/v1/shifts/", {**body, "starts_at": "not a time"}, format="json")
    assert naive.status_code == 400 and "starts_at" in naive.json()["errors"]
    missing = organizer.post("/api/v1/shifts/", {}, format="json")
    assert set(missing.json()["errors"]) == {"name", "starts_at", "ends_at"}
    assert not Shift.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_roster_for_organizer_and_team_lead_not_for_canvassers(world):
    shift = make_shift(world)
    services.shift_signup(shift=shift, user=world.canvasser)
    lead = f.member(world, "tess", Role.TEAM_LEAD)
    for user in (world.organizer, lead):
        roster = client_for(user).get(f"/api/v1/shifts/{shift.pk}/roster/")
        assert roster.status_code == 200
        assert [(e["user"]["username"], e["status"]) for e in roster.json()["results"]] == [("carlos", "signed_up")]
    assert client_for(world.canvasser).get(f"/api/v1/shifts/{shift.pk}/roster/").status_code == 403


@pytest.mark.django_db
def test_roster_query_count_does_not_grow(world, django_assert_max_num_queries):
    shift = make_shift(world, capacity=50)
    services.shift_signup(shift=shift, user=world.canvasser)
    client = client_for(world.organizer)
    with django_assert_max_num_queries(4) as few:
        client.get(f"/api/v1/shifts/{shift.pk}/roster/")
    for i in range(20):
        services.shift_signup(shift=shift, user=f.member(world, f"v{i}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/api/v1/shifts/{shift.pk}/roster/").json()["count"] == 21


@pytest.mark.django_db
def test_organizer_marks_a_no_show_which_frees_the_place(world):
    shift = make_shift(world, capacity=1, starts_in=-dt.timedelta(minutes=30))
    services.shift_signup(shift=shift, user=world.canvasser)
    organizer = client_for(world.organizer)
    response = organizer.post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": world.canvasser.pk}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "no_show"
    shift.refresh_from_db()
    assert shift.signup_count == 0
    again = organizer.post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": world.canvasser.pk}, format="json")
    assert again.status_code == 200
    assert AuditLogEntry.objects.filter(action="shift.no_show").count() == 1
    # the no-show cannot sign themselves up again
    again_signup = client_for(world.canvasser).post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert again_signup.status_code == 409
    assert again_signup.json()["errors"] == {"shift": ["You were marked a no-show; ask the organizer."]}
    # canvassers and team leads do not mark no-shows; bad bodies are 400
    lead = f.member(world, "tess", Role.TEAM_LEAD)
    for user in (world.canvasser, lead):
        denied = client_for(user).post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": 1}, format="json")
        assert denied.status_code == 403
    bad = organizer.post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": "carlos"}, format="json")
    assert bad.status_code == 400
    # Another organization's user and no user answer alike (400), a member who did not sign up is a 409.
    stranger = organizer.post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": world.outsider.pk}, format="json")
    missing = organizer.post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": 10**9}, format="json")
    assert stranger.status_code == missing.status_code == 400 and list(stranger.json()["errors"]) == ["user"]
    assert stranger.json()["errors"]["user"][0].split('"')[0] == missing.json()["errors"]["user"][0].split('"')[0]
    member = f.member(world, "nico")
    unsigned = organizer.post(f"/api/v1/shifts/{shift.pk}/no-show/", {"user": member.pk}, format="json")
    assert unsigned.status_code == 409
    assert unsigned.json()["errors"] == {"user": ["This person is not signed up for this shift."]}


@pytest.mark.django_db
def test_no_show_before_the_shift_starts_is_refused(world):
    shift = make_shift(world)
    services.shift_signup(shift=shift, user=world.canvasser)
    response = client_for(world.organizer).post(
        f"/api/v1/shifts/{shift.pk}/no-show/", {"user": world.canvasser.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith("The shift has not started yet; mark no-shows once it starts (")


@pytest.mark.django_db
def test_a_time_without_offset_is_read_in_the_organizations_zone(world):
    body = {"name": "Naive", "starts_at": "2030-07-04T09:00:00", "ends_at": "2030-07-04T12:00:00"}
    response = client_for(world.organizer).post("/api/v1/shifts/", body, format="json")
    assert response.status_code == 201
    shift = Shift.objects.get(name="Naive")
    assert shift.starts_at == dt.datetime(2030, 7, 4, 16, 0, tzinfo=dt.UTC)  # 09:00 PDT
    assert response.json()["starts_at"] == "2030-07-04T09:00:00-07:00"


@pytest.mark.django_db
def test_editing_a_shift_in_the_admin_keeps_sign_ups_made_meanwhile(world):
    from django.test import Client

    shift = make_shift(world, capacity=3)
    client = Client()
    client.force_login(type(world.organizer).objects.get(pk=world.organizer.pk))
    page = client.get(f"/admin/canvass/shift/{shift.pk}/change/")
    assert page.status_code == 200
    # a phone signs up while the organizer's form is open
    services.shift_signup(shift=shift, user=world.canvasser)
    local = timezone.localtime(shift.starts_at, world.org.tzinfo)
    end = timezone.localtime(shift.ends_at, world.org.tzinfo)
    data = {
        "name": "Renamed",
        "campaign": world.campaign.pk,
        "starts_at_0": local.strftime("%Y-%m-%d"),
        "starts_at_1": local.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "location_name": "Venice library",
        "lat": STAGING[0],
        "lng": STAGING[1],
        "capacity": 3,
        "signups-TOTAL_FORMS": "0",
        "signups-INITIAL_FORMS": "0",
        "signups-MIN_NUM_FORMS": "0",
        "signups-MAX_NUM_FORMS": "0",
    }
    response = client.post(f"/admin/canvass/shift/{shift.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].errors
    shift.refresh_from_db()
    assert shift.name == "Renamed" and shift.signup_count == 1
    # the capacity cannot go below the places taken
    response = client.post(f"/admin/canvass/shift/{shift.pk}/change/", {**data, "capacity": 0})
    assert response.status_code == 200
    assert "capacity" in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_the_shift_admin_never_writes_a_stale_signup_count(world):
    from types import SimpleNamespace

    from django.contrib import admin

    shift = make_shift(world, capacity=3)
    stale = Shift.objects.get(pk=shift.pk)  # the row as the admin loaded it
    services.shift_signup(shift=shift, user=world.canvasser)  # meanwhile, a phone
    stale.name = "Renamed"
    model_admin = admin.site._registry[Shift]
    request = SimpleNamespace(user=world.organizer)
    model_admin.save_model(request, stale, SimpleNamespace(changed_data=["name"]), change=True)  # type: ignore[arg-type]  # only request.user is read
    shift.refresh_from_db()
    assert shift.name == "Renamed" and shift.signup_count == 1
