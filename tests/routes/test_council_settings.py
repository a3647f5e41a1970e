"""Administrators change their council's settings: where urgent alerts go, emergency numbers, name and branding."""

from __future__ import annotations

import pytest

from civic import council_settings
from civic.audit import AuditLog
from civic.councils import Council
from civic.errors import Forbidden
from tests.factories import Browser, create_user_ok, field_error, html, text_of

GOOD = {
    "name": "Northmere Council",
    "logo_url": "",
    "brand_colour": "#1D70B8",
    "emergency_phone": "999",
    "childrens_front_door_phone": "01632 960 123",
    "duty_email": " Duty@Northmere.example ",
    "contact_phone": "01632 960 100",
    "contact_email": " Contact@Northmere.example ",
    "contact_url": "https://www.northmere.example/contact",
}


async def test_an_administrator_sets_the_duty_address_and_front_door_number_and_they_are_used_at_once(app, council):
    admin = await create_user_ok(council, role="admin")
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        saved = await browser.post("/admin/council", GOOD)
        assert saved.status_code == 303 and saved.headers["location"] == "/admin/council"
        form = await browser.follow(saved)
    stored = await Council.get(id=council.id)
    assert (stored.duty_email, stored.childrens_front_door_phone, stored.brand_colour) == ("duty@northmere.example", "01632 960 123", "#1d70b8")
    assert (stored.contact_phone, stored.contact_email, stored.contact_url) == ("01632 960 100", "contact@northmere.example", "https://www.northmere.example/contact")
    # The form shows what was saved, not what this process had kept of the council a moment ago.
    assert html(form).css_first("#duty_email").attributes["value"] == "duty@northmere.example"
    assert "duty address" in text_of(form, ".govuk-notification-banner__heading")[0]
    entry = await AuditLog.get(action="council.settings_changed", council=council)
    assert entry.actor_id == admin.id and "duty address" in entry.reason and "duty@" not in entry.reason  # names what changed, not to what
    # Saving again with nothing new records nothing more.
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        again = await browser.follow(await browser.post("/admin/council", GOOD))
    assert text_of(again, ".govuk-notification-banner__heading") == ["Nothing changed."]
    assert await AuditLog.filter(action="council.settings_changed", council=council).count() == 1


async def test_wrong_settings_get_a_message_by_each_field_and_keep_what_was_typed(app, council):
    admin = await create_user_ok(council, role="admin")
    typed = {**GOOD, "name": "", "brand_colour": "#ffdd00", "logo_url": "http://logo.example/x.png", "emergency_phone": "call us", "childrens_front_door_phone": "none", "duty_email": "duty at council",
             "contact_phone": "ring us", "contact_email": "contact at council", "contact_url": "www.council.example/contact"}
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        refused = await browser.post("/admin/council", typed)
    assert refused.status_code == 422
    assert field_error(refused, "name") == "Enter the council's name"
    # Yellow: white header text on it would be unreadable.
    assert field_error(refused, "brand_colour").startswith("White text on #ffdd00 is hard to read (contrast 1.3 to 1; it needs 4.5 to 1)")
    assert field_error(refused, "logo_url") == "Enter the logo's address starting https://, or leave it blank"
    assert field_error(refused, "emergency_phone") == "Enter the emergency number, like 999"
    assert field_error(refused, "childrens_front_door_phone").startswith("Enter a telephone number")
    assert field_error(refused, "duty_email").startswith("Enter the duty address in the correct format")
    assert field_error(refused, "contact_phone").startswith("Enter a telephone number")
    assert field_error(refused, "contact_email").startswith("Enter the email address in the correct format")
    assert field_error(refused, "contact_url") == "Enter the contact page's address starting https://, or leave it blank"
    assert html(refused).css_first("#duty_email").attributes["value"] == "duty at council"
    assert (await Council.get(id=council.id)).name == council.name


async def test_only_this_councils_administrators_see_or_change_its_settings(app, council):
    officer = await create_user_ok(council, role="officer")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        assert (await browser.get("/admin/council")).status_code == 403
        assert (await browser.post("/admin/council", GOOD)).status_code == 403
    with pytest.raises(Forbidden):
        await council_settings.change(officer, council, GOOD)
    assert (await Council.get(id=council.id)).duty_email != "duty@northmere.example"


async def test_without_a_duty_address_the_officer_home_links_to_where_an_administrator_sets_it(app, council):
    await Council.filter(id=council.id).update(duty_email="")
    admin = await create_user_ok(council, role="admin")
    async with Browser(app, council) as browser:
        await browser.signin_as(admin)
        home = await browser.get("/officer")
    links = [a.attributes.get("href") for a in html(home).css("main a")]
    assert "/admin/council" in links
