"""A client generated from the OpenAPI schema works the phone's day: log in, walk list, push, pull.

openapi-python-client (pinned in requirements-dev.txt) generates a typed
client from the schema into a temporary directory (about 3 s; nothing is
committed). The client talks to the Django app in-process through httpx's
WSGI transport, so it sees exactly the answers a phone would.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from fieldops.versioning import API_VERSION
from tests import factories as f

PASSWORD = "pw-for-tests-1"  # tests/factories.py UserFactory
PACKAGE = "fieldops_generated_client"
pytestmark = [pytest.mark.generated_client, pytest.mark.usefixtures("fresh_login_throttle")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker):
    root = tmp_path_factory.mktemp("client")
    with django_db_blocker.unblock():
        schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    # The phone's client speaks JSON: keep each request body's application/json form. The
    # same model under three media types (JSON, form, multipart) makes openapi-python-client
    # 0.29.1 write a function that sends multipart and names an `Unset` it never imports.
    for operations in schema["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content")
            if content:
                operation["requestBody"]["content"] = {"application/json": content["application/json"]}
    (root / "schema.json").write_bytes(OpenApiJsonRenderer().render(schema))
    (root / "config.yaml").write_text("post_hooks: []\n")  # no formatter run on the generated code
    tool = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [str(tool), "generate", "--path", "schema.json", "--meta", "none", "--output-path", PACKAGE]
        + ["--config", "config.yaml"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation of the schema became a function: nothing was skipped as unreadable.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _in_test_transaction(handler):
    """The WSGI app as Django's test client runs it: the test's database connection stays
    open across requests (request_started/finished would close it, and its transaction)."""

    def app(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = handler(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                result.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


def transport() -> dict:
    return {"transport": httpx.WSGITransport(app=_in_test_transaction(get_wsgi_application()))}


@pytest.mark.django_db
def test_the_generated_client_logs_in_downloads_a_walk_list_pushes_and_pulls(world, generated):
    client_module = generated("client")
    models = generated("models")
    types = generated("types")
    f.ResultCodeFactory(organization=world.org, code="not_home")

    anonymous = client_module.Client(base_url="http://testserver", httpx_args=transport())
    login = generated("api.auth.auth_token_create").sync_detailed(
        client=anonymous, body=models.TokenInput(username="carlos", password=PASSWORD, device_id="gen-phone")
    )
    assert login.status_code == 201, login.content
    assert isinstance(login.parsed, models.TokenOutput)
    assert login.parsed.me.username == "carlos"

    phone = client_module.AuthenticatedClient(
        base_url="http://testserver",
        token=login.parsed.token,
        prefix="Token",
        headers={"X-Fieldops-App-Version": "generated-test"},
        httpx_args=transport(),
    )
    listed = generated("api.assignments.assignments_list").sync_detailed(client=phone)
    assert listed.status_code == 200, listed.content
    assignment_ids = [a.id for a in listed.parsed.results]
    assert assignment_ids == [world.assignment.pk]

    walk = generated("api.assignments.assignments_walk_list_retrieve").sync_detailed(
        client=phone, assignment_id=world.assignment.pk
    )
    assert walk.status_code == 200, walk.content
    assert isinstance(walk.parsed, models.WalkList)
    door = walk.parsed.doors[0]
    assert [d.id for d in walk.parsed.doors] == [d.pk for d in world.doors]
    assert "not_home" in [code.code for code in walk.parsed.result_codes]

    now = dt.datetime.now(dt.UTC)
    knock = models.PushItem(
        id=uuid.uuid4(),
        door=door.id,
        assignment=world.assignment.pk,
        result="not_home",
        recorded_at=now - dt.timedelta(minutes=1),
        notes="Dog in the yard",
    )
    pushed = generated("api.sync.sync_push_create").sync_detailed(
        client=phone, body=models.PushRequest(device_id="gen-phone", sent_at=now, attempts=[knock])
    )
    assert pushed.status_code == 200, pushed.content
    receipt = pushed.parsed.results[0]
    assert receipt.status == models.PushReceiptStatusEnum.ACCEPTED
    assert str(receipt.id) == str(knock.id)
    assert pushed.headers["X-Fieldops-Api-Version"] == API_VERSION

    pull = generated("api.sync.sync_pull_retrieve")
    page = pull.sync_detailed(client=phone, assignments=",".join(map(str, assignment_ids)))
    assert page.status_code == 200, page.content
    snapshot = page.parsed
    assert isinstance(snapshot, models.PullResponse)
    assert snapshot.api_version == API_VERSION and snapshot.reset is True
    assert [a.id for a in snapshot.assignments] == [world.assignment.pk]
    assert {d.id for d in snapshot.doors} == {d.pk for d in world.doors}
    assert str(knock.id) in {str(a.id) for a in snapshot.attempts}  # their own knock, in the snapshot
    nothing_new = pull.sync_detailed(client=phone, cursor=snapshot.cursor)
    assert nothing_new.status_code == 200
    assert nothing_new.parsed.doors == [] and nothing_new.parsed.has_more is False
    assert isinstance(nothing_new.parsed.tombstones, models.PullTombstones)

    # Log out; the same client then gets a 401 it can read: the typed error body with its code.
    assert generated("api.auth.auth_token_destroy").sync_detailed(client=phone).status_code == 204
    refused = pull.sync_detailed(client=phone, cursor=snapshot.cursor)
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.Error)
    assert refused.parsed.code == "token_revoked"
    assert not isinstance(refused.parsed.code, types.Unset)
    assert json.loads(refused.content)["detail"].endswith("log in again.")
