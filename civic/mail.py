"""Outgoing e-mail: queued as rows in the same transaction as the change, then sent by SMTP."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from tortoise import fields, timezone
from tortoise.expressions import F
from tortoise.indexes import Index
from tortoise.models import Model

from civic import config, crypto, db
from civic.crypto import EncryptedJSONField, EncryptedTextField
from civic.db import in_transaction

log = logging.getLogger("civic.mail")

# Due messages the worker sends over one connection, and how often it records which have gone.
BATCH = 50
MARK_EVERY = 10
# Attempts spread over roughly a day; after the last one the row stays 'failed' for an officer to see.
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)]
# How long the worker waits on each step of talking to the relay. What an app process sends straight
# after a change (once the page has answered, see `after_answer`) waits CIVIC_SMTP_TIMEOUT at most: a
# hung relay must not pile up half-minute waits in the app processes, and what does not go in time
# the worker sends later.
WORKER_TIMEOUT = 30.0
# Messages hold addresses, ballot receipts (a voter's shares), links and scheme news: once sent,
# superseded or given up on, they are kept this long (to answer "did my e-mail go?"), then deleted.
KEEP = timedelta(days=30)


# What the keyed digests of addresses are for (civic.crypto.digests): a key of their own.
ADDRESS_DIGEST = "e-mail address"


def address_digests(address: str) -> list[str]:
    """The keyed digests `OutgoingEmail.to_digest` may hold for this address, however it was typed: one per key."""
    return crypto.digests(ADDRESS_DIGEST, address.strip().lower())


class OutgoingEmail(Model):
    # Encrypted: the address says who, a subject can say what about ("Your concern: an update"), and
    # bodies hold sign-in links, ballot receipts and messages to people who raised concerns, none of
    # which a copy of the database (a backup) may give away. A person's messages are found by
    # `to_digest` (`address_digests`).
    id = fields.BigIntField(primary_key=True)
    to = EncryptedTextField()
    to_digest = fields.CharField(max_length=64, description="the address's keyed digest (mail.address_digests): how a person's messages are found")
    subject = EncryptedTextField()
    body = EncryptedTextField()
    attachments: Any = EncryptedJSONField(default=list, description="[{filename, content_type, content}]")
    status = fields.CharField(max_length=10, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(auto_now_add=True)
    last_error = fields.CharField(max_length=300, default="")
    topic = fields.CharField(
        max_length=100, default="", db_default="",
        description="what the message is about, where a newer message on the topic makes an unsent one pointless",
    )
    council = fields.ForeignKeyField(
        "civic.Council", related_name="outgoing_email", null=True, on_delete=fields.SET_NULL,
        description="the council the message is sent for, whose officers see it if it cannot be sent",
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outgoing_email"
        indexes = [Index(fields=["topic", "status"]), Index(fields=["council_id", "status"]), Index(fields=["to_digest"])]

    async def save(self, *args: Any, update_fields: Any = None, **kwargs: Any) -> None:
        # The digest follows the first key, as the ciphertext does: `civic keys rotate` moves both.
        self.to_digest = address_digests(self.to)[0]
        if update_fields is not None and "to" in update_fields:
            update_fields = [*update_fields, "to_digest"]
        await super().save(*args, update_fields=update_fields, **kwargs)


async def queue(
    to: str, subject: str, body: str, attachments: list[dict[str, str]] | None = None, *, council_id: int | None, topic: str = ""
) -> OutgoingEmail:
    """Queue one message; call inside the transaction that causes it, then `deliver` after commit.

    `council_id` is the council it is sent for: its officers see it if it cannot be sent (None only
    for a message no council's officers could act on).
    """
    # Written by hand: every ballot save queues a receipt, and Tortoise's create cost 0.34 million
    # instructions of a 6.16 million save (bench_instructions).
    fields_map = OutgoingEmail._meta.fields_map
    now = fields_map["created_at"].to_db_value(timezone.now(), OutgoingEmail)
    encrypted = fields_map["attachments"].to_db_value(attachments, OutgoingEmail) if attachments else crypto.encrypt_constant("[]")
    [row] = await db.rows(
        _INSERT, crypto.encrypt(to), address_digests(to)[0], crypto.encrypt(subject), crypto.encrypt(body), encrypted, topic, council_id, now, now
    )
    # The row as written, but with what was just encrypted rather than decrypting it again.
    return db.from_row(OutgoingEmail, {**row, "to": to, "subject": subject, "body": body, "attachments": attachments or []})


_INSERT = (
    'INSERT INTO outgoing_email ("to", to_digest, subject, body, attachments, topic, council_id, next_attempt_at, created_at, status, attempts, last_error)'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, '') RETURNING *"
)


async def supersede(topic: str) -> None:
    """Stop unsent messages on this topic going: a newer one takes their place.

    They are kept, marked 'superseded' and emptied, so what happened to them can still be seen. A
    message the worker has already claimed goes anyway.
    """
    # Written by hand: every changed ballot runs it, and Tortoise took 1.3 million instructions to
    # build this update, a fifth of the whole save.
    await db.rows(_SUPERSEDE, crypto.encrypt_constant(""), crypto.encrypt_constant("[]"), topic)


_SUPERSEDE = "UPDATE outgoing_email SET status = 'superseded', body = ?, attachments = ? WHERE topic = ? AND status = 'pending'"


def _message(row: OutgoingEmail) -> EmailMessage:
    settings = config.current()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to
    message["Subject"] = row.subject
    message["Message-ID"] = f"<civic-{row.id}@{settings.base_url.split('://')[-1].split('/')[0].split(':')[0]}>"
    message.set_content(row.body)
    for attachment in row.attachments:
        maintype, subtype = attachment["content_type"].split("/", 1)
        message.add_attachment(
            attachment["content"].encode("utf-8"), maintype=maintype, subtype=subtype, filename=attachment["filename"]
        )
    return message


_hello_name: str | None = None


async def _client(timeout: float) -> aiosmtplib.SMTP:
    global _hello_name
    if _hello_name is None:
        # What aiosmtplib would look up (in a thread, with DNS) for every connection: once per process.
        _hello_name = await asyncio.to_thread(socket.getfqdn)
    settings = config.current()
    return aiosmtplib.SMTP(
        local_hostname=_hello_name,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=timeout,
    )


# While a page is being answered, what it sends waits here until the answer has gone (`after_answer`).
_after_answer: contextvars.ContextVar[list[OutgoingEmail] | None] = contextvars.ContextVar("civic_mail_after_answer", default=None)
# At most this many answered pages of one process talk to the relay at once. With the relay hung, a
# surge of sign-ins would otherwise hold a connection and a coroutine each; past this, the worker
# sends what they queued (within CIVIC_WORKER_INTERVAL, many to a connection).
AFTER_ANSWER_AT_ONCE = 16
_sending_after_answer = 0


@contextlib.asynccontextmanager
async def after_answer() -> AsyncIterator[None]:
    """Inside, `deliver` only gathers what to send; on leaving, it is sent (routes.middleware.MailAfterAnswerMiddleware).

    So a slow mail relay never holds a page: a sign-in link, a moderation notice or a volunteer's
    welcome goes once the person has their answer. The rows are already committed: if this process
    stops first, the worker sends them.
    """
    global _sending_after_answer
    gathered: list[OutgoingEmail] = []
    token = _after_answer.set(gathered)
    try:
        yield
    finally:
        _after_answer.reset(token)
        if gathered and _sending_after_answer < AFTER_ANSWER_AT_ONCE:
            _sending_after_answer += 1
            try:
                await deliver(gathered)
            finally:
                _sending_after_answer -= 1


async def deliver(rows: list[OutgoingEmail], *, timeout: float | None = None) -> int:
    """Send these queued rows; failures are retried later. Returns how many were sent (0 when put off
    until a page has answered, see `after_answer`).

    Waits at most `timeout` seconds on each step with the relay (CIVIC_SMTP_TIMEOUT unless given).

    A batch goes over one SMTP connection, and its rows are claimed and marked sent a few statements at
    a time: the worker clears a surge's receipts without a connection (and TLS handshake) and two
    updates for each message.
    """
    waiting = _after_answer.get()
    if waiting is not None:
        waiting.extend(rows)
        return 0
    now = timezone.now()
    claimed = await _claim(list(rows), now)
    if not claimed:
        return 0
    sent: list[OutgoingEmail] = []
    if not config.current().smtp_host:
        for row in claimed:
            # Development without SMTP: only who and what about; bodies may hold personal data.
            log.info("e-mail (no SMTP configured, not sent) to %s: %s", row.to, row.subject)
            sent.append(row)
        await _mark_sent(sent)
        return len(sent)
    marked = 0
    try:
        async with await _client(config.current().smtp_timeout if timeout is None else timeout) as smtp:
            for row in claimed:
                try:
                    await smtp.send_message(_message(row))
                except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as error:
                    await _retry(row, now, error)  # this message refused; the connection goes on
                    continue
                sent.append(row)
                if len(sent) - marked >= MARK_EVERY:  # a crash re-sends at most this many
                    await _mark_sent(sent[marked:])
                    marked = len(sent)
    except (aiosmtplib.SMTPException, OSError) as error:
        # The relay is down or dropped us: every claimed row not yet sent is tried again later.
        for row in claimed:
            if row.status == "sending" and row not in sent:
                await _retry(row, now, error)
    await _mark_sent(sent[marked:])
    return len(sent)


async def deliver_due(max_batches: int = 20) -> int:
    """The worker's job: every due message, a batch at a time, so a surge's receipts keep up.

    At most `max_batches` batches a pass (1,000 messages), so the worker's other jobs get their turn.
    Returns how many were sent.
    """
    sent = 0
    for _ in range(max_batches):
        rows = list(await OutgoingEmail.filter(status="pending", next_attempt_at__lte=timezone.now()).order_by("id").limit(BATCH))
        if not rows:
            break
        sent += await deliver(rows, timeout=WORKER_TIMEOUT)
        if len(rows) < BATCH:
            break
    return sent


async def _claim(rows: list[OutgoingEmail], now: datetime) -> list[OutgoingEmail]:
    """Mark rows 'sending' so two processes never send the same message twice; returns those claimed here."""
    if len(rows) == 1:  # the usual call, straight after a change: one conditional update
        claimed = rows if await OutgoingEmail.filter(id=rows[0].id, status="pending").update(status="sending", next_attempt_at=now) else []
    else:
        async with in_transaction():
            # Model rows, not values_list: Tortoise drops FOR UPDATE from a values query.
            locked = await OutgoingEmail.filter(id__in=[row.id for row in rows], status="pending").select_for_update(skip_locked=True).only("id")
            mine = {row.id for row in locked}
            if mine:
                await OutgoingEmail.filter(id__in=mine).update(status="sending", next_attempt_at=now)
        claimed = [row for row in rows if row.id in mine]
    for row in claimed:
        row.status = "sending"
    return claimed


async def _mark_sent(rows: list[OutgoingEmail]) -> None:
    if not rows:
        return
    for row in rows:
        row.status = "sent"
    await OutgoingEmail.filter(id__in=[row.id for row in rows]).update(status="sent", sent_at=timezone.now(), attempts=F("attempts") + 1)


async def _retry(row: OutgoingEmail, now: datetime, error: Exception) -> None:
    attempts = row.attempts + 1
    give_up = attempts > len(RETRY_DELAYS)
    row.status = "failed" if give_up else "pending"
    await OutgoingEmail.filter(id=row.id).update(
        status=row.status,
        attempts=attempts,
        last_error=str(error)[:300],
        next_attempt_at=now + (RETRY_DELAYS[-1] if give_up else RETRY_DELAYS[attempts - 1]),
    )
    log.warning("e-mail %s not sent (attempt %s): %s", row.id, attempts, type(error).__name__)


async def forget_old(batch: int = 1000, max_batches: int = 20) -> int:
    """The worker's job: delete messages queued more than KEEP ago that are done with; returns how many.

    A pending message or one being sent is never deleted, however old. A batch at a time, so a
    backlog (the first run after an upgrade) never holds a long lock.
    """
    cutoff = timezone.now() - KEEP
    forgotten = 0
    for _ in range(max_batches):
        ids = list(await OutgoingEmail.filter(status__in=["sent", "superseded", "failed"], created_at__lt=cutoff).limit(batch).values_list("id", flat=True))
        if not ids:
            break
        forgotten += await OutgoingEmail.filter(id__in=ids).delete()
        if len(ids) < batch:
            break
    return forgotten


async def recover_stuck(older_than: timedelta = timedelta(minutes=10)) -> int:
    """Put back rows left 'sending' by a process that died mid-send."""
    return await OutgoingEmail.filter(status="sending", next_attempt_at__lt=timezone.now() - older_than).update(
        status="pending"
    )
