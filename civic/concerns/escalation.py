"""Escalation: a concern nobody has opened within its expected response time goes to the duty address, once."""

from __future__ import annotations

import logging

from tortoise import timezone

from civic import audit, mail
from civic.concerns.models import Concern, ConcernEvent
from civic.concerns.notices import officer_url
from civic.concerns.vocabulary import URGENCY
from civic.councils import Council
from civic.db import in_transaction
from civic.officers import AttentionItem, Section

log = logging.getLogger("civic.concerns")


def _unopened_past_time():
    return Concern.filter(status="new", first_opened_at__isnull=True, due_at__lt=timezone.now())


async def escalate_unopened() -> int:
    """E-mail the council's duty address about each concern past its time that nobody has opened; once each."""
    now = timezone.now()
    due = await _unopened_past_time().filter(escalated_at__isnull=True).prefetch_related("council", "category", "ward").limit(200)
    queued = []
    for concern in due:
        council: Council = concern.council
        async with in_transaction():
            # Claimed by a conditional update, so two workers never both send it.
            claimed = await Concern.filter(id=concern.id, escalated_at__isnull=True, first_opened_at__isnull=True).update(escalated_at=now)
            if not claimed:
                continue
            await ConcernEvent.create(concern=concern, kind="escalated")
            await audit.record(None, "concern.escalated", concern, council=council)
            if council.duty_email:
                # Only what the duty officer needs to find it: never what was written.
                urgency = URGENCY[concern.urgency]
                queued.append(await mail.queue(
                    council.duty_email,
                    f"Concern {concern.reference} has not been opened in time",
                    f"Nobody has opened concern {concern.reference} yet. The person who raised it asked for "
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
    """For the officer home: concerns past their time that nobody has opened, and how many are new."""
    overdue = await _unopened_past_time().filter(council=council).order_by("urgency_rank", "due_at").prefetch_related("category").limit(10)
    new = await Concern.filter(council=council, status="new").count()
    items = [
        AttentionItem(
            f"{c.reference}: {c.category.name if c.category else 'no category'}, "
            f"should have been looked at {URGENCY[c.urgency].promise}, not opened yet",
            href=f"/officer/concerns/{c.reference}",
            tag="Overdue",
        )
        for c in overdue
    ]
    if new:
        items.append(AttentionItem(f"{new} new concern{'s' if new != 1 else ''} waiting to be opened", href="/officer/concerns?status=new"))
    return Section("Concerns", items, empty="No concern is waiting to be opened.", href="/officer/concerns", order=10)
