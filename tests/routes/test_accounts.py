"""Sign-in by e-mailed link, first sign-in details, sessions and sign-out."""

from __future__ import annotations

import re
from datetime import timedelta

from tortoise import timezone

from civic import accounts, voting
from civic.accounts import EmailChange, LoginToken, Session, User
from civic.audit import AuditLog
from civic.mail import OutgoingEmail
from civic.schemes import when
from civic.voting.models import Ballot
from tests.factories import (
    Browser,
    create_council_ok,
    create_round_ok,
    create_scheme_ok,
    create_user_ok,
    create_volunteer_ok,
    field_error,
    html,
    mail_to,
    organiser_of,
    postcode_in,
    priorities_of,
    shares_form,
    text_of,
    use_settings,
)

LINK = re.compile(r"http://[\w.\-]+(/signin/link/[\w\-]+)")


async def _request_link(client: Browser, email: str, mailbox, next_path: str = "/") -> str:
    response = await client.post("/signin", {"email": email, "next": next_path})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/signin/check-email"
    message = (await mailbox.wait_for(email))[-1]
    match = LINK.search(mailbox.body(message))
    assert match, mailbox.body(message)
    return match.group(1)


async def test_resident_signs_in_with_the_link_that_arrived_by_email(client, mailbox, council):
    email = f"new-{council.slug}@example.test"
    link = await _request_link(client, email, mailbox, next_path="/account")
    confirm = await client.get(link)
    assert confirm.status_code == 200
    assert text_of(confirm, "main button") == ["Sign in"]  # GET alone never uses the link up

    response = await client.post(link)
    assert response.status_code == 303
    assert response.headers["location"] == "/welcome?next=/account"
    welcome = await client.follow(response)
    assert text_of(welcome, "h1") == ["About you"]

    saved = await client.post("/welcome", {"display_name": "Ffion Hughes", "postcode": postcode_in(council).lower().replace(" ", ""), "next": "/account"})
    assert saved.status_code == 303 and saved.headers["location"] == "/account"
    user = await User.get(email=email).prefetch_related("ward")
    assert user.email_verified and user.display_name == "Ffion Hughes"
    assert user.postcode == postcode_in(council)
    assert user.ward.name == "Abbey"
    account = await client.follow(saved)
    assert "Ffion Hughes" in text_of(account, "dd.govuk-summary-list__value")


async def test_changing_a_name_or_postcode_later_reads_as_a_change_with_a_way_back(client, council):
    user = await create_user_ok(council)
    await client.signin_as(user)
    page = await client.get("/welcome?next=/account")
    assert text_of(page, "h1") == ["Your name and postcode"]
    assert "We ask once" not in page.text  # it is the second time
    assert html(page).css_first("a.govuk-back-link").attributes["href"] == "/account"


async def test_a_sign_in_link_goes_back_to_the_council_site_it_was_asked_for_on(app, mailbox):
    # A deployment serving a region: each council at its own host name, CIVIC_BASE_URL (civic.test) another.
    for council in (await create_council_ok(), await create_council_ok()):
        email = f"region-{council.slug}@example.test"
        async with Browser(app, council) as visitor:
            await visitor.post("/signin", {"email": email, "next": "/account"})
            body = mailbox.body((await mailbox.wait_for(email))[-1])
            link = re.search(r"(http://[^/\s]+)(/signin/link/[\w\-]+)", body)
            assert link and link.group(1) == f"http://{council.hostnames}", body
            # Sent for this council: its officers, and no other council's, would see it if it failed.
            assert {row.council_id for row in await mail_to(email)} == {council.id}  # type: ignore[attr-defined]
            signed_in = await visitor.post(link.group(2))
            assert signed_in.status_code == 303 and signed_in.headers["location"].startswith("/welcome")


async def test_the_sign_in_page_says_how_to_contact_the_council_for_people_without_an_email_address(app):
    council = await create_council_ok(contact_phone="01632 960 100", contact_email="contact@council.example", contact_url="https://www.council.example/contact")
    async with Browser(app, council) as visitor:
        page = await visitor.get("/signin")
    contact = html(page).css_first("#council-contact")
    assert [" ".join(li.text().split()) for li in contact.css("li")] == [
        "Phone: 01632 960 100", "Email: contact@council.example", f"Other ways to contact {council.name} (on its main website)",
    ]
    assert [a.attributes["href"] for a in contact.css("a")] == ["tel:01632960100", "mailto:contact@council.example", "https://www.council.example/contact"]
    assert text_of(page, "#contact-the-council") == [f"How to contact {council.name}"]


async def test_without_contact_details_the_sign_in_page_says_where_to_find_them_rather_than_nothing(app):
    council = await create_council_ok()
    async with Browser(app, council) as visitor:
        page = await visitor.get("/signin")
    assert text_of(page, "#council-contact") == [
        f"This site does not have {council.name}’s phone number. You can find it on {council.name}’s main website, or ask at a local library."
    ]


async def test_a_role_given_to_an_address_reaches_whoever_signs_in_with_it_in_other_capitals(app, client, mailbox, council):
    async with Browser(app, council) as admin:
        await admin.signin_as(await create_user_ok(council, role="admin"))
        granted = await admin.post("/admin/roles", {"email": f"Officer.Name@{council.slug}.Example.test", "role": "officer"})
        assert granted.status_code == 303
    email = f"officer.name@{council.slug}.example.test"
    signed_in = await client.post(await _request_link(client, email, mailbox))
    assert signed_in.status_code == 303
    assert await User.filter(email__iexact=email).count() == 1
    assert (await client.get("/officer")).status_code == 200


async def test_a_link_works_only_once(client, mailbox, council):
    email = f"once-{council.slug}@example.test"
    link = await _request_link(client, email, mailbox)
    assert (await client.post(link)).status_code == 303
    async with Browser(client.http._transport.app, council) as other:  # type: ignore[attr-defined]
        again = await other.post(link)
    assert again.status_code == 400
    assert "already been used" in field_error(again, "email")


async def test_tapping_a_used_link_again_while_signed_in_with_it_just_goes_on(client, mailbox, council):
    email = f"twice-{council.slug}@example.test"
    await create_user_ok(council, email=email)  # profile complete, so the link goes straight on
    link = await _request_link(client, email, mailbox, next_path="/schemes")
    assert (await client.post(link)).headers["location"] == "/schemes"
    again = await client.post(link)
    assert again.status_code == 303 and again.headers["location"] == "/schemes"


async def test_a_used_or_expired_link_offers_a_form_that_still_goes_where_it_was_going(app, client, mailbox, council):
    email = f"going-{council.slug}@example.test"
    link = await _request_link(client, email, mailbox, next_path="/rounds")
    assert (await client.post(link)).status_code == 303
    async with Browser(app, council) as other:
        again = await other.post(link)
    assert again.status_code == 400
    assert html(again).css_first("input[name=next]").attributes["value"] == "/rounds"


async def test_a_link_older_than_15_minutes_is_refused(client, mailbox, council):
    email = f"late-{council.slug}@example.test"
    link = await _request_link(client, email, mailbox)
    await LoginToken.filter(email=email).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = await client.post(link)
    assert response.status_code == 400
    assert "expired" in field_error(response, "email")
    assert not await Session.filter(user__email=email).exists()


async def test_a_sign_in_link_that_no_longer_works_says_so_on_opening_with_a_form_to_ask_again(app, client, mailbox, council):
    email = f"opened-late-{council.slug}@example.test"
    expired = await _request_link(client, email, mailbox, next_path="/rounds")
    await LoginToken.filter(email=email).update(expires_at=timezone.now() - timedelta(seconds=1))
    used = await _request_link(client, f"used-{email}", mailbox)
    assert (await client.post(used)).status_code == 303
    async with Browser(app, council) as other:
        for link, message, going in ((expired, "expired", "/rounds"), (used, "already been used", "/"), ("/signin/link/not-a-real-token", "not recognised", "/")):
            opened = await other.get(link)
            assert opened.status_code == 400, link
            assert message in field_error(opened, "email")
            assert not html(opened).css(f'form[action="{link}"]')  # no button that could only fail
            asking = html(opened).css_first('form[action="/signin"]')  # but a way to ask for a new link
            assert asking and asking.css_first("input[name=next]").attributes["value"] == going
    assert (await LoginToken.get(email=email)).used_at is None  # opening it changed nothing


async def test_every_text_about_a_sign_in_link_says_the_lifetime_the_link_has(app, client, mailbox, council, monkeypatch):
    monkeypatch.setattr(accounts, "LINK_LIFETIME", timedelta(minutes=30))
    email = f"half-hour-{council.slug}@example.test"
    assert text_of(await client.get("/signin"), "#email-hint") == ["We will email you a link to sign in. It works once, for 30 minutes."]
    link = await _request_link(client, email, mailbox)
    assert "It works once, for 30 minutes." in mailbox.body((await mailbox.wait_for(email))[-1])
    assert "The link works once, for 30 minutes." in " ".join(text_of(await client.get("/signin/check-email"), "main p"))
    token = await LoginToken.get(email=email)
    assert token.expires_at - token.created_at > timedelta(minutes=29)  # the lifetime the texts give is the one enforced
    await LoginToken.filter(id=token.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    async with Browser(app, council) as other:
        assert "links last 30 minutes" in field_error(await other.get(link), "email")


async def test_a_sign_in_link_that_works_says_until_when(client, mailbox, council):
    email = f"until-{council.slug}@example.test"
    link = await _request_link(client, email, mailbox)
    token = await LoginToken.get(email=email)
    opened = await client.get(link)
    assert opened.status_code == 200 and text_of(opened, "main button") == ["Sign in"]
    assert text_of(opened, "#link-expires") == [f"This link works until {when.clock(token.expires_at)} on {when.day_name(token.expires_at)}."]


async def test_opening_a_used_link_again_while_signed_in_with_it_just_goes_on(client, mailbox, council):
    email = f"reopened-{council.slug}@example.test"
    await create_user_ok(council, email=email)
    link = await _request_link(client, email, mailbox, next_path="/schemes")
    assert (await client.post(link)).headers["location"] == "/schemes"
    again = await client.get(link)
    assert again.status_code == 303 and again.headers["location"] == "/schemes"


async def test_an_unknown_link_is_refused(client):
    response = await client.post("/signin/link/not-a-real-token")
    assert response.status_code == 400
    assert "not recognised" in field_error(response, "email")


async def test_sixth_link_request_in_a_minute_is_refused_politely(client, mailbox, council):
    email = f"eager-{council.slug}@example.test"
    for _ in range(5):
        assert (await client.post("/signin", {"email": email})).status_code == 303
    sixth = await client.post("/signin", {"email": email})
    assert sixth.status_code == 429
    assert "wait a minute" in field_error(sixth, "email")
    assert html(sixth).css_first("#email").attributes["value"] == email  # what was typed is kept
    assert await LoginToken.filter(email=email).count() == 5


async def test_link_requests_are_limited_per_address_across_clients(app, mailbox, council):
    email = f"spread-{council.slug}@example.test"
    for _ in range(5):
        async with Browser(app, council) as browser:
            assert (await browser.post("/signin", {"email": email})).status_code == 303
    async with Browser(app, council) as browser:
        assert (await browser.post("/signin", {"email": email})).status_code == 429


async def test_a_bad_email_address_gets_a_message_by_the_field(client):
    response = await client.post("/signin", {"email": "not an address"})
    assert response.status_code == 422
    assert "correct format" in field_error(response, "email")
    assert html(response).css_first("#email").attributes["value"] == "not an address"


async def test_post_without_csrf_token_is_refused(client):
    await client.get("/signin")
    response = await client.post("/signin", {"email": "a@example.test"}, csrf=False)
    assert response.status_code == 403


async def test_post_without_any_cookie_is_refused(app, council):
    async with Browser(app, council) as fresh:
        response = await fresh.http.post("/signin", data={"email": "a@example.test"})
    assert response.status_code == 403


async def test_next_to_another_site_lands_on_home(client, mailbox, council):
    email = f"next-{council.slug}@example.test"
    user = await create_user_ok(council, email=email)
    assert user.profile_complete
    for hostile in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        link = await _request_link(client, email, mailbox, next_path=hostile)
        async with Browser(client.http._transport.app, council) as fresh:  # type: ignore[attr-defined]
            response = await fresh.post(link)
        assert response.headers["location"] == "/", hostile


async def test_session_id_rotates_at_sign_in(client, mailbox, council):
    email = f"rotate-{council.slug}@example.test"
    await client.post("/signin", {"email": email})  # creates an anonymous session
    before = client.http.cookies.get("civic_session")
    assert before
    link = LINK.search(mailbox.body((await mailbox.wait_for(email))[-1])).group(1)  # type: ignore[union-attr]
    response = await client.post(link)
    after = client.http.cookies.get("civic_session")
    assert after and after != before
    assert "HttpOnly" in response.headers["set-cookie"] and "SameSite=Lax" in response.headers["set-cookie"]


async def test_sign_out_everywhere_ends_a_session_in_another_client(app, council):
    user = await create_user_ok(council)
    async with Browser(app, council) as phone, Browser(app, council) as laptop:
        await phone.signin_as(user)
        await laptop.signin_as(user)
        assert (await laptop.get("/account")).status_code == 200
        response = await phone.post("/signout/everywhere")
        assert response.status_code == 303
        assert (await laptop.get("/account")).status_code == 303  # sent to sign in
        assert (await laptop.get("/account")).headers["location"].startswith("/signin")
    assert not await Session.filter(user=user).exists()


async def test_sign_out_ends_only_this_session(app, council):
    user = await create_user_ok(council)
    async with Browser(app, council) as phone, Browser(app, council) as laptop:
        await phone.signin_as(user)
        await laptop.signin_as(user)
        signed_out = await phone.post("/signout")
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/signin?signed_out=here"
        # It said nothing: the home page looked as before, but for the header.
        assert text_of(await phone.follow(signed_out), "#signed-out") == ["You have signed out. On a shared device, close the browser too."]
        assert (await phone.get("/account")).status_code == 303
        assert (await laptop.get("/account")).status_code == 200


async def test_a_cookie_another_site_left_does_not_sign_anyone_out(client, council):
    # A council's main site on the same domain may set a cookie banner's choices as JSON, as GOV.UK
    # sites do; read by the old standard, that one cookie hid the session cookie beside it.
    await client.signin_as(await create_user_ok(council))
    assert (await client.get("/account")).status_code == 200
    ours = dict(client.http.cookies.items())
    client.http.cookies.clear()
    client.http.cookies.set("cookies_policy", '{"essential":true,"usage":false}', domain=client.host)  # sent first
    for name, value in ours.items():
        client.http.cookies.set(name, value, domain=client.host)
    assert (await client.get("/account")).status_code == 200
    response = await client.post("/signout")
    assert response.status_code == 303 and response.headers["location"] == "/signin?signed_out=here"  # the form's token still reads too


async def test_postcode_outside_the_area_can_browse_but_is_told(client, council):
    user = await create_user_ok()
    await client.signin_as(user)
    response = await client.post("/welcome", {"display_name": "Visitor", "postcode": "ZE1 0AA", "next": "/"})
    assert response.status_code == 303
    home = await client.follow(response)
    # It said "outside the areas civic serves": residents do not know what civic is.
    assert text_of(home, ".govuk-notification-banner__heading") == [f"Your postcode is outside {council.name}'s area, so you can browse but cannot vote here."]
    assert (await User.get(id=user.id)).ward_id is None  # type: ignore[attr-defined]


async def test_first_sign_in_details_are_validated_together(client, council):
    await client.signin_as(await create_user_ok())
    response = await client.post("/welcome", {"display_name": "", "postcode": "XX"})
    assert response.status_code == 422
    assert field_error(response, "display_name") and field_error(response, "postcode")
    assert html(response).css_first("#postcode").attributes["value"] == "XX"


async def test_suspended_user_cannot_use_a_session(client, council):
    user = await create_user_ok(council)
    await client.signin_as(user)
    await User.filter(id=user.id).update(suspended=True)
    assert (await client.get("/account")).status_code == 303


async def test_the_page_answers_before_the_sign_in_link_is_sent_so_a_slow_relay_never_holds_it(app, council, settings, mailbox):
    # Driven as the server would drive the app, to see when the answer goes out: an in-process client
    # waits for the whole call, the e-mail sent after the answer included.
    import asyncio
    from dataclasses import replace
    from urllib.parse import urlencode

    from civic import config, worker

    async with Browser(app, council) as browser:
        page = await browser.get("/signin")
        token = html(page).css_first("input[name=csrftoken]").attributes["value"]
        cookie = browser.http.cookies["csrftoken"]
    email = f"slow-relay-{council.slug}@example.test"
    body = urlencode({"csrftoken": token, "email": email}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/signin", "raw_path": b"/signin", "query_string": b"", "root_path": "",
        "headers": [(b"host", council.hostnames.split(",")[0].encode()), (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode()), (b"cookie", f"csrftoken={cookie}".encode())],
        "client": ("10.0.0.7", 40000), "server": ("civic.test", 80),
    }
    done = asyncio.Event()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    loop = asyncio.get_running_loop()
    answered: list[float] = []
    status: list[int] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif not message.get("more_body"):
            answered.append(loop.time())

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # a relay that takes the connection and never greets
        writer.close()

    relay = await asyncio.start_server(silent, "127.0.0.1", 0)
    config.use(replace(settings, smtp_port=relay.sockets[0].getsockname()[1], smtp_timeout=1.0))
    try:
        started = loop.time()
        await app(scope, receive, send)
        finished = loop.time()
    finally:
        done.set()
        config.use(settings)
        relay.close()
    assert status == [303]
    # The relay was waited on (1 s), and only after the answer had gone.
    assert finished - started >= 0.9 and finished - answered[0] >= 0.9
    row = await mail_to(email).get()
    assert row.status == "pending" and row.attempts == 1  # not lost: the worker sends it once the relay answers
    await OutgoingEmail.filter(id=row.id).update(next_attempt_at=timezone.now())
    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
    assert LINK.search(mailbox.body((await mailbox.wait_for(email))[-1]))


async def test_a_new_postcode_needs_the_identity_checked_again_before_voting_where_a_check_is_needed(app, council):
    # Checked by one council, a resident re-declared a postcode in another's area and voted there.
    other = await create_council_ok()
    officer = await create_user_ok(council, role="officer")
    resident = await create_user_ok(council, display_name="Pat")
    await voting.verify_identity(officer, council, resident.email, "Saw a passport at the library")
    checked_elsewhere = await create_round_ok(other, eligibility="verified")
    async with Browser(app, other) as browser:
        await browser.signin_as(resident)
        form = await browser.get("/welcome")
        assert "checked again" in " ".join(text_of(form, ".govuk-hint"))
        moved = await browser.post("/welcome", {"display_name": "Pat", "postcode": postcode_in(other), "next": "/"})
        assert moved.status_code == 303
        assert "needs checking again" in (await browser.follow(moved)).text
        ballot = await browser.post(f"/rounds/{checked_elsewhere.id}/ballot", shares_form(await priorities_of(checked_elsewhere), 100))
        assert "identity checked first" in ballot.text
    assert not await Ballot.filter(round=checked_elsewhere).exists()
    assert not (await User.get(id=resident.id)).identity_verified
    assert await AuditLog.filter(action="user.identity_unverified", target_id=str(resident.id)).exists()
    # Saving the same postcode again (a new name) keeps a check.
    await voting.verify_identity(await create_user_ok(other, role="officer"), other, resident.email, "Saw a passport")
    await accounts.complete_profile(await User.get(id=resident.id), "Pat Jones", postcode_in(other))
    assert (await User.get(id=resident.id)).identity_verified


# Deleting your account


async def test_a_resident_deletes_their_account_after_reading_what_happens(app, council):
    resident = await create_user_ok(council)
    async with Browser(app, council) as browser, Browser(app, council) as phone:
        await browser.signin_as(resident)
        await phone.signin_as(resident)
        account = await browser.get("/account")
        assert "/account/delete" in [a.attributes.get("href") for a in html(account).css("main a")]
        confirm = await browser.get("/account/delete")
        assert text_of(confirm, "h1") == ["Delete your account"]
        assert "What we keep, without your name" in text_of(confirm, "h2")
        assert text_of(confirm, "#council-contact")[0].startswith(f"This site does not have {council.name}’s phone number.")  # it says how to ask
        assert text_of(confirm, "main form button") == ["Delete your account"]

        deleted = await browser.post("/account/delete")
        assert deleted.status_code == 303 and deleted.headers["location"] == "/account/deleted"
        page = await browser.follow(deleted)
        assert text_of(page, "h1") == ["Your account has been deleted"]
        assert not await User.filter(id=resident.id).exists()
        for device in (browser, phone):  # signed out everywhere
            assert (await device.get("/account")).headers["location"].startswith("/signin")


async def test_council_staff_are_told_to_have_their_role_removed_before_deleting(app, council):
    officer = await create_user_ok(council, role="officer")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        confirm = await browser.get("/account/delete")
        assert "You cannot delete your account yet" in text_of(confirm, ".govuk-notification-banner__heading")
        assert not html(confirm).css("main form")
        refused = await browser.post("/account/delete")
        assert refused.status_code == 409
        assert f"An administrator at {council.name} must remove it" in refused.text
    assert await User.filter(id=officer.id).exists()


async def test_the_only_organiser_of_a_scheme_is_shown_where_to_hand_it_over(app, council):
    scheme = await create_scheme_ok(council)
    await create_volunteer_ok(scheme)
    async with Browser(app, council) as browser:
        await browser.signin_as(await organiser_of(scheme))
        confirm = await browser.get("/account/delete")
        links = [a.attributes.get("href", "") for a in html(confirm).css(".govuk-notification-banner a")]
        assert any(link.endswith(f"/schemes/{scheme.slug}/organisers") for link in links)
        assert not html(confirm).css("main form")


# Changing the e-mail address

CHANGE_LINK = re.compile(r"http://[\w.\-]+(/account/email/confirm/[\w\-]+)")


async def _ask_to_change(browser: Browser, new_email: str, mailbox) -> str:
    asked = await browser.post("/account/email", {"email": new_email})
    assert asked.status_code == 303 and asked.headers["location"] == "/account", asked.text
    match = CHANGE_LINK.search(mailbox.body((await mailbox.wait_for(new_email.strip().lower()))[-1]))
    assert match
    return match.group(1)


async def test_the_address_changes_only_when_the_link_sent_to_the_new_one_is_used(app, council, mailbox):
    user = await create_user_ok(council)
    old_email, new_email = user.email, f"new-{user.id}@example.test"
    async with Browser(app, council) as browser:
        await browser.signin_as(user)
        link = await _ask_to_change(browser, f"  New-{user.id}@Example.TEST ", mailbox)
        assert (await User.get(id=user.id)).email == old_email  # not yet

        confirm = await browser.get(link)
        assert text_of(confirm, "main button") == ["Change my email address"]  # GET alone changes nothing
        assert (await User.get(id=user.id)).email == old_email

        changed = await browser.post(link)
        assert changed.status_code == 303 and changed.headers["location"] == "/account"
        account = await browser.follow(changed)
        assert new_email in text_of(account, "dd.govuk-summary-list__value")
        assert (await User.get(id=user.id)).email == new_email

        notice = (await mailbox.wait_for(old_email))[-1]
        assert notice["Subject"] == "Your email address has been changed"
        assert await AuditLog.filter(action="user.email_changed", target_id=str(user.id)).exists()

        again = await browser.post(link)
        assert again.status_code == 400
        assert "already been used" in again.text


async def test_the_link_to_a_new_address_says_when_it_stops_working_and_after_that_refuses(app, council, mailbox):
    user = await create_user_ok(council)
    new_email = f"late-{user.id}@example.test"
    async with Browser(app, council) as browser:
        await browser.signin_as(user)
        link = await _ask_to_change(browser, new_email, mailbox)
        assert "It works once, for an hour." in mailbox.body((await mailbox.wait_for(new_email))[-1])
        change = await EmailChange.get(new_email=new_email)
        confirm = await browser.get(link)
        assert text_of(confirm, "#link-expires") == [f"This link works until {when.clock(change.expires_at)} on {when.day_name(change.expires_at)}."]

        await EmailChange.filter(id=change.id).update(expires_at=timezone.now() - timedelta(seconds=1))
        opened = await browser.get(link)
        assert opened.status_code == 400
        assert text_of(opened, "h1") == ["That link did not work"]
        assert "That link has expired: links last an hour." in text_of(opened, "main p")[0]
        assert not html(opened).css("main form")  # no button that could only fail
        pressed = await browser.post(link)
        assert pressed.status_code == 400 and "expired" in pressed.text
    assert (await User.get(id=user.id)).email == user.email
    assert (await EmailChange.get(id=change.id)).used_at is None


async def test_every_text_about_a_new_address_link_says_the_lifetime_the_link_has(app, council, mailbox, monkeypatch):
    monkeypatch.setattr(accounts, "EMAIL_CHANGE_LIFETIME", timedelta(hours=2))
    user = await create_user_ok(council)
    new_email = f"two-hours-{user.id}@example.test"
    async with Browser(app, council) as browser:
        await browser.signin_as(user)
        form = await browser.get("/account/email")
        assert text_of(form, "#email-hint") == ["We will send a link to this address. Your address changes only when you use it, within 2 hours."]
        asked = await browser.post("/account/email", {"email": new_email})
        flashed = await browser.follow(asked)
        assert f"We have sent a link to {new_email}. Your email address changes when you use it, within 2 hours." in text_of(flashed, ".govuk-notification-banner__content")
        assert "It works once, for 2 hours." in mailbox.body((await mailbox.wait_for(new_email))[-1])
        change = await EmailChange.get(new_email=new_email)
        assert change.expires_at - change.created_at > timedelta(hours=1, minutes=59)  # the lifetime the texts give is the one enforced
        link = CHANGE_LINK.search(mailbox.body((await mailbox.wait_for(new_email))[-1])).group(1)  # type: ignore[union-attr]
        await EmailChange.filter(id=change.id).update(expires_at=timezone.now() - timedelta(seconds=1))
        opened = await browser.get(link)
        assert "That link has expired: links last 2 hours." in text_of(opened, "main p")[0]


async def test_an_address_another_account_has_is_refused_without_saying_so_to_the_person_asking(app, council, mailbox):
    user = await create_user_ok(council)
    other = await create_user_ok(council)
    async with Browser(app, council) as browser:
        await browser.signin_as(user)
        asked = await browser.post("/account/email", {"email": other.email})
        assert asked.status_code == 303 and asked.headers["location"] == "/account"
        flashed = await browser.follow(asked)
        assert f"We have sent a link to {other.email}" in flashed.text  # the same answer as for a free address
    told = mailbox.body((await mailbox.wait_for(other.email))[-1])
    assert "already has an account" in told and "/account/email/confirm/" not in told
    assert (await User.get(id=user.id)).email != other.email


async def test_a_link_to_an_address_taken_since_it_was_sent_does_not_change_it(app, council, mailbox):
    user = await create_user_ok(council)
    new_email = f"taken-later-{user.id}@example.test"
    async with Browser(app, council) as browser:
        await browser.signin_as(user)
        link = await _ask_to_change(browser, new_email, mailbox)
        await create_user_ok(council, email=new_email)
        refused = await browser.post(link)
        assert refused.status_code == 400
        assert "already has an account" in refused.text
    assert (await User.get(id=user.id)).email != new_email


async def test_changing_to_the_same_address_or_nonsense_is_explained_next_to_the_field(app, council):
    user = await create_user_ok(council)
    async with Browser(app, council) as browser:
        await browser.signin_as(user)
        same = await browser.post("/account/email", {"email": user.email.upper()})
        assert same.status_code == 422
        assert field_error(same, "email") == "That is already your email address. Enter a different one."
        wrong = await browser.post("/account/email", {"email": "not an address"})
        assert wrong.status_code == 422 and "correct format" in field_error(wrong, "email")


# Buttons pressed after the session ended


async def test_a_button_pressed_after_signing_out_offers_sign_in_back_to_the_page_it_was_on(app, council):
    async with Browser(app, council) as browser:
        pressed = await browser.post("/signout/everywhere", headers={"referer": f"http://{browser.host}/schemes/walk-and-talk?tab=rota"})
        assert pressed.status_code == 403
        assert "/signin?next=/schemes/walk-and-talk%3Ftab%3Drota" in [a.attributes.get("href") for a in html(pressed).css("main a")]
        elsewhere = await browser.post("/signout/everywhere", headers={"referer": "https://evil.example/schemes"})
        assert "/signin?next=/" in [a.attributes.get("href") for a in html(elsewhere).css("main a")]


# What the sign-in page says


async def test_the_sign_in_page_says_what_signing_in_is_for(client, council):
    scheme = await create_scheme_ok(council, name="Walk and Talk")
    asking = await client.get(f"/signin?next=/schemes/{scheme.slug}/ask")
    assert text_of(asking, "#signin-reason") == ["Sign in to ask Walk and Talk for help."]
    voting = await client.get("/signin?next=/rounds/7/ballot")
    assert text_of(voting, "#signin-reason") == ["Sign in to vote."]
    elsewhere = await client.get(f"/signin?next=/schemes/{scheme.slug}/people")
    assert text_of(elsewhere, "#signin-reason") == ["Sign in to continue."]
    hidden = await create_scheme_ok(council, status="pending")
    not_public = await client.get(f"/signin?next=/schemes/{hidden.slug}/ask")
    assert text_of(not_public, "#signin-reason") == ["Sign in to continue."]  # a scheme not yet public is not named
    assert text_of(await client.get("/signin"), "#signin-reason") == []


async def test_the_sign_in_page_says_an_account_is_made_and_what_to_do_without_email(client, council):
    page = await client.get("/signin")
    words = " ".join(text_of(page, "main p"))
    assert "we make an account for you with your email address" in words
    assert "If you do not have an email address" in text_of(page, "h2")
    assert "voting code by post" in words and f"contact {council.name}" in words


async def test_behind_a_trusted_proxy_each_visitor_has_their_own_sign_in_limit(council, mailbox, clean_limits):
    # Every request comes from the proxy's address: counted by that, one busy visitor would lock out the rest.
    from routes import create_app

    proxy, stranger = "10.250.0.1", "10.250.0.2"
    asked = 0

    async def ask(peer: str, forwarded_for: str) -> int:
        nonlocal asked
        asked += 1
        async with Browser(app, council, ip=peer) as browser:
            answer = await browser.post("/signin", {"email": f"asker-{asked}-{council.slug}@example.test"}, headers={"x-forwarded-for": forwarded_for})
        return answer.status_code

    with use_settings(trusted_proxies=f"{proxy},10.251.0.0/16", signin_rate_per_ip="2/minute") as settings:
        app = create_app(settings)
        assert [await ask(proxy, "203.0.113.1") for _ in range(3)] == [303, 303, 429]
        assert await ask(proxy, "203.0.113.2") == 303
        # Through a second proxy in a trusted network, the visitor is the address the first proxy saw.
        assert await ask("10.251.3.4", "203.0.113.3, 10.250.0.1") == 303
        assert await ask("10.251.3.4", "198.51.100.9, 203.0.113.1") == 429
        # From a peer that is not trusted the header is ignored: nobody picks their own address to dodge the limit.
        assert [await ask(stranger, f"198.51.100.{n}") for n in range(3)] == [303, 303, 429]
