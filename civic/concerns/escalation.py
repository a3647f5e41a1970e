"""Escalation: a concern still unanswered past its expected response time goes to the duty address, once."""

from __future__ import annotations

import logging
from datetime import datetime

from tortoise import timezone

from civic import audit, mail
from civic.concerns.models import Concern, ConcernEvent
from civic.concerns.notices import officer_url
from civic.concerns.vocabulary import UNANSWERED, URGENCY
from civic.councils import Council
from civic.db import in_transaction
from civic.officers import AttentionItem, Section

log = logging.getLogger("civic.concerns")


def is_overdue(concern: Concern, now: datetime | None = None) -> bool:
    """Past its respond-by time and still unanswered: neither referred nor closed, opened or not.

    Opening a concern is not answering it: the person who raised it is still waiting.
    """
    return concern.status in UNANSWERED and concern.due_at < (now or timezone.now())


def _overdue():
    return Concern.filter(status__in=UNANSWERED, due_at__lt=timezone.now())


def _event_kind(opened: bool, told: bool) -> str:
    return ("escalated" if not opened else "escalated-unanswered") + ("" if told else "-untold")


async def escalate_overdue() -> int:
    """E-mail the council's duty address about each concern past its time that is neither referred nor closed; once each."""
    now = timezone.now()
    due = await _overdue().filter(escalated_at__isnull=True).prefetch_related("council", "category", "ward").limit(200)
    queued = []
    for concern in due:
        council: Council = concern.council
        opened = concern.first_opened_at is not None
        async with in_transaction():
            # Claimed by a conditional update, so two workers never both send it.
            claimed = await Concern.filter(id=concern.id, escalated_at__isnull=True, status__in=UNANSWERED).update(escalated_at=now)
            if not claimed:
                continue
            told = bool(council.duty_email)
            # The history says what really happened: e-mailed, or nobody to e-mail.
            await ConcernEvent.create(concern=concern, kind=_event_kind(opened, told))
            await audit.record(None, "concern.escalated", concern, council=council, reason="" if told else "no duty address")
            if told:
                # Only what the duty officer needs to find it: never what was written.
                urgency = URGENCY[concern.urgency]
                subject = (f"Concern {concern.reference} has not been opened in time" if not opened
                           else f"Concern {concern.reference} has not been answered in time")
                first = (f"Nobody has opened concern {concern.reference} yet." if not opened
                         else f"Concern {concern.reference} was opened, but nobody has referred it, signposted it or closed it.")
                queued.append(await mail.queue(
                    council.duty_email,
                    subject,
                    f"{first} The person who raised it asked for "
                    f"someone to look at it {urgency.promise} (by {concern.due_at:%d %B %Y %H:%M} UTC).\n\n"
                    f"Category: {concern.category.name if concern.category else 'none'}\n"
                    f"Ward: {concern.ward.name if concern.ward else 'not given'}\n"
                    f"Raised: {concern.created_at:%d %B %Y %H:%M} UTC\n\n"
                    f"Open it: {officer_url(council, concern.reference)}\n",
                    council_id=council.id,
                ))
            else:
                log.warning("concern %s is overdue but %s has no duty address", concern.id, council.slug)
    if queued:
        await mail.deliver(queued)
    return len(due)


async def officer_section(council: Council) -> Section:
    """For the officer home: concerns past their time that are neither referred nor closed, and how many are new."""
    overdue = await _overdue().filter(council=council).order_by("urgency_rank", "due_at").prefetch_related("category").limit(10)
    new = await Concern.filter(council=council, status="new").count()
    items = [
        AttentionItem(
            f"{c.reference}: {c.category.name if c.category else 'no category'}, "
            f"should have been looked at {URGENCY[c.urgency].promise}, "
            + ("not opened yet" if c.first_opened_at is None else "opened but not referred or closed"),
            href=f"/officer/concerns/{c.reference}",
            tag="Overdue",
        )
        for c in overdue
    ]
    if new:
        items.append(AttentionItem(f"{new} new concern{'s' if new != 1 else ''} waiting to be opened", href="/officer/concerns?status=new"))
    return Section("Concerns", items, empty="No concern is waiting to be opened or is past its time.", href="/officer/concerns", order=10)
