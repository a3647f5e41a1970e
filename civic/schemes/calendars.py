"""Calendar feeds: a scheme's public shifts and events, and each volunteer's own shifts at a private, revocable address."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from tortoise import timezone

from civic import audit
from civic.accounts import User
from civic.councils import Council, site_url
from civic.db import in_transaction
from civic.errors import Forbidden, NotFound
from civic.schemes import access, events, ics, rota
from civic.schemes.running import CalendarFeed, Event, Shift
from civic.schemes.when import utc

# Feeds reach back a little (so a calendar keeps last week) and forward far enough to plan.
PAST = timedelta(days=30)
AHEAD = timedelta(days=180)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def scheme_feed(council: Council, slug: str, now: datetime | None = None) -> str:
    """The iCalendar feed of a public scheme: its public shifts and its events."""
    scheme, _ = await access.find(None, council, slug)
    now = utc(now)
    shifts = list(await Shift.filter(scheme=scheme, public=True, home_visit=False))
    for shift in shifts:
        shift.scheme = scheme
    entries = [slot.entry(council) for slot in await rota.expand(shifts, now - PAST, now + AHEAD)]
    entries += [events.entry(council, e, scheme) for e in await Event.filter(scheme=scheme, ends_at__gt=now - PAST, starts_at__lt=now + AHEAD)]
    return ics.calendar(scheme.name, sorted(entries, key=lambda e: e.starts_at))


async def personal_feed(council: Council, token: str, now: datetime | None = None) -> str:
    """A volunteer's own shifts, for the secret address only they were given."""
    feed = await CalendarFeed.get_or_none(token_hash=_hash(token or ""), council=council, revoked_at__isnull=True).prefetch_related("user")
    if feed is None or feed.user.suspended:
        raise NotFound()
    now = utc(now)
    slots = await rota.my_slots(feed.user, council, now, start=now - PAST, end=now + AHEAD)
    return ics.calendar(f"My shifts – {council.name}", [slot.entry(council) for slot in slots])


def feed_url(council: Council, token: str) -> str:
    return f"{site_url(council)}/calendars/{token}.ics"


async def current_feed(actor: User | None, council: Council) -> str:
    """The address of someone's own calendar feed, or '' if they have none."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    feed = await CalendarFeed.get_or_none(user=actor, council=council, revoked_at__isnull=True)
    return feed_url(council, feed.token) if feed else ""


async def new_feed(actor: User | None, council: Council) -> str:
    """Give someone a new private calendar address; any old one stops working."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    token = secrets.token_urlsafe(24)
    async with in_transaction():
        await CalendarFeed.filter(user=actor, council=council, revoked_at__isnull=True).update(revoked_at=timezone.now())
        await CalendarFeed.create(council=council, user=actor, token_hash=_hash(token), token=token)
        await audit.record(actor, "calendar.created", actor, council=council)
    return feed_url(council, token)


async def revoke_feed(actor: User | None, council: Council) -> int:
    """Stop someone's private calendar address working."""
    if actor is None:
        raise Forbidden("Sign in to continue.")
    async with in_transaction():
        count = await CalendarFeed.filter(user=actor, council=council, revoked_at__isnull=True).update(revoked_at=timezone.now())
        await audit.record(actor, "calendar.revoked", actor, council=council)
    return count
