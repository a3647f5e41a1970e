"""Reporting schemes, news and offers of help, and officers moderating them: hide, restore, dismiss, stop posting, let post again."""

from __future__ import annotations

import re

from civic.accounts import Session, User
from civic.audit import AuditLog
from civic.schemes.models import NewsPost, Report, Scheme
from tests.factories import (
    Browser,
    create_council_ok,
    create_post_ok,
    create_report_ok,
    create_scheme_ok,
    create_user_ok,
    field_error,
    html,
    text_of,
)


async def _officer(app, council) -> Browser:
    browser = Browser(app, council)
    await browser.signin_as(await create_user_ok(council, role="officer"))
    return browser


async def test_hiding_a_scheme_removes_it_everywhere_and_restoring_brings_it_back_both_audited(app, client, council, mailbox):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, name="Bingo Nights")
    service = f"/api/openreferral/services/{scheme.uuid}"
    assert (await client.get(service)).status_code == 200

    async with await _officer(app, council) as office:
        no_reason = await office.post(f"/officer/moderation/schemes/{scheme.slug}/hide", {"reason": ""})
        assert no_reason.status_code == 422 and field_error(no_reason, "reason") == "Say why, for the audit log"
        hidden = await office.post(f"/officer/moderation/schemes/{scheme.slug}/hide", {"reason": "Selling raffle tickets to children"})
        assert hidden.status_code == 303 and hidden.headers["location"] == f"/schemes/{scheme.slug}"
        as_officer = await office.get(f"/schemes/{scheme.slug}")
        assert as_officer.status_code == 200
        assert text_of(as_officer, "#hidden-title") == ["Hidden"]
        assert "Selling raffle tickets to children" in " ".join(text_of(as_officer, ".govuk-notification-banner p"))

    assert (await client.get(f"/schemes/{scheme.slug}")).status_code == 404
    assert text_of(await client.get("/schemes"), ".app-card__title") == []
    assert (await client.get(service)).status_code == 404
    assert (await client.get("/api/openreferral/services")).json()["contents"] == []
    assert "Selling raffle tickets to children" in mailbox.body((await mailbox.wait_for(organiser.email))[-1])
    async with Browser(app, council) as own:
        await own.signin_as(organiser)  # organisers still see their scheme, and why it is hidden
        assert text_of(await own.get(f"/schemes/{scheme.slug}"), "#hidden-title") == ["Hidden"]

    async with await _officer(app, council) as office:
        restored = await office.post(f"/officer/moderation/schemes/{scheme.slug}/restore", {"reason": "The raffle has stopped"})
        assert restored.status_code == 303
    assert (await client.get(f"/schemes/{scheme.slug}")).status_code == 200
    assert text_of(await client.get("/schemes"), ".app-card__title") == ["Bingo Nights"]
    assert (await client.get(service)).status_code == 200
    entries = await AuditLog.filter(target_type="Scheme", target_id=str(scheme.id), action__in=["scheme.hidden", "scheme.restored"]).order_by("id")
    assert [(e.action, e.reason) for e in entries] == [
        ("scheme.hidden", "Selling raffle tickets to children"),
        ("scheme.restored", "The raffle has stopped"),
    ]


async def test_a_report_reaches_the_queue_and_the_reporter_is_told_when_the_scheme_is_hidden(app, client, council, mailbox):
    scheme = await create_scheme_ok(council, name="Cash for Chores")
    reporter = await create_user_ok(council)
    await client.signin_as(reporter)
    form = await client.get(f"/schemes/{scheme.slug}/report")
    assert text_of(form, "h1") == ["Report this scheme"]
    missing = await client.post(f"/schemes/{scheme.slug}/report", {"details": ""})
    assert missing.status_code == 422 and field_error(missing, "reason") and field_error(missing, "details")
    assert (await client.post(f"/schemes/{scheme.slug}/report", {"reason": "unsafe", "details": "Asks children to come alone"})).status_code == 303
    twice = await client.post(f"/schemes/{scheme.slug}/report", {"reason": "unsafe", "details": "Again"})
    assert twice.status_code == 409

    async with await _officer(app, council) as office:
        home = await office.get("/officer")
        assert "Could put someone at risk: Cash for Chores" in text_of(home, "li")
        queue = await office.get("/officer/moderation")
        report = await Report.get(scheme=scheme)
        item = html(queue).css_first(f"#report-{report.id}")
        assert "Asks children to come alone" in item.text()
        assert item.css_first("a[href$='/hide']").attributes["href"] == f"/officer/moderation/schemes/{scheme.slug}/hide"
        assert (await office.post(f"/officer/moderation/schemes/{scheme.slug}/hide", {"reason": "Unsafe"})).status_code == 303
        assert text_of(await office.get("/officer/moderation"), "#report-" + str(report.id)) == []

    report = await Report.get(id=report.id)
    assert report.status == "hidden" and report.outcome == "Unsafe"
    told = (await mailbox.wait_for(reporter.email))[-1]
    assert told["Subject"] == "What happened to your report"
    assert "hidden the scheme" in mailbox.body(told)


async def test_the_reason_field_says_who_reads_it_and_they_are_the_ones_sent_it(app, council, mailbox):
    organiser, reporter = await create_user_ok(council), await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser, name="Bingo Nights")
    await create_report_ok(scheme, reporter)
    hide, restore = f"/officer/moderation/schemes/{scheme.slug}/hide", f"/officer/moderation/schemes/{scheme.slug}/restore"
    async with await _officer(app, council) as office:
        assert text_of(await office.get(hide), "#reason-hint") == [
            "We email this to the scheme’s organisers and anyone who reported it, and show it to the organisers on the scheme’s page, "
            "so write it for them. It is kept in the audit log too."]
        # The hint is the field's description, with or without its error.
        refused = await office.post(hide, {"reason": ""}, headers={"HX-Request": "true"})
        assert html(refused).css_first("#reason").attributes["aria-describedby"] == "reason-hint reason-error"
        assert text_of(refused, "#reason-hint")[0].startswith("We email this to the scheme’s organisers")
        assert (await office.post(hide, {"reason": "Raffle tickets are being sold to children"})).status_code == 303
        for person in (organiser, reporter):
            assert "Raffle tickets are being sold to children" in mailbox.body((await mailbox.wait_for(person.email))[-1])

        assert text_of(await office.get(restore), "#reason-hint") == ["Kept in the audit log, for other officers. Nobody else is sent it."]
        assert (await office.post(restore, {"reason": "The committee has stopped the raffle"})).status_code == 303
        told = await mailbox.wait_for(organiser.email, count=2)
        assert told[-1]["Subject"] == "Bingo Nights is visible again"
        assert "stopped the raffle" not in mailbox.body(told[-1])

    report = await create_report_ok(scheme, reporter)
    async with await _officer(app, council) as office:
        for path, readers in ((f"/officer/moderation/reports/{report.id}/dismiss", "the person who reported it"),
                              (f"/officer/moderation/reports/{report.id}/suspend", "the person you are stopping")):
            assert text_of(await office.get(path), "#reason-hint") == [f"We email this to {readers}, so write it for them. It is kept in the audit log too."]


async def test_a_dismissed_report_tells_the_reporter_and_leaves_the_scheme_as_it_was(app, council, mailbox):
    scheme = await create_scheme_ok(council)
    reporter = await create_user_ok(council)
    report = await create_report_ok(scheme, reporter)
    async with await _officer(app, council) as office:
        page = await office.get(f"/officer/moderation/reports/{report.id}/dismiss")
        assert "The times are wrong" in text_of(page, ".govuk-summary-list__value")
        assert (await office.post(f"/officer/moderation/reports/{report.id}/dismiss", {"reason": "The times are right"})).status_code == 303
        assert (await office.post(f"/officer/moderation/reports/{report.id}/dismiss", {"reason": "Again"})).status_code == 409
    assert (await Report.get(id=report.id)).status == "dismissed"
    assert not (await Scheme.get(id=scheme.id)).hidden
    assert "decided to leave it as it is" in mailbox.body((await mailbox.wait_for(reporter.email))[-1])
    assert await AuditLog.filter(action="report.dismissed", target_id=str(report.id), reason="The times are right").exists()


async def test_a_hidden_news_post_vanishes_for_the_public_but_its_organisers_see_why(app, client, council):
    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    post = await create_post_ok(scheme, organiser, title="Free puppies")
    report = await create_report_ok(scheme, post=post, reason="spam", details="Advert")
    await client.signin_as(await create_user_ok(council))
    assert (await client.get(f"/schemes/{scheme.slug}/news/{post.id}/report")).status_code == 200
    async with await _officer(app, council) as office:
        assert (await office.post(f"/officer/moderation/posts/{post.id}/hide", {"reason": "An advert"})).status_code == 303
        assert "Free puppies" in text_of(await office.get("/officer/moderation"), "#hidden + ul li a")
    assert text_of(await client.get(f"/schemes/{scheme.slug}"), "article h3") == []
    assert text_of(await client.get(f"/schemes/{scheme.slug}/news"), "article h3") == []
    assert (await client.get(f"/schemes/{scheme.slug}/news/{post.id}/report")).status_code == 404
    assert (await Report.get(id=report.id)).status == "hidden"
    async with Browser(app, council) as own:
        await own.signin_as(organiser)
        page = await own.get(f"/schemes/{scheme.slug}")
        assert text_of(page, "article h3") == ["Free puppies"]
        assert "Hidden by the council: An advert" in text_of(page, "article p")
        assert not html(page).css_first(f"a[href='/schemes/{scheme.slug}/news/{post.id}/report']")
        for asked in (await own.get(f"/schemes/{scheme.slug}/news/{post.id}/report"),
                      await own.post(f"/schemes/{scheme.slug}/news/{post.id}/report", {"reason": "wrong", "details": "Still an advert"})):
            assert asked.status_code == 409 and f"{council.name} has already hidden this news." in text_of(asked, "main p")
        assert await Report.filter(post_id=post.id).count() == 1
    async with await _officer(app, council) as office:
        assert (await office.post(f"/officer/moderation/posts/{post.id}/restore", {"reason": "Puppies found homes"})).status_code == 303
    assert text_of(await client.get(f"/schemes/{scheme.slug}"), "article h3") == ["Free puppies"]
    assert [e.action for e in await AuditLog.filter(target_type="NewsPost", target_id=str(post.id)).order_by("id")] == ["news.hidden", "news.restored"]


async def test_an_offer_of_help_is_reported_from_the_board_and_an_officer_hides_and_restores_it(app, client, council, mailbox):
    from civic.schemes.running import HelpOffer

    organiser = await create_user_ok(council)
    scheme = await create_scheme_ok(council, organiser)
    author, reporter = await create_user_ok(council), await create_user_ok(council)
    offer = await HelpOffer.create(council=council, scheme=scheme, author=author, text="Cheap cigarettes, ask me")
    report_path = f"/schemes/{scheme.slug}/offers/{offer.id}/report"
    board = await client.get(f"/schemes/{scheme.slug}/offers")
    assert html(board).css_first(f"#offer-{offer.id} a[href='{report_path}']")
    assert (await client.get(report_path)).headers["location"].startswith("/signin")

    await client.signin_as(reporter)
    form = await client.get(report_path)
    assert text_of(form, "h1") == ["Report this offer of help"]
    assert "Cheap cigarettes, ask me" in text_of(form, ".govuk-inset-text p")
    missing = await client.post(report_path, {"reason": "spam", "details": ""})
    assert missing.status_code == 422 and field_error(missing, "details")
    sent = await client.post(report_path, {"reason": "unsafe", "details": "Selling cigarettes to teenagers"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/schemes/{scheme.slug}/offers"
    report = await Report.get(offer_id=offer.id)
    assert (report.reason, report.reporter_id, report.post_id) == ("unsafe", reporter.id, None)  # type: ignore[attr-defined]

    async with await _officer(app, council) as office:
        assert f"Could put someone at risk: an offer of help on {scheme.name}" in text_of(await office.get("/officer"), "li")
        item = html(await office.get("/officer/moderation")).css_first(f"#report-{report.id}")
        assert "Cheap cigarettes, ask me" in item.text() and "Selling cigarettes to teenagers" in item.text()
        assert f"Written by {author}" in item.text()
        assert item.css_first("a[href$='/hide']").attributes["href"] == f"/officer/moderation/offers/{offer.id}/hide"
        page = await office.get(f"/officer/moderation/offers/{offer.id}/hide")
        assert text_of(page, "h1") == ["Hide this offer of help"]
        assert (await office.post(f"/officer/moderation/offers/{offer.id}/hide", {"reason": ""})).status_code == 422
        hidden = await office.post(f"/officer/moderation/offers/{offer.id}/hide", {"reason": "Selling tobacco to children"})
        assert hidden.status_code == 303 and hidden.headers["location"] == "/officer/moderation"
        queue = await office.get("/officer/moderation")
        assert text_of(queue, f"#report-{report.id}") == []
        assert html(queue).css_first(f"#hidden-offer-{offer.id} a[href='/officer/moderation/offers/{offer.id}/restore']")

    assert text_of(await client.get(f"/schemes/{scheme.slug}/offers"), f"#offer-{offer.id}") == []
    assert (await client.get(report_path)).status_code == 404
    async with Browser(app, council) as own:
        await own.signin_as(organiser)  # the organisers still see it, and why it was hidden
        card = html(await own.get(f"/schemes/{scheme.slug}/offers")).css_first(f"#offer-{offer.id}")
        assert "Hidden by the council: Selling tobacco to children" in card.text()
        assert not card.css_first(f"a[href='{report_path}']")
    assert (await Report.get(id=report.id)).status == "hidden"
    assert "hidden the offer of help" in mailbox.body((await mailbox.wait_for(reporter.email))[-1])
    assert (await mailbox.wait_for(author.email))[-1]["Subject"] == f"Your offer of help on {scheme.name} has been hidden"

    async with await _officer(app, council) as office:
        assert (await office.post(f"/officer/moderation/offers/{offer.id}/restore", {"reason": "Misread: they meant sweets"})).status_code == 303
    assert text_of(await client.get(f"/schemes/{scheme.slug}/offers"), f"#offer-{offer.id} p")[0] == "Cheap cigarettes, ask me"
    assert [e.action for e in await AuditLog.filter(target_type="HelpOffer", target_id=str(offer.id)).order_by("id")] == ["help_offer.hidden", "help_offer.restored"]


async def test_the_board_says_why_an_offer_the_council_hid_cannot_be_taken_down(app, client, council):
    from civic.schemes import moderation
    from civic.schemes.running import HelpOffer

    organiser, officer = await create_user_ok(council), await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, organiser)
    offer = await HelpOffer.create(council=council, scheme=scheme, author=organiser, text="Cheap tickets")
    await moderation.hide_offer(officer, council, offer.id, "Touting")
    take_down = f"#offer-{offer.id} form[action='/schemes/{scheme.slug}/offers/{offer.id}/remove']"

    await client.signin_as(organiser)  # who runs the scheme and posted it
    board = await client.get(f"/schemes/{scheme.slug}/offers")
    assert not html(board).css_first(take_down)
    assert text_of(board, f"#offer-{offer.id}-kept") == [
        f"{council.name} has hidden this offer, so it cannot be taken down while it is hidden. If you think it should be shown again, contact {council.name}."
    ]
    refused = await client.post(f"/schemes/{scheme.slug}/offers/{offer.id}/remove")
    assert refused.status_code == 409 and f"{council.name} has hidden this offer" in " ".join(text_of(refused, "main p"))
    assert (await HelpOffer.get(id=offer.id)).removed_at is None

    async with Browser(app, council) as office:
        await office.signin_as(officer)
        board = await office.get(f"/schemes/{scheme.slug}/offers")
        assert html(board).css_first(take_down) and text_of(board, f"#offer-{offer.id}-kept") == []


async def test_signing_in_to_report_an_offer_says_what_it_is_for(client, council):
    from civic.schemes.running import HelpOffer

    scheme = await create_scheme_ok(council, name="Lawn Share")
    offer = await HelpOffer.create(council=council, scheme=scheme, author=await create_user_ok(council), text="A mower")
    page = await client.get(f"/signin?next=/schemes/{scheme.slug}/offers/{offer.id}/report")
    assert "Sign in to report a problem with Lawn Share" in " ".join(text_of(page, "main"))


async def test_an_officer_stops_the_author_of_reported_content_from_posting(app, council, mailbox):
    author = await create_user_ok(council)
    scheme = await create_scheme_ok(council, author)
    post = await create_post_ok(scheme, author)
    report = await create_report_ok(scheme, post=post, reason="offensive", details="Abuse")
    async with Browser(app, council) as authors_phone:
        await authors_phone.signin_as(author)
        async with await _officer(app, council) as office:
            page = await office.get(f"/officer/moderation/reports/{report.id}/suspend")
            assert author.email in " ".join(text_of(page, ".govuk-summary-list__value"))
            assert (await office.post(f"/officer/moderation/reports/{report.id}/suspend", {"reason": "Abusive news"})).status_code == 303
        assert (await User.get(id=author.id)).suspended
        assert not await Session.filter(user=author).exists()
        refused = await authors_phone.post(f"/schemes/{scheme.slug}/news", {"title": "Still here", "body": "?"})
        assert refused.status_code == 403
    assert await NewsPost.filter(scheme=scheme).count() == 1
    assert await AuditLog.filter(action="user.suspended", target_id=str(author.id), reason="Abusive news").exists()
    [told] = await mailbox.wait_for(author.email)
    assert told["Subject"] == "You can no longer post"
    body = mailbox.body(told).replace("\r\n", "\n")
    assert "The reason:\n\nAbusive news" in body
    assert f"contact {council.name}: http://{council.hostnames}" in body


async def test_council_staff_cannot_be_stopped_from_posting_from_the_queue(app, council):
    officer = await create_user_ok(council, role="officer")
    scheme = await create_scheme_ok(council, officer)
    report = await create_report_ok(scheme)
    async with await _officer(app, council) as office:
        response = await office.post(f"/officer/moderation/reports/{report.id}/suspend", {"reason": "Testing"})
    assert response.status_code == 409
    assert not (await User.get(id=officer.id)).suspended


async def test_the_moderation_queue_lists_reports_proposals_and_hidden_content(app, council):
    proposed = await create_scheme_ok(council, status="pending", name="Waiting Scheme")
    hidden = await create_scheme_ok(council, name="Hidden Scheme")
    await Scheme.filter(id=hidden.id).update(hidden=True, hidden_reason="Spam")
    reported = await create_scheme_ok(council, name="Reported Scheme")
    await create_report_ok(reported, details="Wrong address")
    async with await _officer(app, council) as office:
        queue = await office.get("/officer/moderation")
    assert text_of(queue, "#pending + ul li a") == ["Waiting Scheme"]
    assert "Hidden Scheme" in text_of(queue, "#hidden + ul li a")
    assert "Reported Scheme" in text_of(queue, ".app-queue__title a")
    assert proposed.status == "pending"


# Letting someone post again

SIGNIN_LINK = re.compile(r"https?://[^/\s]+(/signin/link/[\w\-]+)")


async def _signin_link(browser: Browser, email: str, mailbox) -> str:
    """Ask for a sign-in link as the person would, and return its path from the message that arrives."""
    before = len(mailbox.to(email))
    assert (await browser.post("/signin", {"email": email})).status_code == 303
    arrived = (await mailbox.wait_for(email, count=before + 1))[before:]
    [link] = [m.group(1) for m in (SIGNIN_LINK.search(mailbox.body(message)) for message in arrived) if m]
    return link


async def _stopped_author(app, council) -> tuple[User, Scheme]:
    """The author of a reported news post, stopped from posting through the report's page."""
    author = await create_user_ok(council, display_name="Rhys Morgan")
    scheme = await create_scheme_ok(council, author)
    report = await create_report_ok(scheme, post=await create_post_ok(scheme, author), reason="offensive", details="Abuse")
    async with await _officer(app, council) as office:
        assert (await office.post(f"/officer/moderation/reports/{report.id}/suspend", {"reason": "Abusive news\n\nThird warning"})).status_code == 303
    return author, scheme


async def test_an_officer_lets_someone_post_again_and_they_are_told_and_can_sign_in(app, council, mailbox):
    author, scheme = await _stopped_author(app, council)
    async with Browser(app, council) as authors_phone:
        assert (await authors_phone.post(await _signin_link(authors_phone, author.email, mailbox))).status_code == 403

    async with await _officer(app, council) as office:
        queue = await office.get("/officer/moderation")
        link = html(queue).css_first("#stopped + p a")
        assert link.attributes["href"] == "/officer/moderation/suspended"
        listing = await office.get("/officer/moderation/suspended")
        assert text_of(listing, "h1") == ["People stopped from posting"]
        item = html(listing).css_first(f"#person-{author.id}")
        assert " ".join(item.css_first("h2").text().split()) == "Rhys Morgan"
        assert [" ".join(p.text().split()) for p in item.css("p")][1:] == ["Abusive news", "Third warning"]
        assert author.email not in listing.text
        restore = f"/officer/moderation/people/{author.id}/restore"
        assert item.css_first("a").attributes["href"] == restore

        page = await office.get(restore)
        assert text_of(page, "h1") == ["Let this person post again"]
        assert text_of(page, ".govuk-caption-l") == ["Rhys Morgan"]
        assert "Abusive news" in " ".join(text_of(page, ".govuk-summary-list__value"))
        assert text_of(page, "form button") == ["Let them post again"]
        assert html(page).css_first("form").attributes["method"] == "post"
        assert html(page).css_first("form input[name=csrftoken]") is not None

        no_reason = await office.post(restore, {"reason": "   "})
        assert no_reason.status_code == 422
        assert field_error(no_reason, "reason") == "Say why they can post again, for the audit log"
        fragment = await office.post(restore, {"reason": ""}, headers={"HX-Request": "true"})
        assert fragment.status_code == 422 and text_of(fragment, "#moderation-form h1") == ["Let this person post again"]
        assert "Spam" not in fragment.text and "Abusive news" in " ".join(text_of(fragment, ".govuk-summary-list__value"))
        too_long = "The ban was a mistake. " * 100
        long_reason = await office.post(restore, {"reason": too_long})
        assert long_reason.status_code == 422 and field_error(long_reason, "reason") == "The reason must be 2000 characters or fewer"
        assert html(long_reason).css_first("textarea[name=reason]").text().strip() == too_long.strip()
        assert (await User.get(id=author.id)).suspended

        lifted = await office.post(restore, {"reason": "The abuse was from a shared account"})
        assert lifted.status_code == 303 and lifted.headers["location"] == "/officer/moderation/suspended"
        after = await office.follow(lifted)
        assert "They can post again." in text_of(after, ".govuk-notification-banner__heading")
        assert html(after).css_first(f"#person-{author.id}") is None
        assert (await office.post(restore, {"reason": "Again"})).status_code == 409

    assert not (await User.get(id=author.id)).suspended
    entry = await AuditLog.get(action="user.unsuspended", target_id=str(author.id))
    assert (entry.council_id, entry.reason) == (council.id, "The abuse was from a shared account")  # type: ignore[attr-defined]
    [told] = [message for message in mailbox.to(author.email) if message["Subject"] == "You can post again"]
    assert "You can sign in, post news, start schemes and send reports again" in mailbox.body(told)

    async with Browser(app, council) as authors_phone:
        signed_in = await authors_phone.post(await _signin_link(authors_phone, author.email, mailbox))
        assert signed_in.status_code == 303
        assert await Session.filter(user=author).exists()
        posted = await authors_phone.post(f"/schemes/{scheme.slug}/news", {"title": "Back again", "body": "Sorry for the trouble."})
        assert posted.status_code == 303
    assert await NewsPost.filter(scheme=scheme, title="Back again").exists()


async def test_only_the_council_that_stopped_someone_may_let_them_post_again(app, council):
    author, _ = await _stopped_author(app, council)
    restore = f"/officer/moderation/people/{author.id}/restore"
    other = await create_council_ok()
    async with Browser(app, other) as elsewhere:
        await elsewhere.signin_as(await create_user_ok(other, role="officer"))
        assert (await elsewhere.get(restore)).status_code == 404
        assert (await elsewhere.post(restore, {"reason": "Not ours"})).status_code == 404
        assert html(await elsewhere.get("/officer/moderation/suspended")).css_first(f"#person-{author.id}") is None
    for someone in (await create_user_ok(council), await create_user_ok(other, role="officer")):
        async with Browser(app, council) as browser:
            await browser.signin_as(someone)
            assert (await browser.get("/officer/moderation/suspended")).status_code == 403
            assert (await browser.get(restore)).status_code == 403
            assert (await browser.post(restore, {"reason": "Let them back"})).status_code == 403
    async with await _officer(app, council) as office:
        never = await create_user_ok(council)
        assert (await office.get(f"/officer/moderation/people/{never.id}/restore")).status_code == 404
        assert (await office.get("/officer/moderation/people/nobody/restore")).status_code == 404
    assert (await User.get(id=author.id)).suspended
    assert not await AuditLog.filter(action="user.unsuspended", target_id=str(author.id)).exists()
