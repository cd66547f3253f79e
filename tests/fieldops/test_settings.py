"""Settings come from the environment, with safe defaults and clear errors."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from fieldops import env

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **environ: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "HTTPS")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "fieldops.settings", **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_env_readers_reject_bad_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env.env_bool("X_BOOL")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.env_int("X_INT", 1)
    monkeypatch.setenv("X_TZ", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="IANA"):
        env.env_timezone("X_TZ", "UTC")
    monkeypatch.setenv("X_LIST", " a.org, b.org ,")
    assert env.env_list("X_LIST", []) == ["a.org", "b.org"]
    monkeypatch.setenv("X_BOOL", "Yes")
    assert env.env_bool("X_BOOL") is True


def test_defaults_are_sqlite_orm_broker_and_debug_off(tmp_path):
    out = _run(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], 'orm' in s.Q_CLUSTER, 'redis' in s.Q_CLUSTER,"
        " s.DATABASES['default']['OPTIONS']['transaction_mode'])",
        FIELDOPS_VAR_DIR=str(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "django.db.backends.sqlite3", "True", "False", "IMMEDIATE"]


def test_redis_url_switches_the_broker_and_database_url_the_database(tmp_path):
    out = _run(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.Q_CLUSTER.get('redis'), 'orm' in s.Q_CLUSTER, s.DATABASES['default']['ENGINE'])",
        FIELDOPS_VAR_DIR=str(tmp_path),
        REDIS_URL="redis://127.0.0.1:6379/3",
        DATABASE_URL="postgres://u@db.example:5432/x",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["redis://127.0.0.1:6379/3", "False", "django.db.backends.postgresql"]


def test_bad_environment_fails_at_start_with_the_variable_name(tmp_path):
    out = _run("import django; django.setup()", FIELDOPS_VAR_DIR=str(tmp_path), DEBUG="perhaps")
    assert out.returncode != 0
    assert "DEBUG must be one of" in out.stderr
    out = _run("import django; django.setup()", FIELDOPS_VAR_DIR=str(tmp_path), TIME_ZONE="Venice")
    assert "TIME_ZONE must be an IANA time zone" in out.stderr


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG",)},
            "FIELDOPS_VAR_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(60),
            "HTTPS": "1",
            "ALLOWED_HOSTS": "fieldops.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_a_generated_secret_key_is_kept_between_starts(tmp_path):
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)"
    first = _run(code, FIELDOPS_VAR_DIR=str(tmp_path), SECRET_KEY="")
    second = _run(code, FIELDOPS_VAR_DIR=str(tmp_path), SECRET_KEY="")
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 50
    assert first.stdout == second.stdout
