"""Reporting schemes and news, and officers moderating them: hide, restore, dismiss, stop posting."""

from __future__ import annotations

from civic.accounts import Session, User
from civic.audit import AuditLog
from civic.schemes.models import NewsPost, Report, Scheme
from tests.factories import (
    Browser,
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
    async with await _officer(app, council) as office:
        assert (await office.post(f"/officer/moderation/posts/{post.id}/restore", {"reason": "Puppies found homes"})).status_code == 303
    assert text_of(await client.get(f"/schemes/{scheme.slug}"), "article h3") == ["Free puppies"]
    assert [e.action for e in await AuditLog.filter(target_type="NewsPost", target_id=str(post.id)).order_by("id")] == ["news.hidden", "news.restored"]


async def test_an_officer_stops_the_author_of_reported_content_from_posting(app, council):
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
