"""Journeys through sign-in and the officer pages on a phone, checked with axe-core."""

from __future__ import annotations

import re
import uuid

from civic.accounts import User
from tests.e2e.conftest import signin_in_browser
from tests.factories import create_user_ok, postcode_in


async def test_resident_signs_in_by_emailed_link_on_a_phone(phone, live_server, mailbox, e2e_council, check_accessibility):
    email = f"phone-{uuid.uuid4().hex[:8]}@example.test"
    await phone.goto("/")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Menu").click()
    await phone.get_by_role("link", name="Sign in").first.click()
    await check_accessibility(phone)
    await phone.get_by_label("Email address").fill(email)
    await phone.get_by_role("button", name="Email me a link").click()
    await phone.wait_for_url("**/signin/check-email")
    assert await phone.get_by_role("heading", level=1).inner_text() == "Check your email"

    message = (await mailbox.wait_for(email))[-1]
    link = re.search(r"(http://\S+/signin/link/\S+)", mailbox.body(message)).group(1)  # type: ignore[union-attr]
    await phone.goto(link)
    await phone.get_by_role("button", name="Sign in").click()
    await phone.wait_for_url("**/welcome**")
    await check_accessibility(phone)

    await phone.get_by_role("button", name="Continue").click()  # empty: errors shown by the fields
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    await phone.get_by_label("Your name").fill("Dewi Lloyd")
    await phone.get_by_label("Postcode").fill(postcode_in(e2e_council, "Castlefields").lower())
    await phone.get_by_role("button", name="Continue").click()
    await phone.wait_for_url(live_server + "/")
    assert "Castlefields" in await phone.locator(".govuk-notification-banner").inner_text()
    user = await User.get(email=email).prefetch_related("ward")
    assert user.ward.name == "Castlefields"


async def test_sign_in_works_without_javascript(phone_without_js, live_server, mailbox):
    email = f"nojs-{uuid.uuid4().hex[:8]}@example.test"
    await phone_without_js.goto("/signin")
    await phone_without_js.get_by_label("Email address").fill(email)
    await phone_without_js.get_by_role("button", name="Email me a link").click()
    await phone_without_js.wait_for_url("**/signin/check-email")
    link = re.search(r"(http://\S+/signin/link/\S+)", mailbox.body((await mailbox.wait_for(email))[-1])).group(1)  # type: ignore[union-attr]
    await phone_without_js.goto(link)
    await phone_without_js.get_by_role("button", name="Sign in").click()
    await phone_without_js.wait_for_url("**/welcome**")


async def test_officer_and_admin_pages_are_accessible_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    admin = await create_user_ok(e2e_council, role="admin", display_name="Ada Admin")
    await create_user_ok(e2e_council, role="officer")
    await signin_in_browser(phone, live_server, admin)
    await phone.goto("/officer")
    assert await phone.get_by_role("heading", level=1).inner_text() == "Officer home"
    await check_accessibility(phone)
    await phone.goto("/admin/roles")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Give role").click()
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    await phone.goto("/account")
    await check_accessibility(phone)


async def test_the_roles_and_concern_counts_tables_fit_a_phone(phone, live_server, e2e_council, check_accessibility):
    from tests.factories import create_concern_ok, ward

    admin = await create_user_ok(e2e_council, role="admin", display_name="Ada Admin")
    key_worker = await create_user_ok(e2e_council, role="key-worker", email=f"keyworker-{uuid.uuid4().hex[:8]}@a-rather-long-domain-name.example.test")
    for category in ("leaving-home", "caring", "isolation"):
        await create_concern_ok(e2e_council, category=category, ward=await ward(e2e_council, "Harbourside"))
    await signin_in_browser(phone, live_server, admin)
    await phone.goto("/admin/roles")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await check_accessibility(phone)
    # Each Remove link sits under the role it removes, inside the screen, and asks before it acts.
    link = phone.get_by_role("link", name=f"Remove early-help key worker role from {key_worker.email}")
    box = await link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360
    await link.click()
    await phone.wait_for_url("**/revoke")
    assert "Are you sure" in await phone.get_by_role("heading", level=1).inner_text()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Remove early-help key worker role").click()
    await phone.get_by_text("Role removed.").wait_for()

    await phone.goto("/officer/concerns/counts")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await check_accessibility(phone)


async def test_the_very_busy_page_reads_well_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    # Served only past capacity (AdmissionMiddleware), so the browser is handed the page as the
    # middleware renders it, at an address on the live server so that its stylesheet loads.
    from routes.middleware import busy_page

    body = busy_page(e2e_council)
    await phone.route("**/very-busy-check", lambda route: route.fulfill(status=503, body=body, content_type="text/html; charset=utf-8"))
    response = await phone.goto("/very-busy-check")
    assert response.status == 503
    assert await phone.locator("h1").inner_text() == "Very busy right now"
    assert await phone.evaluate("getComputedStyle(document.querySelector('h1')).fontWeight") == "700"  # civic.css loaded
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await check_accessibility(phone)



async def test_officer_sends_again_an_e_mail_the_relay_refused(phone, phone_without_js, live_server, e2e_council, check_accessibility, mailbox):
    from civic import mail
    from civic.mail import OutgoingEmail

    address = f"volunteer-{uuid.uuid4().hex[:8]}@a-rather-long-domain-name-for-a-small-phone.example.test"
    row = await mail.queue(address, "Reminder: Tuesday lunch club, 11am tomorrow", "See you at 11.", council_id=e2e_council.id)
    await OutgoingEmail.filter(id=row.id).update(status="failed", attempts=9, last_error="(421, 'Service not available, closing transmission channel')")
    officer = await create_user_ok(e2e_council, role="officer")
    await signin_in_browser(phone, live_server, officer)
    await phone.goto("/officer")
    await phone.get_by_role("link", name="Email delivery").click()
    await phone.wait_for_url("**/officer/email")
    item = phone.locator(f"#email-{row.id}")
    assert "Service not available" in await item.inner_text()
    await check_accessibility(phone)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360

    # The button is a plain form: it works with JavaScript off.
    page = phone_without_js
    await signin_in_browser(page, live_server, officer)
    await page.goto("/officer/email")
    await page.locator(f"#email-{row.id}").get_by_role("button", name="Send again").click()
    await page.wait_for_url("**/officer/email")
    assert "1 email will be sent again" in await page.locator(".govuk-notification-banner__heading").inner_text()
    assert await page.locator(f"#email-{row.id}").count() == 0
    assert (await mailbox.wait_for(address))[-1]["Subject"] == "Reminder: Tuesday lunch club, 11am tomorrow"
