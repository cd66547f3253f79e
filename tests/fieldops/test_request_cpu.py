"""The per-request CPU log the load benchmark turns on (REQUEST_CPU_LOG; fieldops/request_cpu.py)."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client, override_settings

CPU_MIDDLEWARE = "fieldops.request_cpu.RequestCpuMiddleware"


def test_off_by_default():
    assert settings.REQUEST_CPU_LOG is False
    assert CPU_MIDDLEWARE not in settings.MIDDLEWARE


@pytest.mark.django_db
def test_on_each_request_logs_its_cpu_and_the_answer_is_unchanged(caplog):
    with override_settings(MIDDLEWARE=[CPU_MIDDLEWARE, *settings.MIDDLEWARE]):
        with caplog.at_level(logging.INFO, logger="fieldops.request_cpu"):
            live = Client().get("/health/live/")
            refused = Client().get("/api/v1/sync/pull/", {"cursor": "x"}, HTTP_AUTHORIZATION="Token nonsense")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert refused.status_code == 401
    records = [r for r in caplog.records if r.name == "fieldops.request_cpu"]
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/health/live/", 200),
        ("GET", "/api/v1/sync/pull/", 401),
    ]
    for record in records:
        assert 0 <= record.cpu_ms <= record.ms + 1  # a thread's CPU fits in its wall time
        assert "cursor" not in record.getMessage()  # no query string: it may hold search terms
