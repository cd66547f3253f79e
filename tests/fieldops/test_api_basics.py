import pytest

from tests.factories import client_for


@pytest.mark.django_db
def test_me_answers_each_standard_user_with_their_own_organization(world):
    me = client_for(world.organizer).get("/api/v1/me/").json()
    assert me["organization"]["slug"] == "venice"
    assert me["role"] == "organizer"
    assert me["timezone"] == "America/Los_Angeles"
    assert client_for(world.canvasser).get("/api/v1/me/").json()["role"] == "canvasser"
    outsider = client_for(world.outsider).get("/api/v1/me/").json()
    assert outsider["organization"]["slug"] == "elsewhere"


@pytest.mark.django_db
def test_me_refuses_anonymous_with_a_json_error():
    response = client_for(None).get("/api/v1/me/")
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(world):
    client = client_for(world.organizer)
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower() and "jsdelivr" not in html.lower()


@pytest.mark.django_db
def test_the_access_chokepoint_answers_404_alike_for_missing_and_foreign(world):
    from django.http import Http404

    from fieldops.access import get_scoped_or_404
    from turf.models import Door

    own = world.doors[0]
    assert get_scoped_or_404(Door.objects.all(), world.organizer, pk=own.pk) == own
    for user, pk in [
        (world.organizer, world.other_door.pk),  # another chapter's door
        (world.organizer, 10**9),  # no such door
        (world.organizer, "not-a-number"),  # a malformed id
        (world.outsider, own.pk),
        (None, own.pk),
    ]:
        with pytest.raises(Http404):
            get_scoped_or_404(Door.objects.all(), user, pk=pk)


@pytest.mark.django_db
def test_unknown_api_urls_and_huge_ids_answer_json_errors(world):
    from tests.factories import client_for

    client = client_for(world.organizer)
    response = client.get("/api/v1/turfs/null,null/split/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}
    for url in ("/api/v1/assignments/?turf=26289743525297315840", "/api/v1/turfs/?campaign=²"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert set(response.json()["errors"]) <= {"turf", "campaign"}
    # Outside the API, Django's own page.
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]
