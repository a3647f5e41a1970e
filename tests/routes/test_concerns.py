"""Flag a concern through the app: the form's steps, sending, the status page, triage and the export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import timedelta

from tortoise import timezone

from civic.concerns.models import Category, Concern, ConcernAccess, ConcernDraft, ConcernEvent, Referral, TeamMembership
from civic.councils import PostcodeSector
from civic.mail import OutgoingEmail
from tests.factories import (
    Browser,
    create_concern_ok,
    create_council_ok,
    create_team_ok,
    create_user_ok,
    field_error,
    html,
    mail_to,
    outward,
    postcode_in,
    refer_ok,
    stored_row,
    text_of,
    ward,
)

ANSWERS = [
    ("about", {"about": "child", "subject_name": "Jamie"}),
    ("category", {"category": "child-wellbeing"}),
    ("details", {"details": "Jamie often waits outside in the cold until late.\nNobody seems to be home."}),
    ("where", {"postcode": "", "ward": ""}),
    ("urgency", {"urgency": "day"}),
    ("knows", {"knows": "no"}),
    ("contact", {"contact_by": "email", "reporter_name": "Morgan", "reporter_email": "morgan@example.test", "reporter_phone": ""}),
]


async def fill_in(client: Browser, **changes: dict[str, str]) -> None:
    """Answer every step of the form, as a person would, up to the check page."""
    for step, answers in ANSWERS:
        response = await client.post(f"/concerns/new/{step}", {**answers, **changes.get(step, {})})
        assert response.status_code == 303, (step, field_error(response, next(iter(answers))), response.status_code)


async def send(client: Browser, **changes: dict[str, str]):
    await fill_in(client, **changes)
    return await client.post("/concerns/new/check", {"website": ""})


STATUS_LINK = re.compile(r"^/concerns/status/([A-Z2-9]{4}-[A-Z2-9]{4})/([\w-]+)\?sent=1$")


# The form


async def test_start_page_puts_999_and_the_childrens_front_door_first(client, council):
    response = await client.get("/concerns")
    assert response.status_code == 200
    emergency = text_of(response, ".app-emergency")[0]
    assert "999" in emergency and "01632 960 000" in emergency
    main = html(response).css_first("main")
    assert main.css_first(".app-emergency") is not None
    assert main.text().index("999") < main.text().index("Start now")
    assert [a.attributes["href"] for a in html(response).css("a.govuk-button--start")] == ["/concerns/new/about"]


async def test_resident_sends_a_concern_and_gets_a_reference_and_status_link(client, council, mailbox):
    response = await send(client)
    assert response.status_code == 303
    match = STATUS_LINK.match(response.headers["location"])
    assert match, response.headers["location"]
    reference, key = match.groups()
    assert not set(reference) & set("01OIL")

    page = await client.follow(response)
    assert text_of(page, ".govuk-panel__title") == ["Concern sent"]
    assert reference in text_of(page, ".app-reference")
    assert "within a day" in " ".join(text_of(page, "main p"))
    assert text_of(page, "#concern-status") == ["Received"]
    assert any(f"/concerns/status/{reference}/{key}" in t for t in text_of(page, "main a"))

    concern = await Concern.get(reference=reference).prefetch_related("category")
    assert concern.category.slug == "child-wellbeing" and concern.urgency == "day" and concern.status == "new"
    assert concern.details.startswith("Jamie often waits") and concern.reporter_email == "morgan@example.test"
    # The answers left the draft when sent: it keeps only the reference, for a repeat send to find.
    assert [json.loads(d.answers) for d in await ConcernDraft.filter(council=council)] == [{"sent": reference}]

    message = (await mailbox.wait_for("morgan@example.test"))[-1]
    assert reference in message["Subject"]
    assert f"/concerns/status/{reference}/{key}" in mailbox.body(message)
    assert "Jamie" not in mailbox.body(message)


async def test_sending_the_same_form_again_shows_the_same_concern(client, council, mailbox):
    first = await send(client)
    again = await client.post("/concerns/new/check", {"website": ""})  # say the first answer never arrived
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    page = await client.follow(again)
    assert text_of(page, ".govuk-panel__title") == ["Concern sent"]
    assert await Concern.filter(council=council).count() == 1
    assert await OutgoingEmail.filter(council=council).count() == 1  # and one "we have received it" e-mail
    # Only for a few minutes: on a shared device, sending again is a way back to the status page.
    [draft] = await ConcernDraft.filter(council=council)
    assert draft.expires_at <= timezone.now() + timedelta(minutes=5, seconds=5)
    await ConcernDraft.filter(id=draft.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    later = await client.post("/concerns/new/check", {"website": ""})
    assert later.status_code == 303 and later.headers["location"] != first.headers["location"]
    assert await Concern.filter(council=council).count() == 1


async def test_sending_the_form_twice_at_once_makes_one_concern(client, council):
    await fill_in(client)
    await client.csrf_token()
    both = await asyncio.gather(*(client.post("/concerns/new/check", {"website": ""}) for _ in range(2)))
    assert [r.status_code for r in both] == [303, 303]
    assert STATUS_LINK.match(both[0].headers["location"]) and both[0].headers["location"] == both[1].headers["location"]
    assert await Concern.filter(council=council).count() == 1


async def test_after_sending_the_form_starts_empty_and_sends_a_new_concern(client, council):
    first = await send(client)
    assert html(await client.get("/concerns")).css_first("#resume") is None
    about = await client.get("/concerns/new/about")
    assert not html(about).css("input[checked]")
    second = await send(client, details={"details": "Something else has happened."})
    assert second.headers["location"] != first.headers["location"]
    assert await Concern.filter(council=council).count() == 2
    assert await ConcernDraft.filter(council=council).count() == 1  # only the last one sent is remembered


async def test_each_step_checks_its_answers_and_keeps_what_was_typed(client, council):
    await client.post("/concerns/new/about", {"about": "neighbour"})
    await client.post("/concerns/new/category", {"category": "isolation"})
    too_long = "x" * 1201
    response = await client.post("/concerns/new/details", {"details": too_long})
    assert response.status_code == 422
    assert "1,200 characters or fewer" in field_error(response, "details")
    assert html(response).css_first("#details").text() == too_long

    response = await client.post("/concerns/new/details", {"details": "   "})
    assert field_error(response, "details") == "Tell us what is worrying you"

    await client.post("/concerns/new/details", {"details": "She has not been out for a week."})
    response = await client.post("/concerns/new/where", {"postcode": "not a postcode", "ward": "999999"})
    assert response.status_code == 422
    assert field_error(response, "postcode") and field_error(response, "ward")
    assert html(response).css_first("#postcode").attributes["value"] == "not a postcode"
    assert len(text_of(response, ".govuk-error-summary li")) == 2


async def test_the_session_row_holds_only_the_drafts_id_and_the_draft_is_encrypted(client, council):
    from civic.accounts import Session

    await fill_in(client)
    sessions = [s.data for s in await Session.filter(user=None) if "concern_draft" in s.data]
    assert sessions and not any("Jamie" in str(data) or "morgan@" in str(data) for data in sessions)
    draft_ids = {data["concern_draft"] for data in sessions}
    assert await ConcernDraft.filter(id__in=list(draft_ids)).count() == len(draft_ids)


async def test_the_category_hint_offers_something_else_only_while_the_council_has_it(client, council):
    await client.post("/concerns/new/about", ANSWERS[0][1])
    offered = await client.get("/concerns/new/category")
    assert text_of(offered, "#category-hint") == ["Choose the closest. If none fits, choose Something else."]
    await Category.filter(council=council, slug="other").update(active=False)  # an officer retired it
    retired = await client.get("/concerns/new/category")
    assert "Something else" not in text_of(retired, "#category-hint")[0] and "Something else" not in retired.text


async def test_contact_by_email_needs_an_address_and_anonymous_keeps_nothing_about_the_sender(client, council):
    await fill_in(client)
    response = await client.post("/concerns/new/contact", {"contact_by": "email", "reporter_name": "Morgan", "reporter_email": "nope"})
    assert response.status_code == 422
    assert field_error(response, "reporter_email")
    assert html(response).css_first("#reporter_name").attributes["value"] == "Morgan"

    await client.post("/concerns/new/contact", {"contact_by": "none", "reporter_name": "Morgan", "reporter_email": "morgan@example.test"})
    sent = await client.post("/concerns/new/check", {"website": ""})
    reference = STATUS_LINK.match(sent.headers["location"]).group(1)  # type: ignore[union-attr]
    concern = await Concern.get(reference=reference)
    assert concern.contact_by == "none"
    assert concern.reporter_name is None and concern.reporter_email is None and concern.reporter_id is None


async def test_each_contact_choice_says_what_it_means_and_only_an_email_address_is_sent_the_private_link(app, mailbox):
    council = await create_council_ok()
    hints = {}
    for contact in (
        {"contact_by": "none", "reporter_name": "", "reporter_email": "", "reporter_phone": ""},
        {"contact_by": "phone", "reporter_name": "", "reporter_email": "", "reporter_phone": "07700 900 982"},
    ):
        async with Browser(app, council) as visitor:
            await fill_in(visitor)
            step = await visitor.get("/concerns/new/contact")
            for radio in html(step).css("input[name=contact_by]"):
                hint = html(step).css_first(f"#{radio.attributes['id']}-item-hint")
                hints[radio.attributes["value"]] = " ".join(hint.text().split()) if hint else ""
            assert (await visitor.post("/concerns/new/contact", contact)).status_code == 303
            sent = await visitor.post("/concerns/new/check", {"website": ""})
            reference, key = STATUS_LINK.match(sent.headers["location"]).groups()  # type: ignore[union-attr]
            page = await visitor.follow(sent)
            # The link the hint says to keep is on the page after sending...
            assert any(f"/concerns/status/{reference}/{key}" in a.attributes.get("href", "") for a in html(page).css("main a")), contact
    # ...and nobody is sent it, as the hints for these two choices say.
    assert await OutgoingEmail.filter(council=council).count() == 0
    assert hints["email"].startswith("We email you your reference and a private link")
    assert "We send you nothing, so keep the private link you see after sending" in hints["phone"]
    assert "we cannot contact you" in hints["none"] and "we cannot send it to you again" in hints["none"]
    assert "with your private link" not in " ".join(hints.values())


async def test_a_postcode_places_the_concern_in_its_ward(client, council):
    response = await send(client, where={"postcode": postcode_in(council, "Harbourside").lower().replace(" ", "")})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1)).prefetch_related("ward")  # type: ignore[union-attr]
    assert concern.ward.name == "Harbourside"
    assert concern.postcode == postcode_in(council, "Harbourside")


async def test_a_postcode_in_another_councils_area_is_refused_plainly_and_what_was_typed_stays(client, council):
    neighbour = await create_council_ok()
    for step, answers in ANSWERS[:3]:
        await client.post(f"/concerns/new/{step}", answers)
    for typed, shown in (("sw1a1aa", "SW1A 1AA"), (postcode_in(neighbour, "Harbourside").lower(), postcode_in(neighbour, "Harbourside"))):
        response = await client.post("/concerns/new/where", {"postcode": typed, "ward": ""})
        assert response.status_code == 422, typed
        message = (
            f"{shown} is not in {council.name}'s area. If the person lives elsewhere, contact their own council. "
            "You can also leave the postcode blank."
        )
        assert field_error(response, "postcode") == message
        assert text_of(response, ".govuk-error-summary li") == [message]
        assert html(response).css_first("#postcode").attributes["value"] == typed
        assert html(response).css_first("#find-your-council a").attributes["href"] == "https://www.gov.uk/find-local-council"
    # Nothing of it was kept, and nothing before it was lost: someone coming back picks up at this step.
    assert html(await client.get("/concerns")).css_first("#resume a").attributes["href"] == "/concerns/new/where"
    assert "Jamie" in html(await client.get("/concerns/new/details")).css_first("#details").text()
    # Choosing a neighbourhood does not make a postcode elsewhere ours.
    chosen = await client.post("/concerns/new/where", {"postcode": "SW1A 1AA", "ward": str((await ward(council, "Abbey")).id)})
    assert chosen.status_code == 422 and "is not in" in field_error(chosen, "postcode")
    # htmx gets the same fragment, with the link.
    swapped = await client.post("/concerns/new/where", {"postcode": "SW1A 1AA", "ward": ""}, headers={"HX-Request": "true"})
    assert swapped.status_code == 422 and html(swapped).css_first("#find-your-council a") is not None
    blank = await client.post("/concerns/new/where", {"postcode": "", "ward": ""})
    assert blank.status_code == 303 and blank.headers["location"] == "/concerns/new/urgency"


async def test_the_first_part_of_a_postcode_is_taken_as_the_hint_offers_and_anything_else_is_refused(client, council):
    for answer_step, answers in ANSWERS[:3]:
        await client.post(f"/concerns/new/{answer_step}", answers)
    step = await client.get("/concerns/new/where")
    assert text_of(step, "#postcode-hint") == ["For example, NM1 4AB. If you are not sure, a nearby postcode is fine, or just the first part, like NM1 4 or NM1."]
    district = outward(council)
    # Not a postcode, nor the first part of one: refused by the field, and what was typed stays.
    for typed in ("near the park", "NM1 4A", f"{district} 44"):
        refused = await client.post("/concerns/new/where", {"postcode": typed, "ward": ""})
        assert refused.status_code == 422, typed
        assert field_error(refused, "postcode") == "Enter a postcode, like NM1 4AB, or its first part, like NM1 4 or NM1, or leave it blank"
        assert html(refused).css_first("#postcode").attributes["value"] == typed
    # The first part of another council's postcode is elsewhere, as a whole one is.
    neighbour = await create_council_ok()
    for typed in (f"{outward(neighbour)} 4", outward(neighbour).lower()):
        elsewhere = await client.post("/concerns/new/where", {"postcode": typed, "ward": ""})
        assert elsewhere.status_code == 422 and field_error(elsewhere, "postcode").startswith(f"{typed.upper()} is not in {council.name}'s area."), typed
    # A sector places the concern in its ward, and the check page shows it as typed.
    assert (await client.post("/concerns/new/where", {"postcode": f" {district.lower()}  4 ", "ward": ""})).status_code == 303
    for answer_step, answers in ANSWERS[4:]:
        await client.post(f"/concerns/new/{answer_step}", answers)
    check = await client.get("/concerns/new/check")
    assert f"{district} 4, Harbourside" in " ".join(text_of(check, ".govuk-summary-list__value"))
    sent = await client.post("/concerns/new/check", {"website": ""})
    concern = await Concern.get(reference=STATUS_LINK.match(sent.headers["location"]).group(1)).prefetch_related("ward")  # type: ignore[union-attr]
    assert concern.postcode == f"{district} 4" and concern.ward.name == "Harbourside"
    # A district alone is kept; it spans several wards, so it places the concern in none.
    response = await send(client, where={"postcode": district.lower()})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1))  # type: ignore[union-attr]
    assert concern.postcode == district and concern.ward_id is None
    # One whose every listed sector is in one ward places it there.
    await PostcodeSector.create(council=council, sector="KC9 1", ward=await ward(council, "Castlefields"))
    response = await send(client, where={"postcode": "kc9"})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1)).prefetch_related("ward")  # type: ignore[union-attr]
    assert concern.postcode == "KC9" and concern.ward.name == "Castlefields"


async def test_a_postcode_not_known_to_be_elsewhere_is_refused_or_kept_as_before(client, council):
    for step, answers in ANSWERS[:3]:
        await client.post(f"/concerns/new/{step}", answers)
    wrong = await client.post("/concerns/new/where", {"postcode": "NM1 4A", "ward": ""})
    assert field_error(wrong, "postcode") == "Enter a postcode, like NM1 4AB, or its first part, like NM1 4 or NM1, or leave it blank"
    assert html(wrong).css_first("#find-your-council") is None
    # A sector the council's list lacks, in a district it covers, may be a gap in the list: kept, with no ward.
    gap = f"{outward(council)} 9ZZ"
    response = await send(client, where={"postcode": gap})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1))  # type: ignore[union-attr]
    assert concern.postcode == gap and concern.ward_id is None


async def test_a_council_with_no_postcode_list_keeps_any_real_postcode(client, council):
    await PostcodeSector.filter(council=council).delete()
    response = await send(client, where={"postcode": "SW1A 1AA"})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1))  # type: ignore[union-attr]
    assert concern.postcode == "SW1A 1AA" and concern.ward_id is None


async def test_someone_who_left_part_way_is_offered_the_step_where_they_stopped(client, council):
    first = await client.get("/concerns")
    assert html(first).css_first("#resume") is None  # nothing started: only "Start now"
    for step, answers in ANSWERS[:3]:  # about, category, details
        await client.post(f"/concerns/new/{step}", answers)
    back = await client.get("/concerns")
    assert html(back).css_first("#resume a").attributes["href"] == "/concerns/new/where"
    await send(client)
    assert html(await client.get("/concerns")).css_first("#resume") is None  # sent: nothing to continue


# Someone on a shared device (it may be the person they are worried about's)


async def test_delete_my_answers_on_a_step_forgets_them_at_once(client, council):
    for step, answers in ANSWERS[:3]:
        await client.post(f"/concerns/new/{step}", answers)
    page = await client.get("/concerns/new/where")
    form = html(page).css_first("form#delete-answers")
    assert form.attributes["action"] == "/concerns/new/delete" and form.css_first('input[name="csrftoken"]') is not None
    response = await client.post("/concerns/new/delete", {})
    assert response.status_code == 303 and response.headers["location"] == "/concerns"
    assert not await ConcernDraft.filter(council=council).exists()
    start = await client.follow(response)
    assert text_of(start, ".govuk-notification-banner__heading") == ["We have deleted your answers. Nothing was sent."]
    assert html(start).css_first("#resume") is None
    assert (await client.get("/concerns/new/where")).headers["location"] == "/concerns/new/about"
    about = await client.get("/concerns/new/about")
    assert not html(about).css("input[checked]") and html(about).css_first("#subject_name").attributes.get("value") in (None, "")


async def test_every_step_and_the_check_page_offer_to_delete_the_answers(client, council):
    await fill_in(client)
    for step in [*(step for step, _ in ANSWERS), "check"]:
        page = await client.get(f"/concerns/new/{step}")
        assert html(page).css_first("form#delete-answers button").text().strip() == "Delete my answers", step


async def test_start_now_with_answers_kept_offers_to_continue_or_start_again(client, council):
    for step, answers in ANSWERS[:2]:
        await client.post(f"/concerns/new/{step}", answers)
    start = await client.get("/concerns")
    assert html(start).css("a.govuk-button--start") == []  # no "Start now" that quietly carries on
    assert text_of(start, "#resume a.govuk-button") == ["Continue where you left off"]
    assert text_of(start, "#resume button") == ["Start again (deletes your answers)", "Delete my answers"]
    assert "2 hours" in text_of(start, "#resume p")[0]

    response = await client.post("/concerns/new/delete", {"start_again": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/concerns/new/about"
    assert not await ConcernDraft.filter(council=council).exists()
    about = await client.follow(response)
    assert not html(about).css("input[checked]")
    assert text_of(about, ".govuk-notification-banner__heading") == ["We have deleted your answers. You can start again."]


async def test_answers_are_kept_for_two_hours_and_the_start_page_says_so(client, council):
    from datetime import timedelta

    from tortoise import timezone

    start = await client.get("/concerns")
    assert "We keep your answers for 2 hours" in " ".join(text_of(start, "main p"))
    before = timezone.now()
    await client.post("/concerns/new/about", ANSWERS[0][1])
    draft = await ConcernDraft.get(council=council)
    assert draft.expires_at <= before + timedelta(hours=2, minutes=1)


async def test_the_concern_pages_have_exit_this_page_to_a_neutral_site(client, council):
    concern, key = await create_concern_ok(council)
    await fill_in(client)
    for path in ["/concerns", "/concerns/new/about", "/concerns/new/check", f"/concerns/status/{concern.reference}/{key}"]:
        exit_link = html(await client.get(path)).css_first(".govuk-exit-this-page a.govuk-exit-this-page__button")
        assert exit_link is not None, path
        assert exit_link.attributes["href"] == "https://www.bbc.co.uk/weather"
        assert " ".join(exit_link.text().split()) == "Emergency Exit this page"
    assert html(await client.get("/")).css_first(".govuk-exit-this-page") is None  # only where it is needed


# Someone worried about themselves


MYSELF = {"about": {"about": "myself", "subject_name": ""}, "category": {"category": "isolation"}, "knows": {}}


async def fill_in_about_myself(client: Browser, **changes: dict[str, str]) -> None:
    for step, answers in ANSWERS:
        if step == "knows":
            continue
        response = await client.post(f"/concerns/new/{step}", {**answers, **MYSELF.get(step, {}), **changes.get(step, {})})
        assert response.status_code == 303, (step, response.status_code)
        assert response.headers["location"] != "/concerns/new/knows"


async def test_someone_worried_about_themselves_is_not_asked_whether_the_person_knows(client, council):
    await client.post("/concerns/new/about", MYSELF["about"])
    await client.post("/concerns/new/category", MYSELF["category"])
    await client.post("/concerns/new/details", ANSWERS[2][1])
    await client.post("/concerns/new/where", ANSWERS[3][1])
    response = await client.post("/concerns/new/urgency", ANSWERS[4][1])
    assert response.headers["location"] == "/concerns/new/contact"  # not "does the person know"
    assert (await client.get("/concerns/new/knows")).headers["location"] == "/concerns/new/contact"
    contact = await client.get("/concerns/new/contact")
    assert text_of(contact, ".govuk-caption-l") == ["Step 6 of 7"]
    assert html(contact).css_first(".govuk-back-link").attributes["href"] == "/concerns/new/urgency"
    await client.post("/concerns/new/contact", ANSWERS[6][1])
    check = await client.get("/concerns/new/check")
    assert text_of(check, ".govuk-summary-list__key") == ["Who it is about", "What it is about", "What is worrying you", "Where", "How soon", "Contact"]
    assert text_of(check, ".govuk-caption-l") == ["Step 7 of 7"]
    sent = await client.post("/concerns/new/check", {"website": ""})
    concern = await Concern.get(reference=STATUS_LINK.match(sent.headers["location"]).group(1))  # type: ignore[union-attr]
    assert concern.about == "myself" and concern.person_knows == "yes"


async def test_changing_myself_to_someone_else_asks_whether_they_know(client, council):
    await fill_in_about_myself(client)
    response = await client.post("/concerns/new/about", {"about": "neighbour", "subject_name": "", "change": "1"})
    assert response.headers["location"] == "/concerns/new/knows"
    assert (await client.post("/concerns/new/check", {"website": ""})).headers["location"] == "/concerns/new/knows"


async def test_the_name_question_reads_right_for_someone_worried_about_themselves(client, council):
    about = await client.get("/concerns/new/about")
    assert text_of(about, 'label[for="subject_name"]') == ["Name of the person you are worried about (optional)"]
    assert "If you are worried about yourself, you can leave it blank." in text_of(about, "#subject_name-hint")[0]


async def test_someone_worried_about_their_own_mental_health_is_told_where_to_get_help_now(client, council):
    await fill_in_about_myself(client, category={"category": "mental-health"})
    for path in ["/concerns/new/details", "/concerns/new/check"]:
        support = " ".join(text_of(await client.get(path), "#crisis-support"))
        assert "Samaritans" in support and "116 123" in support and "NHS 111" in support and "option 2" in support, path
        assert "999" in support


async def test_crisis_support_is_only_for_their_own_mental_health(app, council):
    for changes in ({"category": {"category": "isolation"}}, {"about": {"about": "neighbour", "subject_name": ""}, "category": {"category": "mental-health"}}):
        async with Browser(app, council) as browser:
            if "about" in changes:
                await fill_in(browser, **changes)
            else:
                await fill_in_about_myself(browser, **changes)
            for path in ["/concerns/new/details", "/concerns/new/check"]:
                assert html(await browser.get(path)).css_first("#crisis-support") is None, (changes, path)


async def test_steps_cannot_be_skipped(client, council):
    response = await client.get("/concerns/new/urgency")
    assert response.status_code == 303 and response.headers["location"] == "/concerns/new/about"
    await client.post("/concerns/new/about", {"about": "myself"})
    response = await client.post("/concerns/new/check", {"website": ""})
    assert response.headers["location"] == "/concerns/new/category"
    assert not await Concern.filter(council=council).exists()


async def test_change_from_the_check_page_comes_back_to_it(client, council):
    await fill_in(client)
    page = await client.get("/concerns/new/urgency?change=1")
    assert html(page).css_first('input[name="change"]').attributes["value"] == "1"
    assert html(page).css_first(".govuk-back-link").attributes["href"] == "/concerns/new/check"  # not the step before
    unchanged = await client.post("/concerns/new/urgency", {"urgency": "", "change": "1"})
    assert unchanged.status_code == 422 and html(unchanged).css_first(".govuk-back-link").attributes["href"] == "/concerns/new/check"
    assert "checked" in html(page).css_first('input[name="urgency"][value="day"]').attributes
    response = await client.post("/concerns/new/urgency", {"urgency": "week", "change": "1"})
    assert response.headers["location"] == "/concerns/new/check"
    check = await client.follow(response)
    assert "Within a week" in text_of(check, ".govuk-summary-list__value")


async def test_signed_in_resident_finds_their_details_filled_in(client, council):
    resident = await create_user_ok(council, display_name="Ceri Jones")
    await client.signin_as(resident)
    for step, answers in ANSWERS[:-1]:
        await client.post(f"/concerns/new/{step}", answers)
    page = await client.get("/concerns/new/contact")
    assert html(page).css_first("#reporter_name").attributes["value"] == "Ceri Jones"
    assert html(page).css_first("#reporter_email").attributes["value"] == resident.email
    response = await send(client, contact={"contact_by": "email", "reporter_name": "Ceri Jones", "reporter_email": resident.email})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1))  # type: ignore[union-attr]
    assert concern.reporter_id == resident.id  # type: ignore[attr-defined]


async def test_the_sixth_concern_from_one_address_in_a_minute_is_refused_politely_and_nothing_is_lost(client, council, clean_limits):
    for _ in range(5):
        assert (await send(client)).status_code == 303
    await fill_in(client, details={"details": "A sixth worry, typed with care."})
    sixth = await client.post("/concerns/new/check", {"website": ""})
    assert sixth.status_code == 429
    assert "wait a minute" in text_of(sixth, "#send")[0]
    assert "A sixth worry, typed with care." in text_of(sixth, ".govuk-summary-list__value")
    assert await Concern.filter(council=council).count() == 5
    assert await ConcernDraft.filter(council=council).count() == 1  # the answers are still saved
    again = await client.get("/concerns/new/check")
    assert "A sixth worry, typed with care." in text_of(again, ".govuk-summary-list__value")


async def test_one_account_is_limited_across_addresses(app, council, clean_limits):
    resident = await create_user_ok(council)
    for _ in range(5):
        async with Browser(app, council) as browser:
            await browser.signin_as(resident)
            assert (await send(browser)).status_code == 303
    async with Browser(app, council) as browser:
        await browser.signin_as(resident)
        assert (await send(browser)).status_code == 429


async def test_a_filled_honeypot_is_refused_and_nothing_is_sent(client, council):
    await fill_in(client)
    response = await client.post("/concerns/new/check", {"website": "https://spam.example"})
    assert response.status_code == 422
    assert field_error(response, "website")
    assert not await Concern.filter(council=council).exists()


# The status page


async def test_status_page_needs_the_right_secret(client, council):
    concern, key = await create_concern_ok(council)
    assert (await client.get(f"/concerns/status/{concern.reference}/{key}")).status_code == 200
    assert (await client.get(f"/concerns/status/{concern.reference}/{key}x")).status_code == 404
    assert (await client.get(f"/concerns/status/{concern.reference}/")).status_code == 404


async def test_status_page_of_another_council_is_not_found(app, council):
    from tests.factories import create_council_ok

    concern, key = await create_concern_ok(council)
    other = await create_council_ok()
    async with Browser(app, other) as elsewhere:
        assert (await elsewhere.get(f"/concerns/status/{concern.reference}/{key}")).status_code == 404


async def test_status_page_shows_safe_wording_only(client, council):
    concern, key = await create_concern_ok(council)
    await ConcernEvent.create(concern=concern, kind="note", text="Family known to housing; mother unwell.")
    page = await client.get(f"/concerns/status/{concern.reference}/{key}")
    assert text_of(page, "#concern-status") == ["Received"]
    assert "mother unwell" not in page.text
    assert "children next door" not in page.text  # not even their own words: the link could be seen by others
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_reporter_adds_information_that_officers_see(app, client, council):
    concern, key = await create_concern_ok(council)
    response = await client.post(f"/concerns/status/{concern.reference}/{key}", {"information": "It happened again last night."})
    assert response.status_code == 303
    event = await ConcernEvent.get(concern=concern, kind="info-added")
    assert event.text == "It happened again last night."
    # The page says it was added (a question answered looked unanswered), never what: the link may be shared.
    page = await client.follow(response)
    assert text_of(page, ".app-added")[0].startswith("You added to your concern on")
    assert "It happened again" not in page.text
    empty = await client.post(f"/concerns/status/{concern.reference}/{key}", {"information": ""})
    assert empty.status_code == 422 and field_error(empty, "information")


async def test_a_closed_concern_says_how_to_raise_a_new_one_also_to_a_late_addition(client, council):
    concern, key = await create_concern_ok(council, status="closed")
    page = await client.get(f"/concerns/status/{concern.reference}/{key}")
    assert html(page).css_first("#still-worried a").attributes["href"] == "/concerns"
    late = await client.post(f"/concerns/status/{concern.reference}/{key}", {"information": "It is happening again."})
    assert late.status_code == 422 and "This concern is closed" in late.text
    assert html(late).css_first("#still-worried a").attributes["href"] == "/concerns"  # not a dead end
    assert not await ConcernEvent.filter(concern=concern, kind="info-added").exists()


# Triage


async def _officer(app, council) -> Browser:
    browser = Browser(app, council)
    await browser.signin_as(await create_user_ok(council, role="officer"))
    return browser


async def test_queue_puts_the_most_urgent_first_then_the_oldest(app, council):
    from datetime import timedelta

    from tortoise import timezone

    old_week, _ = await create_concern_ok(council, urgency="week")
    await Concern.filter(id=old_week.id).update(created_at=timezone.now() - timedelta(days=3))
    day_new, _ = await create_concern_ok(council, urgency="day")
    day_old, _ = await create_concern_ok(council, urgency="day")
    await Concern.filter(id=day_old.id).update(created_at=timezone.now() - timedelta(hours=5))
    later, _ = await create_concern_ok(council, urgency="when-you-can")
    async with await _officer(app, council) as officer:
        page = await officer.get("/officer/concerns")
    assert page.status_code == 200
    references = [t.split(":")[0] for t in text_of(page, ".app-queue__title")]
    assert references == [day_old.reference, day_new.reference, old_week.reference, later.reference]


async def test_a_key_worker_starts_with_their_teams_work_including_what_was_referred_to_it(app, council):
    # Only "waiting" (new or being looked at) was shown first: every referral to the team was hidden.
    team = await create_team_ok(council, "Family Support North")
    await create_team_ok(council, "Young People's Team")  # another team's, which this key worker is not offered
    key_worker = await create_user_ok(council, role="key-worker")
    await TeamMembership.create(team=team, user=key_worker)
    assigned, _ = await create_concern_ok(council, team=team)
    referred, _, _ = await refer_ok(council, team)
    closed, _, _ = await refer_ok(council, team)
    await Concern.filter(id=closed.id).update(status="closed")
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get("/officer/concerns")
    assert {t.split(":")[0] for t in text_of(page, ".app-queue__title")} == {assigned.reference, referred.reference}
    teams = text_of(page, "#team option")
    assert "Family Support North" in teams and "Young People's Team" not in teams  # theirs only: the others always show none


async def test_queue_filters_by_status_category_ward_and_team(app, council):
    team = await create_team_ok(council)
    in_abbey, _ = await create_concern_ok(council, category="isolation")
    elsewhere, _ = await create_concern_ok(council, category="isolation", ward=await ward(council, "Harbourside"), team=team)
    closed, _ = await create_concern_ok(council, category="caring", status="closed")
    async with await _officer(app, council) as officer:
        def refs(page):
            return {t.split(":")[0] for t in text_of(page, ".app-queue__title")}

        assert refs(await officer.get("/officer/concerns")) == {in_abbey.reference, elsewhere.reference}
        assert refs(await officer.get("/officer/concerns?status=closed")) == {closed.reference}
        harbourside = await ward(council, "Harbourside")
        assert refs(await officer.get(f"/officer/concerns?ward={harbourside.id}")) == {elsewhere.reference}
        assert refs(await officer.get(f"/officer/concerns?team={team.id}")) == {elsewhere.reference}
        assert refs(await officer.get("/officer/concerns?team=none")) == {in_abbey.reference}
        assert refs(await officer.get("/officer/concerns?status=all&category=caring")) == {closed.reference}
        assert refs(await officer.get(f"/officer/concerns?status=all&q={closed.reference.lower().replace('-', '')}")) == {closed.reference}
        fragment = await officer.get("/officer/concerns?status=closed", headers={"HX-Request": "true"})
        assert html(fragment).css_first("h1") is None and refs(fragment) == {closed.reference}


async def test_opening_a_concern_logs_the_view_and_marks_it_as_being_looked_at(app, council):
    concern, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        assert page.status_code == 200
        assert text_of(page, "#concern-details") == [concern.details]
        assert "reporter-" not in page.text  # the address stays hidden until someone needs it
        await officer.get(f"/officer/concerns/{concern.reference}")
        log = await officer.get(f"/officer/concerns/{concern.reference}/access")
    assert await ConcernAccess.filter(concern=concern, action="viewed").count() == 2
    assert len(text_of(log, "tbody tr")) == 2
    concern = await Concern.get(id=concern.id)
    assert concern.status == "open" and concern.first_opened_at is not None
    async with Browser(app, council) as reporter:
        status = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
    assert text_of(status, "#concern-status") == ["Being looked at"]


async def test_a_concern_opened_and_left_past_its_time_is_still_flagged_overdue(app, council):
    from datetime import timedelta

    from tortoise import timezone

    from civic.concerns import escalation

    team = await create_team_ok(council)
    key_worker = await create_user_ok(council, role="key-worker")
    await TeamMembership.create(team=team, user=key_worker)
    concern, _ = await create_concern_ok(council, urgency="day", team=team)
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        assert (await browser.get(f"/officer/concerns/{concern.reference}")).status_code == 200  # a key worker's look opens it
    await Concern.filter(id=concern.id).update(due_at=timezone.now() - timedelta(hours=2))
    await escalation.escalate_overdue()
    async with await _officer(app, council) as officer:
        queue = await officer.get("/officer/concerns")
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        home = await officer.get("/officer")
    [item] = [li for li in html(queue).css(".app-queue__item") if concern.reference in li.text()]
    assert " ".join(item.css_first(".app-queue__tag").text().split()) == "Overdue"
    assert "past its time" in text_of(page, "#concern-overdue")[0]
    assert any("Not referred or closed in time: the duty address was told" in h for h in text_of(page, ".app-history li"))
    assert any(concern.reference in t and "Overdue" in t for t in text_of(home, ".app-attention li"))


async def test_officer_assigns_notes_and_refers_and_the_reporter_sees_it_passed_on(app, council):
    team = await create_team_ok(council, "Family Support North", default=True)
    concern, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        assert (await officer.post(f"/officer/concerns/{concern.reference}/assign", {"team": str(team.id)})).status_code == 303
        assert (await officer.post(f"/officer/concerns/{concern.reference}/note", {"note": "Spoke to the school."})).status_code == 303
        assert (await officer.post(f"/officer/concerns/{concern.reference}/refer", {"refer_team": ""})).status_code == 303
        page = await officer.get(f"/officer/concerns/{concern.reference}")
    history = text_of(page, ".app-history li")
    assert any("Assigned to a team: Family Support North" in h for h in history)
    assert any("Spoke to the school." in h for h in history)
    assert any("Referred to early help" in h for h in history)
    referral = await Referral.get(concern=concern).prefetch_related("team")
    assert referral.team.name == "Family Support North"
    async with Browser(app, council) as reporter:
        status = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
    assert text_of(status, "#concern-status") == ["Passed to the early help team"]


async def test_referral_follows_the_routing_rules(app, council):
    from civic.concerns.models import Category, RoutingRule

    default = await create_team_ok(council, default=True)
    abbey_team = await create_team_ok(council)
    category = await Category.get(council=council, slug="child-wellbeing") if await Category.filter(council=council).exists() else None
    concern, _ = await create_concern_ok(council)
    category = await Category.get(council=council, slug="child-wellbeing")
    await RoutingRule.create(council=council, category=category, ward=await ward(council, "Abbey"), team=abbey_team)
    elsewhere, _ = await create_concern_ok(council, ward=await ward(council, "Castlefields"))
    async with await _officer(app, council) as officer:
        await officer.post(f"/officer/concerns/{concern.reference}/refer", {})
        await officer.post(f"/officer/concerns/{elsewhere.reference}/refer", {})
    assert (await Referral.get(concern=concern)).team_id == abbey_team.id
    assert (await Referral.get(concern=elsewhere)).team_id == default.id


async def test_a_refer_straight_away_category_skips_triage(client, council):
    from civic.concerns.models import Category

    team = await create_team_ok(council, default=True)
    await client.get("/concerns/new/about")
    await create_concern_ok(council)  # makes the council's categories
    await Category.filter(council=council, slug="leaving-home").update(refer_straight_away=True)
    response = await send(client, category={"category": "leaving-home"})
    concern = await Concern.get(reference=STATUS_LINK.match(response.headers["location"]).group(1))  # type: ignore[union-attr]
    assert concern.status == "referred" and concern.team_id == team.id
    referral = await Referral.get(concern=concern)
    assert referral.automatic and referral.referred_by_id is None  # type: ignore[attr-defined]


async def test_asking_for_information_emails_the_reporter_without_showing_the_officer_the_address(app, council, mailbox):
    concern, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        response = await officer.post(f"/officer/concerns/{concern.reference}/ask", {"question": "Which school does he go to?"})
        assert response.status_code == 303
        page = await officer.follow(response)
    assert concern.reporter_email not in page.text
    message = (await mailbox.wait_for(concern.reporter_email))[-1]
    assert "Which school" not in mailbox.body(message)  # the question waits on the status page
    assert f"/concerns/status/{concern.reference}/{key}" in mailbox.body(message)
    async with Browser(app, council) as reporter:
        status = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
    assert "Which school does he go to?" in " ".join(text_of(status, ".govuk-inset-text"))


async def test_sent_email_to_the_reporter_is_scrubbed(app, council, mailbox):
    from civic.concerns.notices import SCRUBBED_ADDRESS, SCRUBBED_BODY, scrub_sent_reporter_email

    concern, _ = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        await officer.post(f"/officer/concerns/{concern.reference}/ask", {"question": "When did this start?"})
    await mailbox.wait_for(concern.reporter_email)
    [sent] = await mail_to(concern.reporter_email)
    assert await scrub_sent_reporter_email() >= 1
    assert not await mail_to(concern.reporter_email).exists()
    scrubbed = await OutgoingEmail.get(id=sent.id)
    assert (scrubbed.to, scrubbed.body) == (SCRUBBED_ADDRESS, SCRUBBED_BODY)
    stored = await stored_row("outgoing_email", sent.id)
    assert stored["body"].startswith("gAAAAA") and stored["to"].startswith("gAAAAA")  # written encrypted too
    assert sent.id in [row.id for row in await mail_to(SCRUBBED_ADDRESS)]  # found as removed, so never sent again


async def test_showing_contact_details_is_logged(app, council):
    concern, _ = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        page = await officer.post(f"/officer/concerns/{concern.reference}/contact")
    assert page.status_code == 200
    assert concern.reporter_email in text_of(page, ".govuk-summary-list__value")
    assert await ConcernAccess.filter(concern=concern, action="contact details shown").exists()


async def test_signposting_closes_and_gives_the_reporter_the_link(app, council, mailbox):
    concern, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        bad = await officer.post(f"/officer/concerns/{concern.reference}/signpost", {"scheme_name": "", "scheme_url": "javascript:alert(1)"})
        assert bad.status_code == 422
        assert field_error(bad, "scheme_name") and field_error(bad, "scheme_url")
        good = await officer.post(
            f"/officer/concerns/{concern.reference}/signpost", {"scheme_name": "Abbey Friends", "scheme_url": "https://abbey-friends.example/"}
        )
        assert good.status_code == 303
    message = (await mailbox.wait_for(concern.reporter_email))[-1]
    assert "https://abbey-friends.example/" in mailbox.body(message)
    async with Browser(app, council) as reporter:
        status = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
    assert text_of(status, "#concern-status") == ["Closed"]
    assert [a.attributes["href"] for a in html(status).css('a[rel="noreferrer noopener"]')] == ["https://abbey-friends.example/"]


async def test_no_further_action_needs_a_reason(app, council):
    concern, _ = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        response = await officer.post(f"/officer/concerns/{concern.reference}/close", {"reason": " "})
        assert response.status_code == 422 and field_error(response, "reason")
        assert "open" in html(response).css_first("#action-close").attributes  # the error is in sight
        assert (await officer.post(f"/officer/concerns/{concern.reference}/close", {"reason": "Already known to the team."})).status_code == 303
        again = await officer.post(f"/officer/concerns/{concern.reference}/refer", {})
        assert again.status_code == 409
    concern = await Concern.get(id=concern.id)
    assert concern.status == "closed" and concern.closed_reason == "no-further-action" and concern.closed_at


async def test_merging_a_duplicate_makes_its_reporter_follow_the_kept_concern(app, council):
    team = await create_team_ok(council, default=True)
    kept, _ = await create_concern_ok(council)
    duplicate, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        itself = await officer.post(f"/officer/concerns/{duplicate.reference}/merge", {"into": duplicate.reference})
        assert itself.status_code == 422 and field_error(itself, "into")
        assert (await officer.post(f"/officer/concerns/{duplicate.reference}/merge", {"into": kept.reference.lower()})).status_code == 303
        await officer.post(f"/officer/concerns/{kept.reference}/refer", {"refer_team": str(team.id)})
    duplicate = await Concern.get(id=duplicate.id)
    assert duplicate.status == "closed" and duplicate.merged_into_id == kept.id  # type: ignore[attr-defined]
    async with Browser(app, council) as reporter:
        status = await reporter.get(f"/concerns/status/{duplicate.reference}/{key}")
    assert text_of(status, "#concern-status") == ["Passed to the early help team"]


async def test_export_lists_the_queue_without_text_and_logs_each_concern(app, council):
    concern, _ = await create_concern_ok(council, details="=HYPERLINK(\"http://evil.example\")")
    async with await _officer(app, council) as officer:
        response = await officer.get("/officer/concerns/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "reference" and [r[0] for r in rows[1:]] == [concern.reference]
    assert "HYPERLINK" not in response.text and concern.reporter_email not in response.text
    assert await ConcernAccess.filter(concern=concern, action="exported").count() == 1


async def test_key_worker_sees_only_their_teams_concerns(app, council):
    key_worker = await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    theirs, _ = await create_concern_ok(council, team=team)
    other, _ = await create_concern_ok(council)
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        queue = await browser.get("/officer/concerns")
        assert [t.split(":")[0] for t in text_of(queue, ".app-queue__title")] == [theirs.reference]
        assert (await browser.get(f"/officer/concerns/{theirs.reference}")).status_code == 200
        assert (await browser.get(f"/officer/concerns/{other.reference}")).status_code == 404
        assert (await browser.get(f"/officer/concerns?q={other.reference}")).status_code == 200
        assert text_of(await browser.get(f"/officer/concerns?status=all&q={other.reference}"), ".app-queue__title") == []
        assert (await browser.post(f"/officer/concerns/{theirs.reference}/note", {"note": "Visited."})).status_code == 303
        assert (await browser.post(f"/officer/concerns/{theirs.reference}/close", {"reason": "x"})).status_code == 403


async def test_officer_of_another_council_cannot_find_a_concern_at_their_own_site(app, council):
    from tests.factories import create_council_ok

    concern, _ = await create_concern_ok(council)
    other = await create_council_ok()
    async with Browser(app, other) as browser:
        await browser.signin_as(await create_user_ok(other, role="officer"))
        assert (await browser.get(f"/officer/concerns/{concern.reference}")).status_code == 404
        listed = await browser.get(f"/officer/concerns?status=all&q={concern.reference}")
        assert text_of(listed, ".app-queue__title") == []
        export = await browser.get("/officer/concerns/export.csv?status=all")
        assert concern.reference not in export.text


async def test_officer_sets_up_teams_categories_and_rules(app, council):
    from civic.concerns.models import Category, RoutingRule, Team, TeamMembership

    key_worker = await create_user_ok(council, role="key-worker")
    async with await _officer(app, council) as officer:
        assert (await officer.post("/officer/concerns/routing/teams", {"team_name": "Family Hub"})).status_code == 303
        team = await Team.get(council=council, name="Family Hub")
        assert team.is_default  # the first team is the default
        resident = await create_user_ok(council)
        refused = await officer.post(f"/officer/concerns/routing/teams/{team.id}/members", {f"member_email_{team.id}": resident.email})
        # An officer cannot open the Roles page, so they are told who can help rather than sent there.
        assert refused.status_code == 422
        assert field_error(refused, f"member_email_{team.id}") == "They are not a key worker yet. Ask an administrator to give them the key worker role, then add them to a team"
        added = await officer.post(f"/officer/concerns/routing/teams/{team.id}/members", {f"member_email_{team.id}": key_worker.email})
        assert added.status_code == 303 and await TeamMembership.filter(team=team, user=key_worker).exists()
        assert (await officer.post("/officer/concerns/routing/categories", {"category_name": "School uniform costs", "refer_straight_away": "yes"})).status_code == 303
        category = await Category.get(council=council, name="School uniform costs")
        assert category.refer_straight_away
        rule = {"rule_category": str(category.id), "rule_ward": str((await ward(council, "Abbey")).id), "rule_team": str(team.id)}
        assert (await officer.post("/officer/concerns/routing/rules", rule)).status_code == 303
        again = await officer.post("/officer/concerns/routing/rules", rule)
        assert again.status_code == 422 and field_error(again, "rule_category")
        assert (await officer.post(f"/officer/concerns/routing/categories/{category.id}", {"refer_straight_away": "yes"})).status_code == 303
        page = await officer.get("/officer/concerns/routing")
        assert page.status_code == 200
    assert await RoutingRule.filter(council=council, category=category, team=team).exists()
    assert not (await Category.get(id=category.id)).active
    async with Browser(app, council) as resident_browser:
        await resident_browser.post("/concerns/new/about", {"about": "myself"})
        labels = text_of(await resident_browser.get("/concerns/new/category"), ".govuk-radios__label")
    assert "School uniform costs" not in labels and "Something else" in labels  # retired: no longer offered


async def test_an_over_long_reference_is_simply_not_found(app, council):
    from tests.factories import Browser, create_user_ok

    async with Browser(app, council) as officer:
        await officer.signin_as(await create_user_ok(council, role="officer"))
        assert (await officer.get("/officer/concerns/ABCDEFGHJKMNPQRSTUVWXYZ")).status_code == 404
        assert (await officer.get("/officer/concerns?q=ABCDEFGHJKMNPQRSTUVWXYZ")).status_code == 200
    async with Browser(app, council) as anyone:
        assert (await anyone.get("/concerns/status/ABCDEFGHJKMNPQRSTUVWXYZ/secret")).status_code == 404


async def test_nothing_a_reporter_types_reaches_the_logs(app, council, caplog, mailbox):
    import logging

    from tests.factories import Browser

    secret_words = {
        "details": "Zebedee-unique-worry-text sleeps in the stairwell",
        "subject_name": "Quillon-unique-name",
        "reporter_name": "Marigold-unique-reporter",
        "reporter_email": "marigold-unique@example.test",
    }
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="civic")
    async with Browser(app, council) as reporter:
        response = await send(
            reporter,
            about={"about": "child", "subject_name": secret_words["subject_name"]},
            details={"details": secret_words["details"]},
            contact={"contact_by": "email", "reporter_name": secret_words["reporter_name"], "reporter_email": secret_words["reporter_email"], "reporter_phone": ""},
        )
    assert response.status_code == 303
    # "mail.log" is the test SMTP server's own log (aiosmtpd), a peer rather than civic.
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")
    assert "POST" in logged  # the capture is live: the requests themselves were logged
    for field, value in secret_words.items():
        assert value.split()[0] not in logged, f"{field} reached the logs"


# Key workers of a team with no case system record what happened


async def test_a_key_worker_whose_team_has_no_case_system_records_received_allocated_and_closed(app, council):
    from civic.audit import AuditLog
    from civic.webhooks.models import ReferralUpdate

    key_worker = await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, "Young People's Team", members=[key_worker])
    concern, key, referral = await refer_ok(council, team)
    officer = await create_user_ok(council, role="officer")

    async def on_officer_home() -> list[str]:
        from civic.officers import attention

        return [item.tag for s in await attention(officer, council) if s.title == "Referrals" for item in s.items if concern.reference in item.text]

    assert await on_officer_home() == ["No case system"]
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get(f"/officer/concerns/{concern.reference}")
        assert [i.attributes["value"] for i in html(page).css("#action-referral-status input[name=status]")] == ["received", "allocated", "closed"]
        received = await browser.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "received"})
        assert received.status_code == 303
        page = await browser.follow(received)
        assert text_of(page, ".govuk-notification-banner__heading") == ["Recorded: received by the team."]
        assert text_of(page, f"#referral-{referral.id} .app-referral__status") == ["Received by the team"]
        assert await on_officer_home() == []  # the team has it
        allocated = await browser.post(f"/officer/concerns/{concern.reference}/referral-status",
                                       {"status": "allocated", "key_worker_first_name": "Sam", "key_worker_role": "Family support worker"})
        assert allocated.status_code == 303
        async with Browser(app, council) as reporter:
            status = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
        assert text_of(status, "#concern-status") == ["A key worker has been allocated"]
        no_outcome = await browser.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "closed"})
        assert no_outcome.status_code == 422 and field_error(no_outcome, "outcome") == "Choose the outcome"
        closed = await browser.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "closed", "outcome": "support-provided"})
        assert closed.status_code == 303
        page = await browser.follow(closed)
        assert not html(page).css("#action-referral-status")  # closed: nothing more to record
    history = text_of(page, ".app-history li")
    assert any("Allocated to a key worker: Sam (Family support worker)" in h for h in history)
    assert any("Closed by the team: Early help support was given" in h for h in history)
    concern = await Concern.get(id=concern.id)
    assert concern.status == "closed" and concern.closed_reason == "closed-by-team" and concern.closed_at is not None  # so it is purged in time
    assert [u.status for u in await ReferralUpdate.filter(referral=referral).order_by("id")] == ["received", "allocated", "closed"]
    assert [e.actor_id for e in await AuditLog.filter(action__startswith="referral.", target_id=str(referral.id)).order_by("id")] == [key_worker.id] * 3
    assert await ConcernAccess.filter(concern=concern, user=key_worker, action="status recorded: closed").exists()
    async with Browser(app, council) as reporter:
        status = await reporter.get(f"/concerns/status/{concern.reference}/{key}")
    assert text_of(status, "#concern-status") == ["Closed"]


async def test_only_key_workers_of_a_team_without_a_working_case_system_may_record_a_referrals_status(app, council):
    from civic.concerns.models import Referral as ReferralRow
    from tests.factories import create_endpoint_ok

    key_worker, other_worker = await create_user_ok(council, role="key-worker"), await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    await create_team_ok(council, members=[other_worker])
    concern, _, referral = await refer_ok(council, team)
    async with await _officer(app, council) as officer:
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        assert not html(page).css("#action-referral-status")
        assert (await officer.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "received"})).status_code == 403
    async with Browser(app, council) as browser:
        await browser.signin_as(other_worker)
        assert (await browser.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "received"})).status_code == 404
    endpoint, _, _ = await create_endpoint_ok(council, team)
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get(f"/officer/concerns/{concern.reference}")
        assert not html(page).css("#action-referral-status")  # the team's system posts it through the API
        assert (await browser.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "received"})).status_code == 409
        from civic.webhooks.models import KeyWorkerEndpoint

        await KeyWorkerEndpoint.filter(id=endpoint.id).update(status="disabled")  # switched off: its key no longer works
        assert (await browser.post(f"/officer/concerns/{concern.reference}/referral-status", {"status": "received"})).status_code == 303
    assert (await ReferralRow.get(id=referral.id)).status == "received"


async def test_a_concern_cannot_be_merged_into_a_closed_one(app, council):
    # Merging closes the duplicate: into a closed concern it left every queue, never escalated, and its reporter read "Closed".
    closed, _ = await create_concern_ok(council)
    fresh, _ = await create_concern_ok(council, urgency="day")
    async with await _officer(app, council) as officer:
        assert (await officer.post(f"/officer/concerns/{closed.reference}/close", {"reason": "Already known to the team."})).status_code == 303
        refused = await officer.post(f"/officer/concerns/{fresh.reference}/merge", {"into": closed.reference})
    assert refused.status_code == 422
    assert field_error(refused, "into") == f"{closed.reference} is closed. Keep this concern open on its own, or merge it into one that is still open"
    assert html(refused).css_first("#into").attributes["value"] == closed.reference  # what they typed stays
    fresh = await Concern.get(id=fresh.id)
    assert fresh.status == "open" and fresh.merged_into_id is None  # type: ignore[attr-defined]
    assert not await ConcernEvent.filter(concern_id=closed.id, kind="merged-from").exists()


async def test_the_team_reads_a_duplicate_of_its_referred_concern_and_whose_additions_are_whose(app, council):
    # The key worker's page linked to the duplicate but it was 404 for them, and its reporter's additions
    # read as the kept concern's own reporter's.
    key_worker = await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    kept, _, _ = await refer_ok(council, team)
    duplicate, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        assert (await officer.post(f"/officer/concerns/{duplicate.reference}/merge", {"into": kept.reference})).status_code == 303
    async with Browser(app, council) as reporter:
        assert (await reporter.post(f"/concerns/status/{duplicate.reference}/{key}", {"information": "Out again last night."})).status_code == 303
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get(f"/officer/concerns/{kept.reference}")
        [link] = [a.attributes["href"] for a in html(page).css(".govuk-summary-list__value a") if a.text() == duplicate.reference]
        assert (await browser.get(link)).status_code == 200
    history = text_of(page, ".app-history li")
    assert any(f"More information from the person who raised duplicate {duplicate.reference}" in entry
               and f"the person who raised {duplicate.reference}" in entry and "Out again last night." in entry for entry in history)
    assert await ConcernAccess.filter(concern_id=duplicate.id, user_id=key_worker.id, action="viewed").exists()


async def test_each_reporter_sees_only_what_they_added_when_one_concern_is_merged_into_another(app, council):
    # A duplicate's reporter's addition is kept on the concern it was merged into: its own reporter read
    # "You added to your concern" for what someone else had written, and learnt someone else had raised it.
    kept, kept_key, _ = await refer_ok(council, await create_team_ok(council))
    duplicate, key = await create_concern_ok(council)
    async with await _officer(app, council) as officer:
        assert (await officer.post(f"/officer/concerns/{duplicate.reference}/merge", {"into": kept.reference})).status_code == 303
    async with Browser(app, council) as reporter:
        assert (await reporter.post(f"/concerns/status/{duplicate.reference}/{key}", {"information": "Out again last night."})).status_code == 303
        theirs = await reporter.get(f"/concerns/status/{duplicate.reference}/{key}")
    async with Browser(app, council) as reporter:
        first = await reporter.get(f"/concerns/status/{kept.reference}/{kept_key}")
    assert "You added" in theirs.text
    assert "You added" not in first.text


async def test_a_referred_concern_cannot_be_assigned_to_another_team(app, council):
    # Only the label moved: the referral, the team's system and its key workers stayed with the first team.
    first, second = await create_team_ok(council, "Family Support North"), await create_team_ok(council, "Young People's Team")
    concern, _, _ = await refer_ok(council, first)
    async with await _officer(app, council) as officer:
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        assert html(page).css_first("#action-assign") is None  # not offered
        refused = await officer.post(f"/officer/concerns/{concern.reference}/assign", {"team": str(second.id)})
    assert refused.status_code == 409
    assert "This concern was referred to Family Support North, so it cannot be assigned to another team." in refused.text
    concern = await Concern.get(id=concern.id)
    assert concern.team_id == first.id and concern.status == "referred"  # type: ignore[attr-defined]
    assert not await ConcernEvent.filter(concern_id=concern.id, kind="assigned").exists()


async def test_searching_for_a_reference_finds_it_whatever_the_status_filter(app, council):
    # With the default "Waiting" status a referred or closed concern was "No concern matches these filters".
    referred, _, _ = await refer_ok(council, await create_team_ok(council))
    closed, _ = await create_concern_ok(council, status="closed", closed_reason="no-further-action")
    async with await _officer(app, council) as officer:
        for concern in (referred, closed):
            for query in (f"q={concern.reference}", f"status=waiting&q={concern.reference.lower()}"):
                page = await officer.get(f"/officer/concerns?{query}")
                assert [t.split(":")[0] for t in text_of(page, ".app-queue__title")] == [concern.reference], query
                assert html(page).css_first("#status option[selected]").attributes["value"] == "all"  # the form says what was searched


async def test_signposting_takes_only_a_public_https_address(app, council):
    # "http://192.168.0.1/" was accepted and shown to the person who raised it, though the message said https://.
    from civic.councils import site_url

    concern, _ = await create_concern_ok(council)
    refused = {
        "http://abbey-friends.example/": "Enter the scheme's web address, starting https://",
        "https://192.168.0.1/": "Enter the scheme's web address with its name, like https://www.example.org, not an IP address",
        "https://127.1/": "Enter the scheme's web address with its name, like https://www.example.org, not an IP address",
        "https://[::1]/": "Enter the scheme's web address with its name, like https://www.example.org, not an IP address",
        "https://localhost/": "Enter the address of a public website: localhost works only inside a local network",
        "https://intranet/": "Enter the address of a public website: intranet works only inside a local network",
        "https://printer.local/": "Enter the address of a public website: printer.local works only inside a local network",
        "https://me:secret@abbey-friends.example/": "Enter the scheme's web address without a user name or password",
    }
    async with await _officer(app, council) as officer:
        for url, message in refused.items():
            response = await officer.post(f"/officer/concerns/{concern.reference}/signpost", {"scheme_name": "Abbey Friends", "scheme_url": url})
            assert response.status_code == 422 and field_error(response, "scheme_url") == message, url
        assert (await Concern.get(id=concern.id)).status != "closed"
        own = f"{site_url(council)}/schemes/abbey-friends"  # a scheme in civic's own directory, whatever the site's address
        assert (await officer.post(f"/officer/concerns/{concern.reference}/signpost", {"scheme_name": "Abbey Friends", "scheme_url": own})).status_code == 303
    assert (await Concern.get(id=concern.id)).signpost_url == own


async def test_an_action_that_cannot_be_done_now_shows_the_concern_and_says_why(app, council):
    # A bare "That cannot be done now" page with only "Go to the home page" was a dead end.
    team = await create_team_ok(council, "Family Support North")
    referred, _, _ = await refer_ok(council, team)
    closed, _ = await create_concern_ok(council, status="closed", closed_reason="no-further-action")
    async with await _officer(app, council) as officer:
        again = await officer.post(f"/officer/concerns/{referred.reference}/refer", {"refer_team": str(team.id)})
        late = await officer.post(f"/officer/concerns/{closed.reference}/ask", {"question": "Which school?"})
    assert again.status_code == 409 and late.status_code == 409
    assert text_of(again, "h1") == [referred.reference] and text_of(again, "#concern-status") == ["Referred to early help"]
    assert text_of(again, "#concern-conflict .govuk-notification-banner__heading") == [
        "That was not done. This concern has already been referred to Family Support North."
    ]
    assert text_of(late, "h1") == [closed.reference]
    assert text_of(late, "#concern-conflict .govuk-notification-banner__heading") == ["That was not done. This concern is closed."]


async def test_officers_read_when_a_concern_was_raised_on_londons_clock_in_summer(app, council):
    # Officer pages wrote the stored UTC time: from April to October every time was an hour early,
    # including the time a concern was due to be looked at by.
    from datetime import datetime
    from datetime import timezone as tz

    concern, _ = await create_concern_ok(council, urgency="week")
    raised = datetime(2026, 7, 1, 13, 5, tzinfo=tz.utc)
    await Concern.filter(id=concern.id).update(created_at=raised, due_at=raised + timedelta(days=7))
    async with await _officer(app, council) as officer:
        queue = await officer.get("/officer/concerns")
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        export = await officer.get("/officer/concerns/export.csv")
    [meta] = [t for t in text_of(queue, ".app-queue__meta") if "raised" in t]
    assert "raised 1 Jul, 2:05pm" in meta
    assert "1 July 2026 at 2:05pm" in " ".join(text_of(page, ".govuk-summary-list__value"))
    assert "2026-07-01 14:05" in export.text and "2026-07-01 13:05" not in export.text


def _referral_block(page, referral) -> tuple[list[str], list[str]]:
    """What the concern page says of one referral: its status line, and each progress line."""
    return text_of(page, f"#referral-{referral.id} .app-referral__status"), text_of(page, f"#referral-{referral.id} .app-referral__progress li")


async def test_a_referral_to_a_team_with_no_case_system_says_it_was_referred_and_that_nothing_was_sent(app, council):
    # It said "Sent: the team has not yet said it received it" above "Not sent: ... has no case system".
    key_worker = await create_user_ok(council, role="key-worker")
    in_civic = await create_team_ok(council, "Family Support South", members=[key_worker])
    nobody = await create_team_ok(council, "Young People's Team")
    seen, _, seen_referral = await refer_ok(council, in_civic)
    unseen, _, unseen_referral = await refer_ok(council, nobody)
    async with await _officer(app, council) as officer:
        status, [line] = _referral_block(await officer.get(f"/officer/concerns/{seen.reference}"), seen_referral)
        assert status == ["Referred: the team has not yet said it received it"]
        assert line.startswith("No case system Nothing was sent to a case system: Family Support South has none set up in civic.")
        assert "Tell them another way that it is here" in line
        status, [line] = _referral_block(await officer.get(f"/officer/concerns/{unseen.reference}"), unseen_referral)
        assert status == ["Referred: the team has not yet said it received it"]
        assert line.startswith("Nobody can see it Nothing was sent to a case system") and "Tell the team another way" in line
        # A referral cannot be moved, so the page does not suggest referring it elsewhere.
        assert "refer it" not in line.lower()
        assert not html(await officer.get(f"/officer/concerns/{unseen.reference}")).css("#action-refer")
        for page in (await officer.get(f"/officer/concerns/{seen.reference}"), await officer.get(f"/officer/concerns/{unseen.reference}")):
            assert not any(t.startswith("Sent") for t in text_of(page, ".app-referral p, .app-referral li"))

    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        # The key worker reading it has found it: they are not asked to tell themselves another way.
        status, [line] = _referral_block(await browser.get(f"/officer/concerns/{seen.reference}"), seen_referral)
        assert status == ["Referred: the team has not yet said it received it"]
        assert line.startswith("No case system") and "another way" not in line
        await browser.post(f"/officer/concerns/{seen.reference}/referral-status", {"status": "received"})
    async with await _officer(app, council) as officer:
        status, [line] = _referral_block(await officer.get(f"/officer/concerns/{seen.reference}"), seen_referral)
    # The team has it: nothing left for the officer to tell it.
    assert status == ["Received by the team"]
    assert line.startswith("No case system") and "another way" not in line


async def test_each_state_of_a_referral_to_a_team_with_a_case_system_reads_one_way(app, council):
    from civic.webhooks.models import WebhookDelivery
    from tests.factories import create_endpoint_ok

    team = await create_team_ok(council, "Family Support North")
    endpoint, _, _ = await create_endpoint_ok(council, team, name="North case system")
    concern, _, referral = await refer_ok(council, team)
    states = [
        ({"status": "pending", "attempts": 0}, {}, "Sending", "Being sent to North case system."),
        ({"status": "pending", "attempts": 3, "last_status_code": 500}, {}, "Retrying", "Not yet delivered to North case system: 3 tries so far"),
        ({"status": "pending", "attempts": 3}, {"status": "paused"}, "Waiting", "Waiting to be sent: North case system is paused by civic."),
        ({"status": "pending", "attempts": 3}, {"status": "disabled"}, "Waiting", "Waiting to be sent: North case system is switched off."),
        # Its address changed and no officer has confirmed the new one: the worker skips it, so it is not "being sent".
        ({"status": "pending", "attempts": 0}, {"url": "http://127.0.0.1:9/moved"}, "Waiting",
         "Waiting to be sent: no council officer has confirmed North case system's web address yet. It goes once an officer confirms it"),
        ({"status": "dead", "attempts": 8, "last_status_code": 503}, {}, "Not delivered", "Could not be delivered to North case system after every retry"),
        ({"status": "delivered", "attempts": 1, "delivered_at": timezone.now()}, {}, "Delivered", "Delivered to North case system on"),
        ({"status": "cancelled", "attempts": 8}, {}, "Handled", "Not sent to North case system: marked as handled."),
    ]
    async with await _officer(app, council) as officer:
        for delivery, system, tag, text in states:
            await WebhookDelivery.filter(concern=concern).update(**delivery)
            await type(endpoint).filter(id=endpoint.id).update(**{"status": "active", "url": endpoint.url, **system})
            status, [line] = _referral_block(await officer.get(f"/officer/concerns/{concern.reference}"), referral)
            assert status == ["Referred: the team has not yet said it received it"], tag
            assert line.startswith(f"{tag} {text}"), (tag, line)


async def test_the_refer_form_warns_beside_each_team_a_referral_would_not_reach_without_stopping_the_officer(app, council):
    from civic.concerns.models import RoutingRule
    from tests.factories import create_endpoint_ok

    key_worker, officer_member = await create_user_ok(council, role="key-worker"), await create_user_ok(council, role="officer")
    left = await create_user_ok(council, role="key-worker", suspended=True)
    nobody = await create_team_ok(council, "Young People's Team", members=[officer_member, left])  # neither may open a referral as a key worker
    await create_team_ok(council, "Family Support South", members=[key_worker])
    with_system = await create_team_ok(council, "Family Support North")
    await create_endpoint_ok(council, with_system)
    paused = await create_team_ok(council, "Family Support East")
    await create_endpoint_ok(council, paused, name="East case system", status="paused")
    concern, _ = await create_concern_ok(council, category="caring")
    await RoutingRule.create(council=council, category=concern.category, ward=None, team=nobody)
    async with await _officer(app, council) as officer:
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        choices = {
            item.css_first("label").text(strip=True): (item.css_first(".govuk-hint").text(strip=True) if item.css_first(".govuk-hint") else "")
            for item in html(page).css("#action-refer .govuk-radios__item")
        }
        assert choices == {
            "The team routing chooses: Young People's Team": "No one in this team can see concerns yet: it has no case system and no key workers in civic. You will need to tell the team another way.",
            "Young People's Team": "No one in this team can see concerns yet: it has no case system and no key workers in civic. You will need to tell the team another way.",
            "Family Support South": "No case system: you will need to tell its key workers another way that a concern is waiting for them in civic.",
            "Family Support North": "",
            "Family Support East": "No one in this team can see it for now: East case system is paused by civic, and the team has no key workers in civic. You will need to tell the team another way.",
        }
        [chosen] = html(page).css("#action-refer input[checked]")
        assert chosen.attributes["value"] == ""  # the routing's choice, as before
        referred = await officer.post(f"/officer/concerns/{concern.reference}/refer", {"refer_team": str(nobody.id)})
    assert referred.status_code == 303  # a warning, not a refusal
    assert (await Referral.get(concern=concern)).team_id == nobody.id


async def test_the_concern_page_labels_what_the_reporter_said_in_an_officers_words(app, council):
    anonymous, _ = await create_concern_ok(council, about="myself", person_knows="not-sure", contact_by="none", reporter_name=None, reporter_email=None)
    by_email, _ = await create_concern_ok(council)

    def summary(page) -> dict[str, str]:
        rows = html(page).css(".govuk-summary-list__row")
        return {r.css_first("dt").text(strip=True): r.css_first("dd").text(strip=True) for r in rows}

    async with await _officer(app, council) as officer:
        first = summary(await officer.get(f"/officer/concerns/{anonymous.reference}"))
        second = summary(await officer.get(f"/officer/concerns/{by_email.reference}"))
    assert first["Who it is about"] == "The reporter themself"
    assert first["Person knows about this concern"] == "The reporter is not sure"
    assert first["Reporter sees"] == '"Being looked at", on their status page'
    assert first["Reporter's contact details"] == "Anonymous: they did not want to be contacted"
    assert second["Who it is about"] == "A neighbour of the reporter"
    assert second["Person knows about this concern"] == "No"
    assert second["Reporter's contact details"] == "By email (shown only when you ask for them below)"
    assert not {"About", "They know", "They see", "Contact"} & set(first)


async def test_the_queue_offers_officers_every_team_and_key_workers_only_theirs(app, council):
    team = await create_team_ok(council, "Family Support North")
    await create_team_ok(council, "Young People's Team")
    key_worker = await create_user_ok(council, role="key-worker")
    await TeamMembership.create(team=team, user=key_worker)
    async with await _officer(app, council) as officer:
        page = await officer.get("/officer/concerns")
    assert text_of(page, "label[for=team]") == ["Team"]
    assert text_of(page, "#team option") == ["All teams", "Not assigned to a team", "Family Support North", "Young People's Team"]
    assert text_of(page, "#category option")[0] == "All categories" and text_of(page, "#ward option")[0] == "All wards"
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get("/officer/concerns")
    # They see only what their teams hold (and duplicates merged into it), so they choose among their own teams.
    assert text_of(page, "#team option") == ["All your teams", "Family Support North"]


async def test_the_page_points_to_asking_the_reporter_only_for_those_who_can(app, council):
    # It told key workers, and officers of a closed concern, to use an action their page does not have.
    key_worker = await create_user_ok(council, role="key-worker")
    team = await create_team_ok(council, members=[key_worker])
    concern, _, _ = await refer_ok(council, team)
    closed, _ = await create_concern_ok(council, status="closed")

    def pointer(page) -> list[str]:
        return [p for p in text_of(page, "main p") if p.startswith("To ask a question")]

    async with await _officer(app, council) as officer:
        page = await officer.get(f"/officer/concerns/{concern.reference}")
        [sentence] = pointer(page)
        [action] = [s for s in text_of(page, "summary") if s in sentence]
        assert action == "Ask the person who raised it for more information"
        assert pointer(await officer.get(f"/officer/concerns/{closed.reference}")) == []
    async with Browser(app, council) as browser:
        await browser.signin_as(key_worker)
        page = await browser.get(f"/officer/concerns/{concern.reference}")
    assert pointer(page) == [] and text_of(page, "#contact-details, form[action$='/contact'] button") == ["Show their contact details"]
