"""E-mail is queued with the change that causes it and retried until the relay takes it."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import replace
from datetime import timedelta

from tortoise import timezone

from civic import accounts, config, crypto, db, mail, worker
from civic.concerns.models import ConcernEmail
from civic.mail import OutgoingEmail
from tests.factories import mail_to, stored_row, until_waiting_on_a_lock
from tests.peers import free_port, need

SHIFT_ICS = {"filename": "shift.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR\r\nSUMMARY:Lifts to the Orchard Lane surgery\r\nEND:VCALENDAR\r\n"}


async def test_a_message_survives_the_relay_being_down(settings, database, mailbox):
    address = f"retry-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Your shift tomorrow", "See you at 10.", [{"filename": "shift.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}], council_id=None)
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
    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
    [message] = await mailbox.wait_for(address)
    assert message["Subject"] == "Your shift tomorrow"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "shift.ics" and "BEGIN:VCALENDAR" in attachment.get_content()
    assert (await OutgoingEmail.get(id=row.id)).status == "sent"


async def test_a_copy_of_the_database_shows_no_address_subject_body_or_attachment_and_the_worker_still_sends_them(database, mailbox):
    address = f"zofia.nowak-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Your shift at the Orchard Lane surgery", "Meet Zofia at the library at 10.", [SHIFT_ICS], council_id=None)
    stored = await stored_row("outgoing_email", row.id)
    for column in ("to", "subject", "body", "attachments"):
        assert stored[column].startswith("gAAAAA"), column  # Fernet tokens
    everything = " ".join(stored.values())
    for secret in ("zofia.nowak", "example.test", "Your shift", "Meet Zofia", "library at 10", "VCALENDAR", "Orchard Lane", "shift.ics", "text/calendar"):
        assert secret not in everything, secret
    # Found by a keyed digest of the address: a copy of the database cannot test guessed addresses.
    assert stored["to_digest"] not in (hashlib.sha256(address.encode()).hexdigest(), hashlib.sha256(address.lower().encode()).hexdigest())
    again = await OutgoingEmail.get(id=row.id)
    assert (again.to, again.subject) == (address, "Your shift at the Orchard Lane surgery")
    assert again.body == "Meet Zofia at the library at 10." and again.attachments == [SHIFT_ICS]
    assert [found.id for found in await mail_to(f"  {address.upper()} ")] == [row.id]  # as people type it
    assert not await mail_to(f"other-{address}").exists()

    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
    [message] = await mailbox.wait_for(address)
    assert (message["To"], message["Subject"]) == (address, "Your shift at the Orchard Lane surgery")
    assert mailbox.body(message).strip() == "Meet Zofia at the library at 10."
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "shift.ics" and "SUMMARY:Lifts to the Orchard Lane surgery" in attachment.get_content()


async def test_a_copy_of_the_database_cannot_sign_anyone_in(council, mailbox):
    address = f"link-{uuid.uuid4().hex[:8]}@example.test"
    await accounts.request_signin_link(address, f"192.0.2.{uuid.uuid4().int % 250 + 1}", council=council)
    [message] = await mailbox.wait_for(address)
    token = re.search(r"/signin/link/(\S+)", mailbox.body(message)).group(1)  # type: ignore[union-attr]
    row = await mail_to(address).get()
    everything = " ".join((await stored_row("outgoing_email", row.id)).values())
    assert token not in everything and "/signin/link/" not in everything
    assert token in row.body


async def test_rotating_keys_reencrypts_outgoing_email_and_it_still_goes_without_the_old_key(settings, database, mailbox):
    address = f"rotate-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Your shift tomorrow", "Meet Zofia at the library at 10.", [SHIFT_ICS], council_id=None)
    before = await stored_row("outgoing_email", row.id)
    old_key = crypto.keys_from(settings.encryption_keys)[0]
    new_key = crypto.new_key()
    try:
        config.use(replace(settings, encryption_keys=f"{new_key},{old_key}"))
        assert (await crypto.rotate())["OutgoingEmail"] >= 1
        after = await stored_row("outgoing_email", row.id)
        for column in ("to", "subject", "body", "attachments", "to_digest"):
            assert after[column] != before[column], column
        config.use(replace(settings, encryption_keys=new_key))
        assert [found.id for found in await mail_to(address)] == [row.id]  # the digest moved to the new key too
        await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
        [message] = await mailbox.wait_for(address)
        assert message["Subject"] == "Your shift tomorrow"
        assert mailbox.body(message).strip() == "Meet Zofia at the library at 10."
        assert next(message.iter_attachments()).get_filename() == "shift.ics"
    finally:
        # Every row back under the test run's key, so other tests read them.
        config.use(replace(settings, encryption_keys=f"{old_key},{new_key}"))
        await crypto.rotate()
        config.use(settings)


async def test_rotating_keys_never_writes_back_a_message_scrubbed_while_it_ran(settings, database):
    # A scrub (or the purge) that blanks a message while the rotation is under way must stay done:
    # a rotation that wrote back what it had read before would bring the reporter's words back.
    need(db.is_postgres(), "PostgreSQL")
    address = f"scrubbed-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "About your concern", "Thank you for telling us about Mr Patel at no. 4.", council_id=None)
    gone = await mail.queue(address, "About your concern", "A second message, deleted as its concern is purged.", council_id=None)
    scrubbing, release = asyncio.Event(), asyncio.Event()

    async def scrub_slowly() -> None:  # as the worker's scrub does, holding its row while the rotation reaches it
        async with db.in_transaction():
            await OutgoingEmail.filter(id=row.id).update(to="scrubbed", body="(scrubbed)")
            await OutgoingEmail.filter(id=gone.id).delete()
            scrubbing.set()
            await release.wait()

    old_key = crypto.keys_from(settings.encryption_keys)[0]
    new_key = crypto.new_key()
    try:
        config.use(replace(settings, encryption_keys=f"{new_key},{old_key}"))
        scrub = asyncio.create_task(scrub_slowly())
        await scrubbing.wait()
        rotation = asyncio.create_task(crypto.rotate())
        await until_waiting_on_a_lock(rotation)
        release.set()
        await scrub
        await rotation  # a message deleted meanwhile is passed over, not an error
        assert (await OutgoingEmail.get(id=row.id)).body == "(scrubbed)"
        assert not await OutgoingEmail.exists(id=gone.id)
    finally:
        config.use(replace(settings, encryption_keys=f"{old_key},{new_key}"))
        await crypto.rotate()
        config.use(settings)


async def test_a_message_is_sent_once_even_if_delivered_twice(database, mailbox):
    address = f"once-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Once", "Only once.", council_id=None)
    assert await mail.deliver([row]) == 1
    assert await mail.deliver([row]) == 0
    await mailbox.wait_for(address)
    assert len(mailbox.to(address)) == 1


async def test_a_batch_goes_over_one_connection_and_a_refused_message_waits_alone(database, mailbox):
    tag = uuid.uuid4().hex[:8]
    addresses = [f"batch-{n}-{tag}@example.test" for n in range(3)]
    rows = [await mail.queue(a, f"Receipt {n}", "Thank you for voting.", council_id=None) for n, a in enumerate(addresses)]
    refused = await mail.queue(f"refused-{tag}@example.test", "Receipt", "Thank you for voting.", council_id=None)
    assert await mail.deliver([rows[0], refused, *rows[1:]]) == 3
    messages = [(await mailbox.wait_for(a))[0] for a in addresses]
    assert len({m["X-Test-Connection"] for m in messages}) == 1
    assert [(await OutgoingEmail.get(id=r.id)).status for r in rows] == ["sent"] * 3
    waiting = await OutgoingEmail.get(id=refused.id)
    assert waiting.status == "pending" and waiting.attempts == 1 and "No such mailbox" in waiting.last_error


async def test_the_worker_sends_a_backlog_in_batches_each_message_once(database, mailbox):
    tag = uuid.uuid4().hex[:8]
    rows = [await mail.queue(f"backlog-{n}-{tag}@example.test", f"Receipt {n}", "Thank you for voting.", council_id=None) for n in range(mail.BATCH + 7)]
    await OutgoingEmail.filter(id__in=[r.id for r in rows]).update(next_attempt_at=timezone.now())
    # Three workers at once over overlapping rows: each row is claimed by one of them.
    counts = await asyncio.gather(mail.deliver(rows[: mail.BATCH]), mail.deliver(rows[5 : mail.BATCH + 7]), mail.deliver(rows[::-1]))
    assert sum(counts) == len(rows)
    for n in range(len(rows)):
        await mailbox.wait_for(f"backlog-{n}-{tag}@example.test")
    assert all(len(mailbox.to(f"backlog-{n}-{tag}@example.test")) == 1 for n in range(len(rows)))
    assert {(r.status, r.attempts) for r in await OutgoingEmail.filter(id__in=[r.id for r in rows])} == {("sent", 1)}


async def test_one_worker_pass_sends_a_surge_of_receipts_not_just_one_batch(database, mailbox):
    tag = uuid.uuid4().hex[:8]
    rows = [await mail.queue(f"surge-{n}-{tag}@example.test", "Your ballot", "Thank you for voting.", council_id=None) for n in range(2 * mail.BATCH + 3)]
    await OutgoingEmail.filter(id__in=[r.id for r in rows]).update(next_attempt_at=timezone.now())
    [job] = [job for job in worker.JOBS if job.name == "send e-mail"]
    await worker.run_once([job])
    assert {r.status for r in await OutgoingEmail.filter(id__in=[r.id for r in rows])} == {"sent"}
    await mailbox.wait_for(f"surge-{2 * mail.BATCH + 2}-{tag}@example.test")


async def test_e_mail_done_with_is_deleted_after_thirty_days_and_unsent_e_mail_never(database):
    # Receipts hold a voter's shares and other messages addresses and links: once sent, superseded by
    # a newer receipt or given up on, they are kept long enough to answer "did it go?", then deleted.
    tag = uuid.uuid4().hex[:8]
    old = timezone.now() - mail.KEEP - timedelta(hours=1)
    recent = timezone.now() - mail.KEEP + timedelta(hours=1)
    rows = {}
    for status, created in [("sent", old), ("superseded", old), ("failed", old), ("pending", old), ("sending", old), ("sent", recent), ("failed", recent)]:
        row = await mail.queue(f"{status}-{tag}@example.test", "Your ballot", "You gave 60 shares to parks.", council_id=None)
        await OutgoingEmail.filter(id=row.id).update(status=status, created_at=created)
        rows[(status, created is old)] = row.id
    # An e-mail to someone who raised a concern is linked to it; the link goes with the message.
    link = await ConcernEmail.create(concern=None, email_id=rows[("sent", True)])

    forgotten = await mail.forget_old(batch=2)  # two to a batch: the three old ones take two batches

    left = {(r.status, r.created_at < recent) for r in await OutgoingEmail.filter(id__in=list(rows.values()))}
    assert left == {("pending", True), ("sending", True), ("sent", False), ("failed", False)}
    assert forgotten >= 3
    assert not await ConcernEmail.exists(id=link.id)
    [job] = [job for job in worker.JOBS if job.target == "civic.mail:forget_old"]
    assert job.every <= 24 * 3600


async def test_a_hung_relay_holds_a_page_for_at_most_the_smtp_timeout_and_the_worker_sends_later(settings, database, mailbox):
    # A relay that takes the connection and then says nothing: without a bound, someone asking for a
    # sign-in link would stare at a blank page for the worker's 30 seconds.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets; waits for the client to give up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    address = f"hung-{uuid.uuid4().hex[:8]}@example.test"
    row = await mail.queue(address, "Your link to sign in", "Use this link.", council_id=None)
    config.use(replace(settings, smtp_port=port, smtp_timeout=0.5))
    try:
        started = asyncio.get_running_loop().time()
        assert await mail.deliver([row]) == 0
        waited = asyncio.get_running_loop().time() - started
    finally:
        config.use(settings)
        server.close()
    assert 0.4 < waited < 3
    row = await OutgoingEmail.get(id=row.id)
    assert row.status == "pending" and row.attempts == 1 and "time" in row.last_error.lower()

    await OutgoingEmail.filter(id=row.id).update(next_attempt_at=timezone.now())
    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
    assert (await mailbox.wait_for(address))[-1]["Subject"] == "Your link to sign in"


async def test_with_the_relay_hung_only_a_few_answered_pages_wait_on_it_and_the_worker_sends_the_rest(settings, database, mailbox):
    # A surge of sign-ins while the relay hangs: each answered page would hold a relay connection for
    # the timeout. Past mail.AFTER_ANSWER_AT_ONCE, a page leaves its e-mail to the worker instead.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    relay = await asyncio.start_server(silent, "127.0.0.1", 0)
    tag = uuid.uuid4().hex[:8]
    pages = mail.AFTER_ANSWER_AT_ONCE + 3
    rows = [await mail.queue(f"surge-{n}-{tag}@example.test", "Your link to sign in", "Use this link.", council_id=None) for n in range(pages)]

    async def page(row: OutgoingEmail) -> None:
        async with mail.after_answer():
            assert await mail.deliver([row]) == 0  # put off until the page has answered

    config.use(replace(settings, smtp_port=relay.sockets[0].getsockname()[1], smtp_timeout=1.0))
    try:
        await asyncio.gather(*(page(row) for row in rows))
    finally:
        config.use(settings)
        relay.close()
    attempts = sorted([r.attempts for r in await OutgoingEmail.filter(id__in=[r.id for r in rows])])
    assert attempts == [0] * 3 + [1] * mail.AFTER_ANSWER_AT_ONCE  # three never tried the hung relay
    await OutgoingEmail.filter(id__in=[r.id for r in rows]).update(next_attempt_at=timezone.now())
    await worker.run_once([worker.Job("send e-mail", "civic.mail:deliver_due", 0)])
    for n in range(pages):
        await mailbox.wait_for(f"surge-{n}-{tag}@example.test")
