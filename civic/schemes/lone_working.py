"""Lone working: on a visit, volunteers say when they arrive and leave; silence after the end alerts the organisers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from civic import audit, config, mail
from civic.accounts import User
from civic.councils import Council
from civic.db import in_transaction
from civic.errors import Conflict
from civic.schemes import rota
from civic.schemes.proposals import organiser_emails, scheme_url
from civic.schemes.running import SignUp
from civic.schemes.when import clock, utc

# Volunteers may say they have arrived from a little before the start (people are early).
EARLIEST_ARRIVAL = timedelta(hours=1)
# Alerts are for visits that ended recently; older silences are history, not an emergency.
ALERT_WINDOW = timedelta(days=2)


def grace() -> timedelta:
    return timedelta(minutes=config.current().lone_working_grace_minutes)


async def _my_visit(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, now: datetime) -> tuple[rota.Slot, SignUp]:
    scheme, _ = await rota.require_helper(actor, council, slug)
    slot = await rota.find_slot(scheme, shift_id, on)
    signup = slot.signup_of(actor)
    if signup is None:
        raise Conflict("You are not on this shift.")
    if not slot.shift.home_visit:
        raise Conflict("This shift is not a visit, so there is nothing to tap.")
    if slot.cancelled:
        raise Conflict("This shift is cancelled.")
    if now < slot.starts_at - EARLIEST_ARRIVAL:
        raise Conflict(f"This visit starts at {clock(slot.starts_at)}. Tap “I’ve arrived” when you get there.")
    return slot, signup


async def arrived(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, now: datetime | None = None) -> SignUp:
    """A volunteer on a visit says they have arrived (saying it twice keeps the first time)."""
    now = utc(now)
    slot, signup = await _my_visit(actor, council, slug, shift_id, on, now)
    if signup.arrived_at is None:
        async with in_transaction():
            await SignUp.filter(id=signup.id, arrived_at__isnull=True).update(arrived_at=now)
            await audit.record(actor, "visit.arrived", slot.occurrence, council=council)
    return await SignUp.get(id=signup.id)


async def left(actor: User | None, council: Council, slug: str, shift_id: int, on: date | None, now: datetime | None = None) -> SignUp:
    """A volunteer on a visit says they have left safely."""
    now = utc(now)
    slot, signup = await _my_visit(actor, council, slug, shift_id, on, now)
    if signup.left_at is None:
        async with in_transaction():
            await SignUp.filter(id=signup.id, left_at__isnull=True).update(left_at=now)
            await audit.record(actor, "visit.left", slot.occurrence, council=council)
    return await SignUp.get(id=signup.id)


async def alert_missed_departures(now: datetime | None = None) -> int:
    """Alert the organisers and the safeguarding lead, once, about each volunteer who has not said they left a visit."""
    now = utc(now)
    ended_before = now - grace()
    due = await SignUp.filter(
        left_at__isnull=True,
        alerted_at__isnull=True,
        occurrence__cancelled=False,
        occurrence__shift__home_visit=True,
        occurrence__ends_at__lte=ended_before,
        occurrence__ends_at__gt=ended_before - ALERT_WINDOW,
    ).prefetch_related("occurrence__shift__scheme__council", "occurrence__signups", "volunteer").limit(200)
    queued = []
    for signup in due:
        row = signup.occurrence
        scheme = row.shift.scheme
        slot = rota.slot_from(row.shift, row.on, row)
        async with in_transaction():
            # Claimed by a conditional update, so two workers never both alert.
            if not await SignUp.filter(id=signup.id, alerted_at__isnull=True, left_at__isnull=True).update(alerted_at=now):
                continue
            await audit.record(None, "visit.not_left_alert", row, council=scheme.council)
            arrival = f"They said they arrived at {clock(signup.arrived_at)}." if signup.arrived_at else "They did not say they had arrived either."
            to = set(await organiser_emails(scheme))
            if scheme.safeguarding_lead_email:
                to.add(scheme.safeguarding_lead_email)
            for address in sorted(to):
                queued.append(await mail.queue(
                    address,
                    f"Check on {signup.volunteer}: no “I’ve left” from a {scheme.name} visit",
                    f"{signup.volunteer} has not said they left their visit.\n\n"
                    f"Visit: {slot.shift.title}\nWhen: {slot.when}\nWhere: {slot.place}\n{arrival}\n\n"
                    f"It ended more than {config.current().lone_working_grace_minutes} minutes ago. Please try to contact them "
                    f"now, and follow the scheme's lone-working procedure. If you think they are in danger, call 999.\n\n"
                    f"Their details are on the scheme's people page:\n\n{scheme_url(scheme.council, scheme)}/people\n",
                    council_id=scheme.council_id,
                ))
    if queued:
        await mail.deliver(queued)
    return len(queued)
