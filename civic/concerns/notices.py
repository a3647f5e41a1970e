"""E-mail about concerns: to the person who raised one (their address never shown to staff) and to the duty address.

E-mails leave civic for mail relays and inboxes it does not control, so what goes into them is kept
to a minimum: never the concern's text, never an officer's question (the status page shows that).
In the outgoing queue addresses, subjects and bodies are encrypted, but the queue is kept a month
(mail.KEEP) and officers see what could not be sent: so once a message to the person who raised a
concern is sent its address and body are scrubbed.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from civic import mail
from civic.concerns.models import Concern, ConcernEmail
from civic.councils import Council, site_url
from civic.mail import OutgoingEmail

SCRUBBED_ADDRESS = "removed@invalid"
SCRUBBED_BODY = "(Removed after sending: it was to the person who raised a concern.)"
# A message that could not be sent after every retry is scrubbed too, after this long.
KEEP_FAILED = timedelta(days=7)


def status_url(reference: str, key: str, council: Council | None = None) -> str:
    return f"{site_url(council)}/concerns/status/{reference}/{key}"


def officer_url(council: Council, reference: str) -> str:
    return f"{site_url(council)}/officer/concerns/{reference}"


async def email_reporter(concern: Concern, council: Council, key: str, subject: str, body: str) -> list[OutgoingEmail]:
    """Queue a message to the person who raised it, if they gave an e-mail address; call inside the transaction.

    `{status_url}` in the body becomes their status link.
    """
    if concern.contact_by != "email" or not concern.reporter_email:
        return []
    row = await mail.queue(concern.reporter_email, subject, body.replace("{status_url}", status_url(concern.reference, key, council)), council_id=council.id)
    await ConcernEmail.create(concern=concern, email=row)
    return [row]


async def scrub_sent_reporter_email() -> int:
    """Blank the address and body of messages to people who raised concerns once sent (or long failed)."""
    now = timezone.now()
    links = await ConcernEmail.filter(email__status__in=["sent", "failed"]).prefetch_related("email").limit(500)
    scrubbed = 0
    for link in links:
        row = link.email
        if row.status == "failed" and row.created_at > now - KEEP_FAILED:
            continue
        await OutgoingEmail.filter(id=row.id, status=row.status).update(to=SCRUBBED_ADDRESS, to_digest=mail.address_digests(SCRUBBED_ADDRESS)[0], body=SCRUBBED_BODY)
        await link.delete()
        scrubbed += 1
    return scrubbed


async def scrub_for(concern: Concern) -> None:
    """Delete every message about this concern, sent or not (the purge calls this)."""
    ids = await ConcernEmail.filter(concern=concern).values_list("email_id", flat=True)
    if ids:
        await OutgoingEmail.filter(id__in=list(ids)).delete()
