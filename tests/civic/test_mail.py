"""E-mail is queued with the change that causes it and retried until the relay takes it."""

from __future__ import annotations

import uuid
from dataclasses import replace

from tortoise import timezone

from civic import config, mail, worker
from civic.mail import OutgoingEmail
from tests.peers import free_port


async def test_a_message_survives_the_relay_being_down(settings, database, mailbox):
    address = f"retry-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Your shift tomorrow", "See you at 10.", [{"filename": "shift.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}])
    config.use(replace(settings, smtp_port=free_port()))  # nothing listens there
    try:
        assert await mail.deliver([row]) == 0
    finally:
        config.use(settings)
    row = await OutgoingEmail.get(id=row.id)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > timezone.now()
    assert not mailbox.to(address)

    await OutgoingEmail.filter(id=row.id).update(next_attempt_at=timezone.now())
    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver", 0)])
    [message] = await mailbox.wait_for(address)
    assert message["Subject"] == "Your shift tomorrow"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "shift.ics" and "BEGIN:VCALENDAR" in attachment.get_content()
    assert (await OutgoingEmail.get(id=row.id)).status == "sent"


async def test_a_message_is_sent_once_even_if_delivered_twice(database, mailbox):
    address = f"once-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Once", "Only once.")
    assert await mail.deliver([row]) == 1
    assert await mail.deliver([row]) == 0
    await mailbox.wait_for(address)
    assert len(mailbox.to(address)) == 1
