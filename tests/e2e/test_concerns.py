"""Journeys on a phone: a resident flags a concern (JavaScript on and off), an officer triages and refers it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from tortoise import timezone

from civic.concerns.models import Concern, Referral
from tests.e2e.conftest import PHONE, signin_in_browser
from tests.factories import create_concern_ok, create_team_ok, create_user_ok, postcode_in

DETAILS = "Jamie, who is about 12, has been waiting outside the flats until late most nights this week."


async def _continue(page, step: str) -> None:
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(re.compile(rf".*/concerns/new/{step}$"))


async def test_resident_flags_a_concern_and_an_officer_refers_it_on_a_phone(phone, chromium, live_server, e2e_council, check_accessibility):
    team = await create_team_ok(e2e_council, f"Early Help East {uuid.uuid4().hex[:4]}", default=True)
    older, _ = await create_concern_ok(e2e_council, urgency="week")
    await Concern.filter(id=older.id).update(created_at=timezone.now() - timedelta(days=2))

    await phone.goto("/concerns")
    assert await phone.get_by_role("heading", level=1).inner_text() == "Tell us you are worried about someone"
    assert "999" in await phone.locator(".app-emergency").inner_text()
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Start now").click()

    await phone.wait_for_url("**/concerns/new/about")
    await phone.get_by_role("button", name="Continue").click()  # nothing chosen: htmx swaps in the errors
    await phone.locator(".govuk-error-summary").wait_for()
    # As after a full reload: the title says so, and focus is on the summary, not lost with the button.
    assert (await phone.title()).startswith("Error: ")
    assert await phone.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    await check_accessibility(phone)
    await phone.get_by_label("A child I know").check()
    await _continue(phone, "category")
    await check_accessibility(phone)
    await phone.get_by_label("A child's wellbeing").check()
    await _continue(phone, "details")
    await check_accessibility(phone)
    await phone.get_by_label("What is worrying you?").fill(DETAILS)
    assert await phone.locator(".govuk-character-count__message").inner_text() == f"You have {1200 - len(DETAILS):,} characters remaining"
    await _continue(phone, "where")
    await check_accessibility(phone)
    await phone.get_by_label("Postcode (optional)").fill("SW1A 1AA")
    await phone.get_by_role("button", name="Continue").click()  # another council's area: said plainly, with where to go
    await phone.locator(".govuk-error-summary").wait_for()
    assert "SW1A 1AA is not in Eastbrook District Council's area" in await phone.locator(".govuk-error-summary").inner_text()
    assert await phone.get_by_role("link", name="find their council on GOV.UK").get_attribute("href") == "https://www.gov.uk/find-local-council"
    assert await phone.get_by_label("Postcode (optional)").input_value() == "SW1A 1AA"
    await check_accessibility(phone)
    await phone.get_by_label("Postcode (optional)").fill(postcode_in(e2e_council, "Castlefields"))
    await _continue(phone, "urgency")
    await check_accessibility(phone)
    await phone.get_by_label("Within a day").check()
    await _continue(phone, "knows")
    await check_accessibility(phone)
    await phone.get_by_label("No", exact=True).check()
    await _continue(phone, "contact")
    await check_accessibility(phone)
    await phone.get_by_label("No, I want to stay anonymous").check()
    await _continue(phone, "check")
    await check_accessibility(phone)
    assert DETAILS in await phone.locator(".govuk-summary-list").inner_text()
    await phone.get_by_role("button", name="Send").click()

    await phone.wait_for_url("**/concerns/status/**")
    reference = (await phone.locator(".app-reference").inner_text()).strip()
    status_url = await phone.locator('main a[href*="/concerns/status/"]').first.get_attribute("href")
    assert await phone.locator("#concern-status").inner_text() == "Received"
    assert "within a day" in await phone.locator("main").inner_text()
    await check_accessibility(phone)

    officer = await create_user_ok(e2e_council, role="officer", display_name="Olu Officer")
    context = await chromium.new_context(viewport=PHONE, base_url=live_server, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        desk = await context.new_page()
        await signin_in_browser(desk, live_server, officer)
        await desk.goto("/officer/concerns")
        await check_accessibility(desk)
        titles = desk.locator(".app-queue__title")
        assert (await titles.first.inner_text()).startswith(reference)  # most urgent first
        assert older.reference in await desk.locator(".app-queue").inner_text()
        await titles.first.get_by_role("link").click()

        await desk.wait_for_url(f"**/officer/concerns/{reference}")
        assert await desk.locator("#concern-details").inner_text() == DETAILS
        await check_accessibility(desk)
        await desk.locator("summary", has_text="Assign to a team").click()
        await desk.get_by_label("Team", exact=True).select_option(label=team.name)
        await desk.get_by_role("button", name="Assign").click()
        await desk.get_by_text("Assigned.").wait_for()

        await desk.locator("summary", has_text="Add an internal note").click()
        await desk.get_by_label("Note", exact=True).fill("Checked with the school: not known to them.")
        await desk.get_by_role("button", name="Add note").click()
        await desk.get_by_text("Note added.").wait_for()

        await desk.locator("summary", has_text="Refer to early help").click()
        await check_accessibility(desk)  # the teams, each with what would stop a referral reaching it
        await desk.get_by_role("button", name="Refer to early help").click()
        await desk.get_by_text("Referred to early help.").wait_for()
        assert await desk.locator("#concern-status").inner_text() == "Referred to early help"
        for summary in await desk.locator("details summary").all():
            await summary.click()  # open every action, so axe sees every form
        await check_accessibility(desk)
    finally:
        await context.close()

    referral = await Referral.get(concern__reference=reference).prefetch_related("team")
    assert referral.team.id == team.id
    await phone.goto(status_url)
    assert await phone.locator("#concern-status").inner_text() == "Passed to the early help team"
    await check_accessibility(phone)


async def test_a_form_sent_after_its_token_expired_says_so_with_javascript_on(phone, live_server, e2e_council, check_accessibility):
    # htmx did not swap the 403: the button did nothing, and the report looked lost.
    await phone.goto("/concerns/new/about")
    await phone.context.clear_cookies()  # as when a phone's browser drops them
    await phone.get_by_label("Myself").check()
    await phone.get_by_role("button", name="Continue").click()
    await phone.get_by_role("heading", level=1, name="This form has expired").wait_for()
    assert (await phone.title()).startswith("This form has expired")
    assert await phone.get_by_role("link", name="Go back to the form").get_attribute("href") == "/concerns/new/about"
    await check_accessibility(phone)


async def test_resident_flags_a_concern_without_javascript(phone_without_js, live_server, e2e_council, mailbox):
    page = phone_without_js
    email = f"nojs-{uuid.uuid4().hex[:8]}@example.test"
    await page.goto("/concerns")
    await page.get_by_role("button", name="Start now").click()
    await page.wait_for_url("**/concerns/new/about")
    await page.get_by_label("A neighbour").check()
    await page.get_by_label("Name of the person you are worried about (optional)").fill("Mrs Ellis")
    await _continue(page, "category")
    await page.get_by_label("Isolation or loneliness").check()
    await _continue(page, "details")
    await page.get_by_label("What is worrying you?").fill("x" * 1300)
    await page.get_by_role("button", name="Continue").click()  # too long: the page comes back with what was typed
    await page.locator(".govuk-error-summary").wait_for()
    assert len(await page.get_by_label("What is worrying you?").input_value()) == 1300
    await page.get_by_label("What is worrying you?").fill("Her curtains have been closed for a week and the milk is piling up.")
    await _continue(page, "where")
    await page.get_by_label("Postcode (optional)").fill("sw1a 1aa")
    await page.get_by_role("button", name="Continue").click()  # elsewhere: the page comes back with what was typed
    await page.locator(".govuk-error-summary").wait_for()
    assert await page.get_by_label("Postcode (optional)").input_value() == "sw1a 1aa"
    assert await page.get_by_role("link", name="find their council on GOV.UK").count() == 1
    await page.get_by_label("Postcode (optional)").fill("by the shops")
    await page.get_by_role("button", name="Continue").click()  # neither a postcode nor its first part
    await page.locator(".govuk-error-summary").wait_for()
    assert "Enter a postcode, like NM1 4AB, or its first part, like NM1 4 or NM1, or leave it blank" in await page.locator("#postcode-error").inner_text()
    assert await page.get_by_label("Postcode (optional)").input_value() == "by the shops"
    sector = postcode_in(e2e_council, "Castlefields")[:-2]
    await page.get_by_label("Postcode (optional)").fill(sector.lower())  # only the first part, as the hint offers
    await _continue(page, "urgency")
    await page.get_by_label("When you can").check()
    await _continue(page, "knows")
    await page.get_by_label("I'm not sure").check()
    await _continue(page, "contact")
    await page.get_by_label("Yes, by email").check()
    await page.get_by_label("Email address (if you chose email)").fill(email)
    await _continue(page, "check")
    await page.get_by_role("button", name="Send").click()

    await page.wait_for_url("**/concerns/status/**")
    reference = (await page.locator(".app-reference").inner_text()).strip()
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", reference)
    assert await page.locator("#concern-status").inner_text() == "Received"
    status_url = await page.locator('main a[href*="/concerns/status/"]').first.get_attribute("href")
    message = (await mailbox.wait_for(email))[-1]
    assert status_url in mailbox.body(message)
    await page.goto(status_url)
    assert await page.locator("#concern-status").inner_text() == "Received"
    concern = await Concern.get(reference=reference).prefetch_related("ward")
    assert concern.postcode == sector and concern.ward.name == "Castlefields"


NEUTRAL_SITE = "https://www.bbc.co.uk/weather"


async def _neutral_site(page) -> None:
    """Answer for the neutral site here: the tests do not reach the internet."""
    await page.route(f"{NEUTRAL_SITE}*", lambda route: route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>"))


async def test_exit_this_page_leaves_at_once_and_out_of_the_history(phone, check_accessibility):
    await _neutral_site(phone)
    await phone.goto("/")
    await phone.goto("/concerns")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Start now").click()
    await phone.wait_for_url("**/concerns/new/about")
    await phone.get_by_label("Myself").check()
    await phone.get_by_role("button", name="Continue").click()
    await phone.wait_for_url("**/concerns/new/category")
    await phone.get_by_role("button", name="Emergency Exit this page").click()
    await phone.wait_for_url(NEUTRAL_SITE)
    await phone.go_back()  # the page they left was replaced by the neutral site: Back goes to the one before it
    assert phone.url.endswith("/concerns/new/about")


async def test_pressing_shift_three_times_exits(phone):
    await _neutral_site(phone)
    await phone.goto("/concerns")
    for _ in range(3):
        await phone.keyboard.press("Shift")
    await phone.wait_for_url(NEUTRAL_SITE)


async def test_exit_this_page_is_a_plain_link_without_javascript(phone_without_js):
    await _neutral_site(phone_without_js)
    await phone_without_js.goto("/concerns")
    await phone_without_js.get_by_role("button", name="Emergency Exit this page").click()
    await phone_without_js.wait_for_url(NEUTRAL_SITE)
