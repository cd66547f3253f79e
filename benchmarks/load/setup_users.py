"""Make the load test's people on the demo campaign: canvassers with phone tokens
and assignments (four to a turf), organizers with admin sessions. Writes the
users file the locustfile reads. Run by benchmarks/load_weekend.py."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldops.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,  # noqa: E402
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from canvass.field.services import assignment_create  # noqa: E402
from canvass.models import Assignment, Campaign, ResultCode, Turf, TurfDoor  # noqa: E402
from fieldops.models import Membership, Organization, Role  # noqa: E402
from fieldops.services import device_token_create  # noqa: E402

User = get_user_model()
PER_TURF = 4


def ensure_users(org: Organization, prefix: str, count: int, role: str) -> list:
    names = [f"{prefix}{i:04d}" for i in range(1, count + 1)]
    existing = {u.username: u for u in User.objects.filter(username__in=names)}
    new = [User(username=n, is_staff=role != Role.CANVASSER) for n in names if n not in existing]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new)
    users = list(User.objects.filter(username__in=names).order_by("username"))
    have = set(Membership.objects.filter(user__in=users).values_list("user_id", flat=True))
    Membership.objects.bulk_create([Membership(user=u, organization=org, role=role) for u in users if u.pk not in have])
    return users


def main(canvassers: int, organizers: int, out: Path) -> None:
    org = Organization.objects.get(slug="venice-demo")
    campaign = Campaign.objects.get(organization=org, slug="venice-canvass")
    organizer = Membership.objects.filter(organization=org, role=Role.ORGANIZER).select_related("user").first()
    assert organizer is not None, "the demo chapter has an organizer (manage.py demo)"
    boss = organizer.user
    field = ensure_users(org, "load-c", canvassers, Role.CANVASSER)
    office = ensure_users(org, "load-o", organizers, Role.ORGANIZER)
    turfs = list(Turf.objects.filter(campaign=campaign, status=Turf.Status.ACTIVE).order_by("name"))
    doors_of: dict[int, list[int]] = {}
    for turf_id, door_id in (
        TurfDoor.objects.filter(turf__in=turfs).order_by("turf_id", "position").values_list("turf_id", "door_id")
    ):
        doors_of.setdefault(turf_id, []).append(door_id)
    # Fresh assignments every run: end the load users' old ones.
    Assignment.objects.filter(campaign=campaign, members__user__in=field, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    records = []
    with transaction.atomic():
        for start in range(0, len(field), PER_TURF):
            group = field[start : start + PER_TURF]
            turf = turfs[(start // PER_TURF) % len(turfs)]
            assignment = assignment_create(organization=org, actor=boss, turf=turf, canvassers=group)
            for user in group:
                issued = device_token_create(user=user, device_id=f"load-{user.username}", device_name="locust")
                records.append(
                    {
                        "username": user.username,
                        "token": issued.key,
                        "assignment": assignment.pk,
                        "doors": doors_of[turf.pk][:80],
                    }
                )
    sessions = []
    for user in office:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        # The backend a login through the admin's form records (fieldops.logins.ThrottledModelBackend): a
        # session naming a backend that is not configured is anonymous, and the dashboard answers 302.
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append({"username": user.username, "sessionid": session.session_key})
    codes = list(ResultCode.objects.filter(organization=org, is_active=True).values_list("code", flat=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "canvassers": records,
                "organizers": sessions,
                "result_codes": codes,
                "dashboard_path": f"/admin/canvass/campaign/{campaign.pk}/dashboard/",
            }
        )
    )
    print(f"{len(records)} canvassers on {len(records) // PER_TURF} assignments, {len(sessions)} organizers -> {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
