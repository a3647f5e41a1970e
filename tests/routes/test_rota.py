"""Running a scheme through the app: joining, people and checks, help requests and jobs, the rota, visits, events, feeds."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import icalendar

from civic.audit import AuditLog
from civic.councils import Council
from civic.schemes import help_requests, rota
from civic.schemes.models import Membership
from civic.schemes.running import ContactConsent, HelpRequest, SignUp
from civic.schemes.when import LONDON, today
from tests.factories import (
    Browser,
    create_help_request_ok,
    create_scheme_ok,
    create_shift_ok,
    create_user_ok,
    create_volunteer_ok,
    emails,
    field_error,
    html,
    mail_to,
    organiser_of,
    postcode_in,
    text_of,
)
from tests.routes.permissions import rota as matrix
from tests.routes.test_permissions import _world


async def test_each_route_answers_the_schemes_own_people_as_it_should(app, council):
    world = await _world(council)
    values = await matrix.setup(world)
    mismatches = []
    for case in matrix.CASES:
        for role in matrix.SCHEME_ROLES:
            if case.fresh:
                values = await matrix.setup(world)
            async with Browser(app, council) as browser:
                await browser.signin_as(world.people[role])
                path = case.path.format(**values)
                if case.method == "GET":
                    response = await browser.get(path)
                else:
                    response = await browser.post(path, {k: str(v).format(role=role, **values) for k, v in case.data.items()})
            if response.status_code != case.expect[role]:
                mismatches.append(f"{case.method} {path} as {role}: {response.status_code}, expected {case.expect[role]}")
    assert not mismatches, "\n".join(mismatches)


def _next_week() -> date:
    return today(datetime.now(timezone.utc)) + timedelta(days=7)


# Joining


async def test_offering_to_join_without_consent_shows_every_error_and_keeps_what_was_typed(client, council):
    scheme = await create_scheme_ok(council)
    await client.signin_as(await create_user_ok(council))
    form = await client.get(f"/schemes/{scheme.slug}/join")
    wording = text_of(form, "label[for=consent]")[0]
    assert wording.startswith(f"I agree that the organisers of {scheme.name} may see my name")
    response = await client.post(f"/schemes/{scheme.slug}/join", {"role": "volunteer", "note": "Mornings", "phone": "123"})
    assert response.status_code == 422
    assert field_error(response, "consent") == "To join, agree to share your contact details with the organisers"
    assert "UK phone number" in field_error(response, "phone")
    assert html(response).css_first("#note").text() == "Mornings"
    response = await client.post(f"/schemes/{scheme.slug}/join", {"role": "volunteer", "phone": "07700 900 321", "consent": "yes"})
    assert response.status_code == 303
    consent = await ContactConsent.get(scheme=scheme)
    assert consent.wording == wording


async def test_htmx_gets_only_the_form_back_with_its_errors(client, council):
    scheme = await create_scheme_ok(council)
    await client.signin_as(await create_user_ok(council))
    response = await client.post(f"/schemes/{scheme.slug}/ask", {"what": "A lift", "home_visit": "yes"}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "<html" not in response.text
    assert html(response).css_first("#ask-form") is not None
    assert field_error(response, "street") == "Enter your street"
    assert html(response).css_first("#what").text() == "A lift"


async def test_organisers_see_contact_details_and_accept_an_offer(client, council, mailbox):
    scheme = await create_scheme_ok(council)
    offered = await create_volunteer_ok(scheme, status="offered", phone="07700 900 777")
    await client.signin_as(await organiser_of(scheme))
    people = await client.get(f"/schemes/{scheme.slug}/people")
    card = html(people).css_first(f"#offer-{offered.id}")
    assert offered.user.email in card.text() and "07700 900 777" in card.text()
    response = await client.post(f"/schemes/{scheme.slug}/people/{offered.id}/accept")
    assert response.status_code == 303
    assert (await Membership.get(id=offered.id)).status == "active"
    assert (await mailbox.wait_for(offered.user.email))[0]["Subject"] == f"Welcome to {scheme.name}"


async def test_a_volunteer_sees_no_one_elses_contact_details(client, council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    other = await create_volunteer_ok(scheme, phone="07700 900 888")
    await client.signin_as(volunteer.user)
    for path in (f"/schemes/{scheme.slug}", f"/schemes/{scheme.slug}/rota", f"/schemes/{scheme.slug}/people"):
        response = await client.get(path)
        assert other.user.email not in response.text and "07700 900 888" not in response.text


async def test_recording_a_check_shows_when_it_lapses(client, council, settings):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    await client.signin_as(await organiser_of(scheme))
    bad = await client.post(f"/schemes/{scheme.slug}/people/{volunteer.id}/check", {"level": "enhanced", "certificate_date": "tomorrow"})
    assert bad.status_code == 422 and field_error(bad, "checked_by")
    response = await client.post(f"/schemes/{scheme.slug}/people/{volunteer.id}/check",
                                 {"level": "enhanced", "certificate_date": "01/02/2025", "checked_by": "Gwen Roberts"})
    page = await client.follow(response)
    last = date(2025, 2, 1) + timedelta(days=settings.dbs_valid_days - 1)
    assert text_of(page, "#check-summary")[0].startswith(f"Enhanced, current until {last:%A} {last.day} {last:%B %Y}")


# Help requests


async def test_asking_for_help_leads_to_a_page_only_the_requester_sees(app, client, council):
    scheme = await create_scheme_ok(council)
    requester = await create_user_ok(council, display_name="Maud Jenkins")
    await client.signin_as(requester)
    form = await client.get(f"/schemes/{scheme.slug}/ask")
    assert html(form).css_first("#first_name").attributes["value"] == "Maud"
    response = await client.post(f"/schemes/{scheme.slug}/ask", {
        "what": "A chat", "when_needed": "Mondays", "home_visit": "yes", "first_name": "Maud", "house": "14", "street": "Mill Lane",
        "postcode": postcode_in(council), "contact_by": "email",
    })
    page = await client.follow(response)
    assert text_of(page, "#status .govuk-tag") == ["Open"]
    async with Browser(app, council) as stranger:
        await stranger.signin_as(await create_user_ok(council))
        assert (await stranger.get(response.headers["location"])).status_code == 404


async def test_help_that_needs_no_home_visit_asks_for_no_house_or_street(client, council):
    scheme = await create_scheme_ok(council)
    await client.signin_as(await create_user_ok(council, display_name="Maud Jenkins"))
    form = await client.get(f"/schemes/{scheme.slug}/ask")
    # The house and street are asked under "Yes", with why and who sees them.
    address = html(form).css_first("#home-address")
    assert html(form).css_first("#home_visit").attributes["aria-controls"] == "home-address"
    assert [node.attributes["name"] for node in address.css("input")] == ["house", "street"]
    assert " ".join(address.css_first("#home-address-why").text().split()) == (
        "We ask for your address so the volunteer can find you. The organisers see it. "
        "The volunteers they ask see your street, and your full address once they have said yes.")
    response = await client.post(f"/schemes/{scheme.slug}/ask", {
        "what": "A weekly phone call", "when_needed": "Thursday evenings", "home_visit": "no", "first_name": "Maud",
        "house": "14", "postcode": postcode_in(council), "contact_by": "email",
    })
    assert response.status_code == 303
    request = await HelpRequest.get(scheme=scheme)
    # Nobody comes round, so nothing typed in the address boxes is kept.
    assert (request.home_visit, request.house, request.street) == (False, "", "")
    assert request.full_address == postcode_in(council)
    await client.signin_as(await organiser_of(scheme))
    listed = html(await client.get(f"/schemes/{scheme.slug}/requests")).css_first(f"a[href='/schemes/{scheme.slug}/requests/{request.id}']")
    assert listed.text() == "Maud"  # not "Maud, " with no street after it


async def test_a_home_visit_needs_the_house_and_street_and_a_refused_form_keeps_what_was_typed(client, council):
    scheme = await create_scheme_ok(council)
    await client.signin_as(await create_user_ok(council, display_name="Maud Jenkins"))
    typed = {"what": "A chat over a cup of tea", "when_needed": "Tuesday mornings", "home_visit": "yes", "first_name": "Maud",
             "house": "Flat 2, 14", "street": "", "postcode": postcode_in(council).lower(), "contact_by": "phone", "phone": "01632 960 555"}
    for headers in ({}, {"HX-Request": "true"}):
        refused = await client.post(f"/schemes/{scheme.slug}/ask", typed, headers=headers)
        assert refused.status_code == 422
        assert text_of(refused, ".govuk-error-summary li") == ["Enter your street"]
        assert field_error(refused, "street") == "Enter your street"
        page = html(refused)
        assert page.css_first("#what").text() == typed["what"]
        assert {name: page.css_first(f"#{name}").attributes["value"] for name in ("when_needed", "first_name", "house", "postcode", "phone")} == {
            name: typed[name] for name in ("when_needed", "first_name", "house", "postcode", "phone")}
        assert "checked" in page.css_first("#home_visit").attributes and "checked" not in page.css_first("#home_visit-2").attributes
        assert "checked" in page.css_first("input[name=contact_by][value=phone]").attributes
    assert await HelpRequest.filter(scheme=scheme).count() == 0
    assert (await client.post(f"/schemes/{scheme.slug}/ask", {**typed, "street": "Mill Lane"})).status_code == 303
    assert (await HelpRequest.get(scheme=scheme)).full_address == f"Flat 2, 14, Mill Lane, {postcode_in(council)}"


async def test_the_same_request_sent_twice_is_one_request_and_one_set_of_e_mails(client, council):
    scheme = await create_scheme_ok(council)
    await client.signin_as(await create_user_ok(council, display_name="Maud Jenkins"))
    form = {"what": "A lift to the surgery", "when_needed": "Tuesday", "home_visit": "no", "first_name": "Maud", "house": "14",
            "street": "Mill Lane", "postcode": postcode_in(council), "contact_by": "email"}
    first = await client.post(f"/schemes/{scheme.slug}/ask", form)
    again = await client.post(f"/schemes/{scheme.slug}/ask", form)  # a second press, or a resend on a poor signal
    assert first.status_code == again.status_code == 303 and first.headers["location"] == again.headers["location"]
    assert await HelpRequest.filter(scheme=scheme).count() == 1
    assert len(await emails(subject=f"Your request for help from {scheme.name}", council=council)) == 1
    different = await client.post(f"/schemes/{scheme.slug}/ask", {**form, "what": "A lift home afterwards"})
    assert different.headers["location"] != first.headers["location"]
    assert await HelpRequest.filter(scheme=scheme).count() == 2


async def test_a_matched_volunteer_sees_the_address_only_after_accepting(client, council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme, check="basic")
    request = await create_help_request_ok(scheme, house="Flat 2, 14", street="Mill Lane")
    await help_requests.assign(await organiser_of(scheme), council, scheme.slug, request.id, [str(volunteer.user.id)])
    await client.signin_as(volunteer.user)
    job = await client.get(f"/schemes/{scheme.slug}/jobs/{request.id}")
    assert html(job).css_first("#where").text(separator=" ").split() == ["Mill", "Lane", "At", "their", "home"]
    assert "Flat 2" not in job.text and postcode_in(council) not in job.text and "01632 960 555" not in job.text
    page = await client.follow(await client.post(f"/schemes/{scheme.slug}/jobs/{request.id}/accept"))
    assert text_of(page, "#where")[0].startswith(f"Flat 2, 14, Mill Lane, {postcode_in(council)}")


async def test_assigning_fewer_volunteers_than_a_pair_says_why(client, council):
    scheme = await create_scheme_ok(council)
    scheme.visit_in_pairs = True
    await scheme.save()
    volunteer = await create_volunteer_ok(scheme)
    await create_volunteer_ok(scheme)
    request = await create_help_request_ok(scheme, home_visit="yes")
    await client.signin_as(await organiser_of(scheme))
    response = await client.post(f"/schemes/{scheme.slug}/requests/{request.id}/assign", [("volunteers", str(volunteer.user.id))])
    assert response.status_code == 422
    assert field_error(response, "volunteers") == "This scheme visits people at home in pairs: choose two volunteers"
    assert "checked" in html(response).css_first(f"input[name=volunteers][value='{volunteer.user.id}']").attributes


async def test_matching_a_home_visit_names_who_lacks_the_check_the_scheme_asks_for(client, council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    await client.signin_as(organiser)
    saved = await client.post(f"/schemes/{scheme.slug}/safeguarding", {"safeguarding_lead_email": "", "home_visit_dbs": "enhanced"})
    assert saved.status_code == 303
    rules = await client.get(f"/schemes/{scheme.slug}/safeguarding")
    assert html(rules).css_first("#home_visit_dbs option[selected]").attributes["value"] == "enhanced"
    assert "A check counts as current for 3 years from the date on the certificate." in rules.text  # not "1095 days"
    unchecked = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Ned Nocheck"))
    await create_volunteer_ok(scheme, check="enhanced")
    request = await create_help_request_ok(scheme, home_visit="yes")
    form = await client.get(f"/schemes/{scheme.slug}/requests/{request.id}")
    assert "A home visit needs an enhanced DBS check or higher, current on the day." in text_of(form, "#volunteers-hint")[0]
    assert "Cannot do this visit: Ned Nocheck has no DBS check recorded" in " ".join(text_of(form, ".govuk-checkboxes__hint"))
    response = await client.post(f"/schemes/{scheme.slug}/requests/{request.id}/assign", [("volunteers", str(unchecked.user.id))])
    assert response.status_code == 422
    assert field_error(response, "volunteers") == (
        "A home visit for this scheme needs an enhanced DBS check or higher, current on the day. "
        "Ned Nocheck has no DBS check recorded. Choose someone else, or record their certificate first"
    )
    assert (await HelpRequest.get(id=request.id)).status == "open"
    tags = {t.text(strip=True) for t in html(form).css(".govuk-checkboxes__hint .govuk-tag")}
    assert "Cannot do this visit" in tags and "No current DBS check" not in tags, "below the scheme's level is refused, never confirmed"
    assert html(form).css_first("input[name=confirm_unchecked]") is None
    confirmed = await client.post(f"/schemes/{scheme.slug}/requests/{request.id}/assign",
                                  [("volunteers", str(unchecked.user.id)), ("confirm_unchecked", "yes")])
    assert confirmed.status_code == 422 and (await HelpRequest.get(id=request.id)).status == "open"


async def test_a_home_visit_by_someone_without_a_check_needs_the_organiser_to_confirm_it(client, council):
    scheme = await create_scheme_ok(council)  # asks for no check for home visits
    unchecked = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Ned Nocheck"))
    checked = await create_volunteer_ok(scheme, check="enhanced")
    request = await create_help_request_ok(scheme, home_visit="yes")
    await client.signin_as(await organiser_of(scheme))
    form = await client.get(f"/schemes/{scheme.slug}/requests/{request.id}")
    hints = {h.attributes["id"]: h for h in html(form).css(".govuk-checkboxes__hint")}
    unchecked_hint = hints[html(form).css_first(f"input[name=volunteers][value='{unchecked.user.id}']").attributes["aria-describedby"]]
    checked_hint = hints[html(form).css_first(f"input[name=volunteers][value='{checked.user.id}']").attributes["aria-describedby"]]
    assert [t.text(strip=True) for t in unchecked_hint.css(".govuk-tag")] == ["No current DBS check"]
    assert "Ned Nocheck has no DBS check recorded" in unchecked_hint.text()
    assert not checked_hint.css(".govuk-tag")
    assert html(form).css_first("input[name=confirm_unchecked]").attributes["value"] == "yes"

    refused = await client.post(f"/schemes/{scheme.slug}/requests/{request.id}/assign", [("volunteers", str(unchecked.user.id))])
    assert refused.status_code == 422
    assert field_error(refused, "confirm_unchecked") == (
        "This is a home visit and Ned Nocheck has no DBS check recorded. Tick to confirm you have checked it is safe, or choose someone else"
    )
    assert "checked" in html(refused).css_first(f"input[name=volunteers][value='{unchecked.user.id}']").attributes, "keeps the selection"
    assert (await HelpRequest.get(id=request.id)).status == "open"

    matched = await client.post(f"/schemes/{scheme.slug}/requests/{request.id}/assign",
                                [("volunteers", str(unchecked.user.id)), ("confirm_unchecked", "yes")])
    assert matched.status_code == 303 and (await HelpRequest.get(id=request.id)).status == "matched"
    [logged] = await AuditLog.filter(action="help_request.matched", target_id=request.id)
    assert logged.reason == f"user {unchecked.user.id} (no current DBS check, confirmed)"


async def test_a_check_about_to_lapse_is_tagged_on_the_people_and_match_pages(client, council, settings):
    scheme = await create_scheme_ok(council)
    soon = await create_volunteer_ok(scheme, check="enhanced", certified=today(datetime.now(timezone.utc)) - timedelta(days=settings.dbs_valid_days - 20))
    later = await create_volunteer_ok(scheme, check="enhanced", certified=today(datetime.now(timezone.utc)) - timedelta(days=settings.dbs_valid_days - 45))
    request = await create_help_request_ok(scheme, home_visit="no")
    await client.signin_as(await organiser_of(scheme))
    people = await client.get(f"/schemes/{scheme.slug}/people")
    assert [t.text(strip=True) for t in html(people).css(f"#person-{soon.id} .govuk-tag")] == ["Lapses soon"]
    assert not html(people).css(f"#person-{later.id} .govuk-tag")
    form = await client.get(f"/schemes/{scheme.slug}/requests/{request.id}")
    hint_of = {i.attributes["value"]: i.attributes["aria-describedby"] for i in html(form).css("input[name=volunteers]")}
    assert html(form).css_first(f"#{hint_of[str(soon.user.id)]} .govuk-tag").text(strip=True) == "Lapses soon"
    assert html(form).css_first(f"#{hint_of[str(later.user.id)]} .govuk-tag") is None


# The rota


async def test_sign_up_is_refused_with_the_reason_and_allowed_with_a_current_check(client, council):
    scheme = await create_scheme_ok(council)
    shift = await create_shift_ok(scheme, _next_week(), needs_dbs="enhanced")
    path = f"/schemes/{scheme.slug}/shifts/{shift.id}/{_next_week().isoformat()}"
    without = await create_volunteer_ok(scheme, check="standard", certified=date.today())
    await client.signin_as(without.user)
    page = await client.get(path)
    assert "The check recorded for you is standard" in text_of(page, "#refused")[0]
    assert html(page).css_first(f"form[action='{path}/signup']") is None
    refused = await client.post(path + "/signup")
    assert refused.status_code == 409 and "needs an enhanced DBS check or higher" in text_of(refused, "#refused")[0]

    async with Browser(client.http._transport.app, council) as other:
        checked = await create_volunteer_ok(scheme, check="enhanced", certified=date.today())
        await other.signin_as(checked.user)
        assert (await other.post(path + "/signup")).status_code == 303
    assert await SignUp.filter(occurrence__shift=shift).values_list("volunteer_id", flat=True) == [checked.user.id]


async def test_an_organiser_without_a_check_is_sent_to_their_own_page_to_record_it(client, council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    mine = await Membership.get(scheme=scheme, user=organiser)
    shift = await create_shift_ok(scheme, _next_week(), needs_dbs="enhanced")
    path = f"/schemes/{scheme.slug}/shifts/{shift.id}/{_next_week().isoformat()}"
    own_page = f"/schemes/{scheme.slug}/people/{mine.id}#check-form"
    await client.signin_as(organiser)
    for page in (await client.get(f"/schemes/{scheme.slug}/rota"), await client.get(path), await client.post(path + "/signup")):
        assert "Ask an organiser" not in page.text
        assert own_page in [a.attributes["href"] for a in html(page).css("main a")]
    assert "As an organiser, you can record your own certificate." in text_of(await client.get(path), "#refused")[0]
    person = await client.get(own_page.split("#")[0])
    assert html(person).css_first("#check-form form") is not None

    volunteer = await create_volunteer_ok(scheme)
    await client.signin_as(volunteer.user)
    rota_page = await client.get(f"/schemes/{scheme.slug}/rota")
    assert "Ask an organiser to record your certificate." in rota_page.text
    assert not [a for a in html(rota_page).css("main a") if "/people/" in a.attributes.get("href", "")]


async def test_a_date_beyond_the_rota_says_when_sign_up_opens_and_signs_no_one_up(client, council):
    scheme = await create_scheme_ok(council)
    far = date(9999, 12, 24)
    first = _next_week() + timedelta(days=(far.weekday() - _next_week().weekday()) % 7)
    shift = await create_shift_ok(scheme, first, repeat="weekly")
    await client.signin_as((await create_volunteer_ok(scheme)).user)
    for day in (first + timedelta(weeks=5), far):
        path = f"/schemes/{scheme.slug}/shifts/{shift.id}/{day.isoformat()}"
        page = await client.get(path)
        assert "Sign-up for this date opens on" in text_of(page, "#refused")[0]
        assert html(page).css_first(f"form[action='{path}/signup']") is None
        refused = await client.post(path + "/signup")
        assert refused.status_code == 409 and "4 weeks before, when it comes onto the rota" in text_of(refused, "#refused")[0]
    assert not await SignUp.filter(occurrence__shift=shift).exists()


async def test_a_night_shift_on_the_roster_says_it_ends_the_next_day(client, council):
    scheme = await create_scheme_ok(council)
    shift = await create_shift_ok(scheme, _next_week(), start_time="22:00", end_time="03:00")
    await client.signin_as(await organiser_of(scheme))
    roster = await client.get(f"/schemes/{scheme.slug}/roster")
    card = html(roster).css_first(f"#slot-{shift.id}-{_next_week().isoformat()}")
    assert card.css_first("p").text().startswith("10pm to 3am (next day), ")


async def test_the_roster_shows_who_is_on_each_shift_and_the_gaps(client, council):
    scheme = await create_scheme_ok(council)
    shift = await create_shift_ok(scheme, _next_week(), repeat="weekly", capacity=3, title="Pantry")
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Zofia Nowak"))
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, _next_week())
    await client.signin_as(await organiser_of(scheme))
    roster = await client.get(f"/schemes/{scheme.slug}/roster")
    card = html(roster).css_first(f"#slot-{shift.id}-{_next_week().isoformat()}")
    assert "2 of 3 places unfilled" in card.text() and "On it: Zofia Nowak" in card.text()
    # This week's date (if it is still to come) and next week's are on the four-week roster; every place but one is a gap.
    dates = len(html(roster).css(f"[id^=slot-{shift.id}-]"))
    assert text_of(roster, "#gaps")[0].startswith(f"{dates * 3 - 1} places unfilled")


async def test_an_organiser_takes_one_volunteer_off_a_date_from_its_page_saying_why(client, council):
    scheme = await create_scheme_ok(council)
    shift = await create_shift_ok(scheme, _next_week(), title="Pantry", capacity=3)
    zofia = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Zofia Nowak"))
    ade = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Ade Bello"))
    for person in (zofia, ade):
        await rota.sign_up(person.user, council, scheme.slug, shift.id, _next_week())
    path = f"/schemes/{scheme.slug}/shifts/{shift.id}/{_next_week().isoformat()}"
    form = f"form[action='{path}/take-off']"
    await client.signin_as(zofia.user)
    assert not html(await client.get(path)).css_first(form)  # volunteers are not offered it
    await client.signin_as(await organiser_of(scheme))
    page = html(await client.get(path))
    assert page.css_first(form).css_first("input[name=csrftoken]")
    assert [(i.attributes["value"], label.text()) for i, label in zip(page.css(f"{form} input[name=volunteer]"), page.css(f"{form} .govuk-radios__label"))] == [
        (str(zofia.user.id), "Zofia Nowak"), (str(ade.user.id), "Ade Bello"),
    ]

    refused = await client.post(path + "/take-off", {"why": "Needs a driver"})
    assert refused.status_code == 422
    assert field_error(refused, "volunteer") == "Choose who to take off this date"
    assert html(refused).css_first("textarea#why").text() == "Needs a driver"  # what was typed is kept
    assert "open" in html(refused).css_first("#take-off").attributes
    assert html(refused).css_first("input#date").attributes["value"] == _next_week().isoformat()  # the move form is as the date is

    done = await client.post(path + "/take-off", {"volunteer": str(zofia.user.id), "why": "Needs a driver"})
    assert done.status_code == 303
    page = await client.follow(done)
    assert text_of(page, "#roster") == ["Ade Bello"]
    assert text_of(page, "#places") == ["1 of 3 taken"]
    [told] = await emails(zofia.user.email)
    assert "They said:\n\nNeeds a driver" in told.body
    again = await client.post(path + "/take-off", {"volunteer": str(zofia.user.id)})
    assert again.status_code == 409 and "Zofia Nowak is not on this date." in " ".join(text_of(again, "main p"))


async def test_a_volunteer_on_a_visit_taps_arrived_and_left(client, council):
    scheme = await create_scheme_ok(council)
    now = datetime.now(timezone.utc)
    started = (now - timedelta(minutes=20)).astimezone(LONDON)
    shift = await create_shift_ok(scheme, started.date(), now=now - timedelta(days=1), home_visit="yes",
                                  start_time=f"{started:%H:%M}", end_time=f"{started + timedelta(hours=1):%H:%M}")
    volunteer = await create_volunteer_ok(scheme)
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, started.date(), now=now - timedelta(days=1))
    path = f"/schemes/{scheme.slug}/shifts/{shift.id}/{started.date().isoformat()}"
    await client.signin_as(volunteer.user)
    page = await client.get(path)
    assert [b.text().strip() for b in html(page).css("#lone-working button")] == ["I’ve arrived", "I’ve left"]
    await client.post(path + "/arrived")
    page = await client.follow(await client.post(path + "/left"))
    signup = await SignUp.get(volunteer=volunteer.user)
    assert signup.arrived_at is not None and signup.left_at is not None
    assert "You left at" in text_of(page, "#lone-working")[0]


async def test_a_request_that_is_done_cannot_be_cancelled_whatever_the_reason_says(client, council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, check="basic")
    request = await create_help_request_ok(scheme)
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    await help_requests.mark_done(organiser, council, scheme.slug, request.id)
    await client.signin_as(organiser)
    for reason in ("", "Asked twice"):
        refused = await client.post(f"/schemes/{scheme.slug}/requests/{request.id}/cancel", {"reason": reason})
        assert refused.status_code == 409
        assert "This request is done, so it cannot be cancelled." in text_of(refused, "main p")
    assert (await HelpRequest.get(id=request.id)).status == "done"


# Calendars


async def test_the_events_page_offers_the_calendar_feed_only_once_the_scheme_is_public(client, council):
    pending = await create_scheme_ok(council, status="pending")
    public = await create_scheme_ok(council)
    for scheme in (pending, public):
        await client.signin_as(await organiser_of(scheme))
        links = [a.attributes["href"] for a in html(await client.get(f"/schemes/{scheme.slug}/events")).css("main a")]
        feed = await client.get(f"/schemes/{scheme.slug}/calendar.ics")
        assert (f"/schemes/{scheme.slug}/calendar.ics" in links) == (feed.status_code == 200) == (scheme is public)


async def test_a_personal_calendar_address_serves_ics_until_it_is_revoked(client, council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    shift = await create_shift_ok(scheme, _next_week(), title="Pantry", place="Quay Street")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, _next_week())
    await client.signin_as(volunteer.user)
    page = await client.follow(await client.post("/volunteering/calendar"))
    url = text_of(page, "#feed-url")[0]
    assert url.startswith(f"http://{council.hostnames}/calendars/")  # the council's own site, not CIVIC_BASE_URL
    feed = await client.get(url.removeprefix(f"http://{council.hostnames}"))
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    [event] = icalendar.Calendar.from_ical(feed.text).walk("VEVENT")
    assert str(event["location"]) == "Quay Street"
    await client.post("/volunteering/calendar/revoke")
    assert (await client.get(url.removeprefix(f"http://{council.hostnames}"))).status_code == 404


# Events


async def _event_with_two_coming(scheme, **overrides):
    from civic.schemes import events

    council = await Council.get(id=scheme.council_id)
    values = {"title": "Coffee morning", "place": "The hall", "date": _next_week().isoformat(), "start_time": "10:00", "end_time": "11:30", "capacity": "5", **overrides}
    event = await events.create_event(await organiser_of(scheme), council, scheme.slug, values)
    coming = [await create_user_ok(council) for _ in range(2)]
    for person in coming:
        await events.reply(person, council, scheme.slug, event.id)
    return event, coming, values


async def test_an_organiser_changes_an_event_and_people_coming_are_told_only_of_a_new_time_or_place(client, council):
    scheme = await create_scheme_ok(council)
    event, coming, values = await _event_with_two_coming(scheme)
    await client.signin_as(await organiser_of(scheme))
    form = await client.get(f"/schemes/{scheme.slug}/events/{event.id}/edit")
    assert html(form).css_first("input#place").attributes["value"] == "The hall"
    assert html(form).css_first("input#date").attributes["value"] == values["date"]

    renamed = await client.post(f"/schemes/{scheme.slug}/events/{event.id}/edit", {**values, "title": "Coffee and cake"})
    assert renamed.status_code == 303
    assert text_of(await client.follow(renamed), "h1") == ["Coffee and cake"]
    assert not await mail_to(*[p.email for p in coming]).exists()

    moved = await client.post(f"/schemes/{scheme.slug}/events/{event.id}/edit", {**values, "title": "Coffee and cake", "place": "The library", "start_time": "14:00", "end_time": "15:00"})
    assert moved.status_code == 303
    for person in coming:
        [told] = await mail_to(person.email)
        assert told.subject == "Coffee and cake has changed"
        assert "Was: " in told.body and "The hall" in told.body and "Now: " in told.body and "2pm to 3pm, The library" in told.body

    too_small = await client.post(f"/schemes/{scheme.slug}/events/{event.id}/edit", {**values, "capacity": "1"})
    assert too_small.status_code == 422
    assert field_error(too_small, "capacity").startswith("2 people have said they are coming")
    assert await AuditLog.filter(action="event.changed", target_id=str(event.id)).count() == 2


async def test_only_an_organiser_can_change_an_event_and_not_once_it_is_cancelled(client, council):
    from civic.schemes import events
    from civic.schemes.running import Event

    scheme = await create_scheme_ok(council)
    event, coming, values = await _event_with_two_coming(scheme)
    await client.signin_as(coming[0])
    assert (await client.get(f"/schemes/{scheme.slug}/events/{event.id}/edit")).status_code == 403
    assert (await client.post(f"/schemes/{scheme.slug}/events/{event.id}/edit", {**values, "title": "Mine"})).status_code == 403
    await events.cancel_event(await organiser_of(scheme), council, scheme.slug, event.id, "Hall flooded")
    await client.signin_as(await organiser_of(scheme))
    assert (await client.post(f"/schemes/{scheme.slug}/events/{event.id}/edit", {**values, "title": "Back on"})).status_code == 409
    assert (await Event.get(id=event.id)).title == "Coffee morning"


async def test_an_event_that_is_over_says_so_instead_of_offering_change_or_cancel(client, council):
    from civic.schemes.running import Event

    scheme = await create_scheme_ok(council)
    event, coming, _ = await _event_with_two_coming(scheme)
    await client.signin_as(await organiser_of(scheme))
    change = f"a[href='/schemes/{scheme.slug}/events/{event.id}/edit']"
    cancel = f"form[action='/schemes/{scheme.slug}/events/{event.id}/cancel']"
    before = html(await client.get(f"/schemes/{scheme.slug}/events/{event.id}"))
    assert before.css_first(change) and before.css_first(cancel)
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    await Event.filter(id=event.id).update(starts_at=yesterday, ends_at=yesterday + timedelta(hours=1))

    page = await client.get(f"/schemes/{scheme.slug}/events/{event.id}")
    assert not html(page).css_first(change) and not html(page).css_first(cancel)
    assert text_of(page, "#fixed") == ["This event is over, so it cannot be changed or cancelled."]
    assert (await client.get(f"/schemes/{scheme.slug}/events/{event.id}/edit")).status_code == 409
    # Posting anyway is refused with the reason, and nobody who came is told it was cancelled.
    refused = await client.post(f"/schemes/{scheme.slug}/events/{event.id}/cancel", {"reason": "Tidying up"})
    assert refused.status_code == 409
    assert "This event is over, so it cannot be changed or cancelled." in text_of(refused, "main p")
    assert not (await Event.get(id=event.id)).cancelled
    assert not await mail_to(*[p.email for p in coming]).exists()
    assert not await AuditLog.filter(action="event.cancelled", target_id=str(event.id)).exists()


async def test_an_event_that_has_started_says_replies_have_closed_instead_of_offering_im_coming(app, council):
    from civic.schemes.running import Event

    scheme = await create_scheme_ok(council)
    event, _, _ = await _event_with_two_coming(scheme)
    resident = await create_user_ok(council)
    reply = f"form[action='/schemes/{scheme.slug}/events/{event.id}/reply']"
    async with Browser(app, council) as browser, Browser(app, council) as anonymous:
        await browser.signin_as(resident)
        assert html(await browser.get(f"/schemes/{scheme.slug}/events/{event.id}")).css_first(reply)
        started = datetime.now(timezone.utc) - timedelta(minutes=10)
        await Event.filter(id=event.id).update(starts_at=started, ends_at=started + timedelta(hours=1))
        for visitor in (browser, anonymous):
            page = await visitor.get(f"/schemes/{scheme.slug}/events/{event.id}")
            assert not html(page).css_first(reply) and "to say you are coming" not in page.text
            assert text_of(page, "#replies-closed") == ["This event has started, so replies have closed."]
        refused = await browser.post(f"/schemes/{scheme.slug}/events/{event.id}/reply", {})
        assert refused.status_code == 409  # posting anyway is refused, as before


async def test_someone_coming_to_an_event_that_has_started_is_no_longer_offered_i_can_no_longer_come(client, council):
    from civic.schemes.running import Event, EventReply

    scheme = await create_scheme_ok(council)
    event, coming, _ = await _event_with_two_coming(scheme)
    take_back = f"form[action='/schemes/{scheme.slug}/events/{event.id}/reply/cancel']"
    await client.signin_as(coming[0])
    assert html(await client.get(f"/schemes/{scheme.slug}/events/{event.id}")).css_first(take_back)
    started = datetime.now(timezone.utc) - timedelta(minutes=10)
    await Event.filter(id=event.id).update(starts_at=started, ends_at=started + timedelta(hours=1))

    page = await client.get(f"/schemes/{scheme.slug}/events/{event.id}")
    assert not html(page).css_first(take_back)
    assert text_of(page, "strong.govuk-tag") == ["You are coming"]
    assert text_of(page, "#replies-closed") == ["This event has started, so replies have closed."]
    refused = await client.post(f"/schemes/{scheme.slug}/events/{event.id}/reply/cancel", {})
    assert refused.status_code == 409
    assert "This event has started, so you can no longer take back your reply." in text_of(refused, "main p")
    assert await EventReply.filter(event=event).count() == 2


# Changing a shift


async def test_an_organiser_changes_a_shift_and_the_volunteers_on_it_are_emailed_what_changed(client, council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    shift = await create_shift_ok(scheme, _next_week(), title="Pantry", place="The hall", capacity=3)
    on = _next_week().isoformat()
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, _next_week())
    await client.signin_as(await organiser_of(scheme))
    slot = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/{on}")
    assert html(slot).css_first(f"a[href='/schemes/{scheme.slug}/shifts/{shift.id}/edit']")

    form = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit")
    assert text_of(form, "h1") == ["Change Pantry"]
    assert {name: html(form).css_first(f"input#{name}").attributes["value"] for name in ("title", "place", "starts_on", "start_time", "end_time", "capacity")} == {
        "title": "Pantry", "place": "The hall", "starts_on": on, "start_time": "10:00", "end_time": "12:00", "capacity": "3",
    }
    values = {"title": "Pantry", "place": "The library", "starts_on": on, "start_time": "14:00", "end_time": "16:00", "capacity": "3"}

    refused = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", {**values, "capacity": "0", "end_time": "14:00"})
    assert refused.status_code == 422
    assert field_error(refused, "capacity") == "Enter how many volunteers the shift needs, from 1 to 200"
    assert field_error(refused, "end_time") == "The end time must be different from the start time"
    assert html(refused).css_first("input#place").attributes["value"] == "The library"  # what was typed is kept

    saved = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", values)
    assert saved.status_code == 303 and saved.headers["location"] == f"/schemes/{scheme.slug}/roster"
    page = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/{on}")
    assert "2pm to 4pm" in text_of(page, "#when")[0] and "The library" in text_of(page, ".govuk-summary-list__value")
    [told] = await emails(volunteer.user.email, subject="Pantry has changed")
    assert "The hall" in told.body and "2pm to 4pm, The library" in told.body
    assert (await AuditLog.get(action="shift.changed", target_id=str(shift.id))).reason == "place, start time, end time"


async def test_the_change_form_shows_how_often_the_last_date_the_check_the_visit_and_the_calendar_and_changes_them(client, council):
    scheme = await create_scheme_ok(council)
    basic = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Bea Basic"), check="basic")
    shift = await create_shift_ok(scheme, _next_week(), repeat="weekly", repeat_until=(_next_week() + timedelta(days=14)).isoformat(), title="Pantry", needs_dbs="basic", public="yes")
    await rota.sign_up(basic.user, council, scheme.slug, shift.id, _next_week() + timedelta(days=7))
    await client.signin_as(await organiser_of(scheme))
    form = html(await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit"))
    assert [form.css_first(f"input[name={name}][checked]").attributes["value"] for name in ("repeat", "home_visit", "public")] == ["weekly", "no", "yes"]
    assert form.css_first("input#repeat_until").attributes["value"] == (_next_week() + timedelta(days=14)).isoformat()
    assert form.css_first("select#needs_dbs option[selected]").attributes["value"] == "basic"
    shown = {field.attributes["name"]: field.attributes.get("value") or "" for field in form.css("#shift-form input[type=text], #shift-form input[type=date], #shift-form input[type=time]")}
    shown |= {"repeat": "weekly", "needs_dbs": "basic", "home_visit": "no", "public": "yes"}

    refused = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", {**shown, "needs_dbs": "enhanced", "public": "no"})
    assert refused.status_code == 422
    assert field_error(refused, "needs_dbs").startswith("The shift would then need an enhanced DBS check or higher, current on the day. Bea Basic has a basic check")
    assert html(refused).css_first("input[name=public][checked]").attributes["value"] == "no"  # what was chosen is kept
    saved = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", {**shown, "public": "no", "repeat_until": ""})
    assert saved.status_code == 303
    changed = await rota.Shift.get(id=shift.id)
    assert (changed.repeat, changed.repeat_until, changed.needs_dbs, changed.home_visit, changed.public) == ("weekly", None, "basic", False, False)
    assert (await AuditLog.get(action="shift.changed", target_id=str(shift.id))).reason == "last date, public calendar"


async def test_a_shift_cannot_need_fewer_volunteers_than_are_on_it(client, council):
    scheme = await create_scheme_ok(council)
    shift = await create_shift_ok(scheme, _next_week(), title="Pantry", capacity=3)
    for person in [await create_volunteer_ok(scheme) for _ in range(2)]:
        await rota.sign_up(person.user, council, scheme.slug, shift.id, _next_week())
    await client.signin_as(await organiser_of(scheme))
    values = {"title": "Pantry", "place": "Abbey ward", "starts_on": _next_week().isoformat(), "start_time": "10:00", "end_time": "12:00", "capacity": "1"}

    refused = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", values, headers={"HX-Request": "true"})

    assert refused.status_code == 422 and "<html" not in refused.text
    assert field_error(refused, "capacity") == f"2 volunteers have signed up for {rota.day_name(_next_week())}. Enter 2 or more"
    assert (await rota.Shift.get(id=shift.id)).capacity == 3


async def test_a_shift_that_cannot_be_changed_says_why_instead_of_offering_change(client, council):
    scheme = await create_scheme_ok(council)
    shift = await create_shift_ok(scheme, _next_week(), title="Pantry")
    on = _next_week().isoformat()
    organiser = await organiser_of(scheme)
    await rota.cancel(organiser, council, scheme.slug, shift.id, _next_week(), "The hall is flooded")
    await client.signin_as(organiser)

    page = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/{on}")
    assert not html(page).css_first(f"a[href='/schemes/{scheme.slug}/shifts/{shift.id}/edit']")
    assert text_of(page, "#shift-fixed") == ["This shift is cancelled, so it cannot be changed."]
    assert (await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit")).status_code == 409
    refused = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", {"title": "Back on", "place": "x", "starts_on": on, "start_time": "10:00", "end_time": "12:00", "capacity": "2"})
    assert refused.status_code == 409 and "This shift is cancelled" in " ".join(text_of(refused, "main"))
    assert (await rota.Shift.get(id=shift.id)).title == "Pantry"


async def test_a_weekly_shift_that_has_begun_keeps_its_day_on_the_change_form(client, council):
    scheme = await create_scheme_ok(council)
    begun = today(datetime.now(timezone.utc)) - timedelta(days=7)
    shift = await create_shift_ok(scheme, _next_week(), repeat="weekly", title="Pantry")
    await rota.Shift.filter(id=shift.id).update(starts_on=begun)
    await client.signin_as(await organiser_of(scheme))

    form = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit")

    assert not html(form).css_first("input#starts_on")
    assert text_of(form, "#keeps-its-day")[0].startswith(f"It runs every {begun:%A}")
    assert not html(form).css("input[name=repeat], input[name=home_visit]")  # it keeps repeating, and stays a visit or not
    assert text_of(form, "#keeps-visit") == ["It is not a visit to someone’s home. It has begun, so that stays as it is: to change it, stop it and add a new shift."]
    assert html(form).css_first("input#repeat_until") and html(form).css_first("select#needs_dbs")
    saved = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit",
                              {"title": "Pantry", "place": "The hall", "start_time": "11:00", "end_time": "13:00", "capacity": "2"})
    assert saved.status_code == 303
    changed = await rota.Shift.get(id=shift.id)
    assert (changed.starts_on, changed.start_minute) == (begun, 11 * 60)


async def test_a_stopped_weekly_shift_offers_a_restart_with_a_new_last_date(client, council):
    scheme = await create_scheme_ok(council)
    begun = today(datetime.now(timezone.utc)) - timedelta(days=8)  # its dates: 8 days ago, yesterday, in 6 days
    shift = await create_shift_ok(scheme, _next_week(), repeat="weekly", title="Pantry")
    await rota.Shift.filter(id=shift.id).update(starts_on=begun)
    running = await create_shift_ok(scheme, _next_week(), repeat="weekly", title="Lunch club")
    organiser = await organiser_of(scheme)
    await rota.stop(organiser, council, scheme.slug, shift.id)
    await client.signin_as(organiser)

    roster = await client.get(f"/schemes/{scheme.slug}/roster")
    assert text_of(roster, "#stopped li") == [f"Restart Pantry, Abbey ward: last date {rota.day_name(today(datetime.now(timezone.utc)))}"]
    assert html(roster).css_first(f"#stopped a[href='/schemes/{scheme.slug}/shifts/{shift.id}/edit']")
    assert not html(roster).css(f"#stopped a[href='/schemes/{scheme.slug}/shifts/{running.id}/edit']")
    slot = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/{begun.isoformat()}")
    assert text_of(slot, "#shift-stopped") == ["This weekly shift has no dates still to come."]
    assert text_of(slot, f"a[href='/schemes/{scheme.slug}/shifts/{shift.id}/edit']") == ["Restart the shift with a new last date: Pantry"]
    assert not html(slot).css(f"a[href='/schemes/{scheme.slug}/shifts/{shift.id}/stop']")  # it has stopped already
    form = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit")
    assert text_of(form, "#restarting") == [
        "This weekly shift has no dates still to come. To restart it, give it a last date after today, or leave the last date blank to keep it going until you stop it."
    ]
    values = {"title": "Pantry", "place": "The hall", "start_time": "10:00", "end_time": "12:00", "capacity": "2", "repeat_until": today(datetime.now(timezone.utc)).isoformat()}
    refused = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", values)
    assert refused.status_code == 422 and field_error(refused, "repeat_until") == rota.RESTART

    saved = await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/edit", {**values, "repeat_until": ""})

    assert saved.status_code == 303
    assert (await rota.Shift.get(id=shift.id)).repeat_until is None
    assert not html(await client.get(f"/schemes/{scheme.slug}/roster")).css("#stopped")
    restarted = await rota.Shift.get(id=shift.id)
    now = datetime.now(timezone.utc)
    assert [s.on for s in await rota.expand([restarted], now, now + timedelta(days=14))] == [begun + timedelta(days=14), begun + timedelta(days=21)]


# Asking before what cannot be undone


async def test_stopping_a_weekly_shift_asks_first_and_says_how_many_will_be_told(client, council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme)
    shift = await create_shift_ok(scheme, _next_week(), repeat="weekly", title="Pantry")
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, _next_week())
    await client.signin_as(await organiser_of(scheme))
    slot = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/{_next_week().isoformat()}")
    assert html(slot).css_first(f"a.govuk-button--warning[href='/schemes/{scheme.slug}/shifts/{shift.id}/stop']")
    assert not html(slot).css(f"form[action='/schemes/{scheme.slug}/shifts/{shift.id}/stop']")
    confirm = await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/stop")
    assert text_of(confirm, "h1") == ["Are you sure you want to stop Pantry?"]
    assert "1 sign-up to later dates will be cancelled" in text_of(confirm, ".govuk-warning-text__text")[0]
    assert html(confirm).css_first(f"form[action='/schemes/{scheme.slug}/shifts/{shift.id}/stop'] button.govuk-button--warning")
    assert (await rota.Shift.get(id=shift.id)).repeat_until is None  # asking is not stopping
    assert (await client.post(f"/schemes/{scheme.slug}/shifts/{shift.id}/stop")).status_code == 303
    assert (await client.get(f"/schemes/{scheme.slug}/shifts/{shift.id}/stop")).status_code == 409


async def test_removing_someone_from_a_scheme_asks_first(client, council):
    scheme = await create_scheme_ok(council)
    volunteer = await create_volunteer_ok(scheme, await create_user_ok(council, display_name="Dai Morgan"))
    await client.signin_as(await organiser_of(scheme))
    person = await client.get(f"/schemes/{scheme.slug}/people/{volunteer.id}")
    assert not html(person).css(f"form[action='/schemes/{scheme.slug}/people/{volunteer.id}/remove']")
    confirm = await client.get(f"/schemes/{scheme.slug}/people/{volunteer.id}/remove")
    assert text_of(confirm, "h1") == ["Are you sure you want to remove Dai Morgan from the scheme?"]
    assert text_of(confirm, "form button.govuk-button--warning") == ["Remove Dai Morgan"]
    assert (await Membership.get(id=volunteer.id)).status == "active"
    assert (await client.post(f"/schemes/{scheme.slug}/people/{volunteer.id}/remove")).status_code == 303
    assert (await Membership.get(id=volunteer.id)).status == "removed"


# Closing a scheme


async def test_closing_warns_what_it_will_end_and_a_closed_scheme_offers_no_rota_or_help(app, council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme)
    await create_help_request_ok(scheme, home_visit="no")
    shift = await create_shift_ok(scheme, _next_week())
    await rota.sign_up(volunteer.user, council, scheme.slug, shift.id, _next_week())
    async with Browser(app, council) as browser:
        await browser.signin_as(organiser)
        page = await browser.get(f"/schemes/{scheme.slug}")
        assert html(page).css_first(f'a[href="/schemes/{scheme.slug}/close"]') is not None
        confirm = await browser.get(f"/schemes/{scheme.slug}/close")
        assert text_of(confirm, "#closing-ends li") == [
            (
                "1 open help request will be cancelled. We will email each person who asked to say the scheme has closed "
                "and where to look for other help, and tell any volunteers matched to them."
            ),
            "1 upcoming shift with volunteers signed up will be cancelled, and the rota will stop. We will email the 1 volunteer on them.",
        ]
        closed = await browser.post(f"/schemes/{scheme.slug}/status", {"action": "close"})
        assert closed.status_code == 303
    async with Browser(app, council) as browser:
        await browser.signin_as(volunteer.user)
        page = await browser.get(f"/schemes/{scheme.slug}")
        links = [a.attributes.get("href") for a in html(page).css("a")]
        assert f"/schemes/{scheme.slug}/rota" not in links and f"/schemes/{scheme.slug}/ask" not in links
        assert text_of(page, "#membership") == ["You are a volunteer of this scheme."]


async def test_an_organiser_can_take_a_job_back_from_the_request_page(client, council):
    scheme = await create_scheme_ok(council)
    organiser = await organiser_of(scheme)
    volunteer = await create_volunteer_ok(scheme, user=await create_user_ok(council, display_name="Sid Silent"))
    request = await create_help_request_ok(scheme, home_visit="no")
    await help_requests.assign(organiser, council, scheme.slug, request.id, [str(volunteer.user.id)])
    await client.signin_as(organiser)
    page = await client.get(f"/schemes/{scheme.slug}/requests/{request.id}")
    [form] = html(page).css("#assignments form")
    assert " ".join(form.css_first("button").text().split()) == "Take this job back from Sid Silent"
    taken = await client.post(form.attributes["action"])
    assert taken.status_code == 303
    after = await client.follow(taken)
    assert text_of(after, "#assignments li") == ["Sid Silent: no longer on it"]
    assert (await HelpRequest.get(id=request.id)).status == "open"
    assert html(after).css_first("input[name=volunteers]") is not None, "the request can be matched again"
