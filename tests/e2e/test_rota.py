"""Journeys through running a scheme on a 360×740 phone: asking for help, matching a pair, volunteering and the rota."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

from playwright.async_api import expect

from civic.schemes.models import Scheme
from civic.schemes.when import today
from tests.e2e.conftest import signin_in_browser
from tests.factories import create_scheme_ok, create_shift_ok, create_user_ok, create_volunteer_ok, organiser_of, postcode_in


async def _fits_the_phone(page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360


async def _as(page, live_server, user) -> None:
    await page.context.clear_cookies()
    await signin_in_browser(page, live_server, user)


def _link(mailbox, message) -> str:
    return re.search(r"(http://\S+)", mailbox.body(message)).group(1)  # type: ignore[union-attr]


async def test_the_address_is_asked_for_only_when_someone_comes_to_the_home(phone, phone_without_js, live_server, e2e_council, check_accessibility):
    tag = uuid.uuid4().hex[:6]
    scheme = await create_scheme_ok(e2e_council, name=f"Phone friends {tag}", categories=["befriending"])
    requester = await create_user_ok(e2e_council, display_name="Maud Jenkins")
    await _as(phone, live_server, requester)
    await phone.goto(f"/schemes/{scheme.slug}/ask")
    house, street = phone.get_by_label("House number or name, and flat"), phone.get_by_label("Street")
    visit = phone.get_by_role("group", name="Does someone need to come to your home?")
    await expect(house).to_be_hidden()  # no answer yet
    await visit.get_by_label("Yes").check()
    await expect(house).to_be_visible()
    await expect(street).to_be_visible()
    await expect(phone.locator("#home-address-why")).to_contain_text("The organisers see it.")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await visit.get_by_label("No").check()
    await expect(house).to_be_hidden()

    await phone.get_by_label("What do you need help with?").fill("A weekly phone call")
    await phone.get_by_role("button", name="Send my request").click()  # htmx brings the form back with its errors
    await expect(phone.locator(".govuk-error-summary")).to_be_visible()
    assert "Enter your street" not in await phone.locator(".govuk-error-summary").inner_text()
    await expect(phone.get_by_label("What do you need help with?")).to_have_value("A weekly phone call")
    await expect(house).to_be_hidden()
    await check_accessibility(phone)
    await phone.get_by_label("When do you need help?").fill("Thursday evenings")
    await phone.get_by_role("group", name="How should the organisers contact you?").get_by_label("By email").check()
    await phone.get_by_role("button", name="Send my request").click()
    await phone.wait_for_url(re.compile(r"/help-requests/\d+$"))

    # Without JavaScript the same CSS shows the address once "Yes" is chosen and sent back.
    await _as(phone_without_js, live_server, requester)
    await phone_without_js.goto(f"/schemes/{scheme.slug}/ask")
    await phone_without_js.get_by_role("group", name="Does someone need to come to your home?").get_by_label("Yes").check()
    await expect(phone_without_js.get_by_label("House number or name, and flat")).to_be_visible()
    await phone_without_js.get_by_role("button", name="Send my request").click()
    await expect(phone_without_js.locator(".govuk-error-summary")).to_contain_text("Enter your street")
    await expect(phone_without_js.get_by_label("Street")).to_be_visible()


async def test_a_resident_asks_a_befriending_scheme_for_help_and_a_pair_of_volunteers_is_matched(phone, live_server, e2e_council, mailbox, check_accessibility):
    tag = uuid.uuid4().hex[:6]
    scheme = await create_scheme_ok(e2e_council, name=f"Befriending {tag}", categories=["befriending"])
    await Scheme.filter(id=scheme.id).update(visit_in_pairs=True)
    organiser = await organiser_of(scheme)
    zofia = await create_volunteer_ok(scheme, user=await create_user_ok(e2e_council, display_name=f"Zofia {tag}"))
    kwame = await create_volunteer_ok(scheme, user=await create_user_ok(e2e_council, display_name=f"Kwame {tag}"))
    requester = await create_user_ok(e2e_council, display_name="Maud Jenkins")

    # The resident asks for help from the scheme's page.
    await _as(phone, live_server, requester)
    await phone.goto(f"/schemes/{scheme.slug}")
    await phone.get_by_role("link", name="Ask for help").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/ask")
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Send my request").click()
    await phone.locator(".govuk-error-summary").wait_for()
    await check_accessibility(phone)
    await phone.get_by_label("What do you need help with?").fill("A weekly chat over a cup of tea")
    await phone.get_by_label("When do you need help?").fill("Tuesday mornings")
    await phone.get_by_role("group", name="Does someone need to come to your home?").get_by_label("Yes").check()
    await phone.get_by_label("House number or name, and flat").fill("Flat 2, 14")
    await phone.get_by_label("Street").fill(f"Mill Lane {tag}")
    await phone.get_by_label("Postcode").fill(postcode_in(e2e_council))
    await phone.get_by_role("group", name="How should the organisers contact you?").get_by_label("By email").check()
    await phone.get_by_role("button", name="Send my request").click()
    await phone.wait_for_url(re.compile(r"/help-requests/\d+$"))
    requester_page = phone.url
    await expect(phone.locator("#status")).to_have_text("Open")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    assert (await mailbox.wait_for(requester.email))[0]["Subject"] == f"Your request for help from {scheme.name}"
    [told] = await mailbox.wait_for(organiser.email)

    # The organiser opens it from the e-mail and matches two volunteers: the scheme visits in pairs.
    await _as(phone, live_server, organiser)
    await phone.goto(_link(mailbox, told))
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Request from Maud")
    await check_accessibility(phone)
    await phone.get_by_label(f"Zofia {tag}").check()
    await phone.get_by_role("button", name="Match and tell them").click()
    await expect(phone.locator(".govuk-error-summary")).to_contain_text("in pairs: choose two volunteers")
    await phone.get_by_label(f"Kwame {tag}").check()
    await phone.get_by_role("button", name="Match and tell them").click()
    # The scheme asks for no DBS check, and neither has one: matching them to a home visit needs a confirmation.
    await expect(phone.locator("#confirm_unchecked-error")).to_contain_text(f"Zofia {tag} has no DBS check recorded")
    await expect(phone.get_by_label(f"Kwame {tag}")).to_be_checked()
    await check_accessibility(phone)
    await phone.get_by_label("I have checked that it is safe").check()
    await phone.get_by_role("button", name="Match and tell them").click()
    await expect(phone.locator(".govuk-notification-banner")).to_contain_text("Matched")
    await expect(phone.locator("#status")).to_have_text("Matched")
    await phone.goto(f"/schemes/{scheme.slug}/requests")
    await check_accessibility(phone)

    # Each volunteer is asked by e-mail; Zofia sees only what the job needs, accepts, then sees the address.
    [asked] = await mailbox.wait_for(zofia.user.email)
    await mailbox.wait_for(kwame.user.email)
    await _as(phone, live_server, zofia.user)
    await phone.goto(_link(mailbox, asked))
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Help Maud")
    job = await phone.locator("#job").inner_text()
    assert f"Mill Lane {tag}" in job and "Tuesday mornings" in job and "A weekly chat" in job and "With\nKwame" in job
    assert "Flat 2" not in job and postcode_in(e2e_council) not in job and requester.email not in await phone.content()
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name="Accept the job").click()
    await expect(phone.locator("#where")).to_contain_text(f"Flat 2, 14, Mill Lane {tag}, {postcode_in(e2e_council)}")
    await check_accessibility(phone)
    assert any("accepted a job" in m["Subject"] for m in await mailbox.wait_for(organiser.email, count=2))

    # The requester's page says matched, and they were told by e-mail.
    await _as(phone, live_server, requester)
    await phone.goto(requester_page)
    await expect(phone.locator("#status")).to_have_text("Matched")
    await expect(phone.locator("#status-text")).to_contain_text("matched you with a volunteer")
    matched = (await mailbox.wait_for(requester.email, count=2))[1]
    assert matched["Subject"] == f"{scheme.name} has matched you with a volunteer"
    assert "matched your request with Zofia and Kwame" in mailbox.body(matched)


async def test_a_resident_volunteers_is_checked_and_takes_a_shift_that_needs_an_enhanced_check(phone, live_server, e2e_council, mailbox, check_accessibility):
    tag = uuid.uuid4().hex[:6]
    scheme = await create_scheme_ok(e2e_council, name=f"Youth club {tag}")
    organiser = await organiser_of(scheme)
    day = today(datetime.now(timezone.utc)) + timedelta(days=3)
    shift = await create_shift_ok(scheme, day, title=f"Youth night {tag}", needs_dbs="enhanced", repeat="weekly", capacity=2)
    resident = await create_user_ok(e2e_council, display_name=f"Dewi {tag}")

    await _as(phone, live_server, resident)
    await phone.goto(f"/schemes/{scheme.slug}")
    await phone.get_by_role("link", name="Volunteer or join").click()
    await check_accessibility(phone)
    await phone.get_by_label("Phone number (optional)").fill("07700 900 456")
    await phone.get_by_label(re.compile("^I agree that the organisers")).check()
    await phone.get_by_role("button", name="Send my offer").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}")
    await expect(phone.locator("#membership")).to_contain_text("You have offered to join as a volunteer")

    # The organiser accepts, then records the enhanced check they saw.
    await _as(phone, live_server, organiser)
    await phone.goto(f"/schemes/{scheme.slug}/people")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name=f"Accept Dewi {tag}").click()
    await phone.get_by_role("link", name=f"Dewi {tag}").click()
    await check_accessibility(phone)
    await phone.get_by_label("Enhanced with barred lists").check()
    await phone.get_by_label("Date on the certificate").fill(f"{date.today():%d/%m/%Y}")
    await phone.get_by_label("Who saw the certificate").fill("Gwen Roberts")
    await phone.get_by_role("button", name="Record check").click()
    await expect(phone.locator("#check-summary")).to_contain_text("Enhanced with barred lists, current until")

    # The volunteer takes the shift from the rota.
    await _as(phone, live_server, resident)
    await phone.goto(f"/schemes/{scheme.slug}/rota")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.locator(f"#slot-{shift.id}-{day.isoformat()}").get_by_role("link", name=f"Youth night {tag}").click()
    await check_accessibility(phone)
    await phone.get_by_role("button", name="Sign up for this shift").click()
    await expect(phone.locator(".govuk-notification-banner")).to_contain_text("You are on the shift")
    await phone.goto("/volunteering")
    await expect(phone.locator("#shifts + ul")).to_contain_text(f"Youth night {tag}")
    await check_accessibility(phone)
    await _fits_the_phone(phone)

    # The organiser's roster shows who is on it and the gap left.
    await _as(phone, live_server, organiser)
    await phone.goto(f"/schemes/{scheme.slug}/roster")
    card = phone.locator(f"#slot-{shift.id}-{day.isoformat()}")
    await expect(card).to_contain_text(f"On it: Dewi {tag}")
    await expect(card).to_contain_text("1 of 2 places unfilled")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    for form in ("shifts/new", "events/new", "safeguarding"):
        await phone.goto(f"/schemes/{scheme.slug}/{form}")
        await check_accessibility(phone)
        await _fits_the_phone(phone)


async def test_an_organiser_changes_a_shift_from_its_page_and_is_told_why_it_needs_enough_places(phone, live_server, e2e_council, mailbox, check_accessibility):
    from civic.schemes import rota

    tag = uuid.uuid4().hex[:6]
    scheme = await create_scheme_ok(e2e_council, name=f"Pantry {tag}")
    day = today(datetime.now(timezone.utc)) + timedelta(days=3)
    shift = await create_shift_ok(scheme, day, title=f"Pantry set-up {tag}", capacity=3)
    on_it = [await create_volunteer_ok(scheme) for _ in range(2)]
    for volunteer in on_it:
        await rota.sign_up(volunteer.user, e2e_council, scheme.slug, shift.id, day)
    await signin_in_browser(phone, live_server, await organiser_of(scheme))

    await phone.goto(f"/schemes/{scheme.slug}/shifts/{shift.id}/{day.isoformat()}")
    await phone.get_by_role("link", name=re.compile("^Change the shift")).click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/shifts/{shift.id}/edit")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_label("How many volunteers").fill("1")
    await phone.get_by_role("button", name="Save changes").click()
    await expect(phone.locator("#capacity-error")).to_contain_text("2 volunteers have signed up for")
    await check_accessibility(phone)
    await phone.get_by_label("How many volunteers").fill("3")
    await phone.get_by_label("Where").fill("St Anne's church hall")
    await phone.get_by_role("button", name="Save changes").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/roster")
    await expect(phone.locator(f"#slot-{shift.id}-{day.isoformat()}")).to_contain_text("St Anne's church hall")
    await check_accessibility(phone)
    for volunteer in on_it:
        assert "St Anne's church hall" in mailbox.body((await mailbox.wait_for(volunteer.user.email))[-1])


async def test_an_organiser_takes_one_volunteer_off_a_date_on_a_phone_and_they_are_told_why(phone, live_server, e2e_council, mailbox, check_accessibility):
    from civic.schemes import rota

    tag = uuid.uuid4().hex[:6]
    scheme = await create_scheme_ok(e2e_council, name=f"Pantry {tag}")
    day = today(datetime.now(timezone.utc)) + timedelta(days=3)
    shift = await create_shift_ok(scheme, day, title=f"Pantry set-up {tag}", capacity=3)
    leaving = await create_volunteer_ok(scheme, user=await create_user_ok(e2e_council, display_name=f"Lee Leaving {tag}"))
    staying = await create_volunteer_ok(scheme, user=await create_user_ok(e2e_council, display_name=f"Sam Staying {tag}"))
    for volunteer in (leaving, staying):
        await rota.sign_up(volunteer.user, e2e_council, scheme.slug, shift.id, day)
    await signin_in_browser(phone, live_server, await organiser_of(scheme))

    await phone.goto(f"/schemes/{scheme.slug}/shifts/{shift.id}/{day.isoformat()}")
    await phone.get_by_text("Take a volunteer off this date").click()
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name="Take them off this date").click()
    await expect(phone.locator("#volunteer-error")).to_contain_text("Choose who to take off this date")
    await check_accessibility(phone)
    await phone.get_by_label(f"Lee Leaving {tag}").check()
    await phone.get_by_label("Why? (optional)").fill("We need a driver that day")
    await phone.get_by_role("button", name="Take them off this date").click()
    await expect(phone.locator("#roster")).to_have_text(f"Sam Staying {tag}")
    await expect(phone.locator("#places")).to_have_text("1 of 3 taken")
    await check_accessibility(phone)
    assert "We need a driver that day" in mailbox.body((await mailbox.wait_for(leaving.user.email))[-1])


async def test_without_javascript_a_volunteer_without_a_check_is_told_why_they_cannot_sign_up(phone_without_js, live_server, e2e_council):
    scheme = await create_scheme_ok(e2e_council)
    day = today(datetime.now(timezone.utc)) + timedelta(days=3)
    shift = await create_shift_ok(scheme, day, needs_dbs="enhanced")
    volunteer = await create_volunteer_ok(scheme)
    await signin_in_browser(phone_without_js, live_server, volunteer.user)
    await phone_without_js.goto(f"/schemes/{scheme.slug}/shifts/{shift.id}/{day.isoformat()}")
    assert "no check recorded for you" in await phone_without_js.locator("#refused").inner_text()
    assert await phone_without_js.get_by_role("button", name="Sign up for this shift").count() == 0


async def test_an_organiser_takes_a_job_back_and_sees_who_lacks_the_check_for_a_visit(phone, live_server, e2e_council, check_accessibility):
    from civic.schemes import help_requests, safeguarding
    from tests.factories import create_help_request_ok

    scheme = await create_scheme_ok(e2e_council, name=f"Visits {uuid.uuid4().hex[:6]}")
    organiser = await organiser_of(scheme)
    await safeguarding.update_rules(organiser, e2e_council, scheme.slug, {"home_visit_dbs": "enhanced"})
    silent = await create_volunteer_ok(scheme, user=await create_user_ok(e2e_council, display_name="Sid Silent"), check="enhanced")
    await create_volunteer_ok(scheme, user=await create_user_ok(e2e_council, display_name="Ned Nocheck"))
    request = await create_help_request_ok(scheme, home_visit="yes")
    await help_requests.assign(organiser, e2e_council, scheme.slug, request.id, [str(silent.user.id)])
    await signin_in_browser(phone, live_server, organiser)
    await phone.goto(f"/schemes/{scheme.slug}/requests/{request.id}")
    await phone.get_by_role("button", name="Take this job back from Sid Silent").click()
    await expect(phone.locator("#assignments")).to_contain_text("Sid Silent: no longer on it")
    await check_accessibility(phone)
    await phone.get_by_label("Ned Nocheck").check()
    await phone.get_by_role("button", name="Match and tell them").click()
    await expect(phone.locator("#volunteers-error")).to_contain_text("Ned Nocheck has no DBS check recorded")
    await check_accessibility(phone)


async def test_an_organiser_restarts_a_stopped_shift_on_a_phone_and_the_volunteer_dropped_hears_it_is_back(phone, live_server, e2e_council, mailbox, check_accessibility):
    from civic.schemes import rota

    tag = uuid.uuid4().hex[:6]
    scheme = await create_scheme_ok(e2e_council, name=f"Pantry {tag}")
    now = today(datetime.now(timezone.utc))
    coming = now + timedelta(days=6)
    shift = await create_shift_ok(scheme, coming, title=f"Pantry set-up {tag}", repeat="weekly")
    volunteer = await create_volunteer_ok(scheme)
    await rota.sign_up(volunteer.user, e2e_council, scheme.slug, shift.id, coming)
    begun = coming - timedelta(days=14)  # it began 8 days ago: its dates since have passed, and its next is `coming`
    await rota.Shift.filter(id=shift.id).update(starts_on=begun)
    organiser = await organiser_of(scheme)
    await rota.stop(organiser, e2e_council, scheme.slug, shift.id)
    await mailbox.wait_for(volunteer.user.email)  # told the date is cancelled
    await signin_in_browser(phone, live_server, organiser)

    await phone.goto(f"/schemes/{scheme.slug}/shifts/{shift.id}/{begun.isoformat()}")
    await expect(phone.locator("#shift-stopped")).to_have_text("This weekly shift has no dates still to come.")
    await expect(phone.get_by_role("link", name=re.compile("^Restart the shift with a new last date"))).to_be_visible()
    await check_accessibility(phone)
    await phone.goto(f"/schemes/{scheme.slug}/roster")  # where the organiser finds it
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("link", name=f"Restart Pantry set-up {tag}").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/shifts/{shift.id}/edit")
    await expect(phone.locator("#restarting")).to_contain_text("To restart it, give it a last date after today")
    await check_accessibility(phone)
    await _fits_the_phone(phone)
    await phone.get_by_role("button", name="Save changes").click()  # the last date as it was: still stopped
    await expect(phone.locator("#repeat_until-error")).to_contain_text("To restart it, give it a last date after today")
    await check_accessibility(phone)
    await phone.get_by_label("Last date (optional, for a weekly shift)").fill("")
    await phone.get_by_role("button", name="Save changes").click()
    await phone.wait_for_url(f"**/schemes/{scheme.slug}/roster")
    await expect(phone.locator(f"#slot-{shift.id}-{coming.isoformat()}")).to_be_visible()
    await check_accessibility(phone)
    [_, back] = await mailbox.wait_for(volunteer.user.email, count=2)
    assert back["Subject"] == f"Pantry set-up {tag} on {rota.day_name(coming)} is back on the rota"
    assert f"/schemes/{scheme.slug}/shifts/{shift.id}/{coming.isoformat()}" in mailbox.body(back)
