"""Journeys through shareholder voting on a phone: spending shares, receipts, results, and the officers' pages."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from civic import voting
from civic.voting.models import Allocation, Ballot, Round
from tests.e2e.conftest import signin_in_browser
from tests.factories import create_round_ok, create_user_ok, priorities_of, vote_ok, ward


async def test_a_resident_spends_shares_saves_changes_and_later_finds_their_ballot_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    officer = await create_user_ok(e2e_council, role="officer")
    round_ = await create_round_ok(e2e_council, officer=officer, priorities=4, title=f"Parks {uuid.uuid4().hex[:6]}", max_shares_per_priority="60")
    resident = await create_user_ok(e2e_council)
    await signin_in_browser(phone, live_server, resident)

    await phone.goto("/rounds")
    await check_accessibility(phone)
    await phone.get_by_role("link", name=round_.title).click()
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Vote now").click()
    await phone.wait_for_url(f"**/rounds/{round_.id}/ballot")
    left = phone.locator("#shares-left")
    await expect(left).to_have_text("100 shares left of 100")
    await check_accessibility(phone)

    more = phone.get_by_role("button", name="One share more for Priority 1")
    for _ in range(3):
        await more.click()
    await expect(phone.get_by_label("Priority 1")).to_have_value("3")
    await expect(left).to_have_text("97 shares left of 100")
    await phone.get_by_role("button", name="One share fewer for Priority 1").click()
    await expect(left).to_have_text("98 shares left of 100")
    await phone.get_by_label("Priority 2").fill("58")
    await expect(left).to_have_text("40 shares left of 100")
    await phone.get_by_label("Priority 3").fill("70")
    await expect(left).to_have_text("30 shares too many: take some off")
    await phone.get_by_role("button", name="Save my ballot").first.click()
    await phone.locator(".govuk-error-summary").wait_for()  # 70 is over the cap of 60 and the total is over 100
    await check_accessibility(phone)
    await phone.get_by_label("Priority 3").fill("40")
    await expect(left).to_have_text("0 shares left of 100")
    await phone.get_by_role("button", name="Save my ballot").first.click()
    await phone.wait_for_url("**/ballot/receipt")
    await check_accessibility(phone)
    first_receipt = await phone.locator(".app-receipt-code").inner_text()

    await phone.get_by_role("link", name="change your ballot").click()
    await expect(phone.get_by_label("Priority 2")).to_have_value("58")
    await phone.get_by_label("Priority 2").fill("8")
    await expect(left).to_have_text("50 shares left of 100")
    await phone.get_by_role("button", name="Save my ballot").first.click()
    # Shares left over are not counted: the voter is asked before the ballot is saved.
    await expect(phone.locator("#shares-unused")).to_contain_text("you have 50 shares left")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Save with 50 shares unused").click()
    await phone.wait_for_url("**/ballot/receipt")
    receipt = await phone.locator(".app-receipt-code").inner_text()
    assert receipt != first_receipt
    ballot = await Ballot.get(round=round_, voter=resident)
    p = await priorities_of(round_)
    assert {a.priority_id: a.shares for a in await Allocation.filter(ballot=ballot)} == {p[0].id: 2, p[1].id: 8, p[2].id: 40}

    await voting.close_round(officer, e2e_council, round_.id)
    await voting.publish_results(officer, e2e_council, round_.id)
    await phone.goto(f"/rounds/{round_.id}/results")
    await expect(phone.locator("#ballot-count")).to_have_text("1")
    await check_accessibility(phone)
    await phone.get_by_role("link", name="Every ballot, without names").click()
    await phone.get_by_label("Your receipt code").fill(receipt)
    await phone.get_by_role("button", name="Find my ballot").click()
    await expect(phone.locator("#found .app-receipt-hash")).to_have_text(voting.receipt_hash(round_.id, receipt)[:12])
    await check_accessibility(phone)


async def test_the_same_ballot_works_with_javascript_off(phone_without_js, live_server, e2e_council):
    page = phone_without_js
    round_ = await create_round_ok(e2e_council, priorities=3, title=f"Libraries {uuid.uuid4().hex[:6]}")
    resident = await create_user_ok(e2e_council)
    await signin_in_browser(page, live_server, resident)
    await page.goto(f"/rounds/{round_.id}/ballot")
    await page.get_by_role("button", name="One share more for Priority 1").click()  # a real submit: the server adds one
    await expect(page.get_by_label("Priority 1")).to_have_value("1")
    p = await priorities_of(round_)
    assert page.url.endswith(f"/rounds/{round_.id}/ballot#priority-{p[0].id}")  # the page comes back at that priority
    await page.get_by_role("button", name="One share more for Priority 3").click()
    await expect(page.get_by_label("Priority 3")).to_have_value("1")
    assert page.url.endswith(f"#priority-{p[2].id}")
    assert await page.evaluate("window.scrollY") > 0  # scrolled down to it, not back at the top
    await page.get_by_role("button", name="One share fewer for Priority 3").click()
    await expect(page.get_by_label("Priority 3")).to_have_value("0")
    await expect(page.locator("#shares-left")).to_have_text("99 shares left of 100")
    await expect(page.get_by_role("status")).to_contain_text("Not saved yet")
    assert not await Ballot.filter(round=round_).exists()
    await page.get_by_label("Priority 2").fill("60")
    await page.get_by_label("Priority 2").press("Enter")  # Enter presses the first submit button: Save, not −
    await expect(page.locator("#shares-unused")).to_contain_text("you have 39 shares left")
    await page.get_by_label("Priority 2").press("Enter")  # still Save: it asks again rather than saving shares unused
    await expect(page.locator("#shares-unused")).to_contain_text("you have 39 shares left")
    assert not await Ballot.filter(round=round_).exists()
    await page.get_by_role("button", name="Save with 39 shares unused").click()
    await page.wait_for_url("**/ballot/receipt")
    ballot = await Ballot.get(round=round_, voter=resident)
    assert {a.priority_id: a.shares for a in await Allocation.filter(ballot=ballot)} == {p[0].id: 1, p[1].id: 60}


async def test_round_admin_pages_are_accessible_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    officer = await create_user_ok(e2e_council, role="officer")
    await signin_in_browser(phone, live_server, officer)
    draft = await create_round_ok(e2e_council, officer=officer, status="draft", title=f"Draft {uuid.uuid4().hex[:6]}", priorities=1)
    codes = await create_round_ok(e2e_council, officer=officer, eligibility="codes", title=f"Codes {uuid.uuid4().hex[:6]}")
    batch = await voting.generate_codes(officer, e2e_council, codes.id, {"size": "4", "label": "Test batch", "batch_ward": str((await ward(e2e_council, "Abbey")).id)})
    published = await create_round_ok(e2e_council, officer=officer, status="published", title=f"Done {uuid.uuid4().hex[:6]}")

    await phone.goto("/officer/rounds")
    await check_accessibility(phone)
    await phone.goto("/officer/rounds/new")
    await phone.get_by_role("button", name="Create the draft round").click()
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    await phone.goto(f"/officer/rounds/{draft.id}")
    await phone.get_by_role("button", name="Open voting now").click()
    await expect(phone.locator("#open-error")).to_contain_text("Add at least two priorities")
    await check_accessibility(phone)
    await phone.goto(f"/officer/rounds/{codes.id}")
    await expect(phone.locator(".app-batch-ward")).to_have_text("Ward: Abbey")
    await check_accessibility(phone)
    await phone.goto(f"/officer/rounds/{codes.id}/codes/{batch.id}")
    await check_accessibility(phone)
    await phone.goto(f"/officer/rounds/{codes.id}/paper")
    await check_accessibility(phone)
    await phone.goto(f"/officer/rounds/{published.id}")
    await check_accessibility(phone)
    await phone.goto("/officer/rounds/import")
    await check_accessibility(phone)
    await phone.goto("/officer/rounds/identity")
    await check_accessibility(phone)


async def test_an_officer_confirms_before_closing_voting_early_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    officer = await create_user_ok(e2e_council, role="officer")
    round_ = await create_round_ok(e2e_council, officer=officer, title=f"Roads {uuid.uuid4().hex[:6]}", closes_at="2099-05-01T17:00")
    await vote_ok(e2e_council, round_, await create_user_ok(e2e_council), 70, 30)
    await signin_in_browser(phone, live_server, officer)

    await phone.goto(f"/officer/rounds/{round_.id}")
    await phone.get_by_role("button", name="Close voting now").click()
    await phone.wait_for_url(f"**/officer/rounds/{round_.id}/close")
    await expect(phone.get_by_role("heading", level=1)).to_have_text(f"Close voting in {round_.title} now?")
    await expect(phone.locator("#ballot-count")).to_have_text("1 ballot has been cast so far.")
    await check_accessibility(phone)
    await phone.get_by_role("link", name="Cancel").click()
    await phone.wait_for_url(f"**/officer/rounds/{round_.id}")
    assert (await Round.get(id=round_.id)).status == "open"

    await phone.get_by_role("button", name="Close voting now").click()
    await phone.wait_for_url(f"**/officer/rounds/{round_.id}/close")
    await phone.get_by_role("button", name="Close voting now").click()
    await phone.wait_for_url(f"**/officer/rounds/{round_.id}")
    await expect(phone.locator(".govuk-notification-banner__heading")).to_have_text("Voting has closed. Publish the results when you are ready.")
    assert (await Round.get(id=round_.id)).status == "closed"
    await check_accessibility(phone)
