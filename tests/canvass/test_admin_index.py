"""The admin index leads with the organizer's campaigns and the way into each one's screens."""

from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.factories import admin_client


@pytest.mark.django_db
def test_index_lists_own_active_campaigns_with_working_links(world, django_assert_max_num_queries):
    code = f.ResultCodeFactory(organization=world.org)
    for review in ("held", "held", "trusted"):
        f.ContactAttemptFactory(
            door=world.doors[0], campaign=world.campaign, canvasser=world.canvasser, result_code=code, review=review
        )
    f.CampaignFactory(organization=world.org, slug="old", name="Old campaign", is_active=False)
    f.CampaignFactory(organization=world.other_org, slug="secret", name="Secret elsewhere campaign", goal_doors=12345)
    from django.utils import timezone

    soon = timezone.localtime(timezone.now(), world.org.tzinfo).replace(hour=23, minute=0, second=0, microsecond=0)
    f.ShiftFactory(organization=world.org, campaign=world.campaign, name="Rose Ave late", starts_at=soon)
    client = admin_client(world.organizer)
    # The page's own, then five a campaign (progress 2, who is out 2, shifts 1): a handful of campaigns.
    with django_assert_max_num_queries(17):
        page = client.get("/admin/")
    assert page.status_code == 200
    text = page.content.decode()
    lead = text[text.index('id="campaigns"') : text.index("fieldops-intro")]
    assert "Venice canvass" in lead and "Old campaign" not in lead
    assert "Secret elsewhere campaign" not in text
    assert "2 held" in lead
    assert f"0 of {world.campaign.goal_doors:,} doors" in lead  # knocked against the goal (from the stats)
    assert "1 canvasser: carlos" in lead  # out now: carlos's assignment started an hour ago
    assert "Rose Ave late" in lead and "11:00 PM" in lead  # today's shifts, in the organization's time
    pk = world.campaign.pk
    links = set(re.findall(r'href="([^"]+)"', lead))
    assert f"/admin/canvass/campaign/{pk}/dashboard/" in links
    assert f"/admin/canvass/campaign/{pk}/turf-map/" in links
    assert f"/admin/canvass/campaign/{pk}/cut-turfs/" in links
    assert f"/admin/canvass/assignment/?campaign__id__exact={pk}" in links
    assert f"/admin/canvass/campaign/{pk}/export-van/" in links
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
    # The campaign's turfs and its held knocks are what those links list.
    turfs = client.get(f"/admin/canvass/turf/?campaign__id__exact={pk}&status__exact=active")
    assert turfs.context["cl"].result_count == 1
    held = client.get(f"/admin/canvass/heldknock/?campaign__id__exact={pk}")
    assert held.context["cl"].result_count == 2


@pytest.mark.django_db
def test_index_shows_the_outsider_only_their_own_campaigns(world):
    f.CampaignFactory(organization=world.other_org, slug="theirs", name="Their campaign", goal_doors=12345)
    text = admin_client(world.outsider).get("/admin/").content.decode()
    assert "Their campaign" in text and "12,345 doors" in text
    assert "Venice canvass" not in text


@pytest.mark.django_db
def test_every_screen_of_a_campaign_links_to_the_others(world):
    client = admin_client(world.organizer)
    pk = world.campaign.pk
    screens = [
        f"/admin/canvass/campaign/{pk}/dashboard/",
        f"/admin/canvass/campaign/{pk}/turf-map/",
        f"/admin/canvass/campaign/{pk}/cut-turfs/",
        f"/admin/canvass/campaign/{pk}/export-van/",
        f"/admin/canvass/campaign/{pk}/change/",
    ]
    for url in screens:
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        nav = text[text.index('class="fo-campaign-nav"') : text.index("</nav>", text.index('class="fo-campaign-nav"'))]
        links = set(re.findall(r'href="([^"]+)"', nav))
        others = {u for u in screens if u != url}
        assert others <= {link.split("?")[0] for link in links}, (url, links)
        assert 'aria-current="page"' in nav, url  # the screen shown is marked, not linked
        assert f"/admin/canvass/assignment/?campaign__id__exact={pk}" in links
    # Another chapter's campaign has no such page for this organizer.
    other = f.CampaignFactory(organization=world.other_org, slug="theirs")
    assert client.get(f"/admin/canvass/campaign/{other.pk}/dashboard/").status_code in (302, 403, 404)
