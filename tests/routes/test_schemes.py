"""Schemes through the app: the directory, starting and running a scheme, news and messages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from tortoise import timezone

from civic.accounts import User
from civic.audit import AuditLog
from civic.councils import PostcodeSector
from civic.schemes import access, moderation, when
from civic.schemes.models import INVITATION_LIFETIME, Membership, NewsPost, OrganiserInvitation, Scheme
from tests.factories import (
    Browser,
    create_council_ok,
    create_help_request_ok,
    create_post_ok,
    create_report_ok,
    create_scheme_ok,
    create_user_ok,
    field_error,
    html,
    outward,
    postcode_in,
    scheme_values,
    text_of,
    ward,
)


def _form(values: dict) -> list[tuple[str, str]]:
    """A form's fields as a browser sends them: one pair per ticked checkbox."""
    pairs = []
    for name, value in values.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one))
    return pairs


def titles(response) -> list[str]:
    return text_of(response, ".app-card__title")


# The directory


async def test_directory_finds_schemes_by_words_category_and_who_they_are_for(client, council):
    await create_scheme_ok(council, name="Abbey Food Pantry", summary="Free food every Friday", categories=["food"], audiences=["everyone"])
    await create_scheme_ok(council, name="Lifts to the Surgery", summary="Volunteer drivers", categories=["transport", "health"], audiences=["older-people"])
    await create_scheme_ok(council, name="Youth Club", summary="Games and homework help", categories=["young-people"], audiences=["young-people"])

    assert titles(await client.get("/schemes")) == ["Abbey Food Pantry", "Lifts to the Surgery", "Youth Club"]
    assert titles(await client.get("/schemes?q=friday+food")) == ["Abbey Food Pantry"]
    assert titles(await client.get("/schemes?q=DRIVERS")) == ["Lifts to the Surgery"]
    assert titles(await client.get("/schemes?category=health")) == ["Lifts to the Surgery"]
    # A scheme for everyone is also for older people.
    assert titles(await client.get("/schemes?who=older-people")) == ["Abbey Food Pantry", "Lifts to the Surgery"]
    assert titles(await client.get("/schemes?category=food&who=young-people")) == ["Abbey Food Pantry"]


async def test_directory_search_ignores_accents_and_capitals(client, council):
    await create_scheme_ok(council, name="Community Café", summary="Tea and toast on Tuesdays")
    await create_scheme_ok(council, name="Little Ones", summary="A crèche while you shop")
    assert titles(await client.get("/schemes?q=cafe")) == ["Community Café"]
    assert titles(await client.get("/schemes", params={"q": "COMMUNITY CAFÉ"})) == ["Community Café"]
    assert titles(await client.get("/schemes?q=Creche")) == ["Little Ones"]
    # The words stay in the search box as typed.
    assert html(await client.get("/schemes?q=Creche")).css_first("input[name=q]").attributes["value"] == "Creche"


async def test_near_my_postcode_means_my_ward_and_the_wards_next_to_it(client, council):
    abbey, castlefields = await ward(council, "Abbey"), await ward(council, "Castlefields")
    await castlefields.neighbours.add(abbey)  # entered one way round; "near" reads it both ways
    await create_scheme_ok(council, name="In Abbey", wards=("Abbey",))
    await create_scheme_ok(council, name="In Castlefields", wards=("Castlefields",))
    await create_scheme_ok(council, name="In Harbourside", wards=("Harbourside",))

    near_abbey = await client.get("/schemes", params={"postcode": postcode_in(council, "Abbey").lower().replace(" ", "")})
    assert titles(near_abbey) == ["In Abbey", "In Castlefields"]
    assert "Abbey and the wards next to it (Castlefields)" in text_of(near_abbey, "#results-heading")[0]
    assert titles(await client.get("/schemes", params={"postcode": postcode_in(council, "Harbourside")})) == ["In Harbourside"]
    assert titles(await client.get("/schemes", params={"ward": str(castlefields.id)})) == ["In Castlefields"]


async def test_a_postcode_that_is_not_one_is_refused_as_the_concern_form_refuses_it(client, council):
    await create_scheme_ok(council)
    wrong = await client.get("/schemes?postcode=NM1")
    assert titles(wrong) == []
    message = "Enter a real postcode, like NM1 4AB, or choose a ward instead"
    assert field_error(wrong, "postcode") == message
    assert text_of(wrong, ".govuk-error-summary li") == [message]
    assert html(wrong).css_first("#find-your-council") is None


async def test_a_postcode_in_another_councils_area_is_told_so_with_where_to_find_that_council(client, council):
    # The concern form's rule (councils.known_outside), and its words.
    neighbour = await create_council_ok()
    await create_scheme_ok(council)
    for typed, shown in (("ze10aa", "ZE1 0AA"), (postcode_in(neighbour, "Harbourside").lower(), postcode_in(neighbour, "Harbourside"))):
        for headers in ({}, {"HX-Request": "true"}):
            elsewhere = await client.get("/schemes", params={"postcode": typed}, headers=headers)
            message = f"{shown} is not in {council.name}'s area. If you live elsewhere, look for support through your own council. You can also choose a ward, or search everywhere."
            assert text_of(elsewhere, ".govuk-error-summary li") == [message], typed
            assert html(elsewhere).css_first("#find-your-council a").attributes["href"] == "https://www.gov.uk/find-local-council"
            assert titles(elsewhere) == []
            if not headers:
                assert field_error(elsewhere, "postcode") == message
                assert html(elsewhere).css_first("#postcode").attributes["value"] == typed
                assert "search everywhere in the area" in text_of(elsewhere, "#scheme-results li a")


def _marked_in_error(response, field: str) -> dict[str, object]:
    """How a field shows its error: the group's and the control's classes, the message and what the control points to."""
    control = html(response).css_first(f"#{field}")
    group = html(response).css_first(f".govuk-form-group:has(> #{field})")
    return {
        "group": "govuk-form-group--error" in group.attributes["class"].split(),
        "control": any(name.endswith("--error") for name in control.attributes["class"].split()),
        "message": field_error(response, field),
        "described by": (control.attributes.get("aria-describedby") or "").split(),
    }


async def test_a_refused_postcode_marks_the_field_with_or_without_javascript(client, council):
    await create_scheme_ok(council)
    message = "Enter a real postcode, like NM1 4AB, or choose a ward instead"
    marked = {"group": True, "control": True, "message": message, "described by": ["postcode-hint", "postcode-error"]}
    plain = await client.get("/schemes?postcode=NM1")
    assert _marked_in_error(plain, "postcode") == marked
    # htmx swaps only the results, so the fragment brings the place fields too, to be swapped out of band.
    fragment = await client.get("/schemes?postcode=NM1", headers={"HX-Request": "true"})
    assert html(fragment).css_first("form") is None
    assert html(fragment).css_first("#place-fields").attributes["hx-swap-oob"] == "innerHTML"
    assert _marked_in_error(fragment, "postcode") == marked
    assert html(fragment).css_first("#postcode").attributes["value"] == "NM1"
    assert html(fragment).css_first("title").text().startswith("Error: Find local support")
    # Put right, the field is no longer marked.
    fixed = await client.get("/schemes", params={"postcode": postcode_in(council, "Abbey")}, headers={"HX-Request": "true"})
    assert _marked_in_error(fixed, "postcode") == {"group": False, "control": False, "message": "", "described by": ["postcode-hint"]}
    assert not html(fixed).css_first("title").text().startswith("Error")


async def test_a_ward_that_is_not_the_councils_marks_the_field_with_or_without_javascript(client, council):
    other = await create_council_ok()
    elsewhere = await ward(other, "Abbey")
    for headers in ({}, {"HX-Request": "true"}):
        response = await client.get("/schemes", params={"ward": str(elsewhere.id)}, headers=headers)
        assert _marked_in_error(response, "ward") == {"group": True, "control": True, "message": "Choose a ward from the list", "described by": ["ward-error"]}


async def test_the_who_it_is_for_filter_says_any_group_not_a_word_an_audience_uses(client, council):
    response = await client.get("/schemes")
    options = [(node.attributes["value"], node.text()) for node in html(response).css("#who option")]
    assert options[0] == ("", "Any group")
    assert ("everyone", "Everyone") in options
    audience_words = {text.lower() for value, text in options if value}
    assert not {"any group", "anyone", "anybody"} & audience_words
    # Nothing found for one group: the way out uses the same words.
    nothing = await client.get("/schemes?who=carers")
    assert "include schemes for any group, not only carers" in text_of(nothing, "#scheme-results li a")


async def test_a_postcode_not_known_to_be_elsewhere_searches_everywhere_and_says_so(client, council):
    # A sector the council's list lacks, in a district it covers, may be a gap in the list: the concern
    # form keeps such a postcode without a ward, so the directory does not call it outside the area either.
    await create_scheme_ok(council, name="In Abbey", wards=("Abbey",))
    await create_scheme_ok(council, name="In Harbourside", wards=("Harbourside",))
    gap = f"{outward(council)} 9ZZ"
    response = await client.get("/schemes", params={"postcode": gap.lower()})
    assert response.status_code == 200 and not html(response).css(".govuk-error-summary")
    assert titles(response) == ["In Abbey", "In Harbourside"]
    assert text_of(response, "#place-unknown") == [f"We do not know which ward {gap} is in, so these are schemes anywhere in {council.name}'s area. Choose your ward to see those nearest you."]
    assert html(response).css_first("#find-your-council") is None
    assert html(response).css_first("#postcode").attributes["value"] == gap.lower()


async def test_with_no_postcode_list_no_postcode_is_called_outside_the_area(client, council):
    await create_scheme_ok(council, name="Anywhere")
    await PostcodeSector.filter(council=council).delete()
    response = await client.get("/schemes", params={"postcode": "SW1A 1AA"})
    assert titles(response) == ["Anywhere"] and not html(response).css(".govuk-error-summary")
    assert "We do not know which ward SW1A 1AA is in" in text_of(response, "#place-unknown")[0]


async def test_empty_results_say_what_to_try_next(client, council):
    await create_scheme_ok(council, categories=["food"])
    response = await client.get("/schemes?q=zumba&category=transport")
    assert text_of(response, "#results-heading") == ["No schemes found"]
    links = {text: parse_qs(urlsplit(node.attributes["href"]).query) for node in html(response).css("#scheme-results li a") for text in [node.text()]}
    assert links["search without the words ‘zumba’"] == {"category": ["transport"]}
    assert links["look in every category, not only transport"] == {"q": ["zumba"]}
    assert "start a scheme yourself" in links


async def test_directory_shows_ten_schemes_a_page_and_keeps_the_filters_in_page_links(client, council):
    for number in range(12):
        await create_scheme_ok(council, name=f"Food scheme {number:02d}", categories=["food"])
    await create_scheme_ok(council, name="Transport scheme", categories=["transport"])
    first = await client.get("/schemes?category=food")
    assert len(titles(first)) == 10 and titles(first)[0] == "Food scheme 00"
    assert text_of(first, "#results-heading") == ["12 schemes"]
    next_link = html(first).css_first(".govuk-pagination__next a").attributes["href"]
    assert parse_qs(urlsplit(next_link).query) == {"category": ["food"], "page": ["2"]}
    second = await client.get(next_link)
    assert titles(second) == ["Food scheme 10", "Food scheme 11"]
    assert html(second).css_first(".govuk-pagination [aria-current=page]").text() == "2"
    assert titles(await client.get("/schemes?category=food&page=99")) == ["Food scheme 10", "Food scheme 11"]


async def test_htmx_gets_only_the_results_and_an_announcement_of_how_many(client, council):
    await create_scheme_ok(council, name="Abbey Food Pantry", categories=["food"])
    response = await client.get("/schemes?category=food", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and html(response).css_first("form") is None
    assert titles(response) == ["Abbey Food Pantry"]
    status = html(response).css_first("#results-status")
    assert status.attributes["hx-swap-oob"] == "innerHTML" and status.text() == "1 scheme found"
    assert "HX-Request" in response.headers["vary"]
    # The plain page is the same search as a whole page, so the URL htmx pushes can be shared.
    whole = await client.get("/schemes?category=food")
    assert html(whole).css_first("form[role=search]").attributes["method"] == "get"
    assert html(whole).css_first("#category option[selected]").attributes["value"] == "food"
    assert titles(whole) == ["Abbey Food Pantry"]


async def test_the_directory_leaves_out_pending_declined_closed_and_other_councils_schemes(client, council):
    await create_scheme_ok(council, name="Running")
    await create_scheme_ok(council, name="Paused", status="paused")
    for status in ("pending", "declined", "closed"):
        await create_scheme_ok(council, name=status.title(), status=status)
    await create_scheme_ok(await create_council_ok(), name="Elsewhere")
    response = await client.get("/schemes")
    assert titles(response) == ["Paused", "Running"]
    assert text_of(response, ".app-card .govuk-tag") == ["Paused"]


# Starting a scheme


async def test_a_proposed_scheme_is_invisible_to_the_public_until_an_officer_approves_it(app, client, council, mailbox):
    proposer = await create_user_ok(council, display_name="Aled Evans")
    officer = await create_user_ok(council, role="officer")
    await client.signin_as(proposer)
    values = scheme_values([await ward(council, "Abbey"), await ward(council, "Castlefields")], name="Abbey Befriending")
    response = await client.post("/schemes", _form(values))
    assert response.status_code == 303
    scheme = await Scheme.get(council=council, slug="abbey-befriending")
    assert response.headers["location"] == "/schemes/abbey-befriending"
    assert scheme.status == "pending"
    assert await Membership.filter(scheme=scheme, user=proposer, role="organiser", status="active").exists()
    own_view = await client.follow(response)
    assert text_of(own_view, "#status-title") == ["Waiting for approval"]

    async with Browser(app, council) as public:
        assert (await public.get("/schemes/abbey-befriending")).status_code == 404
        assert "Abbey Befriending" not in titles(await public.get("/schemes"))
        assert (await public.get("/api/openreferral/services")).json()["total_items"] == 0

    async with Browser(app, council) as office:
        await office.signin_as(officer)
        assert "Abbey Befriending" in " ".join(text_of(await office.get("/officer"), "li"))
        approved = await office.post("/schemes/abbey-befriending/approve")
        assert approved.status_code == 303
    message = (await mailbox.wait_for(proposer.email))[-1]
    assert message["Subject"] == "Abbey Befriending is approved"
    assert f"http://{council.hostnames}/schemes/abbey-befriending" in mailbox.body(message)  # its own site, not CIVIC_BASE_URL
    async with Browser(app, council) as public:
        assert (await public.get("/schemes/abbey-befriending")).status_code == 200
        assert titles(await public.get("/schemes")) == ["Abbey Befriending"]
    assert await AuditLog.filter(action="scheme.approved", target_id=str(scheme.id), actor=officer).exists()


async def test_a_declined_scheme_tells_its_proposer_why_by_email_and_on_their_page(app, client, council, mailbox):
    proposer = await create_user_ok(council)
    scheme = await create_scheme_ok(council, proposer, status="pending", name="Late Night Lifts")
    async with Browser(app, council) as office:
        await office.signin_as(await create_user_ok(council, role="officer"))
        empty = await office.post(f"/schemes/{scheme.slug}/decline", {"decline_reason": "  "})
        assert empty.status_code == 422 and "Say why" in field_error(empty, "decline_reason")
        declined = await office.post(f"/schemes/{scheme.slug}/decline", {"decline_reason": "Please name a safeguarding lead who is not the driver."})
        assert declined.status_code == 303

    message = (await mailbox.wait_for(proposer.email))[-1]
    assert message["Subject"] == "Late Night Lifts was not approved"
    assert "Please name a safeguarding lead who is not the driver." in mailbox.body(message)
    await client.signin_as(proposer)
    page = await client.get(f"/schemes/{scheme.slug}")
    assert text_of(page, "#status-title") == ["Not approved"]
    assert text_of(page, "#decline-reason p") == ["Please name a safeguarding lead who is not the driver."]
    mine = await client.get("/schemes/mine")
    assert "Please name a safeguarding lead who is not the driver." in text_of(mine, "main p")
    async with Browser(app, council) as public:
        assert (await public.get(f"/schemes/{scheme.slug}")).status_code == 404

    # Changing it sends it back for approval.
    changed = await client.post(f"/schemes/{scheme.slug}/edit", _form(scheme_values([await ward(council)], name="Late Night Lifts", safeguarding_lead_name="Mair Jones")))
    assert changed.status_code == 303
    assert (await Scheme.get(id=scheme.id)).status == "pending"


async def test_the_start_form_reports_every_problem_at_once_and_keeps_what_was_typed(client, council):
    await client.signin_as(await create_user_ok(council))
    values = scheme_values([], name="Łódź Friends", summary="", description="", categories=[], audiences=[], times="", contact_phone="call me")
    response = await client.post("/schemes", _form(values))
    assert response.status_code == 422
    for field in ("summary", "description", "categories", "audiences", "wards", "times", "contact_phone"):
        assert field_error(response, field), field
    assert not field_error(response, "name")
    assert html(response).css_first("#name").attributes["value"] == "Łódź Friends"
    assert html(response).css_first("#contact_phone").attributes["value"] == "call me"
    assert len(text_of(response, ".govuk-error-summary__list li")) == 7
    assert not await Scheme.filter(council=council).exists()


async def test_the_start_form_is_swapped_in_place_by_htmx_when_there_are_errors(client, council):
    await client.signin_as(await create_user_ok(council))
    response = await client.post("/schemes", {"name": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "<html" not in response.text
    assert html(response).css_first("#scheme-form form").attributes["hx-post"] == "/schemes"


async def test_slugs_are_unique_in_a_council_and_never_change_when_the_name_does(client, council):
    organiser = await create_user_ok(council)
    first = await create_scheme_ok(council, organiser, name="Tea & Chat")
    second = await create_scheme_ok(council, name="Tea and Chat!")
    reserved = await create_scheme_ok(council, name="New")
    elsewhere = await create_scheme_ok(await create_council_ok(), name="Tea & Chat")
    assert (first.slug, second.slug, reserved.slug, elsewhere.slug) == ("tea-chat", "tea-and-chat", "new-scheme", "tea-chat")
    assert (await create_scheme_ok(council, name="Tea  &  Chat")).slug == "tea-chat-2"

    await client.signin_as(organiser)
    response = await client.post("/schemes/tea-chat/edit", _form(scheme_values([await ward(council)], name="Te a Sgwrs")))
    assert response.status_code == 303 and response.headers["location"] == "/schemes/tea-chat"
    assert (await Scheme.get(id=first.id)).name == "Te a Sgwrs"
    assert text_of(await client.get("/schemes/tea-chat"), "h1") == ["Te a Sgwrs"]


async def test_a_resident_cannot_change_someone_elses_scheme(client, council):
    scheme = await create_scheme_ok(council, name="Not Yours")
    await client.signin_as(await create_user_ok(council))
    response = await client.post(f"/schemes/{scheme.slug}/edit", _form(scheme_values([await ward(council)], name="Mine now")))
    assert response.status_code == 403
    assert (await Scheme.get(id=scheme.id)).name == "Not Yours"


# Running a scheme


async def test_an_organiser_invites_a_co_organiser_who_becomes_one_only_when_they_accept(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, name="Street Pastors")
    await create_help_request_ok(scheme)
    await client.signin_as(organiser)
    helper_email = f"helper-{council.slug}@example.test"
    assert (await client.post(f"/schemes/{scheme.slug}/organisers", {"email": "nope"})).status_code == 422
    invited = await client.post(f"/schemes/{scheme.slug}/organisers", {"email": helper_email})
    assert invited.status_code == 303
    assert f"/schemes/{scheme.slug}/invitation" in mailbox.body((await mailbox.wait_for(helper_email))[-1])
    again = await client.post(f"/schemes/{scheme.slug}/organisers", {"email": helper_email})
    assert "already invited" in field_error(again, "email")
    assert text_of(await client.get(f"/schemes/{scheme.slug}/organisers"), "#invitations td:first-child")[0].startswith(helper_email)
    # Typing an address makes nobody an organiser, nor an account for it.
    assert not await User.filter(email=helper_email).exists()

    helper = await create_user_ok(council, email=helper_email)
    async with Browser(app, council) as other:
        await other.signin_as(helper)
        for private in ("organisers", "people", "requests", "roster", "edit"):
            assert (await other.get(f"/schemes/{scheme.slug}/{private}")).status_code == 403, private
        assert text_of(await other.get("/schemes/mine"), "#invitations a") == ["Street Pastors"]
        page = await other.get(f"/schemes/{scheme.slug}/invitation")
        assert text_of(page, "h1") == ["You have been invited to be an organiser"]
        accepted = await other.post(f"/schemes/{scheme.slug}/invitation/accept")
        assert accepted.status_code == 303
        assert (await other.get(f"/schemes/{scheme.slug}/requests")).status_code == 200
        posted = await other.post(f"/schemes/{scheme.slug}/news", {"title": "Out on Saturday", "body": "We meet at 10pm.\nBring a coat."})
        assert posted.status_code == 303
        assert (await other.post(f"/schemes/{scheme.slug}/invitation/accept")).status_code == 404
    assert "has accepted your invitation" in mailbox.body((await mailbox.wait_for(organiser.email))[-1])
    page = await client.get(f"/schemes/{scheme.slug}")
    assert text_of(page, "article h3") == ["Out on Saturday"]
    assert html(page).css_first("article p.govuk-body").html.count("<br>") == 1
    actions = [entry.action for entry in await AuditLog.filter(target_type="Scheme", target_id=str(scheme.id)).order_by("id")]
    assert actions[-2:] == ["scheme.organiser_invited", "scheme.organiser_added"]


async def test_inviting_someone_the_council_stopped_posting_answers_as_for_anyone_and_they_cannot_accept(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, status="pending")  # any resident can propose one
    stopped = await create_user_ok(council, suspended=True)
    await client.signin_as(organiser)
    answers = [await client.post(f"/schemes/{scheme.slug}/organisers", {"email": email}) for email in (stopped.email, f"new-{council.slug}@example.test")]
    # Nothing tells the organiser that the first address has an account, let alone a stopped one.
    assert [a.status_code for a in answers] == [303, 303]
    invited = text_of(await client.get(f"/schemes/{scheme.slug}/organisers"), "#invitations td:first-child")
    assert any(row.startswith(stopped.email) for row in invited) and len(invited) == 2
    await mailbox.wait_for(stopped.email)
    async with Browser(app, council) as them:
        await them.signin_as(stopped)  # a session they could not get: suspension ends every one
        assert (await them.post(f"/schemes/{scheme.slug}/invitation/accept")).status_code == 403
    assert not await access.is_organiser(stopped, scheme)


async def test_one_person_can_send_only_a_few_invitations_in_a_short_time(client, council, mailbox, clean_limits):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, status="pending")  # any resident can propose one, and so invite
    await client.signin_as(organiser)
    addresses = [f"stranger-{n}-{council.slug}@example.test" for n in range(12)]
    answers = [(await client.post(f"/schemes/{scheme.slug}/organisers", {"email": address})) for address in addresses]
    assert [a.status_code for a in answers] == [303] * 10 + [429] * 2
    assert "several invitations in a short time" in field_error(answers[-1], "email")
    assert await OrganiserInvitation.filter(scheme=scheme).count() == 10
    await mailbox.wait_for(addresses[9])
    assert mailbox.to(addresses[10]) == []


async def test_an_invitation_is_only_for_the_address_it_went_to(app, client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    await client.signin_as(organiser)
    await client.post(f"/schemes/{scheme.slug}/organisers", {"email": f"someone-{council.slug}@example.test"})
    async with Browser(app, council) as stranger:
        await stranger.signin_as(await create_user_ok(council))
        assert (await stranger.get(f"/schemes/{scheme.slug}/invitation")).status_code == 404
        assert (await stranger.post(f"/schemes/{scheme.slug}/invitation/accept")).status_code == 404
    assert not await access.is_organiser(await User.get_or_none(email=f"someone-{council.slug}@example.test"), scheme)
    assert await Membership.filter(scheme=scheme, role="organiser").count() == 1


async def test_an_organiser_withdraws_an_invitation_and_it_can_no_longer_be_accepted(app, client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    invitee = await create_user_ok(council)
    await client.signin_as(organiser)
    await client.post(f"/schemes/{scheme.slug}/organisers", {"email": invitee.email.upper()})
    invitation = await OrganiserInvitation.get(scheme=scheme)
    assert invitation.email == invitee.email
    withdrawn = await client.post(f"/schemes/{scheme.slug}/organisers/invitations/{invitation.id}/withdraw")
    assert withdrawn.status_code == 303
    assert not html(await client.get(f"/schemes/{scheme.slug}/organisers")).css("#invitations")
    assert (await client.post(f"/schemes/{scheme.slug}/organisers/invitations/{invitation.id}/withdraw")).status_code == 409
    async with Browser(app, council) as other:
        await other.signin_as(invitee)
        assert (await other.get(f"/schemes/{scheme.slug}/invitation")).status_code == 404
        assert (await other.post(f"/schemes/{scheme.slug}/invitation/accept")).status_code == 404
    assert not await access.is_organiser(invitee, scheme)
    assert await AuditLog.filter(action="scheme.organiser_invitation_withdrawn", target_id=str(scheme.id)).exists()


async def test_someone_invited_can_decline_and_the_organiser_is_told(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, name="Lifts to Clinics")
    invitee = await create_user_ok(council)
    await client.signin_as(organiser)
    await client.post(f"/schemes/{scheme.slug}/organisers", {"email": invitee.email})
    async with Browser(app, council) as other:
        await other.signin_as(invitee)
        declined = await other.post(f"/schemes/{scheme.slug}/invitation/decline")
        assert declined.status_code == 303
        # Not "The organiser who sent it has been told": one who has since stopped organising is not.
        assert text_of(await other.follow(declined), ".govuk-notification-banner__heading") == ["You have declined the invitation. Nothing has changed for you."]
        assert not html(await other.get("/schemes/mine")).css("#invitations")
    assert "has declined your invitation" in mailbox.body((await mailbox.wait_for(organiser.email))[-1])
    assert not await access.is_organiser(invitee, scheme)
    assert (await OrganiserInvitation.get(scheme=scheme)).status == "declined"


async def _lapse(invitation_email: str) -> OrganiserInvitation:
    """As if the invitation to this address had been sent a day more than its lifetime ago."""
    invitation = await OrganiserInvitation.get(email=invitation_email, status="pending")
    await OrganiserInvitation.filter(id=invitation.id).update(created_at=timezone.now() - INVITATION_LIFETIME - timedelta(days=1))
    return await OrganiserInvitation.get(id=invitation.id)


async def test_an_invitation_says_in_its_email_and_on_its_page_when_it_lapses(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    invitee = await create_user_ok(council)
    await client.signin_as(organiser)
    form = await client.get(f"/schemes/{scheme.slug}/organisers")
    assert "accept it within 14 days" in text_of(form, "#email-hint")[0]
    await client.post(f"/schemes/{scheme.slug}/organisers", {"email": invitee.email})
    invitation = await OrganiserInvitation.get(scheme=scheme)
    lapses = f"{when.clock(invitation.lapses_at)} on {when.day_name(invitation.lapses_at)}"
    assert f"The invitation lasts 14 days, until {lapses}." in " ".join(mailbox.body((await mailbox.wait_for(invitee.email))[-1]).split())
    listed = await client.get(f"/schemes/{scheme.slug}/organisers")
    assert f"It lasts until {when.day_name(invitation.lapses_at)}." in text_of(listed, "#invitations td:first-child")[0]
    async with Browser(app, council) as other:
        await other.signin_as(invitee)
        page = await other.get(f"/schemes/{scheme.slug}/invitation")
    assert text_of(page, "#lapses-at") == [f"This invitation lasts until {lapses}. After that it lapses and cannot be accepted."]


async def test_a_lapsed_invitation_says_who_to_ask_and_cannot_be_accepted(app, client, council):
    organiser = await create_user_ok(council, display_name="Olive Organiser")
    scheme = await create_scheme_ok(council, organiser, name="Lifts to Clinics")
    invitee = await create_user_ok(council)
    await client.signin_as(organiser)
    await client.post(f"/schemes/{scheme.slug}/organisers", {"email": invitee.email})
    await _lapse(invitee.email)
    async with Browser(app, council) as other:
        await other.signin_as(invitee)
        page = await other.get(f"/schemes/{scheme.slug}/invitation")
        assert page.status_code == 200
        assert text_of(page, "h1") == ["This invitation has lapsed"]
        assert text_of(page, "#ask-again")[0].startswith("Ask Olive Organiser to invite you again.")
        assert f"/schemes/{scheme.slug}/contact" in [a.attributes.get("href") for a in html(page).css("#ask-again a")]
        assert not html(page).css("main form")  # nothing to accept or decline
        refused = await other.post(f"/schemes/{scheme.slug}/invitation/accept")
        assert refused.status_code == 409
        assert "This invitation has lapsed. Ask Olive Organiser to invite you again." in text_of(refused, "main p")
        assert (await other.post(f"/schemes/{scheme.slug}/invitation/decline")).status_code == 409
        assert not html(await other.get("/schemes/mine")).css("#invitations")
    assert not await access.is_organiser(invitee, scheme)


async def test_an_organiser_sees_a_lapsed_invitation_and_sends_it_again_or_removes_it(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    invitee, forgotten = await create_user_ok(council), await create_user_ok(council)
    await client.signin_as(organiser)
    for person in (invitee, forgotten):
        await client.post(f"/schemes/{scheme.slug}/organisers", {"email": person.email})
    lapsed = await _lapse(invitee.email)
    await _lapse(forgotten.email)

    listed = await client.get(f"/schemes/{scheme.slug}/organisers")
    assert text_of(listed, "#invitations .govuk-tag") == ["Lapsed", "Lapsed"]
    assert f"it lapsed on {when.day_name(lapsed.lapses_at)}" in text_of(listed, "#invitations td:first-child")[0]
    send_again = html(listed).css_first(f'#invitations form[action="/schemes/{scheme.slug}/organisers"]')
    assert send_again.css_first("input[name=email]").attributes["value"] == invitee.email
    assert text_of(listed, "#invitations button")[:2] == [f"Send again to {invitee.email}", f"Remove the lapsed invitation to {invitee.email}"]

    sent = await client.post(send_again.attributes["action"], {"email": invitee.email})
    assert sent.status_code == 303
    assert text_of(await client.follow(sent), ".govuk-notification-banner__heading")[0].startswith(f"We have emailed {invitee.email} an invitation.")
    assert len(await mailbox.wait_for(invitee.email, count=2)) == 2
    removed = await client.post(f"/schemes/{scheme.slug}/organisers/invitations/{(await OrganiserInvitation.get(email=forgotten.email)).id}/withdraw")
    assert text_of(await client.follow(removed), ".govuk-notification-banner__heading") == [f"The lapsed invitation to {forgotten.email} is no longer on the list."]

    listed = await client.get(f"/schemes/{scheme.slug}/organisers")
    assert [row.startswith(invitee.email) for row in text_of(listed, "#invitations td:first-child")] == [True]
    assert not html(listed).css("#invitations .govuk-tag")
    async with Browser(app, council) as other:
        await other.signin_as(invitee)
        assert (await other.post(f"/schemes/{scheme.slug}/invitation/accept")).status_code == 303
    assert await access.is_organiser(invitee, scheme)


async def test_the_last_organiser_cannot_step_down(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    await client.signin_as(organiser)
    only = await Membership.get(scheme=scheme, user=organiser)
    response = await client.post(f"/schemes/{scheme.slug}/organisers/{only.id}/remove")
    assert response.status_code == 409
    assert (await Membership.get(id=only.id)).status == "active"


async def test_an_organiser_pauses_resumes_and_closes_their_scheme(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, name="Garden Helpers")
    await client.signin_as(organiser)
    assert (await client.post(f"/schemes/{scheme.slug}/status", {"action": "pause"})).status_code == 303
    assert text_of(await client.get("/schemes"), ".app-card .govuk-tag") == ["Paused"]
    assert (await client.post(f"/schemes/{scheme.slug}/status", {"action": "pause"})).status_code == 409
    assert (await client.post(f"/schemes/{scheme.slug}/status", {"action": "resume"})).status_code == 303
    assert (await client.post(f"/schemes/{scheme.slug}/status", {"action": "close"})).status_code == 303
    assert titles(await client.get("/schemes")) == []
    closed = await client.get(f"/schemes/{scheme.slug}")
    assert closed.status_code == 200 and "This scheme has closed." in text_of(closed, ".govuk-inset-text")[0]
    assert [entry.action for entry in await AuditLog.filter(target_type="Scheme", target_id=str(scheme.id)).order_by("id")] == [
        "scheme.proposed", "scheme.paused", "scheme.resumed", "scheme.closed",
    ]


async def test_the_scheme_page_shows_everything_a_resident_needs_and_no_email_address(client, council):
    organiser = await create_user_ok(council, email=f"private-{council.slug}@example.test")
    scheme = await create_scheme_ok(council, organiser, name="Abbey Pantry", contact_phone="01632 960 321", how_to_volunteer="Sort tins on Thursdays.")
    for number in range(4):
        await create_post_ok(scheme, organiser, title=f"Update {number}")
    page = await client.get(f"/schemes/{scheme.slug}")
    headings = text_of(page, "main h2")
    for heading in ("What it does", "How to get help", "How to volunteer", "Latest news"):
        assert heading in headings
    assert text_of(page, "#safeguarding-lead") == ["Gwen Roberts, Chair of the committee"]
    assert text_of(page, "article h3") == ["Update 3", "Update 2", "Update 1"]
    assert html(page).css_first("a[href$='/contact']").text().strip() == "Send a message to the organisers"
    assert organiser.email not in page.text and "mailto:" not in page.text
    assert html(page).css_first("a[href^='tel:']").attributes["href"] == "tel:01632960321"


async def test_a_message_to_the_organisers_is_emailed_with_the_senders_address_only_if_they_agree(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, name="Lifts")
    sender = await create_user_ok(council, display_name="Dewi", email=f"dewi-{council.slug}@example.test")
    await client.signin_as(sender)
    empty = await client.post(f"/schemes/{scheme.slug}/contact", {"message": ""})
    assert empty.status_code == 422 and field_error(empty, "message") == "Write your message"

    assert (await client.post(f"/schemes/{scheme.slug}/contact", {"message": "Can you take me on Monday?"})).status_code == 303
    private = (await mailbox.wait_for(organiser.email))[-1]
    assert "Can you take me on Monday?" in mailbox.body(private)
    assert sender.email not in mailbox.body(private) and "chose not to share" in mailbox.body(private)

    assert (await client.post(f"/schemes/{scheme.slug}/contact", {"message": "Reply please", "share_email": "yes"})).status_code == 303
    shared = (await mailbox.wait_for(organiser.email, count=2))[-1]
    assert f"happy for you to reply to: {sender.email}" in mailbox.body(shared)


async def test_messages_to_organisers_are_limited(client, council, clean_limits):
    scheme = await create_scheme_ok(council)
    await client.signin_as(await create_user_ok(council))
    for number in range(5):
        assert (await client.post(f"/schemes/{scheme.slug}/contact", {"message": f"Message {number}"})).status_code == 303
    sixth = await client.post(f"/schemes/{scheme.slug}/contact", {"message": "One more"})
    # It said "Please wait a while": the default limit is 5 an hour, so how long matters.
    assert sixth.status_code == 429 and field_error(sixth, "message") == "You have sent several messages in a short time. Please wait 60 minutes and try again."
    assert html(sixth).css_first("#message").text() == "One more"


async def test_news_on_a_closed_scheme_is_refused(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, status="closed")
    await client.signin_as(organiser)
    assert (await client.post(f"/schemes/{scheme.slug}/news", {"title": "Hi", "body": "There"})).status_code == 409
    assert not await NewsPost.filter(scheme=scheme).exists()


# Text exactly as typed


TRICKY = {
    "name": "<script>alert('x')</script> \"Cwtch\" Ŵŷ & Łódź żółw 🎉",
    "summary": "<img src=x onerror=alert(1)> it's \"quoted\"",
    "description": "Supercalifragilisticexpialidocious" * 4 + "\n\n<b>not bold</b> & Llanfairpwllgwyngyll ✨",
}


async def test_names_and_texts_with_markup_show_exactly_as_typed_and_never_run(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, **TRICKY)
    await create_post_ok(scheme, organiser, title="<script>boom()</script> ŵ", body="<i>hi</i> 😀")
    page = await client.get(f"/schemes/{scheme.slug}")
    tree = html(page)
    assert tree.css_first("h1").text() == TRICKY["name"]
    assert tree.css_first("p.govuk-body-l").text() == TRICKY["summary"]
    paragraphs = [node.text() for node in tree.css("#description p")]
    assert paragraphs == ["Supercalifragilisticexpialidocious" * 4, "<b>not bold</b> & Llanfairpwllgwyngyll ✨"]
    assert text_of(page, "article h3") == ["<script>boom()</script> ŵ"]
    assert not [node for node in tree.css("main script, main img, main b, main i")]
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "govuk-!-text-break-word" in tree.css_first("#description p").attributes["class"]
    listing = await client.get("/schemes")
    assert titles(listing) == [TRICKY["name"]]
    assert not html(listing).css("main script")


async def test_an_organiser_can_step_down_when_someone_else_organises_too(client, council):
    organiser, helper = await create_user_ok(council), await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    await Membership.create(scheme=scheme, user=helper, role="organiser", added_by=organiser)
    await client.signin_as(organiser)
    own = await Membership.get(scheme=scheme, user=organiser)
    response = await client.post(f"/schemes/{scheme.slug}/organisers/{own.id}/remove")
    assert response.status_code == 303 and response.headers["location"] == f"/schemes/{scheme.slug}"
    assert (await client.get(f"/schemes/{scheme.slug}/edit")).status_code == 403
    assert [m.user_id for m in await Membership.filter(scheme=scheme, status="active")] == [helper.id]


# Correcting news


async def test_an_organiser_changes_a_news_post_and_it_keeps_its_place(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser, title="Open on Moday", body="From 10am.")
    await client.signin_as(organiser)
    form = await client.get(f"/schemes/{scheme.slug}/news/{post.id}/edit")
    assert html(form).css_first("input#title").attributes["value"] == "Open on Moday"
    assert field_error(await client.post(f"/schemes/{scheme.slug}/news/{post.id}/edit", {"title": "", "body": "x"}), "title") == "Enter a title"
    changed = await client.post(f"/schemes/{scheme.slug}/news/{post.id}/edit", {"title": "Open on Monday", "body": "From 10am to noon."})
    assert changed.status_code == 303
    assert text_of(await client.get(f"/schemes/{scheme.slug}"), "article h3") == ["Open on Monday"]
    news = await client.get(f"/schemes/{scheme.slug}/news")
    assert text_of(news, "#news-form h2") == ["Post news"]
    links = [a.attributes["href"] for a in html(news).css(f"#post-{post.id} a")]
    assert {f"/schemes/{scheme.slug}/news/{post.id}/edit", f"/schemes/{scheme.slug}/news/{post.id}/delete"} <= set(links)
    saved = await NewsPost.get(id=post.id)
    assert (saved.body, saved.created_at, saved.author_id) == ("From 10am to noon.", post.created_at, organiser.id)
    assert await AuditLog.filter(action="news.changed", target_id=str(post.id)).exists()


async def test_news_the_council_is_looking_at_or_has_hidden_cannot_be_changed(client, council):
    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    reported, hidden = await create_post_ok(scheme, organiser, title="As reported"), await create_post_ok(scheme, organiser, title="As hidden")
    report = await create_report_ok(scheme, post=reported)
    await create_report_ok(scheme, post=hidden)
    await moderation.hide_post(officer, council, hidden.id, "Names a child")
    await client.signin_as(organiser)

    for post, says in ((reported, f"{council.name} is looking at it"), (hidden, f"{council.name} has hidden this news")):
        assert (await client.get(f"/schemes/{scheme.slug}/news/{post.id}/edit")).status_code == 409
        refused = await client.post(f"/schemes/{scheme.slug}/news/{post.id}/edit", {"title": "Nothing to see", "body": "Gone."})
        assert refused.status_code == 409
        assert says in " ".join(text_of(refused, "main"))
        assert (await NewsPost.get(id=post.id)).title == post.title

    await moderation.dismiss(officer, council, report.id, "It is right")
    changed = await client.post(f"/schemes/{scheme.slug}/news/{reported.id}/edit", {"title": "Corrected", "body": "From 10am."})
    assert changed.status_code == 303
    assert (await NewsPost.get(id=reported.id)).title == "Corrected"


async def test_news_of_a_closed_scheme_cannot_be_changed(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser, title="Open on Monday")
    await Scheme.filter(id=scheme.id).update(status="closed")
    await client.signin_as(organiser)

    refused = await client.post(f"/schemes/{scheme.slug}/news/{post.id}/edit", {"title": "Closed", "body": "Gone."})

    assert refused.status_code == 409
    assert "This scheme has closed, so its news can no longer be changed." in " ".join(text_of(refused, "main"))
    assert (await NewsPost.get(id=post.id)).title == "Open on Monday"


async def test_news_offers_change_only_when_it_can_be_changed_and_otherwise_says_why(client, council):
    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    plain, reported, hidden = [await create_post_ok(scheme, organiser, title=title) for title in ("Plain", "Reported", "Hidden")]
    await create_report_ok(scheme, post=reported)
    await moderation.hide_post(officer, council, hidden.id, "Names a child")
    await client.signin_as(organiser)

    def change_link(page, post) -> bool:
        return html(page).css_first(f"#post-{post.id} a[href='/schemes/{scheme.slug}/news/{post.id}/edit']") is not None

    for path in (f"/schemes/{scheme.slug}/news", f"/schemes/{scheme.slug}"):
        page = await client.get(path)
        assert change_link(page, plain) and text_of(page, f"#post-{plain.id}-fixed") == []
        assert not change_link(page, reported)
        assert text_of(page, f"#post-{reported.id}-fixed") == [
            f"{council.name} is looking at this news, so it cannot be changed for now. It has been reported to {council.name}, so it cannot be deleted either."
        ]
        assert not change_link(page, hidden)
        assert text_of(page, f"#post-{hidden.id}-fixed") == [
            f"{council.name} has hidden this news, so it cannot be changed. Nor can it be deleted while {council.name} has it hidden."
        ]
    # What the page offers is what the change allows.
    assert (await client.get(f"/schemes/{scheme.slug}/news/{plain.id}/edit")).status_code == 200
    for post in (reported, hidden):
        assert (await client.get(f"/schemes/{scheme.slug}/news/{post.id}/edit")).status_code == 409
    assert html(await client.get(f"/schemes/{scheme.slug}/news/{plain.id}/delete")).css_first(f"a[href='/schemes/{scheme.slug}/news/{plain.id}/edit']")
    await Scheme.filter(id=scheme.id).update(status="closed")
    closed = await client.get(f"/schemes/{scheme.slug}/news")
    assert not any(change_link(closed, post) for post in (plain, reported, hidden))
    assert text_of(closed, f"#post-{plain.id}-fixed") == ["This scheme has closed, so its news can no longer be changed."]
    assert (await client.get(f"/schemes/{scheme.slug}/news/{plain.id}/edit")).status_code == 409
    asking = await client.get(f"/schemes/{scheme.slug}/news/{plain.id}/delete")  # it can still be deleted, not changed instead
    assert not html(asking).css_first(f"a[href='/schemes/{scheme.slug}/news/{plain.id}/edit']")
    assert "This scheme has closed, so its news can no longer be changed." in text_of(asking, "p")


async def test_news_offers_delete_only_when_it_can_be_deleted_and_otherwise_says_why(client, council):
    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    plain, reported, dismissed, hidden = [await create_post_ok(scheme, organiser, title=title) for title in ("Plain", "Reported", "Dismissed", "Hidden")]
    await create_report_ok(scheme, post=reported)
    await moderation.dismiss(officer, council, (await create_report_ok(scheme, post=dismissed)).id, "It is fine")
    await moderation.hide_post(officer, council, hidden.id, "Names a child")  # by an officer, with no report
    await client.signin_as(organiser)

    def delete_link(page, post) -> bool:
        return html(page).css_first(f"#post-{post.id} a[href='/schemes/{scheme.slug}/news/{post.id}/delete']") is not None

    news = await client.get(f"/schemes/{scheme.slug}/news")
    assert delete_link(news, plain) and text_of(news, f"#post-{plain.id}-fixed") == []
    for page in (news, await client.get(f"/schemes/{scheme.slug}")):  # the scheme's page shows the latest three
        assert not delete_link(page, reported) and not delete_link(page, dismissed)
        assert text_of(page, f"#post-{dismissed.id}-fixed") == [f"It has been reported to {council.name}, so it cannot be deleted. You can still change it."]
        assert html(page).css_first(f"#post-{dismissed.id} a[href='/schemes/{scheme.slug}/news/{dismissed.id}/edit']")
    # What the page offers is what deleting allows: asking and deleting are both refused with the reason.
    for post in (reported, dismissed):
        asking = await client.get(f"/schemes/{scheme.slug}/news/{post.id}/delete")
        assert asking.status_code == 409
        assert f"Someone has reported this news to {council.name}, so it cannot be deleted." in " ".join(text_of(asking, "main p"))
        assert (await client.post(f"/schemes/{scheme.slug}/news/{post.id}/delete")).status_code == 409
        assert await NewsPost.filter(id=post.id).exists()
    # Hidden by an officer without a report: kept, for them to keep hidden or restore, until they restore it.
    assert not delete_link(news, hidden)
    asking = await client.get(f"/schemes/{scheme.slug}/news/{hidden.id}/delete")
    assert asking.status_code == 409
    assert f"{council.name} has hidden this news, so it cannot be deleted while it is hidden." in " ".join(text_of(asking, "main p"))
    assert (await client.post(f"/schemes/{scheme.slug}/news/{hidden.id}/delete")).status_code == 409
    assert (await NewsPost.get(id=hidden.id)).hidden
    await moderation.restore_post(officer, council, hidden.id, "Shown by mistake")
    assert delete_link(await client.get(f"/schemes/{scheme.slug}/news"), hidden)
    assert (await client.post(f"/schemes/{scheme.slug}/news/{hidden.id}/delete")).status_code == 303
    assert not await NewsPost.filter(id=hidden.id).exists()


async def test_an_organiser_deletes_news_after_confirming_unless_it_was_reported(client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post, reported = await create_post_ok(scheme, organiser, title="Wrong date"), await create_post_ok(scheme, organiser)
    await create_report_ok(scheme, post=reported)
    await client.signin_as(organiser)
    confirm = await client.get(f"/schemes/{scheme.slug}/news/{post.id}/delete")
    assert text_of(confirm, "h1") == ["Are you sure you want to delete “Wrong date”?"]
    assert html(confirm).css_first(f"form[action='/schemes/{scheme.slug}/news/{post.id}/delete'] button.govuk-button--warning")
    assert await NewsPost.filter(id=post.id).exists()  # asking is not deleting
    deleted = await client.post(f"/schemes/{scheme.slug}/news/{post.id}/delete")
    assert deleted.status_code == 303
    assert not await NewsPost.filter(id=post.id).exists()
    assert (await AuditLog.get(action="news.deleted", target_id=str(post.id))).reason == "Wrong date"
    assert (await client.post(f"/schemes/{scheme.slug}/news/{reported.id}/delete")).status_code == 409
    assert await NewsPost.filter(id=reported.id).exists()


async def test_only_an_organiser_can_change_or_delete_news(client, council):
    scheme = await create_scheme_ok(council)
    post = await create_post_ok(scheme, title="Ours")
    await client.signin_as(await create_user_ok(council, role="officer"))
    assert (await client.post(f"/schemes/{scheme.slug}/news/{post.id}/edit", {"title": "Theirs", "body": "x"})).status_code == 403
    assert (await client.post(f"/schemes/{scheme.slug}/news/{post.id}/delete")).status_code == 403
    assert (await NewsPost.get(id=post.id)).title == "Ours"


# Asking before what cannot be undone


async def test_stepping_down_or_removing_an_organiser_asks_first(client, council):
    organiser, helper = await create_user_ok(council), await create_user_ok(council, display_name="Ffion Hughes")
    scheme = await create_scheme_ok(council, organiser)
    theirs = await Membership.create(scheme=scheme, user=helper, role="organiser", added_by=organiser)
    own = await Membership.get(scheme=scheme, user=organiser)
    await client.signin_as(organiser)
    page = await client.get(f"/schemes/{scheme.slug}/organisers")
    assert [a.attributes["href"] for a in html(page).css("main table a.govuk-button")] == [
        f"/schemes/{scheme.slug}/organisers/{own.id}/remove", f"/schemes/{scheme.slug}/organisers/{theirs.id}/remove",
    ]
    step_down = await client.get(f"/schemes/{scheme.slug}/organisers/{own.id}/remove")
    assert text_of(step_down, "h1") == ["Are you sure you want to step down as an organiser?"]
    assert text_of(step_down, f"form[action='/schemes/{scheme.slug}/organisers/{own.id}/remove'] button.govuk-button--warning") == ["Step down"]
    remove = await client.get(f"/schemes/{scheme.slug}/organisers/{theirs.id}/remove")
    assert text_of(remove, "h1") == ["Are you sure you want to remove Ffion Hughes as an organiser?"]
    assert (await Membership.get(id=theirs.id)).status == "active"  # asking is not removing
    assert (await client.post(f"/schemes/{scheme.slug}/organisers/{theirs.id}/remove")).status_code == 303
    assert (await Membership.get(id=theirs.id)).status == "removed"
    assert (await client.get(f"/schemes/{scheme.slug}/organisers/{own.id}/remove")).status_code == 409  # the last one
