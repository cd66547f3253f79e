"""A canvasser who logs into the admin, in Chromium: told the admin is for organizers, and the
link opens the volunteer app's login (fieldops/admin_login.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_canvasser_in_the_admin_is_sent_to_the_volunteer_app(app_world, make_phone, base_url):
    phone = make_phone(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    page = phone.page
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", app_world.canvasser.username)
    page.fill("#id_password", app_world.password)
    page.click("input[type=submit]")
    note = page.locator(".errornote")
    note.wait_for()
    assert "The admin is for organizers." in note.inner_text()
    assert "correct username and password" not in page.content()
    link = note.get_by_role("link", name="open it")
    assert link.get_attribute("href") == "/app/"
    link.click()
    page.wait_for_url(f"{base_url}/app/**")
    page.wait_for_selector("input[type=password], #password, [name=password]")
    # A wrong password is still the one message, with no link.
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", app_world.canvasser.username)
    page.fill("#id_password", "guess")
    page.click("input[type=submit]")
    page.locator(".errornote").wait_for()
    assert "correct username and password" in page.locator(".errornote").inner_text()
    assert page.locator(".errornote a").count() == 0
