"""Journeys through the moderation of people on a 360×740 phone: letting someone post again, checked with axe-core."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from civic import accounts
from civic.accounts import User
from tests.e2e.conftest import signin_in_browser
from tests.factories import create_user_ok


async def _fits_the_phone(page) -> None:
    """Nothing makes the page scroll sideways on a 360 px screen."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def test_officer_lets_someone_the_council_stopped_post_again(phone, live_server, e2e_council, check_accessibility, mailbox):
    officer = await create_user_ok(e2e_council, role="officer")
    name = f"Bethan Lloyd {uuid.uuid4().hex[:6]}"
    person = await create_user_ok(e2e_council, display_name=name)
    await accounts.suspend(officer, e2e_council, person, "Posted the same advert on every scheme")
    await signin_in_browser(phone, live_server, officer)

    await phone.goto("/officer/moderation")
    await phone.get_by_role("link", name="See who this council has stopped posting, and let them post again").click()
    await phone.wait_for_url("**/officer/moderation/suspended")
    item = phone.locator(".app-queue__item", has_text=name)
    await expect(item).to_contain_text("Posted the same advert on every scheme")
    await check_accessibility(phone)
    await _fits_the_phone(phone)

    await item.get_by_role("link", name=f"Let {name} post again").click()
    await phone.wait_for_url(f"**/officer/moderation/people/{person.id}/restore")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name="Let them post again").click()
    await phone.locator(".govuk-error-summary").wait_for()
    await expect(phone.locator("#reason-error")).to_contain_text("Say why they can post again")
    await check_accessibility(phone)
    await phone.get_by_label("Reason").fill("The adverts were for the council's own fair")
    await phone.get_by_role("button", name="Let them post again").click()
    await phone.wait_for_url("**/officer/moderation/suspended")
    await expect(phone.locator(".govuk-notification-banner__heading")).to_have_text("They can post again.")
    await expect(phone.locator(".app-queue__item", has_text=name)).to_have_count(0)
    await check_accessibility(phone)
    assert not (await User.get(id=person.id)).suspended
    assert (await mailbox.wait_for(person.email))[-1]["Subject"] == "You can post again"
