"""Health checks and the request log."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule

from fieldops import health
from fieldops.request_logging import JsonFormatter


@pytest.mark.django_db
def test_live_checks_the_database_without_login():
    response = Client().get("/health/live/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_full_health_fails_without_a_worker_and_passes_when_schedules_are_kept():
    response = Client().get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert "setup_schedules" in body["checks"]["worker"]["error"]
    schedule = Schedule.objects.create(
        name="sweep",
        func="math.floor",
        args="1",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        next_run=timezone.now() - dt.timedelta(minutes=10),
    )
    body = Client().get("/health/").json()
    assert body["status"] == "failing" and "10 min overdue" in body["checks"]["worker"]["error"]
    schedule.next_run = timezone.now() + dt.timedelta(seconds=30)
    schedule.save(update_fields=["next_run"])
    response = Client().get("/health/")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_a_broken_database_is_a_503_not_a_500(monkeypatch):
    class Boom:
        def cursor(self):
            raise OSError("database down")

    monkeypatch.setattr(health, "connection", Boom())
    assert health.check_database() == {"ok": False, "error": "OSError"}


@pytest.mark.django_db
def test_every_request_is_logged_once_as_json_with_an_id_and_no_body(caplog, world):
    from tests.factories import client_for

    caplog.set_level(logging.INFO, logger="fieldops.requests")
    response = client_for(world.canvasser).get("/api/v1/me/?secret=voter", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    records = [r for r in caplog.records if r.name == "fieldops.requests"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["path"] == "/api/v1/me/" and "secret" not in json.dumps(line)
    assert line["status"] == 200 and line["request_id"] == "abc123" and line["user"] == world.canvasser.pk
    assert line["org"] == world.org.pk and line["ms"] >= 0
