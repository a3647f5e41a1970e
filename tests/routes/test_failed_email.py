"""E-mails the relay refused after every retry: each council's officers see their own, and send them again."""

from __future__ import annotations

import uuid

from civic import mail, worker
from civic.audit import AuditLog
from civic.concerns import triage
from civic.concerns.notices import SCRUBBED_ADDRESS
from civic.mail import OutgoingEmail
from tests.factories import Browser, create_concern_ok, create_council_ok, create_user_ok, html, mail_to, text_of


async def _failed(council, subject: str, to: str | None = None, error: str = "(550, 'mailbox unavailable')") -> OutgoingEmail:
    row = await mail.queue(to or f"{uuid.uuid4().hex[:8]}@example.test", subject, "See you at 10.", council_id=council.id if council else None)
    await OutgoingEmail.filter(id=row.id).update(status="failed", attempts=len(mail.RETRY_DELAYS) + 1, last_error=error)
    return await OutgoingEmail.get(id=row.id)


async def test_an_officer_sees_only_their_own_councils_failed_e_mail_and_sends_it_again(app, council, mailbox):
    other = await create_council_ok()
    ours = await _failed(council, f"Your shift tomorrow {uuid.uuid4().hex[:6]}")
    theirs = await _failed(other, f"Another council's news {uuid.uuid4().hex[:6]}")
    officer = await create_user_ok(council, role="officer")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        home = html(await browser.get("/officer"))
        delivery = [s for s in home.css("section.app-attention") if "Email delivery" in s.text()][0]
        assert delivery.css_first("a[href='/officer/email']") is not None
        assert await OutgoingEmail.filter(council=council, status="failed").count() == 1
        assert "1 email could not be sent after every retry" in delivery.text()  # not "1 emails"

        page = await browser.get("/officer/email")
        assert page.status_code == 200
        titles = text_of(page, ".app-queue__title")
        assert ours.subject in titles and theirs.subject not in titles
        item = html(page).css_first(f"#email-{ours.id}")
        assert ours.to in item.text() and "mailbox unavailable" in item.text()

        # Sending another council's message again, by its id, is refused as if it did not exist.
        refused = await browser.post("/officer/email/send-again", {"email": str(theirs.id)})
        assert refused.status_code == 404
        assert (await OutgoingEmail.get(id=theirs.id)).status == "failed"

        sent = await browser.post("/officer/email/send-again", {"email": str(ours.id)})
        assert sent.status_code == 303 and sent.headers["location"] == "/officer/email"
        after = await browser.follow(sent)
        assert "1 email will be sent again" in after.text
        assert ours.subject not in text_of(after, ".app-queue__title")

    row = await OutgoingEmail.get(id=ours.id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 0, "")  # every retry to come, again
    entry = await AuditLog.filter(council=council, action="email.sent_again").order_by("-id").first()
    assert entry is not None and entry.actor_id == officer.id and entry.reason == "1 email"  # type: ignore[attr-defined]
    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
    await mailbox.wait_for(ours.to)
    assert (await OutgoingEmail.get(id=ours.id)).status == "sent"
    assert (await OutgoingEmail.get(id=theirs.id)).status == "failed"


async def test_send_them_all_again_puts_back_every_failed_e_mail_of_the_council_but_not_a_removed_address(app, council):
    first, second = await _failed(council, "Reminder: lunch club"), await _failed(council, "Your request for help")
    removed = await _failed(council, "Your concern: an update", to=SCRUBBED_ADDRESS)
    other = await _failed(await create_council_ok(), "Elsewhere")
    async with Browser(app, council) as browser:
        await browser.signin_as(await create_user_ok(council, role="officer"))
        page = html(await browser.get("/officer/email"))
        # No button for the message whose address is gone: it could only fail again.
        assert page.css_first(f"#email-{removed.id} button") is None
        assert "the person who raised a concern" in page.css_first(f"#email-{removed.id}").text()
        assert SCRUBBED_ADDRESS not in page.css_first(f"#email-{removed.id}").text()
        assert page.css_first(f"#email-{first.id} button") is not None

        response = await browser.post("/officer/email/send-again", {})
        assert response.status_code == 303
        again = await browser.post("/officer/email/send-again", {})  # a second press finds nothing left
        assert "There is nothing to send again" in (await browser.follow(again)).text
        twice = await browser.post("/officer/email/send-again", {"email": str(first.id)})
        assert "That email is already on its way" in (await browser.follow(twice)).text
        # A garbled or enormous id is one message that does not exist, never "all of them".
        for garbled in ("abc", "9" * 30):
            assert (await browser.post("/officer/email/send-again", {"email": garbled})).status_code == 404
    statuses = {row.id: row.status for row in await OutgoingEmail.filter(id__in=[first.id, second.id, removed.id, other.id])}
    assert statuses == {first.id: "pending", second.id: "pending", removed.id: "failed", other.id: "failed"}


async def test_an_administrator_sees_no_failed_e_mail_some_are_to_people_who_raised_concerns(app, council):
    await _failed(council, "Your concern: an update")
    async with Browser(app, council) as browser:
        await browser.signin_as(await create_user_ok(council, role="admin"))
        home = await browser.get("/officer")
        assert home.status_code == 200 and "Email delivery" not in home.text
        assert (await browser.get("/officer/email")).status_code == 403
        assert (await browser.post("/officer/email/send-again", {})).status_code == 403


async def test_a_concern_reporters_address_is_never_shown_though_their_e_mail_can_be_sent_again(app, council, mailbox):
    officer = await create_user_ok(council, role="officer")
    concern, _ = await create_concern_ok(council)
    await triage.ask_for_information(officer, council, concern.reference, "Which flat is it?")
    row = await mail_to(concern.reporter_email).get()
    await OutgoingEmail.filter(id=row.id).update(status="failed", attempts=len(mail.RETRY_DELAYS) + 1, last_error="(451, 'try later')")
    async with Browser(app, council) as browser:
        await browser.signin_as(officer)
        page = await browser.get("/officer/email")
        item = html(page).css_first(f"#email-{row.id}")
        assert concern.reporter_email not in page.text
        assert "the person who raised a concern" in item.text()
        assert item.css_first("button") is not None  # the address is still there to send to
        assert (await browser.post("/officer/email/send-again", {"email": str(row.id)})).status_code == 303
    await worker.run_once()
    assert concern.reporter_email in [message["To"] for message in mailbox.messages]
