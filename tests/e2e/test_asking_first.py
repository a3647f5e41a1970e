"""Pages that ask before something cannot be undone, and the pages around them, on a 360×740 phone with axe-core.

Inviting a co-organiser and accepting, or finding the invitation lapsed and sending it again, changing and deleting news, the confirmation pages for removing
someone, stepping down and stopping a shift, deleting an account and changing its address, and
publishing a round's results.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from playwright.async_api import expect
from tortoise import timezone

from civic.accounts import User
from civic.schemes.models import INVITATION_LIFETIME, Membership, NewsPost, OrganiserInvitation
from civic.voting.models import Round
from tests.e2e.conftest import signin_in_browser
from tests.factories import create_post_ok, create_round_ok, create_scheme_ok, create_shift_ok, create_user_ok, create_volunteer_ok, organiser_of, vote_ok


async def test_an_organiser_invites_a_co_organiser_who_accepts_on_a_phone(chromium, phone, live_server, e2e_council, check_accessibility):
    scheme = await create_scheme_ok(e2e_council, name=f"Lunch club {uuid.uuid4().hex[:6]}")
    organiser = await organiser_of(scheme)
    invited = await create_user_ok(e2e_council, display_name="Iwan Invited")
    await signin_in_browser(phone, live_server, organiser)
    await phone.goto(f"/schemes/{scheme.slug}/organisers")
    await check_accessibility(phone)
    await phone.get_by_label("Email address").fill(invited.email)
    await phone.get_by_role("button", name="Send invitation").click()
    await expect(phone.locator("main")).to_contain_text(invited.email)
    await check_accessibility(phone)
    assert not await Membership.filter(scheme=scheme, user=invited, role="organiser").exists()  # invited is not yet an organiser

    context = await chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    try:
        theirs = await context.new_page()
        await signin_in_browser(theirs, live_server, invited)
        await theirs.goto(f"/schemes/{scheme.slug}/invitation")
        await check_accessibility(theirs)
        await theirs.get_by_role("button", name="Accept and become an organiser").click()
        await theirs.wait_for_url(lambda url: not url.endswith("/invitation"))
        await check_accessibility(theirs)
    finally:
        await context.close()
    assert await Membership.filter(scheme=scheme, user=invited, role="organiser", status="active").exists()

    # Stepping down asks first; so does removing a volunteer.
    mine = await Membership.get(scheme=scheme, user=invited)
    await phone.goto(f"/schemes/{scheme.slug}/organisers/{mine.id}/remove")
    await check_accessibility(phone)
    volunteer = await create_volunteer_ok(scheme, await create_user_ok(e2e_council, display_name="Val Volunteer"))
    await phone.goto(f"/schemes/{scheme.slug}/people/{volunteer.id}/remove")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Are you sure you want to remove Val Volunteer from the scheme?")
    await check_accessibility(phone)
    await phone.get_by_role("link", name="Cancel").click()
    await phone.wait_for_url(lambda url: not url.endswith("/remove"))
    assert (await Membership.get(id=volunteer.id)).status == "active"


async def test_a_lapsed_invitation_says_so_on_a_phone_and_the_organiser_sends_it_again(chromium, phone, live_server, e2e_council, check_accessibility):
    scheme = await create_scheme_ok(e2e_council, name=f"Lunch club {uuid.uuid4().hex[:6]}")
    organiser = await organiser_of(scheme)
    invited = await create_user_ok(e2e_council, display_name="Lena Late")
    await OrganiserInvitation.create(council=e2e_council, scheme=scheme, email=invited.email, invited_by=organiser)
    await OrganiserInvitation.filter(scheme=scheme).update(created_at=timezone.now() - INVITATION_LIFETIME - timedelta(days=2))

    context = await chromium.new_context(viewport={"width": 360, "height": 740}, base_url=live_server)
    try:
        theirs = await context.new_page()
        await signin_in_browser(theirs, live_server, invited)
        await theirs.goto(f"/schemes/{scheme.slug}/invitation")
        await expect(theirs.get_by_role("heading", level=1)).to_have_text("This invitation has lapsed")
        await expect(theirs.locator("#ask-again")).to_contain_text(f"Ask {organiser} to invite you again.")
        await check_accessibility(theirs)
    finally:
        await context.close()

    await signin_in_browser(phone, live_server, organiser)
    await phone.goto(f"/schemes/{scheme.slug}/organisers")
    await expect(phone.locator("#invitations .govuk-tag")).to_have_text("Lapsed")
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await check_accessibility(phone)
    await phone.get_by_role("button", name=f"Send again to {invited.email}").click()
    await expect(phone.locator(".govuk-notification-banner")).to_contain_text(f"We have emailed {invited.email} an invitation")
    await expect(phone.locator("#invitations .govuk-tag")).to_have_count(0)
    await check_accessibility(phone)
    assert await OrganiserInvitation.filter(scheme=scheme, status="pending").count() == 1


async def test_an_organiser_changes_and_deletes_news_and_stops_a_shift_after_being_asked(phone, live_server, e2e_council, check_accessibility):
    scheme = await create_scheme_ok(e2e_council, name=f"Pantry {uuid.uuid4().hex[:6]}")
    organiser = await organiser_of(scheme)
    post = await create_post_ok(scheme, title="Open on Monday")
    shift = await create_shift_ok(scheme, title="Sorting the shelves", repeat="weekly")
    await signin_in_browser(phone, live_server, organiser)

    await phone.goto(f"/schemes/{scheme.slug}/news/{post.id}/edit")
    await check_accessibility(phone)
    await phone.get_by_label("Title").fill("Open on Tuesday")
    await phone.get_by_role("button", name="Save changes").click()
    await phone.wait_for_url(lambda url: not url.endswith("/edit"))
    assert (await NewsPost.get(id=post.id)).title == "Open on Tuesday"
    await phone.goto(f"/schemes/{scheme.slug}/news/{post.id}/delete")
    await check_accessibility(phone)
    await phone.locator("main form button.govuk-button--warning").click()
    await phone.wait_for_url(lambda url: not url.endswith("/delete"))
    assert not await NewsPost.filter(id=post.id).exists()

    await phone.goto(f"/schemes/{scheme.slug}/shifts/{shift.id}/stop")
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Are you sure you want to stop Sorting the shelves?")
    await check_accessibility(phone)


async def test_a_resident_changes_their_address_and_reads_what_deleting_their_account_means(phone, live_server, e2e_council, check_accessibility):
    resident = await create_user_ok(e2e_council, display_name="Rhian Resident")
    await signin_in_browser(phone, live_server, resident)
    await phone.goto("/account")
    await check_accessibility(phone)
    await phone.goto("/account/email")
    await check_accessibility(phone)
    await phone.get_by_role("button").filter(has_text="Send").first.click()  # empty: a message by the field
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    await phone.goto("/account/delete")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Delete your account").click()
    await phone.wait_for_url("**/account/deleted")
    await check_accessibility(phone)
    assert not await User.filter(id=resident.id).exists()


async def test_signing_in_to_vote_says_why_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    round_ = await create_round_ok(e2e_council, title=f"Roads {uuid.uuid4().hex[:6]}")
    await phone.goto(f"/signin?next=/rounds/{round_.id}/ballot")
    await expect(phone.locator("main")).to_contain_text("Sign in to vote")
    await check_accessibility(phone)


async def test_an_officer_confirms_before_publishing_results_and_a_voter_sees_their_shares_on_a_phone(phone, live_server, e2e_council, check_accessibility):
    officer = await create_user_ok(e2e_council, role="officer")
    round_ = await create_round_ok(e2e_council, officer=officer, title=f"Parks {uuid.uuid4().hex[:6]}")
    await vote_ok(e2e_council, round_, await create_user_ok(e2e_council), 70, 30)
    from civic import voting

    await voting.close_round(officer, e2e_council, round_.id)
    await signin_in_browser(phone, live_server, officer)
    await phone.goto(f"/officer/rounds/{round_.id}")
    await phone.get_by_role("button", name="Publish the results").click()
    await phone.wait_for_url(f"**/officer/rounds/{round_.id}/publish")
    await expect(phone.get_by_role("heading", level=1)).to_have_text(f"Publish the results of {round_.title}?")
    await check_accessibility(phone)
    assert (await Round.get(id=round_.id)).status == "closed"
    await phone.get_by_role("button", name="Publish the results").click()
    await phone.wait_for_url(f"**/rounds/{round_.id}/results")
    assert (await Round.get(id=round_.id)).status == "published"
    await check_accessibility(phone)
