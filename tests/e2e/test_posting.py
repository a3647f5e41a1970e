"""Posting news and offers of help on a 360×740 phone with JavaScript on: the post shows, and the form empties."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from tests.e2e.conftest import signin_in_browser
from tests.factories import create_scheme_ok, create_user_ok


async def test_news_an_organiser_posts_shows_at_once_with_the_form_empty(phone, live_server, e2e_council, check_accessibility):
    # The answer sent the browser to the same page at the post's anchor, which only scrolled: the
    # form kept what was typed, no message showed and the list did not have the post, so people
    # posted again.
    organiser = await create_user_ok(e2e_council)
    scheme = await create_scheme_ok(e2e_council, organiser=organiser, name=f"Castlefields Lunch Club {uuid.uuid4().hex[:6]}")
    await signin_in_browser(phone, live_server, organiser)
    await phone.goto(f"/schemes/{scheme.slug}/news")

    await phone.get_by_role("button", name="Post news").click()  # first with a mistake, which htmx shows in place
    await expect(phone.locator(".govuk-error-summary")).to_contain_text("Enter a title")
    await phone.get_by_label("Title").fill("Open on Monday")
    await phone.get_by_label("News").fill("From 10am in the church hall.")
    await phone.get_by_role("button", name="Post news").click()

    await expect(phone.locator(".govuk-notification-banner__heading")).to_contain_text("news")
    await expect(phone.locator("article h3", has_text="Open on Monday")).to_have_count(1)
    await expect(phone.get_by_label("Title")).to_have_value("")
    await expect(phone.locator(".govuk-error-summary")).to_have_count(0)
    assert phone.url.split("#")[1].startswith("post-")
    await check_accessibility(phone)


async def test_an_offer_of_help_a_resident_posts_shows_at_once(phone, live_server, e2e_council):
    resident = await create_user_ok(e2e_council)
    scheme = await create_scheme_ok(e2e_council, name=f"Harbourside Pantry {uuid.uuid4().hex[:6]}")
    await signin_in_browser(phone, live_server, resident)
    await phone.goto(f"/schemes/{scheme.slug}/offers")

    await phone.get_by_label("What can you offer?").fill("A lift to the surgery on Tuesdays")
    await phone.get_by_role("button", name="Post offer").click()

    await expect(phone.get_by_text("A lift to the surgery on Tuesdays")).to_have_count(1)
    await expect(phone.get_by_label("What can you offer?")).to_have_value("")
    assert phone.url.split("#")[1].startswith("offer-")
