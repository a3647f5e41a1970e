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
from civic.schemes import when

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


UNTOLD = ("escalated-untold", "escalated-unanswered-untold")


def _line(concern: Concern) -> str:
    """One concern in a duty e-mail: only what the duty officer needs to find it, never what was written."""
    opened = concern.first_opened_at is not None
    return (
        f"{concern.reference}: {'opened, but not referred, signposted or closed' if opened else 'not opened yet'}. "
        f"The person who raised it asked for someone to look at it {URGENCY[concern.urgency].promise} "
        f"(by {when.moment(concern.due_at)}).\n"
        f"  Category: {concern.category.name if concern.category else 'none'}. Ward: {concern.ward.name if concern.ward else 'not given'}. "
        f"Raised {when.moment(concern.created_at)}.\n"
        f"  Open it: {officer_url(concern.council, concern.reference)}\n"
    )


def _duty_message(concerns: list[Concern]) -> tuple[str, str]:
    """The subject and body of one e-mail to a council's duty address about the concerns now past their time."""
    if len(concerns) == 1:
        [concern] = concerns
        opened = concern.first_opened_at is not None
        subject = f"Concern {concern.reference} has not been {'answered' if opened else 'opened'} in time"
    else:
        subject = f"{len(concerns)} concerns are past their time"
    return subject, "These concerns are past the time the people who raised them were told to expect:\n\n" + "\n".join(_line(c) for c in concerns)


async def escalate_overdue() -> int:
    """Tell each council's duty address about its concerns past their time that are neither referred nor closed; once each.

    One e-mail per council per run, however many concerns: after an outage, or the day this rule
    widened from unopened concerns to unanswered ones, a duty mailbox gets a list, not a flood.
    """
    now = timezone.now()
    due = await _overdue().filter(escalated_at__isnull=True).order_by("council_id", "urgency_rank", "due_at").prefetch_related("council", "category", "ward").limit(200)
    claimed_by_council: dict[int, list[Concern]] = {}
    queued = []
    for concern in due:
        council: Council = concern.council
        async with in_transaction():
            # Claimed by a conditional update, so two workers never both send it.
            if not await Concern.filter(id=concern.id, escalated_at__isnull=True, status__in=UNANSWERED).update(escalated_at=now):
                continue
            told = bool(council.duty_email)
            # The history says what really happened: e-mailed, or nobody to e-mail.
            await ConcernEvent.create(concern=concern, kind=_event_kind(concern.first_opened_at is not None, told))
            await audit.record(None, "concern.escalated", concern, council=council, reason="" if told else "no duty address")
        if told:
            claimed_by_council.setdefault(council.id, []).append(concern)
        else:
            log.warning("concern %s is overdue but %s has no duty address", concern.id, council.slug)
    for concerns in claimed_by_council.values():
        council = concerns[0].council
        subject, body = _duty_message(concerns)
        queued.append(await mail.queue(council.duty_email, subject, body, council_id=council.id))
    if queued:
        await mail.deliver(queued)
    return len(due)


async def rearm_untold(council: Council) -> int:
    """A duty address has just been set: concerns escalated when there was none are told at the next run."""
    waiting = await Concern.filter(council=council, status__in=UNANSWERED, escalated_at__isnull=False, events__kind__in=UNTOLD).values_list("id", flat=True)
    return await Concern.filter(id__in=list(set(waiting))).update(escalated_at=None) if waiting else 0


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
