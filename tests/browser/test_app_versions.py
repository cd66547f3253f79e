"""The app and the server say their versions; a revoked token (401) sends the app to log in again.

docs/api.md, "Versioning" and "Authentication answers".
"""

from __future__ import annotations

from django.utils import timezone

from fieldops.models import DeviceToken
from fieldops.versioning import API_VERSION
from tests.browser.app_steps import download_turf, log_in, screen, sync_now, wait_for_status


def test_the_app_sends_its_shell_version_and_reads_the_servers(app_world, phone):
    page = phone.page
    requests = []
    phone.context.on("request", lambda request: requests.append(request))
    log_in(phone, app_world.canvasser.username, app_world.password)
    download_turf(phone, app_world.assignment.pk)
    with page.expect_response(lambda r: "/api/v1/sync/pull/" in r.url) as pulled:
        sync_now(phone)
    wait_for_status(phone, "synced")
    assert pulled.value.headers["x-fieldops-api-version"] == API_VERSION

    shell = page.evaluate("() => document.documentElement.dataset.version")
    assert len(shell) == 16  # volunteer/shell.py: the digest of the app's files
    api_calls = [r for r in requests if "/api/v1/" in r.url]
    assert len(api_calls) >= 4  # login, me/shifts/assignments, walk list, push/pull
    assert all(r.headers.get("x-fieldops-app-version") == shell for r in api_calls), [
        (r.url, r.headers.get("x-fieldops-app-version")) for r in api_calls
    ]
    seen = page.evaluate('async () => (await import("/static/volunteer/js/api.js")).apiVersion()')
    assert seen == API_VERSION


def test_a_revoked_token_answers_401_and_the_app_asks_to_log_in_again(app_world, phone):
    page = phone.page
    log_in(phone, app_world.canvasser.username, app_world.password)
    download_turf(phone, app_world.assignment.pk)
    DeviceToken.objects.filter(user=app_world.canvasser).update(revoked_at=timezone.now())
    with page.expect_response(lambda r: "/api/v1/sync/" in r.url) as refused:
        sync_now(phone)
    assert refused.value.status == 401
    assert refused.value.json()["code"] == "token_revoked"
    screen(phone, "login")
    token = page.evaluate('async () => (await import("/static/volunteer/js/store.js")).kv.get("token")')
    assert token is None
    # Logging in again works, and the downloaded turf is still on the phone.
    log_in(phone, app_world.canvasser.username, app_world.password)
    held = page.evaluate(
        'async () => (await (await import("/static/volunteer/js/store.js")).all("doors")).map((door) => door.id)'
    )
    assert sorted(held) == sorted(d.pk for d in app_world.doors)
