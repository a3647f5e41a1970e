"""Outgoing e-mail: queued as rows in the same transaction as the change, then sent by SMTP."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from tortoise import fields, timezone
from tortoise.models import Model

from civic import config

log = logging.getLogger("civic.mail")

# Attempts spread over roughly a day; after the last one the row stays 'failed' for an officer to see.
RETRY_DELAYS = [timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)]


class OutgoingEmail(Model):
    id = fields.BigIntField(primary_key=True)
    to = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=250)
    body = fields.TextField()
    attachments: Any = fields.JSONField(default=list, description="[{filename, content_type, content}]")
    status = fields.CharField(max_length=10, default="pending", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(auto_now_add=True)
    last_error = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outgoing_email"


async def queue(to: str, subject: str, body: str, attachments: list[dict[str, str]] | None = None) -> OutgoingEmail:
    """Queue one message; call inside the transaction that causes it, then `deliver` after commit."""
    return await OutgoingEmail.create(to=to, subject=subject, body=body, attachments=attachments or [])


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


async def _send(row: OutgoingEmail) -> None:
    settings = config.current()
    if not settings.smtp_host:
        # Development without SMTP: only who and what about; bodies may hold personal data.
        log.info("e-mail (no SMTP configured, not sent) to %s: %s", row.to, row.subject)
        return
    await aiosmtplib.send(
        _message(row),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )


async def deliver(rows: list[OutgoingEmail] | None = None) -> int:
    """Send the given queued rows, or every due one; failures are retried later. Returns how many were sent."""
    now = timezone.now()
    if rows is None:
        rows = await OutgoingEmail.filter(status="pending", next_attempt_at__lte=now).order_by("id").limit(50)
    sent = 0
    for row in rows:
        # Claim the row so two processes never send the same message twice.
        claimed = await OutgoingEmail.filter(id=row.id, status="pending").update(status="sending", next_attempt_at=now)
        if not claimed:
            continue
        try:
            await _send(row)
        except (aiosmtplib.SMTPException, OSError) as error:
            attempts = row.attempts + 1
            give_up = attempts > len(RETRY_DELAYS)
            await OutgoingEmail.filter(id=row.id).update(
                status="failed" if give_up else "pending",
                attempts=attempts,
                last_error=str(error)[:300],
                next_attempt_at=now + (RETRY_DELAYS[-1] if give_up else RETRY_DELAYS[attempts - 1]),
            )
            log.warning("e-mail %s not sent (attempt %s): %s", row.id, attempts, type(error).__name__)
            continue
        await OutgoingEmail.filter(id=row.id).update(status="sent", sent_at=timezone.now(), attempts=row.attempts + 1)
        sent += 1
    return sent


async def recover_stuck(older_than: timedelta = timedelta(minutes=10)) -> int:
    """Put back rows left 'sending' by a process that died mid-send."""
    return await OutgoingEmail.filter(status="sending", next_attempt_at__lt=timezone.now() - older_than).update(
        status="pending"
    )
