"""The volunteer app's page, worker and manifest as the server sends them (no browser needed)."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from volunteer.shell import PRELOAD, app_shell, static_base


def is_static_file(url: str) -> bool:
    """The URL names a file the static files app has (the tests run without collectstatic)."""
    return url.startswith(static_base()) and finders.find(url[len(static_base()) :]) is not None


@pytest.fixture
def client() -> Client:
    return Client()


def test_the_page_preloads_the_first_screens_modules_which_all_exist(client, world):
    shell = app_shell()
    assert set(PRELOAD) <= set(shell.files)
    assert "volunteer/js/map.js" not in PRELOAD  # the map loads when opened
    body = client.get("/app/").content.decode()
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', body)
    assert preloaded == shell.urls(PRELOAD)
    assert all(is_static_file(url) for url in preloaded)
    assert f'data-version="{shell.version}"' in body


def test_any_path_under_app_is_the_page_and_carries_no_data(client, world):
    for path in ("/app/", "/app/walk/1", "/app/anything/else"):
        response = client.get(path)
        assert response.status_code == 200
        policy = {
            part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in response["Content-Security-Policy"].split("; ")
        }
        assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
        assert "style-src-attr" not in policy and policy["base-uri"] == "'none'"  # stricter than the admin's
        assert response["Cache-Control"] == "no-cache"
    # A signed-in organizer's session changes nothing: the page holds no names.
    client.force_login(world.organizer)
    assert world.doors[0].display_address.encode() not in client.get("/app/").content
    assert client.post("/app/").status_code == 405


def test_the_worker_precaches_the_whole_shell_under_its_version(client, world):
    shell = app_shell()
    response = client.get("/app/sw.js")
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    found = re.search(r"const SHELL = (\[.*?\]);", body)
    assert found is not None
    listed = json.loads(found.group(1))
    assert listed == ["/app/", *shell.urls()]
    assert "/static/volunteer/js/map.js" in listed  # precached, so the map opens offline
    assert f'const VERSION = "{shell.version}"' in body
    assert "/api/" in body  # the rule that keeps API answers out of the cache


def test_the_manifest_is_installable(client, world):
    data = json.loads(client.get("/app/manifest.webmanifest").content)
    assert data["start_url"] == data["scope"] == "/app/"
    assert data["display"] == "standalone"
    assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
    assert all(is_static_file(icon["src"]) for icon in data["icons"])
